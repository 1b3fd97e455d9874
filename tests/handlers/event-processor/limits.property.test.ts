/**
 * Hostile-input properties for the event contract, at and around every documented limit:
 * id lengths (0, 1, 127, 128, 129) and character classes, dates and times, the MessageGroupId
 * rule, counts and lengths inside `data`, number ranges and sizes. Each generated body is
 * judged twice: by the processor and by an oracle built from the documented rules (the
 * published JSON Schema via ajv-formats, and the limits in docs/event-contract.md). The
 * processor runs on recording clients (no emulators), so thousands of cases stay cheap;
 * the same bodies on the real pipeline are in tests/local/hostile-input.e2e.test.ts.
 */
import { expect } from "chai";
import Ajv, { ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import fc from "fast-check";
import * as fs from "node:fs";
import * as path from "node:path";
import { Logger } from "@aws-lambda-powertools/logger";
import { createBatchProcessor, EVENT_TYPE_NAMES, MAX_ITEM_BYTES } from "../../../handlers/event-processor";
import { EVENT_REJECTION_REASON_CODES } from "../../../contracts/event-pipeline";
import { SCHEMAS_DIR } from "../../../scripts/generate-schemas";
import { FREEFORM_TYPE, sqsRecord, testEventTypes, validEvent } from "../../support/factories/events";
import { captureOutput, quietObservability, recordingClients } from "./harness";

function recordingProcessor(options: { producerTenants?: Record<string, string[]>; logger?: Logger } = {}) {
    const { dynamodb, sqs, puts, letters } = recordingClients();
    const observability = quietObservability();
    const processBatch = createBatchProcessor({
        dynamodb,
        sqs,
        tableName: "events",
        deadLetterQueueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/events-dlq",
        eventTypes: testEventTypes(),
        ...observability,
        ...(options.logger ? { logger: options.logger } : {}),
        ...(options.producerTenants ? { producerTenants: options.producerTenants } : {}),
    });
    return { processBatch, puts, letters };
}

const ajv = new Ajv({ allErrors: true, strict: true });
addFormats(ajv);
const schemas: Record<string, ValidateFunction> = Object.fromEntries(
    EVENT_TYPE_NAMES.map((type) => [type, ajv.compile(JSON.parse(fs.readFileSync(path.join(SCHEMAS_DIR, `${type}.schema.json`), "utf8")))]),
);

/** Lengths at and around a limit. */
const around = (limit: number) => fc.constantFrom(0, 1, 2, limit - 1, limit, limit + 1);
const idChar = fc.constantFrom(..."aZ09._:-".split(""));
const hostileChar = fc.constantFrom(" ", "/", "#", "@", "é", "\u0000", "\t", "\u200b", "𝄞", "\ud800", "%", "*", '"', "\\");
/** A string of `length` allowed characters, sometimes with one hostile character planted. */
const idOf = (lengthArb: fc.Arbitrary<number>) =>
    fc.tuple(lengthArb, fc.option(fc.tuple(fc.nat(), hostileChar), { freq: 3 })).chain(([length, plant]) =>
        fc.array(idChar, { minLength: length, maxLength: length }).map((chars) => {
            if (plant && chars.length > 0) chars[plant[0] % chars.length] = plant[1];
            return chars.join("");
        }),
    );
const pad = (n: number, w = 2) => String(n).padStart(w, "0");
// Each field at and around its limits, mostly valid so that one bad field at a time is exercised.
const timestampArb = fc
    .tuple(
        fc.constantFrom(1900, 2000, 2024, 2026, 2100),
        fc.constantFrom(1, 2, 4, 12, 0, 13),
        fc.constantFrom(1, 28, 29, 30, 31, 0, 32),
        fc.constantFrom(0, 12, 23, 24),
        fc.constantFrom(0, 59, 60),
        fc.constantFrom(0, 59, 60, 61),
        fc.constantFrom("Z", "+01:00", "-05:00", ".123456789Z", "", "+24:00", ".1234567890Z"),
    )
    .map(([y, mo, d, h, mi, s, z]) => `${pad(y, 4)}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}${z}`);

describe("event contract: hostile-input properties at every documented limit (fast-check)", () => {
    const validTimestamp = fc.constant("2026-01-31T12:00:00Z");
    const validId = fc.constant("tenant-a");
    for (const [name, ids, timestamps] of [
        ["clientId and eventId", idOf(around(128)), validTimestamp],
        ["occurredAt", validId, timestampArb],
    ] as const) {
        it(`${name}: accepted exactly when the published schema accepts them; a rejection never stores`, async () => {
            const { processBatch, puts } = recordingProcessor();
            await fc.assert(
                fc.asyncProperty(
                    ids,
                    name === "occurredAt" ? validId : idOf(around(128)),
                    timestamps,
                    async (clientId, eventId, occurredAt) => {
                        const body = validEvent({ clientId, eventId, occurredAt });
                        const before = puts.length;
                        const { outcomes } = await processBatch([sqsRecord(body, { messageGroupId: clientId })]);
                        const outcome = outcomes[0];
                        // The schema is the oracle for shape; whitespace-only strings are documented as empty_field.
                        const schemaSays = schemas["order.placed"](body);
                        if (schemaSays) expect(outcome.outcome, JSON.stringify({ clientId, eventId, occurredAt })).to.equal("persisted");
                        else {
                            expect(outcome.outcome, JSON.stringify({ clientId, eventId, occurredAt })).to.equal("rejected");
                            expect(["invalid_field", "empty_field"]).to.include(outcome.outcome === "rejected" ? outcome.reason : "");
                            expect(puts.length).to.equal(before);
                        }
                    },
                ),
                { numRuns: 600, seed: 1201 },
            );
        });
    }

    it("counts and lengths inside data (lines 1-500, quantity 1-10000, ids 1-128, currency, feedback 1000): agree with the schema", async () => {
        const { processBatch } = recordingProcessor();
        const line = (quantity: number, sku: string) => ({ sku, quantity, unitPrice: 100 });
        await fc.assert(
            fc.asyncProperty(
                around(500),
                fc.constantFrom(0, 1, 10_000, 10_001, 1.5, -1),
                idOf(around(128)),
                fc.constantFrom("EUR", "eur", "EU", "EURO", "€UR"),
                fc.constantFrom(0, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 2, -1),
                async (lineCount, quantity, sku, currency, totalAmount) => {
                    const data = {
                        orderId: "o-1",
                        customerId: "c-1",
                        currency,
                        totalAmount,
                        lines: Array.from({ length: lineCount }, () => line(quantity, sku)),
                    };
                    const body = validEvent({ type: "order.placed", data });
                    const { outcomes } = await processBatch([sqsRecord(body)]);
                    const outcome = outcomes[0];
                    const label = JSON.stringify({ lineCount, quantity, sku, currency, totalAmount });
                    if (schemas["order.placed"](body)) expect(outcome.outcome, label).to.equal("persisted");
                    else expect(outcome.outcome === "rejected" && outcome.reason, label).to.equal("invalid_data");
                },
            ),
            { numRuns: 300, seed: 1202 },
        );
        await fc.assert(
            fc.asyncProperty(around(1000), timestampArb, async (feedbackLength, effectiveAt) => {
                const base = validEvent({ type: "subscription.cancelled" });
                const body = { ...base, data: { ...base.data, feedback: "f".repeat(feedbackLength), effectiveAt } };
                const { outcomes } = await processBatch([sqsRecord(body)]);
                const label = JSON.stringify({ feedbackLength, effectiveAt });
                if (schemas["subscription.cancelled"](body)) expect(outcomes[0].outcome, label).to.equal("persisted");
                else expect(outcomes[0].outcome === "rejected" && outcomes[0].reason, label).to.equal("invalid_data");
            }),
            { numRuns: 200, seed: 1203 },
        );
    });

    it("numbers, nesting and item size at DynamoDB's limits are stored or rejected with the documented reason", async () => {
        const { processBatch } = recordingProcessor();
        await fc.assert(
            fc.asyncProperty(
                fc.constantFrom(1e125, 9.99e125, 1e126, -1e126, 1e-130, 1e-131, 0, -0, Number.MAX_VALUE),
                fc.constantFrom(30, 31, 32, 33),
                fc.constantFrom(MAX_ITEM_BYTES - 2048, MAX_ITEM_BYTES + 1024),
                async (number, depth, size) => {
                    let nested: unknown = "leaf";
                    for (let i = 1; i < depth; i++) nested = { n: nested };
                    const [numberOutcome, depthOutcome, sizeOutcome] = (
                        await processBatch([
                            sqsRecord(validEvent({ type: FREEFORM_TYPE, data: { reading: number } })),
                            sqsRecord(validEvent({ type: FREEFORM_TYPE, data: nested as Record<string, unknown> })),
                            sqsRecord(validEvent({ type: FREEFORM_TYPE, data: { blob: "x".repeat(size) } })),
                        ])
                    ).outcomes;
                    const magnitude = Math.abs(number);
                    const storable = magnitude === 0 || (magnitude >= 1e-130 && magnitude < 1e126);
                    expect(numberOutcome.outcome === "rejected" ? numberOutcome.reason : numberOutcome.outcome, String(number)).to.equal(
                        storable ? "persisted" : "unstorable_value",
                    );
                    // `data` is level 1 and `depth` levels of objects end in a string at level depth + 1... minus the leaf's own map.
                    expect(depthOutcome.outcome === "rejected" ? depthOutcome.reason : depthOutcome.outcome, `depth ${depth}`).to.equal(
                        depth <= 32 ? "persisted" : "nesting_too_deep",
                    );
                    expect(sizeOutcome.outcome === "rejected" ? sizeOutcome.reason : sizeOutcome.outcome, `size ${size}`).to.equal(
                        size < MAX_ITEM_BYTES ? "persisted" : "item_too_large",
                    );
                },
            ),
            { numRuns: 60, seed: 1204 },
        );
    });

    it("MessageGroupId and sender: a tenant is written only by its group (when present) and, with producers configured, its producer", async () => {
        const producerTenants = { AROAPRODUCERA000000001: ["tenant-a"], AROAPRODUCERB000000002: ["tenant-b", "tenant-c"] };
        const open = recordingProcessor();
        const isolated = recordingProcessor({ producerTenants });
        const tenant = fc.constantFrom("tenant-a", "tenant-b", "tenant-c", "tenant-d");
        const sender = fc.constantFrom(
            "AROAPRODUCERA000000001:s1",
            "AROAPRODUCERB000000002:s2",
            "AROAUNKNOWN0000000003:s3",
            "AIDAUSER00000000000004",
            "000000000000",
            "",
        );
        await fc.assert(
            fc.asyncProperty(tenant, fc.option(tenant), sender, async (clientId, groupId, senderId) => {
                const body = validEvent({ clientId });
                const base = sqsRecord(body);
                const { MessageGroupId: _drop, ...attributes } = base.attributes as unknown as Record<string, string>;
                const record = {
                    ...base,
                    attributes: {
                        ...attributes,
                        ...(groupId ? { MessageGroupId: groupId } : {}),
                        ...(senderId ? { SenderId: senderId } : {}),
                    },
                } as typeof base;
                const [openOutcome] = (await open.processBatch([record])).outcomes;
                const [isolatedOutcome] = (await isolated.processBatch([record])).outcomes;
                const reasonOf = (o: typeof openOutcome) => (o.outcome === "rejected" ? o.reason : o.outcome);
                const groupOk = groupId === null || groupId === clientId;
                expect(reasonOf(openOutcome)).to.equal(groupOk ? "persisted" : "message_group_mismatch");
                const principal = senderId.split(":")[0];
                const allowed = (producerTenants as Record<string, string[]>)[principal]?.includes(clientId) ?? false;
                // A missing group is judged by the sender alone (AWS's standard-queue Lambda record carries none).
                const expected = !groupOk ? "message_group_mismatch" : allowed ? "persisted" : "sender_not_allowed";
                expect(reasonOf(isolatedOutcome), JSON.stringify({ clientId, groupId, senderId })).to.equal(expected);
            }),
            { numRuns: 300, seed: 1205 },
        );
    });

    it("every rejection carries a known reason and a payload-free detail; no log line carries the payload", async () => {
        const SENTINEL = "SENTINEL-PAYLOAD-7f3a";
        const hostileBody = fc.oneof(
            fc.constant(`{"clientId":"a","eventId":"${SENTINEL}`),
            fc
                .record({
                    clientId: fc.constantFrom("tenant-a", `${SENTINEL} x`),
                    eventId: fc.constantFrom("e-1", `${SENTINEL} y`),
                    type: fc.constantFrom("order.placed", SENTINEL),
                    occurredAt: fc.constantFrom("2026-02-31T00:00:00Z", "2026-01-01T00:00:00Z"),
                    data: fc.constant({ note: SENTINEL }),
                })
                .map((b) => JSON.stringify(b)),
            // A plain-identifier field name is shown by design (docs: "An unknown field name is shown only when it is a plain identifier").
            fc.constant(JSON.stringify({ ...validEvent(), [`${SENTINEL} <script>`]: 1 })),
            fc.constant(JSON.stringify(validEvent({ data: { ...validEvent().data, orderId: `${SENTINEL}`.repeat(10) } }))),
        );
        const { result: bodies, lines } = await captureOutput(async () => {
            const logger = new Logger({ serviceName: "event-processor", logLevel: "DEBUG" });
            const { processBatch, letters } = recordingProcessor({ logger });
            const all: string[] = [];
            await fc.assert(
                fc.asyncProperty(fc.array(hostileBody, { minLength: 1, maxLength: 10 }), async (batch) => {
                    const before = letters.length;
                    const { outcomes } = await processBatch(batch.map((b) => sqsRecord(b, { messageGroupId: "tenant-a" })));
                    all.push(...batch);
                    for (const outcome of outcomes) {
                        if (outcome.outcome !== "rejected") continue;
                        expect(EVENT_REJECTION_REASON_CODES).to.include(outcome.reason);
                        expect(outcome.detail).to.not.include(SENTINEL);
                    }
                    const newLetters = letters.slice(before);
                    expect(newLetters.length).to.equal(outcomes.filter((o) => o.outcome === "rejected").length);
                    for (const letter of newLetters) expect(letter.MessageAttributes!.rejectionDetail.StringValue).to.not.include(SENTINEL);
                }),
                { numRuns: 40, seed: 1206 },
            );
            return all;
        });
        expect(bodies.length).to.be.greaterThan(0);
        expect(lines.length).to.be.greaterThan(0);
        expect(lines.filter((line) => line.includes(SENTINEL))).to.deep.equal([]);
    });
});
