/**
 * Reason codes and error classes. The codes are a public contract: they appear in
 * the DLQ `rejectionReason` attribute, in logs and as a metric dimension, and
 * producers and runbooks key on them. Add codes; never rename or reuse one.
 */

/**
 * Why a message was rejected permanently (sent to the DLQ and acknowledged).
 * Each value is the one-line meaning used in docs/event-contract.md.
 */
export const REJECTION_REASONS = {
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

/** A permanent rejection's reason code. */
export type RejectionReason = keyof typeof REJECTION_REASONS;

/** Why a message is returned in `batchItemFailures` for SQS to retry. */
export const TRANSIENT_REASONS = {
    store_throttled: "DynamoDB throttled the write; SQS redelivers after the visibility timeout.",
    store_unavailable: "DynamoDB could not be reached or answered with an error that may pass (timeout, 5xx, network, access).",
    dead_letter_unavailable: "The message was rejected but sending it to the DLQ failed, so it is not acknowledged (nothing is lost).",
    unexpected_error: "A bug in the handler; the message is retried rather than dropped.",
} as const;

/** A transient outcome's reason code. */
export type TransientReason = keyof typeof TRANSIENT_REASONS;

/** Every rejection code, in documentation order. */
export const REJECTION_REASON_CODES = Object.keys(REJECTION_REASONS) as RejectionReason[];
/** Every transient code, in documentation order. */
export const TRANSIENT_REASON_CODES = Object.keys(TRANSIENT_REASONS) as TransientReason[];

/**
 * Raised when the processor is built with bad settings (environment variables or deps).
 * Lists every problem at once, so one deploy fixes them all.
 *
 * A plain `Error` made by a factory and recognised by a guard, not a subclass:
 * Pulumi's closure serialization turns classes into functions without their
 * prototype chain, so an `extends Error` class thrown from the Lambda archive
 * would reach the runtime as an opaque object with no message.
 *
 * @example
 * try { eventProcessorFromEnvironment(); } catch (e) { if (isEventProcessorConfigurationError(e)) console.error(e.problems); }
 */
export interface EventProcessorConfigurationError extends Error {
    readonly name: "EventProcessorConfigurationError";
    readonly problems: readonly string[];
}

/** Builds the configuration error naming every problem. */
export function eventProcessorConfigurationError(problems: readonly string[]): EventProcessorConfigurationError {
    const error = new Error(`Invalid event processor configuration:\n  - ${problems.join("\n  - ")}`) as Error & {
        problems?: readonly string[];
    };
    error.name = "EventProcessorConfigurationError";
    error.problems = problems;
    return error as EventProcessorConfigurationError;
}

/** True for an error built by {@link eventProcessorConfigurationError}. */
export function isEventProcessorConfigurationError(error: unknown): error is EventProcessorConfigurationError {
    return (
        error instanceof Error &&
        error.name === "EventProcessorConfigurationError" &&
        Array.isArray((error as { problems?: unknown }).problems)
    );
}
