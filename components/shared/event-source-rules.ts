/**
 * What the Lambda API accepts for an SQS event source mapping, as pure rules (no Pulumi, no I/O), so the
 * component refuses at preview what `CreateEventSourceMapping` would refuse at `pulumi up`, and the local
 * poller refuses the same settings. Sources: "Lambda parameters for Amazon SQS event source mappings" and
 * "Configuring scaling behavior for Amazon SQS event source mappings" (AWS Lambda Developer Guide), and
 * `BatchSize` in "CreateEventSourceMapping" (AWS Lambda API Reference).
 */

/** Lambda's default `BatchSize` for SQS, and the largest allowed without a batching window (and for FIFO queues). */
export const SQS_DEFAULT_BATCH_SIZE = 10;
/** The largest `BatchSize` for a standard queue. */
export const SQS_STANDARD_MAX_BATCH_SIZE = 10_000;
/** The largest `MaximumBatchingWindowInSeconds`. */
export const SQS_MAX_BATCHING_WINDOW_SECONDS = 300;
/** `ScalingConfig.MaximumConcurrency` bounds. */
export const SQS_MAXIMUM_CONCURRENCY_RANGE = { min: 2, max: 1000 } as const;
/**
 * A synchronous invocation's payload limit: Lambda invokes a batch early when its records reach it
 * ("Lambda quotas": 6 MB for synchronous invocation requests and responses).
 */
export const LAMBDA_SYNC_PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024;

/** An SQS event source mapping's settings, in the Lambda API's own names. */
export interface SqsEventSourceSettings {
    /** @default 10 */
    batchSize?: number;
    /** @default 0 */
    maximumBatchingWindowInSeconds?: number;
    /** @default undefined (not set) */
    maximumConcurrency?: number;
    /** The source is a FIFO queue: batch size at most 10 and no batching window. @default false */
    fifo?: boolean;
}

/**
 * Every rule the settings break, each naming the setting, the value and what is allowed; empty when valid.
 *
 * @example
 * sqsEventSourceProblems({ batchSize: 100, maximumBatchingWindowInSeconds: 0 });
 * // ["batchSize = 100: above 10 needs maximumBatchingWindowInSeconds >= 1"]
 */
export function sqsEventSourceProblems(settings: SqsEventSourceSettings): string[] {
    const problems: string[] = [];
    const batchSize = settings.batchSize ?? SQS_DEFAULT_BATCH_SIZE;
    const window = settings.maximumBatchingWindowInSeconds ?? 0;
    const maxBatch = settings.fifo ? SQS_DEFAULT_BATCH_SIZE : SQS_STANDARD_MAX_BATCH_SIZE;
    const integerIn = (key: string, value: unknown, min: number, max: number, why = "") => {
        if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
            problems.push(`${key} = ${JSON.stringify(value)}: must be an integer from ${min} to ${max}${why}`);
            return false;
        }
        return true;
    };
    const batchOk = integerIn("batchSize", batchSize, 1, maxBatch, settings.fifo ? " (FIFO queue)" : "");
    if (settings.fifo) {
        if (window !== 0)
            problems.push(`maximumBatchingWindowInSeconds = ${JSON.stringify(window)}: a FIFO queue allows no batching window`);
    } else if (integerIn("maximumBatchingWindowInSeconds", window, 0, SQS_MAX_BATCHING_WINDOW_SECONDS) && batchOk) {
        if (batchSize > SQS_DEFAULT_BATCH_SIZE && window < 1) {
            problems.push(`batchSize = ${batchSize}: above ${SQS_DEFAULT_BATCH_SIZE} needs maximumBatchingWindowInSeconds >= 1`);
        }
    }
    if (settings.maximumConcurrency !== undefined) {
        integerIn("maximumConcurrency", settings.maximumConcurrency, SQS_MAXIMUM_CONCURRENCY_RANGE.min, SQS_MAXIMUM_CONCURRENCY_RANGE.max);
    }
    return problems;
}
