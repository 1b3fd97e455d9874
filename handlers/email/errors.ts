/**
 * Errors of the email service. Their messages never carry PII: they name codes,
 * providers and counts, never addresses, subjects or bodies, so they are safe to
 * log and to put on a DLQ message.
 */

/** Why an email went to the dead-letter queue (message attribute `rejectionReason`). */
export const REJECTION_REASONS = {
    /** The provider refused every recipient (e.g. SMTP 550, SES "Illegal address"). */
    invalidRecipient: "invalid-recipient",
    /** The provider refused the content (SES MessageRejected, SMTP 552/554). */
    contentRejected: "content-rejected",
    /** The provider refused the request as malformed (SES BadRequest, SMTP 501/555). */
    requestRejected: "request-rejected",
    /** The queue message itself is not a valid v1 email message. */
    malformedMessage: "malformed-message",
    /** The offloaded content is no longer in S3 (expired or deleted). */
    contentMissing: "content-missing",
} as const;

export type RejectionReason = (typeof REJECTION_REASONS)[keyof typeof REJECTION_REASONS];

/** A delivery attempt failed. `code` is a short provider code such as `ses:MessageRejected` or `smtp:550`. */
export abstract class DeliveryError extends Error {
    abstract readonly permanent: boolean;
    constructor(
        message: string,
        readonly code: string,
    ) {
        super(message);
        this.name = new.target.name;
    }
}

/** Retrying cannot help: the email goes to the DLQ with `reason`. */
export class PermanentDeliveryError extends DeliveryError {
    readonly permanent = true;
    constructor(
        readonly reason: RejectionReason,
        code: string,
        message = `Permanent delivery failure (${reason}, ${code})`,
    ) {
        super(message, code);
    }
}

/** The provider may accept the email later (throttling, 4xx, network, outage): retry. */
export class TransientDeliveryError extends DeliveryError {
    readonly permanent = false;
    constructor(code: string, message = `Transient delivery failure (${code})`) {
        super(message, code);
    }
}

/** The provider cannot send anything right now (not configured, account paused): fail over, retry later. */
export class ProviderUnavailableError extends TransientDeliveryError {
    constructor(code: string, message = `Provider unavailable (${code})`) {
        super(code, message);
    }
}

/** True when retrying the same email cannot succeed. */
export function isPermanent(error: unknown): error is PermanentDeliveryError {
    return error instanceof DeliveryError && error.permanent;
}

/** The queue could not be reached: nothing was accepted, the client retries (HTTP 500). */
export class QueueUnavailableError extends Error {
    constructor(readonly code: string) {
        super(`The email queue could not be reached (${code}); nothing was accepted.`);
        this.name = "QueueUnavailableError";
    }
}

/** An Idempotency-Key was reused with a different request (HTTP 422). */
export class IdempotencyKeyReusedError extends Error {
    constructor() {
        super("This Idempotency-Key was already used with a different request body.");
        this.name = "IdempotencyKeyReusedError";
    }
}

/** The Lambda environment is incomplete or invalid; the message names every bad variable. */
export class EnvironmentError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(`Invalid email service environment:\n  - ${problems.join("\n  - ")}`);
        this.name = "EnvironmentError";
    }
}

/** A short, PII-free description of any error: its name and code, never its message. */
export function describeError(error: unknown): { errorName: string; errorCode?: string } {
    if (error instanceof DeliveryError) return { errorName: error.name, errorCode: error.code };
    if (error instanceof Error) {
        const code = (error as { code?: unknown }).code ?? (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        return { errorName: error.name, errorCode: code === undefined ? undefined : String(code) };
    }
    return { errorName: typeof error };
}
