/**
 * Builds the DynamoDB item for a validated event: `data` as a native map (so the
 * Sender can project and filter on it), a content hash for duplicate detection,
 * the TTL when retention is configured, and DynamoDB's own limits checked up
 * front (400 KB, 32 nesting levels, number range) so that a bad item is a clear
 * permanent rejection instead of a retried write.
 */
import { hash as oneShotHash } from "node:crypto";
import {
    EVENT_CONTENT_HASH_ATTRIBUTE,
    EVENT_RECEIVED_AT_ATTRIBUTE,
    EVENT_TABLE_KEYS,
    EVENT_TTL_ATTRIBUTE,
    type EventRejectionReason,
} from "../../contracts/event-pipeline";
import type { AttributeValue, EventEnvelope } from "./types";

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
    [EVENT_TABLE_KEYS.partition]: { S: string };
    [EVENT_TABLE_KEYS.sort]: { S: string };
    type: { S: string };
    occurredAt: { S: string };
    /** ISO-8601 UTC, when the processor handled the message; always a string (the arrival index's sort key). */
    [EVENT_RECEIVED_AT_ATTRIBUTE]: { S: string };
    data: { M: Record<string, AttributeValue> };
    /** SHA-256 (hex) of clientId, eventId, type, occurredAt and data in a canonical, key-order-free encoding. */
    [EVENT_CONTENT_HASH_ATTRIBUTE]: { S: string };
    /** Epoch seconds; only present when retention is configured. */
    [EVENT_TTL_ATTRIBUTE]?: { N: string };
}

/** The item to store, or why the event cannot be stored. */
export type BuildItemResult =
    | { readonly ok: true; readonly item: StoredEventItem; readonly contentHash: string; readonly sizeBytes: number }
    | { readonly ok: false; readonly reason: EventRejectionReason; readonly detail: string };

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

/** What is wrong with a map key for DynamoDB (or a JavaScript consumer), if anything. */
function keyProblem(key: string): string | undefined {
    if (key === "") return "an empty key";
    if (key === "__proto__") return "a __proto__ key";
    if (!isWellFormed(key)) return "a key that is not well-formed Unicode";
    return undefined;
}

function tooDeep(path: string): StorabilityProblem {
    return new StorabilityProblem("nesting_too_deep", `${path} nests deeper than ${MAX_NESTING_DEPTH} levels`);
}

/**
 * Depth and key check on the raw `data`, run before its schema: the recursion
 * stops at the limit, so a 1 MiB `[[[[...` cannot blow the stack, and a
 * `__proto__` key is caught before a schema could silently drop it.
 */
export function checkRawData(value: unknown): { reason: EventRejectionReason; detail: string } | undefined {
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
        const problem = keyProblem(key);
        if (problem) throw new StorabilityProblem("unstorable_value", `${path} has ${problem}`);
        inspect((value as Record<string, unknown>)[key], level + 1, path);
    }
}

/** State of one marshalling walk: size estimate, canonical encoding for the hash, and the key path (for messages). */
interface Walk {
    bytes: number;
    canonical: string;
    readonly path: (string | number)[];
}

function pathText(walk: Walk): string {
    return `data${walk.path
        .slice(0, 8)
        .map((key) => (typeof key === "number" ? `[${key}]` : `.${key.slice(0, 40)}`))
        .join("")}`;
}

/**
 * JSON value -> DynamoDB AttributeValue in one walk that also
 *  - checks what DynamoDB would refuse or alter (depth, number range, ill-formed strings, empty/`__proto__` keys),
 *  - adds a conservative size estimate (AWS's documented sizing, rounded up),
 *  - appends the value's canonical encoding for the content hash: length-prefixed strings and keys (no escaping
 *    needed, still unambiguous), object keys sorted so key order never changes the hash.
 */
function toAttributeValue(value: unknown, level: number, walk: Walk): AttributeValue {
    if (level > MAX_NESTING_DEPTH) throw tooDeep(pathText(walk));
    switch (typeof value) {
        case "string":
            if (!isWellFormed(value))
                throw new StorabilityProblem("unstorable_value", `${pathText(walk)} holds a string that is not well-formed Unicode`);
            walk.bytes += Buffer.byteLength(value, "utf8");
            walk.canonical += `s${value.length}:${value}`;
            return { S: value };
        case "number": {
            const magnitude = Math.abs(value);
            if (!Number.isFinite(value) || magnitude >= NUMBER_MAGNITUDE_BOUND || (magnitude !== 0 && magnitude < MIN_NUMBER_MAGNITUDE)) {
                throw new StorabilityProblem(
                    "unstorable_value",
                    `${pathText(walk)} holds a number outside DynamoDB's range (1E-130 to 9.99E+125)`,
                );
            }
            const text = Object.is(value, -0) ? "0" : String(value);
            walk.bytes += 1 + Math.ceil(text.length / 2);
            walk.canonical += `n${text};`;
            return { N: text };
        }
        case "boolean":
            walk.bytes += 1;
            walk.canonical += value ? "t" : "f";
            return { BOOL: value };
        case "object": {
            if (value === null) {
                walk.bytes += 1;
                walk.canonical += "z";
                return { NULL: true };
            }
            walk.bytes += 3;
            if (Array.isArray(value)) {
                const list: AttributeValue[] = new Array(value.length);
                walk.canonical += "[";
                for (let i = 0; i < value.length; i++) {
                    walk.bytes += 1;
                    walk.path.push(i);
                    list[i] = toAttributeValue(value[i], level + 1, walk);
                    walk.path.pop();
                }
                walk.canonical += "]";
                return { L: list };
            }
            const map: Record<string, AttributeValue> = {};
            walk.canonical += "{";
            for (const key of Object.keys(value).sort()) {
                const entry = (value as Record<string, unknown>)[key];
                if (entry === undefined) continue; // optional fields a schema left out
                const problem = keyProblem(key);
                if (problem) throw new StorabilityProblem("unstorable_value", `${pathText(walk)} has ${problem}`);
                walk.bytes += 1 + Buffer.byteLength(key, "utf8");
                walk.canonical += `${key.length}:${key}`;
                walk.path.push(key);
                map[key] = toAttributeValue(entry, level + 1, walk);
                walk.path.pop();
            }
            walk.canonical += "}";
            return { M: map };
        }
        default:
            throw new StorabilityProblem("unstorable_value", `${pathText(walk)} holds a ${typeof value}, which JSON cannot carry`);
    }
}

type HashedFields = Pick<EventEnvelope, "clientId" | "eventId" | "type" | "occurredAt">;

function hashOf(envelope: HashedFields, canonicalData: string): string {
    const { clientId, eventId, type, occurredAt } = envelope;
    // One-shot hash of the whole text: the same digest as update()s of its parts, without a Hash object per event.
    return oneShotHash(
        "sha256",
        `${clientId.length}:${clientId}${eventId.length}:${eventId}${type.length}:${type}${occurredAt.length}:${occurredAt}${canonicalData}`,
        "hex",
    );
}

/**
 * The content hash that tells a duplicate (same content) from a conflicting duplicate:
 * SHA-256 (hex) of clientId, eventId, type, occurredAt (as sent) and data (after its schema),
 * in a canonical encoding where object key order does not matter.
 *
 * @example
 * contentHash(envelope, { b: 1, a: 2 }) === contentHash(envelope, { a: 2, b: 1 }); // true
 */
export function contentHash(envelope: HashedFields, data: unknown): string {
    const walk: Walk = { bytes: 0, canonical: "", path: [] };
    toAttributeValue(data, 1, walk);
    return hashOf(envelope, walk.canonical);
}

/** When the message was handled and how long to keep the event. */
export interface BuildItemOptions {
    /** When the processor handled the message. */
    readonly receivedAt: Date;
    /** Positive whole days; sets `expiresAt`. */
    readonly retentionDays?: number;
}

/** The per-batch attributes every item of a batch shares, formatted once. */
export interface ItemStamp {
    readonly receivedAt: string;
    readonly expiresAt?: string;
}

/** Formats `receivedAt` and the TTL once per batch. */
export function itemStamp(options: BuildItemOptions): ItemStamp {
    return {
        receivedAt: options.receivedAt.toISOString(),
        ...(options.retentionDays === undefined
            ? {}
            : { expiresAt: String(Math.floor(options.receivedAt.getTime() / 1000) + options.retentionDays * 86_400) }),
    };
}

/**
 * Builds the stored item, or says why it cannot be stored.
 *
 * @example
 * const built = buildItem(envelope, validatedData, { receivedAt: new Date(), retentionDays: 30 });
 * if (built.ok) await dynamodb.send(new PutItemCommand({ TableName, Item: built.item }));
 */
export function buildItem(envelope: EventEnvelope, data: Record<string, unknown>, options: BuildItemOptions | ItemStamp): BuildItemResult {
    const stamp = typeof options.receivedAt === "string" ? (options as ItemStamp) : itemStamp(options as BuildItemOptions);
    const walk: Walk = { bytes: 0, canonical: "", path: [] };
    let dataValue: AttributeValue;
    try {
        dataValue = toAttributeValue(data, 1, walk);
    } catch (problem) {
        if (problem instanceof StorabilityProblem) return { ok: false, reason: problem.reason, detail: problem.detail };
        throw problem;
    }
    const hash = hashOf(envelope, walk.canonical);
    const item: StoredEventItem = {
        [EVENT_TABLE_KEYS.partition]: { S: envelope.clientId },
        [EVENT_TABLE_KEYS.sort]: { S: envelope.eventId },
        type: { S: envelope.type },
        occurredAt: { S: envelope.occurredAt },
        [EVENT_RECEIVED_AT_ATTRIBUTE]: { S: stamp.receivedAt },
        data: dataValue as { M: Record<string, AttributeValue> },
        [EVENT_CONTENT_HASH_ATTRIBUTE]: { S: hash },
    };
    if (stamp.expiresAt !== undefined) item[EVENT_TTL_ATTRIBUTE] = { N: stamp.expiresAt };
    // Names and values of the fixed attributes; the envelope fields are ASCII by contract, so length == bytes.
    const bytes =
        walk.bytes +
        "data".length +
        EVENT_TABLE_KEYS.partition.length +
        envelope.clientId.length +
        EVENT_TABLE_KEYS.sort.length +
        envelope.eventId.length +
        "type".length +
        envelope.type.length +
        "occurredAt".length +
        envelope.occurredAt.length +
        EVENT_RECEIVED_AT_ATTRIBUTE.length +
        stamp.receivedAt.length +
        EVENT_CONTENT_HASH_ATTRIBUTE.length +
        hash.length +
        (stamp.expiresAt === undefined ? 0 : EVENT_TTL_ATTRIBUTE.length + stamp.expiresAt.length);
    if (bytes > MAX_ITEM_BYTES) {
        return { ok: false, reason: "item_too_large", detail: `item would be about ${Math.ceil(bytes / 1024)} KB; DynamoDB allows 400 KB` };
    }
    return { ok: true, item, contentHash: hash, sizeBytes: bytes };
}
