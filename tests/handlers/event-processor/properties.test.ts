/**
 * Property: for arbitrary sequences of batches mixing valid, invalid, duplicated
 * and conflicting events, after the handler has run against DynamoDB Local and
 * fauxqs, the table holds exactly the valid events once each (with their first
 * content), every invalid or conflicting message is in the DLQ once with its
 * reason, and nothing is in both. Runs are bounded (shared 2-core machine).
 */
import { expect } from "chai";
import fc from "fast-check";
import type { SQSRecord } from "aws-lambda";
import { createBatchProcessor, EVENT_TYPE_NAMES } from "../../../handlers/event-processor";
import { EVENT_REJECTION_REASON_CODES } from "../../../contracts/event-pipeline";
import { EventBody, FREEFORM_TYPE, rejectedBodies, sqsRecord, testEventTypes, validEvent } from "../../support/factories/events";
import { Harness, quietObservability, startHarness } from "./harness";

const DISABLED_TYPE = "payment.captured"; // rejectedBodies() builds type_disabled from it
const VALID_TYPES = EVENT_TYPE_NAMES.filter((t) => t !== DISABLED_TYPE);
const VALIDATION_REASONS = Object.keys(rejectedBodies()).filter((r) => r !== "item_too_large"); // 400 KB bodies would only slow runs; covered in handler tests

type Entry =
    | { kind: "valid"; type: string; clientId: string; second: number }
    | { kind: "invalid"; reason: string }
    | { kind: "garbage"; body: string }
    | { kind: "duplicate"; ref: number; shuffle: boolean }
    | { kind: "conflict"; ref: number; second: number };

const clientIdArb = fc.stringMatching(/^[A-Za-z0-9._:-]{1,16}$/);
// Text SQS can carry: no control characters besides tab/newline/CR. Astral characters are valid on AWS SQS but
// fauxqs 2.4 refuses them (its check stops at U+FFFD), so they are mapped too, or the DLQ send would fail here only.
const sqsUnsafe = (char: string) =>
    (char < " " && char !== "\t" && char !== "\n" && char !== "\r") || char === "\ufffe" || char === "\uffff" || char.length > 1;
const sqsSafe = (text: string) => [...text].map((char) => (sqsUnsafe(char) ? "?" : char)).join("");
const sqsTextArb = fc.string({ minLength: 1, maxLength: 200, unit: "grapheme" }).map(sqsSafe);
const entryArb: fc.Arbitrary<Entry> = fc.oneof(
    {
        weight: 4,
        arbitrary: fc.record({
            kind: fc.constant("valid" as const),
            type: fc.constantFrom(...VALID_TYPES),
            clientId: clientIdArb,
            second: fc.integer({ min: 0, max: 59 }),
        }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("invalid" as const), reason: fc.constantFrom(...VALIDATION_REASONS) }) },
    {
        weight: 1,
        arbitrary: fc.record({
            kind: fc.constant("garbage" as const),
            body: fc.oneof(
                sqsTextArb,
                fc.jsonValue({ maxDepth: 4 }).map((v) => sqsSafe(JSON.stringify(v) ?? "null")),
            ),
        }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("duplicate" as const), ref: fc.nat(), shuffle: fc.boolean() }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant("conflict" as const), ref: fc.nat(), second: fc.integer({ min: 0, max: 59 }) }) },
);
const planArb = fc.array(fc.array(entryArb, { minLength: 1, maxLength: 10 }), { minLength: 1, maxLength: 4 });

/** Reverses key order at every level: same content, different bytes. */
function shuffled(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(shuffled);
    if (typeof value === "object" && value !== null)
        return Object.fromEntries(
            Object.entries(value)
                .reverse()
                .map(([k, v]) => [k, shuffled(v)]),
        );
    return value;
}

interface Expected {
    record: SQSRecord;
    /** What must happen to this message. */
    expect: { stored: EventBody } | { duplicateOf: EventBody } | { dlq: string | "any" };
}

/** Turns a plan into SQS batches plus what each message must end as. */
function materialize(plan: Entry[][]): Expected[][] {
    const originals: { body: EventBody; batch: number }[] = [];
    const occurred = (second: number) => `2026-01-31T12:00:${String(second).padStart(2, "0")}Z`;
    return plan.map((batch, batchIndex) =>
        batch.map((entry): Expected => {
            switch (entry.kind) {
                case "valid": {
                    const body = validEvent({ type: entry.type, clientId: entry.clientId, occurredAt: occurred(entry.second) });
                    originals.push({ body, batch: batchIndex });
                    return { record: sqsRecord(body), expect: { stored: body } };
                }
                case "invalid":
                    return { record: sqsRecord(rejectedBodies()[entry.reason]), expect: { dlq: entry.reason } };
                case "garbage":
                    return { record: sqsRecord(entry.body), expect: { dlq: "any" } };
                case "duplicate": {
                    if (originals.length === 0) return { record: sqsRecord("{}"), expect: { dlq: "missing_field" } };
                    const original = originals[entry.ref % originals.length].body;
                    return { record: sqsRecord(entry.shuffle ? shuffled(original) : original), expect: { duplicateOf: original } };
                }
                case "conflict": {
                    // Only against events settled in an earlier batch: inside one batch the writes race and either may win.
                    const earlier = originals.filter((o) => o.batch < batchIndex);
                    if (earlier.length === 0) return { record: sqsRecord("[]"), expect: { dlq: "body_not_object" } };
                    const original = earlier[entry.ref % earlier.length].body;
                    const second = entry.second === Number(original.occurredAt.slice(17, 19)) ? (entry.second + 1) % 60 : entry.second;
                    return { record: sqsRecord({ ...original, occurredAt: occurred(second) }), expect: { dlq: "conflicting_duplicate" } };
                }
            }
        }),
    );
}

describe("event processor properties (fast-check, DynamoDB Local + fauxqs)", function () {
    this.timeout(180_000);
    let h: Harness;
    before(async () => {
        h = await startHarness();
    });
    after(async () => {
        await h?.stop();
    });

    it("stores exactly the valid events once each, dead-letters every invalid one with its reason, none in both", async () => {
        let runs = 0;
        await fc.assert(
            fc.asyncProperty(planArb, async (plan) => {
                runs += 1;
                const tableName = await h.createTable();
                const deadLetterQueueUrl = await h.createQueue();
                const processBatch = createBatchProcessor({
                    dynamodb: h.dynamodb,
                    sqs: h.sqs,
                    tableName,
                    deadLetterQueueUrl,
                    eventTypes: testEventTypes(),
                    enabledTypes: [...VALID_TYPES, FREEFORM_TYPE],
                    ...quietObservability(),
                });
                const batches = materialize(plan);
                for (const batch of batches) {
                    const { response, outcomes } = await processBatch(batch.map((e) => e.record));
                    expect(response.batchItemFailures, "nothing transient on healthy emulators").to.deep.equal([]);
                    expect(outcomes).to.have.length(batch.length);
                }
                const all = batches.flat();

                const items = await h.scan(tableName);
                const stored = all.flatMap((e) => ("stored" in e.expect ? [e.expect.stored] : []));
                expect(items.map((i) => `${i.clientId.S}/${i.eventId.S}`).sort()).to.deep.equal(
                    stored.map((b) => `${b.clientId}/${b.eventId}`).sort(),
                );
                for (const body of stored) {
                    const item = items.find((i) => i.clientId.S === body.clientId && i.eventId.S === body.eventId)!;
                    expect(item.occurredAt.S, "first content wins").to.equal(body.occurredAt);
                    expect(item.type.S).to.equal(body.type);
                }

                const letters = await h.drain(deadLetterQueueUrl);
                const dead = all.filter((e) => "dlq" in e.expect);
                expect(letters).to.have.length(dead.length);
                const bySource = new Map(letters.map((l) => [l.sourceMessageId, l]));
                expect(bySource.size, "each message dead-lettered at most once").to.equal(letters.length);
                for (const entry of all) {
                    const letter = bySource.get(entry.record.messageId);
                    if ("dlq" in entry.expect) {
                        expect(letter, `dead-lettered: ${entry.record.body.slice(0, 80)}`).to.not.equal(undefined);
                        expect(letter!.body).to.equal(entry.record.body);
                        if (entry.expect.dlq === "any") expect(EVENT_REJECTION_REASON_CODES).to.include(letter!.reason);
                        else expect(letter!.reason).to.equal(entry.expect.dlq);
                    } else {
                        expect(letter, "stored or duplicate messages never reach the DLQ").to.equal(undefined);
                    }
                }
            }),
            { numRuns: 40, endOnFailure: false, interruptAfterTimeLimit: 120_000 },
        );
        expect(runs).to.be.at.least(10);
    });
});
