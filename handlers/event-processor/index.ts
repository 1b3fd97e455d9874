/**
 * Event processor: validates queued events and stores them idempotently in DynamoDB.
 * The public API other modules (infrastructure, local pipeline, bench) depend on.
 * Contract and outcomes: docs/event-contract.md.
 */
export { createBatchProcessor, createEventProcessor } from "./processor";
export { eventProcessorFromEnvironment, readEventProcessorSettings, EVENT_PROCESSOR_ENV } from "./environment";
export type { EventProcessorSettings } from "./environment";
export { createEventTypeRegistry, enabledEventTypes, EVENT_TYPE_NAMES, EVENT_TYPE_NAME_PATTERN } from "./event-types";
export {
    CLIENT_ID_PATTERN,
    createEnvelopeValidator,
    ENVELOPE_FIELDS,
    EVENT_ID_PATTERN,
    eventBodySchema,
    MAX_ID_LENGTH,
    OCCURRED_AT_PATTERN,
} from "./contract";
export {
    eventProcessorConfigurationError,
    isEventProcessorConfigurationError,
    REJECTION_REASON_CODES,
    REJECTION_REASONS,
    TRANSIENT_REASON_CODES,
    TRANSIENT_REASONS,
} from "./errors";
export type { EventProcessorConfigurationError, RejectionReason, TransientReason } from "./errors";
export { buildItem, CONTENT_HASH_ATTRIBUTE, contentHash, MAX_ITEM_BYTES, MAX_NESTING_DEPTH, TTL_ATTRIBUTE } from "./item";
export type { StoredEventItem } from "./item";
export { DEAD_LETTER_ATTRIBUTES, DEAD_LETTER_RESERVED_BYTES } from "./dead-letter";
export { checkTenancy, parseProducerTenants, PRINCIPAL_ID_PATTERN, senderPrincipalId } from "./tenancy";
export type { ProducerTenants, TenancyViolation } from "./tenancy";
export { BATCH_SUMMARY_MESSAGE, DEFAULT_METRICS_NAMESPACE, DEFAULT_SERVICE_NAME, OUTCOME_METRICS, REASON_METRIC } from "./observability";
export type * from "./types";
