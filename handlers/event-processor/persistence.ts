/**
 * The persistence step: one conditional PutItem per event. The condition makes a
 * redelivery harmless; on a condition failure DynamoDB hands back the stored item
 * (ReturnValuesOnConditionCheckFailure=ALL_OLD), so telling a duplicate from a
 * conflicting duplicate costs no extra round trip. Errors are classified into
 * permanent (the item itself is refused) and transient (worth a retry).
 */
import { DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import {
    EVENT_CONTENT_HASH_ATTRIBUTE,
    EVENT_TABLE_KEYS,
    type EventRejectionReason,
    type EventTransientReason,
} from "../../contracts/event-pipeline";
import type { StoredEventItem } from "./item";

/**
 * Sockets the processor's DynamoDB client keeps per container (its agent's `maxSockets`, the SDK's own
 * default made explicit), and so the writes an invocation has in flight at once: a cold batch of 100
 * would otherwise queue half its PutItems behind 50 TLS handshakes racing the 1 s connection timeout.
 */
export const DYNAMODB_MAX_SOCKETS = 50;

/**
 * A gate that runs at most `limit` tasks at once, the rest in arrival order as earlier ones finish.
 * Hand-written (a dozen lines) so the archive ships no extra package.
 *
 * @example
 * const write = inFlightLimit(DYNAMODB_MAX_SOCKETS);
 * await Promise.all(items.map((item) => write(() => persistEvent(dynamodb, table, item, hash))));
 */
export function inFlightLimit(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer, got ${limit}`);
    let active = 0;
    const waiting: (() => void)[] = [];
    const release = () => {
        const next = waiting.shift();
        // The freed slot passes straight to the next waiter, so `active` never drops below the work queued.
        if (next) next();
        else active--;
    };
    return async <T>(task: () => Promise<T>): Promise<T> => {
        if (active < limit) active++;
        else await new Promise<void>((resolve) => waiting.push(resolve));
        try {
            return await task();
        } finally {
            release();
        }
    };
}

/** What one write came to. */
export type PersistResult =
    | { readonly outcome: "persisted" }
    | { readonly outcome: "duplicate" }
    | { readonly outcome: "rejected"; readonly reason: EventRejectionReason; readonly detail: string }
    | { readonly outcome: "transient"; readonly reason: EventTransientReason; readonly detail: string };

// Error names (not classes: the runtime's SDK copy may differ from ours, so instanceof is unreliable).
const THROTTLING_ERRORS = new Set([
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TransactionConflictException",
]);

function errorName(error: unknown): string {
    return (error as { name?: unknown })?.name && typeof (error as { name: unknown }).name === "string"
        ? (error as Error).name
        : "UnknownError";
}

/** Maps a DynamoDB error (other than the condition failure) to an outcome. */
export function classifyStoreError(error: unknown): PersistResult {
    const name = errorName(error);
    if (name === "ValidationException") {
        // The item itself is refused; retrying cannot help. DynamoDB's message names limits, not values.
        const message = String((error as Error).message ?? "").slice(0, 200);
        return { outcome: "rejected", reason: "store_rejected_item", detail: `DynamoDB ValidationException: ${message}` };
    }
    if (THROTTLING_ERRORS.has(name)) return { outcome: "transient", reason: "store_throttled", detail: `DynamoDB ${name}` };
    return { outcome: "transient", reason: "store_unavailable", detail: `DynamoDB ${name}` };
}

/**
 * Writes the item unless its keys exist; classifies the result.
 *
 * @example
 * const result = await persistEvent(dynamodb, "events", built.item, built.contentHash);
 */
export async function persistEvent(
    dynamodb: DynamoDBClient,
    tableName: string,
    item: StoredEventItem,
    hash: string,
): Promise<PersistResult> {
    try {
        await dynamodb.send(
            new PutItemCommand({
                TableName: tableName,
                Item: item as unknown as PutItemCommand["input"]["Item"],
                ConditionExpression: `attribute_not_exists(${EVENT_TABLE_KEYS.partition})`,
                ReturnValuesOnConditionCheckFailure: "ALL_OLD",
            }),
        );
        return { outcome: "persisted" };
    } catch (error) {
        if (errorName(error) !== "ConditionalCheckFailedException") return classifyStoreError(error);
        let stored = (error as { Item?: Record<string, { S?: string }> }).Item;
        if (stored === undefined) {
            // Older DynamoDB versions do not return ALL_OLD: read it (strongly consistent, hash only).
            try {
                const read = await dynamodb.send(
                    new GetItemCommand({
                        TableName: tableName,
                        Key: {
                            [EVENT_TABLE_KEYS.partition]: item[EVENT_TABLE_KEYS.partition],
                            [EVENT_TABLE_KEYS.sort]: item[EVENT_TABLE_KEYS.sort],
                        },
                        ConsistentRead: true,
                        ProjectionExpression: "#hash",
                        ExpressionAttributeNames: { "#hash": EVENT_CONTENT_HASH_ATTRIBUTE },
                    }),
                );
                stored = read.Item as Record<string, { S?: string }> | undefined;
            } catch (readError) {
                return classifyStoreError(readError);
            }
            // Deleted between the two calls (e.g. TTL): let SQS retry the write.
            if (stored === undefined)
                return { outcome: "transient", reason: "store_unavailable", detail: "stored item vanished during the duplicate check" };
        }
        if (stored[EVENT_CONTENT_HASH_ATTRIBUTE]?.S === hash) return { outcome: "duplicate" };
        return {
            outcome: "rejected",
            reason: "conflicting_duplicate",
            detail: "an event with this clientId and eventId but different content is already stored",
        };
    }
}
