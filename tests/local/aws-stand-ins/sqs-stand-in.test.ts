/**
 * The local SQS stand-in (local/aws-stand-ins/sqs-stand-in.mjs over fauxqs): identities
 * checked like AWS (SigV4, unknown keys refused), SenderId per credential in AWS's form,
 * MessageGroupId kept on standard queues, and fair-queue delivery and metrics
 * ("How Amazon SQS fair queues work", Amazon SQS Developer Guide). No timing: each case
 * builds the in-flight state with receives and checks what the next receive returns.
 */
import { expect } from "chai";
import {
    CreateQueueCommand,
    ReceiveMessageCommand,
    SendMessageBatchCommand,
    SendMessageCommand,
    SQSClient,
    type Message,
} from "@aws-sdk/client-sqs";
import { Emulator, LocalSqsIdentity, startFauxqs } from "../../../local/offline/emulators";

const REGION = "us-east-1";
const ORDERS: LocalSqsIdentity = {
    accessKeyId: "AKIALOCALORDERS00001",
    secretAccessKey: "orders-secret",
    senderId: "AROAORDERS0000000001:orders",
};
const BILLING: LocalSqsIdentity = {
    accessKeyId: "AKIALOCALBILLING0001",
    secretAccessKey: "billing-secret",
    senderId: "AROABILLING000000001:billing",
};

function client(emulator: Emulator, credentials: { accessKeyId: string; secretAccessKey: string }): SQSClient {
    return new SQSClient({ region: REGION, endpoint: emulator.endpoint, credentials, useQueueUrlAsEndpoint: false, maxAttempts: 1 });
}

async function errorName(promise: Promise<unknown>): Promise<string> {
    try {
        await promise;
    } catch (error) {
        return (error as Error).name;
    }
    throw new Error("the request was accepted");
}

describe("local SQS stand-in: identities, SenderId and MessageGroupId", function () {
    this.timeout(60_000);
    let sqsEmulator: Emulator;
    let orders: SQSClient;
    let billing: SQSClient;
    let queueUrl: string;

    before(async () => {
        sqsEmulator = await startFauxqs({ region: REGION, identities: [ORDERS, BILLING] });
        orders = client(sqsEmulator, ORDERS);
        billing = client(sqsEmulator, BILLING);
        queueUrl = (await orders.send(new CreateQueueCommand({ QueueName: "identities" }))).QueueUrl!;
    });
    after(async () => {
        orders?.destroy();
        billing?.destroy();
        await sqsEmulator?.stop();
    });

    async function receiveAll(count: number): Promise<Message[]> {
        const messages: Message[] = [];
        while (messages.length < count) {
            const page = await orders.send(
                new ReceiveMessageCommand({
                    QueueUrl: queueUrl,
                    MaxNumberOfMessages: 10,
                    WaitTimeSeconds: 1,
                    MessageSystemAttributeNames: ["All"],
                }),
            );
            if (!page.Messages?.length) break;
            messages.push(...page.Messages);
        }
        return messages;
    }

    it("refuses an unknown access key (InvalidClientTokenId) and a wrong secret (SignatureDoesNotMatch), as AWS does", async () => {
        const stranger = client(sqsEmulator, { accessKeyId: "AKIAUNKNOWN000000000", secretAccessKey: "x" });
        const forger = client(sqsEmulator, { accessKeyId: ORDERS.accessKeyId, secretAccessKey: "not-the-secret" });
        try {
            expect(await errorName(stranger.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "{}" })))).to.equal(
                "InvalidClientTokenId",
            );
            expect(await errorName(forger.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "{}" })))).to.equal(
                "SignatureDoesNotMatch",
            );
            expect(await receiveAll(1)).to.have.length(0);
        } finally {
            stranger.destroy();
            forger.destroy();
        }
    });

    it("reports each message's SenderId (the sender's role id and session) and keeps MessageGroupId on a standard queue", async () => {
        await orders.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "from orders", MessageGroupId: "acme" }));
        await billing.send(
            new SendMessageBatchCommand({
                QueueUrl: queueUrl,
                Entries: [
                    { Id: "a", MessageBody: "from billing 1", MessageGroupId: "globex" },
                    { Id: "b", MessageBody: "from billing 2" },
                ],
            }),
        );
        const received = await receiveAll(3);
        const byBody = new Map(received.map((message) => [message.Body, message.Attributes ?? {}]));
        expect(byBody.get("from orders")).to.include({ SenderId: ORDERS.senderId, MessageGroupId: "acme" });
        expect(byBody.get("from billing 1")).to.include({ SenderId: BILLING.senderId, MessageGroupId: "globex" });
        expect(byBody.get("from billing 2")).to.include({ SenderId: BILLING.senderId });
        expect(byBody.get("from billing 2")).not.to.have.property("MessageGroupId");
    });

    it("rejects a MessageGroupId SQS would reject (over 128 characters)", async () => {
        expect(
            await errorName(orders.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "x", MessageGroupId: "g".repeat(129) }))),
        ).to.match(/InvalidParameterValue$/);
    });
});

describe("local SQS stand-in: fair queues", function () {
    this.timeout(60_000);
    const credentials = { accessKeyId: "local", secretAccessKey: "local" };

    /** A queue where "flood" has 40 messages in flight and 60 waiting, and three quiet tenants one each, sent after the flood. */
    async function floodedQueue(sqs: SQSClient, name: string): Promise<string> {
        const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: "300" } }))).QueueUrl!;
        const send = (group: string, body: string) => ({ Id: body, MessageBody: body, MessageGroupId: group });
        for (let batch = 0; batch < 10; batch++) {
            await sqs.send(
                new SendMessageBatchCommand({
                    QueueUrl: queueUrl,
                    Entries: Array.from({ length: 10 }, (_, i) => send("flood", `flood-${batch * 10 + i}`)),
                }),
            );
        }
        for (let i = 0; i < 4; i++) await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
        await sqs.send(
            new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: ["acme", "globex", "initech"].map((g) => send(g, `quiet-${g}`)) }),
        );
        return queueUrl;
    }

    async function fairQueueReport(emulator: Emulator, name: string) {
        const reports = (await (await fetch(`${emulator.endpoint}/_stand-in/fair-queues`)).json()) as Array<{
            queue: string;
            noisyGroups: string[];
            metrics: Record<string, number>;
        }>;
        return reports.find((report) => report.queue === name)!;
    }

    it("detects the flooding group as noisy (40 of 40 in flight) and delivers the quiet groups' messages first", async () => {
        const emulator = await startFauxqs({ region: REGION });
        const sqs = client(emulator, credentials);
        try {
            const queueUrl = await floodedQueue(sqs, "fair");
            const report = await fairQueueReport(emulator, "fair");
            expect(report.noisyGroups).to.deep.equal(["flood"]);
            expect(report.metrics).to.deep.include({
                ApproximateNumberOfNoisyGroups: 1,
                ApproximateNumberOfMessagesVisibleInQuietGroups: 3,
                ApproximateNumberOfMessagesNotVisibleInQuietGroups: 0,
                ApproximateNumberOfMessagesDelayedInQuietGroups: 0,
            });
            const next = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
            const bodies = (next.Messages ?? []).map((message) => message.Body);
            expect(bodies.slice(0, 3)).to.deep.equal(["quiet-acme", "quiet-globex", "quiet-initech"]);
            expect(bodies.slice(3).every((body) => body!.startsWith("flood-"))).to.equal(true);
            const after = await fairQueueReport(emulator, "fair");
            expect(after.metrics.ApproximateNumberOfMessagesNotVisibleInQuietGroups).to.equal(3);
        } finally {
            sqs.destroy();
            await emulator.stop();
        }
    });

    it("switches fair delivery at run time only through a JSON PUT (a cross-site form cannot send one without a CORS preflight)", async () => {
        const emulator = await startFauxqs({ region: REGION });
        try {
            const put = (contentType: string, body: string) =>
                fetch(`${emulator.endpoint}/_stand-in/fair-delivery`, { method: "PUT", headers: { "content-type": contentType }, body });
            expect((await put("application/x-www-form-urlencoded", "enabled=false")).status).to.equal(400);
            expect((await put("application/json", '{"enabled":"no"}')).status).to.equal(400);
            expect(await (await put("application/json", '{"enabled":false}')).json()).to.deep.equal({ fairDelivery: false });
        } finally {
            await emulator.stop();
        }
    });

    it("with fair delivery off (the control) the same queue serves the flood's backlog first", async () => {
        const emulator = await startFauxqs({ region: REGION, fairDelivery: false });
        const sqs = client(emulator, credentials);
        try {
            const queueUrl = await floodedQueue(sqs, "unfair");
            expect((await fairQueueReport(emulator, "unfair")).metrics.ApproximateNumberOfNoisyGroups).to.equal(1);
            const next = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
            expect((next.Messages ?? []).map((message) => message.Body)).to.not.include("quiet-acme");
        } finally {
            sqs.destroy();
            await emulator.stop();
        }
    });
});
