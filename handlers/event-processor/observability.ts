/**
 * Logs and metrics of a batch. Every rejected or retried message gets its own
 * WARN/ERROR line with its reason; stored messages (persisted, duplicate) are
 * counted in one INFO summary line per batch, with a per-message line at DEBUG.
 * Logs carry ids, type, outcome and reason, never the `data` payload or the body.
 *
 * Why a summary: the stored message is the common case, and one INFO line per
 * stored event (about 600 bytes with the Lambda context) costs more in CloudWatch
 * Logs ingestion than the DynamoDB write itself; its content (ids) is in the table
 * and its count is in the metrics.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { EVENT_OUTCOME_METRICS, EVENT_PROCESSOR_SERVICE_NAME, EVENT_REASON_METRIC } from "../../contracts/event-pipeline";
import type { OutcomeKind, ProcessingOutcome } from "./types";
import { markForLogFilter } from "../shared/metric-level";

/** Default EMF namespace (POWERTOOLS_METRICS_NAMESPACE overrides it). */
export const DEFAULT_METRICS_NAMESPACE = "EventIngestion";

/**
 * The processor's logger when none is given: service `event-processor` unless POWERTOOLS_SERVICE_NAME names one.
 *
 * @example
 * const logger = defaultLogger();
 */
export function defaultLogger(): Logger {
    return new Logger(process.env.POWERTOOLS_SERVICE_NAME ? {} : { serviceName: EVENT_PROCESSOR_SERVICE_NAME });
}

/**
 * The processor's metrics when none are given: service and namespace from POWERTOOLS_* or the defaults.
 *
 * @example
 * const metrics = defaultMetrics();
 */
export function defaultMetrics(): Metrics {
    return new Metrics({
        ...(process.env.POWERTOOLS_SERVICE_NAME ? {} : { serviceName: EVENT_PROCESSOR_SERVICE_NAME }),
        ...(process.env.POWERTOOLS_METRICS_NAMESPACE ? {} : { namespace: DEFAULT_METRICS_NAMESPACE }),
    });
}

/** Log levels at which a stored message gets its own line (see {@link logOutcome}). */
const PER_EVENT_LEVELS: ReadonlySet<string> = new Set(["TRACE", "DEBUG"]);

/**
 * True when the logger writes per-message lines for stored events (level DEBUG or
 * TRACE, including Powertools log sampling). Checked once per batch, so a batch at
 * INFO builds no per-message fields at all.
 *
 * @example
 * const perEvent = logsStoredEvents(logger);
 */
export function logsStoredEvents(logger: Logger): boolean {
    return PER_EVENT_LEVELS.has(logger.getLevelName());
}

/**
 * Writes the outcome's structured log line: ids, type, outcome, reason. Never the body or `data`.
 * Rejected: WARN; transient: ERROR; persisted and duplicate: DEBUG (the batch summary counts them at INFO).
 */
export function logOutcome(logger: Logger, outcome: ProcessingOutcome): void {
    const fields = {
        messageId: outcome.messageId,
        clientId: outcome.clientId,
        eventId: outcome.eventId,
        type: outcome.type,
        outcome: outcome.outcome,
        ...(outcome.outcome === "rejected" || outcome.outcome === "transient" ? { reason: outcome.reason, detail: outcome.detail } : {}),
        ...(outcome.outcome === "transient" && outcome.rejectionReason ? { rejectionReason: outcome.rejectionReason } : {}),
    };
    switch (outcome.outcome) {
        case "persisted":
        case "duplicate":
            logger.debug(`event ${outcome.outcome}`, fields);
            break;
        case "rejected":
            logger.warn("event rejected", fields);
            break;
        case "transient":
            logger.error("event will be retried", fields);
            break;
    }
}

/** Counts of a batch's messages by outcome. */
export function countOutcomes(outcomes: readonly ProcessingOutcome[]): Record<OutcomeKind, number> {
    const counts: Record<OutcomeKind, number> = { persisted: 0, duplicate: 0, rejected: 0, transient: 0 };
    for (const outcome of outcomes) counts[outcome.outcome] += 1;
    return counts;
}

/** Message of the per-batch summary line. */
export const BATCH_SUMMARY_MESSAGE = "batch processed";

/**
 * Writes the batch's one INFO summary line: the number of messages and the count per outcome.
 *
 * @example
 * logBatchSummary(logger, outcomes); // {"message":"batch processed","records":10,"persisted":9,"duplicate":0,"rejected":1,"transient":0}
 */
export function logBatchSummary(logger: Logger, outcomes: readonly ProcessingOutcome[]): void {
    logger.info(BATCH_SUMMARY_MESSAGE, { records: outcomes.length, ...countOutcomes(outcomes) });
}

/** Publishes the batch's EMF metrics: a count per outcome (zeros included) and per (outcome, reason). */
export function publishOutcomeMetrics(metrics: Metrics, outcomes: readonly ProcessingOutcome[]): void {
    const counts = countOutcomes(outcomes);
    const byReason = new Map<string, { outcome: OutcomeKind; reason: string; count: number }>();
    for (const outcome of outcomes) {
        if (outcome.outcome === "rejected" || outcome.outcome === "transient") {
            const key = `${outcome.outcome}:${outcome.reason}`;
            const entry = byReason.get(key) ?? { outcome: outcome.outcome, reason: outcome.reason, count: 0 };
            entry.count += 1;
            byReason.set(key, entry);
        }
    }
    for (const [outcome, metric] of Object.entries(EVENT_OUTCOME_METRICS) as [OutcomeKind, string][]) {
        metrics.addMetric(metric, MetricUnit.Count, counts[outcome]);
    }
    markForLogFilter(metrics).publishStoredMetrics();
    for (const { outcome, reason, count } of byReason.values()) {
        const single = markForLogFilter(metrics.singleMetric());
        single.addDimension("outcome", outcome);
        single.addDimension("reason", reason);
        single.addMetric(EVENT_REASON_METRIC, MetricUnit.Count, count);
    }
}
