/**
 * Metrics (Powertools, CloudWatch EMF): counts per outcome, never any PII.
 * Namespace from `POWERTOOLS_METRICS_NAMESPACE` (the component sets the project name).
 */
import metricsLib = require("@aws-lambda-powertools/metrics");

/**
 * A Metrics instance for `serviceName`, unless the environment names one. Metric names: `EMAIL_METRICS`
 * (contracts/email-service.ts).
 *
 * @example
 * const metrics = emailMetrics(EMAIL_SERVICE_NAMES.api);
 */
export function emailMetrics(serviceName: string): metricsLib.Metrics {
    return new metricsLib.Metrics({
        ...(process.env.POWERTOOLS_SERVICE_NAME ? {} : { serviceName }),
        ...(process.env.POWERTOOLS_METRICS_NAMESPACE ? {} : { namespace: "email-service" }),
    });
}

/**
 * Adds one (or `value`) to a count metric.
 *
 * @example
 * count(metrics, EMAIL_METRICS.sent);
 */
export function count(metrics: metricsLib.Metrics, name: string, value = 1): void {
    metrics.addMetric(name, metricsLib.MetricUnit.Count, value);
}
