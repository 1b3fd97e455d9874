/**
 * The example Sender's polling cursor (examples/sender/poll.ts) against a model of the arrival
 * index: events are stamped `receivedAt` before they become visible, an arbitrary delay later
 * (up to the lag), in any order, while the poller polls at arbitrary times. Every event must be
 * delivered exactly once. The index is eventually consistent (Amazon DynamoDB Developer Guide,
 * "DynamoDB read consistency": all reads from global secondary indexes are eventually consistent),
 * which is what the visibility delay models; the same loop runs on DynamoDB Local in
 * tests/local/pipeline-app/polling.e2e.test.ts.
 */
import { expect } from "chai";
import fc from "fast-check";
import { GetItemCommand, QueryCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";
import { pollTenant, startCursor, type PollClient, type PollCursor, type StoredEvent } from "../../examples/sender/poll";

interface ModelEvent {
    clientId: string;
    eventId: string;
    /** ms since the model's epoch */
    stampedAt: number;
    /** ms after the stamp at which the item is in the table and the index */
    visibleAfter: number;
}

const EPOCH_MS = Date.parse("2026-06-01T00:00:00.000Z");
const iso = (ms: number) => new Date(EPOCH_MS + ms).toISOString();
const PAGE = 3;

/** The table and its arrival index as a poller at `clock()` sees them; pages of 3 to exercise pagination. */
function modelIndex(events: readonly ModelEvent[], clock: () => number): PollClient & { queries: number } {
    const visible = () => events.filter((e) => e.stampedAt + e.visibleAfter <= clock());
    const model = {
        queries: 0,
        async send(command: unknown) {
            if (command instanceof QueryCommand) {
                model.queries++;
                const input = command.input;
                const clientId = input.ExpressionAttributeValues![":clientId"].S!;
                const since = input.ExpressionAttributeValues![":since"].S!;
                const matching = visible()
                    .filter((e) => e.clientId === clientId && iso(e.stampedAt) >= since)
                    .sort((a, b) => a.stampedAt - b.stampedAt || a.eventId.localeCompare(b.eventId));
                const start = input.ExclusiveStartKey ? matching.findIndex((e) => e.eventId === input.ExclusiveStartKey!.eventId.S) + 1 : 0;
                const page = matching.slice(start, start + PAGE);
                const key = (e: ModelEvent): Record<string, AttributeValue> => ({
                    clientId: { S: e.clientId },
                    eventId: { S: e.eventId },
                    receivedAt: { S: iso(e.stampedAt) },
                });
                return {
                    Items: page.map(key),
                    LastEvaluatedKey: start + PAGE < matching.length ? key(page[page.length - 1]) : undefined,
                    ConsumedCapacity: { CapacityUnits: 0.5 },
                };
            }
            if (command instanceof GetItemCommand) {
                const { clientId, eventId } = command.input.Key!;
                const found = visible().find((e) => e.clientId === clientId.S && e.eventId === eventId.S);
                return {
                    Item: found
                        ? { clientId: { S: found.clientId }, eventId: { S: found.eventId }, receivedAt: { S: iso(found.stampedAt) } }
                        : undefined,
                    ConsumedCapacity: { CapacityUnits: 1 },
                };
            }
            throw new Error(`unexpected command ${String(command)}`);
        },
    };
    return model;
}

const TENANTS = ["tenant-a", "tenant-b", "tenant-c"];

/** Polls every tenant at each of `pollTimes`, persisting each cursor as JSON between polls; returns what each tenant received. */
async function runPoller(events: readonly ModelEvent[], pollTimes: readonly number[], lagMs: number): Promise<Map<string, string[]>> {
    let now = 0;
    const index = modelIndex(events, () => now);
    const target = { tableName: "events", indexName: "byArrival", lagSeconds: lagMs / 1000 };
    const cursors = new Map<string, string>(TENANTS.map((t) => [t, JSON.stringify(startCursor(new Date(EPOCH_MS)))]));
    const received = new Map<string, string[]>(TENANTS.map((t) => [t, []]));
    for (const time of pollTimes) {
        now = time;
        for (const tenant of TENANTS) {
            const cursor = JSON.parse(cursors.get(tenant)!) as PollCursor;
            const result = await pollTenant(
                index,
                target,
                tenant,
                cursor,
                async (item: StoredEvent) => void received.get(tenant)!.push(item.eventId.S!),
                () => new Date(EPOCH_MS + now),
            );
            expect(result.failure).to.equal(undefined);
            cursors.set(tenant, JSON.stringify(result.cursor));
        }
    }
    return received;
}

const LAG_MS = 2_000;
const HORIZON_MS = 10_000;

const eventsArbitrary = (maxDelayMs: number) =>
    fc
        .array(
            fc.record({
                clientId: fc.constantFrom(...TENANTS),
                stampedAt: fc.integer({ min: 0, max: HORIZON_MS }),
                visibleAfter: fc.integer({ min: 0, max: maxDelayMs }),
            }),
            { maxLength: 40 },
        )
        .map((list) => list.map((e, i) => ({ ...e, eventId: `evt-${String(i).padStart(3, "0")}` })));

describe("example Sender: polling cursor over an eventually consistent arrival index (model)", () => {
    it("delivers every event exactly once when each shows within the lag, whatever the order and the poll times", async () => {
        await fc.assert(
            fc.asyncProperty(
                eventsArbitrary(LAG_MS),
                fc.array(fc.integer({ min: 0, max: HORIZON_MS + LAG_MS }), { maxLength: 25 }),
                async (events, times) => {
                    // A last poll after everything is visible.
                    const pollTimes = [...times.sort((a, b) => a - b), HORIZON_MS + LAG_MS + 1];
                    const received = await runPoller(events, pollTimes, LAG_MS);
                    for (const tenant of TENANTS) {
                        const expected = events.filter((e) => e.clientId === tenant).map((e) => e.eventId);
                        const got = received.get(tenant)!;
                        expect(new Set(got).size, `${tenant} received a duplicate`).to.equal(got.length);
                        expect([...got].sort(), tenant).to.deep.equal([...expected].sort());
                    }
                },
            ),
            { numRuns: 200 },
        );
    });

    it("would skip an event that shows later than the lag: the lag is the stack's eventPollingLagSeconds for a reason", async () => {
        // Stamped at 0, visible only at 3 s; a poll at 2.5 s moves the cursor past 0.5 s, so a later poll cannot see it.
        const late: ModelEvent = { clientId: "tenant-a", eventId: "late", stampedAt: 0, visibleAfter: 3_000 };
        const onTime: ModelEvent = { clientId: "tenant-a", eventId: "on-time", stampedAt: 100, visibleAfter: 0 };
        const received = await runPoller([late, onTime], [2_500, 10_000], LAG_MS);
        expect(received.get("tenant-a")).to.deep.equal(["on-time"]);
    });

    it("stops at a failed delivery and delivers it (and only what was not delivered) on the next poll", async () => {
        const events: ModelEvent[] = ["e1", "e2", "e3"].map((eventId, i) => ({
            clientId: "tenant-a",
            eventId,
            stampedAt: i * 10,
            visibleAfter: 0,
        }));
        const index = modelIndex(events, () => 5_000);
        const target = { tableName: "events", indexName: "byArrival", lagSeconds: 2 };
        const delivered: string[] = [];
        const failing = async (item: StoredEvent) => {
            if (item.eventId.S === "e2" && !delivered.includes("refused-e2")) {
                delivered.push("refused-e2");
                throw new Error("client unreachable");
            }
            delivered.push(item.eventId.S!);
        };
        const first = await pollTenant(
            index,
            target,
            "tenant-a",
            startCursor(new Date(EPOCH_MS)),
            failing,
            () => new Date(EPOCH_MS + 5_000),
        );
        expect(first.failure).to.be.an("error");
        expect(first.cursor.since).to.equal(iso(0));
        const second = await pollTenant(index, target, "tenant-a", first.cursor, failing, () => new Date(EPOCH_MS + 5_000));
        expect(second.failure).to.equal(undefined);
        expect(delivered).to.deep.equal(["e1", "refused-e2", "e2", "e3"]);
        // Everything stamped before 5 s - 2 s is settled and forgotten: the cursor stays small.
        expect(second.cursor).to.deep.equal({ since: iso(3_000), delivered: {} });
    });
});
