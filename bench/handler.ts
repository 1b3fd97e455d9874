/**
 * Handler benchmark: N events (default 10,000) in batches of 10 through the real
 * handler (validation, conditional writes, duplicate detection, Powertools logs
 * and metrics, a Lambda context) against DynamoDB Local, and two references on the
 * same store, the same batch size and the same client (built as the Lambda builds it):
 *   - ceiling:  raw concurrent PutItem of pre-built items (no parsing, validation or conditions)
 *   - baseline: the naive handler, one sequential unconditional PutItem per record
 *     (with pre-built items too: a lower bound for any sequential handler)
 * The three run interleaved in rounds, in a random order each round, so that load
 * from others on this shared machine hits them alike. Batches run one after another,
 * like one Lambda instance draining its queue.
 *
 * Exact counts per event (a client middleware and ReturnConsumedCapacity; a tap on
 * stdout/stderr): DynamoDB requests and write units, SQS requests, log and EMF bytes.
 *
 * cpuRatio        = handler CPU per event / ceiling CPU per event  (target <= 1.10)
 * overheadRatio   = handler events/s / ceiling events/s  (on 2 shared cores this mostly measures DynamoDB Local's JVM)
 * throughputRatio = handler events/s / baseline events/s  (target > 1)
 */
import { CreateTableCommand, DynamoDBClient, PutItemCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import { CreateQueueCommand } from "@aws-sdk/client-sqs";
import type { Context, SQSRecord } from "aws-lambda";
import { performance } from "node:perf_hooks";
import { createBatchProcessor } from "../handlers/event-processor";
import { createProcessorClients } from "../handlers/event-processor/environment";
import { buildItem } from "../handlers/event-processor/item";
import type { EventEnvelope } from "../handlers/event-processor/types";
import { DEFAULTS } from "../components/shared/defaults";
import { SQS_STANDARD_MAX_BATCH_SIZE } from "../components/shared/event-source-rules";
import { startDynamoDbLocal, startFauxqs, LOCAL_CREDENTIALS } from "../local/offline/emulators";
import { exampleEvents, sqsRecord } from "../tests/support/factories/events";
import { integerOption, type BenchOption } from "./index";
import { countDynamoDbRequests, countSqsRequests, emptyTally, Tally, TallySwitch, tapOutput } from "./support/counting";

export const description =
    "event processor handler vs raw concurrent PutItem (ceiling) and sequential PutItem (naive baseline) on DynamoDB Local";

export const options: Readonly<Record<string, BenchOption>> = {
    events: integerOption("events per variant", 10_000, 10, 1_000_000),
    "batch-size": integerOption("SQS batch size (the stack default unless given)", DEFAULTS.batchSize, 1, SQS_STANDARD_MAX_BATCH_SIZE),
    rounds: integerOption("interleaving rounds (more = finer interleaving)", 50, 1, 10_000),
};

export interface HandlerFigures {
    events: number;
    batchSize: number;
    eventsPerSecond: number;
    p50Ms: number;
    p99Ms: number;
    ceilingEventsPerSecond: number;
    ceilingP50Ms: number;
    ceilingP99Ms: number;
    baselineEventsPerSecond: number;
    baselineP50Ms: number;
    baselineP99Ms: number;
    overheadRatio: number;
    throughputRatio: number;
    /** Client-side CPU per event (process.cpuUsage), handler vs ceiling: the validation cost without the store's latency. */
    cpuMicrosPerEvent: number;
    ceilingCpuMicrosPerEvent: number;
    /** cpuMicrosPerEvent / ceilingCpuMicrosPerEvent (target <= 1.10). */
    cpuRatio: number;
    /** Spread of the CPU ratio per round: [p10, median, p90]. */
    cpuRatioPerRound: [number, number, number];
    /** DynamoDB requests the handler sent per event (target 1). */
    dynamodbRequestsPerEvent: number;
    /** Write units DynamoDB reported per event (ReturnConsumedCapacity; target 1 for events up to 1 KB). */
    writeUnitsPerEvent: number;
    /** Read units per event (a duplicate check on a DynamoDB without ALL_OLD would read). */
    readUnitsPerEvent: number;
    /** SQS requests the handler sent per event (DLQ sends; 0 for valid events). */
    sqsRequestsPerEvent: number;
    /** Application log bytes per event (stdout and stderr, EMF excluded), with a Lambda context as on Lambda. */
    logBytesPerEvent: number;
    /** Application log lines per batch. */
    logLinesPerBatch: number;
    /** EMF (metrics) bytes per event. */
    emfBytesPerEvent: number;
    /** Spread of handler/ceiling measured per interleaved round: [p10, median, p90]. A wide spread means a noisy machine. */
    overheadRatioPerRound: [number, number, number];
    /** Same for handler/baseline. */
    throughputRatioPerRound: [number, number, number];
    /** Sanity: the handler persisted every event (a bench that stores nothing is fast and meaningless). */
    persisted: number;
    /**
     * Cold batches: each a full batch through a processor with new clients (an empty connection pool, as in a
     * new container). What the SDK retried, what timed out (connect or request), what came back as a transient
     * failure (a redelivery, not a loss), and the batch's wall time.
     */
    coldBatches: { batches: number; retries: number; timeouts: number; transientFailures: number; p50Ms: number; maxMs: number };
}

/** SDK retries and timeouts seen by one client, counted by middleware (per request and per attempt). */
interface RetryTally {
    retries: number;
    timeouts: number;
}

/**
 * Counts what a client retried (`$metadata.attempts` - 1 per request, success or failure) and every attempt that
 * timed out (the handler's connection or request timeout), without changing what the client does.
 */
function countRetriesAndTimeouts(stack: DynamoDBClient["middlewareStack"], tally: RetryTally): void {
    const attemptsOf = (value: unknown) => (value as { $metadata?: { attempts?: number } } | undefined)?.$metadata?.attempts ?? 1;
    stack.add(
        (next) => async (args) => {
            try {
                const result = await next(args);
                tally.retries += attemptsOf(result.output) - 1;
                return result;
            } catch (error) {
                tally.retries += attemptsOf(error) - 1;
                throw error;
            }
        },
        { step: "initialize", name: "benchRetryTally" },
    );
    stack.add(
        (next) => async (args) => {
            try {
                return await next(args);
            } catch (error) {
                const { name, code } = error as { name?: string; code?: string };
                if (/timeout/i.test(name ?? "") || code === "ETIMEDOUT" || code === "ECONNRESET") tally.timeouts++;
                throw error;
            }
        },
        { step: "deserialize", name: "benchTimeoutTally" },
    );
}

/** Cold batches measured after the warm runs. */
const COLD_BATCHES = 5;

interface Variant {
    latencies: number[];
    elapsedMs: number;
    cpuMicros: number;
    tally: Tally;
}

function percentile(sorted: readonly number[], p: number): number {
    if (sorted.length === 0) return NaN;
    return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

function spread(values: readonly number[]): [number, number, number] {
    const sorted = [...values].sort((a, b) => a - b);
    return [round3(percentile(sorted, 10)), round3(percentile(sorted, 50)), round3(percentile(sorted, 90))];
}

async function createTable(dynamodb: DynamoDBClient, name: string): Promise<void> {
    await dynamodb.send(
        new CreateTableCommand({
            TableName: name,
            BillingMode: "PAY_PER_REQUEST",
            AttributeDefinitions: [
                { AttributeName: "clientId", AttributeType: "S" },
                { AttributeName: "eventId", AttributeType: "S" },
            ],
            KeySchema: [
                { AttributeName: "clientId", KeyType: "HASH" },
                { AttributeName: "eventId", KeyType: "RANGE" },
            ],
        }),
    );
}

async function count(dynamodb: DynamoDBClient, table: string): Promise<number> {
    let total = 0;
    let start: Record<string, never> | undefined;
    do {
        // A strongly consistent read: the check must see every write the handler reported, not a lagging replica.
        const page = await dynamodb.send(
            new ScanCommand({ TableName: table, Select: "COUNT", ConsistentRead: true, ExclusiveStartKey: start }),
        );
        total += page.Count ?? 0;
        start = page.LastEvaluatedKey as typeof start;
    } while (start);
    return total;
}

/** Realistic traffic: the example types in turn, 50 tenants, unique event ids. */
function makeEvents(n: number, prefix: string): EventEnvelope[] {
    const examples = Object.values(exampleEvents());
    return Array.from({ length: n }, (_, i) => ({
        ...examples[i % examples.length],
        clientId: `tenant-${i % 50}`,
        eventId: `${prefix}-${i}`,
    }));
}

function batches<T>(items: readonly T[], size: number): T[][] {
    const out: T[][] = [];
    for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
    return out;
}

/** The context Lambda passes (its fields end up in every log line, so log bytes are measured as on Lambda). */
function lambdaContext(): Context {
    const functionName = "event-ingestion-dev-event-processor-1a2b3c4";
    return {
        callbackWaitsForEmptyEventLoop: true,
        functionName,
        functionVersion: "$LATEST",
        invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
        memoryLimitInMB: "256",
        awsRequestId: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
        logGroupName: `/aws/lambda/${functionName}`,
        logStreamName: "2026/12/01/[$LATEST]0123456789abcdef0123456789abcdef",
        getRemainingTimeInMillis: () => 30_000,
        done: () => undefined,
        fail: () => undefined,
        succeed: () => undefined,
    };
}

/** An X-Ray trace header as Lambda sets it with active tracing (Powertools logs it as xray_trace_id). */
const LAMBDA_TRACE_ID = "Root=1-6760a1b2-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=1";

/** Fisher-Yates: a fresh random order of the contenders for every round. */
function shuffled<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
}

const measurements = new Map<string, Promise<HandlerFigures>>();

/**
 * The handler measurement, once per process for the same options: `--mode handler,cost`
 * measures once and both modes report from the same run.
 *
 * @example
 * const figures = await measureHandler({ events: 2000, batchSize: 100 });
 */
export function measureHandler(opts: { events?: number; batchSize?: number; rounds?: number } = {}): Promise<HandlerFigures> {
    const key = JSON.stringify({
        events: opts.events ?? 10_000,
        batchSize: opts.batchSize ?? DEFAULTS.batchSize,
        rounds: opts.rounds ?? 50,
    });
    let measurement = measurements.get(key);
    if (!measurement) {
        measurement = measure(opts);
        measurements.set(key, measurement);
    }
    return measurement;
}

/**
 * Runs the benchmark.
 *
 * @example
 * const figures = await run({ events: 2000 });
 */
export function run(opts: { events?: number; batchSize?: number; rounds?: number } = {}): Promise<HandlerFigures> {
    return measureHandler(opts);
}

async function measure(opts: { events?: number; batchSize?: number; rounds?: number }): Promise<HandlerFigures> {
    const n = opts.events ?? 10_000;
    const batchSize = opts.batchSize ?? DEFAULTS.batchSize;
    const rounds = Math.min(opts.rounds ?? 50, Math.ceil(n / batchSize));
    const [dynamo, sqsEmulator] = await Promise.all([startDynamoDbLocal({ jit: "throughput" }), startFauxqs({ region: "eu-west-1" })]);
    // The clients the Lambda builds (timeouts, no unread SDK logging), pointed at the emulators; shared by all contenders.
    const { dynamodb, sqs } = createProcessorClients({
        dynamodb: { endpoint: dynamo.endpoint, region: "eu-west-1", credentials: LOCAL_CREDENTIALS },
        sqs: { endpoint: sqsEmulator.endpoint, region: "eu-west-1", credentials: LOCAL_CREDENTIALS, useQueueUrlAsEndpoint: false },
    });
    const tallies: TallySwitch = { current: undefined };
    countDynamoDbRequests(dynamodb.middlewareStack as never, tallies);
    countSqsRequests(sqs.middlewareStack as never, tallies);
    const savedTraceId = process.env._X_AMZN_TRACE_ID;
    process.env._X_AMZN_TRACE_ID = LAMBDA_TRACE_ID;
    try {
        const tables = { handler: "bench-handler", ceiling: "bench-ceiling", baseline: "bench-baseline" };
        await Promise.all(Object.values(tables).map((t) => createTable(dynamodb, t)));
        const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "bench-dlq" }));
        // Real Logger and Metrics (defaults), so their cost is measured; output is muted while timing.
        const processBatch = createBatchProcessor({
            dynamodb,
            sqs,
            tableName: tables.handler,
            deadLetterQueueUrl: QueueUrl!,
            retentionDays: 30,
        });
        const context = lambdaContext();

        const receivedAt = new Date();
        const prebuilt = (events: EventEnvelope[]) =>
            events.map((e) => {
                const built = buildItem(e, e.data as Record<string, unknown>, { receivedAt, retentionDays: 30 });
                if (!built.ok) throw new Error(`example ${e.type} does not build: ${built.detail}`);
                return built.item;
            });
        const handlerBatches = batches(
            makeEvents(n, "h").map((e): SQSRecord => sqsRecord(e)),
            batchSize,
        );
        const ceilingBatches = batches(prebuilt(makeEvents(n, "c")), batchSize);
        const baselineBatches = batches(prebuilt(makeEvents(n, "b")), batchSize);

        const runners: Record<keyof typeof tables, (i: number) => Promise<unknown>> = {
            handler: async (i) => {
                const { response } = await processBatch(handlerBatches[i], context);
                if (response.batchItemFailures.length > 0)
                    throw new Error(`handler batch ${i} had ${response.batchItemFailures.length} transient failures`);
            },
            ceiling: (i) =>
                Promise.all(
                    ceilingBatches[i].map((Item) => dynamodb.send(new PutItemCommand({ TableName: tables.ceiling, Item: Item as never }))),
                ),
            baseline: async (i) => {
                for (const Item of baselineBatches[i])
                    await dynamodb.send(new PutItemCommand({ TableName: tables.baseline, Item: Item as never }));
            },
        };

        // Warm-up (JIT, connection pool, DynamoDB Local's JVM), on keys the measured runs never touch.
        const warmUpRedeliveries: string[] = [];
        const unmute = tapOutput(tallies);
        try {
            const warm = createBatchProcessor({ dynamodb, sqs, tableName: tables.handler, deadLetterQueueUrl: QueueUrl! });
            const warmEvents = batches(
                makeEvents(300, "warm").map((e) => sqsRecord(e)),
                batchSize,
            );
            const warmItems = batches(prebuilt(makeEvents(300, "warm")), batchSize);
            for (let i = 0; i < warmEvents.length; i++) {
                // As SQS would, redeliver what failed transiently (a cold emulator can time out a burst of writes),
                // so the warm-up stores all of its events and the check below counts only measured ones.
                let pending = warmEvents[i];
                for (let attempt = 1; pending.length > 0; attempt++) {
                    const { response, outcomes } = await warm(pending);
                    const failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
                    for (const outcome of outcomes)
                        if (outcome.outcome === "transient") warmUpRedeliveries.push(outcome.detail ?? outcome.reason);
                    pending = pending.filter((record) => failed.has(record.messageId));
                    if (pending.length > 0 && attempt === 5)
                        throw new Error(`warm-up: ${pending.length} events still failing after ${attempt} deliveries`);
                }
                await Promise.all(
                    warmItems[i].map((Item) => dynamodb.send(new PutItemCommand({ TableName: tables.ceiling, Item: Item as never }))),
                );
                for (const Item of warmItems[i])
                    await dynamodb.send(new PutItemCommand({ TableName: tables.baseline, Item: Item as never }));
            }
        } finally {
            unmute();
        }

        if (warmUpRedeliveries.length > 0) {
            process.stderr.write(
                `  warm-up: ${warmUpRedeliveries.length} writes failed transiently and were redelivered (${[...new Set(warmUpRedeliveries)].join(", ")})\n`,
            );
        }
        const variants: Record<keyof typeof tables, Variant> = {
            handler: { latencies: [], elapsedMs: 0, cpuMicros: 0, tally: emptyTally() },
            ceiling: { latencies: [], elapsedMs: 0, cpuMicros: 0, tally: emptyTally() },
            baseline: { latencies: [], elapsedMs: 0, cpuMicros: 0, tally: emptyTally() },
        };
        const contenders: (keyof typeof tables)[] = ["handler", "ceiling", "baseline"];
        const total = handlerBatches.length;
        const perRound = Math.ceil(total / rounds);
        const roundRatios: { overhead: number[]; throughput: number[]; cpu: number[] } = { overhead: [], throughput: [], cpu: [] };
        for (let round = 0; round < rounds; round++) {
            const from = round * perRound;
            const to = Math.min(total, from + perRound);
            if (from >= to) break;
            const before = {
                handler: variants.handler.elapsedMs,
                ceiling: variants.ceiling.elapsedMs,
                baseline: variants.baseline.elapsedMs,
            };
            const cpuBefore = { handler: variants.handler.cpuMicros, ceiling: variants.ceiling.cpuMicros };
            for (const name of shuffled(contenders)) {
                const variant = variants[name];
                tallies.current = variant.tally;
                const mute = tapOutput(tallies);
                try {
                    const cpuStart = process.cpuUsage();
                    for (let i = from; i < to; i++) {
                        const start = performance.now();
                        await runners[name](i);
                        const ms = performance.now() - start;
                        variant.latencies.push(ms);
                        variant.elapsedMs += ms;
                    }
                    const cpu = process.cpuUsage(cpuStart);
                    variant.cpuMicros += cpu.user + cpu.system;
                } finally {
                    mute();
                    tallies.current = undefined;
                }
            }
            const spent = (name: keyof typeof before) => variants[name].elapsedMs - before[name];
            roundRatios.overhead.push(spent("ceiling") / spent("handler"));
            roundRatios.throughput.push(spent("baseline") / spent("handler"));
            roundRatios.cpu.push((variants.handler.cpuMicros - cpuBefore.handler) / (variants.ceiling.cpuMicros - cpuBefore.ceiling));
            if ((round + 1) % Math.ceil(rounds / 10) === 0) process.stderr.write(`  round ${round + 1}/${rounds} done\n`);
        }

        const persisted = await count(dynamodb, tables.handler);
        const stats = (v: Variant) => {
            const sorted = [...v.latencies].sort((a, b) => a - b);
            return {
                eps: (v.latencies.length * batchSize) / (v.elapsedMs / 1000),
                p50: percentile(sorted, 50),
                p99: percentile(sorted, 99),
            };
        };
        // The last batch may be short; count the real number of events.
        const handlerStats = stats(variants.handler);
        const eventsPerVariant = handlerBatches.reduce((sum, b) => sum + b.length, 0);
        const eps = (v: Variant) => eventsPerVariant / (v.elapsedMs / 1000);
        const ceilingStats = stats(variants.ceiling);
        const baselineStats = stats(variants.baseline);
        const counted = variants.handler.tally;
        const perEvent = (value: number) => round3(value / eventsPerVariant);
        const figures: HandlerFigures = {
            events: eventsPerVariant,
            batchSize,
            eventsPerSecond: Math.round(eps(variants.handler)),
            p50Ms: round3(handlerStats.p50),
            p99Ms: round3(handlerStats.p99),
            ceilingEventsPerSecond: Math.round(eps(variants.ceiling)),
            ceilingP50Ms: round3(ceilingStats.p50),
            ceilingP99Ms: round3(ceilingStats.p99),
            baselineEventsPerSecond: Math.round(eps(variants.baseline)),
            baselineP50Ms: round3(baselineStats.p50),
            baselineP99Ms: round3(baselineStats.p99),
            overheadRatio: round3(eps(variants.handler) / eps(variants.ceiling)),
            throughputRatio: round3(eps(variants.handler) / eps(variants.baseline)),
            cpuMicrosPerEvent: Math.round(variants.handler.cpuMicros / eventsPerVariant),
            ceilingCpuMicrosPerEvent: Math.round(variants.ceiling.cpuMicros / eventsPerVariant),
            cpuRatio: round3(variants.handler.cpuMicros / variants.ceiling.cpuMicros),
            cpuRatioPerRound: spread(roundRatios.cpu),
            dynamodbRequestsPerEvent: perEvent(counted.dynamodbRequests),
            writeUnitsPerEvent: perEvent(counted.writeUnits),
            readUnitsPerEvent: perEvent(counted.readUnits),
            sqsRequestsPerEvent: perEvent(counted.sqsRequests),
            logBytesPerEvent: Math.round((counted.logBytes / eventsPerVariant) * 10) / 10,
            logLinesPerBatch: round3(counted.logLines / handlerBatches.length),
            emfBytesPerEvent: Math.round((counted.emfBytes / eventsPerVariant) * 10) / 10,
            overheadRatioPerRound: spread(roundRatios.overhead),
            throughputRatioPerRound: spread(roundRatios.throughput),
            persisted: persisted - 300, // minus the warm-up events
            coldBatches: { batches: 0, retries: 0, timeouts: 0, transientFailures: 0, p50Ms: 0, maxMs: 0 },
        };
        if (figures.persisted !== eventsPerVariant) throw new Error(`handler persisted ${figures.persisted} of ${eventsPerVariant} events`);

        // Cold batches: new clients each time (no open connection), the Lambda's own client setup.
        const cold = { batches: 0, retries: 0, timeouts: 0, transientFailures: 0, times: [] as number[] };
        const unmuteCold = tapOutput({ current: undefined });
        try {
            for (let i = 0; i < COLD_BATCHES; i++) {
                const fresh = createProcessorClients({
                    dynamodb: { endpoint: dynamo.endpoint, region: "eu-west-1", credentials: LOCAL_CREDENTIALS },
                    sqs: {
                        endpoint: sqsEmulator.endpoint,
                        region: "eu-west-1",
                        credentials: LOCAL_CREDENTIALS,
                        useQueueUrlAsEndpoint: false,
                    },
                });
                const tally: RetryTally = { retries: 0, timeouts: 0 };
                countRetriesAndTimeouts(fresh.dynamodb.middlewareStack, tally);
                try {
                    const coldProcessor = createBatchProcessor({
                        dynamodb: fresh.dynamodb,
                        sqs: fresh.sqs,
                        tableName: tables.handler,
                        deadLetterQueueUrl: QueueUrl!,
                    });
                    const records = makeEvents(batchSize, `cold${i}`).map((e) => sqsRecord(e));
                    const started = performance.now();
                    const { response } = await coldProcessor(records, context);
                    cold.times.push(performance.now() - started);
                    cold.transientFailures += response.batchItemFailures.length;
                } finally {
                    fresh.dynamodb.destroy();
                    fresh.sqs.destroy();
                }
                cold.batches++;
                cold.retries += tally.retries;
                cold.timeouts += tally.timeouts;
            }
        } finally {
            unmuteCold();
        }
        const coldSorted = [...cold.times].sort((a, b) => a - b);
        figures.coldBatches = {
            batches: cold.batches,
            retries: cold.retries,
            timeouts: cold.timeouts,
            transientFailures: cold.transientFailures,
            p50Ms: round3(percentile(coldSorted, 50)),
            maxMs: round3(coldSorted[coldSorted.length - 1] ?? 0),
        };
        return figures;
    } finally {
        if (savedTraceId === undefined) delete process.env._X_AMZN_TRACE_ID;
        else process.env._X_AMZN_TRACE_ID = savedTraceId;
        dynamodb.destroy();
        sqs.destroy();
        await Promise.all([dynamo.stop(), sqsEmulator.stop()]);
    }
}

/** Human-readable report lines. */
export function format(f: HandlerFigures): string[] {
    const row = (name: string, eps: number, p50: number, p99: number) =>
        `${name.padEnd(34)} ${String(eps).padStart(8)} events/s   p50 ${p50.toFixed(2).padStart(7)} ms   p99 ${p99.toFixed(2).padStart(7)} ms`;
    return [
        `${f.events} events per variant, batches of ${f.batchSize}, DynamoDB Local`,
        row("handler (validate + conditional put)", f.eventsPerSecond, f.p50Ms, f.p99Ms),
        row("ceiling (raw concurrent PutItem)", f.ceilingEventsPerSecond, f.ceilingP50Ms, f.ceilingP99Ms),
        row("naive baseline (sequential PutItem)", f.baselineEventsPerSecond, f.baselineP50Ms, f.baselineP99Ms),
        `overheadRatio   ${f.overheadRatio.toFixed(3)}  (handler / ceiling, target >= 0.9: ${f.overheadRatio >= 0.9 ? "met" : "MISSED"})`,
        `throughputRatio ${f.throughputRatio.toFixed(3)}  (handler / naive, target > 1: ${f.throughputRatio > 1 ? "met" : "MISSED"})`,
        `per-round spread [p10, median, p90]: overheadRatio ${f.overheadRatioPerRound.join(", ")}; throughputRatio ${f.throughputRatioPerRound.join(", ")}`,
        `client CPU per event: handler ${f.cpuMicrosPerEvent} us, ceiling ${f.ceilingCpuMicrosPerEvent} us`,
        `cpuRatio        ${f.cpuRatio.toFixed(3)}  (handler / raw PutItem CPU per event, target <= 1.10: ${f.cpuRatio <= 1.1 ? "met" : "MISSED"}; per round ${f.cpuRatioPerRound.join(", ")})`,
        `per event: ${f.dynamodbRequestsPerEvent} DynamoDB requests (target 1: ${f.dynamodbRequestsPerEvent === 1 ? "met" : "MISSED"}), ` +
            `${f.writeUnitsPerEvent} write units (target 1: ${f.writeUnitsPerEvent === 1 ? "met" : "MISSED"}), ${f.readUnitsPerEvent} read units, ${f.sqsRequestsPerEvent} SQS requests`,
        `logs per event: ${f.logBytesPerEvent} bytes of log lines (${f.logLinesPerBatch} lines per batch), ${f.emfBytesPerEvent} bytes of EMF`,
        `cold batches (new clients, empty connection pool): ${f.coldBatches.batches} x ${f.batchSize} events, ` +
            `${f.coldBatches.retries} SDK retries, ${f.coldBatches.timeouts} timeouts, ${f.coldBatches.transientFailures} transient failures ` +
            `(redelivered by SQS), p50 ${f.coldBatches.p50Ms.toFixed(1)} ms, max ${f.coldBatches.maxMs.toFixed(1)} ms`,
    ];
}

if (require.main === module) {
    run()
        .then((figures) => console.log(format(figures).join("\n")))
        .catch((error) => {
            console.error(error);
            process.exitCode = 1;
        });
}
