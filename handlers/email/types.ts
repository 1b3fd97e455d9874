/**
 * Types shared by the email API, the queue message and the worker.
 *
 * PII lives in {@link EmailContent} only (addresses, subject, bodies). Everything
 * else — ids, lane ids, counts, sizes, reason codes — is safe to log.
 */

/** What a client asked for, after validation and normalisation. */
export interface EmailContent {
    from: string;
    to: string[];
    cc: string[];
    bcc: string[];
    subject: string;
    text?: string;
    html?: string;
}

/** A validated `POST /v1/emails` request. */
export interface EmailRequest extends EmailContent {
    /** When to send (UTC), when the client asked for a future delivery. */
    sendAt?: Date;
}

/** Where an offloaded email's content is stored (S3). */
export interface ContentPointer {
    bucket: string;
    key: string;
    /** UTF-8 size of the stored JSON, for logs and metrics. */
    bytes: number;
}

/**
 * The SQS message body (version 1). Either `content` (inline) or `contentRef`
 * (an S3 pointer) is present, never both.
 */
export interface QueuedEmail {
    version: 1;
    /** The email id returned to the client; also the FIFO deduplication id. */
    id: string;
    /** Opaque tenant lane (the MessageGroupId); no identity in clear. */
    lane: string;
    /** ISO-8601, when the API accepted the request. */
    acceptedAt: string;
    /** ISO-8601 UTC, when the client wants the email sent. */
    sendAt?: string;
    /** True once the scheduler has released a future email: send it, do not schedule again. */
    released?: boolean;
    /** How many times a failing delivery was parked on the scheduler to free its lane. @default 0 */
    deferrals?: number;
    content?: EmailContent;
    contentRef?: ContentPointer;
}

/** One field error in a 400 answer. `field` is a path like `to[2]` or `sendAt`. */
export interface FieldError {
    field: string;
    message: string;
}

/** Limits the API enforces; defaults: `EMAIL_API_DEFAULTS.limits` (contracts/email-service.ts). */
export interface EmailLimits {
    /** Largest accepted request body (bytes); larger → 413. */
    maxRequestBytes: number;
    /** Most recipients across to, cc and bcc (SES accepts 50). */
    maxRecipients: number;
    /** Longest subject (characters). */
    maxSubjectLength: number;
    /** Furthest future `sendAt`, in days. */
    maxScheduleAheadDays: number;
}

/** A provider's answer when it accepted an email. */
export interface ProviderReceipt {
    provider: ProviderName;
    /** The provider's message id (not PII). */
    messageId?: string;
    /** Recipients the provider refused while accepting the others (count only). */
    rejectedRecipients?: number;
}

/** The providers an email can be sent through. */
export type ProviderName = "ses" | "smtp";

/** A way to deliver an email: SES, SMTP, or a test double. */
export interface EmailProvider {
    readonly name: ProviderName;
    /** Sends one email. Throws {@link import("./errors").DeliveryError} subclasses. */
    send(email: EmailContent, emailId: string): Promise<ProviderReceipt>;
}

/** Schedules a future email without holding a Lambda or a queue lane. */
export interface DeliveryScheduler {
    /** Arranges for `message` to be put back on the queue at (or just after) `at`. Idempotent per `message.id`. */
    schedule(message: QueuedEmail, at: Date): Promise<void>;
}
