/**
 * The status function on DynamoDB Local, fed the event documents SES publishes
 * ("Contents of event data that Amazon SES publishes to Amazon SNS"; the same record is
 * the `detail` of the EventBridge event, "Amazon Simple Email Service events"): each
 * event type records its status, out-of-order and repeated events never move an
 * email backwards, and the addresses the records carry never reach a log.
 */
import { expect } from "chai";
import * as crypto from "node:crypto";
import fc from "fast-check";
import * as ddb from "@aws-sdk/client-dynamodb";
import { EMAIL_SES_EVENTS, EMAIL_STATUSES, type EmailStatus } from "../../../contracts/email-service";
import { tenantScope } from "../../../handlers/email/message";
import { createEmailStatusEvents } from "../../../handlers/email/ses-events";
import { dynamoStatusStore, type EmailStatusStore } from "../../../handlers/email/status";
import {
    sesEventBridgeEvent,
    sesEventRecord,
    type SesEventKind,
    type SesMailFacts,
} from "../../../local/aws-stand-ins/email/ses-event-records";
import { createStatusTable } from "../../support/email/aws";
import { captureLogsInThisSuite, capturedLines, linesContaining } from "../../support/email/logs";
import { PII, PII_NEEDLES } from "../../support/email/pii";
import { Emulator, LOCAL_CREDENTIALS, startDynamoDbLocal } from "../../../local/offline/emulators";

const OWNER = tenantScope("arn:aws:iam::111111111111:role/shop");

describe("email status function: SES events → statuses (DynamoDB Local)", function () {
    this.timeout(120_000);
    captureLogsInThisSuite();
    let dynamo: Emulator;
    let client: ddb.DynamoDBClient;
    let statuses: EmailStatusStore;
    let handler: ReturnType<typeof createEmailStatusEvents>;
    const tableName = `email-status-${crypto.randomUUID().slice(0, 8)}`;

    before(async () => {
        dynamo = await startDynamoDbLocal();
        client = new ddb.DynamoDBClient({ region: "us-east-1", credentials: LOCAL_CREDENTIALS, endpoint: dynamo.endpoint });
        await createStatusTable(client, tableName);
        statuses = dynamoStatusStore(client, tableName);
        handler = createEmailStatusEvents({ statuses });
    });
    after(async () => {
        client?.destroy();
        await dynamo?.stop();
    });

    /** An email the API accepted and the worker sent through SES (what SES's events then refer to). */
    async function sentEmail(): Promise<{ id: string; mail: SesMailFacts }> {
        const id = crypto.randomUUID();
        await statuses.accept(id, OWNER, new Date(Date.now() + 86_400_000));
        await statuses.record(id, "queued");
        const mail: SesMailFacts = {
            messageId: `0100018-${crypto.randomUUID()}-000000`,
            source: PII.from,
            destination: [PII.to, PII.cc],
            configurationSetName: "event-ingestion-dev-email",
            tags: { emailId: id },
        };
        return { id, mail };
    }
    const deliver = (kind: SesEventKind, mail: SesMailFacts, options = {}) =>
        handler(sesEventBridgeEvent(kind, sesEventRecord(kind, mail, options)));
    const read = async (id: string) => (await statuses.read(id, OWNER))!;

    it("records the status each SES event type stands for, with SES's codes and message id", async () => {
        const expected: Record<SesEventKind, EmailStatus> = {
            SEND: "sent",
            DELIVERY: "delivered",
            BOUNCE: "bounced",
            COMPLAINT: "complained",
            REJECT: "rejected",
            DELIVERY_DELAY: "delayed",
            RENDERING_FAILURE: "failed",
        };
        expect(Object.keys(expected).sort()).to.deep.equal(Object.keys(EMAIL_SES_EVENTS).sort());
        for (const [kind, status] of Object.entries(expected) as [SesEventKind, EmailStatus][]) {
            const { id, mail } = await sentEmail();
            const result = await deliver(kind, mail);
            expect(result, kind).to.deep.equal({ outcome: "recorded", emailId: id, status });
            const entry = (await read(id)).history.at(-1)!;
            expect(entry).to.deep.include({ status, provider: "ses", providerMessageId: mail.messageId });
        }
        const { id, mail } = await sentEmail();
        await deliver("BOUNCE", mail, { bounceType: "Transient", bounceSubType: "MailboxFull" });
        expect((await read(id)).history.at(-1)).to.deep.include({ bounceType: "Transient", bounceSubType: "MailboxFull" });
        const delayed = await sentEmail();
        await deliver("DELIVERY_DELAY", delayed.mail, { delayType: "TransientCommunicationFailure" });
        expect((await read(delayed.id)).history.at(-1)).to.deep.include({ delayType: "TransientCommunicationFailure" });
        const failed = await sentEmail();
        await deliver("RENDERING_FAILURE", failed.mail);
        expect((await read(failed.id)).history.at(-1)).to.deep.include({ reason: "rendering-failure" });
    });

    it("a late DELIVERY after a BOUNCE stays bounced, and a repeated BOUNCE changes nothing", async () => {
        const { id, mail } = await sentEmail();
        await deliver("SEND", mail);
        const bounce = sesEventBridgeEvent("BOUNCE", sesEventRecord("BOUNCE", mail));
        expect((await handler(bounce)).outcome).to.equal("recorded");
        expect((await deliver("DELIVERY", mail)).outcome).to.equal("stale");
        expect((await handler(bounce)).outcome).to.equal("stale");
        const after = await read(id);
        expect(after.status).to.equal("bounced");
        expect(after.history.map((entry) => entry.status)).to.deep.equal(["accepted", "queued", "sent", "bounced"]);
    });

    it("a COMPLAINT after the DELIVERY is recorded; a DELIVERY_DELAY after the DELIVERY is not", async () => {
        const { id, mail } = await sentEmail();
        await deliver("DELIVERY", mail);
        expect((await deliver("DELIVERY_DELAY", mail)).outcome).to.equal("stale");
        expect((await deliver("COMPLAINT", mail)).outcome).to.equal("recorded");
        expect((await read(id)).status).to.equal("complained");
    });

    it("any order and repetition of events ends at the highest-ranked one, with a history that only climbs", async () => {
        const kinds = Object.keys(EMAIL_SES_EVENTS) as SesEventKind[];
        await fc.assert(
            fc.asyncProperty(fc.array(fc.constantFrom(...kinds), { minLength: 1, maxLength: 8 }), async (events) => {
                const { id, mail } = await sentEmail();
                for (const kind of events) await deliver(kind, mail);
                const status = (await read(id)).status;
                const highest = events
                    .map((kind) => EMAIL_SES_EVENTS[kind].status as EmailStatus)
                    .reduce((best, next) => (EMAIL_STATUSES[next].rank > EMAIL_STATUSES[best].rank ? next : best));
                expect(EMAIL_STATUSES[status].rank).to.equal(EMAIL_STATUSES[highest].rank);
                const ranks = (await read(id)).history.map((entry) => EMAIL_STATUSES[entry.status].rank);
                expect(ranks).to.deep.equal([...new Set(ranks)].sort((a, b) => a - b));
            }),
            { numRuns: 25, seed: 19 },
        );
    });

    it("ignores what is not its own: opens, untagged mail, unknown emails (no item is created)", async () => {
        const { mail } = await sentEmail();
        const open = { ...sesEventRecord("DELIVERY", mail), eventType: "Open" };
        expect(await handler(sesEventBridgeEvent("DELIVERY", open))).to.deep.equal({ outcome: "ignored" });
        expect(await handler(sesEventBridgeEvent("DELIVERY", sesEventRecord("DELIVERY", { ...mail, tags: {} })))).to.deep.equal({
            outcome: "ignored",
        });
        expect(await handler({ "detail-type": "Email Delivered", source: "aws.ses", detail: "not a record" })).to.deep.equal({
            outcome: "ignored",
        });
        const stranger = crypto.randomUUID();
        const result = await handler(sesEventBridgeEvent("DELIVERY", sesEventRecord("DELIVERY", { ...mail, tags: { emailId: stranger } })));
        expect(result.outcome).to.equal("stale");
        const { Item } = await client.send(new ddb.GetItemCommand({ TableName: tableName, Key: { emailId: { S: stranger } } }));
        expect(Item).to.equal(undefined);
    });

    it("throws when the status cannot be recorded (Lambda retries, then dead-letters), without the error's text", async () => {
        const broken = createEmailStatusEvents({ statuses: dynamoStatusStore(client, "no-such-table") });
        const { mail } = await sentEmail();
        const error = await broken(sesEventBridgeEvent("DELIVERY", sesEventRecord("DELIVERY", mail))).then(
            () => undefined,
            (thrown: Error) => thrown,
        );
        expect(error?.name).to.equal("StatusNotRecordedError");
        expect(error?.message).to.equal("status not recorded: ResourceNotFoundException");
    });

    describe("logs", () => {
        it("wrote log lines, and none holds an address from the SES records", () => {
            const lines = capturedLines();
            expect(lines.some((line) => line.includes('"email status from ses"'))).to.equal(true);
            expect(linesContaining(lines, PII_NEEDLES)).to.deep.equal([]);
        });
    });
});
