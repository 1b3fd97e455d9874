/**
 * Redrive on a stack with producers: a redriven event is judged as the producer that FIRST sent it,
 * through both redrive paths and for both kinds of dead letter, and nothing a producer can put in a
 * message lets it borrow another producer's identity.
 *
 * The processor's letters go to a real (fauxqs) DLQ and the operator tool moves them back to a real
 * source queue; the SenderId of each delivery is set explicitly, because that is what differs between
 * the paths: a reject's DLQ letter was sent by the processor's role, the tool re-sends with the
 * operator's credentials, and AWS does not document which SenderId a StartMessageMoveTask copy carries
 * ("Learn how to configure a dead-letter queue redrive in Amazon SQS" says only that redriven messages
 * get a new message id and enqueue time), so both answers are tested: preserved, and replaced.
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
    CreateQueueCommand,
    DeleteMessageCommand,
    type Message,
    ReceiveMessageCommand,
    SendMessageCommand,
    SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSRecord } from "aws-lambda";
import { EVENT_SENDER_CLAIM_ATTRIBUTES } from "../../../contracts/event-pipeline";
import {
    createBatchProcessor,
    type EventProcessorDeps,
    localSenderClaimKey,
    readSenderClaim,
    type SenderClaimKey,
    verifySenderClaim,
} from "../../../handlers/event-processor";
import { freePort, LOCAL_CREDENTIALS } from "../../../local/offline/emulators";
import { redriveDeadLetters, RETRIES_EXHAUSTED } from "../../../tools/dead-letters";
import type { SystemQueues } from "../../../tools/target";
import { testEventTypes, validEvent } from "../../support/factories/events";
import { type Harness, quietObservability, recordingClients, REGION, startHarness } from "./harness";

const PRODUCER_A = "AROAPRODUCERA000000001";
const PRODUCER_B = "AROAPRODUCERB000000002";
const PROCESSOR_ROLE = "AROAPROCESSORROLE00003";
const OPERATOR = "AIDAOPERATORUSER000004";
const MOVE_TASK_SENDER = "AROASQSMOVETASK0000005";
const PRODUCERS = { [PRODUCER_A]: ["tenant-a"], [PRODUCER_B]: ["tenant-b"] };

/** A claim key that counts its KMS calls (the hot path must make none). */
function countingKey(inner: SenderClaimKey = localSenderClaimKey(randomBytes(32))) {
    const calls = { generate: 0, verify: 0 };
    const key: SenderClaimKey = {
        generate: (message) => (calls.generate++, inner.generate(message)),
        verify: (message, mac) => (calls.verify++, inner.verify(message, mac)),
    };
    return { key, calls };
}

/** What Lambda hands the function for a received message, with the SenderId SQS would report. */
function asRecord(message: Message, senderId: string): SQSRecord {
    const messageAttributes: SQSRecord["messageAttributes"] = {};
    for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
        messageAttributes[name] = { dataType: value.DataType ?? "String", stringValue: value.StringValue };
    }
    const system = (message.Attributes ?? {}) as Record<string, string>;
    return {
        messageId: message.MessageId!,
        receiptHandle: message.ReceiptHandle!,
        body: message.Body ?? "",
        // fauxqs reports no MessageGroupId on standard queues: the copies arrive without one, as Lambda may deliver them.
        attributes: {
            ApproximateReceiveCount: "1",
            SentTimestamp: system.SentTimestamp ?? String(Date.now()),
            SenderId: senderId,
            ApproximateFirstReceiveTimestamp: String(Date.now()),
        },
        messageAttributes,
        md5OfBody: "",
        eventSource: "aws:sqs",
        eventSourceARN: "arn:aws:sqs:eu-west-1:123456789012:events",
        awsRegion: REGION,
    };
}

/** A producer's message as Lambda delivers it: the producer's SenderId, MessageGroupId = clientId unless told otherwise. */
function sent(
    body: ReturnType<typeof validEvent>,
    senderId: string,
    extra: { groupId?: string; attributes?: SQSRecord["messageAttributes"] } = {},
) {
    const record = asRecord({ MessageId: `m-${Math.random()}`, ReceiptHandle: "r", Body: JSON.stringify(body) }, `${senderId}:session`);
    return {
        ...record,
        attributes: { ...record.attributes, MessageGroupId: extra.groupId ?? body.clientId },
        messageAttributes: extra.attributes ?? {},
    };
}

describe("redrive on a stack with producers: an event is judged as the producer that first sent it", function () {
    this.timeout(120_000);
    let h: Harness;
    before(async () => {
        h = await startHarness();
    });
    after(async () => {
        await h?.stop();
    });

    async function stack(overrides: Partial<EventProcessorDeps> = {}) {
        const tableName = await h.createTable();
        const deadLetterQueueUrl = await h.createQueue();
        const { QueueUrl: queueUrl } = await h.sqs.send(
            new CreateQueueCommand({ QueueName: `events-${process.pid}-${Math.random().toString(36).slice(2)}` }),
        );
        const { key, calls } = countingKey();
        const deps: EventProcessorDeps = {
            dynamodb: h.dynamodb,
            sqs: h.sqs,
            tableName,
            deadLetterQueueUrl,
            eventTypes: testEventTypes(),
            producerTenants: PRODUCERS,
            senderClaimKey: key,
            ...quietObservability(),
            ...overrides,
        };
        const queues: SystemQueues = { system: "events", queueUrl: queueUrl!, deadLetterQueueUrl, fifo: false };
        return { tableName, deadLetterQueueUrl, queues, key, calls, deps, processBatch: createBatchProcessor(deps) };
    }

    /** Receives (and deletes) every message of a queue. */
    async function take(queueUrl: string): Promise<Message[]> {
        const messages: Message[] = [];
        for (;;) {
            const { Messages = [] } = await h.sqs.send(
                new ReceiveMessageCommand({
                    QueueUrl: queueUrl,
                    MaxNumberOfMessages: 10,
                    MessageAttributeNames: ["All"],
                    MessageSystemAttributeNames: ["All"],
                }),
            );
            if (Messages.length === 0) return messages;
            for (const message of Messages) {
                messages.push(message);
                await h.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle! }));
            }
        }
    }

    const reasons = (outcomes: readonly { outcome: string; reason?: string }[]) =>
        outcomes.map((o) => (o.outcome === "rejected" || o.outcome === "transient" ? `${o.outcome}:${o.reason}` : o.outcome));
    const firstSenderOf = (message: Message) => message.MessageAttributes?.[EVENT_SENDER_CLAIM_ATTRIBUTES.originalSender]?.StringValue;

    it("a reject's letter names its first sender with a claim that verifies for exactly that sender and body", async () => {
        const s = await stack();
        const bad = validEvent({ clientId: "tenant-a", data: { ...validEvent().data, totalAmount: "59.97" } });
        const { outcomes } = await s.processBatch([sent(bad, PRODUCER_A)]);
        expect(reasons(outcomes)).to.deep.equal(["rejected:invalid_data"]);
        const [letter] = await take(s.deadLetterQueueUrl);
        const claim = readSenderClaim(letter.MessageAttributes)!;
        expect(claim.originalSender).to.equal(PRODUCER_A);
        expect(await verifySenderClaim(s.key, claim, letter.Body!)).to.equal(true);
        expect(await verifySenderClaim(s.key, { ...claim, originalSender: PRODUCER_B }, letter.Body!)).to.equal(false);
        expect(await verifySenderClaim(s.key, claim, letter.Body!.replace("tenant-a", "tenant-b"))).to.equal(false);
    });

    for (const [path, senderOfCopy] of [
        ["StartMessageMoveTask, SenderId preserved (the processor's role)", PROCESSOR_ROLE],
        ["StartMessageMoveTask, SenderId replaced", MOVE_TASK_SENDER],
    ] as const) {
        it(`an invalid_data reject redriven by ${path} comes back as invalid_data, still naming producer A`, async () => {
            const s = await stack();
            const bad = validEvent({ clientId: "tenant-a", data: { ...validEvent().data, totalAmount: "59.97" } });
            await s.processBatch([sent(bad, PRODUCER_A)]);
            // A move task copies the letter with its message attributes (reason and claim included).
            const [letter] = await take(s.deadLetterQueueUrl);
            const { outcomes } = await s.processBatch([asRecord(letter, `${senderOfCopy}:redrive`)]);
            expect(reasons(outcomes)).to.deep.equal(["rejected:invalid_data"]);
            const [again] = await take(s.deadLetterQueueUrl);
            expect(firstSenderOf(again)).to.equal(PRODUCER_A);
            expect(s.calls.verify).to.equal(1);
        });
    }

    it("an invalid_data reject redriven one by one by the tool (operator credentials) comes back as invalid_data, still naming producer A", async () => {
        const s = await stack();
        const bad = validEvent({ clientId: "tenant-a", data: { ...validEvent().data, totalAmount: "59.97" } });
        await s.processBatch([sent(bad, PRODUCER_A)]);
        const result = await redriveDeadLetters(
            h.sqs,
            s.queues,
            { reason: "invalid_data" },
            { execute: true, useMoveTask: false, senderClaimKey: s.key },
        );
        expect(result).to.include({ method: "one-by-one", moved: 1 });
        const [copy] = await take(s.queues.queueUrl);
        const { outcomes } = await s.processBatch([asRecord(copy, `${OPERATOR}`)]);
        expect(reasons(outcomes)).to.deep.equal(["rejected:invalid_data"]);
        expect(firstSenderOf((await take(s.deadLetterQueueUrl))[0])).to.equal(PRODUCER_A);
    });

    it("a type_disabled reject of A, redriven once the type is enabled, is stored once for A, through both paths", async () => {
        const disabled = await stack({ enabledTypes: ["order.placed"] });
        const event = validEvent({ clientId: "tenant-a", type: "payment.captured" });
        expect(reasons((await disabled.processBatch([sent(event, PRODUCER_A)])).outcomes)).to.deep.equal(["rejected:type_disabled"]);
        const [letter] = await take(disabled.deadLetterQueueUrl);
        // The type is enabled: the same table, DLQ and key, a processor with every type.
        const enabled = createBatchProcessor({ ...disabled.deps, enabledTypes: undefined });
        const viaMoveTask = await enabled([asRecord(letter, `${PROCESSOR_ROLE}:redrive`)]);
        const viaTool = await enabled([asRecord(letter, OPERATOR)]);
        expect(reasons([...viaMoveTask.outcomes, ...viaTool.outcomes])).to.deep.equal(["persisted", "duplicate"]);
        const items = await h.scan(disabled.tableName);
        expect(items.map((item) => item.clientId.S)).to.deep.equal(["tenant-a"]);
    });

    describe("a valid event whose retries ran out (SQS moved it, with the producer's SenderId and no claim)", () => {
        /** The letter SQS's redrive policy leaves: A's message as sent, in the DLQ, SenderId A. */
        async function exhausted() {
            const s = await stack();
            const event = validEvent({ clientId: "tenant-a" });
            // DynamoDB unreachable: every receive fails transiently until SQS gives up.
            const down = createBatchProcessor({
                ...s.deps,
                dynamodb: new DynamoDBClient({
                    endpoint: `http://127.0.0.1:${await freePort()}`,
                    region: REGION,
                    credentials: LOCAL_CREDENTIALS,
                    maxAttempts: 1,
                }),
            });
            expect(reasons((await down([sent(event, PRODUCER_A)])).outcomes)).to.deep.equal(["transient:store_unavailable"]);
            await h.sqs.send(new SendMessageCommand({ QueueUrl: s.deadLetterQueueUrl, MessageBody: JSON.stringify(event) }));
            // fauxqs reports one SenderId for everyone; the tool reads the one SQS would report for A's own message.
            const sqs = {
                send: async (command: Parameters<SQSClient["send"]>[0]) => {
                    const answer = (await h.sqs.send(command as never)) as { Messages?: Message[] };
                    if (command instanceof ReceiveMessageCommand && command.input.QueueUrl === s.deadLetterQueueUrl) {
                        for (const message of answer.Messages ?? [])
                            message.Attributes = { ...message.Attributes, SenderId: `${PRODUCER_A}:session` };
                    }
                    return answer;
                },
            } as unknown as SQSClient;
            return { ...s, event, sqs };
        }

        it("the tool signs it for its own SenderId: redriven by the operator, it is stored once for A", async () => {
            const s = await exhausted();
            const result = await redriveDeadLetters(
                s.sqs,
                s.queues,
                { retriesExhausted: true },
                { execute: true, useMoveTask: false, senderClaimKey: s.key },
            );
            expect(result).to.include({ moved: 1, selected: 1 });
            const [copy] = await take(s.queues.queueUrl);
            expect(firstSenderOf(copy)).to.equal(PRODUCER_A);
            const first = await s.processBatch([asRecord(copy, OPERATOR)]);
            const again = await s.processBatch([asRecord(copy, OPERATOR)]);
            expect(reasons([...first.outcomes, ...again.outcomes])).to.deep.equal(["persisted", "duplicate"]);
            expect(await h.scan(s.tableName)).to.have.length(1);
        });

        it("with no claim key (a stack without producers' key), the tool leaves it unsigned and it fails closed as the operator", async () => {
            const s = await exhausted();
            await redriveDeadLetters(s.sqs, s.queues, { retriesExhausted: true }, { execute: true, useMoveTask: false });
            const [copy] = await take(s.queues.queueUrl);
            expect(firstSenderOf(copy)).to.equal(undefined);
            expect(reasons((await s.processBatch([asRecord(copy, OPERATOR)])).outcomes)).to.deep.equal(["rejected:sender_not_allowed"]);
        });

        it("a move task copy: stored for A when SQS keeps A's SenderId; when it does not, rejected as sender_not_allowed, never stored as anyone", async () => {
            const s = await exhausted();
            const [letter] = await take(s.deadLetterQueueUrl);
            expect(letter.MessageAttributes ?? {}).to.not.have.property(EVENT_SENDER_CLAIM_ATTRIBUTES.senderClaim);
            expect(reasons((await s.processBatch([asRecord(letter, `${MOVE_TASK_SENDER}:redrive`)])).outcomes)).to.deep.equal([
                "rejected:sender_not_allowed",
            ]);
            expect(await h.scan(s.tableName)).to.deep.equal([]);
            expect(reasons((await s.processBatch([asRecord(letter, `${PRODUCER_A}:session`)])).outcomes)).to.deep.equal(["persisted"]);
        });

        it(`is told apart from rejects as ${JSON.stringify(RETRIES_EXHAUSTED)} (no reason attribute)`, async () => {
            const s = await exhausted();
            const result = await redriveDeadLetters(
                s.sqs,
                s.queues,
                { reason: "invalid_data" },
                { execute: false, useMoveTask: false, senderClaimKey: s.key },
            );
            expect(result).to.include({ selected: 0, examined: 1 });
        });
    });

    describe("nothing a producer puts in a message borrows another producer's identity", () => {
        it("producer B copying A's valid claim onto A's own body is still judged as B, and costs no KMS call", async () => {
            const s = await stack();
            const body = validEvent({ clientId: "tenant-a", data: { ...validEvent().data, totalAmount: "59.97" } });
            await s.processBatch([sent(body, PRODUCER_A)]);
            const [letter] = await take(s.deadLetterQueueUrl);
            const stolen = asRecord(letter, "x").messageAttributes;
            const verifiesBefore = s.calls.verify;
            const fixed = { ...body, data: validEvent().data };
            const { outcomes } = await s.processBatch([
                sent(body, PRODUCER_B, { attributes: stolen }),
                sent(fixed, PRODUCER_B, { attributes: stolen }),
            ]);
            expect(reasons(outcomes)).to.deep.equal(["rejected:sender_not_allowed", "rejected:sender_not_allowed"]);
            expect(s.calls.verify).to.equal(verifiesBefore);
            const letters = await take(s.deadLetterQueueUrl);
            expect(letters.map(firstSenderOf)).to.deep.equal([PRODUCER_B, PRODUCER_B]);
        });

        it("a claim moved to another body, or edited to name another sender, does not verify: judged by the sender SQS reports", async () => {
            const s = await stack();
            const body = validEvent({ clientId: "tenant-a", data: { ...validEvent().data, totalAmount: "59.97" } });
            await s.processBatch([sent(body, PRODUCER_A)]);
            const [letter] = await take(s.deadLetterQueueUrl);
            const claim = asRecord(letter, "x").messageAttributes;
            const otherBody = validEvent({ clientId: "tenant-a" });
            const renamed = {
                ...claim,
                [EVENT_SENDER_CLAIM_ATTRIBUTES.originalSender]: { dataType: "String", stringValue: PRODUCER_B },
            };
            const { outcomes } = await s.processBatch([
                sent(otherBody, OPERATOR, { attributes: claim }),
                sent(validEvent({ clientId: "tenant-b", data: body.data }), OPERATOR, { attributes: renamed }),
            ]);
            expect(reasons(outcomes)).to.deep.equal(["rejected:sender_not_allowed", "rejected:sender_not_allowed"]);
            expect(outcomes.map((o) => (o.outcome === "rejected" ? o.detail : ""))).to.satisfy((details: string[]) =>
                details.every((detail) => detail.includes("its sender claim did not verify")),
            );
            expect(await h.scan(s.tableName)).to.deep.equal([]);
        });

        it("a MessageGroupId cannot borrow either: a group that is present and differs from clientId is message_group_mismatch", async () => {
            const s = await stack();
            const { outcomes } = await s.processBatch([sent(validEvent({ clientId: "tenant-a" }), PRODUCER_A, { groupId: "tenant-b" })]);
            expect(reasons(outcomes)).to.deep.equal(["rejected:message_group_mismatch"]);
        });
    });

    it("when KMS cannot sign or verify now, the message is retried (sender_claim_unavailable), never sent unsigned or dropped", async () => {
        const failing: SenderClaimKey = {
            generate: async () => {
                throw Object.assign(new Error("throttled"), { name: "ThrottlingException" });
            },
            verify: async () => {
                throw Object.assign(new Error("throttled"), { name: "ThrottlingException" });
            },
        };
        const clients = recordingClients();
        const processBatch = createBatchProcessor({
            dynamodb: clients.dynamodb,
            sqs: clients.sqs,
            tableName: "events",
            deadLetterQueueUrl: "https://sqs.eu-west-1.amazonaws.com/1/dlq",
            eventTypes: testEventTypes(),
            producerTenants: PRODUCERS,
            senderClaimKey: failing,
            ...quietObservability(),
        });
        const redriven = sent(validEvent({ clientId: "tenant-a" }), OPERATOR, {
            attributes: {
                [EVENT_SENDER_CLAIM_ATTRIBUTES.originalSender]: { dataType: "String", stringValue: PRODUCER_A },
                [EVENT_SENDER_CLAIM_ATTRIBUTES.senderClaim]: {
                    dataType: "String",
                    stringValue: `v1:${Buffer.alloc(32).toString("base64")}`,
                },
            },
        });
        const { outcomes, response } = await processBatch([sent(validEvent({ clientId: "tenant-b" }), PRODUCER_A), redriven]);
        expect(reasons(outcomes)).to.deep.equal(["transient:sender_claim_unavailable", "transient:sender_claim_unavailable"]);
        expect(outcomes[0]).to.include({ rejectionReason: "sender_not_allowed" });
        expect(response.batchItemFailures).to.have.length(2);
        expect(clients.letters).to.deep.equal([]);
        expect(clients.puts).to.deep.equal([]);
    });
});
