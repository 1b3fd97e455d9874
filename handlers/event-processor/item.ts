/**
 * Builds the DynamoDB item for a validated event: `data` as a native map (so the
 * Sender can project and filter on it), a content hash for duplicate detection,
 * the TTL when retention is configured, and DynamoDB's own limits checked up
 * front (400 KB, 32 nesting levels, number range) so that a bad item is a clear
 * permanent rejection instead of a retried write.
 */
import { createHash } from "node:crypto";
import type { RejectionReason } from "./errors";
import type { AttributeValue, EventEnvelope } from "./types";

/** TTL attribute (epoch seconds); only present when retention is configured. */
export const TTL_ATTRIBUTE = "expiresAt";
/** sha256 (hex) of the canonical JSON of clientId, eventId, type, occurredAt and data. */
export const CONTENT_HASH_ATTRIBUTE = "contentHash";
/** DynamoDB's item size limit (attribute names + values). */
export const MAX_ITEM_BYTES = 400 * 1024;
/** DynamoDB's nesting limit; `data` itself is level 1 and every value inside adds one. */
export const MAX_NESTING_DEPTH = 32;

// DynamoDB numbers: up to 38 significant digits, magnitude between 1E-130 and 9.99..E+125
// (every double below 1E+126 prints within that range; 9.99..E+125 itself rounds to 1E+126).
const NUMBER_MAGNITUDE_BOUND = 1e126;
const MIN_NUMBER_MAGNITUDE = 1e-130;

/** The stored item's shape (attribute names are part of the contract with the Sender). */
export interface StoredEventItem {
    clientId: { S: string };
    eventId: { S: string };
    type: { S: string };
    occurredAt: { S: string };
    /** ISO-8601 UTC, when the processor handled the message. */
    receivedAt: { S: string };
    data: { M: Record<string, AttributeValue> };
    contentHash: { S: string };
    expiresAt?: { N: string };
}

export type BuildItemResult =
    | { readonly ok: true; readonly item: StoredEventItem; readonly contentHash: string; readonly sizeBytes: number }
    | { readonly ok: false; readonly reason: RejectionReason; readonly detail: string };

// With the `u` flag a surrogate only matches when it is unpaired (DynamoDB would store U+FFFD instead).
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
function isWellFormed(text: string): boolean {
    return !LONE_SURROGATE.test(text);
}

class StorabilityProblem {
    constructor(
        readonly reason: "nesting_too_deep" | "unstorable_value",
        readonly detail: string,
    ) {}
}

function checkKey(key: string, path: string): void {
    if (key === "" || key === "__proto__" || !isWellFormed(key)) {
        const what = key === "" ? "an empty key" : key === "__proto__" ? "a __proto__ key" : "a key that is not well-formed Unicode";
        throw new StorabilityProblem("unstorable_value", `${path} has ${what}`);
    }
}

function tooDeep(path: string): StorabilityProblem {
    return new StorabilityProblem("nesting_too_deep", `${path} nests deeper than ${MAX_NESTING_DEPTH} levels`);
}

/**
 * Depth and key check on the raw `data`, run before its schema: the recursion
 * stops at the limit, so a 1 MiB `[[[[...` cannot blow the stack, and a
 * `__proto__` key is caught before a schema could silently drop it.
 */
export function checkRawData(value: unknown): { reason: RejectionReason; detail: string } | undefined {
    try {
        inspect(value, 1, "data");
        return undefined;
    } catch (problem) {
        if (problem instanceof StorabilityProblem) return { reason: problem.reason, detail: problem.detail };
        throw problem;
    }
}

function inspect(value: unknown, level: number, path: string): void {
    if (level > MAX_NESTING_DEPTH) throw tooDeep(path);
    if (typeof value !== "object" || value === null) return;
    if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) inspect(value[i], level + 1, path);
        return;
    }
    for (const key of Object.keys(value)) {
        checkKey(key, path);
        inspect((value as Record<string, unknown>)[key], level + 1, path);
    }
}

/** Accumulates the item size estimate while marshalling. */
interface SizeCounter {
    bytes: number;
}

/**
 * JSON value -> DynamoDB AttributeValue, checking what DynamoDB would refuse or alter
 * and adding a conservative size estimate (AWS's documented sizing, rounded up).
 */
function toAttributeValue(value: unknown, level: number, path: string, size: SizeCounter): AttributeValue {
    if (level > MAX_NESTING_DEPTH) throw tooDeep(path);
    switch (typeof value) {
        case "string":
            if (!isWellFormed(value)) throw new StorabilityProblem("unstorable_value", `${path} holds a string that is not well-formed Unicode`);
            size.bytes += Buffer.byteLength(value, "utf8");
            return { S: value };
        case "number": {
            const magnitude = Math.abs(value);
            if (!Number.isFinite(value) || magnitude >= NUMBER_MAGNITUDE_BOUND || (magnitude !== 0 && magnitude < MIN_NUMBER_MAGNITUDE)) {
                throw new StorabilityProblem("unstorable_value", `${path} holds a number outside DynamoDB's range (1E-130 to 9.99E+125)`);
            }
            const text = Object.is(value, -0) ? "0" : String(value);
            size.bytes += 1 + Math.ceil(text.length / 2);
            return { N: text };
        }
        case "boolean":
            size.bytes += 1;
            return { BOOL: value };
        case "object": {
            if (value === null) {
                size.bytes += 1;
                return { NULL: true };
            }
            size.bytes += 3;
            if (Array.isArray(value)) {
                const list: AttributeValue[] = new Array(value.length);
                for (let i = 0; i < value.length; i++) {
                    size.bytes += 1;
                    list[i] = toAttributeValue(value[i], level + 1, `${path}[${i}]`, size);
                }
                return { L: list };
            }
            const map: Record<string, AttributeValue> = {};
            for (const key of Object.keys(value)) {
                const entry = (value as Record<string, unknown>)[key];
                if (entry === undefined) continue; // optional fields a schema left out
                checkKey(key, path);
                size.bytes += 1 + Buffer.byteLength(key, "utf8");
                map[key] = toAttributeValue(entry, level + 1, path.length < 200 ? `${path}.${key.slice(0, 40)}` : path, size);
            }
            return { M: map };
        }
        default:
            throw new StorabilityProblem("unstorable_value", `${path} holds a ${typeof value}, which JSON cannot carry`);
    }
}

/** JSON with object keys sorted at every level, so key order never changes the hash. */
export function canonicalJson(value: unknown): string {
    if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
    if (typeof value === "object" && value !== null) {
        const keys = Object.keys(value)
            .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
            .sort();
        return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`).join(",")}}`;
    }
    return JSON.stringify(value);
}

/**
 * The content hash that tells a duplicate (same content) from a conflicting duplicate.
 * Content = clientId, eventId, type, occurredAt (as sent) and data (after its schema).
 */
export function contentHash(envelope: Pick<EventEnvelope, "clientId" | "eventId" | "type" | "occurredAt">, data: unknown): string {
    const canonical = canonicalJson({ clientId: envelope.clientId, eventId: envelope.eventId, type: envelope.type, occurredAt: envelope.occurredAt, data });
    return createHash("sha256").update(canonical).digest("hex");
}

export interface BuildItemOptions {
    /** When the processor handled the message. */
    readonly receivedAt: Date;
    /** Positive whole days; sets `expiresAt`. */
    readonly retentionDays?: number;
}

/**
 * Builds the stored item, or says why it cannot be stored.
 *
 * @example
 * const built = buildItem(envelope, validatedData, { receivedAt: new Date(), retentionDays: 30 });
 * if (built.ok) await dynamodb.send(new PutItemCommand({ TableName, Item: built.item }));
 */
export function buildItem(envelope: EventEnvelope, data: Record<string, unknown>, options: BuildItemOptions): BuildItemResult {
    const size: SizeCounter = { bytes: 0 };
    let dataValue: AttributeValue;
    try {
        dataValue = toAttributeValue(data, 1, "data", size);
    } catch (problem) {
        if (problem instanceof StorabilityProblem) return { ok: false, reason: problem.reason, detail: problem.detail };
        throw problem;
    }
    const hash = contentHash(envelope, data);
    const receivedAt = options.receivedAt.toISOString();
    const item: StoredEventItem = {
        clientId: { S: envelope.clientId },
        eventId: { S: envelope.eventId },
        type: { S: envelope.type },
        occurredAt: { S: envelope.occurredAt },
        receivedAt: { S: receivedAt },
        data: dataValue as { M: Record<string, AttributeValue> },
        contentHash: { S: hash },
    };
    if (options.retentionDays !== undefined) {
        item.expiresAt = { N: String(Math.floor(options.receivedAt.getTime() / 1000) + options.retentionDays * 86_400) };
    }
    // Names and values of the fixed attributes; all ASCII, so length == bytes.
    let bytes = size.bytes + "data".length;
    for (const [name, attribute] of Object.entries(item)) {
        if (name === "data") continue;
        bytes += name.length + ("S" in attribute ? attribute.S.length : attribute.N.length);
    }
    if (bytes > MAX_ITEM_BYTES) {
        return { ok: false, reason: "item_too_large", detail: `item would be about ${Math.ceil(bytes / 1024)} KB; DynamoDB allows 400 KB` };
    }
    return { ok: true, item, contentHash: hash, sizeBytes: bytes };
}
