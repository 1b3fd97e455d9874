/**
 * The operator tools' pure parts: classification and grouping of DLQ messages, the copy a
 * redrive sends back, what `show` prints for an email, argument errors, the local target file,
 * and the console's MIME reading.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { EMAIL_DEAD_LETTER_ATTRIBUTES as EMAIL_ATTRIBUTES } from "../../contracts/email-service";
import { EVENT_DEAD_LETTER_ATTRIBUTES as EVENT_ATTRIBUTES } from "../../contracts/event-pipeline";
import { emailBodies } from "../../local/pipeline-app/console/mime";
import type { SQSClient } from "@aws-sdk/client-sqs";
import {
    classify,
    DeadLetter,
    describeLetter,
    groupDeadLetters,
    reasonKey,
    REJECTION_REASON_CODES,
    redriveDeadLetters,
    redriveRequest,
    RETRIES_EXHAUSTED,
    scanDeadLetters,
    selects,
} from "../../tools/dead-letters";
import { runDlq } from "../../tools/dlq";
import {
    localSenderClaimKey,
    readSenderClaim,
    senderClaimAttributes,
    signSenderClaim,
    verifySenderClaim,
} from "../../handlers/event-processor/sender-claim";
import { regionOfApiUrl, runSend } from "../../tools/send";
import { localSystems, localTarget, regionOfQueueUrl, TargetError } from "../../tools/target";

function letter(overrides: Partial<DeadLetter> = {}): DeadLetter {
    return {
        system: "events",
        messageId: "m-1",
        receiptHandle: "r-1",
        reason: "type_disabled",
        body: JSON.stringify({ clientId: "acme", eventId: "e1" }),
        messageAttributes: {},
        systemAttributes: {},
        ...overrides,
    };
}

function capture() {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t), stdin: async () => "" } };
}

describe("operator tools: DLQ classification, grouping and redrive copies", () => {
    it("classifies by the writers' own reason attribute, else as retries exhausted (with SQS's DeadLetterQueueSourceArn)", () => {
        const rejected = classify("events", {
            MessageAttributes: {
                [EVENT_ATTRIBUTES.reason]: { DataType: "String", StringValue: "invalid_data" },
                [EVENT_ATTRIBUTES.detail]: { DataType: "String", StringValue: "data.x: expected" },
            },
        });
        expect(rejected).to.deep.equal({ reason: "invalid_data", detail: "data.x: expected" });
        const email = classify("email", {
            MessageAttributes: { [EMAIL_ATTRIBUTES.reason]: { DataType: "String", StringValue: "content-rejected" } },
        });
        expect(email.reason).to.equal("content-rejected");
        // Amazon SQS API Reference, ReceiveMessage: DeadLetterQueueSourceArn is set on messages SQS moved to a DLQ.
        const exhausted = classify("events", { Attributes: { DeadLetterQueueSourceArn: "arn:aws:sqs:eu-west-1:123456789012:events" } });
        expect(exhausted).to.deep.equal({ reason: RETRIES_EXHAUSTED, sourceArn: "arn:aws:sqs:eu-west-1:123456789012:events" });
        expect(classify("events", {}).reason).to.equal(RETRIES_EXHAUSTED);
    });

    it("groups by system and reason with count, oldest age and the oldest message as sample", () => {
        const now = 1_000_000;
        const groups = groupDeadLetters(
            [
                letter({ messageId: "a", sentAt: now - 10_000 }),
                letter({ messageId: "b", sentAt: now - 50_000 }),
                letter({ messageId: "c", reason: RETRIES_EXHAUSTED, sentAt: now - 5_000 }),
                letter({ messageId: "d", system: "email", reason: "invalid-recipient", sentAt: now - 1_000 }),
            ],
            now,
        );
        expect(groups).to.deep.equal([
            { system: "email", reason: "invalid-recipient", count: 1, oldestAgeSeconds: 1, sampleId: "d" },
            { system: "events", reason: "type_disabled", count: 2, oldestAgeSeconds: 50, sampleId: "b" },
            { system: "events", reason: RETRIES_EXHAUSTED, count: 1, oldestAgeSeconds: 5, sampleId: "c" },
        ]);
    });

    it("the copy sent back keeps body, group and producer attributes, drops the rejection attributes", () => {
        const queues = {
            system: "events" as const,
            queueUrl: "https://sqs.eu-west-1.amazonaws.com/1/events",
            deadLetterQueueUrl: "x",
            fifo: false,
        };
        const copy = redriveRequest(
            queues,
            letter({
                messageAttributes: {
                    [EVENT_ATTRIBUTES.reason]: { DataType: "String", StringValue: "type_disabled" },
                    [EVENT_ATTRIBUTES.detail]: { DataType: "String", StringValue: "d" },
                    [EVENT_ATTRIBUTES.sourceMessageId]: { DataType: "String", StringValue: "s" },
                    traceparent: { DataType: "String", StringValue: "00-abc" },
                },
            }),
        );
        expect(copy).to.deep.equal({
            QueueUrl: queues.queueUrl,
            MessageBody: JSON.stringify({ clientId: "acme", eventId: "e1" }),
            MessageAttributes: { traceparent: { DataType: "String", StringValue: "00-abc" } },
            // No MessageGroupId reported: the event's clientId, as producers send it (fair queues).
            MessageGroupId: "acme",
        });
        const fifo = { system: "email" as const, queueUrl: "q.fifo", deadLetterQueueUrl: "d.fifo", fifo: true };
        expect(redriveRequest(fifo, letter({ system: "email", messageId: "m-9", groupId: "t1-0" }))).to.include({
            MessageGroupId: "t1-0",
            MessageDeduplicationId: "redrive-m-9",
        });
    });

    it("a whole deployed DLQ goes back with one StartMessageMoveTask to the system's queue; a dry run starts nothing", async () => {
        // Recorded calls of a stand-in SQS client (AWS itself cannot be reached from here).
        const calls: Array<{ name: string; input: Record<string, unknown> }> = [];
        const sqs = {
            send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
                calls.push({ name: command.constructor.name, input: command.input });
                if (command.constructor.name === "GetQueueAttributesCommand")
                    return { Attributes: { ApproximateNumberOfMessages: "7", QueueArn: "arn:dlq" } };
                if (command.constructor.name === "StartMessageMoveTaskCommand") return { TaskHandle: "task-1" };
                throw new Error(`unexpected ${command.constructor.name}`);
            },
        } as unknown as SQSClient;
        const queues = {
            system: "events" as const,
            queueUrl: "u",
            queueArn: "arn:events",
            deadLetterQueueUrl: "d",
            deadLetterQueueArn: "arn:events-dlq",
            fifo: false,
        };
        const dry = await redriveDeadLetters(sqs, queues, {}, { execute: false, useMoveTask: true });
        expect(dry).to.include({ method: "move-task", selected: 7, moved: 0, dryRun: true });
        expect(calls.map((c) => c.name)).to.deep.equal(["GetQueueAttributesCommand"]);
        const moved = await redriveDeadLetters(sqs, queues, {}, { execute: true, useMoveTask: true });
        expect(moved).to.include({ method: "move-task", moved: 7, taskHandle: "task-1" });
        // Amazon SQS API Reference, StartMessageMoveTask: without DestinationArn messages go to their SQS-recorded
        // source, which rejected messages (sent by our code) do not have; so the system's queue is named.
        expect(calls.find((c) => c.name === "StartMessageMoveTaskCommand")!.input).to.deep.equal({
            SourceArn: "arn:events-dlq",
            DestinationArn: "arn:events",
        });
    });

    it("a scan of a deployed DLQ stops after a short and a long empty poll; of the local pipeline's (fauxqs), after one short one", async () => {
        // A stand-in SQS client: one message on the first receive, then none.
        const receives: Array<number | undefined> = [];
        const sqs = {
            send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
                if (command.constructor.name === "GetQueueAttributesCommand") return { Attributes: { ApproximateNumberOfMessages: "1" } };
                if (command.constructor.name === "ChangeMessageVisibilityBatchCommand") return {};
                if (command.constructor.name !== "ReceiveMessageCommand") throw new Error(`unexpected ${command.constructor.name}`);
                receives.push(command.input.WaitTimeSeconds as number | undefined);
                return receives.length === 1 ? { Messages: [{ MessageId: "m-1", ReceiptHandle: "r-1", Body: "{}" }] } : {};
            },
        } as unknown as SQSClient;
        const queues = { system: "events" as const, queueUrl: "u", deadLetterQueueUrl: "d", fifo: false };
        const deployed = await scanDeadLetters(sqs, queues);
        expect(deployed.letters.map((l) => l.messageId)).to.deep.equal(["m-1"]);
        expect(receives).to.deep.equal([0, 0, 1]);
        receives.length = 0;
        const local = await scanDeadLetters(sqs, localSystems({ eventQueueUrl: "u", deadLetterQueueUrl: "d" }).events!);
        expect(local.letters.map((l) => l.messageId)).to.deep.equal(["m-1"]);
        expect(receives).to.deep.equal([0, 0]);
    });

    it("with a sender-claim key (producers), a whole DLQ uses the move task only when every letter is signed; else one by one, signing what SQS moved", async () => {
        const key = localSenderClaimKey(Buffer.alloc(32, 7));
        const body = JSON.stringify({ clientId: "acme", eventId: "e1" });
        const signed = senderClaimAttributes(await signSenderClaim(key, "AROAPRODUCERA000000001", body));
        const stand = (messages: Array<Record<string, unknown>>) => {
            const calls: Array<{ name: string; input: Record<string, any> }> = [];
            let handedOut = false;
            const sqs = {
                send: async (command: { constructor: { name: string }; input: Record<string, any> }) => {
                    calls.push({ name: command.constructor.name, input: command.input });
                    switch (command.constructor.name) {
                        case "GetQueueAttributesCommand":
                            return {
                                Attributes: {
                                    ApproximateNumberOfMessages: String(messages.length),
                                    ApproximateNumberOfMessagesNotVisible: "0",
                                },
                            };
                        case "ReceiveMessageCommand":
                            if (handedOut) return { Messages: [] };
                            handedOut = true;
                            return { Messages: messages };
                        case "StartMessageMoveTaskCommand":
                            return { TaskHandle: "task-1" };
                        default:
                            return {};
                    }
                },
            } as unknown as SQSClient;
            return { sqs, calls };
        };
        const queues = {
            system: "events" as const,
            queueUrl: "u",
            queueArn: "arn:events",
            deadLetterQueueUrl: "d",
            deadLetterQueueArn: "arn:dlq",
            fifo: false,
        };
        const reject = {
            MessageId: "r1",
            ReceiptHandle: "h1",
            Body: body,
            MessageAttributes: { ...signed, rejectionReason: { DataType: "String", StringValue: "invalid_data" } },
        };
        const exhausted = { MessageId: "x1", ReceiptHandle: "h2", Body: body, Attributes: { SenderId: "AROAPRODUCERA000000001:session" } };

        const allSigned = stand([reject]);
        expect(await redriveDeadLetters(allSigned.sqs, queues, {}, { execute: true, useMoveTask: true, senderClaimKey: key })).to.include({
            method: "move-task",
            taskHandle: "task-1",
        });

        const mixed = stand([reject, exhausted]);
        const result = await redriveDeadLetters(mixed.sqs, queues, {}, { execute: true, useMoveTask: true, senderClaimKey: key });
        expect(result).to.include({ method: "one-by-one", moved: 2 });
        expect(mixed.calls.map((c) => c.name)).to.not.include("StartMessageMoveTaskCommand");
        const sent = mixed.calls.filter((c) => c.name === "SendMessageCommand").map((c) => c.input);
        // The reject keeps its own claim; the exhausted letter gets one for its own SenderId, which verifies.
        expect(sent[0].MessageAttributes.senderClaim).to.deep.equal(signed.senderClaim);
        const claim = readSenderClaim(sent[1].MessageAttributes)!;
        expect(claim.originalSender).to.equal("AROAPRODUCERA000000001");
        expect(await verifySenderClaim(key, claim, body)).to.equal(true);

        // Without a key (open mode) nothing changes: one move task.
        expect(await redriveDeadLetters(stand([exhausted]).sqs, queues, {}, { execute: true, useMoveTask: true })).to.include({
            method: "move-task",
        });
    });

    it("show never prints an email's recipients, subject or body", () => {
        const body = JSON.stringify({
            version: 1,
            id: "email-1",
            lane: "tabc-0",
            acceptedAt: "2026-01-01T00:00:00Z",
            content: {
                from: "a@example.com",
                to: ["secret.person@example.org"],
                cc: ["cc.person@example.org"],
                bcc: [],
                subject: "Private subject",
                text: "Private body",
                html: "<p>Private html</p>",
            },
        });
        const shown = JSON.stringify(describeLetter(letter({ system: "email", reason: "invalid-recipient", body })));
        for (const secret of ["secret.person", "cc.person", "Private subject", "Private body", "Private html", "a@example.com"])
            expect(shown).to.not.include(secret);
        expect(shown).to.include("email-1").and.include("not shown");
        const offloaded = describeLetter(
            letter({ system: "email", body: JSON.stringify({ version: 1, id: "e2", contentRef: { bucket: "b", key: "k" } }) }),
        );
        expect((offloaded.body as Record<string, unknown>).content).to.match(/offloaded/);
        expect(JSON.stringify(describeLetter(letter({ system: "email", body: "garbage with to: x@example.org" })))).to.not.include(
            "x@example.org",
        );
    });

    it("argument errors exit 2 and name the fix, before any AWS call", async () => {
        const cases: Array<[string[], RegExp]> = [
            [["redrive", "--reason", "a", "--retries-exhausted"], /exclude each other/],
            [["redrive", "--limit", "0"], /--limit must be a whole number of at least 1/],
            [["list", "--yes"], /--yes applies to redrive only/],
            [["show"], /show needs exactly one message id/],
            [["purge"], /unknown command "purge"/],
            [["list", "--frobnicate"], /unknown option "--frobnicate" \(options: --stack, --system/],
        ];
        for (const [argv, message] of cases) {
            const c = capture();
            expect(await runDlq(argv, c.io, {}), argv.join(" ")).to.equal(2);
            expect(c.err.join("\n"), argv.join(" ")).to.match(message);
        }
        const send = capture();
        expect(await runSend(["event"], send.io, {})).to.equal(2);
        expect(send.err.join("\n")).to.match(/one file, or - for standard input/);
    });

    it("a mistyped --reason is an error that lists the known reasons and suggests the closest, before any AWS call", async () => {
        const c = capture();
        expect(await runDlq(["redrive", "--reason", "invalid-daat"], c.io, {})).to.equal(2);
        const text = c.err.join("\n");
        expect(text).to.match(/--reason "invalid-daat" is not a rejection reason; did you mean invalid_data\?/);
        for (const code of [...REJECTION_REASON_CODES.events, ...REJECTION_REASON_CODES.email]) expect(text).to.include(code);
        expect(text)
            .to.match(/--retries-exhausted/)
            .and.not.match(/No local pipeline/);
        const far = capture();
        expect(await runDlq(["redrive", "--reason", "zzzzzzzzzzzz", "--system", "email"], far.io, {})).to.equal(2);
        expect(far.err.join("\n"))
            .to.match(/is not a rejection reason\./)
            .and.include("invalid-recipient")
            .and.not.include("invalid_data");
    });

    it("either spelling of a reason (`-` or `_`) selects its letters; no two codes of the contracts share a spelling key", () => {
        expect(selects({ reason: "invalid-data" }, letter({ reason: "invalid_data" }))).to.equal(true);
        expect(selects({ reason: "Invalid_Recipient" }, letter({ system: "email", reason: "invalid-recipient" }))).to.equal(true);
        expect(selects({ reason: "invalid-data" }, letter({ reason: "type_disabled" }))).to.equal(false);
        const codes = [...REJECTION_REASON_CODES.events, ...REJECTION_REASON_CODES.email];
        expect(new Set(codes.map(reasonKey)).size).to.equal(codes.length);
        expect(codes.map(reasonKey)).to.not.include(reasonKey(RETRIES_EXHAUSTED));
    });

    it('an unknown option names the closest known one (npm swallows parseArgs\' `-- "--flag"` advice)', async () => {
        const dlq = capture();
        expect(await runDlq(["redrive", "--reasn", "invalid_data"], dlq.io, {})).to.equal(2);
        expect(dlq.err.join("\n"))
            .to.match(/unknown option "--reasn"; did you mean --reason\?/)
            .and.not.match(/place it at the end/);
        const send = capture();
        expect(await runSend(["email", "x.json", "--idempotency-kye", "k"], send.io, {})).to.equal(2);
        expect(send.err.join("\n")).to.match(/did you mean --idempotency-key\?/);
    });

    it("refuses an empty or malformed --stack instead of falling back to the local pipeline", async () => {
        for (const stack of ["", " ", "-x", "a b"]) {
            const c = capture();
            expect(await runDlq(["list", `--stack=${stack}`], c.io, {}), JSON.stringify(stack)).to.equal(2);
            expect(c.err.join("\n"), JSON.stringify(stack)).to.match(/--stack needs a Pulumi stack name/);
        }
    });

    it("refuses a READY file left by a pipeline that no longer runs, and a missing one, saying how to start one", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "target-"));
        try {
            expect(() => localTarget(path.join(dir, "absent.json"))).to.throw(TargetError, /npm run local.*--stack NAME/);
            const stale = path.join(dir, "pipeline.json");
            fs.writeFileSync(stale, JSON.stringify({ pid: 2 ** 22 + 12345, region: "us-east-1" }));
            expect(() => localTarget(stale)).to.throw(TargetError, /no longer runs/);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("reads the region from deployed queue and API URLs", () => {
        expect(regionOfQueueUrl("https://sqs.eu-west-1.amazonaws.com/123456789012/events")).to.equal("eu-west-1");
        expect(regionOfQueueUrl("http://127.0.0.1:4566/000000000000/events")).to.equal(undefined);
        expect(regionOfApiUrl("https://abc123.execute-api.ap-southeast-2.amazonaws.com/v1/emails")).to.equal("ap-southeast-2");
    });
});

describe("local console: reading a received email", () => {
    it("finds the text and HTML parts of a multipart message and decodes quoted-printable and base64", async () => {
        const raw = [
            "Subject: hi",
            'Content-Type: multipart/alternative; boundary="--_b1"',
            "",
            "----_b1",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: quoted-printable",
            "",
            "Gr=C3=BC=C3=9Fe, a long line that is soft-=",
            "wrapped",
            "----_b1",
            "Content-Type: text/html; charset=utf-8",
            "Content-Transfer-Encoding: base64",
            "",
            Buffer.from("<p>Hello <b>Ada</b></p>").toString("base64"),
            "----_b1--",
            "",
        ].join("\r\n");
        expect(await emailBodies(raw)).to.deep.equal({ text: "Grüße, a long line that is soft-wrapped", html: "<p>Hello <b>Ada</b></p>" });
        expect(await emailBodies("Content-Type: text/plain\r\n\r\nplain body\r\n")).to.deep.equal({ text: "plain body" });
    });
});
