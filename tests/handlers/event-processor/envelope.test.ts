/**
 * The contract without emulators: envelope rules, the type registry, the item
 * builder's limits and hash, and the environment parser.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { safeParse } from "valibot";
import {
    buildItem,
    contentHash,
    createEnvelopeValidator,
    createEventTypeRegistry,
    enabledEventTypes,
    EVENT_TYPE_NAMES,
    EventEnvelope,
    EventProcessorConfigurationError,
    isEventProcessorConfigurationError,
    MAX_ITEM_BYTES,
    readEventProcessorSettings,
} from "../../../handlers/event-processor";
import {
    CLIENT_ID_PATTERN,
    EVENT_REJECTION_REASON_CODES,
    EVENT_REJECTION_REASONS,
    EVENT_TRANSIENT_REASON_CODES,
} from "../../../contracts/event-pipeline";
import { classifyStoreError } from "../../../handlers/event-processor/persistence";
import { exampleEvents, nested, validEvent } from "../../support/factories/events";

const ROOT = path.resolve(__dirname, "..", "..", "..");
const validate = createEnvelopeValidator();
const reasonOf = (body: unknown) => {
    const result = validate(body);
    return result.ok ? "ok" : result.reason;
};

describe("event contract", () => {
    describe("envelope", () => {
        it("accepts every committed example", () => {
            for (const [type, body] of Object.entries(exampleEvents())) expect(reasonOf(body), type).to.equal("ok");
        });

        it("rejects non-objects, unknown fields, missing and empty fields with their own codes", () => {
            expect(reasonOf(null)).to.equal("body_not_object");
            expect(reasonOf([validEvent()])).to.equal("body_not_object");
            expect(reasonOf("order.placed")).to.equal("body_not_object");
            expect(reasonOf({ ...validEvent(), extra: true })).to.equal("unknown_field");
            expect(reasonOf(JSON.parse(`{"__proto__": {}, ${JSON.stringify(validEvent()).slice(1)}`))).to.equal("unknown_field");
            for (const field of ["clientId", "eventId", "type", "occurredAt", "data"]) {
                const body: Record<string, unknown> = validEvent();
                delete body[field];
                expect(reasonOf(body), field).to.equal("missing_field");
                expect(reasonOf({ ...validEvent(), [field]: null }), `${field}: null`).to.equal("missing_field");
            }
            for (const field of ["clientId", "eventId", "type", "occurredAt"]) {
                expect(reasonOf({ ...validEvent(), [field]: "" }), field).to.equal("empty_field");
                expect(reasonOf({ ...validEvent(), [field]: " \t" }), field).to.equal("empty_field");
            }
        });

        it("names unknown fields in the detail only when they are printable identifiers", () => {
            const result = validate({ ...validEvent(), priority: 1, "x\u0000y": 2 });
            expect(result.ok).to.equal(false);
            expect(!result.ok && result.detail).to.equal("unknown top-level field(s): priority, <unprintable>");
        });

        it("limits clientId to 1-128 characters from the safe set", () => {
            for (const ok of ["a", "acme-retail", "acme.retail:eu_1", "A".repeat(128)])
                expect(reasonOf(validEvent({ clientId: ok })), ok).to.equal("ok");
            for (const bad of ["A".repeat(129), "acme retail", "acme/retail", "acme@retail", "ácme", "a#b"]) {
                expect(reasonOf(validEvent({ clientId: bad })), bad).to.equal("invalid_field");
            }
            expect(reasonOf({ ...validEvent(), clientId: 42 })).to.equal("invalid_field");
            expect(CLIENT_ID_PATTERN.test("x".repeat(128))).to.equal(true);
        });

        it("limits eventId to 1-128 printable ASCII characters", () => {
            for (const ok of ["1", "order-42#v2", "3f1c2a9e-7b44-4d2a-9a61-0c5e8b7d2f10", "~".repeat(128)])
                expect(reasonOf(validEvent({ eventId: ok })), ok).to.equal("ok");
            for (const bad of ["x".repeat(129), "has space", "tab\there", "ünï"])
                expect(reasonOf(validEvent({ eventId: bad })), bad).to.equal("invalid_field");
        });

        it("requires occurredAt to be ISO-8601 with a timezone and a real date", () => {
            for (const ok of [
                "2026-01-31T12:00:00Z",
                "2026-01-31T12:00:00.123456789Z",
                "2026-01-31T12:00:00+05:30",
                "2024-02-29T00:00:00-08:00",
            ]) {
                expect(reasonOf(validEvent({ occurredAt: ok })), ok).to.equal("ok");
            }
            for (const bad of [
                "2026-01-31T12:00:00",
                "2026-01-31",
                "2026-02-29T00:00:00Z",
                "2026-04-31T00:00:00Z",
                "31/01/2026 12:00",
                "2026-01-31 12:00:00Z",
                "1738324800",
            ]) {
                expect(reasonOf(validEvent({ occurredAt: bad })), bad).to.equal("invalid_field");
            }
        });

        it("requires data to be an object and type to be a string", () => {
            expect(reasonOf(validEvent({ data: [] as never }))).to.equal("invalid_field");
            expect(reasonOf(validEvent({ data: "x" as never }))).to.equal("invalid_field");
            expect(reasonOf({ ...validEvent(), type: 7 })).to.equal("invalid_field");
        });

        it("never echoes a received value in the detail", () => {
            const result = validate(validEvent({ clientId: "secret value!", occurredAt: "not-a-date-4711" }));
            expect(result.ok).to.equal(false);
            if (!result.ok) {
                expect(result.detail).not.to.include("secret value!");
                expect(result.detail).not.to.include("4711");
            }
        });
    });

    describe("event-type registry", () => {
        it("has one committed example per registered type, each valid against its schema", () => {
            const registry = createEventTypeRegistry();
            expect(Object.keys(exampleEvents()).sort()).to.deep.equal([...EVENT_TYPE_NAMES].sort());
            for (const [type, body] of Object.entries(exampleEvents())) {
                expect(body.type).to.equal(type);
                const parsed = safeParse(registry[type].data, body.data);
                expect(parsed.success, `${type}: ${JSON.stringify(parsed.issues?.map((i) => i.message))}`).to.equal(true);
            }
        });

        it("rejects invalid data for each type", () => {
            const registry = createEventTypeRegistry();
            for (const [type, body] of Object.entries(exampleEvents())) {
                expect(safeParse(registry[type].data, { ...body.data, unexpected: 1 }).success, `${type} extra key`).to.equal(false);
                expect(safeParse(registry[type].data, {}).success, `${type} empty`).to.equal(false);
            }
        });

        it("restricts to enabled types and refuses unknown names, naming them", () => {
            const registry = createEventTypeRegistry();
            expect([...enabledEventTypes(registry, ["order.placed"]).keys()]).to.deep.equal(["order.placed"]);
            expect([...enabledEventTypes(registry, []).keys()]).to.deep.equal([...EVENT_TYPE_NAMES]);
            expect([...enabledEventTypes(registry).keys()]).to.deep.equal([...EVENT_TYPE_NAMES]);
            expect(() => enabledEventTypes(registry, ["order.placed", "order.shipped", "x"])).to.throw(Error, /order\.shipped, x/);
            try {
                enabledEventTypes(registry, ["x"]);
            } catch (e) {
                expect(isEventProcessorConfigurationError(e)).to.equal(true);
            }
        });
    });

    describe("stored item", () => {
        const envelope = (data: Record<string, unknown>): EventEnvelope => ({ ...validEvent(), data });
        const receivedAt = new Date("2026-02-01T00:00:00Z");

        it("hashes content independent of key order, and differently for different content", () => {
            const event = envelope({});
            const a = contentHash(event, { b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } });
            const b = contentHash(event, { a: { c: null, d: [1, { x: 1, y: 2 }] }, b: 1 });
            expect(a).to.equal(b);
            expect(contentHash(event, { a: 1 })).not.to.equal(contentHash(event, { a: 2 }));
            expect(contentHash(event, { a: [1, 2] })).not.to.equal(contentHash(event, { a: [2, 1] }));
            expect(contentHash(event, { a: 1 })).not.to.equal(contentHash({ ...event, occurredAt: "2026-01-01T00:00:00Z" }, { a: 1 }));
        });

        it("keeps the content hash of stored items stable (a changed encoding would turn redeliveries into conflicting duplicates)", () => {
            const event: EventEnvelope = {
                clientId: "acme",
                eventId: "order-42#v2",
                type: "order.placed",
                occurredAt: "2026-01-31T12:00:00.000Z",
                data: {},
            };
            const data = {
                orderId: "o-1",
                note: "Grüße 🚀",
                lines: [{ sku: "a", quantity: 2, unitPrice: 0.5 }],
                ok: true,
                none: null,
                neg: -0,
                big: 1e21,
            };
            const expected = "fd97e6645a56f49f92f79c76c7c093c566aab9b1ca4d1665d9fee8e3f6eb5ce2";
            expect(contentHash(event, data)).to.equal(expected);
            const built = buildItem({ ...event, data }, data, { receivedAt });
            expect(built.ok && built.item.contentHash.S).to.equal(expected);
        });

        it("rejects items over 400 KB and accepts items under it", () => {
            const over = buildItem(envelope({}), { blob: "x".repeat(MAX_ITEM_BYTES) }, { receivedAt });
            expect(over).to.include({ ok: false, reason: "item_too_large" });
            const under = buildItem(envelope({}), { blob: "x".repeat(MAX_ITEM_BYTES - 1024) }, { receivedAt });
            expect(under.ok).to.equal(true);
            // Multi-byte characters count as bytes, not characters.
            expect(buildItem(envelope({}), { blob: "é".repeat(MAX_ITEM_BYTES / 2 + 10) }, { receivedAt })).to.include({
                reason: "item_too_large",
            });
        });

        it("enforces the 32-level nesting limit (data is level 1)", () => {
            expect(buildItem(envelope({}), nested(31), { receivedAt }).ok).to.equal(true);
            expect(buildItem(envelope({}), nested(32), { receivedAt })).to.include({ ok: false, reason: "nesting_too_deep" });
        });

        it("refuses numbers outside DynamoDB's range, ill-formed strings and unsafe keys", () => {
            for (const data of [
                { n: 1e126 },
                { n: -1e200 },
                { n: 1e-131 },
                { n: Infinity },
                { s: "\ud800" },
                { "": 1 },
                JSON.parse('{"__proto__": 1}'),
            ]) {
                expect(buildItem(envelope({}), data, { receivedAt }), JSON.stringify(data)).to.include({
                    ok: false,
                    reason: "unstorable_value",
                });
            }
            const ok = buildItem(envelope({}), { n: 9.99999999999999e125, m: 1e-130, z: -0, e: "😀", f: 0.1 }, { receivedAt });
            expect(ok.ok && ok.item.data.M).to.deep.equal({
                n: { N: "9.99999999999999e+125" },
                m: { N: "1e-130" },
                z: { N: "0" },
                e: { S: "😀" },
                f: { N: "0.1" },
            });
        });

        it("sets expiresAt from receivedAt plus the retention", () => {
            const built = buildItem(envelope({}), {}, { receivedAt, retentionDays: 2 });
            expect(built.ok && built.item.expiresAt).to.deep.equal({ N: String(receivedAt.getTime() / 1000 + 2 * 86_400) });
        });
    });

    describe("store error classification", () => {
        it("treats throttling as store_throttled, validation as a permanent rejection, anything else as store_unavailable", () => {
            for (const name of [
                "ProvisionedThroughputExceededException",
                "ThrottlingException",
                "RequestLimitExceeded",
                "TransactionConflictException",
            ]) {
                expect(classifyStoreError(Object.assign(new Error("slow down"), { name }))).to.include({
                    outcome: "transient",
                    reason: "store_throttled",
                });
            }
            expect(
                classifyStoreError(
                    Object.assign(new Error("Item size has exceeded the maximum allowed size"), { name: "ValidationException" }),
                ),
            ).to.include({
                outcome: "rejected",
                reason: "store_rejected_item",
            });
            for (const error of [
                Object.assign(new Error("x"), { name: "InternalServerError" }),
                Object.assign(new Error("x"), { name: "TimeoutError" }),
                "boom",
                undefined,
            ]) {
                expect(classifyStoreError(error)).to.include({ outcome: "transient", reason: "store_unavailable" });
            }
        });
    });

    describe("environment", () => {
        it("reads a complete environment", () => {
            expect(
                readEventProcessorSettings({
                    EVENT_TABLE_NAME: "events",
                    DEAD_LETTER_QUEUE_URL: "https://sqs.eu-west-1.amazonaws.com/123456789012/events-dlq",
                    ENABLED_EVENT_TYPES: " order.placed , user.signed_up,order.placed",
                    EVENT_RETENTION_DAYS: "90",
                }),
            ).to.deep.equal({
                tableName: "events",
                deadLetterQueueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/events-dlq",
                enabledTypes: ["order.placed", "user.signed_up"],
                retentionDays: 90,
            });
            expect(
                readEventProcessorSettings({
                    EVENT_TABLE_NAME: "events",
                    DEAD_LETTER_QUEUE_URL: "http://localhost/q",
                    ENABLED_EVENT_TYPES: "",
                }),
            ).to.deep.equal({
                tableName: "events",
                deadLetterQueueUrl: "http://localhost/q",
                enabledTypes: undefined,
                retentionDays: undefined,
            });
        });

        it("names every bad variable in one error", () => {
            let error: EventProcessorConfigurationError | undefined;
            try {
                readEventProcessorSettings({
                    DEAD_LETTER_QUEUE_URL: "sqs://nope",
                    ENABLED_EVENT_TYPES: "order.placed,,mystery.type",
                    EVENT_RETENTION_DAYS: "1.5",
                });
            } catch (e) {
                error = e as EventProcessorConfigurationError;
            }
            expect(isEventProcessorConfigurationError(error)).to.equal(true);
            const text = error!.problems.join("\n");
            for (const expected of ["EVENT_TABLE_NAME", "DEAD_LETTER_QUEUE_URL", "empty entry", "mystery.type", "EVENT_RETENTION_DAYS"])
                expect(text).to.include(expected);
            expect(error!.problems).to.have.length(5);
            for (const days of ["0", "-3", "ten", "1e3"]) {
                expect(
                    () =>
                        readEventProcessorSettings({
                            EVENT_TABLE_NAME: "events",
                            DEAD_LETTER_QUEUE_URL: "https://q",
                            EVENT_RETENTION_DAYS: days,
                        }),
                    days,
                ).to.throw(/EVENT_RETENTION_DAYS/);
            }
        });
    });

    it("documents every reason code in docs/event-contract.md and the README section", () => {
        const docs = fs.readFileSync(path.join(ROOT, "docs", "event-contract.md"), "utf8");
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        const section = readme.slice(readme.indexOf("<!-- section:event-contract -->"), readme.indexOf("<!-- /section:event-contract -->"));
        for (const code of [...EVENT_REJECTION_REASON_CODES, ...EVENT_TRANSIENT_REASON_CODES]) {
            expect(docs, code).to.include(`| \`${code}\` |`);
            expect(section, code).to.include(`\`${code}\``);
        }
        for (const type of EVENT_TYPE_NAMES) expect(docs, type).to.include(`| \`${type}\` |`);
    });

    it("documents every reason code in one sentence", () => {
        for (const code of EVENT_REJECTION_REASON_CODES) expect(EVENT_REJECTION_REASONS[code]).to.match(/\.$/);
        expect(EVENT_REJECTION_REASON_CODES).to.have.length(16);
        expect(EVENT_TRANSIENT_REASON_CODES).to.deep.equal([
            "store_throttled",
            "store_unavailable",
            "dead_letter_unavailable",
            "unexpected_error",
            "sender_claim_unavailable",
        ]);
    });
});
