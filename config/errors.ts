/** One problem with one stack config key. */
export interface ConfigIssue {
    /** Fully qualified key, e.g. `event-ingestion:batchSize`. */
    readonly key: string;
    /** The value given (as parsed from the stack file), or undefined when missing. */
    readonly value: unknown;
    /** What is allowed. */
    readonly allowed: string;
}

/** Raised at program start when stack config is invalid; lists every problem at once. */
export class ConfigValidationError extends Error {
    constructor(readonly issues: readonly ConfigIssue[]) {
        super(
            `Invalid stack configuration (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n` +
                issues.map((i) => `  - ${i.key} = ${i.value === undefined ? "(not set)" : JSON.stringify(i.value)}: ${i.allowed}`).join("\n"),
        );
        this.name = "ConfigValidationError";
    }
}
