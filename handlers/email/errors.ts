/**
 * Errors of the email service. Their messages never carry PII: they name codes,
 * providers and counts, never addresses, subjects or bodies, so they are safe to
 * log and to put on a DLQ message.
 *
 * They are plain `Error` objects with typed properties, made by factory functions
 * and recognised by guards, not subclasses: Pulumi's closure serialization turns
 * classes into functions without their prototype chain or field initialisers, so
 * `instanceof` and `extends Error` do not survive into the Lambda archive.
 *
 * The reason codes a permanent failure carries are contract values: contracts/email-service.ts.
 */
import type { EmailRejectionReason } from "../../contracts/email-service";

/** A failed delivery attempt. `code` is a short provider code such as `ses:MessageRejected` or `smtp:550`. */
export interface DeliveryError extends Error {
    readonly deliveryError: true;
    /** Retrying cannot help: the email goes to the DLQ with `reason`. */
    readonly permanent: boolean;
    /** The provider cannot send anything right now (not configured, paused, unreachable): fail over. */
    readonly unavailable: boolean;
    readonly code: string;
    readonly reason?: EmailRejectionReason;
}

function deliveryError(
    name: string,
    message: string,
    fields: { permanent: boolean; unavailable: boolean; code: string; reason?: EmailRejectionReason },
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
 * throw permanentFailure("content-rejected", "ses:MessageRejected");
 */
export function permanentFailure(reason: EmailRejectionReason, code: string): DeliveryError {
    return deliveryError("PermanentDeliveryError", `Permanent delivery failure (${reason}, ${code})`, {
        permanent: true,
        unavailable: false,
        code,
        reason,
    });
}

/**
 * A transient failure (throttling, 4xx, 5xx, timeout): retry.
 *
 * @example
 * throw transientFailure("ses:ThrottlingException");
 */
export function transientFailure(code: string): DeliveryError {
    return deliveryError("TransientDeliveryError", `Transient delivery failure (${code})`, { permanent: false, unavailable: false, code });
}

/**
 * The provider cannot send anything right now: fail over now, retry later.
 *
 * @example
 * throw providerUnavailable("smtp:ECONNREFUSED");
 */
export function providerUnavailable(code: string, detail?: string): DeliveryError {
    return deliveryError("ProviderUnavailableError", detail ?? `Provider unavailable (${code})`, {
        permanent: false,
        unavailable: true,
        code,
    });
}

/**
 * True for an error made by {@link permanentFailure}, {@link transientFailure} or {@link providerUnavailable}.
 *
 * @example
 * if (isDeliveryError(error)) logger.warn("delivery failed", { code: error.code });
 */
export function isDeliveryError(error: unknown): error is DeliveryError {
    return typeof error === "object" && error !== null && (error as { deliveryError?: unknown }).deliveryError === true;
}

/**
 * True when retrying the same email cannot succeed.
 *
 * @example
 * if (isPermanent(error)) await deadLetter({ record, reason: error.reason, detail: error.code });
 */
export function isPermanent(error: unknown): error is DeliveryError & { reason: EmailRejectionReason } {
    return isDeliveryError(error) && error.permanent;
}

/**
 * True when the provider cannot send anything right now, so the mailer fails over.
 *
 * @example
 * if (isProviderUnavailable(error)) return secondary.send(email, emailId);
 */
export function isProviderUnavailable(error: unknown): error is DeliveryError {
    return isDeliveryError(error) && error.unavailable;
}

/**
 * The queue could not be reached: nothing was accepted, the client retries (HTTP 500).
 *
 * @example
 * throw queueUnavailable("TimeoutError");
 */
export function queueUnavailable(code: string): Error & { code: string } {
    const error = new Error(`The email queue could not be reached (${code}); nothing was accepted.`) as Error & { code: string };
    error.name = "QueueUnavailableError";
    error.code = code;
    return error;
}

/**
 * An Idempotency-Key was reused with a different request (HTTP 422).
 *
 * @example
 * if (claim.fingerprint !== fingerprint) throw idempotencyKeyReused();
 */
export function idempotencyKeyReused(): Error {
    const error = new Error("This Idempotency-Key was already used with a different request body.");
    error.name = "IdempotencyKeyReusedError";
    return error;
}

/**
 * The Lambda environment is incomplete or invalid; the message names every bad variable.
 *
 * @example
 * throw environmentError(["EMAIL_QUEUE_URL is required"]);
 */
export function environmentError(problems: readonly string[]): Error & { problems: readonly string[] } {
    const error = new Error(`Invalid email service environment:\n  - ${problems.join("\n  - ")}`) as Error & {
        problems: readonly string[];
    };
    error.name = "EnvironmentError";
    error.problems = problems;
    return error;
}

/**
 * True when `error` is an Error named `name` (works across the serialization boundary).
 *
 * @example
 * if (isNamedError(error, "IdempotencyKeyReusedError")) return problem(422, "IdempotencyKeyReused", error.message);
 */
export function isNamedError(error: unknown, name: string): boolean {
    return typeof error === "object" && error !== null && (error as { name?: unknown }).name === name;
}

/**
 * A short, PII-free description of any error: its name and code, never its message.
 *
 * @example
 * logger.warn("email not deferred", { emailId, ...describeError(error) });
 */
export function describeError(error: unknown): { errorName: string; errorCode?: string } {
    if (isDeliveryError(error)) return { errorName: error.name, errorCode: error.code };
    if (typeof error === "object" && error !== null) {
        const fields = error as { name?: unknown; code?: unknown; $metadata?: { httpStatusCode?: number } };
        const code = fields.code ?? fields.$metadata?.httpStatusCode;
        return {
            errorName: typeof fields.name === "string" ? fields.name : "Error",
            errorCode: code === undefined ? undefined : String(code),
        };
    }
    return { errorName: typeof error };
}
