/**
 * The local SES as SES behaves for a configuration set with event publishing: the mailbox
 * simulator's addresses (SES Developer Guide, "Using the mailbox simulator",
 * https://docs.aws.amazon.com/ses/latest/dg/send-an-email-from-console.html#send-email-simulator)
 * produce their documented outcomes as the event records SES publishes, a recipient the
 * receiving server refuses bounces (5xx) or is delayed (4xx), and the EventBridge envelope
 * matches the deployed rule's pattern (email-iam.ts `sesEventPattern`) on the local bus.
 */
import { expect } from "chai";
import { SendEmailCommand, SESv2Client } from "@aws-sdk/client-sesv2";
import { startFakeSes, simulatorScenario, type FakeSes, type RelayOutcome } from "../../../../local/aws-stand-ins/email/fake-ses";
import { asyncInvocation, localEventBus, matchesEventPattern } from "../../../../local/aws-stand-ins/email/event-bus";
import { sesEventBridgeEvent, type SesEventKind, type SesEventRecord } from "../../../../local/aws-stand-ins/email/ses-event-records";
import { sesEventPattern } from "../../../../components/email-service/email-iam";
import { EMAIL_SES_EVENTS } from "../../../../contracts/email-service";
import { until } from "../../../support/until";

const SET = "email-set";
const PATTERN = sesEventPattern(
    SET,
    Object.values(EMAIL_SES_EVENTS).map((event) => event.detailType),
);

describe("local SES: the mailbox simulator and the events SES publishes", () => {
    let ses: FakeSes;
    let client: SESv2Client;
    const events: Array<{ kind: SesEventKind; record: SesEventRecord; emailId: string }> = [];
    const relayed: string[][] = [];
    let relayAnswer: RelayOutcome = {};

    before(async () => {
        ses = await startFakeSes({
            onAccepted: async (request) => {
                relayed.push([...(request.Destination?.ToAddresses ?? [])]);
                return relayAnswer;
            },
            onEvent: (kind, record) => {
                const tags = (record.mail as { tags: Record<string, string[]> }).tags;
                events.push({ kind, record, emailId: tags.emailId?.[0] ?? "" });
            },
        });
        client = new SESv2Client({
            endpoint: ses.endpoint,
            region: "us-east-1",
            credentials: { accessKeyId: "local", secretAccessKey: "local" },
        });
    });
    after(async () => {
        client.destroy();
        await ses.stop();
    });

    async function sendTo(emailId: string, to: string[], configurationSet: string | null = SET) {
        await client.send(
            new SendEmailCommand({
                FromEmailAddress: "shop@example.com",
                Destination: { ToAddresses: to },
                Content: { Simple: { Subject: { Data: "s" }, Body: { Text: { Data: "t" } } } },
                EmailTags: [{ Name: "emailId", Value: emailId }],
                ...(configurationSet ? { ConfigurationSetName: configurationSet } : {}),
            }),
        );
    }
    const kinds = (emailId: string) => events.filter((event) => event.emailId === emailId).map((event) => event.kind);
    const settled = (emailId: string, count: number) =>
        until(`${count} events for ${emailId}`, () => kinds(emailId).length >= count && kinds(emailId), {
            timeoutMs: 5_000,
            intervalMs: 20,
        });

    it("knows the simulator's five addresses, with or without a +label, and nothing else", () => {
        expect(simulatorScenario("success@simulator.amazonses.com")).to.equal("success");
        expect(simulatorScenario("Bounce+order-7@Simulator.AmazonSES.com")).to.equal("bounce");
        expect(simulatorScenario("ooto@simulator.amazonses.com")).to.equal("ooto");
        expect(simulatorScenario("complaint@simulator.amazonses.com")).to.equal("complaint");
        expect(simulatorScenario("suppressionlist@simulator.amazonses.com")).to.equal("suppressionlist");
        expect(simulatorScenario("bounce@example.com")).to.equal(undefined);
        expect(simulatorScenario("other@simulator.amazonses.com")).to.equal(undefined);
    });

    it("success@ and ooto@ are delivered; complaint@ is delivered then complained", async () => {
        await sendTo("s-1", ["success@simulator.amazonses.com"]);
        expect(await settled("s-1", 2)).to.deep.equal(["SEND", "DELIVERY"]);
        await sendTo("o-1", ["ooto@simulator.amazonses.com"]);
        expect(await settled("o-1", 2)).to.deep.equal(["SEND", "DELIVERY"]);
        await sendTo("c-1", ["complaint@simulator.amazonses.com"]);
        expect(await settled("c-1", 3)).to.deep.equal(["SEND", "DELIVERY", "COMPLAINT"]);
        const complaint = events.find((event) => event.emailId === "c-1" && event.kind === "COMPLAINT")!.record;
        expect(complaint.eventType).to.equal("Complaint");
        expect((complaint.complaint as { complainedRecipients: unknown[] }).complainedRecipients).to.deep.equal([
            { emailAddress: "complaint@simulator.amazonses.com" },
        ]);
    });

    it("bounce@ is a permanent bounce (550 5.1.1), suppressionlist@ one as if suppressed; neither reaches the relay", async () => {
        relayed.length = 0;
        await sendTo("b-1", ["bounce@simulator.amazonses.com"]);
        expect(await settled("b-1", 2)).to.deep.equal(["SEND", "BOUNCE"]);
        const bounce = events.find((event) => event.emailId === "b-1" && event.kind === "BOUNCE")!.record.bounce as Record<string, unknown>;
        expect(bounce).to.include({ bounceType: "Permanent", bounceSubType: "General" });
        expect((bounce.bouncedRecipients as Array<{ status: string }>)[0].status).to.equal("5.1.1");
        await sendTo("q-1", ["suppressionlist@simulator.amazonses.com"]);
        expect(await settled("q-1", 2)).to.deep.equal(["SEND", "BOUNCE"]);
        const suppressed = events.find((event) => event.emailId === "q-1" && event.kind === "BOUNCE")!.record.bounce;
        expect(suppressed).to.include({ bounceType: "Permanent", bounceSubType: "Suppressed" });
        expect(relayed).to.deep.equal([]);
    });

    it("a recipient the relay refuses bounces (5xx) or is delayed (4xx); the others are delivered", async () => {
        relayAnswer = {
            refused: [
                { address: "gone@example.org", responseCode: 550 },
                { address: "full@example.org", responseCode: 452 },
            ],
        };
        try {
            await sendTo("r-1", ["gone@example.org", "full@example.org", "fine@example.org"]);
            expect(await settled("r-1", 4)).to.deep.equal(["SEND", "BOUNCE", "DELIVERY_DELAY", "DELIVERY"]);
            const of = (kind: SesEventKind) => events.find((event) => event.emailId === "r-1" && event.kind === kind)!.record;
            expect((of("BOUNCE").bounce as { bouncedRecipients: Array<{ emailAddress: string }> }).bouncedRecipients).to.deep.equal([
                { emailAddress: "gone@example.org", action: "failed", status: "5.1.1", diagnosticCode: "smtp; 550 5.1.1 user unknown" },
            ]);
            expect((of("DELIVERY").delivery as { recipients: string[] }).recipients).to.deep.equal(["fine@example.org"]);
        } finally {
            relayAnswer = {};
        }
    });

    it("publishes nothing for an email sent without a configuration set (SES publishes per configuration set)", async () => {
        await sendTo("n-1", ["success@simulator.amazonses.com"], null);
        await sendTo("n-2", ["success@simulator.amazonses.com"]);
        await settled("n-2", 2);
        expect(kinds("n-1")).to.deep.equal([]);
    });

    it("the EventBridge envelope of every event kind matches the deployed rule's pattern; another set's does not", async () => {
        const delivered: unknown[] = [];
        const bus = localEventBus([{ name: "status", pattern: PATTERN, targets: [async (event) => void delivered.push(event)] }]);
        for (const event of events.filter((candidate) => candidate.emailId === "r-1" || candidate.emailId === "c-1")) {
            expect(await bus.put(sesEventBridgeEvent(event.kind, event.record) as never), event.kind).to.equal(1);
        }
        const foreign = structuredClone(events[0].record);
        (foreign.mail as { tags: Record<string, string[]> }).tags["ses:configuration-set"] = ["another-set"];
        expect(await bus.put(sesEventBridgeEvent("SEND", foreign) as never)).to.equal(0);
        expect(matchesEventPattern(PATTERN, { ...sesEventBridgeEvent("SEND", events[0].record), source: "aws.s3" })).to.equal(false);
    });

    it("matches patterns as EventBridge does: arrays are any-of, event arrays match any element, prefix/exists/anything-but", () => {
        const event = { source: "app", detail: { tags: ["a", "b"], code: "E42", n: 3 } };
        expect(matchesEventPattern({ source: ["x", "app"] }, event)).to.equal(true);
        expect(matchesEventPattern({ detail: { tags: ["b"] } }, event)).to.equal(true);
        expect(matchesEventPattern({ detail: { tags: ["c"] } }, event)).to.equal(false);
        expect(matchesEventPattern({ detail: { code: [{ prefix: "E4" }] } }, event)).to.equal(true);
        expect(matchesEventPattern({ detail: { missing: [{ exists: false }] } }, event)).to.equal(true);
        expect(matchesEventPattern({ detail: { code: [{ exists: false }] } }, event)).to.equal(false);
        expect(matchesEventPattern({ detail: { n: [{ "anything-but": [3] }] } }, event)).to.equal(false);
        expect(matchesEventPattern({ detail: { n: [{ numeric: [">", 1] }] } }, event)).to.equal(false);
        expect(matchesEventPattern({ absent: ["app"] }, event)).to.equal(false);
    });

    it("a rule's function target is invoked as Lambda invokes asynchronously: two retries, then its dead-letter queue", async () => {
        const dead: Array<{ event: unknown; errorType: string }> = [];
        let calls = 0;
        const failing = asyncInvocation(
            async () => (calls++, { ok: false, error: { errorType: "StatusNotRecordedError" } }),
            async (event, errorType) => void dead.push({ event, errorType }),
        );
        await failing({ id: "e-1" });
        expect(calls).to.equal(3);
        expect(dead).to.deep.equal([{ event: { id: "e-1" }, errorType: "StatusNotRecordedError" }]);
        let second = 0;
        const flaky = asyncInvocation(
            async () => (++second === 2 ? { ok: true } : { ok: false, error: { errorType: "Timeout" } }),
            async () => void dead.push({ event: "never", errorType: "" }),
        );
        await flaky({ id: "e-2" });
        expect(second).to.equal(2);
        expect(dead).to.have.length(1);
    });
});
