/**
 * Suppression on the emulators: a permanent bounce or a complaint (the SES event records
 * the status function receives) puts the address on the suppression list as a hash only;
 * the worker checks every recipient before it sends, and an email to a suppressed address
 * ends as `suppressed` (status and the EmailsSuppressed metric), never sent, never silent.
 */
import { expect } from "chai";
import * as crypto from "node:crypto";
import * as ddb from "@aws-sdk/client-dynamodb";
import { createEmailApi } from "../../../handlers/email/api";
import { createEmailStatusEvents } from "../../../handlers/email/ses-events";
import { dynamoStatusStore, type EmailStatusRecord } from "../../../handlers/email/status";
import { dynamoSuppressionList, suppressionKey } from "../../../handlers/email/suppression";
import type { EmailWorkerHandler } from "../../../handlers/email/worker";
import { FakeSes, startFakeSes } from "../../../local/aws-stand-ins/email/fake-ses";
import { sesEventBridgeEvent, sesEventRecord, type SesMailFacts } from "../../../local/aws-stand-ins/email/ses-event-records";
import {
    DAY_SECONDS,
    drain,
    emailApiDeps,
    emailApiEvent,
    EmailStack,
    emailWorkerOnStack,
    runWorkerOnce,
    startEmailStack,
} from "../../support/email/aws";
import { captureLogsInThisSuite, capturedLines, linesContaining } from "../../support/email/logs";
import { emailBody, PII, PII_NEEDLES } from "../../support/email/pii";

const TENANT = "arn:aws:sts::111111111111:assumed-role/Shop/session";

describe("email suppression: bounces and complaints stop the next email (emulators)", function () {
    this.timeout(120_000);
    captureLogsInThisSuite();
    let stack: EmailStack;
    let ses: FakeSes;
    let worker: EmailWorkerHandler;
    let api: ReturnType<typeof createEmailApi>;
    let statusEvents: ReturnType<typeof createEmailStatusEvents>;

    async function send(body: Record<string, unknown>): Promise<string> {
        const answer = await api(emailApiEvent("POST", TENANT, { body }));
        expect(answer.statusCode, answer.body).to.equal(202);
        const { id } = JSON.parse(answer.body!) as { id: string };
        await runWorkerOnce(stack, worker);
        return id;
    }
    async function statusOf(id: string): Promise<EmailStatusRecord> {
        return JSON.parse((await api(emailApiEvent("GET", TENANT, { id }))).body!) as EmailStatusRecord;
    }
    function mailOf(id: string, destination: string[]): SesMailFacts {
        return {
            messageId: ses.requests.at(-1)?.messageId ?? "m",
            source: PII.from,
            destination,
            configurationSetName: "cs",
            tags: { emailId: id },
        };
    }

    before(async () => {
        [stack, ses] = await Promise.all([startEmailStack(), startFakeSes()]);
        api = createEmailApi(emailApiDeps(stack, { statusRetentionSeconds: DAY_SECONDS }));
        worker = emailWorkerOnStack(stack, ses.endpoint, { suppressions: dynamoSuppressionList(stack.dynamodb, stack.statusTableName) });
        statusEvents = createEmailStatusEvents({
            statuses: dynamoStatusStore(stack.dynamodb, stack.statusTableName),
            suppressions: dynamoSuppressionList(stack.dynamodb, stack.statusTableName),
        });
    });
    after(async () => {
        worker?.mailer.shutdown();
        await Promise.all([stack?.stop(), ses?.stop()]);
    });
    beforeEach(async () => {
        await drain(stack.sqs, stack.queueUrl, 0);
    });

    it("keys an address by its hash, case-insensitively; the table holds no address", async () => {
        const list = dynamoSuppressionList(stack.dynamodb, stack.statusTableName);
        const address = `Case.${crypto.randomUUID().slice(0, 8)}@Example.org`;
        expect(suppressionKey(address)).to.equal(suppressionKey(` ${address.toLowerCase()} `));
        expect(await list.countSuppressed([address.toLowerCase(), "someone-else@example.org"])).to.equal(0);
        await list.suppress([address], "bounce");
        await list.suppress([address.toUpperCase()], "complaint");
        expect(await list.countSuppressed([address.toLowerCase(), "someone-else@example.org"])).to.equal(1);
        const { Items } = await stack.dynamodb.send(new ddb.ScanCommand({ TableName: stack.statusTableName }));
        expect(JSON.stringify(Items).toLowerCase()).to.not.include(address.toLowerCase());
    });

    it("a permanent bounce suppresses its recipient; a transient one does not", async () => {
        const hard = `hard-${crypto.randomUUID().slice(0, 8)}@example.org`;
        const soft = `soft-${crypto.randomUUID().slice(0, 8)}@example.org`;
        const id = await send(emailBody({ to: [hard], cc: [], bcc: [] }));
        await statusEvents(sesEventBridgeEvent("BOUNCE", sesEventRecord("BOUNCE", mailOf(id, [hard]), { bounceType: "Permanent" })));
        const softId = await send(emailBody({ to: [soft], cc: [], bcc: [] }));
        await statusEvents(sesEventBridgeEvent("BOUNCE", sesEventRecord("BOUNCE", mailOf(softId, [soft]), { bounceType: "Transient" })));
        const list = dynamoSuppressionList(stack.dynamodb, stack.statusTableName);
        expect(await list.countSuppressed([hard])).to.equal(1);
        expect(await list.countSuppressed([soft])).to.equal(0);
    });

    it("after a complaint, the next email to that address ends as suppressed: visible, never sent", async () => {
        const first = await send(emailBody());
        expect((await statusOf(first)).status).to.equal("sent");
        await statusEvents(
            sesEventBridgeEvent("COMPLAINT", sesEventRecord("COMPLAINT", mailOf(first, [PII.to]), { recipients: [PII.to] })),
        );
        expect((await statusOf(first)).status).to.equal("complained");

        const sendsBefore = ses.attempts();
        const next = await send(emailBody({ to: [PII.to.toUpperCase()], cc: [], bcc: [] }));
        expect(ses.attempts(), "SES was not called").to.equal(sendsBefore);
        const status = await statusOf(next);
        expect(status.status).to.equal("suppressed");
        expect(status.history.at(-1)).to.deep.include({ status: "suppressed", suppressedRecipients: "1" });
        // Nothing left to retry: not on the queue, not in the DLQ.
        expect(await drain(stack.sqs, stack.queueUrl, 0)).to.have.length(0);
        expect(await drain(stack.sqs, stack.deadLetterQueueUrl, 0)).to.have.length(0);
        // The metric, as Powertools writes it (EMF on stdout).
        expect(capturedLines().some((line) => line.includes('"EmailsSuppressed"'))).to.equal(true);
    });

    describe("logs", () => {
        it("say an email was suppressed, and hold no address", () => {
            const lines = capturedLines();
            expect(lines.some((line) => line.includes('"email suppressed"'))).to.equal(true);
            expect(linesContaining(lines, [...PII_NEEDLES, PII.to.toUpperCase()])).to.deep.equal([]);
        });
    });
});
