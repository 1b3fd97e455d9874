/**
 * Lambda's application log-level filter, as the AWS Lambda Developer Guide documents it
 * ("Log-level filtering"): with JSON logs, each line a function prints gets a level from its
 * JSON `level` key; a line whose `level` is missing or invalid (or that is not JSON) is INFO;
 * Lambda sends a line to CloudWatch Logs only when its level is at or above the function's
 * `applicationLogLevel`.
 */

/** Lambda's application log levels, most detailed first. */
export const LAMBDA_APPLICATION_LOG_LEVELS = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"] as const;
export type LambdaApplicationLogLevel = (typeof LAMBDA_APPLICATION_LOG_LEVELS)[number];

/** The level Lambda assigns a printed line. */
export function lambdaLevelOf(line: string): LambdaApplicationLogLevel {
    let parsed: unknown;
    try {
        parsed = JSON.parse(line);
    } catch {
        return "INFO";
    }
    const level = typeof parsed === "object" && parsed !== null ? (parsed as { level?: unknown }).level : undefined;
    const upper = typeof level === "string" ? level.toUpperCase() : undefined;
    return (LAMBDA_APPLICATION_LOG_LEVELS as readonly string[]).includes(upper ?? "") ? (upper as LambdaApplicationLogLevel) : "INFO";
}

/**
 * True when Lambda sends `line` to CloudWatch Logs under `applicationLogLevel`.
 *
 * @example
 * passesLambdaLogFilter('{"_aws":{"CloudWatchMetrics":[]}}', "WARN"); // false: no level is INFO
 */
export function passesLambdaLogFilter(line: string, applicationLogLevel: LambdaApplicationLogLevel): boolean {
    const rank = (level: LambdaApplicationLogLevel) => LAMBDA_APPLICATION_LOG_LEVELS.indexOf(level);
    return rank(lambdaLevelOf(line)) >= rank(applicationLogLevel);
}

/** True when `line` is an Embedded Metric Format document (what Powertools Metrics prints). */
export function isEmfDocument(line: string): boolean {
    try {
        const parsed = JSON.parse(line) as { _aws?: { CloudWatchMetrics?: unknown } };
        return Array.isArray(parsed?._aws?.CloudWatchMetrics);
    } catch {
        return false;
    }
}
