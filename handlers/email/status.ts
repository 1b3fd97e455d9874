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
 */
import ddb = require("@aws-sdk/client-dynamodb");
import {
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

export interface EmailStatusStore {
    /**
     * Creates the email's item, owned by `owner`, in status `accepted` (or leaves an existing one as it is:
     * a replayed Idempotency-Key). `expiresAt` is when DynamoDB may delete it.
     */
    accept(emailId: string, owner: string, expiresAt: Date): Promise<StatusOutcome>;
    /** Moves an existing email to `status` if that ranks above its current one; `at` is when it happened (default: now). */
    record(emailId: string, status: EmailStatus, details?: StatusDetails, at?: Date): Promise<StatusOutcome>;
    /** The email's status if `owner` owns it and it has not expired; undefined otherwise (one answer for both). */
    read(emailId: string, owner: string): Promise<EmailStatusRecord | undefined>;
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

    async function update(
        emailId: string,
        status: EmailStatus,
        details: StatusDetails,
        create: { owner: string; expiresAt: Date } | undefined,
        when?: Date,
    ): Promise<StatusOutcome> {
        const at = (when ?? now()).toISOString();
        const names: Record<string, string> = {
            "#id": EMAIL_STATUS_TABLE_KEYS.partition,
            "#status": "status",
            "#rank": "rank",
            "#updatedAt": "updatedAt",
            "#history": "history",
        };
        const values: Record<string, ddb.AttributeValue> = {
            ":status": { S: status },
            ":rank": { N: String(EMAIL_STATUSES[status].rank) },
            ":at": { S: at },
            ":entry": { L: [entryItem(status, at, details)] },
            ":empty": { L: [] },
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
        }
        try {
            await client.send(
                new ddb.UpdateItemCommand({
                    TableName: tableName,
                    Key: key(emailId),
                    UpdateExpression: `SET ${sets.join(", ")}`,
                    // Only the API creates; everyone else moves an existing email forward.
                    ConditionExpression: create ? "attribute_not_exists(#id)" : "attribute_exists(#id) AND #rank < :rank",
                    ExpressionAttributeNames: names,
                    ExpressionAttributeValues: values,
                }),
            );
            return "recorded";
        } catch (error) {
            if ((error as Error).name === "ConditionalCheckFailedException") return "stale";
            throw error;
        }
    }

    return {
        accept: (emailId, owner, expiresAt) => update(emailId, "accepted", {}, { owner, expiresAt }),
        record: (emailId, status, details = {}, at) => update(emailId, status, details, undefined, at),
        async read(emailId, owner) {
            const { Item: item } = await client.send(
                // Strongly consistent: a client that just got its 202 must find the email.
                new ddb.GetItemCommand({ TableName: tableName, Key: key(emailId), ConsistentRead: true }),
            );
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
        },
    };
}
