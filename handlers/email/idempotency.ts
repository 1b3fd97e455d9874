/**
 * The idempotency table (one DynamoDB table, partition key `pk` and TTL attribute
 * `expiresAt`: EMAIL_TABLE_KEYS and EMAIL_TTL_ATTRIBUTE of contracts/email-service.ts)
 * holds two kinds of items:
 *
 * - `key#<tenant scope>#<Idempotency-Key>` → the email id the key was given, a
 *   fingerprint of the request and a state (`pending` → `enqueued`). The API stores
 *   the key (conditional put) BEFORE it enqueues and uses the email id as the FIFO
 *   MessageDeduplicationId. A crash between the two leaves a `pending` key: the
 *   client's retry re-enqueues the same id with the same deduplication id (SQS drops
 *   it inside the 5-minute window), and only an `enqueued` key answers without
 *   touching the queue — so a key never enqueues twice once enqueued, however late
 *   the retry, and an accepted request is never lost.
 * - `sent#<email id>` → the delivery ledger the worker writes after a provider
 *   accepted the email, and checks before sending: a message re-enqueued after the
 *   FIFO window (the rare crash above) or redelivered after a worker crash is not
 *   sent again.
 *
 * Why not `@aws-lambda-powertools/idempotency` (beside the Powertools batch, logger and
 * metrics this project uses): its record is `INPROGRESS` until the handler returns, then
 * `COMPLETED` with the stored response. A retry while the record is in progress gets
 * `IdempotencyAlreadyInProgressError` (a 5xx to the client), and once the in-progress
 * window expires the retry runs the whole request again, minting a new email id, so the
 * crash between "enqueued" and "marked" above would enqueue the email a second time under
 * another deduplication id. Here the id is chosen once, with the claim, and every retry of
 * a `pending` key re-enqueues that same id. Powertools would cover only the 422 for a key
 * reused with another request (its payload validation), and the delivery ledger has no
 * counterpart there. Those guarantees are the API's contract (docs/email-service.md,
 * "Idempotency"), so this store stays.
 */
import ddb = require("@aws-sdk/client-dynamodb");
import { EMAIL_TABLE_KEYS, EMAIL_TTL_ATTRIBUTE } from "../../contracts/email-service";
import type { ProviderReceipt } from "./types";

/** What claiming an Idempotency-Key found: the key was free, or the record an earlier request stored. */
export type KeyClaim =
    { outcome: "claimed" } | { outcome: "existing"; emailId: string; fingerprint: string; state: "pending" | "enqueued" };

/** Idempotency-Keys of the API, per tenant scope. */
export interface IdempotencyStore {
    /** Stores `key → emailId` unless the key exists; returns the existing record if it does. */
    claim(scope: string, key: string, emailId: string, fingerprint: string): Promise<KeyClaim>;
    /** Marks the key's email as durably enqueued. */
    markEnqueued(scope: string, key: string): Promise<void>;
}

/** The worker's record of delivered emails, checked before every send. */
export interface DeliveryLedger {
    wasDelivered(emailId: string): Promise<boolean>;
    recordDelivery(emailId: string, receipt: ProviderReceipt): Promise<void>;
}

const epochSeconds = (date: Date) => Math.floor(date.getTime() / 1000);

/**
 * DynamoDB-backed {@link IdempotencyStore}. Expired keys that TTL has not yet
 * removed are treated as absent.
 *
 * @example
 * const store = dynamoIdempotencyStore(new DynamoDBClient({}), "email-idempotency", 86_400);
 */
export function dynamoIdempotencyStore(
    client: ddb.DynamoDBClient,
    tableName: string,
    ttlSeconds: number,
    now: () => Date = () => new Date(),
): IdempotencyStore {
    const pk = (scope: string, key: string) => `key#${scope}#${key}`;
    return {
        async claim(scope, key, emailId, fingerprint) {
            const current = now();
            try {
                await client.send(
                    new ddb.PutItemCommand({
                        TableName: tableName,
                        Item: {
                            [EMAIL_TABLE_KEYS.partition]: { S: pk(scope, key) },
                            emailId: { S: emailId },
                            fingerprint: { S: fingerprint },
                            state: { S: "pending" },
                            createdAt: { S: current.toISOString() },
                            [EMAIL_TTL_ATTRIBUTE]: { N: String(epochSeconds(current) + ttlSeconds) },
                        },
                        ConditionExpression: "attribute_not_exists(#pk) OR #exp < :now",
                        ExpressionAttributeNames: { "#pk": EMAIL_TABLE_KEYS.partition, "#exp": EMAIL_TTL_ATTRIBUTE },
                        ExpressionAttributeValues: { ":now": { N: String(epochSeconds(current)) } },
                        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
                    }),
                );
                return { outcome: "claimed" };
            } catch (error) {
                if ((error as Error).name !== "ConditionalCheckFailedException") throw error;
                let item = (error as ddb.ConditionalCheckFailedException).Item;
                if (!item) {
                    const read = await client.send(
                        new ddb.GetItemCommand({
                            TableName: tableName,
                            Key: { [EMAIL_TABLE_KEYS.partition]: { S: pk(scope, key) } },
                            ConsistentRead: true,
                        }),
                    );
                    item = read.Item;
                }
                if (!item?.emailId?.S) throw new Error("Idempotency record vanished between the conditional put and the read; retry.");
                return {
                    outcome: "existing",
                    emailId: item.emailId.S,
                    fingerprint: item.fingerprint?.S ?? "",
                    state: item.state?.S === "enqueued" ? "enqueued" : "pending",
                };
            }
        },
        async markEnqueued(scope, key) {
            await client.send(
                new ddb.UpdateItemCommand({
                    TableName: tableName,
                    Key: { [EMAIL_TABLE_KEYS.partition]: { S: pk(scope, key) } },
                    UpdateExpression: "SET #state = :enqueued",
                    ConditionExpression: "attribute_exists(#pk)",
                    ExpressionAttributeNames: { "#state": "state", "#pk": EMAIL_TABLE_KEYS.partition },
                    ExpressionAttributeValues: { ":enqueued": { S: "enqueued" } },
                }),
            );
        },
    };
}

/**
 * DynamoDB-backed {@link DeliveryLedger} in the same table.
 *
 * @example
 * const ledger = dynamoDeliveryLedger(new DynamoDBClient({}), "email-idempotency", 14 * 86_400);
 */
export function dynamoDeliveryLedger(
    client: ddb.DynamoDBClient,
    tableName: string,
    ttlSeconds: number,
    now: () => Date = () => new Date(),
): DeliveryLedger {
    const pk = (emailId: string) => `sent#${emailId}`;
    return {
        async wasDelivered(emailId) {
            const read = await client.send(
                new ddb.GetItemCommand({
                    TableName: tableName,
                    Key: { [EMAIL_TABLE_KEYS.partition]: { S: pk(emailId) } },
                    ConsistentRead: true,
                }),
            );
            return read.Item !== undefined;
        },
        async recordDelivery(emailId, receipt) {
            const current = now();
            await client.send(
                new ddb.PutItemCommand({
                    TableName: tableName,
                    Item: {
                        [EMAIL_TABLE_KEYS.partition]: { S: pk(emailId) },
                        provider: { S: receipt.provider },
                        ...(receipt.messageId ? { providerMessageId: { S: receipt.messageId } } : {}),
                        sentAt: { S: current.toISOString() },
                        [EMAIL_TTL_ATTRIBUTE]: { N: String(epochSeconds(current) + ttlSeconds) },
                    },
                }),
            );
        },
    };
}
