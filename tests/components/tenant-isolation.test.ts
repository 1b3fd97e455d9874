/**
 * Tenant isolation: a producer writes only its own tenants.
 *
 * IAM decides who may send at all: one send-only role per configured producer, assumable only by
 * the principals the config names (checked here with the IAM simulator, both ways). IAM cannot
 * decide which tenant a message is for: SQS offers no condition key on MessageGroupId or the body
 * ("Actions, resources, and condition keys for Amazon SQS", Service Authorization Reference: only
 * aws:ResourceTag/aws:RequestTag/aws:TagKeys). So the processor checks each message's SenderId
 * (SQS API Reference, "ReceiveMessage": `<role unique id>:<session>` for an assumed role, the user
 * id for an IAM user) against the tenant map the stack renders from the roles' unique ids, and its
 * MessageGroupId against the body's clientId. Producer A's role can send to the queue; its events
 * for tenant B are rejected with `sender_not_allowed`.
 */
import { expect } from "chai";
import { isUnsetValue } from "../../config/section";
import { sharedDeployment, MOCK_ACCOUNT_ID, readStackConfig, type MockDeployment } from "../../local/offline/mock-deployment";
import { parseStackConfig } from "../../config";
import { MAX_PRODUCER_TENANTS_BYTES } from "../../config/event-processor";
import type { PolicyDocument } from "../../components/shared/iam-documents";
import { EVENT_PROCESSOR_ENV, EVENT_REJECTION_REASONS } from "../../contracts/event-pipeline";
import { createBatchProcessor, readEventProcessorSettings } from "../../handlers/event-processor";
import { checkTenancy } from "../../handlers/event-processor/tenancy";
import { mismatches, type AccessRequest } from "../support/iam";
import { quietObservability, recordingClients } from "../handlers/event-processor/harness";
import { sqsRecord, validEvent } from "../support/factories/events";
import { all, one, policyOf, keyPolicyOf } from "./helpers";

const REGION = "us-east-1";
const ACCOUNT = MOCK_ACCOUNT_ID;
const ALPHA_APP = "arn:aws:iam::111122223333:role/alpha-app";
const BETA_ACCOUNT = "444455556666";
const PRODUCERS = {
    alpha: { tenants: ["tenant-a", "tenant-a2"], principals: [ALPHA_APP] },
    beta: { tenants: ["tenant-b"], principals: [BETA_ACCOUNT], externalId: "beta-external-id" },
};

describe("tenant isolation: producers write only their own tenants", () => {
    describe("the processor's check (SenderId and MessageGroupId against the body's clientId)", () => {
        const producers = new Map([["AROAALPHA0000000000001", new Set(["tenant-a"])]]);
        it("open mode: any sender, but a MessageGroupId must be the body's clientId", () => {
            expect(checkTenancy({ MessageGroupId: "tenant-a", SenderId: "AIDAANYONE" }, "tenant-a", undefined)).to.equal(undefined);
            expect(checkTenancy({ SenderId: "AIDAANYONE" }, "tenant-a", undefined)).to.equal(undefined);
            expect(checkTenancy({ MessageGroupId: "attacker", SenderId: "AIDAANYONE" }, "victim", undefined)?.reason).to.equal(
                "message_group_mismatch",
            );
        });
        it("with producers: the sender's role must be a producer of the clientId; a group, when present, must equal it", () => {
            expect(checkTenancy({ MessageGroupId: "tenant-a", SenderId: "AROAALPHA0000000000001:i-123" }, "tenant-a", producers)).to.equal(
                undefined,
            );
            expect(
                checkTenancy({ MessageGroupId: "tenant-b", SenderId: "AROAALPHA0000000000001:i-123" }, "tenant-b", producers)?.reason,
            ).to.equal("sender_not_allowed");
            expect(
                checkTenancy({ MessageGroupId: "tenant-a", SenderId: "AROAOTHER0000000000009:s" }, "tenant-a", producers)?.reason,
            ).to.equal("sender_not_allowed");
            expect(checkTenancy({ MessageGroupId: "tenant-a" }, "tenant-a", producers)?.reason).to.equal("sender_not_allowed");
            expect(
                checkTenancy({ MessageGroupId: "tenant-b", SenderId: "AROAALPHA0000000000001:s" }, "tenant-a", producers)?.reason,
            ).to.equal("message_group_mismatch");
            // The detail names the AWS-generated principal id, never the caller-chosen session name.
            expect(
                checkTenancy({ MessageGroupId: "tenant-b", SenderId: "AROAALPHA0000000000001:secret-session" }, "tenant-b", producers)!
                    .detail,
            ).to.not.include("secret-session");
        });
        it("a record without MessageGroupId is judged by the sender check alone (AWS's standard-queue record has none)", () => {
            // "Using Lambda with Amazon SQS" (AWS Lambda Developer Guide), "Example standard queue message event": the
            // record's attributes are ApproximateReceiveCount, SentTimestamp, SenderId and ApproximateFirstReceiveTimestamp;
            // only the FIFO example carries MessageGroupId. Lambda may not forward a standard queue's group, and a stack
            // that rejected every such record would dead-letter all of its events.
            const awsStandardQueueRecordAttributes = {
                ApproximateReceiveCount: "1",
                SentTimestamp: "1545082649183",
                SenderId: "AROAALPHA0000000000001:producer-session",
                ApproximateFirstReceiveTimestamp: "1545082649185",
            };
            expect(checkTenancy(awsStandardQueueRecordAttributes, "tenant-a", producers)).to.equal(undefined);
            expect(checkTenancy(awsStandardQueueRecordAttributes, "tenant-b", producers)?.reason).to.equal("sender_not_allowed");
            expect(
                checkTenancy({ ...awsStandardQueueRecordAttributes, SenderId: "AROAOTHER0000000000009:s" }, "tenant-a", producers)?.reason,
            ).to.equal("sender_not_allowed");
            expect(
                checkTenancy({ ...awsStandardQueueRecordAttributes, MessageGroupId: "tenant-b" }, "tenant-a", producers)?.reason,
            ).to.equal("message_group_mismatch");
        });
        it("both are documented reason codes", () => {
            expect(EVENT_REJECTION_REASONS).to.have.property("message_group_mismatch");
            expect(EVENT_REJECTION_REASONS).to.have.property("sender_not_allowed");
        });
        it("PRODUCER_TENANTS is validated at start-up, every problem named", () => {
            const base = { EVENT_TABLE_NAME: "events", DEAD_LETTER_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/1/dlq" };
            expect(readEventProcessorSettings({ ...base }).producerTenants).to.equal(undefined);
            expect(
                readEventProcessorSettings({ ...base, PRODUCER_TENANTS: '{"AROAALPHA0000000000001":["tenant-a"]}' }).producerTenants,
            ).to.deep.equal({
                AROAALPHA0000000000001: ["tenant-a"],
            });
            expect(() => readEventProcessorSettings({ ...base, PRODUCER_TENANTS: '{"not-an-id":["tenant a"]}' })).to.throw(
                /PRODUCER_TENANTS key "not-an-id".*\n.*must list at least one valid clientId/s,
            );
            expect(() => readEventProcessorSettings({ ...base, PRODUCER_TENANTS: "[" })).to.throw(/PRODUCER_TENANTS is not JSON/);
        });
    });

    describe("config", () => {
        const parse = (producers: unknown) => () =>
            parseStackConfig({ "aws:region": REGION, "event-ingestion:producers": JSON.stringify(producers) });
        it("accepts producers with tenants, principals and an optional external id", () => {
            expect(parse(PRODUCERS)().eventProcessor.producers).to.deep.equal(PRODUCERS);
            expect(parseStackConfig({ "aws:region": REGION }).eventProcessor.producers).to.equal(undefined);
        });
        it("names every bad producer field at once", () => {
            let message = "";
            try {
                parse({
                    Alpha: { tenants: [], principals: ["*"] },
                    beta: { tenants: ["ok", "bad tenant", "ok"], principals: ["arn:aws:iam::*:role/x"], region: "x" },
                })();
            } catch (error) {
                message = (error as Error).message;
            }
            for (const expected of [
                'producer name "Alpha"',
                "<name>.tenants must be a list of 1-100 clientIds",
                "<name>.principals[0] must be a 12-digit account id",
                "beta.tenants[1] must be a clientId",
                "beta.tenants must not repeat a clientId",
                "beta.principals[0] must be a 12-digit account id",
                "beta.region is not a producer setting",
            ]) {
                expect(message).to.include(expected);
            }
        });
        it("refuses a tenant map that would not fit the processor's environment (Lambda: 4 KB for all variables)", () => {
            const tenants = Array.from({ length: 100 }, (_, i) => `tenant-with-a-long-name-${String(i).padStart(4, "0")}`);
            expect(parse({ big: { tenants, principals: [BETA_ACCOUNT] } })).to.throw(
                new RegExp(`at most ${MAX_PRODUCER_TENANTS_BYTES} fit`),
            );
        });
    });

    describe("deployed with two producers (mocks)", () => {
        let d: MockDeployment;
        let queueArn: string;
        let dlqArn: string;
        let keyArn: string;
        let keyPolicy: PolicyDocument;
        let queuePolicy: PolicyDocument;
        before(async () => {
            d = await sharedDeployment({ stack: "dev", configOverrides: { "event-ingestion:producers": PRODUCERS } });
            queueArn = d.outputs.eventQueueArn;
            dlqArn = d.outputs.deadLetterQueueArn;
            keyArn = d.outputs.kmsKeyArn;
            keyPolicy = keyPolicyOf(d, "events");
            queuePolicy = policyOf(one(d, "aws:sqs/queuePolicy:QueuePolicy", "events-tls-only").inputs.policy);
        });
        const role = (name: string) => one(d, "aws:iam/role:Role", `events-producer-${name}`);
        const rolePolicy = (name: string) =>
            policyOf(one(d, "aws:iam/rolePolicy:RolePolicy", `events-producer-${name}-send`).inputs.policy);
        const via = (service: string) => ({ "kms:ViaService": `${service}.${REGION}.amazonaws.com`, "kms:CallerAccount": ACCOUNT });

        it("creates one role per producer and exports their ARNs", () => {
            expect(all(d, "aws:iam/role:Role").filter((r) => r.name.startsWith("events-producer-"))).to.have.length(2);
            expect(d.outputs.producerRoleArns).to.deep.equal({ alpha: role("alpha").state.arn, beta: role("beta").state.arn });
        });

        it("gives the processor the tenant map keyed by the roles' unique ids (the SenderId SQS reports)", () => {
            const fn = all(d, "aws:lambda/function:Function").find((f) => f.name === "event-processor")!;
            const map = JSON.parse(fn.inputs.environment.variables[EVENT_PROCESSOR_ENV.producerTenants]);
            expect(map).to.deep.equal({
                [role("alpha").state.uniqueId]: PRODUCERS.alpha.tenants,
                [role("beta").state.uniqueId]: PRODUCERS.beta.tenants,
            });
        });

        it("producer A's role can send to the event queue, and do nothing more", async () => {
            const principal = role("alpha").state.arn;
            const check = async (requests: AccessRequest[], expected: "allowed" | "denied") => {
                const wrong: string[] = [];
                for (const request of requests) {
                    const resourcePolicy =
                        request.resource === keyArn ? keyPolicy : request.resource === queueArn ? queuePolicy : undefined;
                    wrong.push(
                        ...(await mismatches({ principal, identityPolicies: [rolePolicy("alpha")], resourcePolicy }, [request], expected)),
                    );
                }
                expect(wrong, `requests that should be ${expected}`).to.deep.equal([]);
            };
            await check(
                [
                    { action: "sqs:SendMessage", resource: queueArn },
                    { action: "kms:GenerateDataKey", resource: keyArn, context: via("sqs") },
                    { action: "kms:Decrypt", resource: keyArn, context: via("sqs") },
                ],
                "allowed",
            );
            await check(
                [
                    { action: "sqs:ReceiveMessage", resource: queueArn },
                    { action: "sqs:DeleteMessage", resource: queueArn },
                    { action: "sqs:PurgeQueue", resource: queueArn },
                    { action: "sqs:SetQueueAttributes", resource: queueArn },
                    { action: "sqs:ChangeMessageVisibility", resource: queueArn },
                    { action: "sqs:SendMessage", resource: dlqArn },
                    { action: "sqs:ReceiveMessage", resource: dlqArn },
                    { action: "sqs:SendMessage", resource: queueArn, context: { "aws:SecureTransport": "false" } },
                    { action: "kms:Decrypt", resource: keyArn, context: { "kms:CallerAccount": ACCOUNT } },
                    { action: "kms:Encrypt", resource: keyArn, context: via("sqs") },
                    { action: "dynamodb:GetItem", resource: d.outputs.eventTableArn },
                    { action: "dynamodb:GetRecords", resource: d.outputs.eventStreamArn },
                    { action: "iam:PassRole", resource: role("beta").state.arn },
                    { action: "sts:AssumeRole", resource: role("beta").state.arn },
                ],
                "denied",
            );
        });

        it("only the configured principals may assume a producer role (and only with the external id when one is set)", async () => {
            const callerPolicy: PolicyDocument = {
                Version: "2012-10-17",
                Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Resource: "*" }],
            };
            const assume = (principal: string, name: string, context?: Record<string, string>) =>
                mismatches(
                    { principal, identityPolicies: [callerPolicy], resourcePolicy: policyOf(role(name).inputs.assumeRolePolicy) },
                    [{ action: "sts:AssumeRole", resource: role(name).state.arn, ...(context ? { context } : {}) }],
                    "allowed",
                );
            expect(await assume(ALPHA_APP, "alpha")).to.deep.equal([]);
            expect(
                await assume(`arn:aws:iam::${BETA_ACCOUNT}:role/beta-app`, "beta", { "sts:ExternalId": "beta-external-id" }),
            ).to.deep.equal([]);
            expect(await assume(`arn:aws:iam::${BETA_ACCOUNT}:role/beta-app`, "alpha")).to.have.length(1);
            expect(await assume("arn:aws:iam::999988887777:role/alpha-app", "alpha")).to.have.length(1);
            expect(await assume(`arn:aws:iam::${BETA_ACCOUNT}:role/beta-app`, "beta")).to.have.length(1);
            expect(await assume(`arn:aws:iam::${BETA_ACCOUNT}:role/beta-app`, "beta", { "sts:ExternalId": "guessed" })).to.have.length(1);
        });

        it("the deployed processor stores A's events for A and rejects A's events for B (sender_not_allowed), without the payload in the detail", async () => {
            const fn = all(d, "aws:lambda/function:Function").find((f) => f.name === "event-processor")!;
            const settings = readEventProcessorSettings({
                ...fn.inputs.environment.variables,
                DEAD_LETTER_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/1/dlq",
            });
            const clients = recordingClients();
            const processBatch = createBatchProcessor({
                ...settings,
                dynamodb: clients.dynamodb,
                sqs: clients.sqs,
                ...quietObservability(),
            });
            const senderA = `${role("alpha").state.uniqueId}:producer-session`;
            const withSender = (body: ReturnType<typeof validEvent>, senderId: string, groupId = body.clientId) => {
                const record = sqsRecord(body, { messageGroupId: groupId });
                return { ...record, attributes: { ...record.attributes, SenderId: senderId } };
            };
            const own = validEvent({ clientId: "tenant-a" });
            const foreign = validEvent({ clientId: "tenant-b" });
            const borrowedGroup = validEvent({ clientId: "tenant-b" });
            const { outcomes, response } = await processBatch([
                withSender(own, senderA),
                withSender(foreign, senderA),
                withSender(borrowedGroup, senderA, "tenant-a"),
            ]);
            expect(response.batchItemFailures).to.deep.equal([]);
            expect(outcomes.map((o) => (o.outcome === "rejected" ? o.reason : o.outcome))).to.deep.equal([
                "persisted",
                "sender_not_allowed",
                "message_group_mismatch",
            ]);
            expect(clients.puts).to.have.length(1);
            expect(clients.letters.map((l) => l.MessageAttributes!.rejectionReason.StringValue)).to.deep.equal([
                "sender_not_allowed",
                "message_group_mismatch",
            ]);
            for (const letter of clients.letters)
                expect(letter.MessageAttributes!.rejectionDetail.StringValue).to.not.include(foreign.data.orderId as string);
        });

        describe("the sender-claim key (a dead letter's first sender, kept across a redrive)", () => {
            const claimKey = () => one(d, "aws:kms/key:Key", "events-sender-claims");
            const operatorPolicy = () => policyOf(one(d, "aws:iam/policy:Policy", "events-redrive-operator").inputs.policy);
            const processorPolicy = () => policyOf(one(d, "aws:iam/rolePolicy:RolePolicy", "event-processor-policy").inputs.policy);
            const processorRole = () => one(d, "aws:iam/role:Role", "event-processor-role").state.arn;
            const decideAll = async (
                principal: string,
                identityPolicies: PolicyDocument[],
                actions: string[],
                expected: "allowed" | "denied",
            ): Promise<string[]> => {
                const wrong: string[] = [];
                for (const action of actions) {
                    wrong.push(
                        ...(await mismatches(
                            { principal, identityPolicies, resourcePolicy: policyOf(claimKey().inputs.policy) },
                            // KMS sets kms:CallerAccount on every request; the key policy conditions on it.
                            [{ action, resource: claimKey().state.arn, context: { "kms:CallerAccount": ACCOUNT } }],
                            expected,
                        )),
                    );
                }
                return wrong;
            };

            it("is an HMAC key that only MACs, handed to the processor and exported with the redrive operator policy", () => {
                expect(claimKey().inputs).to.include({ keyUsage: "GENERATE_VERIFY_MAC", customerMasterKeySpec: "HMAC_256" });
                const fn = all(d, "aws:lambda/function:Function").find((f) => f.name === "event-processor")!;
                expect(fn.inputs.environment.variables[EVENT_PROCESSOR_ENV.senderClaimKeyArn]).to.equal(claimKey().state.arn);
                expect(d.outputs.senderClaims).to.deep.equal({
                    keyArn: claimKey().state.arn,
                    redriveOperatorPolicyArn: one(d, "aws:iam/policy:Policy", "events-redrive-operator").state.arn,
                });
            });

            it("the processor may GenerateMac and VerifyMac with it, and nothing else", async () => {
                expect(
                    await decideAll(processorRole(), [processorPolicy()], ["kms:GenerateMac", "kms:VerifyMac"], "allowed"),
                ).to.deep.equal([]);
                expect(
                    await decideAll(
                        processorRole(),
                        [processorPolicy()],
                        ["kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:Encrypt", "kms:CreateGrant"],
                        "denied",
                    ),
                ).to.deep.equal([]);
            });

            it("no producer may use it: a producer cannot mint or check a claim", async () => {
                for (const producer of ["alpha", "beta"]) {
                    expect(
                        await decideAll(role(producer).state.arn, [rolePolicy(producer)], ["kms:GenerateMac", "kms:VerifyMac"], "denied"),
                    ).to.deep.equal([]);
                }
            });

            it("the redrive operator policy allows GenerateMac only, on this key only", async () => {
                const operator = `arn:aws:iam::${ACCOUNT}:role/operator`;
                expect(await decideAll(operator, [operatorPolicy()], ["kms:GenerateMac"], "allowed")).to.deep.equal([]);
                expect(await decideAll(operator, [operatorPolicy()], ["kms:VerifyMac", "kms:ScheduleKeyDeletion"], "denied")).to.deep.equal(
                    [],
                );
                expect(
                    await mismatches(
                        { principal: operator, identityPolicies: [operatorPolicy()], resourcePolicy: keyPolicy },
                        [{ action: "kms:GenerateMac", resource: keyArn, context: { "kms:CallerAccount": ACCOUNT } }],
                        "denied",
                    ),
                ).to.deep.equal([]);
            });
        });

        it("the dev stack itself runs in open mode (no producers configured)", () => {
            // Unset: absent, or Pulumi.yaml's declared empty default ({}) as the CLI passes it.
            expect(isUnsetValue(readStackConfig("dev")["event-ingestion:producers"] ?? {})).to.equal(true);
        });
    });
});
