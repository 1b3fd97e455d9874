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
import {
    EVENT_BATCH_SUMMARY,
    EVENT_DWELL_METRIC,
    EVENT_OUTCOME_METRICS,
    EVENT_PROCESSOR_SERVICE_NAME,
    EVENT_REASON_METRIC,
} from "../../contracts/event-pipeline";
import type { OutcomeKind, ProcessingOutcome } from "./types";

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
export const BATCH_SUMMARY_MESSAGE = EVENT_BATCH_SUMMARY.message;

/** One tenant's share of a batch, as the summary line's `tenants` list carries it (EVENT_BATCH_SUMMARY.tenantFields). */
export interface TenantBatchSummary {
    readonly clientId: string;
    /** Messages of this tenant in the batch, whatever their outcome. */
    readonly events: number;
    readonly rejected: number;
    /** Longest SentTimestamp-to-stored of its stored events, ms (0 when none was stored). */
    readonly maxDwellMs: number;
}

/**
 * Per-tenant counts of a batch, in order of first appearance. Only clientIds that passed the envelope's
 * pattern are named (a message without one counts in the batch totals only), so no payload reaches the logs.
 *
 * @example
 * tenantSummaries(outcomes); // [{ clientId: "acme", events: 9, rejected: 1, maxDwellMs: 420 }]
 */
export function tenantSummaries(outcomes: readonly ProcessingOutcome[]): TenantBatchSummary[] {
    const tenants = new Map<string, { clientId: string; events: number; rejected: number; maxDwellMs: number }>();
    for (const outcome of outcomes) {
        if (outcome.clientId === undefined) continue;
        let tenant = tenants.get(outcome.clientId);
        if (tenant === undefined) {
            tenant = { clientId: outcome.clientId, events: 0, rejected: 0, maxDwellMs: 0 };
            tenants.set(outcome.clientId, tenant);
        }
        tenant.events += 1;
        if (outcome.outcome === "rejected") tenant.rejected += 1;
        if (outcome.outcome === "persisted" && outcome.dwellMs !== undefined)
            tenant.maxDwellMs = Math.max(tenant.maxDwellMs, outcome.dwellMs);
    }
    return [...tenants.values()];
}

/**
 * Writes the batch's one INFO summary line: the number of messages, the count per outcome, the longest
 * dwell, and `tenants`, a list with one entry per tenant of the batch. A list (not a map keyed by clientId)
 * because CloudWatch Logs Insights can `unnest` a list from `jsonParse` into one record per element,
 * while map keys cannot be grouped by (the saved queries in pipeline-monitoring.ts rely on it).
 *
 * @example
 * logBatchSummary(logger, outcomes);
 * // {"message":"batch processed","records":10,"persisted":9,"duplicate":0,"rejected":1,"transient":0,"maxDwellMs":420,
 * //  "tenants":[{"clientId":"acme","events":10,"rejected":1,"maxDwellMs":420}]}
 */
export function logBatchSummary(logger: Logger, outcomes: readonly ProcessingOutcome[]): void {
    const tenants = tenantSummaries(outcomes);
    const maxDwellMs = tenants.reduce((max, tenant) => Math.max(max, tenant.maxDwellMs), 0);
    logger.info(BATCH_SUMMARY_MESSAGE, {
        records: outcomes.length,
        ...countOutcomes(outcomes),
        maxDwellMs,
        [EVENT_BATCH_SUMMARY.tenants]: tenants,
    });
}

/**
 * Publishes the batch's EMF metrics: a count per outcome (zeros included), every stored event's dwell
 * time as one values array in the same document (CloudWatch computes percentiles from the values; no
 * tenant dimension), and a count per (outcome, reason).
 */
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
    for (const outcome of outcomes) {
        if (outcome.outcome === "persisted" && outcome.dwellMs !== undefined) {
            metrics.addMetric(EVENT_DWELL_METRIC, MetricUnit.Milliseconds, outcome.dwellMs);
        }
    }
    // Powertools publishes by itself when a metric reaches 100 values (a batch of exactly 100 stored events), and
    // publishing an empty store prints a warning line per batch: publish only what is left.
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    for (const { outcome, reason, count } of byReason.values()) {
        const single = metrics.singleMetric();
        single.addDimension("outcome", outcome);
        single.addDimension("reason", reason);
        single.addMetric(EVENT_REASON_METRIC, MetricUnit.Count, count);
    }
}
