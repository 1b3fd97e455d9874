/**
 * A local stand-in for Lambda's SQS event source mapping, built on `sqs-consumer`
 * (long polling, acknowledgement by DeleteMessageBatch, stop/abort, error events).
 *
 * What it honours, as the Lambda service does:
 * - `batchSize`: up to this many records per invocation (above 10 only with a batching window);
 * - `maximumBatchingWindowInSeconds`: after the first receive, keeps receiving until the
 *   batch is full or the window has passed;
 * - visibility timeout: the queue's own (the poller never overrides it), so a failed
 *   record reappears when the timeout expires, exactly as in AWS;
 * - `maxReceiveCount` → DLQ: the queue's own RedrivePolicy, enforced by fauxqs on receive;
 * - partial batch responses (`ReportBatchItemFailures`): only the records the function
 *   did not list are deleted; an invalid response fails the whole batch;
 * - a function error, crash or timeout fails the whole batch (nothing deleted);
 * - `maximumConcurrency`: at most that many invocations at once. Like Lambda's, the
 *   pollers outnumber the invocations (two per slot), so a batch is received and the
 *   previous one deleted while an invocation runs, and the function never idles on SQS.
 */
import { Message, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { EventEmitter } from "node:events";
import { Consumer } from "sqs-consumer";
import type { InvokeOutcome } from "./lambda-runtime/local-function";

/** The local poller's long-poll wait per receive, in seconds: short, so a stop is prompt. */
export const DEFAULT_RECEIVE_WAIT_SECONDS = 2;

export interface EventSourcePollerOptions {
    sqs: SQSClient;
    queueUrl: string;
    queueArn: string;
    region: string;
    /** @default 10 */
    batchSize?: number;
    /** @default 0 */
    maximumBatchingWindowInSeconds?: number;
    /** The mapping's FunctionResponseTypes contains "ReportBatchItemFailures". @default false */
    reportBatchItemFailures?: boolean;
    /** Concurrent pollers (ScalingConfig.MaximumConcurrency; Lambda starts with 5). @default 2 */
    maximumConcurrency?: number;
    /** Long-poll wait per receive. @default {@link DEFAULT_RECEIVE_WAIT_SECONDS} (short enough to stop promptly) */
    waitTimeSeconds?: number;
    /** Invokes the function with one SQS event. */
    invoke(event: SQSEvent): Promise<InvokeOutcome>;
}

/** What happened to one batch; emitted as `batch`. */
export interface BatchReport {
    size: number;
    deleted: number;
    failed: number;
    outcome: "success" | "partial" | "function-error" | "invalid-response";
    error?: string;
    durationMs: number;
}

export class EventSourceConfigError extends Error {
    constructor(problems: string[]) {
        super(`Invalid event source mapping:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
        this.name = "EventSourceConfigError";
    }
}

/** Checks the mapping settings the way the Lambda API does; throws every problem at once. */
export function validateEventSource(
    options: Pick<EventSourcePollerOptions, "batchSize" | "maximumBatchingWindowInSeconds" | "maximumConcurrency">,
): void {
    const problems: string[] = [];
    const batchSize = options.batchSize ?? 10;
    const window = options.maximumBatchingWindowInSeconds ?? 0;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) problems.push(`batchSize must be 1..10000, got ${batchSize}`);
    if (!Number.isInteger(window) || window < 0 || window > 300)
        problems.push(`maximumBatchingWindowInSeconds must be 0..300, got ${window}`);
    if (batchSize > 10 && window < 1) problems.push(`batchSize ${batchSize} > 10 needs maximumBatchingWindowInSeconds >= 1 (as in Lambda)`);
    const concurrency = options.maximumConcurrency ?? 2;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1000)
        problems.push(`maximumConcurrency must be 1..1000, got ${concurrency}`);
    if (problems.length) throw new EventSourceConfigError(problems);
}

/** Converts an SQS API message into the record shape a Lambda receives. */
export function toSqsRecord(message: Message, queueArn: string, region: string): SQSRecord {
    const attributes = message.Attributes ?? {};
    const messageAttributes: SQSRecord["messageAttributes"] = {};
    for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
        messageAttributes[name] = {
            dataType: (value.DataType ?? "String") as SQSRecord["messageAttributes"][string]["dataType"],
            stringValue: value.StringValue,
            binaryValue: value.BinaryValue ? Buffer.from(value.BinaryValue).toString("base64") : undefined,
            stringListValues: [],
            binaryListValues: [],
        };
    }
    return {
        messageId: message.MessageId!,
        receiptHandle: message.ReceiptHandle!,
        body: message.Body ?? "",
        attributes: attributes as unknown as SQSRecord["attributes"],
        messageAttributes,
        md5OfBody: message.MD5OfBody ?? "",
        eventSource: "aws:sqs",
        eventSourceARN: queueArn,
        awsRegion: region,
    };
}

/**
 * Lambda's rules for a partial batch response: `null`/`undefined`/empty list = all succeeded;
 * an item identifier that is empty or not in the batch makes the whole response invalid.
 * Returns the ids that failed, or "invalid".
 */
export function failedMessageIds(response: unknown, batch: readonly Message[]): Set<string> | "invalid" {
    if (response === null || response === undefined) return new Set();
    if (typeof response !== "object") return "invalid";
    const failures = (response as SQSBatchResponse).batchItemFailures;
    if (failures === undefined || failures === null) return new Set();
    if (!Array.isArray(failures)) return "invalid";
    const ids = new Set(batch.map((message) => message.MessageId));
    const failed = new Set<string>();
    for (const failure of failures) {
        const id = failure?.itemIdentifier;
        if (typeof id !== "string" || id === "" || !ids.has(id)) return "invalid";
        failed.add(id);
    }
    return failed;
}

/**
 * @example
 * const poller = new EventSourcePoller({ sqs, queueUrl, queueArn, region, batchSize: 10, reportBatchItemFailures: true, invoke: (e) => fn.invoke(e) });
 * poller.on("batch", (report) => console.log(report));
 * poller.start();
 * await poller.stop();
 */
export class EventSourcePoller extends EventEmitter {
    private readonly consumers: Consumer[] = [];
    private readonly inFlight = new Set<Promise<unknown>>();
    private running = false;
    private freeSlots = 0;
    private readonly slotWaiters: Array<() => void> = [];

    constructor(private readonly options: EventSourcePollerOptions) {
        super();
        validateEventSource(options);
    }

    start(): void {
        if (this.running) return;
        this.running = true;
        const { sqs, queueUrl } = this.options;
        const batchSize = this.options.batchSize ?? 10;
        const slots = this.options.maximumConcurrency ?? 2;
        this.freeSlots = slots;
        for (let i = 0; i < slots * 2; i++) {
            const consumer = Consumer.create({
                sqs,
                queueUrl,
                // The SDK client's endpoint is the emulator; fauxqs' queue URLs name a virtual host.
                useQueueUrlAsEndpoint: false,
                batchSize: Math.min(batchSize, 10),
                waitTimeSeconds: this.options.waitTimeSeconds ?? DEFAULT_RECEIVE_WAIT_SECONDS,
                attributeNames: ["All"],
                messageAttributeNames: ["All"],
                messageSystemAttributeNames: ["All"],
                suppressFifoWarning: true,
                handleMessageBatch: (messages) => this.track(this.handle(messages)),
            });
            // Aborted long polls while stopping are expected, not errors.
            consumer.on("error", (error) => this.running && this.emit("poll-error", error));
            consumer.on("processing_error", (error) => this.running && this.emit("poll-error", error));
            consumer.start();
            this.consumers.push(consumer);
        }
    }

    /** Stops polling and waits for in-flight batches to finish. */
    async stop(): Promise<void> {
        if (!this.running) return;
        this.running = false;
        await Promise.all(
            this.consumers.map(
                (consumer) =>
                    new Promise<void>((resolve) => {
                        if (!consumer.status.isRunning) return resolve();
                        consumer.once("stopped", () => resolve());
                        consumer.stop({ abort: true });
                    }),
            ),
        );
        this.consumers.length = 0;
        await Promise.allSettled([...this.inFlight]);
    }

    private async acquireSlot(): Promise<void> {
        while (this.freeSlots === 0) await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
        this.freeSlots--;
    }

    private releaseSlot(): void {
        this.freeSlots++;
        this.slotWaiters.shift()?.();
    }

    private track<T>(promise: Promise<T>): Promise<T> {
        this.inFlight.add(promise);
        return promise.finally(() => this.inFlight.delete(promise));
    }

    private async handle(first: Message[]): Promise<Message[]> {
        const started = Date.now();
        const batch = await this.fillBatchingWindow(first);
        const event: SQSEvent = { Records: batch.map((message) => toSqsRecord(message, this.options.queueArn, this.options.region)) };
        await this.acquireSlot();
        this.emit("invoke", {
            size: batch.length,
            receiveCounts: batch.map((message) => Number(message.Attributes?.ApproximateReceiveCount ?? 1)),
        });
        let outcome: InvokeOutcome;
        try {
            outcome = await this.options.invoke(event);
        } catch (error) {
            outcome = { ok: false, error: { errorType: "Local.InvokeError", errorMessage: (error as Error).message }, durationMs: 0 };
        } finally {
            this.releaseSlot();
        }
        let report: BatchReport;
        let succeeded: Message[];
        if (!outcome.ok) {
            succeeded = [];
            report = {
                size: batch.length,
                deleted: 0,
                failed: batch.length,
                outcome: "function-error",
                error: `${outcome.error.errorType}: ${outcome.error.errorMessage}`,
                durationMs: 0,
            };
        } else if (!this.options.reportBatchItemFailures) {
            succeeded = batch;
            report = { size: batch.length, deleted: batch.length, failed: 0, outcome: "success", durationMs: 0 };
        } else {
            const failed = failedMessageIds(outcome.result, batch);
            if (failed === "invalid") {
                succeeded = [];
                report = {
                    size: batch.length,
                    deleted: 0,
                    failed: batch.length,
                    outcome: "invalid-response",
                    error: `invalid partial batch response ${JSON.stringify(outcome.result)?.slice(0, 200)}`,
                    durationMs: 0,
                };
            } else {
                succeeded = batch.filter((message) => !failed.has(message.MessageId!));
                report = {
                    size: batch.length,
                    deleted: succeeded.length,
                    failed: failed.size,
                    outcome: failed.size ? "partial" : "success",
                    durationMs: 0,
                };
            }
        }
        report.durationMs = Date.now() - started;
        this.emit("batch", report);
        // sqs-consumer deletes exactly what we return; the rest reappear after the visibility timeout.
        return succeeded;
    }

    /** Lambda's batching window: keep receiving until the batch is full or the window closes. */
    private async fillBatchingWindow(first: Message[]): Promise<Message[]> {
        const batchSize = this.options.batchSize ?? 10;
        const windowMs = (this.options.maximumBatchingWindowInSeconds ?? 0) * 1000;
        const batch = [...first];
        const deadline = Date.now() + windowMs;
        while (windowMs > 0 && this.running && batch.length < batchSize && Date.now() < deadline) {
            const remainingMs = deadline - Date.now();
            const received = await this.options.sqs
                .send(
                    new ReceiveMessageCommand({
                        QueueUrl: this.options.queueUrl,
                        MaxNumberOfMessages: Math.min(10, batchSize - batch.length),
                        WaitTimeSeconds: Math.min(20, Math.floor(remainingMs / 1000)),
                        MessageSystemAttributeNames: ["All"],
                        MessageAttributeNames: ["All"],
                    }),
                )
                .catch((error: unknown) => {
                    this.emit("poll-error", error);
                    return { Messages: [] as Message[] };
                });
            if (received.Messages?.length) batch.push(...received.Messages);
            else if (remainingMs < 1000) await new Promise((resolve) => setTimeout(resolve, Math.min(remainingMs, 100)));
        }
        return batch;
    }
}
