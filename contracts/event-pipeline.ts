/**
 * The event pipeline's contract: every name and value that the infrastructure
 * (components/, config/), the event processor (handlers/event-processor/), the
 * local pipeline (local/) and the operator tools (tools/) must agree on, defined
 * once. Plain constants and types only: nothing here imports a package or another
 * module of the program, so any side (and the serialized Lambda) can depend on it.
 *
 * Every value is deployed or on the wire: renaming one changes what the stack
 * sets, what the table holds or what operators and producers read. Add values;
 * never rename or reuse one.
 */

/** Powertools service name of the event processor: its log lines' `service` and its metrics' `service` dimension. */
export const EVENT_PROCESSOR_SERVICE_NAME = "event-processor";

/**
 * Environment variable names of the event processor. The component sets them on the function,
 * the handler reads them at start-up, and the local pipeline recognises the processor by them.
 */
export const EVENT_PROCESSOR_ENV = {
    /** The event table's name (required). */
    tableName: "EVENT_TABLE_NAME",
    /** The DLQ's URL, where the handler sends permanent rejections (required). */
    deadLetterQueueUrl: "DEAD_LETTER_QUEUE_URL",
    /** Comma-separated event type names the stack accepts; unset = every registered type. */
    enabledTypes: "ENABLED_EVENT_TYPES",
    /** Days to keep each event (sets the TTL attribute); unset = kept until deleted. */
    retentionDays: "EVENT_RETENTION_DAYS",
    /** JSON `{"<producer role unique id>": ["clientId", ...]}`; unset = open mode (any sender). */
    producerTenants: "PRODUCER_TENANTS",
} as const;

/**
 * Key attributes of the event table. The component declares them as the table's hash and
 * range keys; the handler writes items with them and conditions its put on the partition key.
 */
export const EVENT_TABLE_KEYS = { partition: "clientId", sort: "eventId" } as const;

/**
 * When the processor handled the event's batch: ISO-8601 UTC with milliseconds (`Date.toISOString()`,
 * fixed width, so text order is time order). Written as a string on every item; the arrival index sorts on it.
 */
export const EVENT_RECEIVED_AT_ATTRIBUTE = "receivedAt";

/**
 * The opt-in arrival index (stack setting `eventPollingIndex`): a global secondary index that lists one
 * tenant's events by `receivedAt`, so a polling Sender reads only what arrived since its cursor. KEYS_ONLY:
 * each entry holds `clientId`, `eventId` and `receivedAt`; the Sender reads the item itself with GetItem.
 * The component declares it, the read policy grants Query on it, the local pipeline creates it.
 */
export const EVENT_ARRIVAL_INDEX = {
    name: "byArrival",
    partition: EVENT_TABLE_KEYS.partition,
    sort: EVENT_RECEIVED_AT_ATTRIBUTE,
    projection: "KEYS_ONLY",
} as const;

/**
 * Seconds, beyond the processor's timeout, that a polling Sender keeps re-reading behind its cursor.
 * An item is stamped `receivedAt` before its write lands (at most the processor's timeout later) and
 * reaches the eventually consistent index after that (normally within a second); this covers the
 * propagation and clock differences between the processor and the Sender.
 */
export const EVENT_POLLING_LAG_MARGIN_SECONDS = 30;

/**
 * TTL attribute of the event table (epoch seconds). The component enables DynamoDB TTL on it when
 * retention is configured; the handler writes it on every item then.
 */
export const EVENT_TTL_ATTRIBUTE = "expiresAt";

/**
 * SHA-256 of an event's content, stored on every item. The handler compares it to tell a
 * duplicate (same content) from a conflicting duplicate; the Sender may read it.
 */
export const EVENT_CONTENT_HASH_ATTRIBUTE = "contentHash";

/**
 * clientId: letters, digits and `. _ : -`, 1-128 characters. Safe as an SQS MessageGroupId, a DynamoDB
 * key, in URLs, logs and metric dimensions. The handler validates bodies with it; stack config checks
 * the producers' tenant lists with it; the operator tools use it to restore a redriven message's group.
 */
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Message attributes the event processor sets on every message it sends to the DLQ. The operator
 * tools (`npm run dlq`, the local console) and the local accounting read them; runbooks quote them.
 * A message without them was moved by the queue's redrive policy (its retries ran out).
 */
export const EVENT_DEAD_LETTER_ATTRIBUTES = {
    reason: "rejectionReason",
    detail: "rejectionDetail",
    sourceMessageId: "sourceMessageId",
} as const;

/** Longest `rejectionDetail` the handler writes, in UTF-8 bytes. */
export const EVENT_DEAD_LETTER_MAX_DETAIL_BYTES = 256;

/** Longest `sourceMessageId` the handler writes, in UTF-8 bytes (SQS message ids are 36-character UUIDs). */
export const EVENT_DEAD_LETTER_MAX_SOURCE_ID_BYTES = 128;

/**
 * Bytes kept free for the reason attributes when a rejected body moves to the DLQ: stack config caps the
 * source queue's maximum message size at the DLQ's (SQS's 1 MiB) minus this, so the handler can move any
 * body to the DLQ byte for byte with its reason. Covers the three attribute names, their `String` data
 * types, the longest reason code, the longest detail and the longest message id (about 520 bytes).
 */
export const EVENT_DEAD_LETTER_RESERVED_BYTES = 1024;

/**
 * Why the event processor rejected a message permanently (sent to the DLQ and acknowledged), by code.
 * The code is the DLQ `rejectionReason` attribute, the `reason` of the log line and the `reason`
 * dimension of `EventsByReason`; producers, runbooks and `npm run dlq -- redrive --reason` key on it.
 * Each value is the one-sentence meaning docs/event-contract.md gives.
 */
export const EVENT_REJECTION_REASONS = {
    body_not_json: "The body is not valid JSON (binary, truncated, garbage).",
    body_not_object: "The body is JSON but not an object (null, an array, a string, a number...).",
    unknown_field: "The body has a top-level field outside the contract; unknown fields are never stored silently.",
    missing_field: "A required field (clientId, eventId, type, occurredAt, data) is absent or null.",
    empty_field: "A required string field is empty or only whitespace.",
    invalid_field:
        "A field has the wrong type or format (clientId characters/length, eventId, occurredAt not ISO-8601 with a timezone, data not an object).",
    unknown_type: "The type is not in the event-type registry.",
    type_disabled: "The type is registered but not enabled in this stack's configuration.",
    invalid_data: "The data object fails its type's schema.",
    nesting_too_deep: "data would nest deeper than DynamoDB's 32-level limit.",
    unstorable_value:
        "data holds something DynamoDB cannot store faithfully: a number outside its range, a string that is not well-formed Unicode, an empty or `__proto__` key.",
    item_too_large: "The stored item would exceed DynamoDB's 400 KB item limit.",
    conflicting_duplicate: "An event with the same clientId and eventId but different content is already stored; the stored one is kept.",
    store_rejected_item: "DynamoDB refused the item as invalid (ValidationException); retrying cannot help.",
    message_group_mismatch:
        "The message's MessageGroupId is not the body's clientId (or is missing on a stack with producers configured): the event would borrow another tenant's fair-queue group.",
    sender_not_allowed:
        "The sender SQS reports (SenderId) is not a producer configured for the body's clientId; on a stack with producers configured, a producer writes only its own tenants.",
} as const;

/** A permanent rejection's code. */
export type EventRejectionReason = keyof typeof EVENT_REJECTION_REASONS;

/** Every rejection code, in documentation order. */
export const EVENT_REJECTION_REASON_CODES = Object.keys(EVENT_REJECTION_REASONS) as EventRejectionReason[];

/**
 * Why the event processor returned a message in `batchItemFailures` for SQS to retry, by code.
 * The code is the `reason` of the ERROR log line and of the `EventsByReason` metric; alarms and runbooks key on it.
 */
export const EVENT_TRANSIENT_REASONS = {
    store_throttled: "DynamoDB throttled the write; SQS redelivers after the visibility timeout.",
    store_unavailable: "DynamoDB could not be reached or answered with an error that may pass (timeout, 5xx, network, access).",
    dead_letter_unavailable: "The message was rejected but sending it to the DLQ failed, so it is not acknowledged (nothing is lost).",
    unexpected_error: "A bug in the handler; the message is retried rather than dropped.",
} as const;

/** A transient outcome's code. */
export type EventTransientReason = keyof typeof EVENT_TRANSIENT_REASONS;

/** Every transient code, in documentation order. */
export const EVENT_TRANSIENT_REASON_CODES = Object.keys(EVENT_TRANSIENT_REASONS) as EventTransientReason[];

/**
 * EMF metric names (Count) the event processor emits once per batch, one per outcome, zeros included
 * (so alarms always see data). Dimension `service` ({@link EVENT_PROCESSOR_SERVICE_NAME}).
 */
export const EVENT_OUTCOME_METRICS = {
    persisted: "EventsPersisted",
    duplicate: "EventsDuplicate",
    rejected: "EventsRejected",
    transient: "EventsTransient",
} as const;

/** EMF metric (Count) for rejected and transient messages, with dimensions `outcome` and `reason` (a reason code above). */
export const EVENT_REASON_METRIC = "EventsByReason";

/**
 * The registered (shipped) event types: the handler's registry (`createEventTypeRegistry`, which the
 * compiler holds to exactly these names) and stack config (`enabledEventTypes` may name only these).
 * Adding a type adds its name here first (docs/event-contract.md, "Adding an event type").
 */
export const EVENT_TYPE_NAMES = [
    "order.placed",
    "payment.captured",
    "shipment.dispatched",
    "subscription.cancelled",
    "user.signed_up",
] as const;

/** A registered event type's name. */
export type EventTypeName = (typeof EVENT_TYPE_NAMES)[number];
