/**
 * The batch handler against real DynamoDB Local and fauxqs: every outcome and
 * every reason code, the stored item's shape, the DLQ message's shape, logs and
 * metrics, the transient paths, and malformed bodies.
 */
import { expect } from "chai";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { freePort, LOCAL_CREDENTIALS } from "../../../local/offline/emulators";
import {
    BATCH_SUMMARY_MESSAGE,
    createBatchProcessor,
    createEventProcessor,
    EVENT_TYPE_NAMES,
    EventProcessorConfigurationError,
    EventProcessorDeps,
    isEventProcessorConfigurationError,
} from "../../../handlers/event-processor";
import { EVENT_REJECTION_REASON_CODES } from "../../../contracts/event-pipeline";

import {
    exampleEvents,
    FREEFORM_TYPE,
    nested,
    rejectedBodies,
    sqsEvent,
    sqsRecord,
    testEventTypes,
    validEvent,
} from "../../support/factories/events";
import { captureOutput, Harness, quietObservability, recordingClients, REGION, startHarness } from "./harness";

describe("event processor handler (DynamoDB Local + fauxqs)", function () {
    this.timeout(120_000);
    let h: Harness;
    before(async () => {
        h = await startHarness();
    });
    after(async () => {
        await h?.stop();
    });

    async function scenario(overrides: Partial<EventProcessorDeps> = {}) {
        const tableName = await h.createTable();
        const deadLetterQueueUrl = await h.createQueue();
        const deps: EventProcessorDeps = {
            dynamodb: h.dynamodb,
            sqs: h.sqs,
            tableName,
            deadLetterQueueUrl,
            eventTypes: testEventTypes(),
            ...quietObservability(),
            ...overrides,
        };
        return { tableName, deadLetterQueueUrl, processBatch: createBatchProcessor(deps), handler: createEventProcessor(deps) };
    }

    it("persists every example event with data as a native map, keys, timestamps and hash", async () => {
        const s = await scenario({ now: () => new Date("2026-02-01T00:00:00.000Z") });
        const bodies = Object.values(exampleEvents());
        expect(Object.keys(exampleEvents()).sort()).to.deep.equal([...EVENT_TYPE_NAMES].sort());
        const { response, outcomes } = await s.processBatch(sqsEvent(bodies).Records);
        expect(response.batchItemFailures).to.deep.equal([]);
        expect(outcomes.map((o) => o.outcome)).to.deep.equal(bodies.map(() => "persisted"));
        const items = await h.scan(s.tableName);
        expect(items).to.have.length(bodies.length);
        const order = items.find((item) => item.type.S === "order.placed")!;
        expect(order.clientId).to.deep.equal({ S: "acme-retail" });
        expect(order.occurredAt).to.deep.equal({ S: "2026-01-31T12:00:00.000Z" });
        expect(order.receivedAt).to.deep.equal({ S: "2026-02-01T00:00:00.000Z" });
        expect(order.data.M.totalAmount).to.deep.equal({ N: "5997" });
        expect(order.data.M.lines.L[0].M.sku).to.deep.equal({ S: "SKU-TSHIRT-M" });
        expect(order.contentHash.S).to.match(/^[0-9a-f]{64}$/);
        expect(order).not.to.have.property("expiresAt");
        expect(Object.keys(order).sort()).to.deep.equal(["clientId", "contentHash", "data", "eventId", "occurredAt", "receivedAt", "type"]);
        expect(await h.drain(s.deadLetterQueueUrl)).to.deep.equal([]);
    });

    it("sets the TTL attribute expiresAt from receivedAt when retention is configured", async () => {
        const s = await scenario({ retentionDays: 30, now: () => new Date("2026-02-01T00:00:00.000Z") });
        await s.handler(sqsEvent([validEvent()]));
        const [item] = await h.scan(s.tableName);
        expect(item.expiresAt).to.deep.equal({ N: String(Date.parse("2026-02-01T00:00:00Z") / 1000 + 30 * 86_400) });
    });

    it("acknowledges a redelivery and a same-content resend as duplicates without rewriting", async () => {
        let clock = new Date("2026-02-01T00:00:00.000Z");
        const s = await scenario({ now: () => clock });
        const body = validEvent();
        await s.handler(sqsEvent([body]));
        clock = new Date("2026-02-02T00:00:00.000Z");
        // Same content with keys in another order is still the same event.
        const reordered = { data: body.data, occurredAt: body.occurredAt, type: body.type, eventId: body.eventId, clientId: body.clientId };
        const { response, outcomes } = await s.processBatch([sqsRecord(body), sqsRecord(reordered)]);
        expect(response.batchItemFailures).to.deep.equal([]);
        expect(outcomes.map((o) => o.outcome)).to.deep.equal(["duplicate", "duplicate"]);
        const items = await h.scan(s.tableName);
        expect(items).to.have.length(1);
        expect(items[0].receivedAt.S).to.equal("2026-02-01T00:00:00.000Z");
        expect(await h.drain(s.deadLetterQueueUrl)).to.deep.equal([]);
    });

    it("settles duplicates inside one batch: one persisted, the rest duplicates", async () => {
        const s = await scenario();
        const body = validEvent();
        const { outcomes } = await s.processBatch([sqsRecord(body), sqsRecord(body), sqsRecord(body)]);
        expect(outcomes.map((o) => o.outcome).sort()).to.deep.equal(["duplicate", "duplicate", "persisted"]);
        expect(await h.scan(s.tableName)).to.have.length(1);
    });

    it("rejects a conflicting duplicate to the DLQ and keeps the stored event", async () => {
        const s = await scenario();
        const original = validEvent();
        await s.handler(sqsEvent([original]));
        const conflicting = { ...original, data: { ...original.data, totalAmount: 1 } };
        const record = sqsRecord(conflicting);
        const { response, outcomes } = await s.processBatch([record]);
        expect(response.batchItemFailures).to.deep.equal([]);
        expect(outcomes[0]).to.include({ outcome: "rejected", reason: "conflicting_duplicate" });
        const [item] = await h.scan(s.tableName);
        expect(item.data.M.totalAmount).to.deep.equal({ N: "5997" });
        const [letter] = await h.drain(s.deadLetterQueueUrl);
        expect(letter).to.include({ body: record.body, reason: "conflicting_duplicate", sourceMessageId: record.messageId });
    });

    it("falls back to a consistent GetItem when DynamoDB does not return the old item with the condition failure", async () => {
        // Real DynamoDB Local; a middleware only removes `Item` from the error, as older DynamoDB versions would.
        const dynamodb = new DynamoDBClient({ endpoint: h.dynamo.endpoint, region: REGION, credentials: LOCAL_CREDENTIALS });
        const commands: string[] = [];
        dynamodb.middlewareStack.add(
            (next, context) => async (args) => {
                commands.push(String(context.commandName));
                try {
                    return await next(args);
                } catch (error) {
                    if ((error as Error).name === "ConditionalCheckFailedException") delete (error as { Item?: unknown }).Item;
                    throw error;
                }
            },
            { step: "initialize" },
        );
        const s = await scenario({ dynamodb });
        const original = validEvent();
        await s.handler(sqsEvent([original]));
        commands.length = 0;
        const { outcomes } = await s.processBatch([sqsRecord(original), sqsRecord({ ...original, occurredAt: "2026-01-01T00:00:00Z" })]);
        expect(outcomes.map((o) => o.outcome)).to.deep.equal(["duplicate", "rejected"]);
        expect(outcomes[1]).to.include({ reason: "conflicting_duplicate" });
        expect(commands.sort()).to.deep.equal(["GetItemCommand", "GetItemCommand", "PutItemCommand", "PutItemCommand"]);
        dynamodb.destroy();
    });

    it("needs no extra round trip on the happy path or for a duplicate (one PutItem per event)", async () => {
        const dynamodb = new DynamoDBClient({ endpoint: h.dynamo.endpoint, region: REGION, credentials: LOCAL_CREDENTIALS });
        const commands: string[] = [];
        dynamodb.middlewareStack.add((next, context) => async (args) => (commands.push(String(context.commandName)), next(args)), {
            step: "initialize",
        });
        const s = await scenario({ dynamodb });
        const body = validEvent();
        await s.processBatch([sqsRecord(body), sqsRecord(validEvent())]);
        await s.processBatch([sqsRecord(body)]);
        expect(commands).to.deep.equal(["PutItemCommand", "PutItemCommand", "PutItemCommand"]);
        dynamodb.destroy();
    });

    it("sends each validation rejection to the DLQ with its reason code and a payload-free detail, then acknowledges it", async () => {
        // Observe (not mock) what goes to SQS: fauxqs does not report MessageGroupId on standard queues.
        const sent: Record<string, unknown>[] = [];
        const sqs = new SQSClient({ endpoint: h.sqsEmulator.endpoint, region: REGION, credentials: LOCAL_CREDENTIALS });
        sqs.middlewareStack.add(
            (next) => async (args) => {
                sent.push(...((args.input as { Entries?: Record<string, unknown>[] }).Entries ?? []));
                return next(args);
            },
            { step: "initialize" },
        );
        const s = await scenario({ sqs, enabledTypes: [...EVENT_TYPE_NAMES.filter((t) => t !== "payment.captured"), FREEFORM_TYPE] });
        const bodies = rejectedBodies();
        const records = Object.entries(bodies).map(([reason, body]) =>
            sqsRecord(body, { messageId: `msg-${reason}`, messageGroupId: "acme-retail" }),
        );
        const { response, outcomes } = await s.processBatch(records);
        expect(response.batchItemFailures).to.deep.equal([]);
        for (const [index, reason] of Object.keys(bodies).entries()) {
            expect(outcomes[index], reason).to.include({ outcome: "rejected", reason });
        }
        const letters = await h.drain(s.deadLetterQueueUrl);
        expect(letters).to.have.length(records.length);
        for (const letter of letters) {
            const record = records.find((r) => r.messageId === letter.sourceMessageId)!;
            expect(letter.body, letter.reason).to.equal(record.body);
            expect(letter.reason).to.equal(record.messageId.slice("msg-".length));
            expect(letter.detail).to.be.a("string").and.not.equal("");
            expect(letter.detail!.length).to.be.at.most(256);
            expect(letter.detail).not.to.include("59.97"); // the invalid value itself is never echoed
        }
        expect(sent).to.have.length(records.length);
        expect(sent.every((entry) => entry.MessageGroupId === "acme-retail")).to.equal(true);
        expect(await h.scan(s.tableName)).to.deep.equal([]);
        sqs.destroy();
    });

    it("rejects with store_rejected_item when DynamoDB refuses the item (table keys differ)", async () => {
        const tableName = await h.createTable({ partition: "tenant" });
        const s = await scenario({ tableName });
        const { response, outcomes } = await s.processBatch([sqsRecord(validEvent())]);
        expect(response.batchItemFailures).to.deep.equal([]);
        expect(outcomes[0]).to.include({ outcome: "rejected", reason: "store_rejected_item" });
        const [letter] = await h.drain(s.deadLetterQueueUrl);
        expect(letter.reason).to.equal("store_rejected_item");
    });

    it("rejects a foreign tenant's events (sender_not_allowed) and a borrowed group (message_group_mismatch) into the DLQ, storing neither", async () => {
        const s = await scenario({ producerTenants: { AROAPRODUCERA000000001: ["tenant-a"] } });
        const asSender = (body: ReturnType<typeof validEvent>, groupId: string) => {
            const record = sqsRecord(body, { messageGroupId: groupId, messageId: `msg-${groupId}-${body.clientId}` });
            return { ...record, attributes: { ...record.attributes, SenderId: "AROAPRODUCERA000000001:session" } };
        };
        const { outcomes } = await s.processBatch([
            asSender(validEvent({ clientId: "tenant-b" }), "tenant-b"),
            asSender(validEvent({ clientId: "tenant-b" }), "tenant-a"),
        ]);
        expect(outcomes.map((o) => (o.outcome === "rejected" ? o.reason : o.outcome))).to.deep.equal([
            "sender_not_allowed",
            "message_group_mismatch",
        ]);
        const letters = await h.drain(s.deadLetterQueueUrl);
        expect(letters.map((l) => l.reason).sort()).to.deep.equal(["message_group_mismatch", "sender_not_allowed"]);
        expect(await h.scan(s.tableName)).to.deep.equal([]);
    });

    it("covers every rejection reason code in the tests above", () => {
        const covered = new Set([
            ...Object.keys(rejectedBodies()),
            "conflicting_duplicate",
            "store_rejected_item",
            "sender_not_allowed",
            "message_group_mismatch",
        ]);
        expect(EVENT_REJECTION_REASON_CODES.filter((code) => !covered.has(code))).to.deep.equal([]);
    });

    it("stores data exactly at DynamoDB's nesting, size and number limits", async () => {
        const s = await scenario();
        const deepest = validEvent({ type: FREEFORM_TYPE, data: nested(31) }); // data + 30 maps + leaf = 32 levels
        const big = validEvent({ type: FREEFORM_TYPE, data: { blob: "x".repeat(399 * 1024) } });
        const extremes = validEvent({
            type: FREEFORM_TYPE,
            data: { largest: 9.99999999999999e125, smallest: 1e-130, negative: -9.99999999999999e125 },
        });
        const { outcomes } = await s.processBatch([sqsRecord(deepest), sqsRecord(big), sqsRecord(extremes)]);
        expect(outcomes.map((o) => o.outcome)).to.deep.equal(["persisted", "persisted", "persisted"]);
        const { outcomes: over } = await s.processBatch([sqsRecord(validEvent({ type: FREEFORM_TYPE, data: nested(32) }))]);
        expect(over[0]).to.include({ outcome: "rejected", reason: "nesting_too_deep" });
    });

    it("returns every message in batchItemFailures and sends none to the DLQ when DynamoDB is unreachable", async () => {
        const port = await freePort(); // nothing listens here
        const unreachable = new DynamoDBClient({
            endpoint: `http://127.0.0.1:${port}`,
            region: REGION,
            credentials: LOCAL_CREDENTIALS,
            maxAttempts: 2,
        });
        const s = await scenario({ dynamodb: unreachable });
        const records = [validEvent(), validEvent({ type: "user.signed_up" }), validEvent()].map((b) => sqsRecord(b));
        const { response, outcomes } = await s.processBatch(records);
        expect(response.batchItemFailures.map((f) => f.itemIdentifier)).to.deep.equal(records.map((r) => r.messageId));
        expect(outcomes.every((o) => o.outcome === "transient" && o.reason === "store_unavailable")).to.equal(true);
        expect(await h.drain(s.deadLetterQueueUrl)).to.deep.equal([]);
        unreachable.destroy();
    });

    it("keeps valid messages settled and retries only the affected ones in a mixed batch with DynamoDB down", async () => {
        const port = await freePort();
        const unreachable = new DynamoDBClient({
            endpoint: `http://127.0.0.1:${port}`,
            region: REGION,
            credentials: LOCAL_CREDENTIALS,
            maxAttempts: 1,
        });
        const s = await scenario({ dynamodb: unreachable });
        const valid = sqsRecord(validEvent());
        const invalid = sqsRecord("not json");
        const { response } = await s.processBatch([valid, invalid]);
        expect(response.batchItemFailures).to.deep.equal([{ itemIdentifier: valid.messageId }]);
        expect((await h.drain(s.deadLetterQueueUrl)).map((l) => l.reason)).to.deep.equal(["body_not_json"]);
        unreachable.destroy();
    });

    it("does not acknowledge a rejected message when the DLQ send fails", async () => {
        const s = await scenario({ deadLetterQueueUrl: `${h.sqsEmulator.endpoint}/000000000000/no-such-queue` });
        const rejected = sqsRecord("{oops");
        const valid = sqsRecord(validEvent());
        const { response, outcomes } = await s.processBatch([rejected, valid]);
        expect(response.batchItemFailures).to.deep.equal([{ itemIdentifier: rejected.messageId }]);
        expect(outcomes[0]).to.include({ outcome: "transient", reason: "dead_letter_unavailable", rejectionReason: "body_not_json" });
        expect(outcomes[1]).to.include({ outcome: "persisted" });
    });

    it("survives malformed bodies without throwing or losing the rest of the batch", async () => {
        const s = await scenario();
        // Just under 1 MiB (SQS's maximum), leaving room for the DLQ's reason attributes.
        const garbage = Array.from({ length: 1024 * 1024 - 1024 }, (_, i) => String.fromCharCode(0x21 + ((i * 7919) % 90))).join("");
        // Random bytes as SQS would deliver them: every character SQS allows, including U+FFFD from invalid UTF-8.
        // SQS refuses control characters other than tab, newline and carriage return.
        const binary = [...Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131 + 7) % 256)).toString("utf8")]
            .map((char) => (char < " " && char !== "\t" && char !== "\n" && char !== "\r" ? "\ufffd" : char))
            .join("");
        const bodies: Record<string, string> = {
            binary,
            garbage1MiB: garbage,
            deepArray: `{"clientId":"a","eventId":"b","type":"test.freeform","occurredAt":"2026-01-01T00:00:00Z","data":{"x":${"[".repeat(200_000)}${"]".repeat(200_000)}}}`,
            deepUnclosed: "{".repeat(500_000),
            protoTop: `{"__proto__":{"polluted":true},"clientId":"a","eventId":"b","type":"order.placed","occurredAt":"2026-01-01T00:00:00Z","data":{}}`,
            protoData: JSON.stringify(validEvent({ type: FREEFORM_TYPE, data: {} })).replace(
                '"data":{}',
                '"data":{"__proto__":{"polluted":true}}',
            ),
            constructorKey: JSON.stringify(validEvent({ type: FREEFORM_TYPE, data: { constructor: { prototype: { polluted: true } } } })),
            loneSurrogate: JSON.stringify(validEvent({ type: FREEFORM_TYPE, data: {} })).replace('"data":{}', '"data":{"s":"\\ud800"}'),
            emptyObject: "{}",
            nullBody: "null",
            hugeNumber: JSON.stringify(validEvent({ type: FREEFORM_TYPE, data: {} })).replace('"data":{}', '"data":{"n":1e999}'),
        };
        const records = Object.values(bodies).map((body) => sqsRecord(body));
        const valid = sqsRecord(validEvent());
        const { response, outcomes } = await s.processBatch([...records, valid]);
        expect(response.batchItemFailures).to.deep.equal([]);
        const byName = Object.fromEntries(Object.keys(bodies).map((name, i) => [name, outcomes[i]]));
        expect(byName.binary).to.include({ outcome: "rejected", reason: "body_not_json" });
        expect(byName.garbage1MiB).to.include({ outcome: "rejected", reason: "body_not_json" });
        expect(byName.deepArray).to.include({ outcome: "rejected", reason: "nesting_too_deep" });
        expect(byName.deepUnclosed).to.include({ outcome: "rejected", reason: "body_not_json" });
        expect(byName.protoTop).to.include({ outcome: "rejected", reason: "unknown_field" });
        expect(byName.protoData).to.include({ outcome: "rejected", reason: "unstorable_value" });
        expect(byName.loneSurrogate).to.include({ outcome: "rejected", reason: "unstorable_value" });
        expect(byName.emptyObject).to.include({ outcome: "rejected", reason: "missing_field" });
        expect(byName.nullBody).to.include({ outcome: "rejected", reason: "body_not_object" });
        expect(byName.hugeNumber).to.include({ outcome: "rejected", reason: "unstorable_value" });
        expect(byName.constructorKey.outcome).to.equal("persisted"); // an ordinary key for DynamoDB, stored as data
        expect(outcomes.at(-1)).to.include({ outcome: "persisted" });
        expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
        const letters = await h.drain(s.deadLetterQueueUrl);
        expect(letters).to.have.length(Object.keys(bodies).length - 1);
    });

    it("never throws, even for an event without Records", async () => {
        const s = await scenario();
        expect(await s.handler({} as never)).to.deep.equal({ batchItemFailures: [] });
        // A record without a body cannot be dead-lettered as it came, so it is retried (SQS redrives it after maxReceiveCount).
        expect(await s.handler({ Records: [{ messageId: "m1", body: undefined } as never] })).to.deep.equal({
            batchItemFailures: [{ itemIdentifier: "m1" }],
        });
    });

    it("retries (never drops) a body SQS itself would refuse to carry to the DLQ", async () => {
        const s = await scenario();
        const record = sqsRecord("\u0000 not json");
        const { response, outcomes } = await s.processBatch([record]);
        expect(response.batchItemFailures).to.deep.equal([{ itemIdentifier: record.messageId }]);
        expect(outcomes[0]).to.include({ outcome: "transient", reason: "dead_letter_unavailable", rejectionReason: "body_not_json" });
    });

    async function loggedRun(logLevel: "INFO" | "DEBUG") {
        const tableName = await h.createTable();
        const deadLetterQueueUrl = await h.createQueue();
        const secret = "SENTINEL-do-not-log-4711";
        const handler = createEventProcessor({
            dynamodb: h.dynamodb,
            sqs: h.sqs,
            tableName,
            deadLetterQueueUrl,
            logger: new Logger({ serviceName: "event-processor", logLevel }),
            metrics: new Metrics({ namespace: "EventIngestionTest", serviceName: "event-processor" }),
        });
        const good = validEvent({ data: { ...validEvent().data, customerId: secret } });
        const other = validEvent({ data: { ...validEvent().data, customerId: secret } });
        const bad = validEvent({ data: { ...validEvent().data, totalAmount: secret } });
        const records = [sqsRecord(good), sqsRecord(good), sqsRecord(other), sqsRecord(bad)];
        const { lines } = await captureOutput(() => handler(sqsEvent(records)));
        const json = lines.map((line) => JSON.parse(line));
        return { secret, bad, records, lines, json, outcomeLines: json.filter((entry) => entry.outcome && !entry._aws) };
    }

    it("at INFO: one line per rejected event with its reason, one summary line per batch for stored events, never the data", async () => {
        const { secret, bad, records, lines, json, outcomeLines } = await loggedRun("INFO");
        expect(outcomeLines.map((l) => l.outcome)).to.deep.equal(["rejected"]);
        expect(outcomeLines[0]).to.include({
            level: "WARN",
            reason: "invalid_data",
            clientId: bad.clientId,
            eventId: bad.eventId,
            type: "order.placed",
            messageId: records[3].messageId,
        });
        const summaries = json.filter((entry) => entry.message === BATCH_SUMMARY_MESSAGE);
        expect(summaries).to.have.length(1);
        expect(summaries[0]).to.include({ level: "INFO", records: 4, persisted: 2, duplicate: 1, rejected: 1, transient: 0 });
        // Per tenant, one list entry (what the saved Logs Insights queries unnest); every record here is the same tenant.
        expect(summaries[0].tenants).to.have.length(1);
        expect(summaries[0].tenants[0]).to.include({ clientId: bad.clientId, events: 4, rejected: 1 });
        expect(summaries[0].tenants[0].maxDwellMs).to.be.a("number").and.at.least(0);
        expect(summaries[0].maxDwellMs).to.equal(summaries[0].tenants[0].maxDwellMs);
        expect(lines.join("\n")).not.to.include(secret);
        const emf = json.filter((entry) => entry._aws);
        const totals = emf.find((entry) => "EventsPersisted" in entry);
        expect(totals).to.include({ EventsPersisted: 2, EventsDuplicate: 1, EventsRejected: 1, EventsTransient: 0 });
        // Dwell time of each stored event: one values array in the same document ("Specification: Embedded metric format":
        // a metric's value may be an array of numbers, so CloudWatch keeps every value and computes percentiles), no tenant
        // dimension. Powertools starts a new document past 100 values per metric, so a batch of 100 is one line.
        expect(totals.EventDwellTime).to.be.an("array").with.length(2);
        expect(totals._aws.CloudWatchMetrics[0].Metrics).to.deep.include({ Name: "EventDwellTime", Unit: "Milliseconds" });
        expect(totals._aws.CloudWatchMetrics[0].Dimensions).to.deep.equal([["service"]]);
        const byReason = emf.find((entry) => entry.EventsByReason !== undefined);
        expect(byReason).to.include({ outcome: "rejected", reason: "invalid_data", EventsByReason: 1 });
        expect(byReason._aws.CloudWatchMetrics[0].Dimensions[0]).to.include.members(["outcome", "reason"]);
        // Nothing else: the summary, the rejection, two EMF documents (totals and by reason).
        expect(lines).to.have.length(4);
    });

    it("a batch of 100 stored events writes one summary line and one EMF document with 100 dwell values, nothing else", async () => {
        const clients = recordingClients();
        const processBatch = createBatchProcessor({
            dynamodb: clients.dynamodb,
            sqs: clients.sqs,
            tableName: "events",
            deadLetterQueueUrl: "https://sqs.eu-west-1.amazonaws.com/1/dlq",
            logger: new Logger({ serviceName: "event-processor", logLevel: "INFO" }),
            metrics: new Metrics({ namespace: "EventIngestionTest", serviceName: "event-processor" }),
        });
        const records = Array.from({ length: 100 }, (_, i) => sqsRecord(validEvent({ clientId: `tenant-${i % 50}` })));
        const { lines } = await captureOutput(() => processBatch(records));
        const json = lines.map((line) => JSON.parse(line));
        expect(json.map((entry) => (entry._aws ? "emf" : entry.message))).to.deep.equal([BATCH_SUMMARY_MESSAGE, "emf"]);
        expect(json[1].EventDwellTime).to.have.length(100);
        expect(json[1]).to.include({ EventsPersisted: 100 });
        expect(json[0].tenants).to.have.length(50);
    });

    it("at DEBUG: a line per stored event too (ids, type, outcome), besides the summary", async () => {
        const { secret, records, lines, json, outcomeLines } = await loggedRun("DEBUG");
        expect(outcomeLines.map((l) => l.outcome).sort()).to.deep.equal(["duplicate", "persisted", "persisted", "rejected"]);
        // Events of a batch are written concurrently, so either copy of `good` may be the one stored: check the line
        // of `other` (records[2]), which is stored whatever the order, found by its id rather than its position.
        const persisted = outcomeLines.find((l) => l.messageId === records[2].messageId);
        expect(persisted).to.include({ level: "DEBUG", outcome: "persisted", messageId: records[2].messageId, type: "order.placed" });
        expect(persisted).to.include.keys(["messageId", "clientId", "eventId", "type", "outcome"]);
        expect(persisted).not.to.have.any.keys("data", "body", "reason");
        expect(json.filter((entry) => entry.message === BATCH_SUMMARY_MESSAGE)).to.have.length(1);
        expect(lines.join("\n")).not.to.include(secret);
    });

    it("logs every retried event on its own ERROR line with its reason", async () => {
        const s = await scenario({
            dynamodb: new DynamoDBClient({
                endpoint: "http://127.0.0.1:9",
                region: REGION,
                credentials: LOCAL_CREDENTIALS,
                maxAttempts: 1,
            }),
            logger: new Logger({ serviceName: "event-processor", logLevel: "INFO" }),
        });
        const records = [sqsRecord(validEvent()), sqsRecord(validEvent())];
        const { lines } = await captureOutput(() => s.processBatch(records));
        const retried = lines.map((line) => JSON.parse(line)).filter((entry) => entry.outcome === "transient");
        expect(retried.map((l) => l.messageId).sort()).to.deep.equal(records.map((r) => r.messageId).sort());
        for (const line of retried) expect(line).to.include({ level: "ERROR", reason: "store_unavailable" });
    });

    it("refuses bad deps with one error naming every problem", () => {
        const error = (() => {
            try {
                createEventProcessor({ dynamodb: h.dynamodb, sqs: h.sqs, tableName: "", deadLetterQueueUrl: "", retentionDays: -1 });
            } catch (e) {
                return e as EventProcessorConfigurationError;
            }
            return undefined;
        })();
        expect(isEventProcessorConfigurationError(error)).to.equal(true);
        expect(error!.problems).to.have.length(3);
        expect(() =>
            createEventProcessor({
                dynamodb: h.dynamodb,
                sqs: h.sqs,
                tableName: "t",
                deadLetterQueueUrl: "u",
                enabledTypes: ["order.placd"],
            }),
        ).to.throw(/order\.placd/);
    });

    it("keeps an SQSClient-less path unreachable: the handler does not touch SQS on the happy path", async () => {
        const s = await scenario({
            sqs: new SQSClient({ endpoint: "http://127.0.0.1:9", region: REGION, credentials: LOCAL_CREDENTIALS }),
        });
        const { response } = await s.processBatch([sqsRecord(validEvent())]);
        expect(response.batchItemFailures).to.deep.equal([]);
    });
});
