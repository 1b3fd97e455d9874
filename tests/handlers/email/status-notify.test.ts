/**
 * The notify function on stream records as DynamoDB Streams delivers them to Lambda: which records
 * become `Email Status Changed` events, what an event carries (an allow-list: no address, subject
 * or body ever), and how a batch that EventBridge partly refuses is retried (in order, from the
 * first unpublished record).
 */
import { expect } from "chai";
import type { DynamoDBRecord } from "aws-lambda";
import type { PutEventsRequestEntry } from "@aws-sdk/client-eventbridge";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { Logger } from "@aws-lambda-powertools/logger";
import {
    createEmailStatusNotifier,
    eventBridgePublisher,
    PUT_EVENTS_MAX_ENTRIES,
    statusChangeOf,
    type StatusEventPublisher,
} from "../../../handlers/email/status-notify";
import { EMAIL_STATUS_CHANGE_EVENT, EMAIL_STATUSES, type EmailStatus } from "../../../contracts/email-service";
import { PII, PII_NEEDLES } from "../../support/email/pii";
import { captureLogsInThisSuite, capturedLines } from "../../support/email/logs";

const OWNER = "0123456789abcdef0123456789abcdef";
let sequence = 100;

type Entry = { status: EmailStatus; at: string } & Record<string, string>;

function image(emailId: string, status: EmailStatus, history: Entry[], extra: Record<string, unknown> = {}) {
    return {
        emailId: { S: emailId },
        owner: { S: OWNER },
        status: { S: status },
        rank: { N: String(EMAIL_STATUSES[status].rank) },
        updatedAt: { S: history.at(-1)?.at ?? "2026-01-01T00:00:00.000Z" },
        expiresAt: { N: "1900000000" },
        history: { L: history.map((entry) => ({ M: Object.fromEntries(Object.entries(entry).map(([k, v]) => [k, { S: v }])) })) },
        ...extra,
    };
}

function record(
    eventName: "INSERT" | "MODIFY" | "REMOVE",
    newImage: Record<string, unknown> | undefined,
    oldImage?: Record<string, unknown>,
): DynamoDBRecord {
    sequence += 1;
    return {
        eventName,
        eventSource: "aws:dynamodb",
        dynamodb: {
            SequenceNumber: String(sequence),
            Keys: { emailId: (newImage ?? oldImage)!.emailId as { S: string } },
            ...(newImage ? { NewImage: newImage as never } : {}),
            ...(oldImage ? { OldImage: oldImage as never } : {}),
        },
    };
}

const accepted: Entry = { status: "accepted", at: "2026-01-01T00:00:00.000Z" };
const sent: Entry = { status: "sent", at: "2026-01-01T00:00:01.000Z", provider: "ses", providerMessageId: "0100-ses-id" };
const bounced: Entry = {
    status: "bounced",
    at: "2026-01-01T00:00:05.000Z",
    provider: "ses",
    providerMessageId: "0100-ses-id",
    bounceType: "Permanent",
    bounceSubType: "General",
};

function quietDeps() {
    return { logger: new Logger({ serviceName: "email-status-notify" }), metrics: new Metrics({ namespace: "test", serviceName: "test" }) };
}

function recordingBus(failAt: (call: number) => number = () => -1) {
    const calls: PutEventsRequestEntry[][] = [];
    const publish: StatusEventPublisher = async (entries) => {
        calls.push(entries);
        return failAt(calls.length);
    };
    return { calls, publish, published: () => calls.flat() };
}

describe("email status notifications: stream records → Email Status Changed", () => {
    captureLogsInThisSuite();
    after(() => {
        const lines = capturedLines().join("\n");
        expect(lines, "the handler logged").to.include("status changes");
        for (const needle of PII_NEEDLES) expect(lines, "no PII in any log line or metric").to.not.include(needle);
    });
    it("an INSERT (accepted) and each MODIFY that changed the status become one event each, with the new entry's details", () => {
        const first = statusChangeOf(record("INSERT", image("e-1", "accepted", [accepted])));
        expect(first?.detail).to.deep.equal({
            version: EMAIL_STATUS_CHANGE_EVENT.version,
            emailId: "e-1",
            owner: OWNER,
            status: "accepted",
            rank: EMAIL_STATUSES.accepted.rank,
            at: accepted.at,
        });
        const change = statusChangeOf(
            record("MODIFY", image("e-1", "bounced", [accepted, sent, bounced]), image("e-1", "sent", [accepted, sent])),
        );
        expect(change?.detail).to.deep.equal({
            version: "1",
            emailId: "e-1",
            owner: OWNER,
            status: "bounced",
            rank: EMAIL_STATUSES.bounced.rank,
            previousStatus: "sent",
            at: bounced.at,
            provider: "ses",
            providerMessageId: "0100-ses-id",
            bounceType: "Permanent",
            bounceSubType: "General",
        });
    });

    it("ignores removals (TTL), rewrites that left the status as it was, suppression-list items and items without an owner", () => {
        const item = image("e-2", "sent", [accepted, sent]);
        expect(statusChangeOf(record("REMOVE", undefined, item))).to.equal(undefined);
        expect(statusChangeOf(record("MODIFY", item, item))).to.equal(undefined);
        const suppression = { emailId: { S: "suppressed#" + "a".repeat(64) }, reason: { S: "bounce" }, expiresAt: { N: "1900000000" } };
        expect(statusChangeOf(record("INSERT", suppression))).to.equal(undefined);
        expect(statusChangeOf(record("INSERT", { ...suppression, owner: { S: OWNER }, status: { S: "suppressed" } }))).to.equal(undefined);
        const { owner: _owner, ...ownerless } = item;
        expect(statusChangeOf(record("INSERT", ownerless))).to.equal(undefined);
        expect(statusChangeOf(record("INSERT", { ...item, status: { S: "no-such-status" } }))).to.equal(undefined);
    });

    it("publishes only allow-listed fields: attributes a writer adds to the item (an address, a subject) never reach the bus", async () => {
        const bus = recordingBus();
        const handler = createEmailStatusNotifier({ eventBusName: "status-bus", publish: bus.publish, ...quietDeps() });
        const leaky = image("e-3", "sent", [{ ...sent, to: PII.to, subject: PII.subject } as Entry], {
            to: { S: PII.to },
            subject: { S: PII.subject },
            text: { S: PII.text },
        });
        const result = await handler({ Records: [record("MODIFY", leaky, image("e-3", "queued", [accepted]))] });
        expect(result).to.deep.equal({ batchItemFailures: [] });
        const [entry] = bus.published();
        expect(entry.Source).to.equal(EMAIL_STATUS_CHANGE_EVENT.source);
        expect(entry.DetailType).to.equal(EMAIL_STATUS_CHANGE_EVENT.detailType);
        expect(entry.EventBusName).to.equal("status-bus");
        expect(entry.Time?.toISOString()).to.equal(sent.at);
        for (const needle of PII_NEEDLES) expect(JSON.stringify(entry)).to.not.include(needle);
        expect(Object.keys(JSON.parse(entry.Detail!)).sort()).to.deep.equal(
            ["at", "emailId", "owner", "previousStatus", "provider", "providerMessageId", "rank", "status", "version"].sort(),
        );
    });

    it("puts at most ten entries a request, in stream order", async () => {
        const bus = recordingBus();
        const handler = createEmailStatusNotifier({ eventBusName: "status-bus", publish: bus.publish, ...quietDeps() });
        const records = Array.from({ length: 23 }, (_, i) => record("INSERT", image(`e-order-${i}`, "accepted", [accepted])));
        await handler({ Records: records });
        expect(bus.calls.map((call) => call.length)).to.deep.equal([PUT_EVENTS_MAX_ENTRIES, PUT_EVENTS_MAX_ENTRIES, 3]);
        expect(bus.published().map((entry) => JSON.parse(entry.Detail!).emailId)).to.deep.equal(records.map((_, i) => `e-order-${i}`));
    });

    it("stops at the first entry EventBridge did not take and reports its record, so Lambda retries from it", async () => {
        // Second request: its third entry (the 13th change) is refused.
        const bus = recordingBus((call) => (call === 2 ? 2 : -1));
        const handler = createEmailStatusNotifier({ eventBusName: "status-bus", publish: bus.publish, ...quietDeps() });
        const records = Array.from({ length: 25 }, (_, i) => record("INSERT", image(`e-retry-${i}`, "accepted", [accepted])));
        const result = await handler({ Records: records });
        expect(result.batchItemFailures).to.deep.equal([{ itemIdentifier: records[12].dynamodb!.SequenceNumber }]);
        expect(bus.calls).to.have.length(2, "nothing after the refused entry is published out of order");
    });

    it("a publisher that throws fails the first change of its chunk; skipped records before it do not hold it back", async () => {
        const handler = createEmailStatusNotifier({
            eventBusName: "status-bus",
            publish: async () => {
                throw Object.assign(new Error(`boom ${PII.to}`), { name: "ThrottlingException" });
            },
            ...quietDeps(),
        });
        const removal = record("REMOVE", undefined, image("e-gone", "sent", [accepted, sent]));
        const change = record("INSERT", image("e-4", "accepted", [accepted]));
        const result = await handler({ Records: [removal, change] });
        expect(result.batchItemFailures).to.deep.equal([{ itemIdentifier: change.dynamodb!.SequenceNumber }]);
    });

    it("eventBridgePublisher reads EventBridge's per-entry answer: a request can succeed with entries refused", async () => {
        const answers = [
            { FailedEntryCount: 0, Entries: [{ EventId: "a" }, { EventId: "b" }] },
            { FailedEntryCount: 1, Entries: [{ EventId: "a" }, { ErrorCode: "ThrottlingException", ErrorMessage: "slow down" }] },
        ];
        const sent: unknown[] = [];
        const publish = eventBridgePublisher({
            send: (async (command: { input: unknown }) => {
                sent.push(command.input);
                return answers[sent.length - 1];
            }) as never,
        });
        const entries = [{ Detail: "{}" }, { Detail: "{}" }];
        expect(await publish(entries)).to.equal(-1);
        expect(await publish(entries)).to.equal(1);
        expect(sent[0]).to.deep.equal({ Entries: entries });
    });
});
