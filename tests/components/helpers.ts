/** Small readers over a mock deployment, shared by the infrastructure tests. */
import { expect } from "chai";
import type { MockDeployment, MockedResource } from "../../local/offline/mock-deployment";
import type { PolicyDocument, PolicyStatement } from "../../components/shared/iam-documents";

/** Every resource of a type. */
export function all(deployment: MockDeployment, type: string): MockedResource[] {
    return deployment.resources.filter((r) => r.type === type);
}

/** The one resource of a type (optionally with that logical name); fails otherwise. */
export function one(deployment: MockDeployment, type: string, name?: string): MockedResource {
    const found = all(deployment, type).filter((r) => name === undefined || r.name === name);
    expect(
        found,
        `exactly one ${type}${name ? ` named ${name}` : ""}; found ${found.map((r) => r.name).join(", ") || "none"}`,
    ).to.have.length(1);
    return found[0];
}

/** A policy input (JSON string or object) as a document. */
export function policyOf(value: unknown): PolicyDocument {
    expect(value, "policy document").to.not.equal(undefined);
    return (typeof value === "string" ? JSON.parse(value) : value) as PolicyDocument;
}

/** The statement with a Sid; fails when absent. */
export function statement(policy: PolicyDocument, sid: string): PolicyStatement {
    const found = policy.Statement.find((s) => s.Sid === sid);
    expect(found, `statement ${sid} in ${JSON.stringify(policy)}`).to.not.equal(undefined);
    return found!;
}

/** Every string anywhere in a value (for "no hard-coded region/account" scans). */
export function strings(value: unknown, out: string[] = []): string[] {
    if (typeof value === "string") out.push(value);
    else if (Array.isArray(value)) value.forEach((v) => strings(v, out));
    else if (value && typeof value === "object") Object.values(value).forEach((v) => strings(v, out));
    return out;
}

/** The event pipeline's stack outputs that producers and the Sender (through a StackReference) depend on. */
export const EVENT_PROCESSOR_OUTPUTS = [
    "eventQueueUrl",
    "eventQueueArn",
    "deadLetterQueueUrl",
    "deadLetterQueueArn",
    "producerPolicyArn",
    "eventTableName",
    "eventTableArn",
    "eventStreamArn",
    "streamReadPolicyArn",
    "tableReadPolicyArn",
    "kmsKeyArn",
    "alarmTopicArn",
] as const;

/** The outputs a polling Sender needs, present only with the stack setting eventPollingIndex on. */
export const EVENT_POLLING_OUTPUTS = ["eventPollingIndexName", "eventPollingLagSeconds"] as const;

/** Outputs the email service appends; nothing else may appear. */
export const EMAIL_SERVICE_OUTPUTS = [
    "emailApiUrl",
    "emailQueueUrl",
    "emailDeadLetterQueueUrl",
    "emailApiInvokePolicyArn",
    "emailScheduleDeadLetterQueueUrl",
    "emailSesDkimRecords",
    "emailStatusTableName",
    "emailStatusDeadLetterQueueUrl",
    "emailStatusEventBusArn",
    "emailStatusSubscribePolicyArn",
    "emailStatusNotifyDeadLetterQueueUrl",
] as const;

/**
 * The policy a KMS key has once deployed: its `KeyPolicy` when one owns it (a key of alarm topics,
 * `EncryptionKey.allowAlarmTopics`), else the key's own `policy`.
 */
export function keyPolicyOf(deployment: MockDeployment, keyName: string): PolicyDocument {
    const key = one(deployment, "aws:kms/key:Key", keyName);
    const owned = all(deployment, "aws:kms/keyPolicy:KeyPolicy").filter((p) => p.inputs.keyId === key.state.keyId);
    expect(owned.length, `KeyPolicy resources of key ${keyName}`).to.be.at.most(1);
    return policyOf(owned.length === 1 ? owned[0].inputs.policy : key.inputs.policy);
}
