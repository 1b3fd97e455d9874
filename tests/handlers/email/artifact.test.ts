/**
 * The code that ships: the API and worker archives taken from the mock deployment
 * (local/offline/lambda-artifact.ts), unpacked with only the runtime's SDK and the
 * Powertools layer beside them, run in fresh Node 22 processes against fauxqs,
 * DynamoDB Local, a fake SES, a fake Secrets Manager holding the SMTP settings, a
 * fake EventBridge Scheduler and an SMTP sink.
 */
import { expect } from "chai";
import * as sqs from "@aws-sdk/client-sqs";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
    invokeArtifact,
    LAYER_NODE_MODULES,
    prepareArtifact,
    shippedPackages,
    type ArtifactInvocation,
} from "../../../local/offline/lambda-artifact";
import { sharedDeployment, type MockDeployment } from "../../../local/offline/mock-deployment";
import { LOCAL_CREDENTIALS } from "../../../local/offline/emulators";
import { FakeSes, startFakeSes } from "../../../local/aws-stand-ins/email/fake-ses";
import { MailSink, startMailSink } from "../../../local/aws-stand-ins/email/mail-sink";
import { EMAIL_ENV } from "../../../contracts/email-service";
import type { QueuedEmail } from "../../../handlers/email/types";
import type { SQSEvent } from "aws-lambda";
import { drain, EmailStack, receiveAsEvent, REGION, startEmailStack } from "../../support/email/aws";
import { FakeAwsService, startFakeScheduler, startFakeSecretsManager } from "../../../local/aws-stand-ins/email/fake-aws";
import { linesContaining } from "../../support/email/logs";
import { startXRayDaemon, tracedInvocationEnvironment } from "../../../local/offline/xray-daemon";
import { emailBody, PII, PII_NEEDLES } from "../../support/email/pii";
import { sesEventBridgeEvent, sesEventRecord } from "../../../local/aws-stand-ins/email/ses-event-records";

type Artifact = Awaited<ReturnType<typeof prepareArtifact>>;
type ApiResult = { statusCode: number; body: string; headers: Record<string, string> };

describe("email Lambda artifacts on Node 22 (API and worker)", function () {
    this.timeout(180_000);
    let deployment: MockDeployment;
    let api: Artifact;
    let worker: Artifact;
    let status: Artifact;
    let stack: EmailStack;
    let ses: FakeSes;
    let sink: MailSink;
    let secrets: FakeAwsService;
    let scheduler: FakeAwsService;
    const outputs: string[] = [];

    function apiEvent(body: unknown, headers: Record<string, string> = { "content-type": "application/json" }) {
        return {
            version: "2.0",
            routeKey: "POST /v1/emails",
            rawPath: "/v1/emails",
            rawQueryString: "",
            headers,
            requestContext: {
                http: { method: "POST", path: "/v1/emails" },
                requestId: "artifact-test",
                authorizer: { iam: { userArn: "arn:aws:sts::123456789012:assumed-role/Shop/session" } },
            },
            body: typeof body === "string" ? body : JSON.stringify(body),
            isBase64Encoded: false,
        };
    }
    function common(): Record<string, string> {
        return {
            AWS_REGION: REGION,
            AWS_DEFAULT_REGION: REGION,
            AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
            AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
            AWS_ENDPOINT_URL_SQS: stack.fauxqs.endpoint,
            AWS_ENDPOINT_URL_S3: stack.fauxqs.endpoint,
            AWS_ENDPOINT_URL_DYNAMODB: stack.dynamo.endpoint,
            AWS_ENDPOINT_URL_SESV2: ses.endpoint,
            AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
            AWS_ENDPOINT_URL_SCHEDULER: scheduler.endpoint,
            AWS_MAX_ATTEMPTS: "1",
        };
    }
    /** `traced`: the environment of a sampled invocation with active tracing, segments to this daemon address. */
    async function runApi(event: unknown, traced?: string): Promise<ApiResult> {
        const run = await invokeArtifact<ApiResult>({
            ...api,
            environment: {
                ...api.environment,
                ...common(),
                [EMAIL_ENV.queueUrl]: stack.queueUrl,
                [EMAIL_ENV.idempotencyTable]: stack.tableName,
                [EMAIL_ENV.statusTable]: stack.statusTableName,
                [EMAIL_ENV.contentBucket]: stack.bucket,
                ...(traced ? tracedInvocationEnvironment(traced) : {}),
            },
            event,
            functionName: "email-api",
            drainMs: traced ? 200 : 0,
        });
        outputs.push(run.stdout, run.stderr);
        expect(run.error, run.stderr).to.equal(undefined);
        return run.result!;
    }
    async function runWorker(
        event: unknown,
        traced?: string,
    ): Promise<ArtifactInvocation<{ batchItemFailures: { itemIdentifier: string }[] }>> {
        const run = await invokeArtifact<{ batchItemFailures: { itemIdentifier: string }[] }>({
            ...worker,
            environment: {
                ...worker.environment,
                ...common(),
                [EMAIL_ENV.deadLetterQueueUrl]: stack.deadLetterQueueUrl,
                [EMAIL_ENV.idempotencyTable]: stack.tableName,
                [EMAIL_ENV.statusTable]: stack.statusTableName,
                [EMAIL_ENV.contentBucket]: stack.bucket,
                ...(traced ? tracedInvocationEnvironment(traced) : {}),
            },
            event,
            functionName: "email-worker",
            drainMs: traced ? 200 : 0,
        });
        outputs.push(run.stdout, run.stderr);
        // What the event source mapping does next: delete every record not reported as failed.
        const failed = new Set((run.result?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
        for (const record of (event as SQSEvent).Records) {
            if (!run.error && !failed.has(record.messageId)) {
                await stack.sqs.send(new sqs.DeleteMessageCommand({ QueueUrl: stack.queueUrl, ReceiptHandle: record.receiptHandle }));
            }
        }
        return run;
    }

    /** Receives until the batch holds `count` records (fauxqs can be slow on a loaded machine). */
    async function receiveRecords(count = 1) {
        for (let attempt = 0; attempt < 10; attempt++) {
            const event = await receiveAsEvent(stack.sqs, stack.queueUrl, stack.queueArn, 10, 2);
            if (event.Records.length >= count) return event;
            for (const r of event.Records)
                await stack.sqs.send(
                    new sqs.ChangeMessageVisibilityCommand({
                        QueueUrl: stack.queueUrl,
                        ReceiptHandle: r.receiptHandle,
                        VisibilityTimeout: 0,
                    }),
                );
        }
        throw new Error(`the queue did not return ${count} record(s)`);
    }

    before(async () => {
        deployment = await sharedDeployment({ stack: "dev" });
        [api, worker, status] = await Promise.all([
            prepareArtifact(deployment, "email-api"),
            prepareArtifact(deployment, "email-worker"),
            prepareArtifact(deployment, "email-status"),
        ]);
        [stack, ses, sink, scheduler] = await Promise.all([startEmailStack(), startFakeSes(), startMailSink(), startFakeScheduler()]);
        const smtpSecretArn = worker.environment[EMAIL_ENV.smtpSecretArn];
        secrets = await startFakeSecretsManager(
            new Map([[smtpSecretArn, JSON.stringify({ host: "127.0.0.1", port: sink.smtpPort, secure: false, requireTLS: false })]]),
        );
    });
    after(async () => {
        api?.cleanup();
        worker?.cleanup();
        status?.cleanup();
        await Promise.all([stack?.stop(), ses?.stop(), sink?.stop(), secrets?.stop(), scheduler?.stop()]);
    });

    it("ships only what the runtime and the layer do not provide", () => {
        expect(shippedPackages(api.entries)).to.deep.equal(["valibot"]);
        // nodemailer (SMTP failover only) comes from the stack's SMTP layer, unpacked where Lambda puts layers (/opt/nodejs/node_modules).
        expect(shippedPackages(worker.entries)).to.deep.equal(["opossum", "valibot"]);
        expect(fs.existsSync(path.join(worker.layerDir, LAYER_NODE_MODULES, "nodemailer", "package.json"))).to.equal(true);
        // Libraries are required, not inlined by closure serialization.
        const index = api.entries.get("__index.js") as { kind: "text"; text: string };
        expect(index.text)
            .to.include('require("valibot")')
            .and.match(/require\("@aws-sdk\/client-sqs(\/[^"]*)?"\)/);
        expect(index.text).to.not.include("nodemailer");
    });

    it("worker: its init loads the SQS, SES and DynamoDB clients only; S3, Scheduler and Secrets Manager load when a rare path needs them", async () => {
        // A preload that reports, at exit, which AWS SDK clients the process loaded.
        const probe = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "sdk-probe-")), "probe.cjs");
        fs.writeFileSync(
            probe,
            `process.on("exit", () => process.stderr.write("SDK_CLIENTS " + JSON.stringify([...new Set(Object.keys(require.cache).map((f) => (f.match(/@aws-sdk[\\\\/](client-[a-z0-9-]+)/) || [])[1]).filter(Boolean))].sort()) + "\\n"));`,
        );
        try {
            const init = await invokeArtifact({
                ...worker,
                environment: {
                    ...worker.environment,
                    ...common(),
                    [EMAIL_ENV.deadLetterQueueUrl]: stack.deadLetterQueueUrl,
                    [EMAIL_ENV.idempotencyTable]: stack.tableName,
                    [EMAIL_ENV.contentBucket]: stack.bucket,
                    NODE_OPTIONS: `--require ${probe}`,
                },
                functionName: "email-worker",
            });
            expect(init.error, init.stderr).to.equal(undefined);
            const loaded = JSON.parse(/SDK_CLIENTS (.*)/.exec(init.stderr)?.[1] ?? "null") as string[] | null;
            expect(loaded, init.stderr).to.deep.equal(["client-dynamodb", "client-sesv2", "client-sqs"]);
        } finally {
            fs.rmSync(path.dirname(probe), { recursive: true, force: true });
        }
    });

    it("fails at load with one error naming every missing variable", async () => {
        const run = await invokeArtifact({ ...api, environment: { ...common() }, event: apiEvent(emailBody()), functionName: "email-api" });
        expect(run.error?.name).to.equal("EnvironmentError");
        for (const name of [EMAIL_ENV.queueUrl, EMAIL_ENV.idempotencyTable, EMAIL_ENV.contentBucket, EMAIL_ENV.statusTable])
            expect(run.error?.message).to.include(name);
    });

    it("API: 202 with an id and the message on the FIFO queue; 400 and 415 answered by the shipped code", async () => {
        const accepted = await runApi(apiEvent(emailBody()));
        expect(accepted.statusCode).to.equal(202);
        const { id } = JSON.parse(accepted.body) as { id: string };
        const bad = await runApi(apiEvent({ from: "nope", to: [] }));
        expect(bad.statusCode).to.equal(400);
        expect((JSON.parse(bad.body) as { errors: { field: string }[] }).errors.map((e) => e.field)).to.include.members([
            "from",
            "to",
            "subject",
            "text",
        ]);
        expect((await runApi(apiEvent("x", { "content-type": "text/plain" }))).statusCode).to.equal(415);
        const [message] = await drain(stack.sqs, stack.queueUrl);
        expect((JSON.parse(message.Body!) as QueuedEmail).id).to.equal(id);
    });

    it("API: the same Idempotency-Key across cold starts gives the same id and one message", async () => {
        const headers = { "content-type": "application/json", "idempotency-key": "artifact-key-1" };
        const first = await runApi(apiEvent(emailBody(), headers));
        const second = await runApi(apiEvent(emailBody(), headers));
        expect(JSON.parse(second.body)).to.deep.equal(JSON.parse(first.body));
        expect(second.headers["idempotent-replayed"]).to.equal("true");
        expect(await drain(stack.sqs, stack.queueUrl)).to.have.length(1);
    });

    it("worker: sends through SES; with SES down, fails over to SMTP configured by the Secrets Manager secret", async () => {
        await runApi(apiEvent(emailBody()));
        let event = await receiveRecords();
        let run = await runWorker(event);
        expect(run.error, run.stderr).to.equal(undefined);
        expect(run.result).to.deep.equal({ batchItemFailures: [] });
        expect(ses.requests.map((r) => r.Destination?.ToAddresses)).to.deep.equal([[PII.to]]);
        // The shipped API answers GET /v1/emails/{id} with what the shipped worker recorded.
        const sentId = (JSON.parse(event.Records[0].body) as QueuedEmail).id;
        const status = await runApi({
            ...apiEvent(undefined),
            routeKey: "GET /v1/emails/{id}",
            rawPath: `/v1/emails/${sentId}`,
            pathParameters: { id: sentId },
            requestContext: { ...apiEvent(undefined).requestContext, http: { method: "GET", path: `/v1/emails/${sentId}` } },
        });
        expect(status.statusCode, status.body).to.equal(200);
        expect(JSON.parse(status.body)).to.deep.include({ id: sentId, status: "sent" });

        await ses.setMode("down");
        try {
            const accepted = await runApi(apiEvent(emailBody()));
            const { id } = JSON.parse(accepted.body) as { id: string };
            event = await receiveRecords();
            run = await runWorker(event);
            expect(run.error, run.stderr).to.equal(undefined);
            expect(run.result).to.deep.equal({ batchItemFailures: [] });
            const [mail] = await sink.waitFor(1);
            expect(mail.emailId).to.equal(id);
            expect(mail.envelope.to.sort()).to.deep.equal([PII.to, PII.cc, PII.bcc].sort());
            expect(secrets.requests.map((r) => r.target)).to.deep.equal(["secretsmanager.GetSecretValue"]);
        } finally {
            await ses.setMode("up");
            await drain(stack.sqs, stack.queueUrl, 0);
        }
    });

    it("status function: the shipped code loads only DynamoDB and records SES's events (a late DELIVERY after a BOUNCE stays bounced)", async () => {
        const accepted = await runApi(apiEvent(emailBody()));
        const { id } = JSON.parse(accepted.body) as { id: string };
        await drain(stack.sqs, stack.queueUrl);
        expect(shippedPackages(status.entries)).to.deep.equal(["valibot"]);
        const mail = {
            messageId: "0100018-artifact-000000",
            source: PII.from,
            destination: [PII.to],
            configurationSetName: "event-ingestion-dev-email",
            tags: { emailId: id },
        };
        for (const kind of ["SEND", "BOUNCE", "DELIVERY"] as const) {
            const run = await invokeArtifact<{ outcome: string }>({
                ...status,
                environment: { ...status.environment, ...common(), [EMAIL_ENV.statusTable]: stack.statusTableName },
                // A recipient of its own: a permanent bounce suppresses it, and the other tests send to PII.to.
                event: sesEventBridgeEvent(kind, sesEventRecord(kind, mail, { recipients: [`artifact-bounce-${id}@example.org`] })),
                functionName: "email-status",
            });
            outputs.push(run.stdout, run.stderr);
            expect(run.error, run.stderr).to.equal(undefined);
            expect(run.result?.outcome).to.equal(kind === "DELIVERY" ? "stale" : "recorded");
        }
        const read = await runApi({
            ...apiEvent(undefined),
            routeKey: "GET /v1/emails/{id}",
            rawPath: `/v1/emails/${id}`,
            pathParameters: { id },
            requestContext: { ...apiEvent(undefined).requestContext, http: { method: "GET", path: `/v1/emails/${id}` } },
        });
        const body = JSON.parse(read.body) as { status: string; history: { status: string; bounceType?: string }[] };
        expect(body.status).to.equal("bounced");
        expect(body.history.at(-1)).to.deep.include({ status: "bounced", bounceType: "Permanent" });
    });

    it("api: the shipped code refuses a `from` outside the stack's SES identities with a 400 naming `from`", async () => {
        expect(JSON.parse(api.environment[EMAIL_ENV.sendingIdentities])).to.deep.equal(["example.com"]);
        const refused = await runApi(apiEvent(emailBody({ from: "someone@example.org" })));
        expect(refused.statusCode).to.equal(400);
        expect((JSON.parse(refused.body) as { errors: { field: string }[] }).errors.map((e) => e.field)).to.deep.equal(["from"]);
        expect(await drain(stack.sqs, stack.queueUrl, 0)).to.have.length(0);
    });

    it("worker: a future sendAt becomes a one-time EventBridge schedule that targets the queue, with a pointer and no PII", async () => {
        const sendAt = new Date(Date.now() + 2 * 3_600_000);
        sendAt.setUTCMilliseconds(0);
        const accepted = await runApi(apiEvent(emailBody({ sendAt: sendAt.toISOString() })));
        const { id } = JSON.parse(accepted.body) as { id: string };
        const event = await receiveRecords();
        const run = await runWorker(event);
        expect(run.error, run.stderr).to.equal(undefined);
        expect(run.result).to.deep.equal({ batchItemFailures: [] });
        expect(scheduler.requests).to.have.length(1);
        const request = scheduler.requests[0];
        expect(request.path).to.equal(`/schedules/email-${id}`);
        expect(request.body).to.deep.include({
            GroupName: worker.environment[EMAIL_ENV.scheduleGroup],
            ScheduleExpression: `at(${sendAt.toISOString().slice(0, 19)})`,
            ScheduleExpressionTimezone: "UTC",
            ActionAfterCompletion: "DELETE",
        });
        const target = request.body.Target as {
            Arn: string;
            RoleArn: string;
            Input: string;
            SqsParameters: { MessageGroupId: string };
            DeadLetterConfig: unknown;
            RetryPolicy: unknown;
        };
        expect(target.Arn).to.equal(worker.environment[EMAIL_ENV.queueArn]);
        expect(target.RoleArn).to.equal(worker.environment[EMAIL_ENV.schedulerRoleArn]);
        // Never silently lost: retried, then dead-lettered to the stack's (standard) schedule DLQ.
        expect(target.DeadLetterConfig).to.deep.equal({ Arn: worker.environment[EMAIL_ENV.scheduleDeadLetterQueueArn] });
        expect(target.RetryPolicy).to.deep.equal({ MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 });
        const released = JSON.parse(target.Input) as QueuedEmail;
        expect(released).to.deep.include({ id, released: true, lane: target.SqsParameters.MessageGroupId });
        expect(released.contentRef?.key).to.equal(`emails/${id}.json`);
        expect(linesContaining([target.Input], PII_NEEDLES)).to.deep.equal([]);
        expect(ses.requests.filter((r) => r.EmailTags?.[0]?.Value === id)).to.have.length(0);
        await drain(stack.sqs, stack.queueUrl, 0);
    });

    it("worker: a permanent rejection is classified by the shipped code and dead-lettered with its reason, without failover", async () => {
        await ses.setMode({ status: 400, errorType: "MessageRejected", message: `Message rejected: content policy (${PII.from})` });
        sink.clear();
        try {
            await runApi(apiEvent(emailBody()));
            const event = await receiveRecords();
            const run = await runWorker(event);
            expect(run.error, run.stderr).to.equal(undefined);
            expect(run.result).to.deep.equal({ batchItemFailures: [] });
            const [dead] = await drain(stack.sqs, stack.deadLetterQueueUrl);
            expect(dead, `${JSON.stringify(event.Records.map((r) => r.body.slice(0, 80)))}\n${run.stdout}`).to.not.equal(undefined);
            expect(dead.MessageAttributes?.rejectionReason?.StringValue).to.equal("content-rejected");
            expect(sink.messages()).to.have.length(0);
        } finally {
            await ses.setMode("up");
            await drain(stack.sqs, stack.queueUrl, 0);
        }
    });

    it("traces: the API's SQS call and the worker's SES and DynamoDB calls are X-Ray subsegments of their handler, with no PII in any segment", async () => {
        const daemon = await startXRayDaemon();
        try {
            await runApi(apiEvent(emailBody()), daemon.address);
            const apiDocuments = [...(await daemon.waitFor(2))];
            const run = await runWorker(await receiveRecords(), daemon.address);
            expect(run.error, run.stderr).to.equal(undefined);
            expect(run.result).to.deep.equal({ batchItemFailures: [] });
            const documents = await daemon.waitFor(apiDocuments.length + 3);
            expect(daemon.rejected, "datagrams the daemon would refuse").to.deep.equal([]);
            const handlers = documents.filter((d) => d.name.startsWith("## "));
            expect(handlers.map((d) => d.annotations?.Service).sort()).to.deep.equal(["email-api", "email-worker"]);
            const calls = (service: string) => {
                const handler = handlers.find((d) => d.annotations?.Service === service)!;
                return documents
                    .filter((d) => d.namespace === "aws" && d.parent_id === handler.id)
                    .map((d) => `${d.name}:${d.aws?.operation}`);
            };
            expect(calls("email-api")).to.include("SQS:SendMessage");
            expect(calls("email-worker")).to.include.members(["SESv2:SendEmail", "DynamoDB:PutItem"]);
            expect(linesContaining([JSON.stringify(documents)], PII_NEEDLES), "PII in a trace").to.deep.equal([]);
        } finally {
            await daemon.stop();
            await drain(stack.sqs, stack.queueUrl, 0);
        }
    });

    it("the artifacts' own logs (every line of stdout/stderr) contain no PII", () => {
        const lines = outputs
            .join("\n")
            .split("\n")
            .filter((l) => l.trim());
        expect(lines.length).to.be.greaterThan(0);
        expect(lines.some((l) => l.includes('"email accepted"'))).to.equal(true);
        expect(lines.some((l) => l.includes('"email sent"'))).to.equal(true);
        expect(linesContaining(lines, PII_NEEDLES)).to.deep.equal([]);
    });
});
