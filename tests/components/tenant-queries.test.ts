/**
 * The saved Logs Insights queries answer "which tenants send the most, are rejected the most, wait the
 * longest" from the lines the processor really prints: the processor runs a batch, its INFO output is
 * captured, and each query string is run over it by a small evaluator of exactly the commands the
 * queries use (filter, fields jsonParse, unnest, stats sum|max by, sort, limit), with the semantics
 * CloudWatch documents ("unnest", CloudWatch Logs Insights query syntax: `jsonParse` makes a LIST,
 * `unnest` emits one record per element, its example aggregates `stats ... by` an unnested field).
 * A query using anything else, or a field the summary line does not carry, fails here.
 */
import { expect } from "chai";
import { Logger } from "@aws-lambda-powertools/logger";
import { TENANT_QUERIES, TENANT_QUERY_LIMIT } from "../../components/event-pipeline/tenant-queries";
import { createBatchProcessor } from "../../handlers/event-processor";
import { captureOutput, quietObservability, recordingClients } from "../handlers/event-processor/harness";
import { sqsRecord, testEventTypes, validEvent } from "../support/factories/events";

type Row = Record<string, unknown>;

function path(row: Row, dotted: string): unknown {
    let value: unknown = row;
    for (const key of dotted.split(".")) {
        if (value === null || typeof value !== "object") return undefined;
        value = (value as Row)[key];
    }
    return value;
}

/** Runs one of the saved queries over raw log lines; throws on any command it does not know. */
export function runInsightsQuery(query: string, lines: readonly string[]): Row[] {
    let rows: Row[] = lines.flatMap((line) => {
        try {
            const parsed = JSON.parse(line);
            return parsed && typeof parsed === "object" ? [{ ...parsed, "@message": line }] : [];
        } catch {
            return [];
        }
    });
    for (const command of query.split("\n").map((part) => part.replace(/^\|\s*/, "").trim())) {
        let m: RegExpExecArray | null;
        if ((m = /^filter (\w+) = "([^"]*)"$/.exec(command))) {
            const [, field, value] = m;
            rows = rows.filter((row) => row[field] === value);
        } else if ((m = /^fields jsonParse\(@message\) as (\w+)$/.exec(command))) {
            const alias = m[1];
            rows = rows.map((row) => ({ ...row, [alias]: JSON.parse(row["@message"] as string) }));
        } else if ((m = /^unnest ([\w.]+) into (\w+)$/.exec(command))) {
            const [, list, alias] = m;
            rows = rows.flatMap((row) => {
                const value = path(row, list);
                if (!Array.isArray(value)) throw new Error(`unnest: ${list} is not a list in ${String(row["@message"])}`);
                return value.map((item) => ({ ...row, [alias]: item }));
            });
        } else if ((m = /^stats (sum|max)\(([\w.]+)\) as (\w+) by ([\w.]+)$/.exec(command))) {
            const [, aggregate, field, alias, by] = m;
            const groups = new Map<unknown, number>();
            for (const row of rows) {
                const key = path(row, by);
                const value = path(row, field);
                if (key === undefined || typeof value !== "number") throw new Error(`stats: ${field} by ${by} missing in a record`);
                const previous = groups.get(key);
                groups.set(key, previous === undefined ? value : aggregate === "sum" ? previous + value : Math.max(previous, value));
            }
            rows = [...groups].map(([key, value]) => ({ [by]: key, [alias]: value }));
        } else if ((m = /^sort (\w+) (asc|desc)$/.exec(command))) {
            const [, field, order] = m;
            rows = [...rows].sort((a, b) => (order === "desc" ? -1 : 1) * ((a[field] as number) - (b[field] as number)));
        } else if ((m = /^limit (\d+)$/.exec(command))) {
            rows = rows.slice(0, Number(m[1]));
        } else {
            throw new Error(`the test evaluator does not know the command ${JSON.stringify(command)}`);
        }
    }
    return rows;
}

describe("saved Logs Insights queries over the processor's batch summary lines", () => {
    async function printedLines() {
        const clients = recordingClients();
        const sentAt = Date.parse("2026-01-01T00:00:00Z");
        let clock = sentAt + 1_000;
        const processBatch = createBatchProcessor({
            dynamodb: clients.dynamodb,
            sqs: clients.sqs,
            tableName: "events",
            deadLetterQueueUrl: "https://sqs.eu-west-1.amazonaws.com/1/dlq",
            eventTypes: testEventTypes(),
            metrics: quietObservability().metrics,
            logger: new Logger({ serviceName: "event-processor", logLevel: "INFO" }),
            now: () => new Date(clock),
        });
        const at = (body: ReturnType<typeof validEvent> | string, sent: number) => {
            const record = sqsRecord(body);
            return { ...record, attributes: { ...record.attributes, SentTimestamp: String(sent) } };
        };
        const invalid = (clientId: string) => validEvent({ clientId, data: { ...validEvent().data, totalAmount: "59.97" } });
        const { lines } = await captureOutput(async () => {
            // Batch 1 (stored 1 s after sending): noisy sends 4, quiet 1, picky 1 stored + 2 rejected, and one body without a clientId.
            await processBatch([
                ...Array.from({ length: 4 }, () => at(validEvent({ clientId: "noisy" }), sentAt)),
                at(validEvent({ clientId: "quiet" }), sentAt),
                at(validEvent({ clientId: "picky" }), sentAt),
                at(invalid("picky"), sentAt),
                at(invalid("picky"), sentAt),
                at("not json", sentAt),
            ]);
            // Batch 2 (stored 9 s after sending): noisy 3 more, quiet 1 that waited.
            clock = sentAt + 9_000;
            await processBatch([
                ...Array.from({ length: 3 }, () => at(validEvent({ clientId: "noisy" }), sentAt)),
                at(validEvent({ clientId: "quiet" }), sentAt),
            ]);
        });
        return lines;
    }

    it("which tenants send the most", async () => {
        const rows = runInsightsQuery(TENANT_QUERIES["tenants-sending-most"], await printedLines());
        expect(rows).to.deep.equal([
            { "tenant.clientId": "noisy", events: 7 },
            { "tenant.clientId": "picky", events: 3 },
            { "tenant.clientId": "quiet", events: 2 },
        ]);
    });

    it("which tenants are rejected the most", async () => {
        const rows = runInsightsQuery(TENANT_QUERIES["tenants-rejected-most"], await printedLines());
        expect(rows[0]).to.deep.equal({ "tenant.clientId": "picky", rejected: 2 });
        expect(rows.slice(1).map((row) => row.rejected)).to.deep.equal([0, 0]);
    });

    it("which tenants wait the longest (SentTimestamp to stored)", async () => {
        const rows = runInsightsQuery(TENANT_QUERIES["tenants-waiting-longest"], await printedLines());
        expect(rows.slice(0, 2).map((row) => row.maxDwellMs)).to.deep.equal([9_000, 9_000]);
        expect(rows.find((row) => row["tenant.clientId"] === "picky")).to.deep.equal({ "tenant.clientId": "picky", maxDwellMs: 1_000 });
    });

    it("needs one summary line per batch, not one per event, and lists at most the limit", async () => {
        const lines = await printedLines();
        const summaries = lines.filter((line) => JSON.parse(line).message === "batch processed");
        expect(summaries).to.have.length(2);
        // The rejects' own WARN lines are there too, but the queries read the summaries only.
        expect(lines.filter((line) => JSON.parse(line).level === "INFO")).to.have.length(2);
        for (const query of Object.values(TENANT_QUERIES)) expect(query).to.match(new RegExp(`\\| limit ${TENANT_QUERY_LIMIT}$`));
    });

    it("the evaluator refuses a command it does not know (so a query it cannot check fails here)", () => {
        expect(() => runInsightsQuery('filter message = "x"\n| parse @message "*" as y', [])).to.throw(/does not know/);
    });
});
