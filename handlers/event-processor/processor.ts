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
import { EVENT_PROCESSOR_SERVICE_NAME, type EventRejectionReason } from "../../contracts/event-pipeline";
import { createEnvelopeValidator } from "./envelope";
import { type RejectedEvent, sendToDeadLetterQueue } from "./dead-letter";
import { eventProcessorConfigurationError } from "./errors";
import { createEventTypeRegistry, enabledEventTypes } from "./event-types";
import { buildItem, checkRawData, ItemStamp, itemStamp, StoredEventItem } from "./item";
import { defaultLogger, defaultMetrics, logBatchSummary, logOutcome, logsStoredEvents, publishOutcomeMetrics } from "./observability";
import { DYNAMODB_MAX_SOCKETS, inFlightLimit, persistEvent } from "./persistence";
import { checkTenancy, ProducerTenants } from "./tenancy";
import { defaultTracer, traceClients, traceHandler } from "../tracing";
import type { EventBatchProcessor, EventIdentity, EventProcessorDeps, EventProcessorHandler, ProcessingOutcome } from "./types";

type Checked =
    | { readonly ok: true; readonly identity: EventIdentity; readonly item: StoredEventItem; readonly contentHash: string }
    | { readonly ok: false; readonly identity: EventIdentity; readonly reason: EventRejectionReason; readonly detail: string };

const SAFE_PATH_KEY = /^[A-Za-z0-9_]{1,40}$/;

/** valibot issues -> "data.lines[0].quantity: expected >=1", never the received value. */
function describeIssues(
    issues: readonly { type: string; expected: string | null; message: string; path?: readonly { key: unknown }[] }[],
): string {
    return issues
        .slice(0, 3)
        .map((issue) => {
            const path = (issue.path ?? [])
                .map(({ key }) =>
                    typeof key === "number" ? `[${key}]` : typeof key === "string" && SAFE_PATH_KEY.test(key) ? `.${key}` : ".<key>",
                )
                .join("");
            // A `check` action's message is ours (e.g. the calendar checks) and never echoes the value.
            const problem = issue.type === "check" ? issue.message : issue.expected ? `expected ${issue.expected}` : `fails ${issue.type}`;
            return `data${path}: ${problem}`;
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
    if (deps.maxWritesInFlight !== undefined && (!Number.isInteger(deps.maxWritesInFlight) || deps.maxWritesInFlight < 1))
        problems.push("maxWritesInFlight must be a positive integer");
    if (typeof deps.deadLetterQueueUrl !== "string" || deps.deadLetterQueueUrl.trim() === "")
        problems.push("deadLetterQueueUrl is required");
    if (deps.retentionDays !== undefined && !(Number.isSafeInteger(deps.retentionDays) && deps.retentionDays > 0)) {
        problems.push(`retentionDays must be a positive whole number of days, got ${String(deps.retentionDays)}`);
    }
    if (deps.producerTenants !== undefined) {
        const entries =
            typeof deps.producerTenants === "object" && deps.producerTenants !== null ? Object.entries(deps.producerTenants) : [];
        if (entries.length === 0 || !entries.every(([, tenants]) => Array.isArray(tenants) && tenants.length > 0)) {
            problems.push("producerTenants must map each producer principal id to at least one clientId (omit it for open mode)");
        }
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
    const [dynamodb, sqs] = traceClients(deps.tracer ?? defaultTracer(EVENT_PROCESSOR_SERVICE_NAME), deps.dynamodb, deps.sqs);
    // No more writes in flight than the client's connection pool serves (one invocation at a time per container).
    const write = inFlightLimit(deps.maxWritesInFlight ?? DYNAMODB_MAX_SOCKETS);

    const producers: ProducerTenants | undefined = deps.producerTenants
        ? new Map(Object.entries(deps.producerTenants).map(([principal, tenants]) => [principal, new Set(tenants)]))
        : undefined;

    function check(body: unknown, stamp: ItemStamp, attributes?: Readonly<Record<string, string | undefined>>): Checked {
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
        // Who may write this tenant is decided before anything about the payload, so a foreign producer learns nothing of it.
        const violation = checkTenancy(attributes, event.clientId, producers);
        if (violation) return { ok: false, identity: typed, reason: violation.reason, detail: violation.detail };
        const definition = enabled.get(event.type);
        if (definition === undefined) {
            return Object.hasOwn(registry, event.type)
                ? { ok: false, identity: typed, reason: "type_disabled", detail: "type is registered but not enabled in this stack" }
                : {
                      ok: false,
                      identity: { clientId: event.clientId, eventId: event.eventId },
                      reason: "unknown_type",
                      detail: "type is not a registered event type",
                  };
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
        // Rejected and retried messages get their own line the moment they are final; stored ones only at DEBUG
        // (decided once per batch, so an INFO batch builds no per-message fields); the summary line counts them all.
        let perEventLines = false;
        const settle = (index: number, outcome: ProcessingOutcome) => {
            outcomes[index] = outcome;
            if (!perEventLines && (outcome.outcome === "persisted" || outcome.outcome === "duplicate")) return;
            try {
                logOutcome(logger, outcome);
            } catch {
                // Observability must never change an outcome.
            }
        };
        try {
            try {
                if (context) logger.addContext(context);
                perEventLines = logsStoredEvents(logger);
            } catch {
                // Observability must never change an outcome.
            }
            const stamp = itemStamp({ receivedAt: now(), retentionDays });
            const letters: { index: number; identity: EventIdentity; letter: RejectedEvent }[] = [];
            // The synchronous part (parse, validate, build) of every record runs before the first write is awaited;
            // the writes then go out as the connection pool takes them (at most maxWritesInFlight at once).
            await Promise.all(
                records.map(async (record, index) => {
                    const messageId = String(record?.messageId);
                    try {
                        const checked = check(
                            record.body,
                            stamp,
                            record.attributes as unknown as Readonly<Record<string, string | undefined>>,
                        );
                        if (!checked.ok) {
                            letters.push({
                                index,
                                identity: checked.identity,
                                letter: { record, reason: checked.reason, detail: checked.detail },
                            });
                            return;
                        }
                        const result = await write(() => persistEvent(dynamodb, tableName, checked.item, checked.contentHash));
                        if (result.outcome === "rejected") {
                            letters.push({
                                index,
                                identity: checked.identity,
                                letter: { record, reason: result.reason, detail: result.detail },
                            });
                        } else {
                            settle(index, { messageId, ...checked.identity, ...result });
                        }
                    } catch (error) {
                        settle(index, {
                            messageId,
                            outcome: "transient",
                            reason: "unexpected_error",
                            detail: String((error as Error)?.name ?? "error"),
                        });
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
                            : {
                                  messageId,
                                  ...identity,
                                  outcome: "transient",
                                  reason: "dead_letter_unavailable",
                                  detail: failure,
                                  rejectionReason: letter.reason,
                              },
                    );
                });
            }
        } catch (error) {
            // A bug outside the per-record guard: whatever is not settled is retried, never dropped.
            logger.error("batch processing failed unexpectedly", { error: (error as Error)?.name });
        }
        outcomes.forEach((outcome, index) => {
            if (outcome === undefined) {
                settle(index, {
                    messageId: String(records[index]?.messageId),
                    outcome: "transient",
                    reason: "unexpected_error",
                    detail: "not settled",
                });
            }
        });
        const settled = outcomes as ProcessingOutcome[];
        try {
            logBatchSummary(logger, settled);
        } catch {
            // Observability must never change an outcome.
        }
        try {
            publishOutcomeMetrics(metrics, settled);
        } catch {
            // Observability must never change an outcome.
        }
        return {
            response: {
                batchItemFailures: settled
                    .filter((outcome) => outcome.outcome === "transient")
                    .map((outcome) => ({ itemIdentifier: outcome.messageId })),
            },
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
    const tracer = deps.tracer ?? defaultTracer(EVENT_PROCESSOR_SERVICE_NAME);
    const processBatch = createBatchProcessor({ ...deps, tracer });
    return traceHandler(tracer, async (event, context) => {
        const records = Array.isArray(event?.Records) ? event.Records : [];
        return (await processBatch(records, context)).response;
    });
}
