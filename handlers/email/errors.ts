/**
 * Errors of the email service. Their messages never carry PII: they name codes,
 * providers and counts, never addresses, subjects or bodies, so they are safe to
 * log and to put on a DLQ message.
 *
 * They are plain `Error` objects with typed properties, made by factory functions
 * and recognised by guards, not subclasses: Pulumi's closure serialization turns
 * classes into functions without their prototype chain or field initialisers, so
 * `instanceof` and `extends Error` do not survive into the Lambda archive.
 */

/** Why an email went to the dead-letter queue (message attribute `rejectionReason`). */
export const REJECTION_REASONS = {
    /** The provider refused every recipient (e.g. SMTP 550, SES "Illegal address"). */
    invalidRecipient: "invalid-recipient",
    /** The provider refused the content (SES MessageRejected, SMTP 552/554). */
    contentRejected: "content-rejected",
    /**
     * SES refused the sender: not a verified identity (or, in the SES sandbox, a recipient is not),
     * or its MAIL FROM domain is not verified. Another provider must not send it either.
     */
    senderRejected: "sender-rejected",
    /** The provider refused the request as malformed (SES BadRequest, SMTP 501/555). */
    requestRejected: "request-rejected",
    /** The queue message itself is not a valid v1 email message. */
    malformedMessage: "malformed-message",
    /** The offloaded content is no longer in S3 (expired or deleted). */
    contentMissing: "content-missing",
    /** Still failing transiently after every deferred retry (e.g. a mailbox that keeps answering 451). */
    retriesExhausted: "retries-exhausted",
} as const;

export type RejectionReason = (typeof REJECTION_REASONS)[keyof typeof REJECTION_REASONS];

/**
 * Email DLQ message attribute names (a contract with whoever drains the DLQ, e.g. `npm run dlq`).
 * A message without them was moved by the queue's redrive policy: its retries ran out.
 */
export const DEAD_LETTER_ATTRIBUTES = {
    reason: "rejectionReason",
    detail: "rejectionDetail",
} as const;

/** A failed delivery attempt. `code` is a short provider code such as `ses:MessageRejected` or `smtp:550`. */
export interface DeliveryError extends Error {
    readonly deliveryError: true;
    /** Retrying cannot help: the email goes to the DLQ with `reason`. */
    readonly permanent: boolean;
    /** The provider cannot send anything right now (not configured, paused, unreachable): fail over. */
    readonly unavailable: boolean;
    readonly code: string;
    readonly reason?: RejectionReason;
}

function deliveryError(
    name: string,
    message: string,
    fields: { permanent: boolean; unavailable: boolean; code: string; reason?: RejectionReason },
): DeliveryError {
    const error = new Error(message) as Error & Record<string, unknown>;
    error.name = name;
    error.deliveryError = true;
    error.permanent = fields.permanent;
    error.unavailable = fields.unavailable;
    error.code = fields.code;
    if (fields.reason) error.reason = fields.reason;
    return error as unknown as DeliveryError;
}

/**
 * A permanent failure (invalid recipient, rejected content).
 *
 * @example
 * throw permanentFailure(REJECTION_REASONS.contentRejected, "ses:MessageRejected");
 */
export function permanentFailure(reason: RejectionReason, code: string): DeliveryError {
    return deliveryError("PermanentDeliveryError", `Permanent delivery failure (${reason}, ${code})`, {
        permanent: true,
        unavailable: false,
        code,
        reason,
    });
}

/** A transient failure (throttling, 4xx, 5xx, timeout): retry. */
export function transientFailure(code: string): DeliveryError {
    return deliveryError("TransientDeliveryError", `Transient delivery failure (${code})`, { permanent: false, unavailable: false, code });
}

/** The provider cannot send anything right now: fail over now, retry later. */
export function providerUnavailable(code: string, detail?: string): DeliveryError {
    return deliveryError("ProviderUnavailableError", detail ?? `Provider unavailable (${code})`, {
        permanent: false,
        unavailable: true,
        code,
    });
}

export function isDeliveryError(error: unknown): error is DeliveryError {
    return typeof error === "object" && error !== null && (error as { deliveryError?: unknown }).deliveryError === true;
}

/** True when retrying the same email cannot succeed. */
export function isPermanent(error: unknown): error is DeliveryError & { reason: RejectionReason } {
    return isDeliveryError(error) && error.permanent;
}

export function isProviderUnavailable(error: unknown): error is DeliveryError {
    return isDeliveryError(error) && error.unavailable;
}

/** The queue could not be reached: nothing was accepted, the client retries (HTTP 500). */
export function queueUnavailable(code: string): Error & { code: string } {
    const error = new Error(`The email queue could not be reached (${code}); nothing was accepted.`) as Error & { code: string };
    error.name = "QueueUnavailableError";
    error.code = code;
    return error;
}

/** An Idempotency-Key was reused with a different request (HTTP 422). */
export function idempotencyKeyReused(): Error {
    const error = new Error("This Idempotency-Key was already used with a different request body.");
    error.name = "IdempotencyKeyReusedError";
    return error;
}

/** The Lambda environment is incomplete or invalid; the message names every bad variable. */
export function environmentError(problems: readonly string[]): Error & { problems: readonly string[] } {
    const error = new Error(`Invalid email service environment:\n  - ${problems.join("\n  - ")}`) as Error & {
        problems: readonly string[];
    };
    error.name = "EnvironmentError";
    error.problems = problems;
    return error;
}

/** True when `error` is an Error named `name` (works across the serialization boundary). */
export function isNamedError(error: unknown, name: string): boolean {
    return typeof error === "object" && error !== null && (error as { name?: unknown }).name === name;
}

/** A short, PII-free description of any error: its name and code, never its message. */
export function describeError(error: unknown): { errorName: string; errorCode?: string } {
    if (isDeliveryError(error)) return { errorName: error.name, errorCode: error.code };
    if (typeof error === "object" && error !== null) {
        const e = error as { name?: unknown; code?: unknown; $metadata?: { httpStatusCode?: number } };
        const code = e.code ?? e.$metadata?.httpStatusCode;
        return { errorName: typeof e.name === "string" ? e.name : "Error", errorCode: code === undefined ? undefined : String(code) };
    }
    return { errorName: typeof error };
}
