/**
 * End-to-end benchmark of the local pipeline (stack `localstack`): events/s and
 * latency from enqueue (SendMessageBatch) to processed (the stored item's
 * `receivedAt`, stamped by the processor) to seen on the stream by the Sender;
 * and, in the same run on the same DynamoDB Local, the raw PutItem rate of the
 * same items at the same write concurrency (processor environments x batch size,
 * since the handler writes a batch concurrently): the local ceiling. The ratio
 * of the two is the pipeline's efficiency; the target is >= 50%.
 *
 * Run alone: `npm run bench -- --mode end-to-end [--events 2000] [--json]`
 */
import { CreateTableCommand, DeleteTableCommand, PutItemCommand, ScanCommand, AttributeValue } from "@aws-sdk/client-dynamodb";
import { percentile } from "../local/pipeline-app/accounting";
import { sendMessages } from "../local/pipeline-app/demo";
import { startLocalPipeline } from "../local/pipeline-app/pipeline";
import { createTableInput } from "../local/pipeline-app/provision";
import { generateSampleTraffic, type SampleMessage } from "../local/pipeline-app/sample-traffic";
import type { Delivery } from "../local/pipeline-app/services/stream-sender";
import { integerOption } from "./index";

export const description =
    "local pipeline throughput and latency (enqueue -> processed -> stream) vs. the raw DynamoDB Local PutItem ceiling";
export const options = {
    events: integerOption("events in the measured run", 2000, 50, 100_000),
    "timeout-seconds": integerOption("give up after", 180, 10, 3600),
};

/** `clientId/eventId` of a message the pipeline is expected to store. */
function persistedKey(message: SampleMessage): string {
    const expected = message.expect as { clientId: string; eventId: string };
    return `${expected.clientId}/${expected.eventId}`;
}

/** The efficiency target: the pipeline should reach half the raw write rate of its store. */
export const END_TO_END_TARGET_RATIO = 0.5;

interface Latency {
    p50: number | null;
    p99: number | null;
    max: number | null;
}

export interface EndToEndFigures {
    endToEndStack: string;
    endToEndEvents: number;
    /** events / (last seen on the stream - first enqueued) */
    endToEndEventsPerSecond: number;
    /** enqueue -> the processor stamped the item (receivedAt) */
    endToEndProcessedLatencyMs: Latency;
    /** enqueue -> the Sender saw the stream record */
    endToEndStreamLatencyMs: Latency;
    /** concurrent PutItem requests in the ceiling run (= environments x batch size) */
    endToEndWriteConcurrency: number;
    endToEndProcessorEnvironments: number;
    endToEndBatchSize: number;
    endToEndBatchingWindowSeconds: number;
    /** raw PutItem/s on the same DynamoDB Local with the same items and concurrency */
    dynamodbLocalPutItemPerSecond: number;
    /** endToEndEventsPerSecond / dynamodbLocalPutItemPerSecond */
    endToEndCeilingRatio: number;
    endToEndTargetRatio: number;
    endToEndTargetMet: boolean;
}

function latency(values: number[]): Latency {
    const sorted = [...values].sort((a, b) => a - b);
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? null };
}

async function waitForDeliveries(delivered: readonly Delivery[], keys: Set<string>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastReport = 0;
    for (;;) {
        const seen = delivered.filter((d) => keys.has(`${d.clientId}/${d.eventId}`)).length;
        if (seen >= keys.size) return;
        if (Date.now() > deadline) throw new Error(`only ${seen} of ${keys.size} events reached the stream within ${timeoutMs / 1000} s`);
        if (Date.now() - lastReport > 2000) {
            lastReport = Date.now();
            process.stderr.write(`  ${seen}/${keys.size} on the stream\n`);
        }
        await new Promise((r) => setTimeout(r, 50));
    }
}

/**
 * @example
 * const figures = await run({ events: 2000 });
 */
export async function run(opts: { events?: number; timeoutSeconds?: number } = {}): Promise<EndToEndFigures> {
    const events = opts.events ?? 2000;
    const timeoutMs = (opts.timeoutSeconds ?? 180) * 1000;
    const pipeline = await startLocalPipeline({
        stack: "localstack",
        log: (l) => process.stderr.write(`  ${l}\n`),
        functionLogs: () => undefined,
    });
    try {
        const processor = pipeline.eventProcessor!;
        const delivered = pipeline.sender!.delivered;
        const { dynamodb } = pipeline.context.clients;

        // Warm-up: cold starts and first connections are not throughput.
        const warm = generateSampleTraffic({ clients: 2, eventsPerClient: 10, seed: 1 }).filter((m) => m.expect.kind === "persisted");
        await sendMessages(pipeline, warm);
        await waitForDeliveries(delivered, new Set(warm.map((m) => persistedKey(m))), 60_000);

        const clients = 8;
        const sample = generateSampleTraffic({ clients, eventsPerClient: Math.ceil(events / clients), seed: 2 })
            .filter((m) => m.expect.kind === "persisted")
            .slice(0, events);
        const keys = new Set(sample.map((m) => persistedKey(m)));
        process.stderr.write(`  sending ${sample.length} events\n`);
        const firstSent = Date.now();
        const sent = await sendMessages(pipeline, sample);
        await waitForDeliveries(delivered, keys, timeoutMs);
        const seenAt = new Map<string, number>();
        for (const d of delivered) {
            const key = `${d.clientId}/${d.eventId}`;
            if (keys.has(key) && !seenAt.has(key)) seenAt.set(key, d.seenAt);
        }
        const lastSeen = Math.max(...seenAt.values());
        const eventsPerSecond = (sample.length / (lastSeen - firstSent)) * 1000;
        const sentAt = new Map(sent.map((m) => [persistedKey(m), m.sentAt]));
        const streamLatencies = [...seenAt].map(([k, t]) => t - sentAt.get(k)!);

        // The stored items, for processed-at stamps and as the ceiling run's payload.
        const items: Record<string, AttributeValue>[] = [];
        let startKey: Record<string, AttributeValue> | undefined;
        do {
            const page = await dynamodb.send(new ScanCommand({ TableName: pipeline.ready.eventTableName, ExclusiveStartKey: startKey }));
            items.push(...(page.Items ?? []).filter((i) => keys.has(`${i.clientId.S}/${i.eventId.S}`)));
            startKey = page.LastEvaluatedKey;
        } while (startKey);
        const processedLatencies = items.map((i) => Date.parse(i.receivedAt.S!) - sentAt.get(`${i.clientId.S}/${i.eventId.S}`)!);

        // The ceiling: same items, same table settings (incl. the stream), same write concurrency.
        const batchSize = processor.mapping.batchSize;
        const writeConcurrency = processor.concurrency * batchSize;
        const ceilingTable = `${pipeline.ready.eventTableName}-ceiling`;
        await dynamodb.send(new CreateTableCommand({ ...createTableInput(processor.table.spec), TableName: ceilingTable }));
        let next = 0;
        const ceilingStarted = Date.now();
        await Promise.all(
            Array.from({ length: writeConcurrency }, async () => {
                while (next < items.length) {
                    const item = items[next++];
                    await dynamodb.send(new PutItemCommand({ TableName: ceilingTable, Item: item }));
                }
            }),
        );
        const ceilingPerSecond = (items.length / (Date.now() - ceilingStarted)) * 1000;
        await dynamodb.send(new DeleteTableCommand({ TableName: ceilingTable }));

        const ratio = eventsPerSecond / ceilingPerSecond;
        return {
            endToEndStack: pipeline.ready.stack,
            endToEndEvents: sample.length,
            endToEndEventsPerSecond: Math.round(eventsPerSecond * 10) / 10,
            endToEndProcessedLatencyMs: latency(processedLatencies),
            endToEndStreamLatencyMs: latency(streamLatencies),
            endToEndWriteConcurrency: writeConcurrency,
            endToEndProcessorEnvironments: processor.concurrency,
            endToEndBatchSize: batchSize,
            endToEndBatchingWindowSeconds: processor.mapping.maximumBatchingWindowInSeconds,
            dynamodbLocalPutItemPerSecond: Math.round(ceilingPerSecond * 10) / 10,
            endToEndCeilingRatio: Math.round(ratio * 1000) / 1000,
            endToEndTargetRatio: END_TO_END_TARGET_RATIO,
            endToEndTargetMet: ratio >= END_TO_END_TARGET_RATIO,
        };
    } finally {
        await pipeline.stop();
    }
}

export function format(f: EndToEndFigures): string[] {
    const l = (x: Latency) => `p50 ${x.p50} ms, p99 ${x.p99} ms, max ${x.max} ms`;
    return [
        `end-to-end (stack ${f.endToEndStack}, ${f.endToEndEvents} events, ${f.endToEndProcessorEnvironments} environments x batch ${f.endToEndBatchSize}, window ${f.endToEndBatchingWindowSeconds} s): ${f.endToEndEventsPerSecond} events/s`,
        `  enqueue -> processed: ${l(f.endToEndProcessedLatencyMs)}`,
        `  enqueue -> seen on the stream: ${l(f.endToEndStreamLatencyMs)}`,
        `  DynamoDB Local PutItem ceiling at ${f.endToEndWriteConcurrency} concurrent writes: ${f.dynamodbLocalPutItemPerSecond} items/s`,
        `  pipeline / ceiling: ${(f.endToEndCeilingRatio * 100).toFixed(1)}% (target >= ${f.endToEndTargetRatio * 100}%: ${f.endToEndTargetMet ? "met" : "MISSED"})`,
    ];
}
