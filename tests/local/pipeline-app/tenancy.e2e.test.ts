/**
 * Tenancy end to end on the local pipeline, with `producers` in the stack config: each
 * producer has its own local credentials, the local SQS reports its role's SenderId
 * (SQS API Reference, "ReceiveMessage": for an IAM role, `<role id>:<session>`) and keeps
 * MessageGroupId on the standard queue (as fair queues do), and the processor stores a
 * producer's own tenants and dead-letters the others' as sender_not_allowed, whether the
 * event comes from the AWS SDK or the AWS CLI. Unknown credentials are refused the way
 * AWS refuses them, so nothing here can pass by accident. Redrive with `npm run dlq` keeps
 * a producer's identity: a rejected event comes back with its own reason, and a valid one
 * SQS moved after maxReceiveCount (DynamoDB down) is stored once when redriven.
 *
 * Overrides that only make redelivery fast (as in fault-injection.test.ts): a 1 s processor
 * timeout (visibility 6 s), no batching window, batches of 10, maxReceiveCount 2.
 */
import { expect } from "chai";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { SendMessageCommand, SetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { execFile, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { EVENT_DEAD_LETTER_ATTRIBUTES } from "../../../contracts/event-pipeline";
import { deadLetters, inspectQueue, type PeekedDeadLetter } from "../../../local/pipeline-app/accounting";
import { LocalPipeline, startLocalPipeline } from "../../../local/pipeline-app/pipeline";
import { startConsole } from "../../../local/pipeline-app/console/server";
import { RETRIES_EXHAUSTED } from "../../../tools/dead-letters";
import { runDlq } from "../../../tools/dlq";
import { LOCAL_PIPELINE_FILE_VARIABLE } from "../../../tools/target";
import { until } from "../../support/until";

const run = promisify(execFile);

const PRODUCERS = {
    orders: { tenants: ["acme", "globex"], principals: ["111122223333"] },
    billing: { tenants: ["initech"], principals: ["444455556666"] },
};
const FAST_REDELIVERY = {
    "event-ingestion:processorTimeoutSeconds": 1,
    "event-ingestion:maxBatchingWindowSeconds": 0,
    "event-ingestion:batchSize": 10,
    "event-ingestion:maxReceiveCount": 2,
};
/** The pipeline runs in this process on a shared 2-core machine: allow it time to settle. */
const SETTLE = { timeoutMs: 60_000, intervalMs: 300 };

/** The AWS CLI v1 (pip) speaks SQS's JSON protocol, which fauxqs needs. */
function awsCliV1(): string | undefined {
    const result = spawnSync("aws", ["--version"], { encoding: "utf8" });
    if (result.error || result.status !== 0) return undefined;
    const version = `${result.stdout}${result.stderr}`.trim();
    return /^aws-cli\/1\./.test(version) ? version : undefined;
}

function event(clientId: string, eventId: string): string {
    return JSON.stringify({
        clientId,
        eventId,
        type: "user.signed_up",
        occurredAt: "2026-11-21T10:00:00Z",
        data: { userId: `usr-${eventId}`, plan: "free", signupChannel: "api", marketingOptIn: false },
    });
}

describe("tenancy end to end on the local pipeline (stack localstack with producers)", function () {
    this.timeout(240_000);
    let pipeline: LocalPipeline;
    let dir: string;
    let toolEnv: NodeJS.ProcessEnv;
    const clients: SQSClient[] = [];

    before(async () => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "tenancy-e2e-"));
        fs.mkdirSync(path.join(dir, "dynamodb"));
        pipeline = await startLocalPipeline({
            stack: "localstack",
            configOverrides: { "event-ingestion:producers": PRODUCERS, ...FAST_REDELIVERY },
            dynamodbDataDir: path.join(dir, "dynamodb"),
            functionLogs: () => undefined,
        });
        // What `npm run local` writes for the tools (.local/pipeline.json).
        const readyFile = path.join(dir, "pipeline.json");
        fs.writeFileSync(readyFile, JSON.stringify(pipeline.ready));
        toolEnv = { ...process.env, [LOCAL_PIPELINE_FILE_VARIABLE]: readyFile };
    });
    after(async () => {
        clients.forEach((client) => client.destroy());
        await pipeline?.stop();
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    async function dlq(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
        const out: string[] = [];
        const err: string[] = [];
        const io = { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t), stdin: async () => "" };
        const code = await runDlq(argv, io, toolEnv);
        return { code, out: out.join("\n"), err: err.join("\n") };
    }

    /** The DLQ's letters for one event, with their DLQ message ids, seen without receiving them. */
    async function lettersFor(clientId: string, eventId: string): Promise<Array<{ messageId: string; reason?: string }>> {
        const { ready, inflight, delayed } = await inspectQueue(
            pipeline.ready.sqsEndpoint,
            pipeline.ready.deadLetterQueueUrl.split("/").pop()!,
        );
        type Letter = { messageId: string; body: string; messageAttributes?: Record<string, { StringValue?: string }> };
        return ([...ready, ...inflight, ...delayed] as Letter[])
            .filter((message) => {
                try {
                    const body = JSON.parse(message.body) as { clientId?: string; eventId?: string };
                    return body.clientId === clientId && body.eventId === eventId;
                } catch {
                    return false;
                }
            })
            .map((message) => ({
                messageId: message.messageId,
                reason: message.messageAttributes?.[EVENT_DEAD_LETTER_ATTRIBUTES.reason]?.StringValue,
            }));
    }

    function sqsAs(credentials: { accessKeyId: string; secretAccessKey: string }): SQSClient {
        const client = new SQSClient({
            region: pipeline.ready.region,
            endpoint: pipeline.ready.sqsEndpoint,
            credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
            maxAttempts: 1,
        });
        clients.push(client);
        return client;
    }

    const stored = (clientId: string, eventId: string) =>
        until(
            `${clientId}/${eventId} to be stored`,
            async () => {
                const got = await pipeline.context.clients.dynamodb.send(
                    new GetItemCommand({
                        TableName: pipeline.ready.eventTableName,
                        Key: { clientId: { S: clientId }, eventId: { S: eventId } },
                    }),
                );
                return got.Item;
            },
            SETTLE,
        );
    const deadLettered = (clientId: string, eventId: string) =>
        until<PeekedDeadLetter>(
            `${clientId}/${eventId} in the DLQ`,
            async () =>
                (await deadLetters(pipeline.ready.sqsEndpoint, pipeline.ready.deadLetterQueueUrl.split("/").pop()!)).find((letter) => {
                    const body = JSON.parse(letter.body) as { clientId?: string; eventId?: string };
                    return body.clientId === clientId && body.eventId === eventId;
                }),
            SETTLE,
        );

    it("lists each producer's local credentials and tenants in the READY JSON", () => {
        const { producers } = pipeline.ready;
        expect(Object.keys(producers).sort()).to.deep.equal(["billing", "orders"]);
        expect(producers.orders.tenants).to.deep.equal(["acme", "globex"]);
        expect(producers.billing.tenants).to.deep.equal(["initech"]);
        for (const producer of Object.values(producers)) {
            expect(producer.accessKeyId).to.match(/^ASIA[A-Z2-7]{16}$/);
            expect(producer.secretAccessKey).to.have.length(40);
        }
        expect(producers.orders.accessKeyId).to.not.equal(producers.billing.accessKeyId);
    });

    it("through the AWS SDK: orders' own tenant is stored, billing's tenant sent by orders is dead-lettered as sender_not_allowed", async () => {
        const orders = sqsAs(pipeline.ready.producers.orders);
        const send = (clientId: string, eventId: string) =>
            orders.send(
                new SendMessageCommand({
                    QueueUrl: pipeline.ready.eventQueueUrl,
                    MessageBody: event(clientId, eventId),
                    MessageGroupId: clientId,
                }),
            );
        await send("acme", "sdk-own");
        await send("initech", "sdk-foreign");
        expect((await stored("acme", "sdk-own")).type.S).to.equal("user.signed_up");
        expect((await deadLettered("initech", "sdk-foreign")).reason).to.equal("sender_not_allowed");
    });

    it("refuses unknown credentials as AWS does (InvalidClientTokenId), so no event enters the queue with them", async () => {
        const stranger = sqsAs({ accessKeyId: "ASIAUNKNOWNUNKNOWN00", secretAccessKey: "x".repeat(40) });
        const error = await stranger
            .send(
                new SendMessageCommand({
                    QueueUrl: pipeline.ready.eventQueueUrl,
                    MessageBody: event("acme", "stranger"),
                    MessageGroupId: "acme",
                }),
            )
            .then(
                () => undefined,
                (e: Error) => e,
            );
        expect(error?.name).to.equal("InvalidClientTokenId");
    });

    const cli = awsCliV1();
    (cli ? it : it.skip)(
        `through the AWS CLI: billing's own tenant is stored, orders' tenant sent by billing is dead-lettered; an unknown key is refused (${cli ?? "skipped: no AWS CLI v1 on the PATH"})`,
        async () => {
            const asBilling = {
                ...process.env,
                ...pipeline.ready.environment,
                AWS_ACCESS_KEY_ID: pipeline.ready.producers.billing.accessKeyId,
                AWS_SECRET_ACCESS_KEY: pipeline.ready.producers.billing.secretAccessKey,
                AWS_PAGER: "",
            };
            const sendCli = (env: NodeJS.ProcessEnv, clientId: string, eventId: string) =>
                run(
                    "aws",
                    [
                        "sqs",
                        "send-message",
                        "--endpoint-url",
                        pipeline.ready.sqsEndpoint,
                        "--queue-url",
                        pipeline.ready.eventQueueUrl,
                        "--message-body",
                        event(clientId, eventId),
                        "--message-group-id",
                        clientId,
                        "--output",
                        "json",
                    ],
                    { env },
                );
            expect(JSON.parse((await sendCli(asBilling, "initech", "cli-own")).stdout).MessageId).to.be.a("string");
            expect(JSON.parse((await sendCli(asBilling, "globex", "cli-foreign")).stdout).MessageId).to.be.a("string");
            expect((await stored("initech", "cli-own")).type.S).to.equal("user.signed_up");
            expect((await deadLettered("globex", "cli-foreign")).reason).to.equal("sender_not_allowed");

            const refused = await sendCli({ ...asBilling, AWS_ACCESS_KEY_ID: "ASIAUNKNOWNUNKNOWN00" }, "initech", "cli-stranger").then(
                () => undefined,
                (e: Error & { stderr?: string }) => e,
            );
            expect(refused?.stderr).to.match(/InvalidClientTokenId/);
        },
    );

    it("redrive keeps the producer's identity: an invalid_data reject comes back to the DLQ as invalid_data, not sender_not_allowed", async () => {
        const orders = sqsAs(pipeline.ready.producers.orders);
        const invalid = JSON.stringify({
            ...JSON.parse(event("acme", "redrive-invalid")),
            type: "order.placed",
            data: { orderId: "o-1", customerId: "c-1", currency: "euro", totalAmount: -5, lines: [] },
        });
        await orders.send(new SendMessageCommand({ QueueUrl: pipeline.ready.eventQueueUrl, MessageBody: invalid, MessageGroupId: "acme" }));
        expect((await deadLettered("acme", "redrive-invalid")).reason).to.equal("invalid_data");
        const [original] = await lettersFor("acme", "redrive-invalid");

        const moved = await dlq("redrive", "--reason", "invalid_data", "--yes");
        expect(moved.code, moved.err).to.equal(0);
        // The copy was judged again as orders' event (so it failed validation again), and the original is gone.
        const back = await until(
            "the redriven copy to come back to the DLQ",
            async () => {
                const letters = await lettersFor("acme", "redrive-invalid");
                return letters.length === 1 && letters[0].messageId !== original.messageId ? letters[0] : undefined;
            },
            SETTLE,
        );
        expect(back.reason).to.equal("invalid_data");
    });

    it("redrive after a transient failure: valid events SQS moved after maxReceiveCount (DynamoDB down) are stored once, by the tool and by the console", async () => {
        const orders = sqsAs(pipeline.ready.producers.orders);
        const ids = ["redrive-valid", "redrive-console"];
        const visibility = (seconds: number) =>
            pipeline.context.clients.sqs.send(
                new SetQueueAttributesCommand({
                    QueueUrl: pipeline.ready.eventQueueUrl,
                    Attributes: { VisibilityTimeout: String(seconds) },
                }),
            );
        const { visibilityTimeoutSeconds } = pipeline.ready.eventSource as { visibilityTimeoutSeconds: number };
        await pipeline.killDynamoDb("SIGKILL");
        // With the store down every receive fails, and what the test waits for is SQS counting receives up to
        // maxReceiveCount: a 1 s visibility timeout (instead of 6 s) while it is down only makes the receives come sooner.
        await visibility(1);
        try {
            for (const eventId of ids) {
                await orders.send(
                    new SendMessageCommand({
                        QueueUrl: pipeline.ready.eventQueueUrl,
                        MessageBody: event("globex", eventId),
                        MessageGroupId: "globex",
                    }),
                );
            }
            // Received, failed (no store), visible again: maxReceiveCount 2, so the third receive moves each (no reason attribute).
            const letters = await until(
                "SQS to move both events to the DLQ",
                async () => {
                    const found = (await Promise.all(ids.map((id) => lettersFor("globex", id)))).flat();
                    return found.length === ids.length ? found : undefined;
                },
                { timeoutMs: 90_000, intervalMs: 500 },
            );
            expect(letters.map((letter) => letter.reason)).to.deep.equal([undefined, undefined]);
        } finally {
            await visibility(visibilityTimeoutSeconds);
            await pipeline.restartDynamoDb();
        }
        // One with `npm run dlq`, the other from the console's Redrive button (same move, same claim key).
        const moved = await dlq("redrive", "--retries-exhausted", "--limit", "1", "--yes");
        expect(moved.code, moved.err).to.equal(0);
        const localConsole = await startConsole(pipeline);
        try {
            const origin = localConsole.url.replace(/\/$/, "");
            const response = await fetch(`${origin}/redrive`, {
                method: "POST",
                headers: { "content-type": "application/x-www-form-urlencoded", origin },
                body: new URLSearchParams({ system: "events", reason: RETRIES_EXHAUSTED }).toString(),
                redirect: "manual",
            });
            expect(response.status).to.equal(303);
            expect(decodeURIComponent(response.headers.get("location") ?? "")).to.match(/Redrove 1 of 1 events message/);
        } finally {
            await localConsole.stop();
        }
        for (const eventId of ids) {
            expect((await stored("globex", eventId)).type.S).to.equal("user.signed_up");
            await until(
                `the stream to deliver ${eventId}`,
                () => pipeline.sender!.delivered.some((d) => d.clientId === "globex" && d.eventId === eventId),
                SETTLE,
            );
            // Stored once: one INSERT on the stream, never a MODIFY, and nothing left in the DLQ for it.
            const deliveries = pipeline.sender!.delivered.filter((d) => d.clientId === "globex" && d.eventId === eventId);
            expect(deliveries.map((d) => d.eventName)).to.deep.equal(["INSERT"]);
            expect(await lettersFor("globex", eventId)).to.deep.equal([]);
        }
    });
});
