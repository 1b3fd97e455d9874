/**
 * Event processor: validates queued events and stores them idempotently in DynamoDB.
 * The public API other modules (infrastructure, local pipeline, bench) depend on.
 * The values it shares with them (environment variable names, table attributes, DLQ
 * attributes, reason codes, metric names) are in contracts/event-pipeline.ts.
 * Contract and outcomes: docs/event-contract.md.
 */
export { createBatchProcessor, createEventProcessor } from "./processor";
export { createProcessorClients, eventProcessorFromEnvironment, readEventProcessorSettings } from "./environment";
export type { EventProcessorSettings } from "./environment";
export { createEventTypeRegistry, enabledEventTypes, EVENT_TYPE_NAMES, EVENT_TYPE_NAME_PATTERN } from "./event-types";
export {
    createEnvelopeValidator,
    ENVELOPE_FIELDS,
    EVENT_ID_PATTERN,
    eventBodySchema,
    MAX_ID_LENGTH,
    OCCURRED_AT_PATTERN,
} from "./envelope";
export type { EnvelopeResult, EnvelopeValidator } from "./envelope";
export { eventProcessorConfigurationError, isEventProcessorConfigurationError } from "./errors";
export type { EventProcessorConfigurationError } from "./errors";
export { buildItem, contentHash, MAX_ITEM_BYTES, MAX_NESTING_DEPTH } from "./item";
export type { BuildItemOptions, BuildItemResult, StoredEventItem } from "./item";
export { entryBytes, entryFor, sendToDeadLetterQueue } from "./dead-letter";
export type { RejectedEvent } from "./dead-letter";
export { checkTenancy, parseProducerTenants, PRINCIPAL_ID_PATTERN, senderPrincipalId } from "./tenancy";
export type { ProducerTenants, TenancyViolation } from "./tenancy";
export { BATCH_SUMMARY_MESSAGE, DEFAULT_METRICS_NAMESPACE, tenantSummaries } from "./observability";
export type { TenantBatchSummary } from "./observability";
export {
    claimMessage,
    kmsSenderClaimKey,
    localSenderClaimKey,
    readSenderClaim,
    SENDER_CLAIM_MAC_ALGORITHM,
    senderClaimAttributes,
    signSenderClaim,
    verifySenderClaim,
} from "./sender-claim";
export type { SenderClaim, SenderClaimKey } from "./sender-claim";
export type {
    AttributeValue,
    BatchResult,
    DuplicateOutcome,
    EventBatchProcessor,
    EventEnvelope,
    EventIdentity,
    EventProcessorDeps,
    EventProcessorHandler,
    EventTypeDefinition,
    EventTypeRegistry,
    OutcomeKind,
    PersistedOutcome,
    ProcessingOutcome,
    RejectedOutcome,
    TransientOutcome,
} from "./types";
