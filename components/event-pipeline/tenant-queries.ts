/**
 * CloudWatch Logs Insights queries over the event processor's per-batch summary line: which tenants
 * send the most, are rejected the most, and wait the longest. They read only the one summary line per
 * batch (no line per event): `jsonParse(@message)` makes its `tenants` list a LIST, and `unnest`
 * turns each element into a record ("unnest", CloudWatch Logs Insights query syntax; its own example
 * aggregates with `stats ... by` an unnested field). Pure strings, so tests run them against the
 * lines the handler really prints.
 */
import { EVENT_BATCH_SUMMARY } from "../../contracts/event-pipeline";

const { clientId, events, rejected, maxDwellMs } = EVENT_BATCH_SUMMARY.tenantFields;

/** How many tenants each query lists. */
export const TENANT_QUERY_LIMIT = 20;

function perTenant(aggregate: string, alias: string): string {
    return [
        `filter message = "${EVENT_BATCH_SUMMARY.message}"`,
        `| fields jsonParse(@message) as summary`,
        `| unnest summary.${EVENT_BATCH_SUMMARY.tenants} into tenant`,
        `| stats ${aggregate} as ${alias} by tenant.${clientId}`,
        `| sort ${alias} desc`,
        `| limit ${TENANT_QUERY_LIMIT}`,
    ].join("\n");
}

/** Saved query name suffix -> query string (the names group under `<project>/<stack>/events/` in the console). */
export const TENANT_QUERIES = {
    "tenants-sending-most": perTenant(`sum(tenant.${events})`, "events"),
    "tenants-rejected-most": perTenant(`sum(tenant.${rejected})`, "rejected"),
    "tenants-waiting-longest": perTenant(`max(tenant.${maxDwellMs})`, "maxDwellMs"),
} as const;
