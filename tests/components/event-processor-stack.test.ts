/**
 * The event processor stack under Pulumi mocks (dev stack config): every
 * deployed property (encryption, sizing, redrive, alarms, outputs), read from the registered resources and outputs.
 */
import { expect } from "chai";
import { sharedDeployment, MOCK_ACCOUNT_ID, mockPowertoolsLayerArn, type MockDeployment } from "../../local/offline/mock-deployment";
import { installedPowertoolsVersion } from "../../components/shared/powertools";
import {
    DEAD_LETTER_RETENTION_SECONDS,
    DEFAULTS,
    EMAIL_SERVICE_DEFAULTS,
    SQS_MAX_MESSAGE_SIZE_BYTES,
} from "../../components/shared/defaults";
import { runtimeFiles } from "../../components/shared/lambda-packaging";
import { sqsEventSourceProblems } from "../../components/shared/event-source-rules";
import { readStackConfig } from "../../local/offline/mock-deployment";
import { EVENT_TYPE_NAMES } from "../../handlers/event-processor";
import {
    all,
    EMAIL_SERVICE_OUTPUTS,
    EVENT_POLLING_OUTPUTS,
    EVENT_PROCESSOR_OUTPUTS,
    keyPolicyOf,
    one,
    policyOf,
    statement,
} from "./helpers";
import { FAIR_QUEUE_METRICS } from "../../components/event-pipeline/pipeline-monitoring";
import { TENANT_QUERIES } from "../../components/event-pipeline/tenant-queries";
import { EVENT_DWELL_METRIC } from "../../contracts/event-pipeline";

const QUEUE = "aws:sqs/queue:Queue";
const FUNCTION = "aws:lambda/function:Function";

describe("event processor stack (dev, mocks)", () => {
    let d: MockDeployment;
    const dev = readStackConfig("dev");
    before(async () => {
        d = await sharedDeployment({ stack: "dev" });
    });

    describe("stack outputs", () => {
        it("exports exactly the event pipeline's outputs (plus the email service's own), each a resolved value", () => {
            const names = Object.keys(d.outputs);
            for (const name of EVENT_PROCESSOR_OUTPUTS) expect(d.outputs[name], name).to.be.a("string").and.not.equal("");
            // producerRoleArns is a map (empty in open mode); tests/components/tenant-isolation.test.ts covers it.
            expect(d.outputs.producerRoleArns).to.deep.equal({});
            // The arrival index is off on dev: its outputs are undefined, so the CLI shows none (polling-index.test.ts has them on).
            for (const name of EVENT_POLLING_OUTPUTS) expect(d.outputs[name], name).to.equal(undefined);
            // senderClaims likewise (the claim key and redrive operator policy exist only with producers).
            expect(d.outputs.senderClaims).to.deep.equal({});
            const allowed = new Set<string>([
                ...EVENT_PROCESSOR_OUTPUTS,
                ...EVENT_POLLING_OUTPUTS,
                ...EMAIL_SERVICE_OUTPUTS,
                "producerRoleArns",
                "senderClaims",
            ]);
            expect(
                names.filter((n) => !allowed.has(n)),
                "unexpected outputs",
            ).to.deep.equal([]);
        });
        it("points at the resources it names", () => {
            const queue = one(d, QUEUE, "events");
            const dlq = one(d, QUEUE, "events-dlq");
            const table = one(d, "aws:dynamodb/table:Table", "events");
            expect(d.outputs.eventQueueUrl).to.equal(queue.state.url);
            expect(d.outputs.eventQueueArn).to.equal(queue.state.arn);
            expect(d.outputs.deadLetterQueueUrl).to.equal(dlq.state.url);
            expect(d.outputs.deadLetterQueueArn).to.equal(dlq.state.arn);
            expect(d.outputs.eventTableName).to.equal(table.state.name);
            expect(d.outputs.eventTableArn).to.equal(table.state.arn);
            expect(d.outputs.eventStreamArn)
                .to.equal(table.state.streamArn)
                .and.match(/\/stream\//);
            expect(d.outputs.kmsKeyArn).to.equal(one(d, "aws:kms/key:Key", "events").state.arn);
            expect(d.outputs.alarmTopicArn).to.equal(one(d, "aws:sns/topic:Topic", "alarms").state.arn);
            expect(d.outputs.producerPolicyArn).to.equal(one(d, "aws:iam/policy:Policy", "events-producer").state.arn);
            expect(d.outputs.streamReadPolicyArn).to.equal(one(d, "aws:iam/policy:Policy", "events-stream-read").state.arn);
            expect(d.outputs.tableReadPolicyArn).to.equal(one(d, "aws:iam/policy:Policy", "events-table-read").state.arn);
        });
    });

    describe("encryption key", () => {
        it("is a rotating symmetric CMK with a stack-qualified alias", () => {
            const key = one(d, "aws:kms/key:Key", "events");
            expect(key.inputs.enableKeyRotation).to.equal(true);
            expect(key.inputs.customerMasterKeySpec).to.equal("SYMMETRIC_DEFAULT");
            expect(key.inputs.deletionWindowInDays).to.equal(30);
            const alias = one(d, "aws:kms/alias:Alias", "events");
            expect(alias.inputs.name).to.equal("alias/event-ingestion/dev/events");
            expect(alias.inputs.targetKeyId).to.equal(key.state.keyId);
        });
        it("lets the account administer it and principals use it only through the listed services", () => {
            const policy = keyPolicyOf(d, "events");
            const admin = statement(policy, "AccountAdministersKey");
            expect(admin.Principal).to.deep.equal({ AWS: `arn:aws:iam::${MOCK_ACCOUNT_ID}:root` });
            expect(admin.Action).to.not.include("kms:Decrypt");
            const use = statement(policy, "AccountUsesKeyThroughServices");
            expect(use.Condition!.StringEquals["kms:ViaService"]).to.have.members([
                "sqs.us-east-1.amazonaws.com",
                "dynamodb.us-east-1.amazonaws.com",
                "sns.us-east-1.amazonaws.com",
                "lambda.us-east-1.amazonaws.com",
            ]);
            expect(use.Condition!.StringEquals["kms:CallerAccount"]).to.equal(MOCK_ACCOUNT_ID);
            const logs = statement(policy, "CloudWatchLogsEncryptsThisStacksLogGroups");
            expect(logs.Principal).to.deep.equal({ Service: "logs.us-east-1.amazonaws.com" });
            expect(logs.Condition!.ArnLike["kms:EncryptionContext:aws:logs:arn"]).to.equal(
                `arn:aws:logs:us-east-1:${MOCK_ACCOUNT_ID}:log-group:/event-ingestion/dev/*`,
            );
            const alarms = statement(policy, "CloudWatchAlarmsPublishToEncryptedTopics");
            expect(alarms.Principal).to.deep.equal({ Service: "cloudwatch.amazonaws.com" });
            expect(alarms.Action).to.deep.equal(["kms:Decrypt", "kms:GenerateDataKey"]);
            // Only for the alarm topic (the context SNS encrypts with); which alarms publish is the topic policy's rule.
            expect(alarms.Condition).to.deep.equal({
                StringEquals: { "kms:EncryptionContext:aws:sns:topicArn": [one(d, "aws:sns/topic:Topic", "alarms").state.arn] },
            });
        });
    });

    describe("encrypted queues", () => {
        it("encrypts queue and DLQ with the CMK, with the configured data-key reuse and an explicit max message size", () => {
            const key = one(d, "aws:kms/key:Key", "events");
            for (const name of ["events", "events-dlq"]) {
                const q = one(d, QUEUE, name);
                expect(q.inputs.kmsMasterKeyId, name).to.equal(key.state.arn);
                expect(q.inputs.kmsDataKeyReusePeriodSeconds, name).to.equal(dev["event-ingestion:kmsDataKeyReusePeriodSeconds"]);
                // The DLQ is SQS's maximum, so a rejected body at the queue's limit still fits with its reason attributes.
                expect(q.inputs.maxMessageSize, name).to.equal(
                    name === "events" ? dev["event-ingestion:maxMessageSize"] : SQS_MAX_MESSAGE_SIZE_BYTES,
                );
                expect(q.inputs.fifoQueue ?? false, `${name} is a standard queue (fair queues)`).to.equal(false);
            }
        });
        it("derives the visibility timeout from the processor timeout (>= 6x plus the batching window)", () => {
            const q = one(d, QUEUE, "events");
            const fn = one(d, FUNCTION, "event-processor");
            const window = dev["event-ingestion:maxBatchingWindowSeconds"] as number;
            expect(q.inputs.visibilityTimeoutSeconds).to.equal(6 * fn.inputs.timeout + window);
            expect(q.inputs.visibilityTimeoutSeconds).to.be.at.least(6 * fn.inputs.timeout);
        });
        it("redrives to the DLQ after maxReceiveCount, and the DLQ admits only its source queue", () => {
            const q = one(d, QUEUE, "events");
            const dlq = one(d, QUEUE, "events-dlq");
            expect(JSON.parse(q.inputs.redrivePolicy)).to.deep.equal({
                deadLetterTargetArn: dlq.state.arn,
                maxReceiveCount: dev["event-ingestion:maxReceiveCount"],
            });
            const allow = one(d, "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy", "events-dlq-redrive-allow");
            expect(allow.inputs.queueUrl).to.equal(dlq.state.url);
            expect(JSON.parse(allow.inputs.redriveAllowPolicy)).to.deep.equal({
                redrivePermission: "byQueue",
                sourceQueueArns: [q.state.arn],
            });
        });
        it("keeps dead letters for 14 days", () => {
            expect(one(d, QUEUE, "events-dlq").inputs.messageRetentionSeconds)
                .to.equal(DEAD_LETTER_RETENTION_SECONDS)
                .and.equal(1_209_600);
        });
        it("has a TLS-only policy on each queue", () => {
            for (const name of ["events", "events-dlq"]) {
                const q = one(d, QUEUE, name);
                const policy = one(d, "aws:sqs/queuePolicy:QueuePolicy", `${name}-tls-only`);
                expect(policy.inputs.queueUrl).to.equal(q.state.url);
                const deny = statement(policyOf(policy.inputs.policy), "DenyInsecureTransport");
                expect(deny).to.deep.include({ Effect: "Deny", Principal: "*", Action: "sqs:*", Resource: [q.state.arn] });
                expect(deny.Condition).to.deep.equal({ Bool: { "aws:SecureTransport": "false" } });
            }
        });
    });

    describe("event store", () => {
        it("is keyed clientId/eventId, on demand, CMK-encrypted, with PITR, deletion protection and a NEW_IMAGE stream", () => {
            const t = one(d, "aws:dynamodb/table:Table", "events");
            expect(t.inputs.hashKey).to.equal("clientId");
            expect(t.inputs.rangeKey).to.equal("eventId");
            expect(t.inputs.attributes).to.deep.equal([
                { name: "clientId", type: "S" },
                { name: "eventId", type: "S" },
            ]);
            expect(t.inputs.billingMode).to.equal("PAY_PER_REQUEST");
            expect(t.inputs.serverSideEncryption).to.deep.equal({ enabled: true, kmsKeyArn: d.outputs.kmsKeyArn });
            expect(t.inputs.pointInTimeRecovery).to.deep.equal({ enabled: true });
            expect(t.inputs.deletionProtectionEnabled).to.equal(true);
            expect(t.inputs.streamEnabled).to.equal(true);
            expect(t.inputs.streamViewType).to.equal("NEW_IMAGE");
        });
        it("sets the TTL attribute because dev configures a retention", () => {
            expect(one(d, "aws:dynamodb/table:Table", "events").inputs.ttl).to.deep.equal({ enabled: true, attributeName: "expiresAt" });
        });
    });

    describe("event processor Lambda", () => {
        it("is the serialized handler on nodejs22.x/arm64 with memory and timeout from config and X-Ray on", () => {
            const fn = one(d, FUNCTION, "event-processor");
            expect(fn.inputs.runtime).to.equal("nodejs22.x");
            expect(fn.inputs.architectures).to.deep.equal(["arm64"]);
            expect(fn.inputs.handler).to.equal("__index.handler");
            expect(fn.inputs.memorySize).to.equal(dev["event-ingestion:processorMemoryMb"]);
            expect(fn.inputs.timeout).to.equal(dev["event-ingestion:processorTimeoutSeconds"]);
            expect(fn.inputs.tracingConfig).to.deep.equal({ mode: "Active" });
            expect(fn.inputs.kmsKeyArn).to.equal(d.outputs.kmsKeyArn);
        });
        it("runs as its own explicit role, and no managed policy is attached anywhere", () => {
            const fn = one(d, FUNCTION, "event-processor");
            const role = one(d, "aws:iam/role:Role", "event-processor-role");
            expect(fn.inputs.role).to.equal(role.state.arn);
            expect(role.inputs.managedPolicyArns ?? []).to.deep.equal([]);
            expect(policyOf(role.inputs.assumeRolePolicy).Statement).to.deep.equal([
                { Sid: "LambdaAssumesRole", Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
            ]);
            expect(all(d, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")).to.deep.equal([]);
            expect(one(d, "aws:iam/rolePolicy:RolePolicy", "event-processor-policy").inputs.role).to.equal(role.id);
        });
        it("logs as JSON to its own log group, encrypted with the CMK and with the configured retention", () => {
            const fn = one(d, FUNCTION, "event-processor");
            const logs = one(d, "aws:cloudwatch/logGroup:LogGroup", "event-processor-logs");
            expect(logs.inputs.name).to.equal("/event-ingestion/dev/event-processor");
            expect(logs.inputs.retentionInDays).to.equal(dev["event-ingestion:logRetentionDays"]);
            expect(logs.inputs.kmsKeyId).to.equal(d.outputs.kmsKeyArn);
            // Lambda's JSON log filter follows the configured level (dev: INFO).
            expect(fn.inputs.loggingConfig).to.deep.equal({
                logFormat: "JSON",
                applicationLogLevel: "INFO",
                systemLogLevel: "INFO",
                logGroup: logs.state.name,
            });
        });
        it("takes Powertools from AWS's public layer of the installed version, resolved in the stack's region from its SSM parameter", () => {
            const fn = one(d, FUNCTION, "event-processor");
            const asked = d.invokes.filter((i) => i.token === "aws:ssm/getParameter:getParameter").map((i) => i.inputs.name);
            expect(asked.length, "one lookup per function").to.be.greaterThan(0);
            expect(new Set(asked)).to.deep.equal(
                new Set([`/aws/service/powertools/typescript/generic/all/${installedPowertoolsVersion()}`]),
            );
            expect(fn.inputs.layers).to.deep.equal([mockPowertoolsLayerArn("us-east-1", installedPowertoolsVersion())]);
        });
        it("gets the handler's environment contract", () => {
            const vars = one(d, FUNCTION, "event-processor").inputs.environment.variables;
            expect(vars).to.deep.equal({
                EVENT_TABLE_NAME: d.outputs.eventTableName,
                DEAD_LETTER_QUEUE_URL: d.outputs.deadLetterQueueUrl,
                EVENT_RETENTION_DAYS: String(dev["event-ingestion:eventRetentionDays"]),
                POWERTOOLS_SERVICE_NAME: "event-processor",
                POWERTOOLS_METRICS_NAMESPACE: "event-ingestion",
                POWERTOOLS_LOG_LEVEL: "INFO",
            });
        });
        it("ships only the serialized handler and valibot: no AWS SDK, no Powertools, no Pulumi, no email libraries", async () => {
            const code = one(d, FUNCTION, "event-processor").inputs.code;
            const entries = Object.keys(await code.assets).sort();
            expect(entries).to.deep.equal(["__index.js", ...runtimeFiles("valibot")].sort());
            const text: string = await (await code.assets)["__index.js"].text;
            expect(text).to.include('require("valibot")');
            // The runtime and the layer resolve these; the archive must not carry them.
            expect(text).to.match(/require\("@aws-sdk\/client-dynamodb[^"]*"\)/);
            expect(text).to.match(/require\("@aws-lambda-powertools\/logger[^"]*"\)/);
        });
        it("is triggered by an event source mapping with partial batch responses and config-driven batching", () => {
            const esm = one(d, "aws:lambda/eventSourceMapping:EventSourceMapping", "event-processor-events");
            expect(esm.inputs.eventSourceArn).to.equal(d.outputs.eventQueueArn);
            expect(esm.inputs.functionName).to.equal(one(d, FUNCTION, "event-processor").state.arn);
            expect(esm.inputs.functionResponseTypes).to.deep.equal(["ReportBatchItemFailures"]);
            expect(esm.inputs.batchSize).to.equal(dev["event-ingestion:batchSize"]);
            expect(esm.inputs.maximumBatchingWindowInSeconds).to.equal(dev["event-ingestion:maxBatchingWindowSeconds"]);
            // What Lambda's CreateEventSourceMapping accepts for a standard queue (see event-source-rules.ts).
            expect(
                sqsEventSourceProblems({
                    batchSize: esm.inputs.batchSize,
                    maximumBatchingWindowInSeconds: esm.inputs.maximumBatchingWindowInSeconds,
                    maximumConcurrency: esm.inputs.scalingConfig.maximumConcurrency,
                }),
            ).to.deep.equal([]);
            expect(esm.inputs.scalingConfig).to.deep.equal({ maximumConcurrency: dev["event-ingestion:maxConcurrency"] });
        });
    });

    describe("alarms and dashboard", () => {
        it("publishes to an SNS topic encrypted with the CMK, TLS-only, publishable by this stack's alarms", () => {
            const topic = one(d, "aws:sns/topic:Topic", "alarms");
            expect(topic.inputs.kmsMasterKeyId).to.equal(d.outputs.kmsKeyArn);
            const policy = one(d, "aws:sns/topicPolicy:TopicPolicy", "alarms-policy");
            expect(policy.inputs.arn).to.equal(topic.state.arn);
            const doc = policyOf(policy.inputs.policy);
            expect(statement(doc, "DenyInsecureTransport")).to.deep.include({
                Effect: "Deny",
                Action: "sns:*",
                Resource: [topic.state.arn],
            });
            expect(statement(doc, "CloudWatchAlarmsPublish").Condition!.ArnLike["aws:SourceArn"]).to.equal(
                `arn:aws:cloudwatch:us-east-1:${MOCK_ACCOUNT_ID}:alarm:event-ingestion-dev/*`,
            );
            const subscription = one(d, "aws:sns/topicSubscription:TopicSubscription");
            expect(subscription.inputs).to.deep.include({
                protocol: "email",
                endpoint: dev["event-ingestion:alarmEmail"],
                topic: topic.state.arn,
            });
        });
        it("alarms on errors, throttles, dead letters, oldest message age and DynamoDB throttles/system errors", () => {
            const alarms = all(d, "aws:cloudwatch/metricAlarm:MetricAlarm");
            const byName = new Map(alarms.map((a) => [a.inputs.name as string, a]));
            const fn = one(d, FUNCTION, "event-processor");
            const expectSimple = (
                name: string,
                namespace: string,
                metric: string,
                dimensions: Record<string, string>,
                threshold: number,
            ) => {
                const alarm = byName.get(`event-ingestion-dev/events-${name}`);
                expect(alarm, name).to.not.equal(undefined);
                expect(alarm!.inputs).to.deep.include({ namespace, metricName: metric, threshold });
                expect(alarm!.inputs.dimensions).to.deep.equal(dimensions);
            };
            expectSimple("processor-errors", "AWS/Lambda", "Errors", { FunctionName: fn.state.name }, 1);
            expectSimple("processor-throttles", "AWS/Lambda", "Throttles", { FunctionName: fn.state.name }, 1);
            expectSimple(
                "dead-letters",
                "AWS/SQS",
                "ApproximateNumberOfMessagesVisible",
                { QueueName: one(d, QUEUE, "events-dlq").state.name },
                1,
            );
            expectSimple(
                "oldest-message-age",
                "AWS/SQS",
                "ApproximateAgeOfOldestMessage",
                { QueueName: one(d, QUEUE, "events").state.name },
                dev["event-ingestion:oldestMessageAgeAlarmSeconds"] as number,
            );
            const table = d.outputs.eventTableName;
            const metricsOf = (name: string) =>
                (
                    byName.get(`event-ingestion-dev/events-${name}`)!.inputs.metricQueries as Array<{
                        metric?: { metricName: string; dimensions: Record<string, string> };
                    }>
                )
                    .flatMap((query) => (query.metric ? [query.metric] : []))
                    .map((metric) => [metric.metricName, metric.dimensions] as const);
            expect(metricsOf("table-throttles")).to.deep.equal([
                ["ReadThrottleEvents", { TableName: table }],
                ["WriteThrottleEvents", { TableName: table }],
            ]);
            expect(metricsOf("table-system-errors").map(([m, dims]) => `${m}:${dims.TableName}:${dims.Operation}`)).to.deep.equal(
                ["PutItem", "GetItem", "Query", "GetRecords"].map((op) => `SystemErrors:${table}:${op}`),
            );
            for (const alarm of alarms) {
                expect(alarm.inputs.alarmActions, alarm.name).to.deep.equal([d.outputs.alarmTopicArn]);
                expect(alarm.inputs.okActions, alarm.name).to.deep.equal([d.outputs.alarmTopicArn]);
                expect(alarm.inputs.name, `${alarm.name} is admitted by the key and topic policies`).to.match(/^event-ingestion-dev\//);
            }
        });
        it("alarms on quiet tenants waiting (fair queues) and on the stored events' p99 dwell time, without a tenant dimension", () => {
            const alarms = all(d, "aws:cloudwatch/metricAlarm:MetricAlarm");
            const byName = new Map(alarms.map((a) => [a.inputs.name as string, a]));
            const quiet = byName.get("event-ingestion-dev/events-quiet-tenants-waiting")!;
            // "Amazon SQS fair queues" (SQS Developer Guide): AWS/SQS emits ApproximateAgeOfOldestMessageInQuietGroups per queue.
            expect(quiet.inputs).to.deep.include({
                namespace: "AWS/SQS",
                metricName: "ApproximateAgeOfOldestMessageInQuietGroups",
                statistic: "Maximum",
                threshold: DEFAULTS.quietTenantAgeAlarmSeconds,
            });
            expect(quiet.inputs.dimensions).to.deep.equal({ QueueName: one(d, QUEUE, "events").state.name });
            const dwell = byName.get("event-ingestion-dev/events-dwell-p99")!;
            const fn = one(d, FUNCTION, "event-processor");
            // The processor's EMF metrics land in its POWERTOOLS_METRICS_NAMESPACE with its `service` dimension.
            expect(dwell.inputs).to.deep.include({
                namespace: fn.inputs.environment.variables.POWERTOOLS_METRICS_NAMESPACE,
                metricName: EVENT_DWELL_METRIC,
                extendedStatistic: "p99",
                threshold: DEFAULTS.dwellP99AlarmMs,
            });
            expect(dwell.inputs.dimensions).to.deep.equal({ service: fn.inputs.environment.variables.POWERTOOLS_SERVICE_NAME });
        });
        it("saves Logs Insights queries over the processor's log group: tenants sending, rejected and waiting the most", () => {
            const queries = all(d, "aws:cloudwatch/queryDefinition:QueryDefinition");
            const logGroup = one(d, "aws:cloudwatch/logGroup:LogGroup", "event-processor-logs");
            expect(queries.map((q) => q.inputs.name).sort()).to.deep.equal(
                Object.keys(TENANT_QUERIES)
                    .map((suffix) => `event-ingestion-dev-us-east-1-events/${suffix}`)
                    .sort(),
            );
            for (const query of queries) {
                expect(query.inputs.logGroupNames, query.name).to.deep.equal([logGroup.state.name]);
                expect(Object.values(TENANT_QUERIES)).to.include(query.inputs.queryString);
            }
        });
        it("draws a dashboard of the pipeline, named per stack and region (dashboard names are account-global)", () => {
            const dashboard = one(d, "aws:cloudwatch/dashboard:Dashboard", "events-dashboard");
            expect(dashboard.inputs.dashboardName).to.equal("event-ingestion-dev-us-east-1-events");
            const body = dashboard.inputs.dashboardBody as string;
            for (const metric of [
                "Errors",
                "Throttles",
                "ApproximateAgeOfOldestMessage",
                "ApproximateNumberOfMessagesVisible",
                "WriteThrottleEvents",
                "Duration",
                ...FAIR_QUEUE_METRICS,
                EVENT_DWELL_METRIC,
            ]) {
                expect(body, metric).to.include(`"${metric}"`);
            }
            // The five fair-queue metrics, each on the event queue; dwell time at p50 and p99.
            const metrics = (JSON.parse(body).widgets as Array<{ properties: { metrics?: unknown[][] } }>).flatMap(
                (widget) => widget.properties.metrics ?? [],
            );
            for (const metric of FAIR_QUEUE_METRICS) {
                expect(metrics.find((m) => m[1] === metric)?.slice(0, 4), metric).to.deep.equal([
                    "AWS/SQS",
                    metric,
                    "QueueName",
                    one(d, QUEUE, "events").state.name,
                ]);
            }
            const dwellStats = metrics
                .filter((m) => m[1] === EVENT_DWELL_METRIC)
                .map((m) => (m[m.length - 1] as { stat?: string }).stat)
                .sort();
            expect(dwellStats).to.deep.equal(["p50", "p99"]);
        });
    });

    describe("exported access policies", () => {
        it("are customer-managed policies on exactly the queue, stream, table and key", () => {
            const producer = policyOf(one(d, "aws:iam/policy:Policy", "events-producer").inputs.policy);
            expect(statement(producer, "SendEvents")).to.deep.include({ Action: "sqs:SendMessage", Resource: d.outputs.eventQueueArn });
            expect(statement(producer, "EncryptThroughSqs")).to.deep.include({
                Action: ["kms:Decrypt", "kms:GenerateDataKey"],
                Resource: d.outputs.kmsKeyArn,
            });
            const stream = policyOf(one(d, "aws:iam/policy:Policy", "events-stream-read").inputs.policy);
            expect(statement(stream, "ReadEventStream")).to.deep.include({
                Action: ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
                Resource: d.outputs.eventStreamArn,
            });
            // ListStreams has no resource-level permissions (the simulator refuses it on a stream ARN).
            expect(statement(stream, "ListStreams")).to.deep.include({ Action: ["dynamodb:ListStreams"], Resource: "*" });
            const table = policyOf(one(d, "aws:iam/policy:Policy", "events-table-read").inputs.policy);
            expect(statement(table, "QueryEvents")).to.deep.include({
                Action: ["dynamodb:GetItem", "dynamodb:Query"],
                Resource: d.outputs.eventTableArn,
            });
        });
    });
});

describe("event processor stack: config-driven variations (mocks)", () => {
    // One whole-program deployment under a config that changes the processor's settings (its sizes, its log
    // level, no retention) and the email service's log level: what each test reads depends on its own settings
    // only, and the subject is the whole program (each system takes its own settings and keeps the others' apart).
    const config = { ...readStackConfig("dev") };
    delete config["event-ingestion:eventRetentionDays"];
    let d: MockDeployment;
    before(async () => {
        d = await sharedDeployment({
            config: {
                ...config,
                "event-ingestion:processorTimeoutSeconds": 60,
                "event-ingestion:maxBatchingWindowSeconds": 0,
                "event-ingestion:processorMemoryMb": 1024,
                "event-ingestion:batchSize": 3,
                "event-ingestion:maxConcurrency": 50,
                "event-ingestion:deletionProtection": false,
                "event-ingestion:alarmEmail": "oncall@example.com",
                "event-ingestion:enabledEventTypes": EVENT_TYPE_NAMES.slice(0, 2),
                "event-ingestion:logLevel": "DEBUG",
                "event-ingestion:emailLogLevel": "ERROR",
            },
        });
    });

    it("sets Lambda's JSON log filter of every function to its configured level, so DEBUG lines are not dropped", () => {
        // "Configuring advanced logging controls for Lambda functions": with JSON logs, Lambda drops
        // application logs below applicationLogLevel (INFO when unset), whatever the library writes.
        const levels = Object.fromEntries(
            ["event-processor", "email-api", "email-worker"].map((name) => {
                const fn = one(d, FUNCTION, name);
                return [
                    name,
                    [
                        fn.inputs.loggingConfig.applicationLogLevel,
                        fn.inputs.loggingConfig.systemLogLevel,
                        fn.inputs.environment.variables.POWERTOOLS_LOG_LEVEL,
                    ],
                ];
            }),
        );
        expect(levels).to.deep.equal({
            "event-processor": ["DEBUG", "DEBUG", "DEBUG"],
            // Lambda's system log levels stop at WARN.
            "email-api": ["ERROR", "WARN", "ERROR"],
            "email-worker": ["ERROR", "WARN", "ERROR"],
        });
    });

    it("follows sizes from config and leaves out TTL when no retention is configured", () => {
        const fn = one(d, FUNCTION, "event-processor");
        expect(fn.inputs.timeout).to.equal(60);
        expect(fn.inputs.memorySize).to.equal(1024);
        // The processor's sizes are its own: the email functions keep theirs (EMAIL_SERVICE_DEFAULTS unless configured).
        const emailSetting = (key: string, fallback: number) => Number(config[`event-ingestion:${key}`] ?? fallback);
        const { api, worker } = EMAIL_SERVICE_DEFAULTS;
        expect(one(d, FUNCTION, "email-api").inputs).to.deep.include({
            memorySize: emailSetting("emailApiMemoryMb", api.memorySizeMb),
            timeout: emailSetting("emailApiTimeoutSeconds", api.timeoutSeconds),
        });
        expect(one(d, FUNCTION, "email-worker").inputs).to.deep.include({
            memorySize: emailSetting("emailWorkerMemoryMb", worker.memorySizeMb),
            timeout: emailSetting("emailWorkerTimeoutSeconds", worker.timeoutSeconds),
        });
        expect(one(d, QUEUE, "events").inputs.visibilityTimeoutSeconds).to.equal(360);
        const esm = one(d, "aws:lambda/eventSourceMapping:EventSourceMapping", "event-processor-events");
        expect(esm.inputs.batchSize).to.equal(3);
        expect(esm.inputs.scalingConfig).to.deep.equal({ maximumConcurrency: 50 });
        const table = one(d, "aws:dynamodb/table:Table", "events");
        expect(table.inputs.ttl).to.equal(undefined);
        expect(table.inputs.deletionProtectionEnabled).to.equal(false);
        expect(fn.inputs.environment.variables.EVENT_RETENTION_DAYS).to.equal(undefined);
        expect(fn.inputs.environment.variables.ENABLED_EVENT_TYPES).to.equal(EVENT_TYPE_NAMES.slice(0, 2).join(","));
        const subscription = one(d, "aws:sns/topicSubscription:TopicSubscription");
        expect(subscription.inputs).to.deep.include({ protocol: "email", endpoint: "oncall@example.com", topic: d.outputs.alarmTopicArn });
    });
});
