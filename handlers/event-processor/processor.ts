/**
 * The batch handler. Every message gets exactly one outcome:
 *   persisted | duplicate            -> acknowledged
 *   rejected (permanent)             -> sent to the DLQ with its reason, then acknowledged
 *   transient (or DLQ send failed)   -> returned in batchItemFailures; SQS retries it
 * Validation is synchronous and cheap; the writes of a batch run concurrently.
 *
 * Why not @aws-lambda-powertools/batch's processPartialResponse: its model is binary
 * (the record handler returns = success, throws = failure), while ours has four
 * outcomes, one of which (rejected) needs a side effect that is best done once for
 * the whole batch (one SendMessageBatch instead of a SendMessage per record), and
 * whose own failure must turn the record back into a failure. Fitting that into
 * BatchProcessor means exceptions as control flow plus a hand-made coalescing DLQ
 * sender, and it throws FullBatchFailureError by default when every record fails.
 * The loop below is the clearer thirty lines; Logger and Metrics are Powertools.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import type { Metrics } from "@aws-lambda-powertools/metrics";
import type { Context, SQSRecord } from "aws-lambda";
import { safeParse } from "valibot";
import { createEnvelopeValidator } from "./contract";
import { DeadLetter, sendToDeadLetterQueue } from "./dead-letter";
import { eventProcessorConfigurationError, RejectionReason } from "./errors";
import { createEventTypeRegistry, enabledEventTypes } from "./event-types";
import { buildItem, checkRawData, ItemStamp, itemStamp, StoredEventItem } from "./item";
import { DEFAULT_SERVICE_NAME, defaultLogger, defaultMetrics, logOutcome, publishOutcomeMetrics } from "./observability";
import { persistEvent } from "./persistence";
import { defaultTracer, traceClients, traceHandler } from "../tracing";
import type { EventBatchProcessor, EventIdentity, EventProcessorDeps, EventProcessorHandler, ProcessingOutcome } from "./types";

type Checked =
    | { readonly ok: true; readonly identity: EventIdentity; readonly item: StoredEventItem; readonly contentHash: string }
    | { readonly ok: false; readonly identity: EventIdentity; readonly reason: RejectionReason; readonly detail: string };

const SAFE_PATH_KEY = /^[A-Za-z0-9_]{1,40}$/;

/** valibot issues -> "data.lines[0].quantity: expected >=1", never the received value. */
function describeIssues(issues: readonly { type: string; expected: string | null; path?: readonly { key: unknown }[] }[]): string {
    return issues
        .slice(0, 3)
        .map((issue) => {
            const path = (issue.path ?? [])
                .map(({ key }) => (typeof key === "number" ? `[${key}]` : typeof key === "string" && SAFE_PATH_KEY.test(key) ? `.${key}` : ".<key>"))
                .join("");
            return `data${path}: ${issue.expected ? `expected ${issue.expected}` : `fails ${issue.type}`}`;
        })
        .join("; ")
        .slice(0, 240);
}

function assertDeps(deps: EventProcessorDeps): void {
    const problems: string[] = [];
    if (!deps || typeof deps !== "object") throw eventProcessorConfigurationError(["deps must be an object"]);
    if (!deps.dynamodb) problems.push("dynamodb client is required");
    if (!deps.sqs) problems.push("sqs client is required");
    if (typeof deps.tableName !== "string" || deps.tableName.trim() === "") problems.push("tableName is required");
    if (typeof deps.deadLetterQueueUrl !== "string" || deps.deadLetterQueueUrl.trim() === "") problems.push("deadLetterQueueUrl is required");
    if (deps.retentionDays !== undefined && !(Number.isSafeInteger(deps.retentionDays) && deps.retentionDays > 0)) {
        problems.push(`retentionDays must be a positive whole number of days, got ${String(deps.retentionDays)}`);
    }
    if (problems.length > 0) throw eventProcessorConfigurationError(problems);
}

/**
 * Builds the batch processor: the handler's work, returning each message's outcome too.
 * Throws {@link EventProcessorConfigurationError} on bad deps (at build time, never per batch).
 *
 * @example
 * const processBatch = createBatchProcessor({ dynamodb, sqs, tableName: "events", deadLetterQueueUrl });
 * const { response, outcomes } = await processBatch(event.Records);
 */
export function createBatchProcessor(deps: EventProcessorDeps): EventBatchProcessor {
    assertDeps(deps);
    const registry = deps.eventTypes ?? createEventTypeRegistry();
    const enabled = enabledEventTypes(registry, deps.enabledTypes);
    const validateEnvelope = createEnvelopeValidator();
    const logger: Logger = deps.logger ?? defaultLogger();
    const metrics: Metrics = deps.metrics ?? defaultMetrics();
    const now = deps.now ?? (() => new Date());
    const { tableName, deadLetterQueueUrl, retentionDays } = deps;
    const [dynamodb, sqs] = traceClients(deps.tracer ?? defaultTracer(DEFAULT_SERVICE_NAME), deps.dynamodb, deps.sqs);

    function check(body: unknown, stamp: ItemStamp): Checked {
        if (typeof body !== "string") return { ok: false, identity: {}, reason: "body_not_json", detail: "body is not text" };
        let parsed: unknown;
        try {
            parsed = JSON.parse(body);
        } catch {
            return { ok: false, identity: {}, reason: "body_not_json", detail: "body is not valid JSON" };
        }
        const envelope = validateEnvelope(parsed);
        if (!envelope.ok) return { ok: false, identity: envelope.identity, reason: envelope.reason, detail: envelope.detail };
        const event = envelope.envelope;
        const typed: EventIdentity = { clientId: event.clientId, eventId: event.eventId, type: event.type };
        const definition = enabled.get(event.type);
        if (definition === undefined) {
            return Object.hasOwn(registry, event.type)
                ? { ok: false, identity: typed, reason: "type_disabled", detail: "type is registered but not enabled in this stack" }
                : { ok: false, identity: { clientId: event.clientId, eventId: event.eventId }, reason: "unknown_type", detail: "type is not a registered event type" };
        }
        const raw = checkRawData(event.data);
        if (raw) return { ok: false, identity: typed, ...raw };
        const data = safeParse(definition.data, event.data);
        if (!data.success) return { ok: false, identity: typed, reason: "invalid_data", detail: describeIssues(data.issues) };
        const built = buildItem(event, data.output, stamp);
        if (!built.ok) return { ok: false, identity: typed, reason: built.reason, detail: built.detail };
        return { ok: true, identity: typed, item: built.item, contentHash: built.contentHash };
    }

    return async function processBatch(records: readonly SQSRecord[], context?: Context) {
        const outcomes: (ProcessingOutcome | undefined)[] = new Array(records.length).fill(undefined);
        // Each outcome is logged the moment it is final, so logging overlaps the writes still in flight.
        const settle = (index: number, outcome: ProcessingOutcome) => {
            outcomes[index] = outcome;
            try {
                logOutcome(logger, outcome);
            } catch {
                // Observability must never change an outcome.
            }
        };
        try {
            if (context) logger.addContext(context);
            const stamp = itemStamp({ receivedAt: now(), retentionDays });
            const letters: { index: number; identity: EventIdentity; letter: DeadLetter }[] = [];
            // The synchronous part (parse, validate, build) of every record runs before the first write is awaited,
            // so all writes of the batch are in flight together.
            await Promise.all(
                records.map(async (record, index) => {
                    const messageId = String(record?.messageId);
                    try {
                        const checked = check(record.body, stamp);
                        if (!checked.ok) {
                            letters.push({ index, identity: checked.identity, letter: { record, reason: checked.reason, detail: checked.detail } });
                            return;
                        }
                        const result = await persistEvent(dynamodb, tableName, checked.item, checked.contentHash);
                        if (result.outcome === "rejected") {
                            letters.push({ index, identity: checked.identity, letter: { record, reason: result.reason, detail: result.detail } });
                        } else {
                            settle(index, { messageId, ...checked.identity, ...result });
                        }
                    } catch (error) {
                        settle(index, { messageId, outcome: "transient", reason: "unexpected_error", detail: String((error as Error)?.name ?? "error") });
                    }
                }),
            );
            if (letters.length > 0) {
                const failed = await sendToDeadLetterQueue(
                    sqs,
                    deadLetterQueueUrl,
                    letters.map(({ letter }) => letter),
                );
                letters.forEach(({ index, identity, letter }, letterIndex) => {
                    const messageId = String(letter.record.messageId);
                    const failure = failed.get(letterIndex);
                    settle(
                        index,
                        failure === undefined
                            ? { messageId, ...identity, outcome: "rejected", reason: letter.reason, detail: letter.detail }
                            : { messageId, ...identity, outcome: "transient", reason: "dead_letter_unavailable", detail: failure, rejectionReason: letter.reason },
                    );
                });
            }
        } catch (error) {
            // A bug outside the per-record guard: whatever is not settled is retried, never dropped.
            logger.error("batch processing failed unexpectedly", { error: (error as Error)?.name });
        }
        outcomes.forEach((outcome, index) => {
            if (outcome === undefined) {
                settle(index, { messageId: String(records[index]?.messageId), outcome: "transient", reason: "unexpected_error", detail: "not settled" });
            }
        });
        const settled = outcomes as ProcessingOutcome[];
        try {
            publishOutcomeMetrics(metrics, settled);
        } catch {
            // Observability must never change an outcome.
        }
        return {
            response: { batchItemFailures: settled.filter((o) => o.outcome === "transient").map((o) => ({ itemIdentifier: o.messageId })) },
            outcomes: settled,
        };
    };
}

/**
 * Builds the SQS batch handler (ReportBatchItemFailures). Never throws per batch.
 *
 * @example
 * export const handler = createEventProcessor({
 *   dynamodb: new DynamoDBClient({}), sqs: new SQSClient({}),
 *   tableName: "events", deadLetterQueueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/events-dlq",
 * });
 */
export function createEventProcessor(deps: EventProcessorDeps): EventProcessorHandler {
    const tracer = deps.tracer ?? defaultTracer(DEFAULT_SERVICE_NAME);
    const processBatch = createBatchProcessor({ ...deps, tracer });
    return traceHandler(tracer, async (event, context) => {
        const records = Array.isArray(event?.Records) ? event.Records : [];
        return (await processBatch(records, context)).response;
    });
}
