/**
 * The Sender's polling loop (example): reads one tenant's new events through the
 * event-ingestion stack's arrival index (`eventPollingIndexName`: `clientId` HASH,
 * `receivedAt` RANGE, KEYS_ONLY), so a poll reads what arrived lately, never the
 * tenant's whole history.
 *
 * Why a lag and a remembered set: the index is eventually consistent, and `receivedAt`
 * is stamped when the processor starts a batch, before the write lands (up to the
 * processor's timeout later). So an event stamped T can appear after the poller has
 * already seen events stamped later than T. The cursor therefore keeps re-reading the
 * last `lagSeconds` (the stack's `eventPollingLagSeconds`) and remembers which of those
 * events it delivered, by `eventId` (unique per tenant):
 *   - every event stamped before `since` was delivered;
 *   - `delivered` lists the events stamped at or after `since` that were delivered.
 * A poll taken at time N queries `receivedAt >= since`, delivers what is not in
 * `delivered`, then moves `since` to N - lag: anything stamped earlier was visible to
 * that query. No event is skipped and none is delivered twice, as long as an event
 * shows in the index within `lagSeconds` of its stamp.
 *
 * Only `@aws-sdk/client-dynamodb` (in the Lambda runtime) is used.
 */
import { DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand, type AttributeValue } from "@aws-sdk/client-dynamodb";

/** Where one tenant's reading stands. Plain JSON: persist it after every poll. */
export interface PollCursor {
    /** ISO-8601 UTC: every event stamped `receivedAt` before this was delivered. */
    since: string;
    /** `eventId` -> `receivedAt` of the events stamped at or after `since` that were delivered. */
    delivered: Record<string, string>;
}

/** The event-ingestion stack's outputs a poller needs. */
export interface PollTarget {
    /** `eventTableName` */
    tableName: string;
    /** `eventPollingIndexName` */
    indexName: string;
    /** `eventPollingLagSeconds` */
    lagSeconds: number;
}

/** A stored event as DynamoDB returns it (attribute names: docs/event-contract.md). */
export type StoredEvent = Record<string, AttributeValue>;

/** What one poll of one tenant came to. */
export interface PollResult {
    /** Persist this, whatever happened. */
    cursor: PollCursor;
    /** Events handed to `deliver` and accepted. */
    delivered: number;
    /** Read units the index queries consumed (ReturnConsumedCapacity), without the GetItems of new events. */
    indexReadUnits: number;
    /** Read units the GetItems of new events consumed. */
    itemReadUnits: number;
    /** Why delivery stopped early (the cursor keeps the undelivered event for the next poll). */
    failure?: unknown;
}

/** The DynamoDB calls a poll makes (a DynamoDBClient, or a stand-in in tests). */
export interface PollClient {
    send(command: QueryCommand | GetItemCommand | PutItemCommand): Promise<unknown>;
}

/** Index keys cannot be empty strings: the cursor of "from the beginning" is the epoch. */
const EPOCH = new Date(0).toISOString();

/**
 * A cursor that starts at `from` (events stamped earlier are not delivered).
 *
 * @example
 * startCursor(new Date(Date.now() - lagSeconds * 1000)); // new events only
 * startCursor(); // the tenant's whole stored history, once
 */
export function startCursor(from?: Date): PollCursor {
    return { since: from ? from.toISOString() : EPOCH, delivered: {} };
}

/**
 * One poll of one tenant: delivers each event stored since the cursor once, in `receivedAt`
 * order within the poll, and returns the cursor to persist. A failed delivery stops the poll;
 * the cursor then keeps the failed event (and everything after it) for the next poll.
 *
 * @example
 * const result = await pollTenant(dynamodb, target, "acme-retail", cursor, async (item) => send(item));
 * await cursors.save("acme-retail", result.cursor);
 */
export async function pollTenant(
    dynamodb: PollClient,
    target: PollTarget,
    clientId: string,
    cursor: PollCursor,
    deliver: (event: StoredEvent) => Promise<void>,
    now: () => Date = () => new Date(),
): Promise<PollResult> {
    // Taken before the query: whatever is stamped earlier than startedAt - lag is visible to it.
    const startedAt = now();
    const delivered: Record<string, string> = { ...cursor.delivered };
    let indexReadUnits = 0;
    let itemReadUnits = 0;
    let count = 0;

    const keys: { eventId: string; receivedAt: string }[] = [];
    let exclusiveStartKey: Record<string, AttributeValue> | undefined;
    do {
        const page = (await dynamodb.send(
            new QueryCommand({
                TableName: target.tableName,
                IndexName: target.indexName,
                KeyConditionExpression: "clientId = :clientId AND receivedAt >= :since",
                ExpressionAttributeValues: { ":clientId": { S: clientId }, ":since": { S: cursor.since } },
                ExclusiveStartKey: exclusiveStartKey,
                ReturnConsumedCapacity: "TOTAL",
            }),
        )) as {
            Items?: Record<string, AttributeValue>[];
            LastEvaluatedKey?: Record<string, AttributeValue>;
            ConsumedCapacity?: { CapacityUnits?: number };
        };
        indexReadUnits += page.ConsumedCapacity?.CapacityUnits ?? 0;
        for (const entry of page.Items ?? []) keys.push({ eventId: entry.eventId.S!, receivedAt: entry.receivedAt.S! });
        exclusiveStartKey = page.LastEvaluatedKey;
    } while (exclusiveStartKey);

    for (const key of keys) {
        if (key.eventId in delivered) continue;
        try {
            // The index held only keys. The table has the item: the index is written after the table.
            const read = (await dynamodb.send(
                new GetItemCommand({
                    TableName: target.tableName,
                    Key: { clientId: { S: clientId }, eventId: { S: key.eventId } },
                    ConsistentRead: true,
                    ReturnConsumedCapacity: "TOTAL",
                }),
            )) as { Item?: StoredEvent; ConsumedCapacity?: { CapacityUnits?: number } };
            itemReadUnits += read.ConsumedCapacity?.CapacityUnits ?? 0;
            // Gone since (TTL): nothing to deliver.
            if (read.Item) {
                await deliver(read.Item);
                count++;
            }
            delivered[key.eventId] = key.receivedAt;
        } catch (failure) {
            // Keep `since` where it was: the failed event and any later one are read again next time.
            return { cursor: { since: cursor.since, delivered }, delivered: count, indexReadUnits, itemReadUnits, failure };
        }
    }

    const settled = new Date(startedAt.getTime() - target.lagSeconds * 1000).toISOString();
    const since = settled > cursor.since ? settled : cursor.since;
    const kept: Record<string, string> = {};
    for (const [eventId, receivedAt] of Object.entries(delivered)) if (receivedAt >= since) kept[eventId] = receivedAt;
    return { cursor: { since, delivered: kept }, delivered: count, indexReadUnits, itemReadUnits };
}

/** Where cursors are kept between polls, one per tenant. */
export interface CursorStore {
    load(clientId: string): Promise<PollCursor | undefined>;
    save(clientId: string, cursor: PollCursor): Promise<void>;
}

/**
 * Cursors in the Sender's own DynamoDB table (`clientId` HASH), one item per tenant, as JSON.
 * An item holds up to 400 KB: the remembered events of one lag window must fit (about 2,500
 * eventIds of 128 characters, more for shorter ones); a busier tenant belongs on the stream.
 *
 * @example
 * const cursors = dynamoDbCursorStore(new DynamoDBClient({}), process.env.CURSOR_TABLE_NAME!);
 */
export function dynamoDbCursorStore(dynamodb: PollClient, tableName: string): CursorStore {
    return {
        async load(clientId) {
            const read = (await dynamodb.send(
                new GetItemCommand({ TableName: tableName, Key: { clientId: { S: clientId } }, ConsistentRead: true }),
            )) as { Item?: Record<string, AttributeValue> };
            const text = read.Item?.cursor?.S;
            return text ? (JSON.parse(text) as PollCursor) : undefined;
        },
        async save(clientId, cursor) {
            await dynamodb.send(
                new PutItemCommand({ TableName: tableName, Item: { clientId: { S: clientId }, cursor: { S: JSON.stringify(cursor) } } }),
            );
        },
    };
}

/**
 * The scheduled poller (Lambda): polls every tenant in `POLL_TENANTS` once, each from its
 * persisted cursor (a new tenant starts with events stored from now on), and logs counts only.
 *
 * @example
 * await pollAllTenants(); // { polled: 2, delivered: 17, failed: 0 }
 */
export async function pollAllTenants(): Promise<{ polled: number; delivered: number; failed: number }> {
    const env = process.env;
    const target: PollTarget = {
        tableName: env.EVENT_TABLE_NAME!,
        indexName: env.EVENT_POLLING_INDEX_NAME!,
        lagSeconds: Number(env.EVENT_POLLING_LAG_SECONDS),
    };
    const dynamodb = new DynamoDBClient({});
    const cursors = dynamoDbCursorStore(dynamodb, env.CURSOR_TABLE_NAME!);
    const tenants = (env.POLL_TENANTS ?? "").split(",").filter(Boolean);
    let delivered = 0;
    let failed = 0;
    for (const clientId of tenants) {
        const cursor = (await cursors.load(clientId)) ?? startCursor(new Date(Date.now() - target.lagSeconds * 1000));
        const result = await pollTenant(dynamodb, target, clientId, cursor, async (item) => {
            // The real Sender delivers to the client here (HTTP, WebSocket, ...).
            console.log(JSON.stringify({ message: "delivering event", clientId, eventId: item.eventId?.S, type: item.type?.S }));
        });
        await cursors.save(clientId, result.cursor);
        delivered += result.delivered;
        if (result.failure !== undefined) failed++;
    }
    const summary = { polled: tenants.length, delivered, failed };
    console.log(JSON.stringify({ message: "poll finished", ...summary }));
    // A failed tenant is retried on the next schedule; the error alarm hears about it.
    if (failed > 0) throw new Error(`${failed} tenant(s) stopped at an undelivered event; their cursors wait for the next poll`);
    return summary;
}
