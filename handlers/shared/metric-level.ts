/**
 * EMF metric documents that survive Lambda's log-level filter. With JSON logs, Lambda drops
 * every application line below the function's `applicationLogLevel` and reads a line without
 * a `level` key as INFO ("Log-level filtering", AWS Lambda Developer Guide). Powertools' EMF
 * documents carry no `level`, so at WARN or ERROR Lambda would drop every metric. Lowering the
 * filter instead would not do: with advanced logging controls on, Powertools Logger takes
 * Lambda's level (`AWS_LAMBDA_LOG_LEVEL`) over its own, so INFO lines would come back too.
 * Each document therefore carries the filter's own level as EMF metadata (a top-level key that
 * is no dimension and no metric), which Lambda passes and CloudWatch ignores.
 */

/**
 * Lambda's application log levels above INFO, which a line without `level` would not pass. An array,
 * not a Set: Pulumi's closure serialization captures module values, and a Set does not survive it.
 */
const ABOVE_INFO: readonly string[] = ["WARN", "ERROR", "FATAL"];

/** What {@link markForLogFilter} needs of a Powertools `Metrics` (or its `singleMetric()`). */
export interface MetricMetadataSink {
    addMetadata(key: string, value: string): void;
}

/**
 * The `level` an EMF document needs to pass Lambda's filter: the filter's level when it is
 * above INFO, else undefined (INFO, the level Lambda gives a line without one, already passes).
 *
 * @example
 * metricDocumentLevel({ AWS_LAMBDA_LOG_LEVEL: "WARN" }); // "WARN"
 * metricDocumentLevel({ AWS_LAMBDA_LOG_LEVEL: "DEBUG" }); // undefined
 */
export function metricDocumentLevel(environment: NodeJS.ProcessEnv = process.env): string | undefined {
    const level = environment.AWS_LAMBDA_LOG_LEVEL?.toUpperCase();
    return level !== undefined && ABOVE_INFO.includes(level) ? level : undefined;
}

/**
 * Gives the next EMF document of `metrics` the level Lambda's filter passes. Call it before each
 * `publishStoredMetrics()` (Powertools clears metadata when it publishes) and on a `singleMetric()`
 * before its `addMetric`.
 *
 * @example
 * markForLogFilter(metrics);
 * metrics.publishStoredMetrics();
 */
export function markForLogFilter<T extends MetricMetadataSink>(metrics: T, environment: NodeJS.ProcessEnv = process.env): T {
    const level = metricDocumentLevel(environment);
    if (level !== undefined) metrics.addMetadata("level", level);
    return metrics;
}
