/**
 * Metrics (Powertools, CloudWatch EMF): counts per outcome, never any PII.
 * Namespace from `POWERTOOLS_METRICS_NAMESPACE` (the component sets the project name).
 */
import metricsLib = require("@aws-lambda-powertools/metrics");

/** Metric names the API and the worker emit (Count). */
export const EMAIL_METRICS = {
    accepted: "EmailsAccepted",
    replayed: "EmailsReplayed",
    rejected: "EmailRequestsRejected",
    notAccepted: "EmailRequestsNotAccepted",
    offloaded: "EmailsOffloadedToS3",
    sent: "EmailsSent",
    sentBySecondary: "EmailsSentBySecondary",
    scheduled: "EmailsScheduled",
    deferred: "EmailDeliveriesDeferred",
    deadLettered: "EmailsDeadLettered",
    retried: "EmailDeliveriesRetried",
    duplicatesDropped: "EmailDuplicatesDropped",
} as const;

/** A Metrics instance for `serviceName`, unless the environment names one. */
export function emailMetrics(serviceName: string): metricsLib.Metrics {
    return new metricsLib.Metrics({
        ...(process.env.POWERTOOLS_SERVICE_NAME ? {} : { serviceName }),
        ...(process.env.POWERTOOLS_METRICS_NAMESPACE ? {} : { namespace: "email-service" }),
    });
}

/** Adds one to a count metric. */
export function count(metrics: metricsLib.Metrics, name: string, value = 1): void {
    metrics.addMetric(name, metricsLib.MetricUnit.Count, value);
}
