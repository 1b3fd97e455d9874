import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { accountFor, sendMessages, settleAccounting } from "../../../local/pipeline-app/demo";
import { LocalPipeline, startLocalPipeline } from "../../../local/pipeline-app/pipeline";
import { generateSampleTraffic, SampleMessage } from "../../../local/pipeline-app/sample-traffic";
import { until } from "../../support/until";

/**
 * Fault injection on the whole pipeline. The stack is `localstack` with three
 * overrides that only make the test fast: a 1 s processor timeout (so the derived
 * visibility timeout is 6 s), no batching window (so batches of at most 10, as Lambda
 * requires without a window), and a maxReceiveCount high enough
 * that an outage of a few seconds cannot push valid events to the DLQ; and DEBUG
 * processor logs, whose per-event "event persisted" line marks the moment to kill
 * an environment mid-batch (at INFO stored events are only summed up per batch).
 */
const FAST_REDELIVERY = {
    "event-ingestion:processorTimeoutSeconds": 1,
    "event-ingestion:maxBatchingWindowSeconds": 0,
    "event-ingestion:batchSize": 10,
    "event-ingestion:maxReceiveCount": 50,
    "event-ingestion:logLevel": "DEBUG",
};

function validEvents(seed: number, clients: number, perClient: number): SampleMessage[] {
    return generateSampleTraffic({ clients, eventsPerClient: perClient, seed }).filter((m) => m.expect.kind === "persisted");
}

describe("fault injection on the local pipeline", function () {
    this.timeout(120_000);
    let pipeline: LocalPipeline;
    let dataDir: string;
    const functionLog: string[] = [];
    const pipelineLog: string[] = [];
    let onFunctionLog: ((text: string) => void) | undefined;

    before(async () => {
        dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "dynamodb-data-"));
        pipeline = await startLocalPipeline({
            stack: "localstack",
            configOverrides: FAST_REDELIVERY,
            dynamodbDataDir: dataDir,
            log: (l) => pipelineLog.push(l),
            functionLogs: (_name, text) => {
                functionLog.push(text);
                onFunctionLog?.(text);
            },
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
        let killed: number[] = [];
        let coldStarts = 0;
        processor.fn.on("cold-start", () => coldStarts++);
        // Kill the environment as soon as it reports a stored event of its batch (so part of the batch
        // is written); if its logs only arrive after it answered, kill the next invocation 150 ms in.
        let afterAWrite = false;
        onFunctionLog = (text) => {
            if (killed.length === 0 && text.includes('"event persisted"')) {
                killed = processor.fn.killBusy("SIGKILL");
                afterAWrite = killed.length > 0;
            }
        };
        const fallback = () =>
            setTimeout(() => {
                if (killed.length === 0) killed = processor.fn.killBusy("SIGKILL");
            }, 150);
        processor.fn.on("invoke", fallback);
        const duplicatesBefore = functionLog.join("").split('"event duplicate"').length;
        const sent = await sendMessages(pipeline, validEvents(12, 2, 15));
        await until("an invocation to kill", () => killed.length > 0, { timeoutMs: 20_000, intervalMs: 20 });
        onFunctionLog = undefined;
        processor.fn.off("invoke", fallback);
        const summary = await settleAccounting(pipeline, sent, { deadline: Date.now() + 60_000 });
        expect(summary.unaccounted, JSON.stringify(summary)).to.deep.equal([]);
        expect(summary.persisted).to.equal(30);
        expect(summary.deliveredThroughStream).to.equal(30); // one INSERT per event: nothing written twice
        expect(outcomes.some((o) => o.startsWith("function-error Runtime.ExitError"))).to.equal(true);
        expect(Math.max(...receiveCounts)).to.be.at.least(2); // redelivered by SQS after the visibility timeout
        expect(coldStarts).to.be.at.least(1); // a fresh execution environment replaced the killed one
        const duplicatesAfter = functionLog.join("").split('"event duplicate"').length;
        if (afterAWrite)
            expect(duplicatesAfter - duplicatesBefore, "redelivered events already stored are recognised as duplicates").to.be.at.least(1);
    });
});
