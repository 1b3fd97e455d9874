/**
 * Every role and policy document the stack registers, evaluated with an IAM
 * policy simulator (@cloud-copilot/iam-simulate) in both directions: each
 * principal may do what it needs on its own resources, and nothing next to it.
 * KMS requests are evaluated against the key policy too, as AWS does.
 */
import { expect } from "chai";
import { deployUnderMocks, MOCK_ACCOUNT_ID, type MockDeployment } from "../../local/offline/mock-deployment";
import type { PolicyDocument } from "../../components/shared/iam-documents";
import { EVENT_ARRIVAL_INDEX } from "../../contracts/event-pipeline";
import { mismatches, type AccessRequest, type AccessSubject } from "../support/iam";
import { one, policyOf } from "./helpers";

const REGION = "us-east-1";
const ACCOUNT = MOCK_ACCOUNT_ID;
const via = (service: string) => ({ "kms:ViaService": `${service}.${REGION}.amazonaws.com`, "kms:CallerAccount": ACCOUNT });
const OTHER_TABLE = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/someone-elses-table`;
const OTHER_QUEUE = `arn:aws:sqs:${REGION}:${ACCOUNT}:someone-elses-queue`;
const OTHER_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/11111111-2222-4333-8444-555555555555`;
const CONSUMER_ROLE = `arn:aws:iam::${ACCOUNT}:role/sender-team-role`;

describe("IAM: every role and policy evaluated with a policy simulator", () => {
    let d: MockDeployment;
    let keyArn: string;
    let keyPolicy: PolicyDocument;
    let queueArn: string;
    let dlqArn: string;
    let tableArn: string;
    let streamArn: string;
    let logGroupArn: string;
    let queuePolicy: PolicyDocument;
    let dlqPolicy: PolicyDocument;

    before(async () => {
        d = await deployUnderMocks({ stack: "dev" });
        keyArn = d.outputs.kmsKeyArn;
        keyPolicy = policyOf(one(d, "aws:kms/key:Key", "events").inputs.policy);
        queueArn = d.outputs.eventQueueArn;
        dlqArn = d.outputs.deadLetterQueueArn;
        tableArn = d.outputs.eventTableArn;
        streamArn = d.outputs.eventStreamArn;
        logGroupArn = one(d, "aws:cloudwatch/logGroup:LogGroup", "event-processor-logs").state.arn;
        queuePolicy = policyOf(one(d, "aws:sqs/queuePolicy:QueuePolicy", "events-tls-only").inputs.policy);
        dlqPolicy = policyOf(one(d, "aws:sqs/queuePolicy:QueuePolicy", "events-dlq-tls-only").inputs.policy);
    });

    /** The resource policy AWS evaluates alongside the identity policy for a request. */
    function resourcePolicyFor(resource: string): PolicyDocument | undefined {
        if (resource === keyArn) return keyPolicy;
        if (resource === queueArn) return queuePolicy;
        if (resource === dlqArn) return dlqPolicy;
        return undefined;
    }

    async function check(principal: string, identityPolicies: PolicyDocument[], requests: AccessRequest[], expected: "allowed" | "denied") {
        const wrong: string[] = [];
        for (const request of requests) {
            const subject: AccessSubject = { principal, identityPolicies, resourcePolicy: resourcePolicyFor(request.resource) };
            wrong.push(...(await mismatches(subject, [request], expected)));
        }
        expect(wrong, `requests that should be ${expected}`).to.deep.equal([]);
    }

    describe("event processor role", () => {
        let role: string;
        let policies: PolicyDocument[];
        before(() => {
            role = one(d, "aws:iam/role:Role", "event-processor-role").state.arn;
            policies = [policyOf(one(d, "aws:iam/rolePolicy:RolePolicy", "event-processor-policy").inputs.policy)];
        });

        it("is allowed everything the handler and its event source mapping do, on its own resources", async () => {
            await check(
                role,
                policies,
                [
                    { action: "sqs:ReceiveMessage", resource: queueArn },
                    { action: "sqs:DeleteMessage", resource: queueArn },
                    { action: "sqs:GetQueueAttributes", resource: queueArn },
                    { action: "sqs:SendMessage", resource: dlqArn },
                    { action: "dynamodb:PutItem", resource: tableArn },
                    { action: "dynamodb:GetItem", resource: tableArn },
                    { action: "kms:Decrypt", resource: keyArn, context: via("sqs") },
                    { action: "kms:GenerateDataKey", resource: keyArn, context: via("sqs") },
                    { action: "kms:Decrypt", resource: keyArn, context: via("dynamodb") },
                    { action: "kms:GenerateDataKey", resource: keyArn, context: via("dynamodb") },
                    { action: "logs:CreateLogStream", resource: `${logGroupArn}:log-stream:2026/01/01/[$LATEST]abc` },
                    { action: "logs:PutLogEvents", resource: `${logGroupArn}:log-stream:2026/01/01/[$LATEST]abc` },
                    { action: "xray:PutTraceSegments", resource: "*" },
                    { action: "xray:PutTelemetryRecords", resource: "*" },
                ],
                "allowed",
            );
        });

        it("is denied its neighbours: other table actions, other tables and queues, reading its DLQ, key admin, other logs", async () => {
            await check(
                role,
                policies,
                [
                    { action: "dynamodb:Scan", resource: tableArn },
                    { action: "dynamodb:DeleteItem", resource: tableArn },
                    { action: "dynamodb:UpdateItem", resource: tableArn },
                    { action: "dynamodb:Query", resource: tableArn },
                    { action: "dynamodb:DeleteTable", resource: tableArn },
                    { action: "dynamodb:PutItem", resource: OTHER_TABLE },
                    { action: "dynamodb:GetRecords", resource: streamArn },
                    { action: "sqs:ReceiveMessage", resource: dlqArn },
                    { action: "sqs:DeleteMessage", resource: dlqArn },
                    { action: "sqs:SendMessage", resource: queueArn },
                    { action: "sqs:PurgeQueue", resource: queueArn },
                    { action: "sqs:SetQueueAttributes", resource: queueArn },
                    { action: "sqs:ReceiveMessage", resource: OTHER_QUEUE },
                    { action: "sqs:SendMessage", resource: OTHER_QUEUE },
                    { action: "kms:Decrypt", resource: keyArn, context: { "kms:CallerAccount": ACCOUNT } },
                    { action: "kms:Decrypt", resource: keyArn, context: via("s3") },
                    { action: "kms:Encrypt", resource: keyArn, context: via("sqs") },
                    { action: "kms:ScheduleKeyDeletion", resource: keyArn },
                    { action: "kms:PutKeyPolicy", resource: keyArn },
                    { action: "kms:DisableKey", resource: keyArn },
                    { action: "kms:CreateGrant", resource: keyArn, context: via("sqs") },
                    { action: "kms:Decrypt", resource: OTHER_KEY, context: via("sqs") },
                    { action: "logs:PutLogEvents", resource: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/other:log-stream:x` },
                    { action: "logs:CreateLogGroup", resource: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/event-ingestion/dev/new` },
                    { action: "logs:DeleteLogGroup", resource: logGroupArn },
                ],
                "denied",
            );
        });

        it("cannot reach its queues without TLS (queue policies deny it explicitly)", async () => {
            await check(
                role,
                policies,
                [
                    { action: "sqs:ReceiveMessage", resource: queueArn, context: { "aws:SecureTransport": "false" } },
                    { action: "sqs:SendMessage", resource: dlqArn, context: { "aws:SecureTransport": "false" } },
                ],
                "denied",
            );
        });
    });

    describe("key policy", () => {
        it("lets no principal of the account use the key directly, even one whose IAM policy allows kms:*", async () => {
            const broad: PolicyDocument = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "kms:*", Resource: "*" }] };
            await check(
                `arn:aws:iam::${ACCOUNT}:role/admin`,
                [broad],
                [
                    { action: "kms:Decrypt", resource: keyArn, context: { "kms:CallerAccount": ACCOUNT } },
                    { action: "kms:Encrypt", resource: keyArn, context: { "kms:CallerAccount": ACCOUNT } },
                    { action: "kms:Decrypt", resource: keyArn, context: via("secretsmanager") },
                ],
                "denied",
            );
            await check(
                `arn:aws:iam::${ACCOUNT}:role/admin`,
                [broad],
                [
                    { action: "kms:ScheduleKeyDeletion", resource: keyArn },
                    { action: "kms:EnableKeyRotation", resource: keyArn },
                    { action: "kms:Decrypt", resource: keyArn, context: via("dynamodb") },
                ],
                "allowed",
            );
        });
        it("gives nothing to another account", async () => {
            const broad: PolicyDocument = { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "kms:*", Resource: "*" }] };
            await check(
                "arn:aws:iam::999999999999:role/intruder",
                [broad],
                [
                    {
                        action: "kms:Decrypt",
                        resource: keyArn,
                        context: { "kms:ViaService": `sqs.${REGION}.amazonaws.com`, "kms:CallerAccount": "999999999999" },
                    },
                    { action: "kms:ScheduleKeyDeletion", resource: keyArn },
                ],
                "denied",
            );
        });
        it("lets CloudWatch Logs encrypt only this stack's log groups", async () => {
            const logs = `logs.${REGION}.amazonaws.com`;
            await check(
                logs,
                [],
                [
                    { action: "kms:GenerateDataKey", resource: keyArn, context: { "kms:EncryptionContext:aws:logs:arn": logGroupArn } },
                    { action: "kms:Decrypt", resource: keyArn, context: { "kms:EncryptionContext:aws:logs:arn": logGroupArn } },
                ],
                "allowed",
            );
            await check(
                logs,
                [],
                [
                    {
                        action: "kms:GenerateDataKey",
                        resource: keyArn,
                        context: { "kms:EncryptionContext:aws:logs:arn": `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/other` },
                    },
                    { action: "kms:Decrypt", resource: keyArn },
                    { action: "kms:ScheduleKeyDeletion", resource: keyArn },
                ],
                "denied",
            );
        });
        it("lets CloudWatch alarms of this stack (and only those) publish to the encrypted topic", async () => {
            const alarm = one(d, "aws:cloudwatch/metricAlarm:MetricAlarm", "events-dead-letters").state.arn;
            const topicArn = d.outputs.alarmTopicArn;
            const topicPolicy = policyOf(one(d, "aws:sns/topicPolicy:TopicPolicy", "alarms-policy").inputs.policy);
            const own = { "aws:SourceAccount": ACCOUNT, "aws:SourceArn": alarm };
            const foreign = {
                "aws:SourceAccount": ACCOUNT,
                "aws:SourceArn": `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:someone-elses-alarm`,
            };
            // The key admits CloudWatch without source conditions (the form SNS documents as working for
            // AWS services publishing to encrypted topics); the topic policy below does the scoping.
            await check(
                "cloudwatch.amazonaws.com",
                [],
                [
                    { action: "kms:GenerateDataKey", resource: keyArn, context: own },
                    { action: "kms:Decrypt", resource: keyArn, context: own },
                    { action: "kms:GenerateDataKey", resource: keyArn },
                ],
                "allowed",
            );
            await check(
                "cloudwatch.amazonaws.com",
                [],
                [
                    { action: "kms:Encrypt", resource: keyArn, context: own },
                    { action: "kms:ScheduleKeyDeletion", resource: keyArn, context: own },
                ],
                "denied",
            );
            expect(
                await mismatches(
                    { principal: "cloudwatch.amazonaws.com", identityPolicies: [], resourcePolicy: topicPolicy },
                    [{ action: "sns:Publish", resource: topicArn, context: own }],
                    "allowed",
                ),
            ).to.deep.equal([]);
            expect(
                await mismatches(
                    { principal: "cloudwatch.amazonaws.com", identityPolicies: [], resourcePolicy: topicPolicy },
                    [
                        { action: "sns:Publish", resource: topicArn, context: foreign },
                        { action: "sns:Publish", resource: topicArn, context: { ...own, "aws:SourceAccount": "999999999999" } },
                        { action: "sns:Publish", resource: topicArn, context: { ...own, "aws:SecureTransport": "false" } },
                    ],
                    "denied",
                ),
            ).to.deep.equal([]);
        });
    });

    describe("exported policies, attached to a consumer's role", () => {
        const exported = (name: string) => [policyOf(one(d, "aws:iam/policy:Policy", name).inputs.policy)];

        it("producer: may send events (and the KMS calls SSE-KMS makes), nothing else", async () => {
            await check(
                CONSUMER_ROLE,
                exported("events-producer"),
                [
                    { action: "sqs:SendMessage", resource: queueArn },
                    { action: "kms:GenerateDataKey", resource: keyArn, context: via("sqs") },
                    { action: "kms:Decrypt", resource: keyArn, context: via("sqs") },
                ],
                "allowed",
            );
            await check(
                CONSUMER_ROLE,
                exported("events-producer"),
                [
                    { action: "sqs:ReceiveMessage", resource: queueArn },
                    { action: "sqs:DeleteMessage", resource: queueArn },
                    { action: "sqs:SendMessage", resource: dlqArn },
                    { action: "sqs:SendMessage", resource: OTHER_QUEUE },
                    { action: "sqs:SendMessage", resource: queueArn, context: { "aws:SecureTransport": "false" } },
                    { action: "kms:Decrypt", resource: keyArn, context: { "kms:CallerAccount": ACCOUNT } },
                    { action: "kms:Decrypt", resource: keyArn, context: via("dynamodb") },
                    { action: "dynamodb:PutItem", resource: tableArn },
                ],
                "denied",
            );
        });

        it("stream read: may read the stream (and decrypt through DynamoDB), nothing else", async () => {
            await check(
                CONSUMER_ROLE,
                exported("events-stream-read"),
                [
                    { action: "dynamodb:DescribeStream", resource: streamArn },
                    { action: "dynamodb:GetRecords", resource: streamArn },
                    { action: "dynamodb:GetShardIterator", resource: streamArn },
                    { action: "dynamodb:ListStreams", resource: "*" },
                    { action: "kms:Decrypt", resource: keyArn, context: via("dynamodb") },
                ],
                "allowed",
            );
            await check(
                CONSUMER_ROLE,
                exported("events-stream-read"),
                [
                    { action: "dynamodb:GetRecords", resource: `${OTHER_TABLE}/stream/2026-01-01T00:00:00.000` },
                    { action: "dynamodb:GetItem", resource: tableArn },
                    { action: "dynamodb:Query", resource: tableArn },
                    { action: "dynamodb:Scan", resource: tableArn },
                    { action: "dynamodb:PutItem", resource: tableArn },
                    { action: "kms:Decrypt", resource: keyArn, context: via("sqs") },
                    { action: "kms:GenerateDataKey", resource: keyArn, context: via("dynamodb") },
                    { action: "sqs:ReceiveMessage", resource: queueArn },
                ],
                "denied",
            );
        });

        it("table read: may Query and GetItem (and decrypt through DynamoDB), nothing else", async () => {
            await check(
                CONSUMER_ROLE,
                exported("events-table-read"),
                [
                    { action: "dynamodb:Query", resource: tableArn },
                    { action: "dynamodb:GetItem", resource: tableArn },
                    { action: "kms:Decrypt", resource: keyArn, context: via("dynamodb") },
                ],
                "allowed",
            );
            await check(
                CONSUMER_ROLE,
                exported("events-table-read"),
                [
                    { action: "dynamodb:Scan", resource: tableArn },
                    { action: "dynamodb:PutItem", resource: tableArn },
                    { action: "dynamodb:DeleteItem", resource: tableArn },
                    { action: "dynamodb:BatchWriteItem", resource: tableArn },
                    { action: "dynamodb:Query", resource: OTHER_TABLE },
                    { action: "dynamodb:GetRecords", resource: streamArn },
                    { action: "kms:Decrypt", resource: keyArn, context: via("sqs") },
                    { action: "kms:Decrypt", resource: keyArn, context: { "kms:CallerAccount": ACCOUNT } },
                    // Without the arrival index (the dev default) no index of the table is readable.
                    { action: "dynamodb:Query", resource: `${tableArn}/index/${EVENT_ARRIVAL_INDEX.name}` },
                    { action: "dynamodb:Query", resource: `${tableArn}/index/*` },
                ],
                "denied",
            );
        });
    });

    // An index is a resource of its own (`<table ARN>/index/<name>`): a grant on the table does not reach it.
    // Amazon DynamoDB Developer Guide, "IAM policy to grant access to a specific DynamoDB table and its indexes".
    describe("table read with the arrival index (eventPollingIndex on)", () => {
        let withIndex: MockDeployment;
        let indexedTable: string;
        let indexArn: string;
        let policies: PolicyDocument[];
        before(async () => {
            withIndex = await deployUnderMocks({ stack: "dev", configOverrides: { "event-ingestion:eventPollingIndex": true } });
            indexedTable = withIndex.outputs.eventTableArn;
            indexArn = `${indexedTable}/index/${withIndex.outputs.eventPollingIndexName}`;
            policies = [policyOf(one(withIndex, "aws:iam/policy:Policy", "events-table-read").inputs.policy)];
        });

        it("may Query the arrival index, and the table as before", async () => {
            expect(withIndex.outputs.eventPollingIndexName).to.equal(EVENT_ARRIVAL_INDEX.name);
            await check(
                CONSUMER_ROLE,
                policies,
                [
                    { action: "dynamodb:Query", resource: indexArn },
                    { action: "dynamodb:Query", resource: indexedTable },
                    { action: "dynamodb:GetItem", resource: indexedTable },
                ],
                "allowed",
            );
        });

        it("may do nothing else on the index, nor read another index or another table's index", async () => {
            await check(
                CONSUMER_ROLE,
                policies,
                [
                    { action: "dynamodb:Scan", resource: indexArn },
                    { action: "dynamodb:GetItem", resource: indexArn },
                    { action: "dynamodb:PartiQLSelect", resource: indexArn },
                    { action: "dynamodb:Query", resource: `${indexedTable}/index/another-index` },
                    { action: "dynamodb:Query", resource: `${OTHER_TABLE}/index/${EVENT_ARRIVAL_INDEX.name}` },
                    { action: "dynamodb:Scan", resource: indexedTable },
                    { action: "dynamodb:PutItem", resource: indexedTable },
                ],
                "denied",
            );
        });
    });
});

/** A concrete request that satisfies a statement's own conditions (first value of each, wildcards filled in). */
function contextFor(condition: Record<string, Record<string, string | string[]>> | undefined): Record<string, string> | undefined {
    if (!condition) return undefined;
    const context: Record<string, string> = {};
    for (const [operator, entries] of Object.entries(condition)) {
        for (const [key, value] of Object.entries(entries)) {
            const first = Array.isArray(value) ? value[0] : value;
            context[key] = /Like$/.test(operator) ? first.replace(/\*/g, "x").replace(/\?/g, "x") : first;
        }
    }
    return context;
}

describe("IAM: no dead grants anywhere in the stack", () => {
    it("every Allow statement of every role and managed policy is effective for each action on each resource it names", async () => {
        const d = await deployUnderMocks({ stack: "dev" });
        const documents = d.resources
            .filter((r) => r.type === "aws:iam/rolePolicy:RolePolicy" || r.type === "aws:iam/policy:Policy")
            .map((r) => ({ name: `${r.type} ${r.name}`, policy: policyOf(r.inputs.policy) }));
        expect(documents.length).to.be.greaterThan(3);
        // KMS also needs the key's own policy to allow (as AWS evaluates it).
        const keyPolicies = new Map(
            d.resources.filter((r) => r.type === "aws:kms/key:Key").map((r) => [r.state.arn as string, policyOf(r.inputs.policy)]),
        );
        const dead: string[] = [];
        for (const { name, policy } of documents) {
            for (const statement of policy.Statement.filter((s) => s.Effect === "Allow")) {
                const actions = [statement.Action].flat();
                const resources = [statement.Resource ?? []].flat();
                for (const action of actions) {
                    for (const pattern of resources) {
                        const resource = pattern === "*" ? "*" : pattern.replace(/\*/g, "x");
                        const isKms = action.startsWith("kms:");
                        const context = { ...(contextFor(statement.Condition) ?? {}), ...(isKms ? { "kms:CallerAccount": ACCOUNT } : {}) };
                        const request = { action, resource, context };
                        try {
                            const wrong = await mismatches(
                                { principal: CONSUMER_ROLE, identityPolicies: [policy], resourcePolicy: keyPolicies.get(resource) },
                                [request],
                                "allowed",
                            );
                            dead.push(...wrong.map((w) => `${name} (${statement.Sid ?? "no Sid"}): ${w}`));
                        } catch (error) {
                            dead.push(
                                `${name} (${statement.Sid ?? "no Sid"}): ${action} on ${resource}: ${(error as Error).message.split("\n")[0]} ${(error as Error).message.includes("must.use.wildcard") ? "(action supports no resource scoping)" : ""}`,
                            );
                        }
                    }
                }
            }
        }
        expect(dead, "grants that can never take effect").to.deep.equal([]);
    });
});
