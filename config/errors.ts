/** One problem with one stack config key. */
export interface ConfigIssue {
    /** Fully qualified key, e.g. `event-ingestion:batchSize`; a field inside an object setting is `key.field`. */
    readonly key: string;
    /** The value given (as parsed from the stack file), or undefined when missing. */
    readonly value: unknown;
    /** What is allowed. */
    readonly allowed: string;
    /** The value is a secret: the message shows `[secret]` instead. @default false */
    readonly secret?: boolean;
}

/** Shown instead of a secret value. */
export const REDACTED = "[secret]";

/** Object fields whose values are credentials, wherever they appear in a config value. */
const SECRET_FIELD = /pass(word)?|secret|token|credential|private|api[-_]?key/i;

/**
 * The value with every credential-like field replaced by `[secret]`, for messages.
 *
 * @example
 * redactSecrets({ host: "smtp.example.com", password: "hunter2" }); // { host: "smtp.example.com", password: "[secret]" }
 */
export function redactSecrets(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(redactSecrets);
    if (value === null || typeof value !== "object") return value;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, SECRET_FIELD.test(k) ? REDACTED : redactSecrets(v)]));
}

/** How an issue's value appears in a message: `(not set)`, `[secret]`, or JSON with credentials redacted. */
export function describeValue(issue: ConfigIssue): string {
    if (issue.value === undefined) return "(not set)";
    if (issue.secret || SECRET_FIELD.test(issue.key.split(/[:.]/).pop() ?? "")) return REDACTED;
    return JSON.stringify(redactSecrets(issue.value));
}

/** Raised at program start when stack config is invalid; lists every problem at once, never a secret value. */
export class ConfigValidationError extends Error {
    /** Every problem; secret values already replaced by `[secret]`, so logging this is safe too. */
    readonly issues: readonly ConfigIssue[];

    constructor(issues: readonly ConfigIssue[]) {
        super(
            `Invalid stack configuration (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n` +
                issues.map((i) => `  - ${i.key} = ${describeValue(i)}: ${i.allowed}`).join("\n"),
        );
        this.name = "ConfigValidationError";
        this.issues = issues.map((i) =>
            i.value === undefined ? i : { ...i, value: describeValue(i) === REDACTED ? REDACTED : redactSecrets(i.value) },
        );
    }
}
