/**
 * A polling Sender on the local pipeline (stack localstack, eventPollingIndex on): the example's
 * loop (examples/sender/poll.ts) polls several tenants through the arrival index on DynamoDB Local
 * while events are written concurrently, through the queue and the real processor and, out of
 * order, by a writer that holds stamped items until the poller has passed their `receivedAt`
 * (what a slow invocation or a lagging index does: the stamp is taken before the write lands).
 * Every stored event must reach the poller exactly once, and a poll's read units must not grow
 * with the tenant's stored history (a FilterExpression would not help there: Amazon DynamoDB
 * Developer Guide, "Filter expressions for the Query operation": the filter applies after the
 * items are read, and the read units are the same).
 */
import { expect } from "chai";
import { BatchWriteItemCommand, DescribeTableCommand, PutItemCommand, QueryCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";
import { sendMessages } from "../../../local/pipeline-app/demo";
import { LocalPipeline, startLocalPipeline } from "../../../local/pipeline-app/pipeline";
import type { SampleMessage } from "../../../local/pipeline-app/sample-traffic";
import { buildItem, type StoredEventItem } from "../../../handlers/event-processor/item";
import { EVENT_ARRIVAL_INDEX, EVENT_TABLE_KEYS } from "../../../contracts/event-pipeline";
import { pollTenant, startCursor, type PollCursor, type PollTarget } from "../../../examples/sender/poll";
import { exampleEvents } from "../../support/factories/events";
import { until } from "../../support/until";

const TENANTS = ["poll-heavy", "poll-light", "poll-c", "poll-d"];
/** Stored before the poller starts, stamped two hours ago: history the poller must never read again. */
const HISTORY = 800;
const QUEUED_PER_TENANT = 40;
const LATE_PER_TENANT = 8;

function envelope(clientId: string, eventId: string) {
    const template = exampleEvents()["order.placed"];
    return { ...template, clientId, eventId, data: { ...template.data } };
}

function item(clientId: string, eventId: string, receivedAt: Date): StoredEventItem {
    const event = envelope(clientId, eventId);
    const built = buildItem(event, event.data as Record<string, unknown>, { receivedAt });
    if (!built.ok) throw new Error(built.detail);
    return built.item;
}

interface PollRecord {
    tenant: string;
    startedAt: number;
    indexReadUnits: number;
}

describe("local pipeline: a polling Sender reads each tenant's new events by arrival (stack localstack)", function () {
    this.timeout(180_000);
    let pipeline: LocalPipeline;

    before(async () => {
        pipeline = await startLocalPipeline({ stack: "localstack", log: () => undefined, functionLogs: () => undefined });
    });
    after(async () => {
        await pipeline?.stop();
    });

    it("creates the arrival index the stack declares and names it, with its lag, in the READY JSON", async () => {
        const { deployment } = pipeline.context;
        expect(pipeline.ready.eventPollingIndexName).to.equal(deployment.outputs.eventPollingIndexName).and.equal(EVENT_ARRIVAL_INDEX.name);
        expect(pipeline.ready.eventPollingLagSeconds).to.equal(deployment.outputs.eventPollingLagSeconds);
        const table = (await pipeline.context.clients.dynamodb.send(new DescribeTableCommand({ TableName: pipeline.ready.eventTableName })))
            .Table!;
        const declared = deployment.resources.find(
            (r) => r.type === "aws:dynamodb/table:Table" && r.state.name === deployment.outputs.eventTableName,
        )!.inputs.globalSecondaryIndexes[0];
        expect(
            table.GlobalSecondaryIndexes?.map((index) => ({ name: index.IndexName, keys: index.KeySchema, projection: index.Projection })),
        ).to.deep.equal([
            {
                name: declared.name,
                keys: declared.keySchemas.map((key: { attributeName: string; keyType: string }) => ({
                    AttributeName: key.attributeName,
                    KeyType: key.keyType,
                })),
                projection: { ProjectionType: declared.projectionType },
            },
        ]);
    });

    it("delivers every stored event exactly once while tenants are written concurrently and out of order, at read units independent of history", async () => {
        const { dynamodb } = pipeline.context.clients;
        const tableName = pipeline.ready.eventTableName;
        const target: PollTarget = {
            tableName,
            indexName: pipeline.ready.eventPollingIndexName as string,
            lagSeconds: pipeline.ready.eventPollingLagSeconds as number,
        };

        // History of one tenant, stamped long before the poller's cursor.
        const longAgo = new Date(Date.now() - 2 * 3_600_000);
        for (let i = 0; i < HISTORY; i += 25) {
            const requests = Array.from({ length: Math.min(25, HISTORY - i) }, (_, j) => ({
                PutRequest: {
                    Item: item("poll-heavy", `old-${String(i + j).padStart(5, "0")}`, longAgo) as unknown as Record<string, AttributeValue>,
                },
            }));
            await dynamodb.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: requests } }));
        }

        // The poller: every tenant in turn, its cursor persisted as JSON between polls, from "now" on.
        const startedAt = new Date();
        const cursors = new Map(
            TENANTS.map((tenant) => [tenant, JSON.stringify(startCursor(new Date(startedAt.getTime() - target.lagSeconds * 1000)))]),
        );
        const received = new Map<string, string[]>(TENANTS.map((tenant) => [tenant, []]));
        const polls: PollRecord[] = [];
        /** The latest receivedAt the poller has delivered, per tenant: a late write lands behind it. */
        const passed = new Map<string, string>();
        let polling = true;
        let rounds = 0;
        const poller = (async () => {
            while (polling) {
                for (const tenant of TENANTS) {
                    const cursor = JSON.parse(cursors.get(tenant)!) as PollCursor;
                    const pollStart = Date.now();
                    const result = await pollTenant(dynamodb, target, tenant, cursor, async (stored) => {
                        received.get(tenant)!.push(stored.eventId.S!);
                        const stamp = stored.receivedAt.S!;
                        if (stamp > (passed.get(tenant) ?? "")) passed.set(tenant, stamp);
                    });
                    if (result.failure !== undefined) throw result.failure;
                    cursors.set(tenant, JSON.stringify(result.cursor));
                    polls.push({ tenant, startedAt: pollStart, indexReadUnits: result.indexReadUnits });
                }
                rounds++;
                // The poller's cadence (a deployed one polls every minute), short so the test is quick.
                await new Promise((resolve) => setTimeout(resolve, 50));
            }
        })();

        // Writer 1: producers through the queue and the real processor, all tenants at once.
        const queued: SampleMessage[] = TENANTS.flatMap((tenant) =>
            Array.from({ length: QUEUED_PER_TENANT }, (_, i) => {
                const eventId = `q-${String(i).padStart(3, "0")}`;
                return {
                    label: `${tenant}/${eventId}`,
                    body: JSON.stringify(envelope(tenant, eventId)),
                    messageGroupId: tenant,
                    phase: 1 as const,
                    expect: { kind: "persisted" as const, clientId: tenant, eventId },
                };
            }),
        );
        // Writer 2: an item stamped T is held; a companion stamped just after T is written at once; the held
        // item lands only once the poller has delivered something stamped after T.
        const put = (stored: StoredEventItem) =>
            dynamodb.send(
                new PutItemCommand({
                    TableName: tableName,
                    Item: stored as unknown as Record<string, AttributeValue>,
                    ConditionExpression: `attribute_not_exists(${EVENT_TABLE_KEYS.partition})`,
                }),
            );
        const lateWrites = TENANTS.map(async (tenant) => {
            const landedBehind: string[] = [];
            for (let i = 0; i < LATE_PER_TENANT; i++) {
                const stamped = new Date();
                const held = item(tenant, `late-${i}`, stamped);
                await put(item(tenant, `companion-${i}`, new Date(stamped.getTime() + 1)));
                await until(
                    `the poller to pass ${stamped.toISOString()} for ${tenant}`,
                    () => (passed.get(tenant) ?? "") > stamped.toISOString(),
                    {
                        timeoutMs: 60_000,
                        intervalMs: 20,
                    },
                );
                await put(held);
                landedBehind.push(held.eventId.S);
            }
            return landedBehind;
        });
        await sendMessages(pipeline, queued);
        const late = (await Promise.all(lateWrites)).flat();
        expect(late).to.have.length(TENANTS.length * LATE_PER_TENANT);

        // What is stored for each tenant since the cursor started (a consistent read of the table itself).
        const storedSince = async (tenant: string) => {
            const ids: string[] = [];
            let start: Record<string, AttributeValue> | undefined;
            do {
                const page = await dynamodb.send(
                    new QueryCommand({
                        TableName: tableName,
                        ConsistentRead: true,
                        KeyConditionExpression: "clientId = :c",
                        ExpressionAttributeValues: { ":c": { S: tenant } },
                        ExclusiveStartKey: start,
                    }),
                );
                for (const stored of page.Items ?? []) if (!stored.eventId.S!.startsWith("old-")) ids.push(stored.eventId.S!);
                start = page.LastEvaluatedKey;
            } while (start);
            return ids.sort();
        };
        const expectedPerTenant = QUEUED_PER_TENANT + 2 * LATE_PER_TENANT;
        await until("every queued and late event stored", async () => {
            for (const tenant of TENANTS) if ((await storedSince(tenant)).length < expectedPerTenant) return false;
            return true;
        });
        await until("the poller to deliver every stored event", () =>
            TENANTS.every((tenant) => received.get(tenant)!.length >= expectedPerTenant),
        );
        // Two more full rounds after the last delivery: nothing is delivered again.
        const roundsNow = rounds;
        await until("two more polling rounds", () => rounds >= roundsNow + 2);
        polling = false;
        await poller;

        for (const tenant of TENANTS) {
            const got = received.get(tenant)!;
            expect(new Set(got).size, `${tenant} received a duplicate`).to.equal(got.length);
            expect([...got].sort(), tenant).to.deep.equal(await storedSince(tenant));
            expect(
                got.filter((id) => id.startsWith("old-")),
                `${tenant} read history`,
            ).to.deep.equal([]);
        }

        // Read units: the tenant with 800 stored events pays what a tenant without history pays, a small
        // fraction of what reading its partition costs (the documented poll before the index).
        const full = await dynamodb.send(
            new QueryCommand({
                TableName: tableName,
                KeyConditionExpression: "clientId = :c",
                ExpressionAttributeValues: { ":c": { S: "poll-heavy" } },
                ReturnConsumedCapacity: "TOTAL",
            }),
        );
        const partitionReadUnits = full.ConsumedCapacity!.CapacityUnits!;
        const maxUnits = (tenant: string) => Math.max(...polls.filter((p) => p.tenant === tenant).map((p) => p.indexReadUnits));
        expect(maxUnits("poll-heavy"), "heavy vs light").to.be.at.most(maxUnits("poll-light") + 0.5);
        expect(maxUnits("poll-heavy")).to.be.below(partitionReadUnits / 10);
        console.log(
            `      polls: ${polls.length} in ${rounds} rounds; index read units per poll, max: heavy ${maxUnits("poll-heavy")}, light ${maxUnits("poll-light")}; ` +
                `one page of heavy's partition: ${partitionReadUnits}`,
        );
    });
});
