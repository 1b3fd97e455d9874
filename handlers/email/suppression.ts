/**
 * The suppression list: addresses that bounced permanently or complained, kept in the
 * status table as `suppressed#<SHA-256 of the address>` items (an email id never holds
 * `#`, so these can neither collide with an email nor be read through the API). Only the
 * hash is stored: the list answers "was this address suppressed?" for an address one
 * already has, and never lists addresses. The status function adds to it from SES's
 * BOUNCE (Permanent) and COMPLAINT events; the worker checks every recipient before it
 * sends, so an email to a suppressed address ends as `suppressed`, visibly.
 */
import * as crypto from "node:crypto";
import ddb = require("@aws-sdk/client-dynamodb");
import { EMAIL_STATUS_TABLE_KEYS } from "../../contracts/email-service";

/** Why an address is suppressed. */
export type SuppressionReason = "bounce" | "complaint";

export interface SuppressionList {
    /** Adds the addresses (idempotent: the first reason is kept). */
    suppress(addresses: readonly string[], reason: SuppressionReason): Promise<void>;
    /** How many of `addresses` are suppressed (addresses are compared case-insensitively). */
    countSuppressed(addresses: readonly string[]): Promise<number>;
}

/**
 * The key of an address's suppression item: the SHA-256 of the address, trimmed and lowercased
 * (domains are case-insensitive and almost every mailbox is too; SES's own suppression list
 * treats addresses the same way).
 *
 * @example
 * suppressionKey("Ann@Example.com") === suppressionKey("ann@example.com"); // true
 */
export function suppressionKey(address: string): string {
    return `suppressed#${crypto.createHash("sha256").update(address.trim().toLowerCase()).digest("hex")}`;
}

/** BatchGetItem reads at most 100 keys per request. */
const BATCH_GET_MAX_KEYS = 100;

/**
 * DynamoDB-backed {@link SuppressionList} in the status table.
 *
 * @example
 * const suppressions = dynamoSuppressionList(new DynamoDBClient({}), "email-status");
 * if ((await suppressions.countSuppressed(["ann@example.com"])) > 0) ...
 */
export function dynamoSuppressionList(client: ddb.DynamoDBClient, tableName: string, now: () => Date = () => new Date()): SuppressionList {
    const partition = EMAIL_STATUS_TABLE_KEYS.partition;
    return {
        async suppress(addresses, reason) {
            for (const key of new Set(addresses.map(suppressionKey))) {
                await client
                    .send(
                        new ddb.PutItemCommand({
                            TableName: tableName,
                            Item: { [partition]: { S: key }, reason: { S: reason }, suppressedAt: { S: now().toISOString() } },
                            ConditionExpression: "attribute_not_exists(#id)",
                            ExpressionAttributeNames: { "#id": partition },
                        }),
                    )
                    .catch((error: Error) => {
                        if (error.name !== "ConditionalCheckFailedException") throw error;
                    });
            }
        },
        async countSuppressed(addresses) {
            const keys = [...new Set(addresses.map(suppressionKey))];
            let found = 0;
            for (let start = 0; start < keys.length; start += BATCH_GET_MAX_KEYS) {
                let pending: ddb.KeysAndAttributes | undefined = {
                    Keys: keys.slice(start, start + BATCH_GET_MAX_KEYS).map((key) => ({ [partition]: { S: key } })),
                    ConsistentRead: true,
                    ProjectionExpression: "#id",
                    ExpressionAttributeNames: { "#id": partition },
                };
                while (pending) {
                    const result: ddb.BatchGetItemCommandOutput = await client.send(
                        new ddb.BatchGetItemCommand({ RequestItems: { [tableName]: pending } }),
                    );
                    found += result.Responses?.[tableName]?.length ?? 0;
                    pending = result.UnprocessedKeys?.[tableName];
                }
            }
            return found;
        },
    };
}
