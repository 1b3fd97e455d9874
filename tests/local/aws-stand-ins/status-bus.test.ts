/**
 * The status bus path as deployed, reproduced locally: real status writes (the status store every
 * writer uses, the suppression list) on a DynamoDB Local table with the stream the component
 * enables (NEW_AND_OLD_IMAGES), the stream read as Lambda's mapping does (stream-reader.ts), the
 * notify handler, and the local bus with a consumer's rule. Also the consumer contract's pattern
 * from docs/email-service.md, matched against what arrives.
 */
import { expect } from "chai";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import { Emulator, LOCAL_CREDENTIALS, sharedEmulators } from "../../../local/offline/emulators";
import { DynamoDbStreamReader } from "../../../local/aws-stand-ins/stream-reader";
import { LocalStatusBus, matchesPattern, type BusEvent } from "../../../local/aws-stand-ins/email/status-bus";
import { dynamoStatusStore } from "../../../handlers/email/status";
import { dynamoSuppressionList } from "../../../handlers/email/suppression";
import { tenantScope } from "../../../handlers/email/message";
import { createEmailStatusNotifier } from "../../../handlers/email/status-notify";
import { EMAIL_STATUS_CHANGE_EVENT, EMAIL_STATUS_TABLE_KEYS } from "../../../contracts/email-service";
import { STATUS_STREAM_FILTER } from "../../../components/email-service/email-status-notifications";
import { PII, PII_NEEDLES } from "../../support/email/pii";
import { captureLogsInThisSuite } from "../../support/email/logs";

const REGION = "us-east-1";
const SENDER_A = "arn:aws:sts::111111111111:assumed-role/ShopA/session-1";
const SENDER_B = "arn:aws:sts::222222222222:assumed-role/ShopB/session-1";

/** The first ```json block after the consumer section's owner filter: the rule pattern consumers copy. */
function documentedPattern(): Record<string, unknown> {
    const doc = fs.readFileSync(path.resolve(__dirname, "../../../docs/email-service.md"), "utf8");
    const section = doc.slice(doc.indexOf("**Filtering by owner.**"));
    const block = /```json\n([\s\S]*?)\n```/.exec(section);
    expect(block, "docs/email-service.md has the consumer's rule pattern").to.not.equal(null);
    return JSON.parse(block![1]) as Record<string, unknown>;
}

describe("status bus stand-in: status table stream → notify handler → bus → a consumer's rule (DynamoDB Local)", function () {
    this.timeout(60_000);
    captureLogsInThisSuite();
    let dynamo: Emulator;
    let dynamodb: DynamoDBClient;
    let streams: DynamoDBStreamsClient;
    const run = crypto.randomUUID().slice(0, 8);

    before(async () => {
        dynamo = (await sharedEmulators()).dynamodb;
        dynamodb = new DynamoDBClient({ region: REGION, endpoint: dynamo.endpoint, credentials: LOCAL_CREDENTIALS });
        streams = new DynamoDBStreamsClient({ region: REGION, endpoint: dynamo.endpoint, credentials: LOCAL_CREDENTIALS });
    });
    after(() => {
        dynamodb?.destroy();
        streams?.destroy();
    });

    it("publishes each status change once, in order, owner-tagged and without PII; stale reports and suppressions publish nothing", async () => {
        const tableName = `email-status-notify-${run}`;
        const created = await dynamodb.send(
            new CreateTableCommand({
                TableName: tableName,
                BillingMode: "PAY_PER_REQUEST",
                AttributeDefinitions: [{ AttributeName: EMAIL_STATUS_TABLE_KEYS.partition, AttributeType: "S" }],
                KeySchema: [{ AttributeName: EMAIL_STATUS_TABLE_KEYS.partition, KeyType: "HASH" }],
                StreamSpecification: { StreamEnabled: true, StreamViewType: "NEW_AND_OLD_IMAGES" },
            }),
        );
        const statuses = dynamoStatusStore(dynamodb, tableName);
        const suppressions = dynamoSuppressionList(dynamodb, tableName);
        const expires = new Date(Date.now() + 86_400_000);
        const [first, second] = [`e-${run}-1`, `e-${run}-2`];

        await statuses.accept(first, tenantScope(SENDER_A), expires);
        await statuses.record(first, "queued");
        await statuses.record(first, "sent", { provider: "ses", providerMessageId: "0100-local-1" });
        expect(await statuses.record(first, "queued"), "a late report is stale").to.equal("stale");
        await statuses.record(first, "bounced", { provider: "ses", bounceType: "Permanent", bounceSubType: "General" });
        expect(await statuses.record(first, "delivered"), "a DELIVERY after the BOUNCE").to.equal("stale");
        await suppressions.suppress([PII.to], "bounce");
        await statuses.accept(second, tenantScope(SENDER_B), expires);
        await statuses.record(second, "suppressed", { suppressedRecipients: "1" });

        const bus = new LocalStatusBus("email-status");
        const ownerA = tenantScope(SENDER_A);
        const consumerA: BusEvent[] = [];
        bus.subscribe(documentedPattern(), (event) => consumerA.push(event));
        const pattern = documentedPattern();
        bus.subscribe({ ...pattern, detail: { ...(pattern.detail as object), owner: [ownerA] } }, (event) => consumerA.push(event));
        const notify = createEmailStatusNotifier({
            eventBusName: bus.name,
            publish: bus.publish,
            logger: new Logger({ logLevel: "SILENT" }),
            metrics: new Metrics({ namespace: "test", serviceName: "test" }),
        });
        const filtered: string[] = [];
        const reader = new DynamoDbStreamReader({
            streams,
            streamArn: created.TableDescription!.LatestStreamArn!,
            region: REGION,
            pollIntervalMs: 20,
            // The mapping's filter first, as Lambda applies it before invoking.
            handler: async (event) => {
                const kept = event.Records.filter((record) => matchesPattern(STATUS_STREAM_FILTER, record as never));
                filtered.push(...event.Records.filter((record) => !kept.includes(record)).map((r) => r.dynamodb!.Keys!.emailId.S!));
                return kept.length > 0 ? notify({ Records: kept }) : undefined;
            },
        });
        reader.start();
        const deadline = Date.now() + 20_000;
        try {
            while (bus.events.length < 6 || reader.recordsDelivered < 7) {
                if (Date.now() > deadline) throw new Error(`timed out with ${bus.events.length} events`);
                await new Promise((resolve) => setTimeout(resolve, 20));
            }
        } finally {
            await reader.stop();
        }

        const published = bus.events.map((event) => `${event.detail.emailId as string}:${event.detail.status as string}`);
        expect(published).to.deep.equal([
            `${first}:accepted`,
            `${first}:queued`,
            `${first}:sent`,
            `${first}:bounced`,
            `${second}:accepted`,
            `${second}:suppressed`,
        ]);
        expect(filtered, "the suppression-list item is dropped by the mapping's filter").to.have.length(1);
        expect(filtered[0]).to.match(/^suppressed#[0-9a-f]{64}$/);
        for (const event of bus.events) {
            expect(event.source).to.equal(EMAIL_STATUS_CHANGE_EVENT.source);
            expect(event["detail-type"]).to.equal(EMAIL_STATUS_CHANGE_EVENT.detailType);
            for (const needle of PII_NEEDLES) expect(JSON.stringify(event)).to.not.include(needle);
        }
        expect(bus.events[3].detail).to.deep.include({
            owner: ownerA,
            previousStatus: "sent",
            bounceType: "Permanent",
            bounceSubType: "General",
            provider: "ses",
        });
        // The documented pattern (its example owner) matches no one here; the same pattern with A's owner gets A's outcomes only.
        expect(consumerA.map((event) => event.detail.status)).to.deep.equal(["bounced"]);
        expect(consumerA.every((event) => event.detail.owner === ownerA)).to.equal(true);
    });

    it("the documented pattern matches that owner's outcome statuses and nothing else", () => {
        const pattern = documentedPattern();
        const owner = ((pattern.detail as Record<string, string[]>).owner ?? [])[0];
        const event = (detail: Record<string, unknown>) => ({
            source: EMAIL_STATUS_CHANGE_EVENT.source,
            "detail-type": EMAIL_STATUS_CHANGE_EVENT.detailType,
            detail: { version: "1", emailId: "e", rank: 60, at: "2026-01-01T00:00:00.000Z", ...detail },
        });
        expect(matchesPattern(pattern, event({ owner, status: "delivered" }))).to.equal(true);
        expect(matchesPattern(pattern, event({ owner, status: "sent" }))).to.equal(false);
        expect(matchesPattern(pattern, event({ owner: "f".repeat(32), status: "delivered" }))).to.equal(false);
        expect(matchesPattern(pattern, { ...event({ owner, status: "delivered" }), source: "aws.ses" })).to.equal(false);
    });

    it("the bus refuses entries EventBridge would (another bus, no detail object) and reports the first", async () => {
        const bus = new LocalStatusBus("email-status");
        const good = { EventBusName: "email-status", Source: "s", DetailType: "d", Detail: "{}" };
        expect(await bus.publish([good, { ...good, EventBusName: "other" }, good])).to.equal(1);
        expect(await bus.publish([{ ...good, Detail: "[1]" }])).to.equal(0);
        expect(await bus.publish([{ ...good, EventBusName: "arn:aws:events:us-east-1:000000000000:event-bus/email-status" }])).to.equal(-1);
        expect(bus.events).to.have.length(2);
        expect(() => matchesPattern({ detail: { status: [{ numeric: [">", 1] }] } }, { detail: { status: 2 } })).to.throw(/not supported/);
    });
});
