/**
 * A local stand-in for Lambda's SQS event source mapping, built on `sqs-consumer`
 * (long polling, acknowledgement by DeleteMessageBatch, stop/abort, error events).
 *
 * What it honours, as the Lambda service does:
 * - `batchSize`: up to this many records per invocation (above 10 only with a batching window);
 * - `maximumBatchingWindowInSeconds`: after the first receive, keeps receiving until the
 *   batch is full, the window has passed, or more could exceed the 6 MB invocation payload;
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
import {
    ChangeMessageVisibilityBatchCommand,
    DeleteMessageBatchCommand,
    GetQueueAttributesCommand,
    Message,
    ReceiveMessageCommand,
    SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { EventEmitter } from "node:events";
import { Consumer } from "sqs-consumer";
import {
    LAMBDA_SYNC_PAYLOAD_LIMIT_BYTES,
    SQS_DEFAULT_BATCH_SIZE,
    SQS_MAXIMUM_CONCURRENCY_RANGE,
    sqsEventSourceProblems,
} from "../../components/shared/event-source-rules";
import { SQS_MAX_MESSAGE_SIZE_BYTES } from "../../components/shared/defaults";
import type { InvokeOutcome } from "./lambda-runtime/local-function";

/** ReceiveMessage's MaxNumberOfMessages limit, and the entries of one DeleteMessageBatch or ChangeMessageVisibilityBatch. */
const SQS_RECEIVE_MAX_MESSAGES = 10;
/** The serialized event without records: `{"Records":[]}`. */
const EMPTY_EVENT_BYTES = Buffer.byteLength('{"Records":[]}');
/** A record's fields besides the message (receipt handle, system attributes, ARNs), rounded up. */
const RECORD_ENVELOPE_BYTES = 2048;

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

/** Checks the mapping settings the way the Lambda API does (the deployed component's own rules); throws every problem at once. */
export function validateEventSource(
    options: Pick<EventSourcePollerOptions, "batchSize" | "maximumBatchingWindowInSeconds" | "maximumConcurrency">,
): void {
    const problems = sqsEventSourceProblems({
        batchSize: options.batchSize,
        maximumBatchingWindowInSeconds: options.maximumBatchingWindowInSeconds,
    });
    // Lambda's minimum is 2; 1 is allowed here only so a test can serialise invocations.
    const concurrency = options.maximumConcurrency ?? 2;
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > SQS_MAXIMUM_CONCURRENCY_RANGE.max)
        problems.push(
            `maximumConcurrency = ${JSON.stringify(concurrency)}: must be an integer from 1 to ${SQS_MAXIMUM_CONCURRENCY_RANGE.max}`,
        );
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
    private maximumMessageBytesOnce?: Promise<number>;

    constructor(private readonly options: EventSourcePollerOptions) {
        super();
        validateEventSource(options);
    }

    start(): void {
        if (this.running) return;
        this.running = true;
        const { sqs, queueUrl } = this.options;
        const batchSize = this.options.batchSize ?? SQS_DEFAULT_BATCH_SIZE;
        const slots = this.options.maximumConcurrency ?? 2;
        this.freeSlots = slots;
        for (let i = 0; i < slots * 2; i++) {
            const consumer = Consumer.create({
                sqs,
                queueUrl,
                // The SDK client's endpoint is the emulator; fauxqs' queue URLs name a virtual host.
                useQueueUrlAsEndpoint: false,
                batchSize: Math.min(batchSize, SQS_RECEIVE_MAX_MESSAGES),
                waitTimeSeconds: this.options.waitTimeSeconds ?? DEFAULT_RECEIVE_WAIT_SECONDS,
                attributeNames: ["All"],
                messageAttributeNames: ["All"],
                messageSystemAttributeNames: ["All"],
                suppressFifoWarning: true,
                // sqs-consumer deletes a returned batch in one DeleteMessageBatch, which SQS caps at 10 entries;
                // a batch filled by the window can be larger, so the poller deletes in chunks itself.
                shouldDeleteMessages: false,
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
        const { batch, heldBack } = this.withinPayloadLimit(await this.fillBatchingWindow(first));
        await this.release(heldBack);
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
        // Only the successes are deleted; the rest reappear after the visibility timeout.
        const undeleted = await this.deleteMessages(succeeded);
        if (undeleted > 0) {
            report.deleted -= undeleted;
            report.error = `${undeleted} successful record(s) could not be deleted and will be delivered again`;
        }
        report.durationMs = Date.now() - started;
        this.emit("batch", report);
        return succeeded;
    }

    /**
     * Lambda's batching window: keep receiving until the batch is full, the window closes, or one more
     * receive could take the invocation past Lambda's 6 MB payload limit (each further message is counted
     * at the queue's MaximumMessageSize, as any message may be that large).
     */
    private async fillBatchingWindow(first: Message[]): Promise<Message[]> {
        const batchSize = this.options.batchSize ?? SQS_DEFAULT_BATCH_SIZE;
        const windowMs = (this.options.maximumBatchingWindowInSeconds ?? 0) * 1000;
        const batch = [...first];
        const deadline = Date.now() + windowMs;
        const worstCaseRecordBytes = windowMs > 0 ? (await this.maximumMessageBytes()) + RECORD_ENVELOPE_BYTES : 0;
        let eventBytes = EMPTY_EVENT_BYTES + batch.reduce((sum, message) => sum + this.recordBytes(message), 0);
        while (windowMs > 0 && this.running && batch.length < batchSize && Date.now() < deadline) {
            const room = LAMBDA_SYNC_PAYLOAD_LIMIT_BYTES - eventBytes;
            const fits = Math.floor(room / worstCaseRecordBytes);
            if (fits < 1) break;
            const remainingMs = deadline - Date.now();
            const received = await this.options.sqs
                .send(
                    new ReceiveMessageCommand({
                        QueueUrl: this.options.queueUrl,
                        MaxNumberOfMessages: Math.min(SQS_RECEIVE_MAX_MESSAGES, batchSize - batch.length, fits),
                        WaitTimeSeconds: Math.min(20, Math.floor(remainingMs / 1000)),
                        MessageSystemAttributeNames: ["All"],
                        MessageAttributeNames: ["All"],
                    }),
                )
                .catch((error: unknown) => {
                    this.emit("poll-error", error);
                    return { Messages: [] as Message[] };
                });
            if (received.Messages?.length) {
                batch.push(...received.Messages);
                eventBytes += received.Messages.reduce((sum, message) => sum + this.recordBytes(message), 0);
            } else if (remainingMs < 1000) await new Promise((resolve) => setTimeout(resolve, Math.min(remainingMs, 100)));
        }
        return batch;
    }

    /**
     * Lambda never invokes with more than its payload limit. A single receive can bring more than that
     * (ten messages of up to 1 MiB each), so the records past the limit are held back: made visible again
     * at once, for a later batch. The first record always goes, as it alone fits any queue's message size.
     */
    private withinPayloadLimit(received: Message[]): { batch: Message[]; heldBack: Message[] } {
        let bytes = EMPTY_EVENT_BYTES;
        for (let index = 0; index < received.length; index++) {
            bytes += this.recordBytes(received[index]);
            if (index > 0 && bytes > LAMBDA_SYNC_PAYLOAD_LIMIT_BYTES)
                return { batch: received.slice(0, index), heldBack: received.slice(index) };
        }
        return { batch: received, heldBack: [] };
    }

    private async release(messages: Message[]): Promise<void> {
        for (let start = 0; start < messages.length; start += SQS_RECEIVE_MAX_MESSAGES) {
            const entries = messages
                .slice(start, start + SQS_RECEIVE_MAX_MESSAGES)
                .map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle!, VisibilityTimeout: 0 }));
            await this.options.sqs
                .send(new ChangeMessageVisibilityBatchCommand({ QueueUrl: this.options.queueUrl, Entries: entries }))
                .catch((error: unknown) => this.emit("poll-error", error));
        }
    }

    /** Deletes in DeleteMessageBatch calls of at most 10 entries; returns how many were not deleted. */
    private async deleteMessages(messages: Message[]): Promise<number> {
        let undeleted = 0;
        for (let start = 0; start < messages.length; start += SQS_RECEIVE_MAX_MESSAGES) {
            const chunk = messages.slice(start, start + SQS_RECEIVE_MAX_MESSAGES);
            const entries = chunk.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle! }));
            try {
                const answer = await this.options.sqs.send(
                    new DeleteMessageBatchCommand({ QueueUrl: this.options.queueUrl, Entries: entries }),
                );
                undeleted += answer.Failed?.length ?? 0;
            } catch (error) {
                undeleted += chunk.length;
                this.emit("poll-error", error);
            }
        }
        return undeleted;
    }

    /** What one record adds to the serialized event Lambda counts against its payload limit (its JSON and a comma). */
    private recordBytes(message: Message): number {
        return Buffer.byteLength(JSON.stringify(toSqsRecord(message, this.options.queueArn, this.options.region))) + 1;
    }

    /** The queue's MaximumMessageSize (body and attributes), read once. */
    private maximumMessageBytes(): Promise<number> {
        this.maximumMessageBytesOnce ??= this.options.sqs
            .send(new GetQueueAttributesCommand({ QueueUrl: this.options.queueUrl, AttributeNames: ["MaximumMessageSize"] }))
            .then((answer) => Number(answer.Attributes?.MaximumMessageSize ?? SQS_MAX_MESSAGE_SIZE_BYTES));
        return this.maximumMessageBytesOnce;
    }
}
