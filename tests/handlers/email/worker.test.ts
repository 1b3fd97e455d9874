/**
 * The worker against the real thing as far as this machine allows: messages
 * enqueued by the real API on a fauxqs FIFO queue, the real SESv2 client talking
 * to a fake SES endpoint (up, down, erroring), nodemailer delivering to a local
 * SMTP sink, the delivery ledger in DynamoDB Local, offloaded content in fauxqs S3.
 */
import { expect } from "chai";
import * as s3 from "@aws-sdk/client-s3";
import * as sesv2 from "@aws-sdk/client-sesv2";
import * as sqs from "@aws-sdk/client-sqs";
import { createEmailApi } from "../../../handlers/email/api";
import { s3ContentStore } from "../../../handlers/email/content-store";
import { dynamoDeliveryLedger } from "../../../handlers/email/idempotency";
import { sesProvider } from "../../../handlers/email/providers/ses";
import { smtpProvider, smtpTransport } from "../../../handlers/email/providers/smtp";
import type { DeliveryScheduler, QueuedEmail } from "../../../handlers/email/types";
import { createEmailWorker, EmailWorkerDeps, EmailWorkerHandler } from "../../../handlers/email/worker";
import { LOCAL_CREDENTIALS } from "../../../local/offline/emulators";
import { until } from "../../support/until";
import { FakeSes, startFakeSes } from "../../../local/aws-stand-ins/email/fake-ses";
import { MailSink, startMailSink } from "../../../local/aws-stand-ins/email/mail-sink";
import {
    acknowledge,
    drain,
    EmailStack,
    expireVisibility,
    onEndpoint,
    receiveAsEvent,
    REGION,
    startEmailStack,
} from "../../support/email/aws";
import { SchedulerClient } from "@aws-sdk/client-scheduler";
import { schedulerAssumeRolePolicy } from "../../../components/email-service/email-iam";
import { parseQueuedEmail } from "../../../handlers/email/message";
import { eventBridgeScheduler } from "../../../handlers/email/scheduler";
import { startFakeScheduler } from "../../../local/aws-stand-ins/email/fake-aws";
import { schedulerMayAssumeRole } from "../../../local/aws-stand-ins/email/scheduler-trust";
import { MOCK_ACCOUNT_ID } from "../../../local/offline/mock-deployment";
import { captureLogsInThisSuite, capturedLines, linesContaining } from "../../support/email/logs";
import { emailBody, PII, PII_NEEDLES } from "../../support/email/pii";

describe("email worker (fauxqs FIFO, fake SES, SMTP sink)", function () {
    this.timeout(120_000);
    captureLogsInThisSuite();
    let stack: EmailStack;
    let ses: FakeSes;
    let sink: MailSink;
    const workers: EmailWorkerHandler[] = [];
    const scheduled: Array<{ message: QueuedEmail; at: Date }> = [];
    const recordingScheduler: DeliveryScheduler = {
        async schedule(message, at) {
            scheduled.push({ message, at });
        },
    };

    let api: ReturnType<typeof createEmailApi>;
    async function enqueue(body: Record<string, unknown>, userArn?: string): Promise<string> {
        const result = await api({
            version: "2.0",
            routeKey: "POST /v1/emails",
            rawPath: "/v1/emails",
            rawQueryString: "",
            headers: { "content-type": "application/json" },
            requestContext: { http: { method: "POST" }, requestId: "test", ...(userArn ? { authorizer: { iam: { userArn } } } : {}) },
            body: JSON.stringify(body),
            isBase64Encoded: false,
        } as never);
        expect(result.statusCode, result.body).to.equal(202);
        return (JSON.parse(result.body!) as { id: string }).id;
    }

    function worker(overrides: Partial<EmailWorkerDeps> = {}): EmailWorkerHandler {
        const handler = createEmailWorker({
            sqs: stack.sqs,
            deadLetterQueueUrl: stack.deadLetterQueueUrl,
            primary: sesProvider({
                client: new sesv2.SESv2Client({ region: REGION, credentials: LOCAL_CREDENTIALS, endpoint: ses.endpoint, maxAttempts: 1 }),
            }),
            secondary: smtpProvider({
                transport: async () => smtpTransport({ host: "127.0.0.1", port: sink.smtpPort, secure: false, requireTLS: false }),
            }),
            breaker: { volumeThreshold: 3, errorThresholdPercentage: 50, resetTimeoutMs: 60_000, timeoutMs: 5_000 },
            contentStore: s3ContentStore(stack.s3, stack.bucket),
            ledger: dynamoDeliveryLedger(stack.dynamodb, stack.tableName, 3600),
            scheduler: recordingScheduler,
            ...overrides,
        });
        workers.push(handler);
        return handler;
    }

    /** One poll of the event source mapping: receive, invoke, delete what succeeded. */
    async function runOnce(handler: EmailWorkerHandler) {
        const event = await receiveAsEvent(stack.sqs, stack.queueUrl, stack.queueArn);
        const response = await handler(event).catch((error: Error & { recordErrors?: unknown }) => {
            // Powertools throws when the whole batch failed: every record is a failure.
            if (error.name === "FullBatchFailureError")
                return { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) };
            throw error;
        });
        const failed = response.batchItemFailures.map((f) => f.itemIdentifier);
        await acknowledge(stack.sqs, stack.queueUrl, event, failed);
        return { event, failed };
    }

    async function deadLetters() {
        return drain(stack.sqs, stack.deadLetterQueueUrl);
    }

    before(async () => {
        [stack, ses, sink] = await Promise.all([startEmailStack(), startFakeSes(), startMailSink()]);
        api = createEmailApi({
            sqs: stack.sqs,
            queueUrl: stack.queueUrl,
            s3: stack.s3,
            contentBucket: stack.bucket,
            largeBodyThresholdBytes: 4096,
        });
    });
    after(async () => {
        for (const w of workers) w.mailer.shutdown();
        await Promise.all([stack?.stop(), ses?.stop(), sink?.stop()]);
    });
    beforeEach(async () => {
        await ses.setMode("up");
        ses.requests.splice(0);
        sink.clear();
        scheduled.splice(0);
        await drain(stack.sqs, stack.queueUrl, 0);
        await drain(stack.sqs, stack.deadLetterQueueUrl, 0);
    });

    it("sends through SES (primary) with every recipient, and records the delivery", async () => {
        const id = await enqueue(emailBody());
        const { failed } = await runOnce(worker());
        expect(failed).to.deep.equal([]);
        expect(ses.requests).to.have.length(1);
        const sent = ses.requests[0];
        expect(sent.FromEmailAddress).to.equal(PII.from);
        expect(sent.Destination).to.deep.equal({ ToAddresses: [PII.to], CcAddresses: [PII.cc], BccAddresses: [PII.bcc] });
        expect(sent.Content?.Simple?.Subject?.Data).to.equal(PII.subject);
        expect(sent.Content?.Simple?.Body?.Text?.Data).to.equal(PII.text);
        expect(sent.Content?.Simple?.Body?.Html?.Data).to.equal(PII.html);
        expect(sent.EmailTags).to.deep.equal([{ Name: "emailId", Value: id }]);
        expect(sink.messages()).to.have.length(0);
        expect(await dynamoDeliveryLedger(stack.dynamodb, stack.tableName, 1).wasDelivered(id)).to.equal(true);
    });

    it("fails over to SMTP when SES is down, then opens the circuit and stops calling SES", async () => {
        await ses.setMode("down");
        const handler = worker();
        const ids: string[] = [];
        for (let i = 0; i < 3; i++) ids.push(await enqueue(emailBody({ subject: `${PII.subject} ${i}` })));
        for (let i = 0; i < 3 && sink.messages().length < 3; i++) await runOnce(handler);
        const delivered = await sink.waitFor(3);
        expect(delivered.map((m) => m.emailId).sort()).to.deep.equal([...ids].sort());
        const first = delivered[0];
        expect(first.envelope.from).to.equal(PII.from);
        expect(first.envelope.to.sort()).to.deep.equal([PII.to, PII.cc, PII.bcc].sort());
        expect(first.subject).to.match(/^Your PII-FIXTURE subject zanzibar \d$/);
        expect(first.raw).to.include("quokka-7781");
        expect(first.headers).to.not.have.property("bcc");
        expect(handler.mailer.state()).to.equal("open");

        // With the circuit open, SES is not even tried: nothing reaches it once it is back up.
        await ses.setMode("up");
        const attemptsBefore = ses.attempts();
        await enqueue(emailBody());
        await runOnce(handler);
        expect(ses.attempts()).to.equal(attemptsBefore);
        expect(ses.requests).to.have.length(0);
        expect(sink.messages()).to.have.length(4);
    });

    it("after the reset timeout the circuit probes SES again and closes when it is back", async () => {
        await ses.setMode("down");
        // Long enough that the circuit is still open when checked below on a loaded machine; the wait after it ends on the state.
        const handler = worker({ breaker: { volumeThreshold: 2, errorThresholdPercentage: 50, resetTimeoutMs: 4_000 } });
        for (let i = 0; i < 2; i++) {
            await enqueue(emailBody());
            await runOnce(handler);
        }
        expect(handler.mailer.state()).to.equal("open");
        await ses.setMode("up");
        await until("the circuit to let a probe through after its reset timeout", () => handler.mailer.state() === "halfOpen", {
            intervalMs: 20,
        });
        const id = await enqueue(emailBody());
        await runOnce(handler);
        expect(ses.requests.map((r) => r.EmailTags?.[0].Value)).to.deep.equal([id]);
        expect(handler.mailer.state()).to.equal("closed");
    });

    it("a transient failure that never clears reaches the DLQ through the queue's redrive after maxReceiveCount", async () => {
        await ses.setMode({ status: 503, errorType: "ServiceUnavailable" });
        // Deferral off (it parks a failing email on the scheduler from the 2nd receive): this pins the redrive path.
        const handler = worker({ secondary: undefined, breaker: { volumeThreshold: 100 }, deferral: { afterReceives: 100 } });
        const id = await enqueue(emailBody());
        for (let attempt = 0; attempt < 8; attempt++) {
            const { event, failed } = await runOnce(handler);
            await expireVisibility(stack.sqs, stack.queueUrl, event, failed);
        }
        const dead = await deadLetters();
        expect(dead.map((m) => (JSON.parse(m.Body!) as QueuedEmail).id)).to.deep.equal([id]);
        expect(dead[0].MessageAttributes?.rejectionReason).to.equal(undefined); // moved by SQS, not by the worker
        expect(ses.attempts()).to.be.at.least(5);
    });

    it("fails over when SES throttles or errors (5xx), per email", async () => {
        const handler = worker({ breaker: { volumeThreshold: 100 } });
        await ses.setMode({ status: 429, errorType: "TooManyRequestsException" });
        await enqueue(emailBody());
        await runOnce(handler);
        await ses.setMode({ status: 500, errorType: "InternalFailure" });
        await enqueue(emailBody());
        await runOnce(handler);
        expect(sink.messages()).to.have.length(2);
        expect(handler.mailer.state()).to.equal("closed");
    });

    it("permanent: SES rejects the content → DLQ with reason content-rejected, not sent through SMTP, circuit stays closed", async () => {
        await ses.setMode({ status: 400, errorType: "MessageRejected", message: `Message rejected: content policy (${PII.to})` });
        const handler = worker();
        const id = await enqueue(emailBody());
        const { failed } = await runOnce(handler);
        expect(failed).to.deep.equal([]);
        expect(sink.messages()).to.have.length(0);
        const [dead] = await deadLetters();
        expect((JSON.parse(dead.Body!) as QueuedEmail).id).to.equal(id);
        expect(dead.MessageAttributes?.rejectionReason?.StringValue).to.equal("content-rejected");
        expect(dead.MessageAttributes?.rejectionDetail?.StringValue).to.equal("ses:MessageRejected");
        expect(handler.mailer.state()).to.equal("closed");
        expect(await drain(stack.sqs, stack.queueUrl, 0)).to.have.length(0);
    });

    it("SES refusing an unverified sender is a permanent rejection (DLQ sender-rejected), never a failover to SMTP", async () => {
        await ses.setMode({
            status: 400,
            errorType: "MessageRejected",
            message: `Email address is not verified. The following identities failed the check in region US-EAST-1: ${PII.from}`,
        });
        const handler = worker();
        const id = await enqueue(emailBody());
        const { failed } = await runOnce(handler);
        expect(failed).to.deep.equal([]);
        const [dead] = await deadLetters();
        expect((JSON.parse(dead.Body!) as QueuedEmail).id).to.equal(id);
        expect(dead.MessageAttributes?.rejectionReason?.StringValue).to.equal("sender-rejected");
        expect(dead.MessageAttributes?.rejectionDetail?.StringValue).to.equal("ses:MessageRejected:unverified-identity");
        expect(sink.messages()).to.have.length(0);
        expect(handler.mailer.state()).to.equal("closed");
    });

    it("the local SES enforces the declared identities: a sender outside them is refused, and dead-lettered", async () => {
        const declared = await startFakeSes({ identities: ["example.com"] });
        try {
            const handler = worker({
                primary: sesProvider({
                    client: new sesv2.SESv2Client({
                        region: REGION,
                        credentials: LOCAL_CREDENTIALS,
                        endpoint: declared.endpoint,
                        maxAttempts: 1,
                    }),
                }),
            });
            const outside = await enqueue(emailBody({ from: "someone@example.org" }));
            const inside = await enqueue(emailBody());
            // One receive may return only some message groups: poll until both emails were handled.
            const dead: Awaited<ReturnType<typeof deadLetters>> = [];
            for (let poll = 0; poll < 10 && (dead.length === 0 || declared.requests.length === 0); poll++) {
                const { failed } = await runOnce(handler);
                expect(failed).to.deep.equal([]);
                dead.push(...(await deadLetters()));
            }
            expect(dead.map((m) => (JSON.parse(m.Body!) as QueuedEmail).id)).to.deep.equal([outside]);
            expect(dead[0].MessageAttributes?.rejectionReason?.StringValue).to.equal("sender-rejected");
            expect(declared.requests.map((r) => r.EmailTags?.find((t) => t.Name === "emailId")?.Value)).to.deep.equal([inside]);
            expect(sink.messages()).to.have.length(0);
        } finally {
            await declared.stop();
        }
    });

    it("permanent: SES BadRequest for an address → invalid-recipient", async () => {
        await ses.setMode({ status: 400, errorType: "BadRequestException", message: "Illegal address" });
        await enqueue(emailBody());
        await runOnce(worker());
        const [dead] = await deadLetters();
        expect(dead.MessageAttributes?.rejectionReason?.StringValue).to.equal("invalid-recipient");
    });

    it("permanent: SMTP 550 for every recipient (SES down) → DLQ invalid-recipient", async () => {
        await ses.setMode("down");
        await enqueue(emailBody({ to: ["reject-me@example.org"], cc: [], bcc: [] }));
        const { failed } = await runOnce(worker());
        expect(failed).to.deep.equal([]);
        const [dead] = await deadLetters();
        expect(dead.MessageAttributes?.rejectionReason?.StringValue).to.equal("invalid-recipient");
        expect(dead.MessageAttributes?.rejectionDetail?.StringValue).to.equal("smtp:550");
    });

    it("transient: SES throttled and SMTP deferring (451) → batch item failure, retried, not dead-lettered", async () => {
        await ses.setMode({ status: 429, errorType: "TooManyRequestsException" });
        const handler = worker({ breaker: { volumeThreshold: 100 } });
        const deferredId = await enqueue(emailBody({ to: ["defer-me@example.org"], cc: [], bcc: [] }));
        const okId = await enqueue(emailBody(), "arn:aws:iam::123456789012:user/other-tenant");
        // Poll like the event source mapping until both were handled once (they are in different groups).
        const failedBodies: string[] = [];
        const seen = new Set<string>();
        for (let poll = 0; poll < 5 && seen.size < 2; poll++) {
            const { event, failed } = await runOnce(handler);
            for (const record of event.Records) seen.add((JSON.parse(record.body) as QueuedEmail).id);
            failedBodies.push(
                ...event.Records.filter((r) => failed.includes(r.messageId)).map((r) => (JSON.parse(r.body) as QueuedEmail).id),
            );
        }
        // Only the deferred email failed; the other tenant's email was sent.
        expect([...new Set(failedBodies)]).to.deep.equal([deferredId]);
        expect(sink.messages().map((m) => m.emailId)).to.include(okId);
        expect(await drain(stack.sqs, stack.deadLetterQueueUrl, 0)).to.have.length(0);
        // It is back on the queue for another attempt: a long poll returns once its visibility timeout (1 s) ends.
        const again = await receiveAsEvent(stack.sqs, stack.queueUrl, stack.queueArn, 10, 5);
        expect(again.Records).to.have.length(1);
        expect(Number(again.Records[0].attributes.ApproximateReceiveCount)).to.be.greaterThan(1);
        await acknowledge(stack.sqs, stack.queueUrl, again, []);
    });

    it("an address that keeps answering 451 frees its lane: from the 2nd receive the email is parked on the scheduler (deterministic name), and the lane's next email is sent", async () => {
        await ses.setMode({ status: 429, errorType: "TooManyRequestsException" });
        const handler = worker({ breaker: { volumeThreshold: 100 }, now: () => new Date("2030-01-01T00:00:00Z") });
        const oneLane = createEmailApi({
            sqs: stack.sqs,
            queueUrl: stack.queueUrl,
            s3: stack.s3,
            contentBucket: stack.bucket,
            tenantLanes: 1,
        });
        const post = async (body: Record<string, unknown>) => {
            const result = await oneLane({
                headers: { "content-type": "application/json" },
                requestContext: { http: { method: "POST" }, requestId: "t" },
                body: JSON.stringify(body),
                isBase64Encoded: false,
            } as never);
            return (JSON.parse(result.body!) as { id: string }).id;
        };
        const deferredId = await post(emailBody({ to: ["defer-me@example.org"], cc: [], bcc: [] }));
        const nextId = await post(emailBody());
        const first = await runOnce(handler);
        expect((JSON.parse(first.event.Records[0].body) as QueuedEmail).id).to.equal(deferredId);
        expect(first.failed).to.include(first.event.Records[0].messageId);
        expect(sink.messages(), "the failure holds its group: the next email waits (FIFO order)").to.have.length(0);
        let last = first;
        for (let poll = 0; poll < 4 && sink.messages().length === 0; poll++) {
            await expireVisibility(stack.sqs, stack.queueUrl, last.event, last.failed);
            last = await runOnce(handler);
        }
        expect(sink.messages().map((m) => m.emailId)).to.deep.equal([nextId]);
        expect(scheduled).to.have.length(1);
        expect(scheduled[0].message).to.deep.include({ id: deferredId, released: true, deferrals: 1 });
        expect(scheduled[0].message.content, "the schedule carries a pointer only").to.equal(undefined);
        expect(scheduled[0].at.toISOString()).to.equal("2030-01-01T00:05:00.000Z");
        expect(await drain(stack.sqs, stack.queueUrl, 0), "nothing left holding the lane").to.have.length(0);
        expect(await deadLetters()).to.have.length(0);
    });

    it("after the last deferred retry a still-deferring email is dead-lettered as retries-exhausted", async () => {
        await ses.setMode({ status: 429, errorType: "TooManyRequestsException" });
        const handler = worker({ breaker: { volumeThreshold: 100 }, deferral: { afterReceives: 1, maxDeferrals: 2 } });
        const id = await enqueue(emailBody({ to: ["defer-me@example.org"], cc: [], bcc: [] }));
        const [queued] = await drain(stack.sqs, stack.queueUrl);
        const parked = { ...(JSON.parse(queued.Body!) as QueuedEmail), released: true, deferrals: 2 };
        await stack.sqs.send(
            new sqs.SendMessageCommand({
                QueueUrl: stack.queueUrl,
                MessageBody: JSON.stringify(parked),
                MessageGroupId: parked.lane,
                MessageDeduplicationId: `${id}-r2`,
            }),
        );
        const { failed } = await runOnce(handler);
        expect(failed).to.deep.equal([]);
        expect(scheduled).to.have.length(0);
        const [dead] = await deadLetters();
        expect(dead.MessageAttributes?.rejectionReason?.StringValue).to.equal("retries-exhausted");
        expect(dead.MessageAttributes?.rejectionDetail?.StringValue).to.equal("smtp:451 after 2 deferred retries");
    });

    it("does not start a record when too little of the invocation is left: it is reported failed and retried", async () => {
        const handler = worker({ deadlineMarginMs: 35_000 });
        await enqueue(emailBody());
        const event = await receiveAsEvent(stack.sqs, stack.queueUrl, stack.queueArn);
        // Invoked with 80 s, of which only 20 s are left when the record's turn comes.
        const remaining = [80_000, 20_000];
        const context = {
            getRemainingTimeInMillis: () => remaining.shift() ?? 20_000,
            functionName: "email-worker",
            awsRequestId: "r",
        } as never;
        const response = await handler(event, context).catch((error: Error) => {
            expect(error.name).to.equal("FullBatchFailureError");
            return { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) };
        });
        expect(response.batchItemFailures.map((f) => f.itemIdentifier)).to.deep.equal(event.Records.map((r) => r.messageId));
        expect(ses.requests).to.have.length(0);
        // With time left, the same record is sent.
        const ok = await handler(event, {
            getRemainingTimeInMillis: () => 55_000,
            functionName: "email-worker",
            awsRequestId: "r2",
        } as never);
        expect(ok.batchItemFailures).to.deep.equal([]);
        expect(ses.requests).to.have.length(1);
        await acknowledge(stack.sqs, stack.queueUrl, event, []);
    });

    it("dead-letters a malformed message as malformed-message", async () => {
        await stack.sqs.send(
            new sqs.SendMessageCommand({
                QueueUrl: stack.queueUrl,
                MessageBody: '{"version":2}',
                MessageGroupId: "g",
                MessageDeduplicationId: "malformed-1",
            }),
        );
        const { failed } = await runOnce(worker());
        expect(failed).to.deep.equal([]);
        const [dead] = await deadLetters();
        expect(dead.MessageAttributes?.rejectionReason?.StringValue).to.equal("malformed-message");
    });

    it("loads offloaded content from S3, sends it, then deletes the object", async () => {
        const text = `${PII.text} ${"0123456789".repeat(1000)}`;
        const id = await enqueue(emailBody({ text }));
        const { failed } = await runOnce(worker());
        expect(failed).to.deep.equal([]);
        expect(ses.requests[0].Content?.Simple?.Body?.Text?.Data).to.equal(text);
        const gone = await stack.s3.send(new s3.HeadObjectCommand({ Bucket: stack.bucket, Key: `emails/${id}.json` })).then(
            () => false,
            () => true,
        );
        expect(gone).to.equal(true);
    });

    it("content missing from S3 → DLQ content-missing", async () => {
        const id = await enqueue(emailBody({ text: "q".repeat(8000) }));
        await stack.s3.send(new s3.DeleteObjectCommand({ Bucket: stack.bucket, Key: `emails/${id}.json` }));
        await runOnce(worker());
        const [dead] = await deadLetters();
        expect(dead.MessageAttributes?.rejectionReason?.StringValue).to.equal("content-missing");
    });

    it("a future sendAt is handed to the scheduler (pointer only) without blocking the other emails", async () => {
        const sendAt = new Date(Date.now() + 3_600_000);
        const later = await enqueue(emailBody({ sendAt: sendAt.toISOString() }));
        const now = await enqueue(emailBody());
        const handler = worker();
        await runOnce(handler);
        if (ses.requests.length === 0) await runOnce(handler);
        expect(ses.requests.map((r) => r.EmailTags?.[0].Value)).to.deep.equal([now]);
        expect(scheduled).to.have.length(1);
        const { message, at } = scheduled[0];
        expect(at.toISOString()).to.equal(sendAt.toISOString());
        expect(message).to.include({ id: later, released: true });
        expect(message.content).to.equal(undefined);
        expect(message.contentRef?.key).to.equal(`emails/${later}.json`);
        expect(JSON.stringify(message)).to.not.include("pii-fixture");
        expect(await drain(stack.sqs, stack.queueUrl, 0)).to.have.length(0);

        // At the due time the scheduler puts the released message back: it is sent, once.
        await stack.sqs.send(
            new sqs.SendMessageCommand({ QueueUrl: stack.queueUrl, MessageBody: JSON.stringify(message), MessageGroupId: message.lane }),
        );
        await runOnce(handler);
        expect(ses.requests.map((r) => r.EmailTags?.[0].Value)).to.deep.equal([now, later]);
        expect(ses.requests[1].Destination?.ToAddresses).to.deep.equal([PII.to]);
    });

    it("a scheduled email whose release cannot be delivered ends in the schedule DLQ, and resending that message delivers it", async () => {
        // The local Scheduler stand-in, the real SDK client, the deployed trust policy; the target queue does not exist.
        const origin = new URL(stack.queueUrl).origin;
        const created = await stack.sqs.send(new sqs.CreateQueueCommand({ QueueName: `schedule-dlq-${Date.now()}` }));
        const dlqUrl = onEndpoint(created.QueueUrl!, origin);
        const dlqArn = (await stack.sqs.send(new sqs.GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ["QueueArn"] })))
            .Attributes!.QueueArn!;
        const scope = { partition: "aws", region: REGION, accountId: MOCK_ACCOUNT_ID };
        const group = "event-ingestion-dev-email-schedules";
        const fake = await startFakeScheduler({
            region: REGION,
            accountId: MOCK_ACCOUNT_ID,
            assumeRole: (request) => schedulerMayAssumeRole(schedulerAssumeRolePolicy(scope, group), request),
            release: async () => {
                throw Object.assign(new Error("The specified queue does not exist"), { name: "ResourceNotFoundException" });
            },
            deadLetter: async (dead) => {
                expect(dead.deadLetterArn).to.equal(dlqArn);
                await stack.sqs.send(
                    new sqs.SendMessageCommand({
                        QueueUrl: dlqUrl,
                        MessageBody: dead.body,
                        MessageAttributes: Object.fromEntries(
                            Object.entries(dead.attributes).map(([k, v]) => [k, { DataType: "String", StringValue: v }]),
                        ),
                    }),
                );
            },
            retryDelayMs: 1,
        });
        try {
            const handler = worker({
                scheduler: eventBridgeScheduler({
                    client: new SchedulerClient({
                        endpoint: fake.endpoint,
                        region: REGION,
                        credentials: LOCAL_CREDENTIALS,
                        maxAttempts: 1,
                    }),
                    groupName: group,
                    queueArn: `arn:aws:sqs:${REGION}:${MOCK_ACCOUNT_ID}:deleted-queue.fifo`,
                    roleArn: `arn:aws:iam::${MOCK_ACCOUNT_ID}:role/email-scheduler-role`,
                    deadLetterQueueArn: dlqArn,
                    minLeadMs: 1,
                }),
            });
            const id = await enqueue(emailBody({ sendAt: new Date(Date.now() + 1_500).toISOString() }));
            await runOnce(handler);
            expect(fake.requests).to.have.length(1);
            const deadline = Date.now() + 20_000;
            while (fake.deadLettered.length === 0 && fake.dropped.length === 0 && Date.now() < deadline)
                await new Promise((r) => setTimeout(r, 100));
            expect(fake.dropped).to.deep.equal([]);

            const [dead] = await drain(stack.sqs, dlqUrl);
            const attribute = (name: string) => dead.MessageAttributes?.[name]?.StringValue;
            expect(attribute("SCHEDULE_ARN")).to.equal(`arn:aws:scheduler:${REGION}:${MOCK_ACCOUNT_ID}:schedule/${group}/email-${id}`);
            expect(attribute("ERROR_CODE")).to.equal("ResourceNotFoundException");
            expect(attribute("EXHAUSTED_RETRY_CONDITION")).to.equal("MaximumRetryAttempts");
            // Recoverable: the body is the released pointer message, its content is still in S3.
            const message = parseQueuedEmail(dead.Body!)!;
            expect(message).to.include({ id, released: true });
            const content = await s3ContentStore(stack.s3, stack.bucket).get(message.contentRef!);
            expect(content.subject).to.equal(PII.subject);

            // Resend: the DLQ body, as it is, back on the email queue in its lane.
            await stack.sqs.send(
                new sqs.SendMessageCommand({ QueueUrl: stack.queueUrl, MessageBody: dead.Body!, MessageGroupId: message.lane }),
            );
            await runOnce(handler);
            expect(ses.requests.map((r) => r.EmailTags?.[0].Value)).to.deep.equal([id]);
            expect(ses.requests[0].Destination?.ToAddresses).to.deep.equal([PII.to]);
        } finally {
            await fake.stop();
        }
    });

    it("never sends an email twice: a redelivered message that was already sent is dropped", async () => {
        const id = await enqueue(emailBody());
        const handler = worker();
        const { event } = await runOnce(handler);
        expect(ses.requests).to.have.length(1);
        // The same message again (e.g. re-enqueued after the FIFO window, or redelivered after a crash).
        const replay = await handler(event);
        expect(replay.batchItemFailures).to.deep.equal([]);
        expect(ses.requests).to.have.length(1);
        expect(sink.messages()).to.have.length(0);
        expect(id).to.be.a("string");
    });

    describe("logs (runs last)", () => {
        it("wrote log lines, and none of them contains an address, a subject or a body", () => {
            const lines = capturedLines();
            expect(lines.some((l) => l.includes('"email sent"'))).to.equal(true);
            expect(lines.some((l) => l.includes('"email dead-lettered"'))).to.equal(true);
            expect(lines.some((l) => l.includes("circuit opened"))).to.equal(true);
            // EMF metrics per outcome (CloudWatch reads them from the log stream).
            for (const metric of [
                "EmailsSent",
                "EmailsSentBySecondary",
                "EmailsDeadLettered",
                "EmailsScheduled",
                "EmailDeliveriesRetried",
                "EmailDuplicatesDropped",
            ]) {
                expect(
                    lines.some((l) => l.includes('"_aws"') && l.includes(`"${metric}"`)),
                    metric,
                ).to.equal(true);
            }
            expect(linesContaining(lines, PII_NEEDLES)).to.deep.equal([]);
        });
    });
});
