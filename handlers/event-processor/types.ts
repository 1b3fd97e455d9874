/**
 * Types shared by the event processor's modules. Pure declarations: nothing here
 * runs, so every module (and the serialized Lambda) can import it for free.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { Logger } from "@aws-lambda-powertools/logger";
import type { Metrics } from "@aws-lambda-powertools/metrics";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type { GenericSchema } from "valibot";
import type { HandlerTracer } from "../tracing";
import type { SenderClaimKey } from "./sender-claim";
import type { EventRejectionReason, EventTransientReason } from "../../contracts/event-pipeline";

/** The JSON body producers put on the queue (after validation). */
export interface EventEnvelope {
    /** Tenant id; also the SQS `MessageGroupId`. 1-128 characters from `[A-Za-z0-9._:-]`. */
    readonly clientId: string;
    /** Producer-chosen id, unique per tenant. 1-128 printable ASCII characters, no spaces. */
    readonly eventId: string;
    /** A registered and enabled event type, e.g. `order.placed`. */
    readonly type: string;
    /** ISO-8601 timestamp with a timezone (`Z` or `±hh:mm`), as sent. */
    readonly occurredAt: string;
    /** The type-specific payload, validated by the type's schema. */
    readonly data: Readonly<Record<string, unknown>>;
}

/** One entry of the event-type registry. */
export interface EventTypeDefinition {
    /** One sentence for docs and the generated JSON Schema. */
    readonly description: string;
    /** valibot schema for the event's `data` object. Its output is what gets stored. */
    readonly data: GenericSchema<unknown, Record<string, unknown>>;
}

/** Maps an event type name (e.g. `order.placed`) to its definition. */
export type EventTypeRegistry = Readonly<Record<string, EventTypeDefinition>>;

/** A DynamoDB attribute value as the low-level client takes it (only the kinds events can produce). */
export type AttributeValue =
    | { readonly S: string }
    | { readonly N: string }
    | { readonly BOOL: boolean }
    | { readonly NULL: true }
    | { readonly L: readonly AttributeValue[] }
    | { readonly M: Readonly<Record<string, AttributeValue>> };

/** The four outcomes a message can have; each message gets exactly one. */
export type OutcomeKind = "persisted" | "duplicate" | "rejected" | "transient";

/** What the handler could read of a message's identity (only values that passed their own checks). */
export interface EventIdentity {
    readonly clientId?: string;
    readonly eventId?: string;
    readonly type?: string;
}

interface OutcomeBase extends EventIdentity {
    /** The SQS message id. */
    readonly messageId: string;
}

/** Stored for the first time. Acknowledged. */
export interface PersistedOutcome extends OutcomeBase {
    readonly outcome: "persisted";
    /** Milliseconds from SQS's SentTimestamp to stored, when SQS reported the timestamp. */
    readonly dwellMs?: number;
}
/** Same keys and same content already stored (a redelivery or a producer retry). Acknowledged, not rewritten. */
export interface DuplicateOutcome extends OutcomeBase {
    readonly outcome: "duplicate";
}
/** Permanently invalid. Sent to the DLQ with its reason, then acknowledged; never retried. */
export interface RejectedOutcome extends OutcomeBase {
    readonly outcome: "rejected";
    readonly reason: EventRejectionReason;
    /** Short, payload-free explanation (also the DLQ `rejectionDetail` attribute). */
    readonly detail: string;
}
/** Could not be settled now (store throttled/unreachable, DLQ unreachable). Returned in `batchItemFailures` for SQS to retry. */
export interface TransientOutcome extends OutcomeBase {
    readonly outcome: "transient";
    readonly reason: EventTransientReason;
    readonly detail: string;
    /** Set when the message was a rejection whose DLQ send failed. */
    readonly rejectionReason?: EventRejectionReason;
}

/** A message's one outcome. */
export type ProcessingOutcome = PersistedOutcome | DuplicateOutcome | RejectedOutcome | TransientOutcome;

/** The handler's answer plus the per-message outcomes behind it (tests, local pipeline and bench read these). */
export interface BatchResult {
    readonly response: SQSBatchResponse;
    /** In the order of `event.Records`. */
    readonly outcomes: readonly ProcessingOutcome[];
}

/** Everything the processor needs; tests pass emulator clients, the Lambda builds them from the environment. */
export interface EventProcessorDeps {
    /** Low-level DynamoDB client (the handler marshals items itself, so no DocumentClient is needed). */
    readonly dynamodb: DynamoDBClient;
    readonly sqs: SQSClient;
    /** The event table: partition key `clientId` (S), sort key `eventId` (S). */
    readonly tableName: string;
    /**
     * Most PutItems one invocation has in flight at once: what the DynamoDB client's connection pool serves.
     * @default DYNAMODB_MAX_SOCKETS (50, the agent's maxSockets in createProcessorClients)
     */
    readonly maxWritesInFlight?: number;
    /** Where permanent rejections go (the source queue's DLQ). */
    readonly deadLetterQueueUrl: string;
    /**
     * Types accepted by this deployment; a registered type not listed is rejected with `type_disabled`.
     * @default every type in the registry
     */
    readonly enabledTypes?: readonly string[];
    /**
     * Days to keep each event; sets the TTL attribute `expiresAt` (epoch seconds) from `receivedAt`.
     * @default undefined (events are kept until deleted)
     */
    readonly retentionDays?: number;
    /**
     * The event-type registry to validate against.
     * @default createEventTypeRegistry() (the shipped example types)
     */
    readonly eventTypes?: EventTypeRegistry;
    /** @default a Powertools Logger with service name `event-processor` (POWERTOOLS_* env vars apply) */
    readonly logger?: Logger;
    /** @default Powertools Metrics, namespace from POWERTOOLS_METRICS_NAMESPACE or `EventIngestion` */
    readonly metrics?: Metrics;
    /**
     * Tenant isolation: producer principal id (role unique id) -> the clientIds it may write
     * (`PRODUCER_TENANTS`). Each message's SQS `SenderId` must map to its body's clientId.
     * @default undefined (open mode: any sender; MessageGroupId, when present, must still equal clientId)
     */
    readonly producerTenants?: Readonly<Record<string, readonly string[]>>;
    /**
     * The KMS HMAC key of sender claims (`SENDER_CLAIM_KEY_ARN`), with producers: each reject's DLQ letter
     * carries its first sender's signed claim, and a redriven letter whose claim verifies is judged as
     * that sender. Without it, rejects carry no claim and a redriven reject is judged by its new SenderId.
     * @default undefined
     */
    readonly senderClaimKey?: SenderClaimKey;
    /** Clock for `receivedAt` and the TTL. @default () => new Date() */
    readonly now?: () => Date;
    /**
     * X-Ray: the handler's subsegment and one per DynamoDB/SQS call (the clients are captured in place).
     * @default a Powertools Tracer, on only inside Lambda (POWERTOOLS_TRACE_ENABLED=false turns it off)
     */
    readonly tracer?: HandlerTracer;
}

/** The Lambda handler: answers SQS with ReportBatchItemFailures semantics. Never throws. */
export type EventProcessorHandler = (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>;

/** Same work as the handler, but also returns each message's outcome. */
export type EventBatchProcessor = (records: readonly SQSRecord[], context?: Context) => Promise<BatchResult>;
