/**
 * Email statuses on DynamoDB Local: the store's precedence and ownership rules, the
 * API's `GET /v1/emails/{id}` over HTTP, and what the worker records after sending
 * or dead-lettering (the real SESv2 client against the local SES stand-in).
 */
import { expect } from "chai";
import * as crypto from "node:crypto";
import fc from "fast-check";
import * as ddb from "@aws-sdk/client-dynamodb";
import { createEmailApi, EmailApiDeps } from "../../../handlers/email/api";
import { tenantScope } from "../../../handlers/email/message";
import { dynamoStatusStore, type EmailStatusRecord } from "../../../handlers/email/status";
import type { EmailWorkerHandler } from "../../../handlers/email/worker";
import { EMAIL_STATUSES, EMAIL_STATUS_NAMES, type EmailStatus } from "../../../contracts/email-service";
import { FakeSes, startFakeSes } from "../../../local/aws-stand-ins/email/fake-ses";
import { LocalHttpApi, serveHttpApi } from "../../../local/aws-stand-ins/email/http-api";
import {
    DAY_SECONDS,
    drain,
    emailApiDeps,
    emailApiEvent,
    emailWorkerOnStack,
    EmailStack,
    runWorkerOnce as runEmailWorkerOnce,
    startEmailStack,
    TENANT_A,
    TENANT_B,
} from "../../support/email/aws";
import { captureLogsInThisSuite, capturedLines, linesContaining } from "../../support/email/logs";
import { emailBody, PII_NEEDLES } from "../../support/email/pii";

describe("email statuses (DynamoDB Local, fauxqs, local SES)", function () {
    this.timeout(120_000);
    captureLogsInThisSuite();
    let stack: EmailStack;
    let ses: FakeSes;
    let http: LocalHttpApi;
    const workers: EmailWorkerHandler[] = [];

    function apiDeps(overrides: Partial<EmailApiDeps> = {}): EmailApiDeps {
        return emailApiDeps(stack, overrides);
    }

    function worker(): EmailWorkerHandler {
        const handler = emailWorkerOnStack(stack, ses.endpoint);
        workers.push(handler);
        return handler;
    }

    const runWorkerOnce = (handler: EmailWorkerHandler) => runEmailWorkerOnce(stack, handler);

    before(async () => {
        [stack, ses] = await Promise.all([startEmailStack(), startFakeSes()]);
        http = await serveHttpApi(createEmailApi(apiDeps()) as never);
    });
    after(async () => {
        for (const w of workers) w.mailer.shutdown();
        await http?.stop();
        await Promise.all([stack?.stop(), ses?.stop()]);
    });
    beforeEach(async () => {
        await ses.setMode("up");
        await drain(stack.sqs, stack.queueUrl, 0);
        await drain(stack.sqs, stack.deadLetterQueueUrl, 0);
    });

    describe("the store", () => {
        const owner = tenantScope("arn:aws:iam::111111111111:role/TenantA");
        const inAMonth = () => new Date(Date.now() + 30 * DAY_SECONDS * 1000);

        it("never moves an email backwards, and a repeated report changes nothing", async () => {
            const store = dynamoStatusStore(stack.dynamodb, stack.statusTableName);
            const id = crypto.randomUUID();
            expect(await store.accept(id, owner, inAMonth())).to.equal("recorded");
            expect(await store.record(id, "sent", { provider: "ses", providerMessageId: "m-1" })).to.equal("recorded");
            // The API's `queued` after the worker's `sent` (a slow API), and a second `sent` (a redelivery).
            expect(await store.record(id, "queued")).to.equal("stale");
            expect(await store.record(id, "sent", { provider: "smtp" })).to.equal("stale");
            const read = (await store.read(id, owner))!;
            expect(read.status).to.equal("sent");
            expect(read.history.map((entry) => entry.status)).to.deep.equal(["accepted", "sent"]);
            expect(read.history[1]).to.deep.include({ provider: "ses", providerMessageId: "m-1" });
        });

        it("ends at the highest-ranked status whatever the order and repetition of the reports", async () => {
            const store = dynamoStatusStore(stack.dynamodb, stack.statusTableName);
            const reportable = EMAIL_STATUS_NAMES.filter((status) => status !== "accepted");
            await fc.assert(
                fc.asyncProperty(fc.array(fc.constantFrom(...reportable), { minLength: 1, maxLength: 6 }), async (reports) => {
                    const id = crypto.randomUUID();
                    await store.accept(id, owner, inAMonth());
                    for (const status of reports) await store.record(id, status);
                    const read = (await store.read(id, owner))!;
                    const highest = reports.reduce<EmailStatus>(
                        (best, status) => (EMAIL_STATUSES[status].rank > EMAIL_STATUSES[best].rank ? status : best),
                        "accepted",
                    );
                    expect(read.status).to.equal(highest);
                    // The history only ever climbs.
                    const ranks = read.history.map((entry) => EMAIL_STATUSES[entry.status].rank);
                    expect(ranks).to.deep.equal([...ranks].sort((a, b) => a - b));
                    expect(new Set(ranks).size).to.equal(ranks.length);
                }),
                { numRuns: 25 },
            );
        });

        it("creates nothing for a report about an unknown email, and accepts an email only once", async () => {
            const store = dynamoStatusStore(stack.dynamodb, stack.statusTableName);
            const unknown = crypto.randomUUID();
            expect(await store.record(unknown, "sent", { provider: "ses" })).to.equal("stale");
            const { Item } = await stack.dynamodb.send(
                new ddb.GetItemCommand({ TableName: stack.statusTableName, Key: { emailId: { S: unknown } }, ConsistentRead: true }),
            );
            expect(Item).to.equal(undefined);

            const id = crypto.randomUUID();
            expect(await store.accept(id, owner, inAMonth())).to.equal("recorded");
            expect(await store.accept(id, tenantScope("arn:aws:iam::222222222222:role/TenantB"), inAMonth())).to.equal("stale");
            expect(await store.read(id, owner)).to.not.equal(undefined);
        });

        it("reads an email only for its owner, and not once it has expired (TTL deletes lazily)", async () => {
            const store = dynamoStatusStore(stack.dynamodb, stack.statusTableName);
            const id = crypto.randomUUID();
            await store.accept(id, owner, inAMonth());
            expect(await store.read(id, tenantScope("arn:aws:iam::222222222222:role/TenantB"))).to.equal(undefined);
            const expired = crypto.randomUUID();
            await store.accept(expired, owner, new Date(Date.now() - 1000));
            expect(await store.read(expired, owner)).to.equal(undefined);
        });
    });

    describe("the API", () => {
        it("POST then GET /v1/emails/{id}: 200 with the status and its history with timestamps (queued)", async () => {
            const posted = await fetch(`${http.url}/v1/emails`, {
                method: "POST",
                headers: { "content-type": "application/json" },
                body: JSON.stringify(emailBody()),
            });
            expect(posted.status).to.equal(202);
            const { id } = (await posted.json()) as { id: string };
            const response = await fetch(`${http.url}/v1/emails/${id}`);
            expect(response.status).to.equal(200);
            const body = (await response.json()) as EmailStatusRecord;
            expect(body.id).to.equal(id);
            expect(body.status).to.equal("queued");
            expect(body.history.map((entry) => entry.status)).to.deep.equal(["accepted", "queued"]);
            for (const entry of body.history) expect(new Date(entry.at).toISOString()).to.equal(entry.at);
            expect(body.updatedAt).to.equal(body.history[1].at);
            // Nothing of the email itself: no addresses, no subject, no body.
            expect(linesContaining([JSON.stringify(body)], PII_NEEDLES)).to.deep.equal([]);
        });

        it("a future sendAt reads scheduled, with when it is due", async () => {
            const api = createEmailApi(apiDeps());
            const sendAt = new Date(Date.now() + 3600_000).toISOString();
            const posted = await api(emailApiEvent("POST", TENANT_A, { body: emailBody({ sendAt }) }));
            const { id } = JSON.parse(posted.body!) as { id: string };
            const read = await api(emailApiEvent("GET", TENANT_A, { id }));
            expect(read.statusCode).to.equal(200);
            const body = JSON.parse(read.body!) as EmailStatusRecord;
            expect(body.status).to.equal("scheduled");
            expect(body.history[1]).to.deep.include({ status: "scheduled", sendAt });
        });

        it("another principal's id, an unknown id and a malformed id are the same 404, revealing nothing", async () => {
            const api = createEmailApi(apiDeps());
            const posted = await api(emailApiEvent("POST", TENANT_A, { body: emailBody() }));
            const { id } = JSON.parse(posted.body!) as { id: string };
            // A new session of the same role is the same principal.
            expect((await api(emailApiEvent("GET", "arn:aws:sts::111111111111:assumed-role/TenantA/other", { id }))).statusCode).to.equal(
                200,
            );
            const other = await api(emailApiEvent("GET", TENANT_B, { id }));
            const unknown = await api(emailApiEvent("GET", TENANT_B, { id: crypto.randomUUID() }));
            const malformed = await api(emailApiEvent("GET", TENANT_B, { id: "../../etc/passwd" }));
            const anonymous = await api(emailApiEvent("GET", undefined, { id }));
            for (const answer of [other, unknown, malformed, anonymous]) {
                expect(answer.statusCode).to.equal(404);
                expect(answer.body).to.equal(other.body);
            }
            expect(other.body).to.not.include(id);
        });

        it("a replayed Idempotency-Key keeps the first status and history", async () => {
            const api = createEmailApi(apiDeps());
            const key = `status-${crypto.randomUUID()}`;
            const first = await api(emailApiEvent("POST", TENANT_A, { body: emailBody(), key }));
            const replay = await api(emailApiEvent("POST", TENANT_A, { body: emailBody(), key }));
            expect(replay.headers?.["idempotent-replayed"]).to.equal("true");
            const { id } = JSON.parse(first.body!) as { id: string };
            expect((JSON.parse(replay.body!) as { id: string }).id).to.equal(id);
            const read = JSON.parse((await api(emailApiEvent("GET", TENANT_A, { id }))).body!) as EmailStatusRecord;
            expect(read.history.map((entry) => entry.status)).to.deep.equal(["accepted", "queued"]);
        });

        it("nothing is queued when the status cannot be recorded (500, retry)", async () => {
            const api = createEmailApi(apiDeps({ statusTableName: "no-such-status-table" }));
            const answer = await api(emailApiEvent("POST", TENANT_A, { body: emailBody() }));
            expect(answer.statusCode).to.equal(500);
            expect(await drain(stack.sqs, stack.queueUrl, 0)).to.have.length(0);
        });
    });

    describe("the worker", () => {
        it("records sent with the provider and the provider's message id", async () => {
            const api = createEmailApi(apiDeps());
            const { id } = JSON.parse((await api(emailApiEvent("POST", TENANT_A, { body: emailBody() }))).body!) as { id: string };
            await runWorkerOnce(worker());
            const read = JSON.parse((await api(emailApiEvent("GET", TENANT_A, { id }))).body!) as EmailStatusRecord;
            expect(read.status).to.equal("sent");
            const sent = read.history.find((entry) => entry.status === "sent")!;
            expect(sent.provider).to.equal("ses");
            expect(sent.providerMessageId).to.equal(ses.requests.at(-1)!.messageId);
        });

        it("records failed with the reason code when it dead-letters the email", async () => {
            await ses.setMode({ status: 400, errorType: "BadRequestException", message: "Illegal address" });
            const api = createEmailApi(apiDeps());
            const { id } = JSON.parse((await api(emailApiEvent("POST", TENANT_A, { body: emailBody() }))).body!) as { id: string };
            await runWorkerOnce(worker());
            const read = JSON.parse((await api(emailApiEvent("GET", TENANT_A, { id }))).body!) as EmailStatusRecord;
            expect(read.status).to.equal("failed");
            expect(read.history.at(-1)).to.deep.include({ status: "failed", reason: "invalid-recipient" });
        });
    });

    describe("logs", () => {
        it("wrote log lines, and none of them contains an address, a subject or a body", () => {
            const lines = capturedLines();
            expect(lines.some((line) => line.includes('"email status read"'))).to.equal(true);
            expect(linesContaining(lines, PII_NEEDLES)).to.deep.equal([]);
        });
    });
});
