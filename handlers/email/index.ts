/**
 * Public API of the email service handlers.
 *
 * - {@link createEmailApi} / {@link emailApiFromEnvironment}: `POST /v1/emails`, `GET` and `DELETE /v1/emails/{id}`.
 * - {@link createEmailWorker} / {@link emailWorkerFromEnvironment}: the FIFO queue consumer.
 *
 * The values they share with the infrastructure, the local pipeline and the operator tools
 * (environment variable names, table attributes, S3 and schedule prefixes, DLQ attributes,
 * reason codes, metric names, defaults) are in contracts/email-service.ts.
 */
export type {
    ContentPointer,
    DeliveryScheduler,
    EmailContent,
    EmailLimits,
    EmailProvider,
    EmailRequest,
    FieldError,
    ProviderName,
    ProviderReceipt,
    QueuedEmail,
} from "./types";
export {
    describeError,
    environmentError,
    idempotencyKeyReused,
    isDeliveryError,
    isNamedError,
    isPermanent,
    isProviderUnavailable,
    permanentFailure,
    providerUnavailable,
    queueUnavailable,
    transientFailure,
} from "./errors";
export type { DeliveryError } from "./errors";
export { createEmailApi } from "./api";
export type { EmailApiDeps, EmailApiHandler } from "./api";
export { createEmailWorker, DEFAULT_DEFERRAL_POLICY } from "./worker";
export type { DeferralPolicy, EmailWorkerDeps, EmailWorkerHandler, RejectedEmail } from "./worker";
export {
    emailApiFromEnvironment,
    emailStatusEventsFromEnvironment,
    emailStatusNotifierFromEnvironment,
    emailWorkerFromEnvironment,
} from "./environment";
export {
    createEmailStatusNotifier,
    eventBridgePublisher,
    statusChangeEntry,
    statusChangeOf,
    PUT_EVENTS_MAX_ENTRIES,
} from "./status-notify";
export type {
    EmailStatusNotifierDeps,
    EmailStatusNotifierHandler,
    StatusChange,
    StatusChangeDetail,
    StatusEventPublisher,
} from "./status-notify";
export { createEmailStatusEvents } from "./ses-events";
export type { EmailStatusEventDeps, EmailStatusEventHandler, EmailStatusEventResult, SesEventBridgeEvent } from "./ses-events";
export { validateEmailRequest, emailRequestSchema, parseSendAt, EMAIL_REQUEST_FIELDS } from "./request";
export type { ValidationResult } from "./request";
export { addressProblem, MAX_ADDRESS_OCTETS, MAX_DOMAIN_OCTETS, MAX_LABEL_OCTETS, MAX_LOCAL_PART_OCTETS } from "./address";
export { headerSafeSubject, smtpMailOptions } from "./mime";
export { charsetDecoder, charsetOf, SUPPORTED_CHARSETS } from "./http";
export type { EmailApiEvent, EmailApiResult } from "./http";
export { laneFor, tenantOf, parseQueuedEmail } from "./message";
export { senderCovered, senderError } from "./senders";
export type { SenderPolicy } from "./senders";
export { s3ContentStore, contentKey } from "./content-store";
export type { ContentStore } from "./content-store";
export { dynamoIdempotencyStore, dynamoDeliveryLedger } from "./idempotency";
export type { DeliveryLedger, IdempotencyStore, KeyClaim } from "./idempotency";
export { dynamoStatusStore } from "./status";
export { dynamoSuppressionList, suppressionKey } from "./suppression";
export type { SuppressionList, SuppressionReason } from "./suppression";
export type {
    CancelOutcome,
    EmailStatusRecord,
    EmailStatusStore,
    ReleaseOutcome,
    StatusDetails,
    StatusEntry,
    StatusOutcome,
} from "./status";
export { sesProvider, classifySesError } from "./providers/ses";
export type { SesProviderOptions } from "./providers/ses";
export { smtpProvider, smtpTransport, transportFromSecret, classifySmtpError, parseSmtpSettings } from "./providers/smtp";
export type { SmtpProviderOptions, SmtpSettings } from "./providers/smtp";
export { createFailoverMailer, DEFAULT_BREAKER_OPTIONS } from "./providers/failover";
export type { BreakerOptions, FailoverMailer } from "./providers/failover";
export {
    eventBridgeScheduler,
    eventBridgeScheduleCanceller,
    atExpression,
    scheduleName,
    MIN_SCHEDULE_LEAD_MS,
    SCHEDULE_RETRY_POLICY,
} from "./scheduler";
export type { EventBridgeSchedulerOptions, ScheduleCanceller } from "./scheduler";
export { emailMetrics } from "./observability";
