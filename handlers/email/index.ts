/**
 * Public API of the email service handlers.
 *
 * - {@link createEmailApi} / {@link emailApiFromEnvironment}: `POST /v1/emails`.
 * - {@link createEmailWorker} / {@link emailWorkerFromEnvironment}: the FIFO queue consumer.
 */
export * from "./types";
export * from "./errors";
export {
    createEmailApi,
    DEFAULT_EMAIL_LIMITS,
    DEFAULT_IDEMPOTENCY_TTL_SECONDS,
    DEFAULT_LARGE_BODY_THRESHOLD_BYTES,
    DEFAULT_TENANT_LANES,
} from "./api";
export type { EmailApiDeps, EmailApiHandler } from "./api";
export { createEmailWorker, DEFAULT_DEFERRAL_POLICY } from "./worker";
export type { DeferralPolicy, EmailWorkerDeps, EmailWorkerHandler } from "./worker";
export { emailApiFromEnvironment, emailWorkerFromEnvironment, EMAIL_ENV } from "./environment";
export { validateEmailRequest, emailRequestSchema, parseSendAt, EMAIL_REQUEST_FIELDS } from "./request";
export { addressProblem, MAX_ADDRESS_OCTETS, MAX_DOMAIN_OCTETS, MAX_LABEL_OCTETS, MAX_LOCAL_PART_OCTETS } from "./address";
export { headerSafeSubject, smtpMailOptions } from "./mime";
export { charsetDecoder, charsetOf, SUPPORTED_CHARSETS } from "./http";
export { laneFor, tenantOf, parseQueuedEmail } from "./message";
export { senderCovered, senderError } from "./senders";
export type { SenderPolicy } from "./senders";
export { s3ContentStore, contentKey } from "./content-store";
export type { ContentStore } from "./content-store";
export { dynamoIdempotencyStore, dynamoDeliveryLedger, EXPIRES_AT_ATTRIBUTE, PARTITION_KEY } from "./idempotency";
export { sesProvider, classifySesError } from "./providers/ses";
export { smtpProvider, smtpTransport, transportFromSecret, classifySmtpError, parseSmtpSettings } from "./providers/smtp";
export type { SmtpSettings } from "./providers/smtp";
export { createFailoverMailer, DEFAULT_BREAKER_OPTIONS } from "./providers/failover";
export type { BreakerOptions, FailoverMailer } from "./providers/failover";
export { eventBridgeScheduler, atExpression, scheduleName, MIN_SCHEDULE_LEAD_MS } from "./scheduler";
export { EMAIL_METRICS } from "./observability";
