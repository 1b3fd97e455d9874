/**
 * Hostile input on the local pipeline (fauxqs, DynamoDB Local, the processor's shipped archive),
 * with queues created from the stack's own resources, so the limits are the deployed ones.
 */
import { expect } from "chai";
import { accountFor, sendMessages } from "../../local/demo";
import { deadLetters } from "../../local/accounting";
import { LocalPipeline, startLocalPipeline } from "../../local/pipeline";
import type { SampleMessage } from "../../local/sample-traffic";

describe("hostile input on the local pipeline (stack localstack)", function () {
    this.timeout(180_000);
    let pipeline: LocalPipeline;
    const logs: string[] = [];
    const functionLogs: string[] = [];

    before(async () => {
        pipeline = await startLocalPipeline({ stack: "localstack", log: (l) => logs.push(l), functionLogs: (_name: string, text: string) => functionLogs.push(text) });
    });
    after(async () => {
        await pipeline?.stop();
    });

    async function settle(messages: SampleMessage[], timeoutMs = 60_000) {
        const sent = await sendMessages(pipeline, messages);
        const deadline = Date.now() + timeoutMs;
        let summary = await accountFor(pipeline, sent);
        while (!summary.accounted && Date.now() < deadline) {
            await new Promise((r) => setTimeout(r, 250));
            summary = await accountFor(pipeline, sent);
        }
        return summary;
    }

    it("an invalid event of exactly the queue's maximum message size ends in the DLQ with its reason (SQS counts attributes too)", async () => {
        const queue = pipeline.context.deployment.resources.find((r) => r.type === "aws:sqs/queue:Queue" && r.state.url === pipeline.context.deployment.outputs.eventQueueUrl)!;
        const maxBytes = Number(queue.inputs.maxMessageSize);
        expect(maxBytes).to.equal(262_144);
        const envelope = { clientId: "size-tenant", eventId: "evt-at-the-limit", type: "order.placed", occurredAt: "2026-01-31T12:00:00Z", data: { pad: "" } };
        const padding = maxBytes - Buffer.byteLength(JSON.stringify(envelope), "utf8");
        const body = JSON.stringify({ ...envelope, data: { pad: "x".repeat(padding) } });
        expect(Buffer.byteLength(body, "utf8")).to.equal(maxBytes);
        const summary = await settle([{ label: "at-the-limit", body, messageGroupId: "size-tenant", phase: 1, expect: { kind: "rejected", reason: "invalid_data" } }]);
        expect(summary.unaccounted).to.deep.equal([]);
        const letters = await deadLetters(pipeline.ready.sqsEndpoint, pipeline.ready.deadLetterQueueUrl.split("/").pop()!);
        const letter = letters.find((l) => l.body === body);
        expect(letter, "the body is in the DLQ byte for byte").to.not.equal(undefined);
        expect(letter!.reason).to.equal("invalid_data");
        expect(letter!.detail).to.match(/data/);
        expect(functionLogs.join("\n")).to.not.include("dead_letter_unavailable");
    });
});
