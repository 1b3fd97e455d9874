import { expect } from "chai";
import * as crypto from "node:crypto";
import {
    CreateQueueCommand,
    GetQueueAttributesCommand,
    SendMessageBatchCommand,
    SendMessageCommand,
    SetQueueAttributesCommand,
    SQSClient,
} from "@aws-sdk/client-sqs";
import { LAMBDA_SYNC_PAYLOAD_LIMIT_BYTES } from "../../../components/shared/event-source-rules";
import type { SQSEvent } from "aws-lambda";
import { Emulator, LOCAL_CREDENTIALS, sharedEmulators } from "../../../local/offline/emulators";
import { inspectQueue } from "../../../local/pipeline-app/accounting";
import {
    BatchReport,
    EventSourceConfigError,
    EventSourcePoller,
    failedMessageIds,
    validateEventSource,
} from "../../../local/aws-stand-ins/event-source-poller";
import type { InvokeOutcome } from "../../../local/aws-stand-ins/lambda-runtime/local-function";
import { until } from "../../support/until";

const REGION = "us-east-1";

describe("event source poller (sqs-consumer) on fauxqs", function () {
    this.timeout(60_000);
    let fauxqs: Emulator;
    let sqs: SQSClient;
    let queueCounter = 0;
    const run = crypto.randomUUID().slice(0, 8); // queue names unique in the process's shared fauxqs

    before(async () => {
        fauxqs = (await sharedEmulators()).sqs;
        sqs = new SQSClient({ region: REGION, endpoint: fauxqs.endpoint, credentials: LOCAL_CREDENTIALS, useQueueUrlAsEndpoint: false });
    });
    after(async () => {
        sqs?.destroy();
    });

    /** A source queue with a DLQ, as the stack would create it. */
    async function queuePair(visibilityTimeout: number, maxReceiveCount: number) {
        const n = `${run}-${++queueCounter}`;
        const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `dlq-${n}` }));
        const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ["QueueArn"] }))).Attributes!
            .QueueArn!;
        const source = await sqs.send(
            new CreateQueueCommand({
                QueueName: `source-${n}`,
                Attributes: {
                    VisibilityTimeout: String(visibilityTimeout),
                    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount }),
                },
            }),
        );
        const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: source.QueueUrl, AttributeNames: ["QueueArn"] }))).Attributes!
            .QueueArn!;
        return { url: source.QueueUrl!, arn, name: `source-${n}`, dlqName: `dlq-${n}` };
    }

    async function send(url: string, bodies: string[]) {
        for (let i = 0; i < bodies.length; i += 10) {
            await sqs.send(
                new SendMessageBatchCommand({
                    QueueUrl: url,
                    Entries: bodies.slice(i, i + 10).map((b, j) => ({ Id: String(j), MessageBody: b, MessageGroupId: "tenant-a" })),
                }),
            );
        }
    }

    const ok = (result: unknown): InvokeOutcome => ({ ok: true, result, durationMs: 1, workerPid: 1 });

    it("delivers batches no larger than batchSize, in the Lambda record shape, and deletes successes", async () => {
        const q = await queuePair(30, 3);
        const events: SQSEvent[] = [];
        const poller = new EventSourcePoller({
            sqs,
            queueUrl: q.url,
            queueArn: q.arn,
            region: REGION,
            batchSize: 3,
            maximumConcurrency: 1,
            waitTimeSeconds: 1,
            invoke: async (e) => (events.push(e), ok(null)),
        });
        await send(
            q.url,
            Array.from({ length: 10 }, (_, i) => `m${i}`),
        );
        poller.start();
        try {
            await until("10 records", () => events.flatMap((e) => e.Records).length >= 10, { timeoutMs: 15_000, intervalMs: 50 });
        } finally {
            await poller.stop();
        }
        expect(events.every((e) => e.Records.length <= 3)).to.equal(true);
        const record = events[0].Records[0];
        expect(record).to.include({ eventSource: "aws:sqs", eventSourceARN: q.arn, awsRegion: REGION });
        expect(record.attributes.ApproximateReceiveCount).to.equal("1");
        // Lambda's SQS records carry SenderId (tenant isolation reads it; "Using Lambda with Amazon SQS", example event).
        // fauxqs reports 000000000000 for every sender (it has no IAM), which is why local stacks run in open mode.
        expect(record.attributes.SenderId).to.equal("000000000000");
        expect(record.attributes.SentTimestamp).to.match(/^\d+$/);
        expect(record.receiptHandle).to.be.a("string").and.not.equal("");
        const left = await inspectQueue(fauxqs.endpoint, q.name);
        expect(left.ready.length + left.inflight.length).to.equal(0);
    });

    it("fills a batch during the batching window instead of invoking per receive, and deletes all of it (10 per DeleteMessageBatch)", async () => {
        const q = await queuePair(30, 3);
        const sizes: number[] = [];
        const poller = new EventSourcePoller({
            sqs,
            queueUrl: q.url,
            queueArn: q.arn,
            region: REGION,
            batchSize: 20,
            // Long enough that a trickle sent on a loaded machine still falls inside one window.
            maximumBatchingWindowInSeconds: 5,
            maximumConcurrency: 1,
            waitTimeSeconds: 1,
            invoke: async (e) => (sizes.push(e.Records.length), ok(null)),
        });
        poller.start();
        try {
            // Trickle messages in: without a window each receive would be its own small batch.
            for (let i = 0; i < 15; i++) {
                await send(q.url, [`t${i}`]);
                await new Promise((r) => setTimeout(r, 40));
            }
            await until("15 records", () => sizes.reduce((a, b) => a + b, 0) >= 15, { timeoutMs: 15_000, intervalMs: 50 });
        } finally {
            await poller.stop();
        }
        expect(Math.max(...sizes)).to.be.greaterThan(10); // more than one receive's worth: the window gathered them
        expect(sizes.every((s) => s <= 20)).to.equal(true);
        const left = await inspectQueue(fauxqs.endpoint, q.name);
        expect(left.ready.length + left.inflight.length + left.delayed.length, "records left after success").to.equal(0);
    });

    // "Lambda quotas" (AWS Lambda Developer Guide): 6 MB per synchronous invocation; the mapping invokes a batch
    // early when its records reach that. SQS messages may be up to 1 MiB ("Amazon SQS message quotas").
    it("never invokes with more than Lambda's 6 MB payload: a batch of large messages is split, none lost or repeated", async () => {
        const q = await queuePair(30, 3);
        await sqs.send(new SetQueueAttributesCommand({ QueueUrl: q.url, Attributes: { MaximumMessageSize: String(1_048_576) } }));
        const events: { bytes: number; ids: string[] }[] = [];
        const poller = new EventSourcePoller({
            sqs,
            queueUrl: q.url,
            queueArn: q.arn,
            region: REGION,
            batchSize: 100,
            maximumBatchingWindowInSeconds: 2,
            maximumConcurrency: 1,
            waitTimeSeconds: 1,
            invoke: async (e) => (
                events.push({ bytes: Buffer.byteLength(JSON.stringify(e)), ids: e.Records.map((r) => r.body.slice(0, 8)) }),
                ok(null)
            ),
        });
        const large = (n: number) => `big-${String(n).padStart(4, "0")}`.padEnd(1_000_000, "x");
        for (let n = 0; n < 9; n++)
            await sqs.send(new SendMessageCommand({ QueueUrl: q.url, MessageBody: large(n), MessageGroupId: "tenant-a" }));
        poller.start();
        try {
            await until("9 large records", () => events.reduce((sum, e) => sum + e.ids.length, 0) >= 9, {
                timeoutMs: 30_000,
                intervalMs: 50,
            });
        } finally {
            await poller.stop();
        }
        expect(events.length).to.be.at.least(2);
        for (const event of events) expect(event.bytes).to.be.at.most(LAMBDA_SYNC_PAYLOAD_LIMIT_BYTES);
        expect(events.flatMap((e) => e.ids).sort()).to.deep.equal(Array.from({ length: 9 }, (_, n) => large(n).slice(0, 8)).sort());
        const left = await inspectQueue(fauxqs.endpoint, q.name);
        expect(left.ready.length + left.inflight.length + left.delayed.length).to.equal(0);
    });

    it("honours a partial batch response: only listed failures come back, after the visibility timeout", async () => {
        const q = await queuePair(1, 5);
        const seen: Array<{ body: string; receiveCount: string; at: number }> = [];
        const reports: BatchReport[] = [];
        const poller = new EventSourcePoller({
            sqs,
            queueUrl: q.url,
            queueArn: q.arn,
            region: REGION,
            batchSize: 10,
            reportBatchItemFailures: true,
            maximumConcurrency: 1,
            waitTimeSeconds: 1,
            invoke: async (e) => {
                for (const r of e.Records) seen.push({ body: r.body, receiveCount: r.attributes.ApproximateReceiveCount, at: Date.now() });
                // fail "flaky" on its first delivery only
                const failures = e.Records.filter((r) => r.body === "flaky" && r.attributes.ApproximateReceiveCount === "1").map((r) => ({
                    itemIdentifier: r.messageId,
                }));
                return ok({ batchItemFailures: failures });
            },
        });
        poller.on("batch", (r: BatchReport) => reports.push(r));
        // When each receive that returned "flaky" was sent: its visibility timeout starts after that, never before
        // (the invoke's own timestamp comes later still, by however long a loaded machine takes to get there).
        const flakyReceivesSentAt: number[] = [];
        const stamp = "record-flaky-receives";
        sqs.middlewareStack.add(
            (next, context) => async (args) => {
                const sentAt = Date.now();
                const result = await next(args);
                const messages = (result.output as { Messages?: Array<{ Body?: string }> }).Messages ?? [];
                if (context.commandName === "ReceiveMessageCommand" && messages.some((m) => m.Body === "flaky"))
                    flakyReceivesSentAt.push(sentAt);
                return result;
            },
            { step: "initialize", name: stamp },
        );
        await send(q.url, ["a", "flaky", "b"]);
        poller.start();
        try {
            await until("flaky redelivered", () => seen.some((s) => s.body === "flaky" && s.receiveCount === "2"), {
                timeoutMs: 15_000,
                intervalMs: 50,
            });
        } finally {
            await poller.stop();
            sqs.middlewareStack.remove(stamp);
        }
        expect(seen.filter((s) => s.body === "a")).to.have.length(1);
        expect(seen.filter((s) => s.body === "b")).to.have.length(1);
        const flaky = seen.filter((s) => s.body === "flaky");
        expect(flaky).to.have.length(2);
        expect(flakyReceivesSentAt, "receives that returned flaky").to.have.length(2);
        // Not before the 1 s visibility timeout, counted from the first receive (ms clocks of two processes: 50 ms slack).
        expect(flaky[1].at - flakyReceivesSentAt[0]).to.be.at.least(950);
        expect(reports.some((r) => r.outcome === "partial" && r.failed === 1)).to.equal(true);
    });

    it("treats an invalid partial batch response or a function error as a failure of the whole batch", async () => {
        const q = await queuePair(1, 5);
        let calls = 0;
        const outcomes: string[] = [];
        const poller = new EventSourcePoller({
            sqs,
            queueUrl: q.url,
            queueArn: q.arn,
            region: REGION,
            batchSize: 10,
            reportBatchItemFailures: true,
            maximumConcurrency: 1,
            waitTimeSeconds: 1,
            invoke: async () => {
                calls++;
                if (calls === 1) return ok({ batchItemFailures: [{ itemIdentifier: "not-in-this-batch" }] });
                if (calls === 2) return { ok: false, error: { errorType: "Runtime.ExitError", errorMessage: "crashed" }, durationMs: 1 };
                return ok({ batchItemFailures: [] });
            },
        });
        poller.on("batch", (r: BatchReport) => outcomes.push(r.outcome));
        await send(q.url, ["x", "y"]);
        poller.start();
        try {
            await until(
                "third, successful delivery",
                async () => {
                    const left = await inspectQueue(fauxqs.endpoint, q.name);
                    return calls >= 3 && left.ready.length + left.inflight.length === 0;
                },
                { timeoutMs: 20_000, intervalMs: 50 },
            );
        } finally {
            await poller.stop();
        }
        expect(outcomes.slice(0, 3)).to.deep.equal(["invalid-response", "function-error", "success"]);
    });

    it("a poison message cannot block its batch: the others are deleted at once, it reaches the DLQ after maxReceiveCount", async () => {
        const q = await queuePair(1, 2);
        const deliveries = new Map<string, number>();
        const poller = new EventSourcePoller({
            sqs,
            queueUrl: q.url,
            queueArn: q.arn,
            region: REGION,
            batchSize: 10,
            reportBatchItemFailures: true,
            maximumConcurrency: 1,
            waitTimeSeconds: 1,
            invoke: async (e) => {
                for (const r of e.Records) deliveries.set(r.body, (deliveries.get(r.body) ?? 0) + 1);
                return ok({
                    batchItemFailures: e.Records.filter((r) => r.body === "poison").map((r) => ({ itemIdentifier: r.messageId })),
                });
            },
        });
        await send(q.url, ["poison", ...Array.from({ length: 9 }, (_, i) => `good-${i}`)]);
        poller.start();
        try {
            await until("poison in the DLQ", async () => (await inspectQueue(fauxqs.endpoint, q.dlqName)).ready.length === 1, {
                timeoutMs: 20_000,
                intervalMs: 50,
            });
        } finally {
            await poller.stop();
        }
        for (let i = 0; i < 9; i++) expect(deliveries.get(`good-${i}`), `good-${i}`).to.equal(1);
        expect(deliveries.get("poison")).to.equal(2); // maxReceiveCount
        const dlq = await inspectQueue(fauxqs.endpoint, q.dlqName);
        expect(dlq.ready.map((m) => m.body)).to.deep.equal(["poison"]);
        const left = await inspectQueue(fauxqs.endpoint, q.name);
        expect(left.ready.length + left.inflight.length).to.equal(0);
    });

    it("never runs more invocations at once than maximumConcurrency, yet keeps every slot busy", async () => {
        const q = await queuePair(30, 3);
        let running = 0;
        let peak = 0;
        let records = 0;
        const poller = new EventSourcePoller({
            sqs,
            queueUrl: q.url,
            queueArn: q.arn,
            region: REGION,
            batchSize: 2,
            maximumConcurrency: 2,
            waitTimeSeconds: 1,
            invoke: async (e) => {
                peak = Math.max(peak, ++running);
                await new Promise((r) => setTimeout(r, 150));
                running--;
                records += e.Records.length;
                return ok(null);
            },
        });
        await send(
            q.url,
            Array.from({ length: 16 }, (_, i) => `c${i}`),
        );
        poller.start();
        try {
            await until("16 records", () => records >= 16, { timeoutMs: 15_000, intervalMs: 50 });
        } finally {
            await poller.stop();
        }
        expect(peak).to.equal(2);
    });

    it("validates mapping settings the way Lambda does, naming every problem", () => {
        expect(() => validateEventSource({ batchSize: 50, maximumBatchingWindowInSeconds: 0 })).to.throw(
            EventSourceConfigError,
            /needs maximumBatchingWindowInSeconds/,
        );
        const error = (() => {
            try {
                validateEventSource({ batchSize: 0, maximumBatchingWindowInSeconds: 301, maximumConcurrency: 0 });
            } catch (e) {
                return e as Error;
            }
            return undefined;
        })();
        expect(error?.message)
            .to.match(/batchSize/)
            .and.match(/maximumBatchingWindowInSeconds/)
            .and.match(/maximumConcurrency/);
        expect(() => validateEventSource({ batchSize: 10, maximumBatchingWindowInSeconds: 0 })).not.to.throw();
    });

    it("reads partial batch responses with Lambda's rules", () => {
        const batch = [{ MessageId: "a" }, { MessageId: "b" }];
        expect(failedMessageIds(null, batch)).to.deep.equal(new Set());
        expect(failedMessageIds({}, batch)).to.deep.equal(new Set());
        expect(failedMessageIds({ batchItemFailures: [] }, batch)).to.deep.equal(new Set());
        expect(failedMessageIds({ batchItemFailures: [{ itemIdentifier: "b" }] }, batch)).to.deep.equal(new Set(["b"]));
        expect(failedMessageIds({ batchItemFailures: [{ itemIdentifier: "" }] }, batch)).to.equal("invalid");
        expect(failedMessageIds({ batchItemFailures: [{ itemIdentifier: "zzz" }] }, batch)).to.equal("invalid");
        expect(failedMessageIds({ batchItemFailures: "b" }, batch)).to.equal("invalid");
        expect(failedMessageIds("ok", batch)).to.equal("invalid");
    });
});
