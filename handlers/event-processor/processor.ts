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
import { readSenderClaim, type SenderClaim, type SenderClaimKey, signSenderClaim, verifySenderClaim } from "./sender-claim";
import { checkTenancy, PRINCIPAL_ID_PATTERN, ProducerTenants, senderPrincipalId } from "./tenancy";
import { defaultTracer, traceClients, traceHandler } from "../tracing";
import type { EventBatchProcessor, EventIdentity, EventProcessorDeps, EventProcessorHandler, ProcessingOutcome } from "./types";

type Checked =
    | { readonly ok: true; readonly identity: EventIdentity; readonly item: StoredEventItem; readonly contentHash: string }
    | { readonly ok: false; readonly identity: EventIdentity; readonly reason: EventRejectionReason; readonly detail: string };

/**
 * Who first sent a message, for tenancy: `firstSender` is set when a redriven dead letter's claim verified;
 * `forgedClaim` when it carried one that did not (it is then judged by its own SenderId).
 */
interface SenderResolution {
    readonly firstSender?: string;
    readonly forgedClaim?: boolean;
}

/** A message's dwell time: SentTimestamp (epoch ms, as SQS reports it) to `storedAt`; undefined when SQS gave none. */
function dwellMs(record: SQSRecord, storedAt: number): number | undefined {
    const sent = Number(record?.attributes?.SentTimestamp);
    return Number.isFinite(sent) && sent > 0 ? Math.max(0, storedAt - sent) : undefined;
}

const SAFE_PATH_KEY = /^[A-Za-z0-9_]{1,40}$/;

/**
 * valibot's object schemas: their key issues say a key is missing (`received` "undefined") or not allowed
 * (`expected` "never"). A RegExp, like SAFE_PATH_KEY, since the closure serializer captures it faithfully.
 */
const OBJECT_SCHEMA_TYPE = /^(object|strict_object|loose_object|object_with_rest)$/;

/**
 * valibot issues -> "data.plan is required; data.lines[0].quantity: expected >=1", never the received value.
 *
 * @example
 * describeIssues(safeParse(definition.data, { userId: "u1" }).issues!); // "data.plan is required; ..."
 */
export function describeIssues(
    issues: readonly { type: string; expected: string | null; received?: string; message: string; path?: readonly { key: unknown }[] }[],
): string {
    return issues
        .slice(0, 3)
        .map((issue) => {
            const path = (issue.path ?? [])
                .map(({ key }) =>
                    typeof key === "number" ? `[${key}]` : typeof key === "string" && SAFE_PATH_KEY.test(key) ? `.${key}` : ".<key>",
                )
                .join("");
            if (OBJECT_SCHEMA_TYPE.test(issue.type) && issue.expected === "never") return `data${path} is not allowed`;
            if (OBJECT_SCHEMA_TYPE.test(issue.type) && issue.received === "undefined") return `data${path} is required`;
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
    const claimKey: SenderClaimKey | undefined = deps.producerTenants ? deps.senderClaimKey : undefined;
    const [dynamodb, sqs] = traceClients(deps.tracer ?? defaultTracer(EVENT_PROCESSOR_SERVICE_NAME), deps.dynamodb, deps.sqs);
    // No more writes in flight than the client's connection pool serves (one invocation at a time per container).
    const write = inFlightLimit(deps.maxWritesInFlight ?? DYNAMODB_MAX_SOCKETS);

    const producers: ProducerTenants | undefined = deps.producerTenants
        ? new Map(Object.entries(deps.producerTenants).map(([principal, tenants]) => [principal, new Set(tenants)]))
        : undefined;

    /**
     * Resolves a redriven letter's first sender. A producer's own SenderId always wins (a claim it attached
     * is ignored, and costs no KMS call); only a message from a non-producer (the processor's role, an
     * operator, a move task) that carries a claim is verified. Rejects when KMS cannot verify now.
     */
    async function resolveSender(record: SQSRecord): Promise<SenderResolution> {
        if (producers === undefined || claimKey === undefined || typeof record.body !== "string") return {};
        const own = record.attributes?.SenderId;
        if (typeof own === "string" && producers.has(senderPrincipalId(own))) return {};
        const claim = readSenderClaim(record.messageAttributes as Parameters<typeof readSenderClaim>[0]);
        if (claim === undefined) return {};
        return (await verifySenderClaim(claimKey, claim, record.body)) ? { firstSender: claim.originalSender } : { forgedClaim: true };
    }

    /** The principal id a reject's claim names: the verified first sender, else the message's own sender. */
    function firstSenderOf(record: SQSRecord, sender: SenderResolution): string | undefined {
        if (sender.firstSender !== undefined) return sender.firstSender;
        const own = record.attributes?.SenderId;
        const principal = typeof own === "string" ? senderPrincipalId(own) : "";
        return PRINCIPAL_ID_PATTERN.test(principal) ? principal : undefined;
    }

    function check(
        body: unknown,
        stamp: ItemStamp,
        attributes?: Readonly<Record<string, string | undefined>>,
        sender: SenderResolution = {},
    ): Checked {
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
        const violation = checkTenancy(attributes, event.clientId, producers, sender.firstSender);
        if (violation) {
            const forged = sender.forgedClaim ? "; its sender claim did not verify" : "";
            return { ok: false, identity: typed, reason: violation.reason, detail: `${violation.detail}${forged}` };
        }
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
            const letters: { index: number; identity: EventIdentity; letter: RejectedEvent; firstSender?: string }[] = [];
            // The synchronous part (parse, validate, build) of every record runs before the first write is awaited;
            // the writes then go out as the connection pool takes them (at most maxWritesInFlight at once).
            await Promise.all(
                records.map(async (record, index) => {
                    const messageId = String(record?.messageId);
                    let sender: SenderResolution;
                    try {
                        // Redriven letters only (a non-producer sender with a claim); every other record resolves at once.
                        sender = claimKey === undefined ? {} : await resolveSender(record);
                    } catch (error) {
                        settle(index, {
                            messageId,
                            outcome: "transient",
                            reason: "sender_claim_unavailable",
                            detail: `KMS ${String((error as Error)?.name ?? "error")}`,
                        });
                        return;
                    }
                    try {
                        const checked = check(
                            record.body,
                            stamp,
                            record.attributes as unknown as Readonly<Record<string, string | undefined>>,
                            sender,
                        );
                        const firstSender = claimKey === undefined ? undefined : firstSenderOf(record, sender);
                        if (!checked.ok) {
                            letters.push({
                                index,
                                identity: checked.identity,
                                letter: { record, reason: checked.reason, detail: checked.detail },
                                firstSender,
                            });
                            return;
                        }
                        const result = await write(() => persistEvent(dynamodb, tableName, checked.item, checked.contentHash));
                        if (result.outcome === "rejected") {
                            letters.push({
                                index,
                                identity: checked.identity,
                                letter: { record, reason: result.reason, detail: result.detail },
                                firstSender,
                            });
                        } else if (result.outcome === "persisted") {
                            const dwell = dwellMs(record, now().getTime());
                            settle(index, {
                                messageId,
                                ...checked.identity,
                                ...result,
                                ...(dwell === undefined ? {} : { dwellMs: dwell }),
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
            // With producers, each letter names its first sender under the claim key, so a redrive judges it as that
            // producer again (one GenerateMac per reject; a letter that cannot be signed now is retried, not sent bare).
            const signed = await Promise.all(
                letters.map(async (entry) => {
                    if (claimKey === undefined || entry.firstSender === undefined || typeof entry.letter.record.body !== "string") {
                        return { ...entry, unsigned: undefined };
                    }
                    try {
                        const claim: SenderClaim = await signSenderClaim(claimKey, entry.firstSender, entry.letter.record.body);
                        return { ...entry, letter: { ...entry.letter, claim }, unsigned: undefined };
                    } catch (error) {
                        return { ...entry, unsigned: `KMS ${String((error as Error)?.name ?? "error")}` };
                    }
                }),
            );
            for (const { index, identity, letter, unsigned } of signed) {
                if (unsigned === undefined) continue;
                settle(index, {
                    messageId: String(letter.record.messageId),
                    ...identity,
                    outcome: "transient",
                    reason: "sender_claim_unavailable",
                    detail: unsigned,
                    rejectionReason: letter.reason,
                });
            }
            const sendable = signed.filter(({ unsigned }) => unsigned === undefined);
            if (sendable.length > 0) {
                const failed = await sendToDeadLetterQueue(
                    sqs,
                    deadLetterQueueUrl,
                    sendable.map(({ letter }) => letter),
                );
                sendable.forEach(({ index, identity, letter }, letterIndex) => {
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
