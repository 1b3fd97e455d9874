/**
 * The API contract, over real HTTP (Node's fetch) against the API handler served
 * on a loopback port, with the real SQS FIFO (fauxqs), S3 (fauxqs) and DynamoDB
 * (DynamoDB Local) behind it.
 */
import { expect } from "chai";
import * as s3 from "@aws-sdk/client-s3";
import * as sqs from "@aws-sdk/client-sqs";
import { createEmailApi, EmailApiDeps } from "../../../handlers/email/api";
import { dynamoIdempotencyStore } from "../../../handlers/email/idempotency";
import { laneFor, tenantOf, tenantScope, fingerprintOf } from "../../../handlers/email/message";
import type { QueuedEmail } from "../../../handlers/email/types";
import { freePort, LOCAL_CREDENTIALS } from "../../../local/offline/emulators";
import { serveHttpApi, LocalHttpApi } from "../../../local/aws-stand-ins/email/http-api";
import { drain, EmailStack, REGION, startEmailStack } from "../../support/email/aws";
import { captureLogsInThisSuite, capturedLines, linesContaining } from "../../support/email/logs";
import { emailBody, PII, PII_NEEDLES } from "../../support/email/pii";

describe("email API contract (HTTP, emulators)", function () {
    this.timeout(120_000);
    captureLogsInThisSuite();
    let stack: EmailStack;
    let api: LocalHttpApi;
    const served: LocalHttpApi[] = [];

    function deps(overrides: Partial<EmailApiDeps> = {}): EmailApiDeps {
        return {
            sqs: stack.sqs,
            queueUrl: stack.queueUrl,
            dynamodb: stack.dynamodb,
            idempotencyTableName: stack.tableName,
            s3: stack.s3,
            contentBucket: stack.bucket,
            ...overrides,
        };
    }
    async function serve(overrides: Partial<EmailApiDeps> = {}): Promise<LocalHttpApi> {
        const server = await serveHttpApi(createEmailApi(deps(overrides)) as never);
        served.push(server);
        return server;
    }
    function post(base: LocalHttpApi, body: unknown, headers: Record<string, string> = {}) {
        return fetch(`${base.url}/v1/emails`, {
            method: "POST",
            headers: { "content-type": "application/json", ...headers },
            body: typeof body === "string" ? body : JSON.stringify(body),
        });
    }

    before(async () => {
        stack = await startEmailStack();
        api = await serve();
    });
    after(async () => {
        await Promise.all(served.map((s) => s.stop()));
        await stack?.stop();
    });
    afterEach(async () => {
        await drain(stack.sqs, stack.queueUrl, 0);
    });

    it("202 { id } only once the message is on the FIFO queue, grouped by tenant lane and deduplicated by id", async () => {
        const response = await post(api, emailBody());
        expect(response.status).to.equal(202);
        expect(response.headers.get("content-type")).to.match(/application\/json/);
        const { id } = (await response.json()) as { id: string };
        expect(id).to.match(/^[0-9a-f-]{36}$/);

        const [message, ...rest] = await drain(stack.sqs, stack.queueUrl);
        expect(rest).to.have.length(0);
        const body = JSON.parse(message.Body!) as QueuedEmail;
        expect(body.id).to.equal(id);
        expect(body.version).to.equal(1);
        expect(body.content).to.deep.include({
            from: PII.from,
            to: [PII.to],
            cc: [PII.cc],
            bcc: [PII.bcc],
            subject: PII.subject,
            text: PII.text,
        });
        expect(message.Attributes?.MessageGroupId)
            .to.equal(body.lane)
            .and.to.equal(laneFor("anonymous", id, 4));
        expect(message.Attributes?.MessageDeduplicationId).to.equal(id);
    });

    it("accepts sendAt as unix seconds or ISO-8601 and carries it as ISO UTC", async () => {
        const future = Math.floor(Date.now() / 1000) + 3600;
        expect((await post(api, emailBody({ sendAt: future }))).status).to.equal(202);
        expect((await post(api, emailBody({ sendAt: "2099-01-01T09:00:00+02:00", text: undefined }))).status).to.equal(400); // > 30 days ahead
        const iso = new Date(Date.now() + 7200_000).toISOString();
        expect((await post(api, emailBody({ sendAt: iso }))).status).to.equal(202);
        const bodies = (await drain(stack.sqs, stack.queueUrl)).map((m) => JSON.parse(m.Body!) as QueuedEmail);
        expect(bodies.map((b) => b.sendAt).sort()).to.deep.equal([new Date(future * 1000).toISOString(), iso].sort());
    });

    it("400 lists every field error at once", async () => {
        const response = await post(api, {
            from: "not-an-address",
            to: ["ok@example.com", "bad@", 42],
            cc: "nope",
            subject: "line one\r\nBcc: injected@example.com",
            sendAt: 1e13,
            priority: "high",
            [PII.to]: "an unknown key that is itself an address",
        });
        expect(response.status).to.equal(400);
        const body = (await response.json()) as { error: string; errors: Array<{ field: string; message: string }> };
        expect(body.error).to.equal("ValidationFailed");
        const fields = body.errors.map((e) => e.field);
        for (const field of ["from", "to[1]", "to[2]", "cc", "subject", "sendAt", "priority", "text"]) {
            expect(fields, `missing error for ${field}: ${JSON.stringify(body.errors)}`).to.include(field);
        }
        expect(body.errors.find((e) => e.field === "sendAt")!.message).to.match(/milliseconds/);
        expect(await drain(stack.sqs, stack.queueUrl, 0)).to.have.length(0);
    });

    it("400 for missing recipients, too many recipients, an empty subject and a non-object body", async () => {
        const many = Array.from({ length: 30 }, (_, i) => `r${i}@example.com`);
        const response = await post(api, emailBody({ to: [], cc: many, bcc: many, subject: "" }));
        expect(response.status).to.equal(400);
        const errors = ((await response.json()) as { errors: Array<{ field: string; message: string }> }).errors;
        expect(errors.map((e) => e.field)).to.include.members(["to", "recipients", "subject"]);
        expect(errors.find((e) => e.field === "recipients")!.message).to.match(/at most 50/);

        const notObject = await post(api, "[1,2]");
        expect(notObject.status).to.equal(400);
        const invalidJson = await post(api, `{"from": "${PII.from}", `);
        expect(invalidJson.status).to.equal(400);
        const text = await invalidJson.text();
        expect(text).to.include("must be valid JSON").and.not.include(PII.from);
    });

    it("415 for a body that is not JSON, or no content type", async () => {
        const plain = await post(api, "hello", { "content-type": "text/plain" });
        expect(plain.status).to.equal(415);
        expect(((await plain.json()) as { error: string }).error).to.equal("UnsupportedMediaType");
        const none = await fetch(`${api.url}/v1/emails`, {
            method: "POST",
            body: new Uint8Array(Buffer.from(JSON.stringify(emailBody()))),
        });
        expect(none.status).to.equal(415);
        const vendor = await post(api, emailBody(), { "content-type": "application/vnd.example+json; charset=utf-8" });
        expect(vendor.status).to.equal(202);
    });

    it("413 when the request is larger than the limit", async () => {
        const small = await serve({ limits: { maxRequestBytes: 2048 } });
        const response = await post(small, emailBody({ text: "x".repeat(4096) }));
        expect(response.status).to.equal(413);
        expect(((await response.json()) as { error: string }).error).to.equal("PayloadTooLarge");
        // The default limit (4 MiB) also holds.
        const big = await post(api, emailBody({ text: "y".repeat(4 * 1024 * 1024 + 1) }));
        expect(big.status).to.equal(413);
        expect(await drain(stack.sqs, stack.queueUrl, 0)).to.have.length(0);
    });

    it("500 when the queue cannot be reached: nothing accepted, and the client may retry", async () => {
        const deadPort = await freePort();
        const unreachable = new sqs.SQSClient({
            region: REGION,
            credentials: LOCAL_CREDENTIALS,
            endpoint: `http://127.0.0.1:${deadPort}`,
            maxAttempts: 1,
        });
        const broken = await serve({ sqs: unreachable });
        const response = await post(broken, emailBody(), { "idempotency-key": "retry-after-500" });
        expect(response.status).to.equal(500);
        expect(((await response.json()) as { error: string }).error).to.equal("QueueUnavailable");

        // The retry against a healthy API, with the same key, is accepted and enqueued once.
        const retry = await post(api, emailBody(), { "idempotency-key": "retry-after-500" });
        expect(retry.status).to.equal(202);
        expect(await drain(stack.sqs, stack.queueUrl)).to.have.length(1);
    });

    it("404 for other routes", async () => {
        const response = await fetch(`${api.url}/v1/other`, { method: "POST" });
        expect(response.status).to.equal(404);
        const get = await fetch(`${api.url}/v1/emails`);
        expect(get.status).to.equal(404);
    });

    describe("Idempotency-Key", () => {
        it("returns the same id and enqueues once, even long after the FIFO deduplication window", async () => {
            const first = await post(api, emailBody(), { "idempotency-key": "order-42-receipt" });
            const { id } = (await first.json()) as { id: string };
            expect(first.status).to.equal(202);
            expect(await drain(stack.sqs, stack.queueUrl)).to.have.length(1);

            // SQS would drop a duplicate within 5 minutes; the API must not rely on it. The queue is
            // drained, so any second SendMessage would show up as a new message.
            for (let i = 0; i < 3; i++) {
                const again = await post(api, emailBody(), { "idempotency-key": "order-42-receipt" });
                expect(again.status).to.equal(202);
                expect(again.headers.get("idempotent-replayed")).to.equal("true");
                expect(((await again.json()) as { id: string }).id).to.equal(id);
            }
            expect(await drain(stack.sqs, stack.queueUrl)).to.have.length(0);
        });

        it("concurrent retries with one key all get the same id, and one message is enqueued", async () => {
            const responses = await Promise.all(
                Array.from({ length: 6 }, () => post(api, emailBody(), { "idempotency-key": "concurrent-key" })),
            );
            expect(responses.map((r) => r.status)).to.deep.equal([202, 202, 202, 202, 202, 202]);
            const ids = new Set(await Promise.all(responses.map(async (r) => ((await r.json()) as { id: string }).id)));
            expect(ids.size).to.equal(1);
            expect(await drain(stack.sqs, stack.queueUrl)).to.have.length(1);
        });

        it("422 when a key is reused with a different request", async () => {
            await post(api, emailBody(), { "idempotency-key": "reused-key" });
            const other = await post(api, emailBody({ subject: "A different subject" }), { "idempotency-key": "reused-key" });
            expect(other.status).to.equal(422);
            expect(await drain(stack.sqs, stack.queueUrl)).to.have.length(1);
        });

        it("keys are per tenant: two callers may use the same key", async () => {
            const handler = createEmailApi(deps());
            const event = (userArn: string) => ({
                version: "2.0",
                routeKey: "POST /v1/emails",
                rawPath: "/v1/emails",
                rawQueryString: "",
                headers: { "content-type": "application/json", "idempotency-key": "shared-key" },
                requestContext: { http: { method: "POST" }, requestId: "r", authorizer: { iam: { userArn } } },
                body: JSON.stringify(emailBody()),
                isBase64Encoded: false,
            });
            const a = await handler(event("arn:aws:sts::111111111111:assumed-role/TenantA/session-1") as never);
            const b = await handler(event("arn:aws:sts::222222222222:assumed-role/TenantB/session-9") as never);
            const a2 = await handler(event("arn:aws:sts::111111111111:assumed-role/TenantA/session-2") as never);
            expect([a.statusCode, b.statusCode, a2.statusCode]).to.deep.equal([202, 202, 202]);
            const [ida, idb, ida2] = [a, b, a2].map((r) => (JSON.parse(r.body!) as { id: string }).id);
            expect(ida).to.not.equal(idb);
            expect(ida2).to.equal(ida); // a new role session is the same tenant
            const messages = await drain(stack.sqs, stack.queueUrl);
            expect(messages).to.have.length(2);
            const groups = messages.map((m) => m.Attributes!.MessageGroupId!.split("-")[0]);
            expect(groups[0]).to.not.equal(groups[1]);
        });

        it("senders: a `from` outside the stack's SES identities or the caller's allow-list is a 400 naming `from`, and nothing is queued", async () => {
            const handler = createEmailApi(
                deps({
                    sendingIdentities: ["example.com", "billing@example.net"],
                    allowedSenders: {
                        "arn:aws:iam::111111111111:role/TenantA": ["example.com"],
                        "arn:aws:iam::222222222222:role/TenantB": ["billing@example.net"],
                    },
                }),
            );
            const event = (userArn: string, body: Record<string, unknown>) => ({
                version: "2.0",
                routeKey: "POST /v1/emails",
                rawPath: "/v1/emails",
                rawQueryString: "",
                headers: { "content-type": "application/json" },
                requestContext: { http: { method: "POST" }, requestId: "r", authorizer: { iam: { userArn } } },
                body: JSON.stringify(body),
                isBase64Encoded: false,
            });
            const tenantA = "arn:aws:sts::111111111111:assumed-role/TenantA/session-1";
            const tenantB = "arn:aws:sts::222222222222:assumed-role/TenantB/session-1";
            const stranger = "arn:aws:sts::333333333333:assumed-role/Stranger/s";
            const status = async (userArn: string, body: Record<string, unknown>) => {
                const result = await handler(event(userArn, body) as never);
                return {
                    status: result.statusCode,
                    errors:
                        result.statusCode === 400
                            ? (JSON.parse(result.body!) as { errors: { field: string; message: string }[] }).errors
                            : [],
                };
            };
            expect((await status(tenantA, emailBody({ from: "shop@example.com" }))).status).to.equal(202);
            expect((await status(tenantB, emailBody({ from: "Billing@Example.net" }))).status).to.equal(202);
            // One tenant cannot send as another.
            const asOther = await status(tenantA, emailBody({ from: "billing@example.net" }));
            expect(asOther.status).to.equal(400);
            expect(asOther.errors.map((e) => e.field)).to.deep.equal(["from"]);
            expect((await status(tenantB, emailBody({ from: "shop@example.com" }))).status).to.equal(400);
            // A caller with no entry may send as no one; a domain covers no subdomain; outside the identities is refused for everyone.
            expect((await status(stranger, emailBody({ from: "shop@example.com" }))).errors.map((e) => e.field)).to.deep.equal(["from"]);
            expect((await status(tenantA, emailBody({ from: "shop@mail.example.com" }))).status).to.equal(400);
            const outside = await status(tenantA, emailBody({ from: "ceo@example.org" }));
            expect(outside.errors).to.deep.equal([
                { field: "from", message: "must be an address or domain of this service's SES sending identities" },
            ]);
            // Reported with every other field error at once.
            const many = await status(tenantB, { ...emailBody({ from: "shop@example.com" }), subject: "" });
            expect(many.errors.map((e) => e.field).sort()).to.deep.equal(["from", "subject"]);
            expect(await drain(stack.sqs, stack.queueUrl)).to.have.length(2);
        });

        it("a crash after storing the key but before enqueueing loses nothing: the retry enqueues the stored id", async () => {
            const store = dynamoIdempotencyStore(stack.dynamodb, stack.tableName, 3600);
            const request = { ...emailBody(), cc: [PII.cc], bcc: [PII.bcc] };
            // Simulate the first attempt: key stored as pending, then the Lambda died.
            const { validateEmailRequest } = await import("../../../handlers/email/request");
            const parsed = validateEmailRequest(
                request,
                { maxRequestBytes: 1e7, maxRecipients: 50, maxSubjectLength: 998, maxScheduleAheadDays: 30 },
                new Date(),
            );
            if (!parsed.success) throw new Error("fixture invalid");
            await store.claim(
                tenantScope("anonymous"),
                "crashed-key",
                "11111111-2222-4333-8444-555555555555",
                fingerprintOf(parsed.request),
            );

            const retry = await post(api, request, { "idempotency-key": "crashed-key" });
            expect(retry.status).to.equal(202);
            expect(((await retry.json()) as { id: string }).id).to.equal("11111111-2222-4333-8444-555555555555");
            const messages = await drain(stack.sqs, stack.queueUrl);
            expect(messages).to.have.length(1);
            expect(messages[0].Attributes?.MessageDeduplicationId).to.equal("11111111-2222-4333-8444-555555555555");
        });

        it("a crash after enqueueing but before marking the key: the retry re-enqueues with the same deduplication id, SQS drops it", async () => {
            const real = dynamoIdempotencyStore(stack.dynamodb, stack.tableName, 3600);
            let failMark = true;
            const flaky = await serve({
                idempotencyStore: {
                    claim: real.claim,
                    async markEnqueued(scope, key) {
                        if (failMark) throw Object.assign(new Error("simulated crash"), { name: "ProvisionedThroughputExceededException" });
                        return real.markEnqueued(scope, key);
                    },
                },
            });
            const first = await post(flaky, emailBody(), { "idempotency-key": "half-done" });
            expect(first.status).to.equal(202);
            failMark = false;
            const second = await post(flaky, emailBody(), { "idempotency-key": "half-done" });
            expect(second.status).to.equal(202);
            expect(((await second.json()) as { id: string }).id).to.equal(((await first.json()) as { id: string }).id);
            expect(await drain(stack.sqs, stack.queueUrl)).to.have.length(1);
            // Now marked: a third call does not touch the queue at all.
            const third = await post(flaky, emailBody(), { "idempotency-key": "half-done" });
            expect(third.headers.get("idempotent-replayed")).to.equal("true");
            expect(await drain(stack.sqs, stack.queueUrl, 0)).to.have.length(0);
        });

        it("a key past its TTL is free again even before DynamoDB's TTL sweep deleted it", async () => {
            let clock = new Date("2030-01-01T00:00:00Z");
            const store = dynamoIdempotencyStore(stack.dynamodb, stack.tableName, 60, () => clock);
            expect(await store.claim("scope-ttl", "k", "first-id", "f1")).to.deep.equal({ outcome: "claimed" });
            clock = new Date("2030-01-01T00:00:59Z");
            expect(await store.claim("scope-ttl", "k", "second-id", "f1")).to.deep.include({
                outcome: "existing",
                emailId: "first-id",
                state: "pending",
            });
            clock = new Date("2030-01-01T00:01:01Z");
            expect(await store.claim("scope-ttl", "k", "third-id", "f2")).to.deep.equal({ outcome: "claimed" });
            expect(await store.claim("scope-ttl", "k", "fourth-id", "f2")).to.deep.include({ outcome: "existing", emailId: "third-id" });
        });

        it("400 for a malformed key; 500 (nothing accepted) when the idempotency table is unreachable", async () => {
            const bad = await post(api, emailBody(), { "idempotency-key": "has spaces in it" });
            expect(bad.status).to.equal(400);
            const errors = ((await bad.json()) as { errors: Array<{ field: string }> }).errors;
            expect(errors.map((e) => e.field)).to.deep.equal(["Idempotency-Key"]);

            const { DynamoDBClient } = await import("@aws-sdk/client-dynamodb");
            const deadPort = await freePort();
            const down = await serve({
                dynamodb: new DynamoDBClient({
                    region: REGION,
                    credentials: LOCAL_CREDENTIALS,
                    endpoint: `http://127.0.0.1:${deadPort}`,
                    maxAttempts: 1,
                }),
            });
            const response = await post(down, emailBody(), { "idempotency-key": "table-down" });
            expect(response.status).to.equal(500);
            expect(await drain(stack.sqs, stack.queueUrl, 0)).to.have.length(0);
        });
    });

    describe("large bodies", () => {
        it("puts content above the threshold in S3 and a pointer in the message", async () => {
            const text = `${PII.text} ${"lorem ipsum ".repeat(30_000)}`; // ~360 KB
            const response = await post(api, emailBody({ text }));
            expect(response.status).to.equal(202);
            const { id } = (await response.json()) as { id: string };
            const [message] = await drain(stack.sqs, stack.queueUrl);
            expect(Buffer.byteLength(message.Body!)).to.be.lessThan(2048);
            const body = JSON.parse(message.Body!) as QueuedEmail;
            expect(body.content).to.equal(undefined);
            expect(body.contentRef).to.deep.include({ bucket: stack.bucket, key: `emails/${id}.json` });
            const object = await stack.s3.send(new s3.GetObjectCommand({ Bucket: stack.bucket, Key: `emails/${id}.json` }));
            const stored = JSON.parse(await object.Body!.transformToString()) as { text: string; to: string[] };
            expect(stored.text).to.equal(text);
            expect(stored.to).to.deep.equal([PII.to]);
        });

        it("keeps content below the threshold inline, and honours a configured threshold", async () => {
            const small = await serve({ largeBodyThresholdBytes: 1024 });
            const response = await post(small, emailBody({ text: "z".repeat(2000) }));
            expect(response.status).to.equal(202);
            const inline = await post(api, emailBody({ text: "z".repeat(2000) }));
            expect(inline.status).to.equal(202);
            const bodies = (await drain(stack.sqs, stack.queueUrl)).map((m) => JSON.parse(m.Body!) as QueuedEmail);
            expect(bodies.filter((b) => b.contentRef)).to.have.length(1);
            expect(bodies.filter((b) => b.content)).to.have.length(1);
        });
    });

    describe("tenant lanes (MessageGroupId)", () => {
        it("maps a tenant to at most `lanes` groups and different tenants to different groups", () => {
            const lanesA = new Set(Array.from({ length: 200 }, (_, i) => laneFor("tenant-a", `id-${i}`, 4)));
            const lanesB = new Set(Array.from({ length: 200 }, (_, i) => laneFor("tenant-b", `id-${i}`, 4)));
            expect(lanesA.size).to.equal(4);
            expect([...lanesA].some((l) => lanesB.has(l))).to.equal(false);
            expect(laneFor("tenant-a", "same-id", 4)).to.equal(laneFor("tenant-a", "same-id", 4));
            for (const lane of lanesA)
                expect(lane)
                    .to.match(/^t[0-9a-f]{16}-[0-3]$/)
                    .and.not.include("tenant");
        });

        it("derives the tenant from the IAM authorizer, never from a header", () => {
            expect(
                tenantOf({ requestContext: { authorizer: { iam: { userArn: "arn:aws:sts::123456789012:assumed-role/Sender/abc" } } } }),
            ).to.equal("arn:aws:iam::123456789012:role/Sender");
            expect(tenantOf({ requestContext: { authorizer: { iam: { userArn: "arn:aws:iam::123456789012:user/ci" } } } })).to.equal(
                "arn:aws:iam::123456789012:user/ci",
            );
            expect(tenantOf({ requestContext: {} })).to.equal("anonymous");
        });
    });

    describe("logs (runs last)", () => {
        it("the capture sees what a Powertools Logger writes", async () => {
            const { Logger } = await import("@aws-lambda-powertools/logger");
            new Logger({ serviceName: "capture-probe" }).info("capture-probe-sentinel");
            expect(linesContaining(capturedLines(), ["capture-probe-sentinel"])).to.have.length(1);
        });

        it("wrote log lines, and none of them contains an address, a subject or a body", () => {
            const lines = capturedLines();
            expect(lines.some((l) => l.includes('"email accepted"'))).to.equal(true);
            expect(lines.some((l) => l.includes('"email rejected"'))).to.equal(true);
            for (const metric of [
                "EmailsAccepted",
                "EmailsReplayed",
                "EmailRequestsRejected",
                "EmailRequestsNotAccepted",
                "EmailsOffloadedToS3",
            ]) {
                expect(
                    lines.some((l) => l.includes('"_aws"') && l.includes(`"${metric}"`)),
                    metric,
                ).to.equal(true);
            }
            expect(linesContaining(lines, PII_NEEDLES)).to.deep.equal([]);
        });
    });
});
