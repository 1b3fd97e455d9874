import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { accountFor, sendMessages, settleAccounting } from "../../../local/pipeline-app/demo";
import { LocalPipeline, startLocalPipeline } from "../../../local/pipeline-app/pipeline";
import { generateSampleTraffic, SampleMessage } from "../../../local/pipeline-app/sample-traffic";
import { until } from "../../support/until";

/**
 * Fault injection on the whole pipeline. The stack is `localstack` with
 * overrides that only make the test fast: a 1 s processor timeout (so the derived
 * visibility timeout is 6 s), no batching window (so batches of at most 10, as Lambda
 * requires without a window), and a maxReceiveCount high enough
 * that an outage of a few seconds cannot push valid events to the DLQ.
 */
const FAST_REDELIVERY = {
    "event-ingestion:processorTimeoutSeconds": 1,
    "event-ingestion:maxBatchingWindowSeconds": 0,
    "event-ingestion:batchSize": 10,
    "event-ingestion:maxReceiveCount": 50,
};

function validEvents(seed: number, clients: number, perClient: number): SampleMessage[] {
    return generateSampleTraffic({ clients, eventsPerClient: perClient, seed }).filter((m) => m.expect.kind === "persisted");
}

describe("fault injection on the local pipeline", function () {
    this.timeout(120_000);
    let pipeline: LocalPipeline;
    let dataDir: string;
    const pipelineLog: string[] = [];

    before(async () => {
        dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "dynamodb-data-"));
        pipeline = await startLocalPipeline({
            stack: "localstack",
            configOverrides: FAST_REDELIVERY,
            dynamodbDataDir: dataDir,
            log: (l) => pipelineLog.push(l),
            // The tests read outcomes, not the functions' logs (kept out of .local/logs).
            functionLogs: () => undefined,
            onFatal: (e) => pipelineLog.push(`FATAL ${e.message}`),
        });
    });
    after(async () => {
        await pipeline?.stop();
        fs.rmSync(dataDir, { recursive: true, force: true });
    });

    it("uses the stack's settings with only the overrides above", () => {
        const source = pipeline.ready.eventSource as Record<string, number>;
        expect(source.visibilityTimeoutSeconds).to.equal(6);
        expect(source.maxReceiveCount).to.equal(50);
        expect(source.maximumBatchingWindowInSeconds).to.equal(0);
    });

    it("DynamoDB Local killed mid-run and restarted: every valid event is stored and streamed exactly once", async () => {
        const events = validEvents(11, 3, 15);
        const outcomes: string[] = [];
        const record = (b: { outcome: string }) => outcomes.push(b.outcome);
        pipeline.eventProcessor!.poller.on("batch", record);
        const sent = await sendMessages(pipeline, events.slice(0, 20));
        await until("the first events to be stored", async () => (await accountFor(pipeline, sent)).persisted >= 5, {
            timeoutMs: 20_000,
            intervalMs: 20,
        });
        await pipeline.killDynamoDb("SIGKILL");
        const failuresAtKill = outcomes.filter((o) => o !== "success").length;
        // Producers keep sending while the store is down; it comes back once the processor has failed a batch on it.
        sent.push(...(await sendMessages(pipeline, events.slice(20))));
        await until("a batch to fail while the store is down", () => outcomes.filter((o) => o !== "success").length > failuresAtKill, {
            timeoutMs: 20_000,
            intervalMs: 20,
        });
        await pipeline.restartDynamoDb();
        const summary = await settleAccounting(pipeline, sent, { deadline: Date.now() + 60_000 });
        expect(summary.unaccounted, JSON.stringify(summary)).to.deep.equal([]);
        expect(summary.persisted).to.equal(45);
        expect(summary.deliveredThroughStream).to.equal(45);
        expect(summary.inDeadLetterQueue).to.equal(0);
        expect(pipelineLog.some((l) => l.startsWith("FATAL"))).to.equal(false);
        // The outage was real: some batches failed (store unavailable or timed out) and were retried.
        expect(outcomes.filter((o) => o !== "success")).to.not.deep.equal([]);
        pipeline.eventProcessor!.poller.off("batch", record);
    });

    it("the processor killed mid-batch: its messages are redelivered and nothing is stored twice", async () => {
        const processor = pipeline.eventProcessor!;
        const receiveCounts: number[] = [];
        const outcomes: string[] = [];
        processor.poller.on("invoke", (i: { receiveCounts: number[] }) => receiveCounts.push(...i.receiveCounts));
        processor.poller.on("batch", (b: { outcome: string; error?: string }) => outcomes.push(`${b.outcome} ${b.error ?? ""}`));
        let coldStarts = 0;
        processor.fn.on("cold-start", () => coldStarts++);
        // Kill the environment of an invocation as soon as the invocation is handed to it: it cannot have answered
        // yet (a batch of writes takes tens of milliseconds), so the invocation ends with the environment's exit.
        // Until one has (a cold environment killed during its init ends otherwise), the next invocation is killed.
        let killedMidInvocation = false;
        const onInvoke = () =>
            setImmediate(() => {
                if (!killedMidInvocation) processor.fn.killBusy("SIGKILL");
            });
        const onInvoked = ({ outcome }: { outcome: { ok: boolean; error?: { errorType?: string } } }) => {
            if (!outcome.ok && outcome.error?.errorType === "Runtime.ExitError") killedMidInvocation = true;
        };
        processor.fn.on("invoke", onInvoke);
        processor.fn.on("invoked", onInvoked);
        const sent = await sendMessages(pipeline, validEvents(12, 2, 15));
        await until("an invocation killed mid-batch", () => killedMidInvocation, { timeoutMs: 20_000, intervalMs: 20 });
        processor.fn.off("invoke", onInvoke);
        processor.fn.off("invoked", onInvoked);
        const summary = await settleAccounting(pipeline, sent, { deadline: Date.now() + 60_000 });
        expect(summary.unaccounted, JSON.stringify(summary)).to.deep.equal([]);
        expect(summary.persisted).to.equal(30);
        expect(summary.deliveredThroughStream).to.equal(30); // one INSERT per event: nothing written twice
        expect(
            outcomes.some((o) => o.startsWith("function-error Runtime.ExitError")),
            outcomes.join("; "),
        ).to.equal(true);
        expect(Math.max(...receiveCounts)).to.be.at.least(2); // redelivered by SQS after the visibility timeout
        expect(coldStarts).to.be.at.least(1); // a fresh execution environment replaced the killed one
    });
});
