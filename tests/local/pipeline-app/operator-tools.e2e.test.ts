/**
 * The operator tools against the local pipeline: `npm run send`, `npm run dlq` (list,
 * show, redrive by reason after "fixing the schema", retries exhausted, a failed move),
 * and `--stack` through a stand-in `pulumi` on PATH.
 */
import { expect } from "chai";
import { QueryCommand } from "@aws-sdk/client-dynamodb";
import {
    CreateQueueCommand,
    GetQueueAttributesCommand,
    ReceiveMessageCommand,
    SendMessageCommand,
    StartMessageMoveTaskCommand,
} from "@aws-sdk/client-sqs";
import { SignatureV4 } from "@smithy/signature-v4";
import { Hash } from "@smithy/core/serde";
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { EVENT_PROCESSOR_ENV } from "../../../contracts/event-pipeline";
import { EVENT_TYPE_NAMES } from "../../../handlers/event-processor/event-types";
import { EMAIL_DEAD_LETTER_ATTRIBUTES, type EmailRejectionReason } from "../../../contracts/email-service";
import { LocalPipeline, startLocalPipeline } from "../../../local/pipeline-app/pipeline";
import { eventProcessorService, RunningEventProcessor } from "../../../local/pipeline-app/services/event-processor";
import type { RunningEmailService } from "../../../local/pipeline-app/services/email-service";
import { redriveDeadLetters, RETRIES_EXHAUSTED, scanDeadLetters } from "../../../tools/dead-letters";
import { until } from "../../support/until";
import { runDlq } from "../../../tools/dlq";
import { runSend } from "../../../tools/send";
import { LOCAL_PIPELINE_FILE_VARIABLE } from "../../../tools/target";
import { DEFAULT_RECEIVE_WAIT_SECONDS } from "../../../local/aws-stand-ins/event-source-poller";
import { inspectQueue } from "../../../local/pipeline-app/accounting";

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, "../../..");
const DISABLED = "payment.captured";
const CONTENT_REJECTED: EmailRejectionReason = "content-rejected";

function capture() {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t), stdin: async () => "" } };
}

function payment(n: number) {
    return {
        clientId: "tenant-pay",
        eventId: `pay-${n}`,
        type: DISABLED,
        occurredAt: "2026-01-31T12:00:00Z",
        data: { paymentId: `p${n}`, orderId: `o${n}`, amount: 100 * n, currency: "EUR", method: "card" },
    };
}

/** The pipeline runs in this process on a shared 2-core machine: allow it time to settle. */
const SETTLE = { timeoutMs: 45_000, intervalMs: 300 };
// Queues named here are fauxqs's, whose short poll sees the whole queue (shortPollSeesAll), as the tools' local target says.

describe("operator tools on the local pipeline (npm run send, npm run dlq)", function () {
    this.timeout(240_000);
    let pipeline: LocalPipeline;
    let fixedProcessor: RunningEventProcessor | undefined;
    let dir: string;
    let env: NodeJS.ProcessEnv;

    const dlq = async (...argv: string[]) => {
        const c = capture();
        const code = await runDlq(argv, c.io, env);
        return { code, out: c.out.join("\n"), err: c.err.join("\n") };
    };
    const groups = async () =>
        JSON.parse((await dlq("list", "--json")).out).groups as Array<{
            system: string;
            reason: string;
            count: number;
            oldestAgeSeconds: number;
        }>;
    const stored = async (clientId: string) =>
        (
            await pipeline.context.clients.dynamodb.send(
                new QueryCommand({
                    TableName: pipeline.ready.eventTableName,
                    KeyConditionExpression: "clientId = :c",
                    ExpressionAttributeValues: { ":c": { S: clientId } },
                }),
            )
        ).Items ?? [];

    /**
     * Waits until a queue holds no message (none ready, in flight or delayed): every message sent to it has been
     * handled and deleted, so whatever handling it would cause (a store write, an email) has happened.
     */
    const drained = (queueUrl: string) =>
        until(
            `${queueUrl} to be drained`,
            async () => {
                const queue = await inspectQueue(pipeline.ready.sqsEndpoint, queueUrl.split("/").pop()!);
                return queue.ready.length + queue.inflight.length + queue.delayed.length === 0;
            },
            SETTLE,
        );

    before(async () => {
        pipeline = await startLocalPipeline({
            stack: "localstack",
            configOverrides: { "event-ingestion:enabledEventTypes": EVENT_TYPE_NAMES.filter((t) => t !== DISABLED) },
            // DEBUG_FUNCTION_LOGS=1 prints the functions' own log lines (stderr), for diagnosing a failure.
            functionLogs: process.env.DEBUG_FUNCTION_LOGS
                ? (name, text) => void process.stderr.write(`[${name}] ${text}`)
                : () => undefined,
        });
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "operator-tools-"));
        // What `npm run local` writes; this process is the pipeline, so the file's pid is alive.
        const file = path.join(dir, "pipeline.json");
        fs.writeFileSync(file, JSON.stringify(pipeline.ready));
        env = { ...process.env, [LOCAL_PIPELINE_FILE_VARIABLE]: file };
    });
    after(async () => {
        await fixedProcessor?.stop();
        await pipeline?.stop();
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("send event: sends each event with MessageGroupId = clientId and prints its message id; bad input names the fix", async () => {
        const file = path.join(dir, "events.json");
        const bad = {
            clientId: "tenant-bad",
            eventId: "bad-1",
            type: "order.placed",
            occurredAt: "2026-01-31T12:00:00Z",
            data: { orderId: "o1" },
        };
        const good = JSON.parse(fs.readFileSync(path.join(ROOT, "examples/events/order.placed.json"), "utf8"));
        fs.writeFileSync(file, JSON.stringify([payment(1), payment(2), payment(3), bad, good]));
        const c = capture();
        expect(await runSend(["event", file], c.io, env)).to.equal(0);
        const lines = c.out.map((l) => JSON.parse(l));
        expect(lines).to.have.length(5);
        for (const line of lines) expect(line.messageId).to.match(/^[0-9a-f-]{36}$/);
        expect(lines[0]).to.include({ clientId: "tenant-pay", eventId: "pay-1" });

        const noClient = capture();
        fs.writeFileSync(file, JSON.stringify({ eventId: "x" }));
        expect(await runSend(["event", file], noClient.io, env)).to.equal(2);
        expect(noClient.err.join("\n")).to.match(/needs a clientId .* MessageGroupId/);
        const notJson = capture();
        fs.writeFileSync(file, "{ nope");
        expect(await runSend(["event", file], notJson.io, env)).to.equal(2);
        expect(notJson.err.join("\n")).to.match(/is not JSON/);

        const withStored = await until("the valid event to be stored", async () => (await stored(good.clientId)).length > 0, SETTLE);
        expect(withStored).to.equal(true);
    });

    it("dlq list: groups the DLQ by rejection reason with counts, oldest age and a sample id (text and --json)", async () => {
        const found = await until(
            "4 rejected events in the DLQ",
            async () => {
                const g = await groups();
                return g.reduce((n, x) => n + x.count, 0) >= 4 ? g : undefined;
            },
            SETTLE,
        );
        expect(found.map(({ system, reason, count }) => ({ system, reason, count }))).to.deep.equal([
            { system: "events", reason: "type_disabled", count: 3 },
            { system: "events", reason: "invalid_data", count: 1 },
        ]);
        for (const g of found) expect(g.oldestAgeSeconds).to.be.a("number").at.least(0);
        const text = await dlq("list", "--system", "events");
        expect(text.code).to.equal(0);
        expect(text.out).to.match(/type_disabled\s+3\s+\S+\s+[0-9a-f-]{36}/);
        // Listing only reads: every message is still there and visible.
        expect((await groups()).reduce((n, x) => n + x.count, 0)).to.equal(4);
    });

    it("dlq show: one message with its attributes, found by its DLQ id or its source message id", async () => {
        const list = JSON.parse((await dlq("list", "--json")).out);
        const scan = await scanDeadLetters(pipeline.context.clients.sqs, {
            system: "events",
            queueUrl: pipeline.ready.eventQueueUrl,
            deadLetterQueueUrl: pipeline.ready.deadLetterQueueUrl,
            fifo: false,
            shortPollSeesAll: true,
        });
        const letter = scan.letters.find((l) => l.reason === "type_disabled")!;
        await scan.release();
        expect(list.groups).to.have.length(2);
        const byId = await dlq("show", letter.messageId);
        expect(byId.code).to.equal(0);
        const shown = JSON.parse(byId.out);
        expect(shown).to.include({ system: "events", reason: "type_disabled", messageId: letter.messageId });
        expect(shown.messageAttributes.rejectionReason).to.equal("type_disabled");
        expect(shown.body.type).to.equal(DISABLED);
        const bySource = await dlq("show", letter.messageAttributes.sourceMessageId.StringValue!);
        expect(JSON.parse(bySource.out).messageId).to.equal(letter.messageId);
        const missing = await dlq("show", "no-such-id");
        expect(missing.code).to.equal(1);
        expect(missing.err).to.match(/no message "no-such-id"/);
    });

    it("dlq redrive without --yes is a dry run: it says what it would move and moves nothing", async () => {
        const dry = await dlq("redrive", "--reason", "type_disabled");
        expect(dry.code).to.equal(0);
        expect(dry.out).to.match(/Dry run/);
        expect(dry.out).to.match(/events: would move 3 of 4/);
        expect(dry.out).to.match(/Nothing was moved/);
        expect(dry.out).to.match(/idempotent|at most once/);
        expect((await groups()).find((g) => g.reason === "type_disabled")?.count).to.equal(3);
    });

    it("a move whose send fails leaves the message in the DLQ and is reported", async () => {
        const sqs = pipeline.context.clients.sqs;
        const broken = {
            system: "events" as const,
            queueUrl: `${pipeline.ready.sqsEndpoint}/000000000000/no-such-queue`,
            deadLetterQueueUrl: pipeline.ready.deadLetterQueueUrl,
            fifo: false,
            shortPollSeesAll: true,
        };
        const result = await redriveDeadLetters(sqs, broken, { reason: "type_disabled", limit: 1 }, { execute: true, useMoveTask: false });
        expect(result.moved).to.equal(0);
        expect(result.failed).to.have.length(1);
        expect((await groups()).find((g) => g.reason === "type_disabled")?.count).to.equal(3);
    });

    it("after the fix (type enabled), redrive --reason moves only that reason back, and each event is stored exactly once", async () => {
        // "Fix the schema": run the processor as the stack would with every type enabled.
        await pipeline.eventProcessor!.stop();
        fixedProcessor = (await eventProcessorService({
            environment: { [EVENT_PROCESSOR_ENV.enabledTypes]: EVENT_TYPE_NAMES.join(",") },
        }).start(pipeline.context)) as RunningEventProcessor;
        // The stopped poller aborted its long poll, but the emulator answers it until its wait time ends;
        // a message redriven before then would go to that dead receive and stay in flight for the
        // queue's visibility timeout (181 s). Let the old receive expire first.
        await new Promise((r) => setTimeout(r, (DEFAULT_RECEIVE_WAIT_SECONDS + 1) * 1000));

        const one = await dlq("redrive", "--reason", "type_disabled", "--limit", "1", "--yes");
        expect(one.code, one.err).to.equal(0);
        expect(one.out).to.match(/events: moved 1 of 1 selected/);
        const rest = await dlq("redrive", "--reason", "type_disabled", "--yes");
        expect(rest.out).to.match(/events: moved 2 of 2 selected/);
        expect(rest.out).to.match(/at most once/);

        const items = await until(
            "the 3 redriven events stored",
            async () => {
                const found = await stored("tenant-pay");
                return found.length === 3 ? found : undefined;
            },
            SETTLE,
        );
        expect(items.map((i) => i.eventId.S).sort()).to.deep.equal(["pay-1", "pay-2", "pay-3"]);
        // The invalid one stays; nothing else came back.
        expect((await groups()).map(({ reason, count }) => ({ reason, count }))).to.deep.equal([{ reason: "invalid_data", count: 1 }]);
        // Exactly once: one INSERT each on the stream, no MODIFY.
        await until("stream deliveries", () => pipeline.sender!.delivered.filter((d) => d.clientId === "tenant-pay").length >= 3, SETTLE);
        // Every redriven message handled (so every write made) and the stream read to its end: a second write would show.
        await drained(pipeline.ready.eventQueueUrl);
        await pipeline.sender!.reader.caughtUp();
        const deliveries = pipeline.sender!.delivered.filter((d) => d.clientId === "tenant-pay");
        expect(deliveries.map((d) => `${d.eventName} ${d.eventId}`).sort()).to.deep.equal(["INSERT pay-1", "INSERT pay-2", "INSERT pay-3"]);

        // Sending one of them again (as a repeated redrive would) changes nothing.
        await pipeline.context.clients.sqs.send(
            new SendMessageCommand({
                QueueUrl: pipeline.ready.eventQueueUrl,
                MessageBody: JSON.stringify(payment(2)),
                MessageGroupId: "tenant-pay",
            }),
        );
        await drained(pipeline.ready.eventQueueUrl);
        await pipeline.sender!.reader.caughtUp();
        expect(await stored("tenant-pay")).to.have.length(3);
        expect(pipeline.sender!.delivered.filter((d) => d.clientId === "tenant-pay")).to.have.length(3);
    });

    it("messages moved by the redrive policy are grouped as retries exhausted and redriven with --retries-exhausted", async () => {
        const sqs = pipeline.context.clients.sqs;
        const dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "scratch-dlq" }))).QueueUrl!;
        const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ["QueueArn"] }))).Attributes!
            .QueueArn!;
        const sourceUrl = (
            await sqs.send(
                new CreateQueueCommand({
                    QueueName: "scratch-source",
                    Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 1 }) },
                }),
            )
        ).QueueUrl!;
        await sqs.send(new SendMessageCommand({ QueueUrl: sourceUrl, MessageBody: "keeps failing" }));
        // Received once and never deleted; the next receive exceeds maxReceiveCount and SQS moves it.
        await sqs.send(new ReceiveMessageCommand({ QueueUrl: sourceUrl, VisibilityTimeout: 0 }));
        await sqs.send(new ReceiveMessageCommand({ QueueUrl: sourceUrl, VisibilityTimeout: 0 }));
        const queues = { system: "events" as const, queueUrl: sourceUrl, deadLetterQueueUrl: dlqUrl, fifo: false, shortPollSeesAll: true };
        const scan = await scanDeadLetters(sqs, queues);
        expect(scan.letters.map((l) => l.reason)).to.deep.equal([RETRIES_EXHAUSTED]);
        await scan.release();

        const byReason = await redriveDeadLetters(sqs, queues, { reason: "type_disabled" }, { execute: true, useMoveTask: false });
        expect(byReason.selected).to.equal(0);
        const result = await redriveDeadLetters(sqs, queues, { retriesExhausted: true }, { execute: true, useMoveTask: false });
        expect(result).to.include({ selected: 1, moved: 1 });
        const back = await sqs.send(new ReceiveMessageCommand({ QueueUrl: sourceUrl, WaitTimeSeconds: 1 }));
        expect(back.Messages?.map((m) => m.Body)).to.deep.equal(["keeps failing"]);
    });

    it("fauxqs does not implement StartMessageMoveTask, so a local whole-DLQ redrive moves one by one (and says so)", async () => {
        const sqs = pipeline.context.clients.sqs;
        let error: Error | undefined;
        await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: String(pipeline.ready.deadLetterQueueArn) })).catch((e) => (error = e));
        expect(error, "if fauxqs gains StartMessageMoveTask, use it locally too").to.be.instanceOf(Error);
        const dry = await dlq("redrive");
        expect(dry.out).to.match(/no StartMessageMoveTask: messages move one by one/);
    });

    it("email DLQ: show never prints recipients, subject or body; redrive by reason delivers the email once", async () => {
        const email = pipeline.services.find((s) => s.name === "email") as RunningEmailService;
        const sqs = pipeline.context.clients.sqs;
        const secret = { to: "private.person@example.org", subject: "Your secret diagnosis", text: "body text that must stay private" };
        const message = {
            version: 1,
            id: "email-redrive-1",
            lane: "t0123456789abcdef-0",
            acceptedAt: new Date().toISOString(),
            content: { from: "shop@example.com", to: [secret.to], cc: [], bcc: [], subject: secret.subject, text: secret.text },
        };
        await sqs.send(
            new SendMessageCommand({
                QueueUrl: String(pipeline.ready.emailDeadLetterQueueUrl),
                MessageBody: JSON.stringify(message),
                MessageGroupId: message.lane,
                MessageDeduplicationId: "email-redrive-1-rejected",
                MessageAttributes: {
                    [EMAIL_DEAD_LETTER_ATTRIBUTES.reason]: { DataType: "String", StringValue: CONTENT_REJECTED },
                    [EMAIL_DEAD_LETTER_ATTRIBUTES.detail]: { DataType: "String", StringValue: "ses:MessageRejected" },
                },
            }),
        );
        const list = JSON.parse((await dlq("list", "--system", "email", "--json")).out);
        expect(list.groups).to.deep.include({ ...list.groups[0], system: "email", reason: CONTENT_REJECTED, count: 1 });
        const scan = await scanDeadLetters(sqs, {
            system: "email",
            queueUrl: String(pipeline.ready.emailQueueUrl),
            deadLetterQueueUrl: String(pipeline.ready.emailDeadLetterQueueUrl),
            fifo: true,
            shortPollSeesAll: true,
        });
        const id = scan.letters[0].messageId;
        await scan.release();
        const shown = await dlq("show", id);
        expect(shown.code).to.equal(0);
        for (const value of Object.values(secret)) expect(shown.out).to.not.include(value);
        const parsed = JSON.parse(shown.out);
        expect(parsed).to.include({ system: "email", reason: CONTENT_REJECTED, detail: "ses:MessageRejected" });
        expect(parsed.body).to.include({ id: "email-redrive-1" });
        expect(parsed.body.content).to.match(/not shown/);

        const moved = await dlq("redrive", "--system", "email", "--reason", CONTENT_REJECTED, "--yes");
        expect(moved.out).to.match(/email: moved 1 of 1 selected/);
        for (const value of Object.values(secret)) expect(moved.out).to.not.include(value);
        await until("the redriven email in the inbox", () => email.sink.messages().some((m) => m.emailId === "email-redrive-1"), SETTLE);
        await dlq("redrive", "--system", "email", "--reason", CONTENT_REJECTED, "--yes");
        // The worker delivers before it deletes: with the queue empty, a second delivery would be in the inbox.
        await drained(String(pipeline.ready.emailQueueUrl));
        expect(email.sink.messages().filter((m) => m.emailId === "email-redrive-1")).to.have.length(1);
    });

    it("send email: posts the request (from a file or -) and prints the API's answer", async () => {
        const email = pipeline.services.find((s) => s.name === "email") as RunningEmailService;
        const request = { from: "shop@example.com", to: ["buyer@example.org"], subject: "Order 7", text: "Thanks" };
        const c = capture();
        const code = await runSend(
            ["email", "-", "--idempotency-key", "order-7"],
            { ...c.io, stdin: async () => JSON.stringify(request) },
            env,
        );
        expect(code, c.err.join("\n")).to.equal(0);
        expect(c.out[0]).to.match(/^HTTP 202/);
        const id = JSON.parse(c.out[0].replace(/^HTTP 202.*\n/, "")).id;
        expect(id).to.be.a("string");
        await until("the email in the inbox", () => email.sink.messages().some((m) => m.emailId === id), SETTLE);

        const invalid = capture();
        const file = path.join(dir, "email.json");
        fs.writeFileSync(file, JSON.stringify({ from: "nope", to: [] }));
        expect(await runSend(["email", file], invalid.io, env)).to.equal(1);
        expect(invalid.err.join("\n")).to.match(/^HTTP 400/);
    });

    it("the npm scripts run the tools; without a local pipeline or --stack they say how to get one", async () => {
        const listed = await run("npm", ["run", "-s", "dlq", "--", "list", "--json"], { cwd: ROOT, env });
        expect(JSON.parse(listed.stdout).groups.map((g: { reason: string }) => g.reason)).to.include("invalid_data");
        const missing = await run("npm", ["run", "-s", "send", "--", "event", "examples/events/order.placed.json"], {
            cwd: ROOT,
            env: { ...env, [LOCAL_PIPELINE_FILE_VARIABLE]: path.join(dir, "absent.json") },
        }).catch((e) => e);
        expect(missing.code).to.equal(2);
        expect(missing.stderr).to.match(/No local pipeline: .*npm run local.*--stack NAME/s);
    });

    describe("--stack NAME (pulumi stack output --json, standard credentials, SigV4)", () => {
        let server: http.Server;
        let captured: { headers: http.IncomingHttpHeaders; body: string; url: string } | undefined;
        let stackEnv: NodeJS.ProcessEnv;
        const saved: Record<string, string | undefined> = {};

        before(async () => {
            server = http.createServer((req, res) => {
                const chunks: Buffer[] = [];
                req.on("data", (c) => chunks.push(c));
                req.on("end", () => {
                    captured = { headers: req.headers, body: Buffer.concat(chunks).toString(), url: req.url ?? "" };
                    res.writeHead(202, { "content-type": "application/json" });
                    res.end(JSON.stringify({ id: "signed-ok" }));
                });
            });
            await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
            const port = (server.address() as { port: number }).port;
            // A stand-in for the Pulumi CLI: the outputs a deployed stack has, pointing at the emulator.
            const onEmulator = (url: string) => url.replace(/^http:\/\/[^/]+/, pipeline.ready.sqsEndpoint);
            const outputs = {
                eventQueueUrl: onEmulator(pipeline.ready.eventQueueUrl),
                eventQueueArn: pipeline.ready.eventQueueArn,
                deadLetterQueueUrl: onEmulator(pipeline.ready.deadLetterQueueUrl),
                deadLetterQueueArn: pipeline.ready.deadLetterQueueArn,
                emailApiUrl: `http://127.0.0.1:${port}/v1/emails`,
            };
            const bin = path.join(dir, "bin");
            fs.mkdirSync(bin);
            fs.writeFileSync(
                path.join(bin, "pulumi"),
                `#!/bin/sh\n[ "$1 $2 $3 $4 $5" = "stack output --json --stack staging" ] || { echo "error: no stack named '$5'" >&2; exit 255; }\ncat <<'JSON'\n${JSON.stringify(outputs)}\nJSON\n`,
                { mode: 0o755 },
            );
            // The SDK's standard variables: the endpoint of the "deployed" SQS and the credential chain's environment source.
            const standard = {
                PATH: `${bin}${path.delimiter}${process.env.PATH}`,
                AWS_REGION: "us-east-1",
                AWS_ENDPOINT_URL_SQS: pipeline.ready.sqsEndpoint,
                AWS_ACCESS_KEY_ID: "AKIDEXAMPLESTACK",
                AWS_SECRET_ACCESS_KEY: "stack-secret-key",
            };
            for (const [key, value] of Object.entries(standard)) {
                saved[key] = process.env[key];
                process.env[key] = value;
            }
            stackEnv = { ...process.env };
        });
        after(async () => {
            for (const [key, value] of Object.entries(saved)) {
                if (value === undefined) delete process.env[key];
                else process.env[key] = value;
            }
            await new Promise<void>((r) => server.close(() => r()));
        });

        it("dlq list --stack reads the stack's outputs and lists its DLQ; an unknown stack is a clear error", async () => {
            const c = capture();
            expect(await runDlq(["list", "--stack", "staging", "--json"], c.io, stackEnv), c.err.join("\n")).to.equal(0);
            const listed = JSON.parse(c.out.join("\n"));
            expect(listed.target).to.equal("staging");
            expect(listed.groups.map((g: { reason: string }) => g.reason)).to.include("invalid_data");
            const unknown = capture();
            expect(await runDlq(["list", "--stack", "nope"], unknown.io, stackEnv)).to.equal(2);
            expect(unknown.err.join("\n")).to.match(/pulumi stack output --json --stack nope` failed: error: no stack named 'nope'/);
        });

        it("send email --stack signs the request with SigV4 (execute-api) from the standard credential chain", async () => {
            const c = capture();
            const request = { from: "shop@example.com", to: ["buyer@example.org"], subject: "Signed", text: "hi" };
            expect(
                await runSend(["email", "-", "--stack", "staging"], { ...c.io, stdin: async () => JSON.stringify(request) }, stackEnv),
            ).to.equal(0);
            expect(c.out.join("\n")).to.match(/HTTP 202[\s\S]*signed-ok/);
            const headers = captured!.headers;
            expect(headers.authorization).to.match(
                /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLESTACK\/\d{8}\/us-east-1\/execute-api\/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=[0-9a-f]{64}$/,
            );
            // Verify the signature independently of the tool: sign the request as received, with the same key and time.
            const verifier = new SignatureV4({
                service: "execute-api",
                region: "us-east-1",
                credentials: { accessKeyId: "AKIDEXAMPLESTACK", secretAccessKey: "stack-secret-key" },
                sha256: Hash.bind(null, "sha256"),
            });
            const amzDate = String(headers["x-amz-date"]);
            const signedNames = /SignedHeaders=([^,]+)/.exec(String(headers.authorization))![1].split(";");
            const signedHeaders: Record<string, string> = {};
            for (const name of signedNames) signedHeaders[name] = String(headers[name]);
            const expected = await verifier.sign(
                {
                    method: "POST",
                    protocol: "http:",
                    hostname: "127.0.0.1",
                    path: captured!.url,
                    query: {},
                    headers: signedHeaders,
                    body: captured!.body,
                },
                {
                    signingDate: new Date(
                        `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13)}`,
                    ),
                },
            );
            expect(headers.authorization).to.equal(expected.headers.authorization);
            expect(JSON.parse(captured!.body)).to.deep.equal(request);
        });
    });
});
