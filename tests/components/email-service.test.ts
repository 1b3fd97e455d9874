/**
 * The email service as the program declares it (index.ts under Pulumi mocks with
 * the dev stack's config): encryption, IAM, auth, throttling, alarms, outputs. Under
 * another config, the email service alone, wired as index.ts wires it (./programs).
 */
import { expect } from "chai";
import { parseStackConfig, ConfigValidationError } from "../../config";
import { sharedDeployment, type MockDeployment, type MockedResource } from "../../local/offline/mock-deployment";
import { readStackConfig } from "../../local/offline/mock-deployment";
import { EMAIL_ENV } from "../../contracts/email-service";
import { sqsEventSourceProblems } from "../../components/shared/event-source-rules";
import { componentArgs } from "../../config/component-args";
import { emailServiceDeployment } from "./programs";

type Statement = {
    Sid?: string;
    Effect: string;
    Action: string | string[];
    Resource?: string | string[];
    Condition?: unknown;
    Principal?: unknown;
};

function named(d: MockDeployment, type: string, name: string): MockedResource {
    const found = d.resources.filter((r) => r.type === type && r.name === name);
    expect(found, `${type} ${name}`).to.have.length(1);
    return found[0];
}
function statements(policy: unknown): Statement[] {
    return (JSON.parse(policy as string) as { Statement: Statement[] }).Statement;
}
const list = (value: string | string[] | undefined) => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

describe("EmailService component (dev stack, mocks)", function () {
    this.timeout(120_000);
    let d: MockDeployment;
    let keyArn: string;
    before(async () => {
        d = await sharedDeployment({ stack: "dev" });
        keyArn = named(d, "aws:kms/key:Key", "email").state.arn;
    });

    it("exports the email outputs", () => {
        const api = named(d, "aws:apigatewayv2/api:Api", "email-http");
        expect(d.outputs.emailApiUrl).to.equal(`${api.state.apiEndpoint}/v1/emails`);
        expect(d.outputs.emailQueueUrl)
            .to.equal(named(d, "aws:sqs/queue:Queue", "email-queue").state.url)
            .and.match(/\.fifo$/);
        expect(d.outputs.emailDeadLetterQueueUrl)
            .to.equal(named(d, "aws:sqs/queue:Queue", "email-queue-dlq").state.url)
            .and.match(/\.fifo$/);
        expect(d.outputs.emailApiInvokePolicyArn).to.equal(named(d, "aws:iam/policy:Policy", "email-invoke").state.arn);
        expect(d.outputs.emailScheduleDeadLetterQueueUrl)
            .to.equal(named(d, "aws:sqs/queue:Queue", "email-schedule-dlq").state.url)
            .and.not.match(/\.fifo$/);
    });

    it("uses its own customer-managed key, rotated, usable through SQS, DynamoDB, S3, Secrets Manager, Logs and Lambda", () => {
        const key = named(d, "aws:kms/key:Key", "email");
        expect(key.inputs.enableKeyRotation).to.equal(true);
        const via = statements(key.inputs.policy).find((s) => s.Sid === "AccountUsesKeyThroughServices")!;
        const services = (via.Condition as { StringEquals: { "kms:ViaService": string[] } }).StringEquals["kms:ViaService"];
        for (const service of ["sqs", "dynamodb", "s3", "secretsmanager", "lambda"])
            expect(services).to.include(`${service}.us-east-1.amazonaws.com`);
        expect(services).to.not.include("sns.us-east-1.amazonaws.com");
    });

    it("queue: FIFO high-throughput, CMK, content-based dedup for scheduler releases, FIFO DLQ, visibility ≥ 6x the worker timeout, TLS-only", () => {
        const queue = named(d, "aws:sqs/queue:Queue", "email-queue");
        const dlq = named(d, "aws:sqs/queue:Queue", "email-queue-dlq");
        const worker = named(d, "aws:lambda/function:Function", "email-worker");
        expect(queue.inputs).to.deep.include({
            fifoQueue: true,
            deduplicationScope: "messageGroup",
            fifoThroughputLimit: "perMessageGroupId",
            contentBasedDeduplication: true,
            kmsMasterKeyId: keyArn,
        });
        expect(dlq.inputs).to.deep.include({ fifoQueue: true, kmsMasterKeyId: keyArn });
        expect(queue.inputs.visibilityTimeoutSeconds).to.be.at.least(6 * worker.inputs.timeout);
        expect(JSON.parse(queue.inputs.redrivePolicy)).to.deep.equal({ deadLetterTargetArn: dlq.state.arn, maxReceiveCount: 5 });
        const tls = statements(named(d, "aws:sqs/queuePolicy:QueuePolicy", "email-queue-tls-only").inputs.policy)[0];
        expect(tls).to.deep.include({ Effect: "Deny", Principal: "*", Action: "sqs:*" });
    });

    it("idempotency table: pk, TTL on expiresAt, PITR, CMK, deletion protection", () => {
        const table = named(d, "aws:dynamodb/table:Table", "email-idempotency");
        expect(table.inputs.hashKey).to.equal("pk");
        expect(table.inputs.ttl).to.deep.equal({ attributeName: "expiresAt", enabled: true });
        expect(table.inputs.pointInTimeRecovery).to.deep.equal({ enabled: true });
        expect(table.inputs.serverSideEncryption).to.deep.equal({ enabled: true, kmsKeyArn: keyArn });
        expect(table.inputs.deletionProtectionEnabled).to.equal(true);
    });

    it("status table: keyed by email id, TTL on expiresAt, PITR, CMK, deletion protection; the retention reaches the API", async () => {
        const table = named(d, "aws:dynamodb/table:Table", "email-status");
        expect(table.inputs.hashKey).to.equal("emailId");
        expect(table.inputs.attributes).to.deep.equal([{ name: "emailId", type: "S" }]);
        expect(table.inputs.ttl).to.deep.equal({ attributeName: "expiresAt", enabled: true });
        expect(table.inputs.pointInTimeRecovery).to.deep.equal({ enabled: true });
        expect(table.inputs.serverSideEncryption).to.deep.equal({ enabled: true, kmsKeyArn: keyArn });
        expect(table.inputs.deletionProtectionEnabled).to.equal(true);
        const apiEnv = named(d, "aws:lambda/function:Function", "email-api").inputs.environment.variables;
        const workerEnv = named(d, "aws:lambda/function:Function", "email-worker").inputs.environment.variables;
        expect(apiEnv[EMAIL_ENV.statusTable]).to.equal(table.state.name);
        expect(workerEnv[EMAIL_ENV.statusTable]).to.equal(table.state.name);
        expect(apiEnv[EMAIL_ENV.statusRetentionSeconds]).to.equal(String(30 * 86_400));
        const shorter = await emailServiceDeployment({ stack: "dev", configOverrides: { "event-ingestion:emailStatusRetentionDays": 7 } });
        expect(
            named(shorter, "aws:lambda/function:Function", "email-api").inputs.environment.variables[EMAIL_ENV.statusRetentionSeconds],
        ).to.equal(String(7 * 86_400));
    });

    it("SES events: the configuration set publishes the seven event types to the default EventBridge bus", () => {
        const destination = named(d, "aws:sesv2/configurationSetEventDestination:ConfigurationSetEventDestination", "email-ses-events");
        expect(destination.inputs.configurationSetName).to.equal("event-ingestion-dev-email");
        const { eventDestination } = destination.inputs;
        expect(eventDestination.enabled).to.equal(true);
        expect([...eventDestination.matchingEventTypes].sort()).to.deep.equal(
            ["SEND", "DELIVERY", "BOUNCE", "COMPLAINT", "REJECT", "DELIVERY_DELAY", "RENDERING_FAILURE"].sort(),
        );
        // CloudFormation "AWS::SES::ConfigurationSetEventDestination EventBridgeDestination": only the default bus,
        // ARN pattern ^arn:aws[a-z0-9-]*:events:[a-z0-9-]+:\d{12}:event-bus/[^:]+$.
        expect(eventDestination.eventBridgeDestination.eventBusArn)
            .to.equal("arn:aws:events:us-east-1:123456789012:event-bus/default")
            .and.match(/^arn:aws[a-z0-9-]*:events:[a-z0-9-]+:\d{12}:event-bus\/[^:]+$/);
    });

    it("SES events: a rule on this configuration set's SES events invokes the status function (retries, its own DLQ, two alarms)", () => {
        const rule = named(d, "aws:cloudwatch/eventRule:EventRule", "email-status-rule");
        expect(rule.inputs.eventBusName).to.equal("default");
        const pattern = JSON.parse(rule.inputs.eventPattern);
        // EventBridge "Amazon Simple Email Service events": source aws.ses and these detail types.
        expect(pattern.source).to.deep.equal(["aws.ses"]);
        expect([...pattern["detail-type"]].sort()).to.deep.equal(
            [
                "Email Sent",
                "Email Delivered",
                "Email Bounced",
                "Email Complaint Received",
                "Email Rejected",
                "Email Delivery Delayed",
                "Email Rendering Failed",
            ].sort(),
        );
        expect(pattern.detail).to.deep.equal({ mail: { tags: { "ses:configuration-set": ["event-ingestion-dev-email"] } } });
        const fn = named(d, "aws:lambda/function:Function", "email-status");
        const target = named(d, "aws:cloudwatch/eventTarget:EventTarget", "email-status-target");
        expect(rule.state.arn).to.match(/^arn:aws:events:us-east-1:123456789012:rule\//);
        expect(target.inputs).to.deep.include({ rule: rule.state.name, arn: fn.state.arn });
        expect(target.inputs.retryPolicy).to.deep.equal({ maximumEventAgeInSeconds: 86_400, maximumRetryAttempts: 185 });
        const permission = named(d, "aws:lambda/permission:Permission", "email-status-invoke");
        expect(permission.inputs).to.deep.include({ principal: "events.amazonaws.com", sourceArn: rule.state.arn });
        const dlq = named(d, "aws:sqs/queue:Queue", "email-status-dlq");
        expect(fn.inputs.deadLetterConfig).to.deep.equal({ targetArn: dlq.state.arn });
        expect(dlq.inputs).to.deep.include({ kmsMasterKeyId: keyArn, messageRetentionSeconds: 1_209_600 });
        expect(fn.inputs.environment.variables[EMAIL_ENV.statusTable]).to.equal(
            named(d, "aws:dynamodb/table:Table", "email-status").state.name,
        );
        expect(fn.inputs.tracingConfig).to.deep.equal({ mode: "Active" });
        const grants = statements(named(d, "aws:iam/rolePolicy:RolePolicy", "email-status-policy").inputs.policy)
            .flatMap((s) => list(s.Action).map((a) => `${a} ${list(s.Resource).join("|")}`))
            .filter((g) => /^(sqs|dynamodb|s3|ses|secretsmanager):/.test(g))
            .sort();
        expect(grants).to.deep.equal(
            [
                `dynamodb:UpdateItem ${named(d, "aws:dynamodb/table:Table", "email-status").state.arn}`,
                `dynamodb:PutItem ${named(d, "aws:dynamodb/table:Table", "email-status").state.arn}`,
                `sqs:SendMessage ${dlq.state.arn}`,
            ].sort(),
        );
        const alarms = d.resources.filter((r) => r.type === "aws:cloudwatch/metricAlarm:MetricAlarm" && /^email-status-/.test(r.name));
        expect(alarms.map((a) => a.name).sort()).to.deep.equal(["email-status-dlq-messages", "email-status-errors"]);
        expect(d.outputs.emailStatusDeadLetterQueueUrl).to.equal(dlq.state.url);
        expect(d.outputs.emailStatusTableName).to.equal(named(d, "aws:dynamodb/table:Table", "email-status").state.name);
    });

    it("content bucket: SSE-KMS with the key and a bucket key, public access blocked, TLS-only, objects expire", () => {
        const bucket = named(d, "aws:s3/bucket:Bucket", "email-content");
        const sse = named(
            d,
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            "email-content-encryption",
        );
        expect(sse.inputs.bucket).to.equal(bucket.id);
        expect(sse.inputs.rules).to.deep.equal([
            { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: keyArn }, bucketKeyEnabled: true },
        ]);
        const block = named(d, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "email-content-private");
        expect(block.inputs).to.deep.include({
            blockPublicAcls: true,
            blockPublicPolicy: true,
            ignorePublicAcls: true,
            restrictPublicBuckets: true,
        });
        const lifecycle = named(d, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "email-content-expiry");
        expect(lifecycle.inputs.rules[0]).to.deep.include({ status: "Enabled", expiration: { days: 45 }, filter: { prefix: "emails/" } });
        const [tls] = statements(named(d, "aws:s3/bucketPolicy:BucketPolicy", "email-content-tls-only").inputs.policy);
        expect(tls).to.deep.include({ Effect: "Deny", Principal: "*", Action: "s3:*" });
        expect(tls.Resource).to.deep.equal([bucket.state.arn, `${bucket.state.arn}/*`]);
    });

    it("SMTP secret: encrypted with the key; no value in the program unless emailSmtp is configured", async () => {
        expect(named(d, "aws:secretsmanager/secret:Secret", "email-smtp").inputs.kmsKeyId).to.equal(keyArn);
        expect(d.resources.filter((r) => r.type === "aws:secretsmanager/secretVersion:SecretVersion")).to.have.length(0);
        const withSmtp = await emailServiceDeployment({
            stack: "dev",
            configOverrides: { "event-ingestion:emailSmtp": { host: "smtp.relay.example", port: 587, username: "apikey" } },
            secretConfig: { "event-ingestion:emailSmtpPassword": "s3cr3t-value" },
        });
        const version = named(withSmtp, "aws:secretsmanager/secretVersion:SecretVersion", "email-smtp-value");
        // Pulumi marks it secret: under mocks the input is the secret envelope around the value.
        const secretString = version.inputs.secretString;
        expect(typeof secretString).to.equal("object");
        expect(JSON.parse((secretString as { value: string }).value)).to.deep.include({
            host: "smtp.relay.example",
            port: 587,
            secure: false,
            requireTLS: true,
            password: "s3cr3t-value",
        });
        // The password reaches the secret only, never a function's environment.
        for (const fn of withSmtp.resources.filter((r) => r.type === "aws:lambda/function:Function")) {
            expect(JSON.stringify(fn.inputs.environment ?? {})).to.not.include("s3cr3t-value");
        }
        // The rest of the program (the event pipeline, the shared keys and topic) is built from the other
        // component arguments only (program.ts), and with this config none of them holds the password.
        const raw = Object.fromEntries(
            Object.entries({
                ...readStackConfig("dev"),
                "event-ingestion:emailSmtp": { host: "smtp.relay.example", port: 587, username: "apikey" },
                "event-ingestion:emailSmtpPassword": "s3cr3t-value",
            }).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
        );
        const args = componentArgs(parseStackConfig(raw, { secretKeys: ["event-ingestion:emailSmtpPassword"] }));
        expect(JSON.stringify(args.email)).to.include("s3cr3t-value");
        expect(JSON.stringify({ ...args, email: undefined })).to.not.include("s3cr3t-value");
    });

    for (const [name, timeout, memory] of [
        ["email-api", 10, 256],
        ["email-worker", 60, 256],
    ] as const) {
        it(`${name}: nodejs22.x on arm64, explicit timeout/memory, X-Ray, CMK-encrypted env, own log group with retention, explicit role`, () => {
            const fn = named(d, "aws:lambda/function:Function", name);
            expect(fn.inputs).to.deep.include({
                runtime: "nodejs22.x",
                architectures: ["arm64"],
                timeout,
                memorySize: memory,
                kmsKeyArn: keyArn,
            });
            expect(fn.inputs.tracingConfig).to.deep.equal({ mode: "Active" });
            const logs = named(d, "aws:cloudwatch/logGroup:LogGroup", `${name}-logs`);
            expect(logs.inputs).to.deep.include({ kmsKeyId: keyArn, retentionInDays: 30 });
            expect(fn.inputs.loggingConfig).to.deep.include({ logFormat: "JSON", logGroup: logs.state.name });
            expect(fn.inputs.role).to.equal(named(d, "aws:iam/role:Role", `${name}-role`).state.arn);
            expect(fn.inputs.layers[0]).to.match(/:layer:AWSLambdaPowertoolsTypeScriptV2:\d+$/);
        });
    }

    it("wires the handlers' environment (names from handlers/email/environment.ts)", () => {
        const api = named(d, "aws:lambda/function:Function", "email-api").inputs.environment.variables;
        expect(api[EMAIL_ENV.queueUrl]).to.equal(d.outputs.emailQueueUrl);
        expect(api[EMAIL_ENV.idempotencyTable]).to.equal(named(d, "aws:dynamodb/table:Table", "email-idempotency").state.name);
        expect(api[EMAIL_ENV.largeBodyThresholdBytes]).to.equal("262144");
        const worker = named(d, "aws:lambda/function:Function", "email-worker").inputs.environment.variables;
        expect(worker[EMAIL_ENV.deadLetterQueueUrl]).to.equal(d.outputs.emailDeadLetterQueueUrl);
        expect(worker[EMAIL_ENV.smtpSecretArn]).to.equal(named(d, "aws:secretsmanager/secret:Secret", "email-smtp").state.arn);
        expect(worker[EMAIL_ENV.schedulerRoleArn]).to.equal(named(d, "aws:iam/role:Role", "email-scheduler-role").state.arn);
        expect(Object.keys(worker).join(",")).to.not.match(/PASSWORD|SECRET_VALUE|LOG_EVENT/i);
    });

    it("worker reads the FIFO queue through an event source mapping with ReportBatchItemFailures", () => {
        const esm = named(d, "aws:lambda/eventSourceMapping:EventSourceMapping", "email-worker-queue");
        expect(esm.inputs).to.deep.include({
            eventSourceArn: named(d, "aws:sqs/queue:Queue", "email-queue").state.arn,
            batchSize: 10,
            functionResponseTypes: ["ReportBatchItemFailures"],
        });
        expect(esm.inputs.functionName).to.equal(named(d, "aws:lambda/function:Function", "email-worker").state.arn);
        // A FIFO source: at most 10 per batch and no batching window (see event-source-rules.ts).
        expect(named(d, "aws:sqs/queue:Queue", "email-queue").inputs.fifoQueue).to.equal(true);
        expect(
            sqsEventSourceProblems({
                batchSize: esm.inputs.batchSize,
                maximumBatchingWindowInSeconds: esm.inputs.maximumBatchingWindowInSeconds,
                maximumConcurrency: esm.inputs.scalingConfig?.maximumConcurrency,
                fifo: true,
            }),
        ).to.deep.equal([]);
    });

    it("least privilege: exact actions on exact resources; only X-Ray on *", () => {
        const queue = named(d, "aws:sqs/queue:Queue", "email-queue").state.arn;
        const dlq = named(d, "aws:sqs/queue:Queue", "email-queue-dlq").state.arn;
        const table = named(d, "aws:dynamodb/table:Table", "email-idempotency").state.arn;
        const statusTable = named(d, "aws:dynamodb/table:Table", "email-status").state.arn;
        const bucket = named(d, "aws:s3/bucket:Bucket", "email-content").state.arn;
        const secret = named(d, "aws:secretsmanager/secret:Secret", "email-smtp").state.arn;
        const api = statements(named(d, "aws:iam/rolePolicy:RolePolicy", "email-api-policy").inputs.policy);
        const worker = statements(named(d, "aws:iam/rolePolicy:RolePolicy", "email-worker-policy").inputs.policy);
        const grants = (doc: Statement[]) => doc.flatMap((s) => list(s.Action).map((a) => `${a} ${list(s.Resource).join("|")}`)).sort();
        expect(grants(api)).to.include.members([
            `sqs:SendMessage ${queue}`,
            `dynamodb:PutItem ${table}`,
            `dynamodb:GetItem ${table}`,
            `dynamodb:UpdateItem ${table}`,
            `s3:PutObject ${bucket}/emails/*`,
            // Statuses: created and moved forward with conditional updates, read by id; never scanned or deleted.
            `dynamodb:GetItem ${statusTable}`,
            `dynamodb:UpdateItem ${statusTable}`,
        ]);
        // A cancel deletes the email's schedule, in the service's group only; deleting passes no role (no iam:PassRole).
        expect(api.find((s) => s.Sid === "DeleteCancelledSchedules")).to.deep.include({ Action: "scheduler:DeleteSchedule" });
        expect(api.find((s) => s.Sid === "DeleteCancelledSchedules")!.Resource).to.match(
            /:scheduler:us-east-1:123456789012:schedule\/event-ingestion-dev-email-schedules\/email-\*$/,
        );
        expect(grants(api).some((g) => g.startsWith("iam:"))).to.equal(false);
        expect(grants(api).filter((g) => /^(sqs|s3|dynamodb|secretsmanager|ses|scheduler):/.test(g))).to.have.length(8);
        expect(grants(worker)).to.include.members([
            `sqs:ReceiveMessage ${queue}`,
            `sqs:DeleteMessage ${queue}`,
            `sqs:SendMessage ${dlq}`,
            `dynamodb:GetItem ${table}`,
            `dynamodb:PutItem ${table}`,
            `s3:GetObject ${bucket}/emails/*`,
            `secretsmanager:GetSecretValue ${secret}`,
            `dynamodb:UpdateItem ${statusTable}`,
            // The suppression check before each send.
            `dynamodb:BatchGetItem ${statusTable}`,
            // Scoped to the dev stack's declared identity and the stack's configuration set.
            "ses:SendEmail arn:aws:ses:us-east-1:123456789012:identity/example.com|arn:aws:ses:us-east-1:123456789012:configuration-set/event-ingestion-dev-email",
        ]);
        expect(worker.find((s) => s.Sid === "ScheduleFutureEmails")!.Resource).to.match(
            /:scheduler:us-east-1:123456789012:schedule\/event-ingestion-dev-email-schedules\/email-\*$/,
        );
        expect(worker.find((s) => s.Sid === "PassSchedulerRole")!.Condition).to.deep.equal({
            StringEquals: { "iam:PassedToService": "scheduler.amazonaws.com" },
        });
        for (const s of [...api, ...worker]) {
            expect(
                list(s.Action).some((a) => a === "*" || a.endsWith(":*")),
                JSON.stringify(s),
            ).to.equal(false);
            if (list(s.Resource).includes("*"))
                expect(
                    list(s.Action).every((a) => a.startsWith("xray:")),
                    JSON.stringify(s),
                ).to.equal(true);
        }
        const scheduler = named(d, "aws:iam/role:Role", "email-scheduler-role");
        const trust = statements(scheduler.inputs.assumeRolePolicy)[0];
        expect(trust.Principal).to.deep.equal({ Service: "scheduler.amazonaws.com" });
        const schedulerGrants = grants(statements(named(d, "aws:iam/rolePolicy:RolePolicy", "email-scheduler-policy").inputs.policy));
        const scheduleDlq = named(d, "aws:sqs/queue:Queue", "email-schedule-dlq").state.arn;
        // The execution role also delivers the dead-letter event ("Configuring a dead-letter queue for EventBridge Scheduler").
        expect(schedulerGrants).to.include.members([
            `sqs:SendMessage ${queue}`,
            `sqs:SendMessage ${scheduleDlq}`,
            `kms:GenerateDataKey ${keyArn}`,
        ]);
    });

    it("schedules: a standard, CMK-encrypted, TLS-only dead-letter queue with 14-day retention, named to the worker", () => {
        const dlq = named(d, "aws:sqs/queue:Queue", "email-schedule-dlq");
        // EventBridge Scheduler does not accept a FIFO queue as a schedule's DLQ.
        expect(dlq.inputs.fifoQueue).to.not.equal(true);
        expect(dlq.inputs).to.deep.include({ kmsMasterKeyId: keyArn, messageRetentionSeconds: 1_209_600 });
        expect(dlq.inputs.tags).to.deep.include({ "event-ingestion:queue-role": "dead-letter" });
        const policy = statements(named(d, "aws:sqs/queuePolicy:QueuePolicy", "email-schedule-dlq-tls-only").inputs.policy);
        expect(policy.some((s) => s.Effect === "Deny" && JSON.stringify(s.Condition).includes("aws:SecureTransport"))).to.equal(true);
        const worker = named(d, "aws:lambda/function:Function", "email-worker").inputs.environment.variables;
        expect(worker[EMAIL_ENV.scheduleDeadLetterQueueArn]).to.equal(dlq.state.arn);
    });

    it("SES: each declared identity and the configuration set are resources; domains sign with Easy DKIM; TLS required", () => {
        const identity = named(d, "aws:sesv2/emailIdentity:EmailIdentity", "email-ses-example.com");
        const set = named(d, "aws:sesv2/configurationSet:ConfigurationSet", "email-ses");
        expect(identity.inputs).to.deep.include({ emailIdentity: "example.com", configurationSetName: "event-ingestion-dev-email" });
        expect(identity.inputs.dkimSigningAttributes).to.deep.equal({ nextSigningKeyLength: "RSA_2048_BIT" });
        expect(set.inputs).to.deep.include({
            configurationSetName: "event-ingestion-dev-email",
            deliveryOptions: { tlsPolicy: "REQUIRE" },
        });
        const api = named(d, "aws:lambda/function:Function", "email-api").inputs.environment.variables;
        expect(JSON.parse(api[EMAIL_ENV.sendingIdentities])).to.deep.equal(["example.com"]);
        expect(api[EMAIL_ENV.allowedSenders]).to.equal(undefined);
        const worker = named(d, "aws:lambda/function:Function", "email-worker").inputs.environment.variables;
        expect(worker[EMAIL_ENV.sesConfigurationSet]).to.equal("event-ingestion-dev-email");
        expect(d.outputs.emailSesDkimRecords).to.deep.equal([]); // tokens are known after deployment only
    });

    it("SES permissions narrow to configured identities and configuration set", async () => {
        const scoped = await emailServiceDeployment({
            stack: "dev",
            configOverrides: {
                "event-ingestion:emailSesIdentities": ["mail.example.com"],
                "event-ingestion:emailSesConfigurationSet": "transactional",
            },
        });
        const worker = statements(named(scoped, "aws:iam/rolePolicy:RolePolicy", "email-worker-policy").inputs.policy);
        expect(worker.find((s) => s.Sid === "SendThroughSes")!.Resource).to.deep.equal([
            "arn:aws:ses:us-east-1:123456789012:identity/mail.example.com",
            "arn:aws:ses:us-east-1:123456789012:configuration-set/transactional",
        ]);
        expect(named(scoped, "aws:sesv2/configurationSet:ConfigurationSet", "email-ses").inputs.configurationSetName).to.equal(
            "transactional",
        );
        expect(
            named(scoped, "aws:lambda/function:Function", "email-worker").inputs.environment.variables[EMAIL_ENV.sesConfigurationSet],
        ).to.equal("transactional");
    });

    it("HTTP API: explicit routes POST /v1/emails, GET and DELETE /v1/emails/{id}, all AWS_IAM, a throttled and access-logged stage, a Lambda permission per route", () => {
        const api = named(d, "aws:apigatewayv2/api:Api", "email-http");
        expect(api.inputs.protocolType).to.equal("HTTP");
        expect(api.inputs.target).to.equal(undefined);
        const route = named(d, "aws:apigatewayv2/route:Route", "email-http-send");
        expect(route.inputs).to.deep.include({ routeKey: "POST /v1/emails", authorizationType: "AWS_IAM" });
        const statusRoute = named(d, "aws:apigatewayv2/route:Route", "email-http-status");
        expect(statusRoute.inputs).to.deep.include({ routeKey: "GET /v1/emails/{id}", authorizationType: "AWS_IAM" });
        expect(statusRoute.inputs.target).to.equal(route.inputs.target);
        const cancelRoute = named(d, "aws:apigatewayv2/route:Route", "email-http-cancel");
        expect(cancelRoute.inputs).to.deep.include({ routeKey: "DELETE /v1/emails/{id}", authorizationType: "AWS_IAM" });
        expect(cancelRoute.inputs.target).to.equal(route.inputs.target);
        expect(d.resources.filter((r) => r.type === "aws:apigatewayv2/route:Route")).to.have.length(3);
        const stage = named(d, "aws:apigatewayv2/stage:Stage", "email-http-stage");
        expect(stage.inputs.defaultRouteSettings).to.deep.include({ throttlingBurstLimit: 100, throttlingRateLimit: 50 });
        const access = named(d, "aws:cloudwatch/logGroup:LogGroup", "email-http-access-logs");
        expect(access.inputs.kmsKeyId).to.equal(keyArn);
        expect(stage.inputs.accessLogSettings.destinationArn).to.equal(access.state.arn);
        const format = JSON.parse(stage.inputs.accessLogSettings.format) as Record<string, string>;
        expect(format.requestId).to.equal("$context.requestId");
        expect(Object.values(format).join(" ")).to.not.match(/body|sourceIp|header/i);
        const permission = named(d, "aws:lambda/permission:Permission", "email-http-invoke");
        expect(permission.inputs.sourceArn).to.equal(`${api.state.executionArn}/*/POST/v1/emails`);
        const statusPermission = named(d, "aws:lambda/permission:Permission", "email-http-invoke-status");
        expect(statusPermission.inputs.sourceArn).to.equal(`${api.state.executionArn}/*/GET/v1/emails/*`);
        const cancelPermission = named(d, "aws:lambda/permission:Permission", "email-http-invoke-cancel");
        expect(cancelPermission.inputs.sourceArn).to.equal(`${api.state.executionArn}/*/DELETE/v1/emails/*`);
        const invoke = statements(named(d, "aws:iam/policy:Policy", "email-invoke").inputs.policy);
        expect(invoke).to.deep.equal([
            {
                Sid: "SendEmails",
                Effect: "Allow",
                Action: "execute-api:Invoke",
                Resource: `${api.state.executionArn}/$default/POST/v1/emails`,
            },
            {
                Sid: "FollowEmails",
                Effect: "Allow",
                Action: "execute-api:Invoke",
                Resource: [`${api.state.executionArn}/$default/GET/v1/emails/*`, `${api.state.executionArn}/$default/DELETE/v1/emails/*`],
            },
        ]);
    });

    it("status changes: the status table's stream feeds the notify function, which publishes to an encrypted custom bus (DLQ, alarms, outputs)", () => {
        const table = named(d, "aws:dynamodb/table:Table", "email-status");
        expect(table.inputs).to.deep.include({ streamEnabled: true, streamViewType: "NEW_AND_OLD_IMAGES" });
        const bus = named(d, "aws:cloudwatch/eventBus:EventBus", "email-status-bus");
        const emailKey = named(d, "aws:kms/key:Key", "email").state.arn;
        expect(bus.inputs).to.deep.include({ name: "event-ingestion-dev-email-status", kmsKeyIdentifier: emailKey });
        expect(d.outputs.emailStatusEventBusArn).to.equal(bus.state.arn);
        const fn = named(d, "aws:lambda/function:Function", "email-status-notify");
        expect(fn.inputs.environment.variables).to.deep.include({ EMAIL_STATUS_EVENT_BUS_NAME: "event-ingestion-dev-email-status" });
        const dlq = named(d, "aws:sqs/queue:Queue", "email-notify-dlq");
        expect(dlq.inputs.kmsMasterKeyId).to.equal(emailKey);
        expect(d.outputs.emailStatusNotifyDeadLetterQueueUrl).to.equal(dlq.state.url);
        const mapping = named(d, "aws:lambda/eventSourceMapping:EventSourceMapping", "email-status-stream");
        expect(mapping.inputs).to.deep.include({
            eventSourceArn: table.state.streamArn,
            functionName: fn.state.arn,
            startingPosition: "TRIM_HORIZON",
            bisectBatchOnFunctionError: true,
            maximumRetryAttempts: -1,
            maximumRecordAgeInSeconds: 21_600,
        });
        expect(mapping.inputs.functionResponseTypes).to.deep.equal(["ReportBatchItemFailures"]);
        expect(mapping.inputs.destinationConfig).to.deep.equal({ onFailure: { destinationArn: dlq.state.arn } });
        expect(JSON.parse(mapping.inputs.filterCriteria.filters[0].pattern)).to.deep.equal({
            eventName: ["INSERT", "MODIFY"],
            dynamodb: { NewImage: { owner: { S: [{ exists: true }] } } },
        });
        // The email key lets EventBridge use it for this bus only (its ARN is in the policy before the bus exists).
        const keyPolicy = JSON.parse(named(d, "aws:kms/key:Key", "email").inputs.policy);
        const eventBridge = keyPolicy.Statement.find((st: { Sid: string }) => st.Sid === "EventBridgeEncryptsTheseBuses");
        expect(eventBridge.Condition.StringEquals["kms:EncryptionContext:aws:events:event-bus:arn"]).to.deep.equal([bus.state.arn]);
    });

    it("throttling and authorization follow config", async () => {
        const custom = await emailServiceDeployment({
            stack: "dev",
            configOverrides: {
                "event-ingestion:emailThrottleRateLimit": 5,
                "event-ingestion:emailThrottleBurstLimit": 10,
                "event-ingestion:emailApiAuthorization": "NONE",
            },
        });
        expect(named(custom, "aws:apigatewayv2/stage:Stage", "email-http-stage").inputs.defaultRouteSettings).to.deep.include({
            throttlingBurstLimit: 10,
            throttlingRateLimit: 5,
        });
        expect(named(custom, "aws:apigatewayv2/route:Route", "email-http-send").inputs.authorizationType).to.equal("NONE");
    });

    it("alarms on the shared alarm topic: API 5xx, API and worker errors, DLQ messages, oldest message age", () => {
        const topic = named(d, "aws:sns/topic:Topic", "alarms").state.arn;
        const alarms = d.resources.filter((r) => r.type === "aws:cloudwatch/metricAlarm:MetricAlarm" && r.name.startsWith("email-"));
        const byName = Object.fromEntries(alarms.map((a) => [a.name, a.inputs]));
        expect(Object.keys(byName).sort()).to.deep.equal([
            "email-api-5xx",
            "email-api-errors",
            "email-dlq-messages",
            "email-failover",
            "email-notify-dlq-messages",
            "email-notify-errors",
            "email-notify-iterator-age",
            "email-oldest-message-age",
            "email-schedule-dead-letter-failed",
            "email-schedule-dlq-messages",
            "email-schedule-target-errors",
            "email-status-dlq-messages",
            "email-status-errors",
            "email-worker-errors",
        ]);
        for (const alarm of alarms) {
            expect(alarm.inputs.alarmActions).to.deep.equal([topic]);
            expect(alarm.inputs.name).to.match(/^event-ingestion-dev\/email-/);
        }
        expect(byName["email-api-5xx"]).to.deep.include({ namespace: "AWS/ApiGateway", metricName: "5xx" });
        expect(byName["email-api-5xx"].dimensions.ApiId).to.equal(named(d, "aws:apigatewayv2/api:Api", "email-http").id);
        expect(byName["email-worker-errors"].dimensions).to.deep.equal({
            FunctionName: named(d, "aws:lambda/function:Function", "email-worker").state.name,
        });
        expect(byName["email-dlq-messages"]).to.deep.include({
            metricName: "ApproximateNumberOfMessagesVisible",
            threshold: 0,
            comparisonOperator: "GreaterThanThreshold",
        });
        expect(byName["email-dlq-messages"].dimensions).to.deep.equal({
            QueueName: named(d, "aws:sqs/queue:Queue", "email-queue-dlq").state.name,
        });
        expect(byName["email-oldest-message-age"]).to.deep.include({ metricName: "ApproximateAgeOfOldestMessage", threshold: 300 });
        expect(byName["email-schedule-dlq-messages"]).to.deep.include({
            metricName: "ApproximateNumberOfMessagesVisible",
            threshold: 0,
            comparisonOperator: "GreaterThanThreshold",
        });
        expect(byName["email-schedule-dlq-messages"].dimensions).to.deep.equal({
            QueueName: named(d, "aws:sqs/queue:Queue", "email-schedule-dlq").state.name,
        });
        // AWS/Scheduler metrics and their ScheduleGroup dimension: "Monitoring Amazon EventBridge Scheduler with Amazon CloudWatch".
        const group = named(d, "aws:scheduler/scheduleGroup:ScheduleGroup", "email-schedules").inputs.name;
        for (const [alarm, metricName] of [
            ["email-schedule-target-errors", "TargetErrorCount"],
            ["email-schedule-dead-letter-failed", "InvocationsFailedToBeSentToDeadLetterCount"],
        ]) {
            expect(byName[alarm]).to.deep.include({
                namespace: "AWS/Scheduler",
                metricName,
                statistic: "Sum",
                threshold: 1,
                comparisonOperator: "GreaterThanOrEqualToThreshold",
            });
            expect(byName[alarm].dimensions).to.deep.equal({ ScheduleGroup: group });
        }
        // The worker's EMF metric (Powertools: namespace = POWERTOOLS_METRICS_NAMESPACE, dimension service).
        const worker = named(d, "aws:lambda/function:Function", "email-worker").inputs.environment.variables;
        expect(byName["email-failover"]).to.deep.include({
            namespace: worker.POWERTOOLS_METRICS_NAMESPACE,
            metricName: "EmailsSentBySecondary",
        });
        expect(byName["email-failover"].dimensions).to.deep.equal({ service: worker.POWERTOOLS_SERVICE_NAME });
    });

    it("config: emailSenders maps caller principals to senders covered by emailSesIdentities; every problem named on its key", () => {
        const raw = Object.fromEntries(
            Object.entries(readStackConfig("dev")).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
        );
        const senders = (value: unknown) => ({ ...raw, "event-ingestion:emailSenders": JSON.stringify(value) });
        const ok = parseStackConfig(senders({ "arn:aws:iam::111111111111:role/TenantA": ["example.com", "shop@example.com"] }));
        expect(ok.emailService.emailSenders).to.deep.equal({
            "arn:aws:iam::111111111111:role/TenantA": ["example.com", "shop@example.com"],
        });
        const problems = (value: unknown) => {
            try {
                parseStackConfig(senders(value));
                return "";
            } catch (e) {
                return (e as Error).message;
            }
        };
        expect(problems({ "tenant-a": ["example.com"] }))
            .to.include("event-ingestion:emailSenders")
            .and.include("caller principals");
        expect(problems({ "arn:aws:iam::111111111111:role/TenantA": [] })).to.include("event-ingestion:emailSenders");
        expect(problems({ "arn:aws:iam::111111111111:role/TenantA": ["ceo@example.org"] }))
            .to.include("event-ingestion:emailSenders")
            .and.include("covered by emailSesIdentities");
    });

    it("config: every bad email setting is reported at once, on the key to change", () => {
        const raw = {
            ...Object.fromEntries(
                Object.entries(readStackConfig("dev")).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
            ),
            "event-ingestion:emailMaxRecipients": "500",
            "event-ingestion:emailApiAuthorization": '"OPEN"',
            "event-ingestion:emailMaxScheduleAheadDays": "60",
            "event-ingestion:emailSesIdentities": '["not an identity"]',
            "event-ingestion:emailSmtp": '{"port": 25}',
        };
        let error: unknown;
        try {
            parseStackConfig(raw);
        } catch (e) {
            error = e;
        }
        expect(error).to.be.instanceOf(ConfigValidationError);
        const message = (error as Error).message;
        for (const key of ["emailMaxRecipients", "emailApiAuthorization", "emailSesIdentities", "emailSmtp"])
            expect(message).to.include(`event-ingestion:${key}`);
        // 60 days ahead with the default 45-day content retention: the cross-field rule names the retention key.
        const crossField = (() => {
            try {
                parseStackConfig({
                    ...raw,
                    "event-ingestion:emailMaxRecipients": "50",
                    "event-ingestion:emailApiAuthorization": '"AWS_IAM"',
                    "event-ingestion:emailSesIdentities": '["example.com"]',
                    "event-ingestion:emailSmtp": '{"host":"smtp.example.com"}',
                });
                return "";
            } catch (e) {
                return (e as Error).message;
            }
        })();
        expect(crossField).to.include("event-ingestion:emailContentRetentionDays");
        const ok = parseStackConfig({
            ...raw,
            "event-ingestion:emailMaxRecipients": "50",
            "event-ingestion:emailApiAuthorization": '"AWS_IAM"',
            "event-ingestion:emailMaxScheduleAheadDays": "30",
            "event-ingestion:emailSesIdentities": '["example.com"]',
            "event-ingestion:emailSmtp": '{"host":"smtp.example.com"}',
        });
        expect(ok.emailService.emailSmtp).to.deep.equal({ host: "smtp.example.com", port: 587, secure: false, requireTLS: true });
        expect(ok.emailService.emailMaxRecipients).to.equal(50);
    });
});
