/**
 * Fair queues on the local pipeline: do quiet tenants keep their dwell time while one
 * tenant floods the queue? Quiet tenants send at a steady rate; in the flood runs one
 * more tenant sends several times what the processor can take (measured first, on the
 * same pipeline). Dwell is per quiet event, from its send (the client's clock just
 * before SendMessageBatch; SQS stamps SentTimestamp within that request) to stored (the
 * item's `receivedAt`, stamped by the processor as it writes). Three runs of the same
 * length: no flood; flood with fair delivery (the local SQS's emulation of "How Amazon
 * SQS fair queues work"); flood with fair delivery switched off, the control.
 *
 * `quietP99Ratio` = quiet p99 during the flood / without the flood (goal <= 1.5);
 * `quietP99RatioWithoutFairness` the same with fair delivery off.
 *
 * Run alone: `npm run bench -- --mode fairness [--seconds 10] [--json]`
 */
import { BatchGetItemCommand } from "@aws-sdk/client-dynamodb";
import { PurgeQueueCommand, SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { BatchReport } from "../local/aws-stand-ins/event-source-poller";
import { percentile } from "../local/pipeline-app/accounting";
import { fairQueueReports } from "../local/pipeline-app/console/server";
import { LocalPipeline, startLocalPipeline } from "../local/pipeline-app/pipeline";
import { integerOption } from "./index";

export const description = "fair queues: quiet tenants' dwell p50/p99 with one tenant flooding (fair delivery on and off) against no flood";
export const options = {
    seconds: integerOption("length of each run, seconds", 10, 3, 60),
    "quiet-tenants": integerOption("tenants sending at a steady rate", 4, 1, 20),
    "quiet-rate": integerOption("events per second per quiet tenant", 4, 1, 50),
    "flood-factor": integerOption("the flood's rate as a multiple of the processor's measured capacity", 4, 2, 20),
};

/** The goal: quiet tenants' p99 dwell under a flood at most 1.5 times their p99 without one. */
export const QUIET_P99_RATIO_TARGET = 1.5;
/** The flood's rate is capped so that the sender, not the pipeline, never becomes what is measured. */
const MAX_FLOOD_RATE = 2500;
/**
 * The processor's settings for this bench: the localstack stack's own (batching window
 * included), with a batch of 10 and 2 environments so that a flood several times its
 * capacity stays within what one process can send on a shared 2-core machine (and
 * 2 environments x 2 pollers x 10 lets a flood reach the 30 in-flight messages that mark a
 * noisy group).
 */
const PROCESSOR_SETTINGS = {
    "event-ingestion:batchSize": 10,
    "event-ingestion:maxConcurrency": 2,
};
const FLOOD_TENANT = "flood-tenant";

interface Dwell {
    p50: number | null;
    p99: number | null;
    samples: number;
}

export interface FairnessFigures {
    fairnessRunSeconds: number;
    fairnessQuietTenants: number;
    fairnessQuietEventsPerSecond: number;
    fairnessBatchSize: number;
    fairnessBatchingWindowSeconds: number;
    fairnessProcessorEnvironments: number;
    /** events/s the processor drained from a backlog on this pipeline, measured before the runs */
    fairnessProcessorCapacityPerSecond: number;
    /** what the flooding tenant actually sent, events/s (fair run) */
    fairnessFloodPerSecond: number;
    /** fairnessFloodPerSecond / fairnessProcessorCapacityPerSecond */
    fairnessFloodToCapacity: number;
    quietDwellMsWithoutFlood: Dwell;
    quietDwellMsFlood: Dwell;
    quietDwellMsFloodWithoutFairness: Dwell;
    quietP99Ratio: number | null;
    quietP99RatioWithoutFairness: number | null;
    quietP99RatioTarget: number;
    quietP99RatioTargetMet: boolean;
    /** distinct groups the local SQS marked noisy during the fair flood run */
    noisyGroupsDetected: number;
    noisyGroups: string[];
}

function eventBody(clientId: string, eventId: string): string {
    return JSON.stringify({
        clientId,
        eventId,
        type: "user.signed_up",
        occurredAt: new Date().toISOString(),
        data: { userId: `usr-${eventId}`, plan: "free", signupChannel: "web", marketingOptIn: false },
    });
}

function dwell(values: number[]): Dwell {
    const sorted = [...values].sort((a, b) => a - b);
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), samples: sorted.length };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `probe` is true, or throws naming `what` after `timeoutMs`. */
async function until(what: string, probe: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await probe())) {
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
        await sleep(200);
    }
}

async function sendBatch(sqs: SQSClient, queueUrl: string, events: Array<{ clientId: string; eventId: string }>): Promise<void> {
    const result = await sqs.send(
        new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: events.map((event, index) => ({
                Id: String(index),
                MessageBody: eventBody(event.clientId, event.eventId),
                MessageGroupId: event.clientId,
            })),
        }),
    );
    if (result.Failed?.length) throw new Error(`SendMessageBatch refused ${result.Failed.length} message(s): ${result.Failed[0].Message}`);
}

/** `receivedAt` (epoch ms) of each stored key; keys not stored yet are absent. */
async function storedAt(pipeline: LocalPipeline, keys: ReadonlyArray<{ clientId: string; eventId: string }>): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    const table = pipeline.ready.eventTableName;
    for (let i = 0; i < keys.length; i += 100) {
        let request: Record<string, { Keys: Array<Record<string, { S: string }>>; ProjectionExpression: string }> | undefined = {
            [table]: {
                Keys: keys.slice(i, i + 100).map((key) => ({ clientId: { S: key.clientId }, eventId: { S: key.eventId } })),
                ProjectionExpression: "clientId, eventId, receivedAt",
            },
        };
        while (request && Object.keys(request).length) {
            const page = await pipeline.context.clients.dynamodb.send(new BatchGetItemCommand({ RequestItems: request }));
            for (const item of page.Responses?.[table] ?? [])
                found.set(`${item.clientId.S}/${item.eventId.S}`, Date.parse(item.receivedAt.S!));
            request = page.UnprocessedKeys as typeof request;
        }
    }
    return found;
}

async function setFairDelivery(pipeline: LocalPipeline, enabled: boolean): Promise<void> {
    const response = await fetch(`${pipeline.ready.sqsEndpoint}/_stand-in/fair-delivery`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ enabled }),
    });
    if (!response.ok) throw new Error(`could not set fair delivery: HTTP ${response.status}`);
}

/** Events the poller acknowledged (deleted), with when: the processor's output. */
function processedCounter(pipeline: LocalPipeline): { count(): number; stop(): void } {
    let processed = 0;
    const onBatch = (report: BatchReport) => (processed += report.deleted);
    pipeline.eventProcessor!.poller.on("batch", onBatch);
    return { count: () => processed, stop: () => pipeline.eventProcessor!.poller.off("batch", onBatch) };
}

/** The processor's drain rate: a backlog sent up front, timed from the first to the last acknowledgement. */
async function measureCapacity(pipeline: LocalPipeline, events: number): Promise<number> {
    const sqs = pipeline.context.clients.sqs;
    const keys = Array.from({ length: events }, (_, i) => ({ clientId: "calibration", eventId: `cal-${i}` }));
    await setFairDelivery(pipeline, true);
    const counter = processedCounter(pipeline);
    let first: number | undefined;
    const marks = setInterval(() => {
        if (first === undefined && counter.count() > 0) first = Date.now();
    }, 5);
    try {
        for (let i = 0; i < keys.length; i += 10) await sendBatch(sqs, pipeline.ready.eventQueueUrl, keys.slice(i, i + 10));
        await until("the calibration backlog to drain", () => counter.count() >= events, 120_000);
        const elapsed = Math.max(1, Date.now() - (first ?? Date.now()));
        return ((events - 10) / elapsed) * 1000;
    } finally {
        clearInterval(marks);
        counter.stop();
    }
}

interface RunResult {
    dwellMs: number[];
    floodSent: number;
    processedDuringRun: number;
    noisy: Set<string>;
}

async function runScenario(
    pipeline: LocalPipeline,
    name: string,
    settings: { seconds: number; quietTenants: number; quietRate: number; floodRate: number; fair: boolean },
): Promise<RunResult> {
    const sqs = pipeline.context.clients.sqs;
    const queueUrl = pipeline.ready.eventQueueUrl;
    const queueName = queueUrl.split("/").pop()!;
    await setFairDelivery(pipeline, settings.fair);
    const quiet: Array<{ clientId: string; eventId: string; sentAt: number }> = [];
    const noisy = new Set<string>();
    const counter = processedCounter(pipeline);
    const started = Date.now();
    const endAt = started + settings.seconds * 1000;
    let floodSent = 0;
    let sequence = 0;
    process.stderr.write(`  ${name}: ${settings.seconds} s\n`);

    const quietSender = (async () => {
        // One event per quiet tenant every 1/quietRate s, together in one request: a steady rate.
        const interval = 1000 / settings.quietRate;
        for (let tick = 0; started + tick * interval < endAt; tick++) {
            await sleep(Math.max(0, started + tick * interval - Date.now()));
            const events = Array.from({ length: settings.quietTenants }, (_, t) => ({
                clientId: `quiet-${t}`,
                eventId: `${name}-${tick}-${t}`,
            }));
            for (let i = 0; i < events.length; i += 10) {
                const sentAt = Date.now();
                await sendBatch(sqs, queueUrl, events.slice(i, i + 10));
                quiet.push(...events.slice(i, i + 10).map((event) => ({ ...event, sentAt })));
            }
        }
    })();
    const floodSender = (async () => {
        if (settings.floodRate === 0) return;
        // Keep up with the target rate: what is due by now, in batches of 10, 8 requests at a time.
        const worker = async () => {
            while (Date.now() < endAt) {
                const due = Math.floor(((Date.now() - started) / 1000) * settings.floodRate) - floodSent;
                if (due < 10) {
                    await sleep(5);
                    continue;
                }
                floodSent += 10;
                const first = sequence;
                sequence += 10;
                await sendBatch(
                    sqs,
                    queueUrl,
                    Array.from({ length: 10 }, (_, i) => ({ clientId: FLOOD_TENANT, eventId: `${name}-f${first + i}` })),
                );
            }
        };
        await Promise.all(Array.from({ length: 8 }, worker));
    })();
    const watcher = (async () => {
        while (Date.now() < endAt) {
            const report = (await fairQueueReports(pipeline.ready.sqsEndpoint)).find((entry) => entry.queue === queueName);
            for (const group of report?.noisyGroups ?? []) noisy.add(group);
            await sleep(250);
        }
    })();
    await Promise.all([quietSender, floodSender, watcher]);
    const processedDuringRun = counter.count();
    counter.stop();

    // Every quiet event must be stored: wait for them (the control run drains the flood's backlog first).
    let stored = new Map<string, number>();
    await until(
        `${name}: all ${quiet.length} quiet events stored`,
        async () => {
            stored = await storedAt(pipeline, quiet);
            return stored.size >= quiet.length;
        },
        180_000,
    );
    // Drop what is left of the flood and let the processor finish what it holds, so the next run starts empty.
    await sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
    await until(
        `${name}: the event queue to be empty`,
        async () => {
            const queues = (await (await fetch(`${pipeline.ready.sqsEndpoint}/_fauxqs/queues`)).json()) as Array<{
                name: string;
                approximateMessageCount: number;
                approximateInflightCount: number;
            }>;
            const entry = queues.find((queue) => queue.name === queueName);
            return entry !== undefined && entry.approximateMessageCount + entry.approximateInflightCount === 0;
        },
        60_000,
    );
    return {
        dwellMs: quiet.map((event) => stored.get(`${event.clientId}/${event.eventId}`)! - event.sentAt),
        floodSent,
        processedDuringRun,
        noisy,
    };
}

/**
 * @example
 * const figures = await run({ seconds: 10 });
 * figures.quietP99Ratio; // e.g. 1.2
 */
export async function run(
    opts: { seconds?: number; quietTenants?: number; quietRate?: number; floodFactor?: number } = {},
): Promise<FairnessFigures> {
    const seconds = opts.seconds ?? 10;
    const quietTenants = opts.quietTenants ?? 4;
    const quietRate = opts.quietRate ?? 4;
    const floodFactor = opts.floodFactor ?? 4;
    const pipeline = await startLocalPipeline({
        stack: "localstack",
        configOverrides: PROCESSOR_SETTINGS,
        log: (line) => process.stderr.write(`  ${line}\n`),
        functionLogs: () => undefined,
    });
    try {
        const processor = pipeline.eventProcessor!;
        process.stderr.write("  warm-up, then capacity: a backlog of 400 events from one tenant\n");
        await measureCapacity(pipeline, 50);
        const capacity = await measureCapacity(pipeline, 400);
        const floodRate = Math.min(MAX_FLOOD_RATE, Math.round(capacity * floodFactor));
        process.stderr.write(`  processor capacity ${capacity.toFixed(0)} events/s; flood at ${floodRate} events/s\n`);

        const common = { seconds, quietTenants, quietRate };
        const calm = await runScenario(pipeline, "no-flood", { ...common, floodRate: 0, fair: true });
        const fair = await runScenario(pipeline, "flood-fair", { ...common, floodRate, fair: true });
        const unfair = await runScenario(pipeline, "flood-unfair", { ...common, floodRate, fair: false });
        await setFairDelivery(pipeline, true);

        const calmDwell = dwell(calm.dwellMs);
        const fairDwell = dwell(fair.dwellMs);
        const unfairDwell = dwell(unfair.dwellMs);
        const ratio = (flood: Dwell) => (flood.p99 !== null && calmDwell.p99 ? Math.round((flood.p99 / calmDwell.p99) * 100) / 100 : null);
        const quietP99Ratio = ratio(fairDwell);
        const floodPerSecond = fair.floodSent / seconds;
        return {
            fairnessRunSeconds: seconds,
            fairnessQuietTenants: quietTenants,
            fairnessQuietEventsPerSecond: quietTenants * quietRate,
            fairnessBatchSize: processor.mapping.batchSize,
            fairnessBatchingWindowSeconds: processor.mapping.maximumBatchingWindowInSeconds,
            fairnessProcessorEnvironments: processor.concurrency,
            fairnessProcessorCapacityPerSecond: Math.round(capacity),
            fairnessFloodPerSecond: Math.round(floodPerSecond),
            fairnessFloodToCapacity: Math.round((floodPerSecond / capacity) * 10) / 10,
            quietDwellMsWithoutFlood: calmDwell,
            quietDwellMsFlood: fairDwell,
            quietDwellMsFloodWithoutFairness: unfairDwell,
            quietP99Ratio,
            quietP99RatioWithoutFairness: ratio(unfairDwell),
            quietP99RatioTarget: QUIET_P99_RATIO_TARGET,
            quietP99RatioTargetMet: quietP99Ratio !== null && quietP99Ratio <= QUIET_P99_RATIO_TARGET,
            noisyGroupsDetected: fair.noisy.size,
            noisyGroups: [...fair.noisy],
        };
    } finally {
        await pipeline.stop();
    }
}

export function format(f: FairnessFigures): string[] {
    const d = (x: Dwell) => `p50 ${x.p50} ms, p99 ${x.p99} ms (${x.samples} events)`;
    return [
        `fairness (${f.fairnessQuietTenants} quiet tenants at ${f.fairnessQuietEventsPerSecond} events/s in all, ${f.fairnessRunSeconds} s per run; processor ${f.fairnessProcessorEnvironments} environments x batch ${f.fairnessBatchSize}, window ${f.fairnessBatchingWindowSeconds} s, capacity ${f.fairnessProcessorCapacityPerSecond} events/s; flood ${f.fairnessFloodPerSecond} events/s = ${f.fairnessFloodToCapacity}x capacity)`,
        `  quiet dwell without flood:              ${d(f.quietDwellMsWithoutFlood)}`,
        `  quiet dwell during flood (fair queues): ${d(f.quietDwellMsFlood)}`,
        `  quiet dwell during flood (fair off):    ${d(f.quietDwellMsFloodWithoutFairness)}`,
        `  quietP99Ratio ${f.quietP99Ratio} (target <= ${f.quietP99RatioTarget}: ${f.quietP99RatioTargetMet ? "met" : "MISSED"}); without fairness ${f.quietP99RatioWithoutFairness}`,
        `  noisy groups detected: ${f.noisyGroupsDetected} (${f.noisyGroups.join(", ") || "none"})`,
    ];
}
