/**
 * The status table (hash key `emailId`, TTL `expiresAt`: EMAIL_STATUS_TABLE_KEYS and
 * EMAIL_TTL_ATTRIBUTE of contracts/email-service.ts): one item per email with its
 * owner (a hash of the caller's principal), its current status, the status's rank and
 * its history.
 *
 * Every change is one conditional `UpdateItem` that sets the status and appends to the
 * history only if the new status ranks above the recorded one (EMAIL_STATUSES): reports
 * arrive out of order and more than once (a worker retry, an SES event delivered twice),
 * and a late or repeated one changes nothing. Only the API creates an item (with its
 * owner, before it enqueues); every later change requires the item to exist, so no report
 * can create an item nobody owns.
 *
 * Cancel and release race on the same item, and DynamoDB applies conditional writes to one
 * item one at a time: a cancel moves `scheduled` to `cancelled` only while the email is still
 * `scheduled`; the worker, before it sends an email that had a `sendAt`, moves it to `queued`
 * (which outranks `scheduled`) only while nothing ranks higher, so whichever writes first wins
 * and the other sees it. `cancelled` outranks everything a send would record.
 */
import ddb = require("@aws-sdk/client-dynamodb");
import {
    EMAIL_CANCELLABLE_STATUSES,
    EMAIL_STATUS_NAMES,
    EMAIL_STATUS_TABLE_KEYS,
    EMAIL_STATUSES,
    EMAIL_TTL_ATTRIBUTE,
    type EmailStatus,
} from "../../contracts/email-service";

/** What a history entry may say beside its status and time: codes and ids only, never an address, a subject or a body. */
export interface StatusDetails {
    /** `sent`: the provider that accepted the email (`ses`, `smtp`). */
    provider?: string;
    /** `sent`: the provider's message id. */
    providerMessageId?: string;
    /** `failed`: the reason code (EMAIL_REJECTION_REASONS, or `rendering-failure`). */
    reason?: string;
    /** `scheduled`: when the email is due. */
    sendAt?: string;
    /** `bounced`: SES's bounceType (`Permanent`, `Transient`, `Undetermined`) and bounceSubType. */
    bounceType?: string;
    bounceSubType?: string;
    /** `complained`: the feedback report's type (`abuse`, …), when the ISP sent one. */
    complaintFeedbackType?: string;
    /** `suppressed`: how many recipients are on the suppression list (a count, never an address). */
    suppressedRecipients?: string;
    /** `delayed`: SES's delayType (`MailboxFull`, `TransientCommunicationFailure`, …). */
    delayType?: string;
}

/** The detail fields a history entry may carry, in the order they are read back. */
export const DETAIL_FIELDS = [
    "provider",
    "providerMessageId",
    "reason",
    "sendAt",
    "bounceType",
    "bounceSubType",
    "complaintFeedbackType",
    "delayType",
    "suppressedRecipients",
] as const satisfies readonly (keyof StatusDetails)[];

/** Longest detail value stored (SES's ids and codes are far shorter; anything longer is not one of them). */
const MAX_DETAIL_LENGTH = 256;

/** One entry of an email's history. */
export interface StatusEntry extends StatusDetails {
    status: EmailStatus;
    at: string;
}

/** An email's status as the API returns it. */
export interface EmailStatusRecord {
    id: string;
    status: EmailStatus;
    updatedAt: string;
    history: StatusEntry[];
}

/** `recorded`: the status moved forward; `stale`: it was already there or further on (or the email is unknown). */
export type StatusOutcome = "recorded" | "stale";

/**
 * What a cancel did: `cancelled` now, or `already-cancelled` earlier (both with the email's status as `read`
 * gives it); `not-cancellable` with the status that prevents it; `not-found` for an unknown, expired or
 * another owner's email (one answer for all three).
 */
export type CancelOutcome =
    | { outcome: "cancelled" | "already-cancelled"; record: EmailStatusRecord }
    | { outcome: "not-cancellable"; status: EmailStatus }
    | { outcome: "not-found" };

/**
 * What the worker may do with an email whose `sendAt` came: `send` (it is now `queued`, out of reach of a
 * cancel; or it already was, or further on: a redelivery, which the delivery ledger deduplicates; or the
 * table has no status for it), or `cancelled` (never send it).
 */
export type ReleaseOutcome = "send" | "cancelled";

export interface EmailStatusStore {
    /**
     * Creates the email's item, owned by `owner`, in status `accepted` (or leaves an existing one as it is:
     * a replayed Idempotency-Key). `expiresAt` is when DynamoDB may delete it; `sendAt` (a scheduled email)
     * keeps it cancellable even if `scheduled` is never recorded.
     */
    accept(emailId: string, owner: string, expiresAt: Date, sendAt?: Date): Promise<StatusOutcome>;
    /** Moves an existing email to `status` if that ranks above its current one; `at` is when it happened (default: now). */
    record(emailId: string, status: EmailStatus, details?: StatusDetails, at?: Date): Promise<StatusOutcome>;
    /** The email's status if `owner` owns it and it has not expired; undefined otherwise (one answer for both). */
    read(emailId: string, owner: string): Promise<EmailStatusRecord | undefined>;
    /** Cancels `owner`'s email if it is still held for its `sendAt` (EMAIL_CANCELLABLE_STATUSES), atomically. */
    cancel(emailId: string, owner: string): Promise<CancelOutcome>;
    /** The worker, before sending an email that had a `sendAt`: moves it to `queued` unless it was cancelled. */
    release(emailId: string): Promise<ReleaseOutcome>;
}

const epochSeconds = (date: Date) => Math.floor(date.getTime() / 1000);

function entryItem(status: EmailStatus, at: string, details: StatusDetails): ddb.AttributeValue {
    const fields: Record<string, ddb.AttributeValue> = { status: { S: status }, at: { S: at } };
    for (const name of DETAIL_FIELDS) {
        const value = details[name];
        if (typeof value === "string" && value !== "") fields[name] = { S: value.slice(0, MAX_DETAIL_LENGTH) };
    }
    return { M: fields };
}

export function entryOf(value: ddb.AttributeValue): StatusEntry | undefined {
    const fields = value.M ?? {};
    const status = fields.status?.S as EmailStatus | undefined;
    const at = fields.at?.S;
    if (!status || !EMAIL_STATUS_NAMES.includes(status) || !at) return undefined;
    const entry: StatusEntry = { status, at };
    for (const name of DETAIL_FIELDS) {
        const text = fields[name]?.S;
        if (text) entry[name] = text;
    }
    return entry;
}

/**
 * DynamoDB-backed {@link EmailStatusStore}.
 *
 * @example
 * const statuses = dynamoStatusStore(new DynamoDBClient({}), "email-status");
 * await statuses.accept(emailId, tenantScope(tenant), new Date(Date.now() + 30 * 86_400_000));
 * await statuses.record(emailId, "sent", { provider: "ses", providerMessageId });
 */
export function dynamoStatusStore(client: ddb.DynamoDBClient, tableName: string, now: () => Date = () => new Date()): EmailStatusStore {
    const key = (emailId: string) => ({ [EMAIL_STATUS_TABLE_KEYS.partition]: { S: emailId } });
    type Item = Record<string, ddb.AttributeValue>;
    type Written = { written: true; item?: Item } | { written: false; item?: Item };

    /** The item as the API returns it, or undefined when it is not `owner`'s or has expired. */
    function recordOf(emailId: string, item: Item | undefined, owner: string): EmailStatusRecord | undefined {
        if (!item || item.owner?.S !== owner) return undefined;
        const expiresAt = Number(item[EMAIL_TTL_ATTRIBUTE]?.N ?? Infinity);
        // DynamoDB deletes expired items within days, not at once: expired is gone.
        if (expiresAt <= epochSeconds(now())) return undefined;
        const status = item.status?.S as EmailStatus | undefined;
        if (!status || !EMAIL_STATUS_NAMES.includes(status)) return undefined;
        return {
            id: emailId,
            status,
            updatedAt: item.updatedAt?.S ?? "",
            history: (item.history?.L ?? []).map(entryOf).filter((entry): entry is StatusEntry => entry !== undefined),
        };
    }

    /**
     * One conditional UpdateItem that sets `status` and appends it to the history. Without `condition`, the
     * rule of every report: the item exists and ranks below `status`. `item` is the item after the write
     * (`returnNew`) or, when the condition failed, the item that failed it.
     */
    async function update(
        emailId: string,
        status: EmailStatus,
        details: StatusDetails,
        options: {
            create?: { owner: string; expiresAt: Date; sendAt?: Date };
            condition?: { expression: string; names: Record<string, string>; values: Item };
            returnNew?: boolean;
        } = {},
        when?: Date,
    ): Promise<Written> {
        const { create, condition } = options;
        const at = (when ?? now()).toISOString();
        const names: Record<string, string> = {
            "#id": EMAIL_STATUS_TABLE_KEYS.partition,
            "#status": "status",
            "#rank": "rank",
            "#updatedAt": "updatedAt",
            "#history": "history",
            ...(condition?.names ?? {}),
        };
        const values: Item = {
            ":status": { S: status },
            ":rank": { N: String(EMAIL_STATUSES[status].rank) },
            ":at": { S: at },
            ":entry": { L: [entryItem(status, at, details)] },
            ":empty": { L: [] },
            ...(condition?.values ?? {}),
        };
        const sets = [
            "#status = :status",
            "#rank = :rank",
            "#updatedAt = :at",
            "#history = list_append(if_not_exists(#history, :empty), :entry)",
        ];
        if (create) {
            names["#owner"] = "owner";
            names["#exp"] = EMAIL_TTL_ATTRIBUTE;
            values[":owner"] = { S: create.owner };
            values[":exp"] = { N: String(epochSeconds(create.expiresAt)) };
            sets.push("#owner = :owner", "#exp = :exp");
            if (create.sendAt) {
                names["#sendAt"] = "sendAt";
                values[":sendAt"] = { S: create.sendAt.toISOString() };
                sets.push("#sendAt = :sendAt");
            }
        }
        try {
            const answer = await client.send(
                new ddb.UpdateItemCommand({
                    TableName: tableName,
                    Key: key(emailId),
                    UpdateExpression: `SET ${sets.join(", ")}`,
                    // Only the API creates; everyone else moves an existing email forward.
                    ConditionExpression:
                        condition?.expression ?? (create ? "attribute_not_exists(#id)" : "attribute_exists(#id) AND #rank < :rank"),
                    ExpressionAttributeNames: names,
                    ExpressionAttributeValues: values,
                    ...(options.returnNew ? { ReturnValues: "ALL_NEW" as const } : {}),
                    // The item that failed the condition comes back with the error: no second read, no second race.
                    ReturnValuesOnConditionCheckFailure: "ALL_OLD",
                }),
            );
            return { written: true, item: answer.Attributes };
        } catch (error) {
            if ((error as Error).name === "ConditionalCheckFailedException") {
                return { written: false, item: (error as ddb.ConditionalCheckFailedException).Item };
            }
            throw error;
        }
    }

    return {
        accept: async (emailId, owner, expiresAt, sendAt) =>
            (await update(emailId, "accepted", {}, { create: { owner, expiresAt, sendAt } })).written ? "recorded" : "stale",
        record: async (emailId, status, details = {}, at) =>
            (await update(emailId, status, details, {}, at)).written ? "recorded" : "stale",
        async read(emailId, owner) {
            const { Item: item } = await client.send(
                // Strongly consistent: a client that just got its 202 must find the email.
                new ddb.GetItemCommand({ TableName: tableName, Key: key(emailId), ConsistentRead: true }),
            );
            return recordOf(emailId, item, owner);
        },
        async cancel(emailId, owner) {
            const [accepted, scheduled] = EMAIL_CANCELLABLE_STATUSES;
            const result = await update(
                emailId,
                "cancelled",
                {},
                {
                    condition: {
                        // The owner's, not expired, and still held for its sendAt: a released email is `queued` (or further).
                        expression:
                            "attribute_exists(#id) AND #owner = :owner AND #exp > :now AND " +
                            "(#status = :scheduled OR (#status = :accepted AND attribute_exists(#sendAt)))",
                        names: { "#owner": "owner", "#exp": EMAIL_TTL_ATTRIBUTE, "#sendAt": "sendAt" },
                        values: {
                            ":owner": { S: owner },
                            ":now": { N: String(epochSeconds(now())) },
                            ":accepted": { S: accepted },
                            ":scheduled": { S: scheduled },
                        },
                    },
                    returnNew: true,
                },
            );
            const record = recordOf(emailId, result.item, owner);
            if (!record) return { outcome: "not-found" };
            if (result.written) return { outcome: "cancelled", record };
            if (record.status === "cancelled") return { outcome: "already-cancelled", record };
            return { outcome: "not-cancellable", status: record.status };
        },
        async release(emailId) {
            const result = await update(emailId, "queued", {});
            // Not written: no item (sent before statuses existed, or expired), already queued or further, or cancelled.
            return !result.written && result.item?.status?.S === "cancelled" ? "cancelled" : "send";
        },
    };
}
