/**
 * The error the event processor raises on bad settings. The reason codes of
 * message outcomes are contract values: contracts/event-pipeline.ts.
 */

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
 * try { eventProcessorFromEnvironment(); } catch (error) { if (isEventProcessorConfigurationError(error)) console.error(error.problems); }
 */
export interface EventProcessorConfigurationError extends Error {
    readonly name: "EventProcessorConfigurationError";
    readonly problems: readonly string[];
}

/**
 * Builds the configuration error naming every problem.
 *
 * @example
 * throw eventProcessorConfigurationError(["EVENT_TABLE_NAME is required (the event table's name)"]);
 */
export function eventProcessorConfigurationError(problems: readonly string[]): EventProcessorConfigurationError {
    const error = new Error(`Invalid event processor configuration:\n  - ${problems.join("\n  - ")}`) as Error & {
        problems?: readonly string[];
    };
    error.name = "EventProcessorConfigurationError";
    error.problems = problems;
    return error as EventProcessorConfigurationError;
}

/**
 * True for an error built by {@link eventProcessorConfigurationError}.
 *
 * @example
 * if (isEventProcessorConfigurationError(error)) console.error(error.problems);
 */
export function isEventProcessorConfigurationError(error: unknown): error is EventProcessorConfigurationError {
    return (
        error instanceof Error &&
        error.name === "EventProcessorConfigurationError" &&
        Array.isArray((error as { problems?: unknown }).problems)
    );
}
