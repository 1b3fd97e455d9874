/**
 * Tracer benchmark: the event processor handler's CPU per event with X-Ray
 * tracing off (the Tracer disabled, as in tests and local runs), on but the
 * invocation not sampled, and on and sampled (a `## handler` subsegment per
 * batch plus a DynamoDB subsegment per event, sent over UDP to a daemon
 * stand-in), interleaved in rounds in one process, in the same run.
 *
 * The AWS SDK clients are real (serialization, middleware, retries, X-Ray
 * middleware) with an in-memory request handler that answers PutItem at once,
 * so the figures are the handler's and the Tracer's CPU without a store's
 * latency. The measuring process is a child with Lambda's environment
 * (AWS_EXECUTION_ENV, LAMBDA_TASK_ROOT), because the X-Ray SDK picks Lambda mode
 * when it is loaded; the daemon stand-in runs in the parent so that receiving
 * costs the child nothing.
 *
 * tracerSampledOverheadRatio   = sampled CPU/event   / disabled CPU/event
 * tracerUnsampledOverheadRatio = unsampled CPU/event / disabled CPU/event
 */
import { fork } from "node:child_process";
import * as path from "node:path";
import { Readable } from "node:stream";
import { integerOption, type BenchOption } from "./index";
import { EVENT_PROCESSOR_SERVICE_NAME } from "../contracts/event-pipeline";

export const description = "event processor CPU per event with X-Ray tracing disabled vs enabled (unsampled, sampled), same run";

export const options: Readonly<Record<string, BenchOption>> = {
    "tracer-events": integerOption("events per variant", 20_000, 100, 1_000_000),
    "tracer-rounds": integerOption("interleaving rounds", 20, 1, 1_000),
};

export interface TracerFigures {
    tracerEvents: number;
    tracerDisabledCpuMicrosPerEvent: number;
    tracerUnsampledCpuMicrosPerEvent: number;
    tracerSampledCpuMicrosPerEvent: number;
    tracerUnsampledOverheadRatio: number;
    tracerSampledOverheadRatio: number;
    /** Spread of sampled/disabled per round: [p10, median, p90]. */
    tracerSampledOverheadRatioPerRound: [number, number, number];
    /** Sanity: documents the daemon stand-in accepted (one per sampled batch + one per sampled PutItem) and refused. */
    tracerSegmentsReceived: number;
    tracerSegmentsExpected: number;
    tracerSegmentsRejected: number;
    /** Sanity: every variant persisted every event. */
    tracerPersisted: number;
}

type Variant = "disabled" | "unsampled" | "sampled";
const VARIANTS: readonly Variant[] = ["disabled", "unsampled", "sampled"];
const BATCH_SIZE = 10;
const CHILD_FLAG = "--tracer-bench-child";

interface ChildResult {
    cpuMicros: Record<Variant, number[]>;
    persisted: number;
    sampledBatches: number;
    sampledEvents: number;
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

function spread(values: readonly number[]): [number, number, number] {
    const sorted = [...values].sort((a, b) => a - b);
    const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
    return [round3(at(10)), round3(at(50)), round3(at(90))];
}

export async function run(opts: Record<string, unknown>): Promise<TracerFigures> {
    const events = (opts.tracerEvents as number | undefined) ?? 20_000;
    const rounds = Math.min((opts.tracerRounds as number | undefined) ?? 20, Math.floor(events / BATCH_SIZE));
    const { startXRayDaemon } = await import("../local/offline/xray-daemon");
    const daemon = await startXRayDaemon();
    try {
        const result = await new Promise<ChildResult>((resolve, reject) => {
            const child = fork(__filename, [CHILD_FLAG, String(events), String(rounds)], {
                execArgv: ["-r", path.join(__dirname, "..", "scripts", "register-ts.js")],
                env: {
                    ...process.env,
                    AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
                    AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
                    AWS_LAMBDA_FUNCTION_NAME: "event-processor",
                    LAMBDA_TASK_ROOT: __dirname,
                    AWS_XRAY_DAEMON_ADDRESS: daemon.address,
                    AWS_REGION: "us-east-1",
                    AWS_ACCESS_KEY_ID: "bench",
                    AWS_SECRET_ACCESS_KEY: "bench",
                    // Logs and EMF cost the same in every variant; silence them so the figures show the Tracer.
                    POWERTOOLS_LOG_LEVEL: "SILENT",
                    POWERTOOLS_METRICS_DISABLED: "true",
                    POWERTOOLS_SERVICE_NAME: EVENT_PROCESSOR_SERVICE_NAME,
                },
                stdio: ["ignore", "ignore", "inherit", "ipc"],
            });
            child.once("message", (message) => resolve(message as ChildResult));
            child.once("error", reject);
            child.once("exit", (code) => (code === 0 ? undefined : reject(new Error(`tracer bench child exited with ${code}`))));
        });
        const expected = result.sampledBatches + result.sampledEvents;
        await daemon.waitFor(expected, 5_000);
        const perEvent = (variant: Variant) => result.cpuMicros[variant].reduce((a, b) => a + b, 0) / events;
        const disabled = perEvent("disabled");
        return {
            tracerEvents: events,
            tracerDisabledCpuMicrosPerEvent: round3(disabled),
            tracerUnsampledCpuMicrosPerEvent: round3(perEvent("unsampled")),
            tracerSampledCpuMicrosPerEvent: round3(perEvent("sampled")),
            tracerUnsampledOverheadRatio: round3(perEvent("unsampled") / disabled),
            tracerSampledOverheadRatio: round3(perEvent("sampled") / disabled),
            tracerSampledOverheadRatioPerRound: spread(result.cpuMicros.sampled.map((micros, i) => micros / result.cpuMicros.disabled[i])),
            tracerSegmentsReceived: daemon.documents.length,
            tracerSegmentsExpected: expected,
            tracerSegmentsRejected: daemon.rejected.length,
            tracerPersisted: result.persisted,
        };
    } finally {
        await daemon.stop();
    }
}

export function format(f: TracerFigures): string[] {
    return [
        `events per variant: ${f.tracerEvents} (batches of ${BATCH_SIZE}, in-memory DynamoDB answers, logs and metrics off)`,
        `CPU per event, tracing disabled:          ${f.tracerDisabledCpuMicrosPerEvent} µs`,
        `CPU per event, tracing on, not sampled:   ${f.tracerUnsampledCpuMicrosPerEvent} µs  (x${f.tracerUnsampledOverheadRatio})`,
        `CPU per event, tracing on, sampled:       ${f.tracerSampledCpuMicrosPerEvent} µs  (x${f.tracerSampledOverheadRatio}; per round p10/p50/p90 ${f.tracerSampledOverheadRatioPerRound.join(" / ")})`,
        `segments sent to the daemon stand-in: ${f.tracerSegmentsReceived} of ${f.tracerSegmentsExpected} expected, ${f.tracerSegmentsRejected} refused; persisted ${f.tracerPersisted}`,
    ];
}

/** An SDK request handler that answers every request with `200 {}` from memory (PutItem's success). */
function inMemoryHandler() {
    return {
        handle: async () => ({
            response: {
                statusCode: 200,
                reason: "OK",
                headers: { "content-type": "application/x-amz-json-1.0", "x-amzn-requestid": "bench" },
                body: Readable.from([Buffer.from("{}")]),
            },
        }),
        updateHttpClientConfig: () => undefined,
        httpHandlerConfigs: () => ({}),
    };
}

async function child(events: number, rounds: number): Promise<void> {
    const { DynamoDBClient } = await import("@aws-sdk/client-dynamodb");
    const { SQSClient } = await import("@aws-sdk/client-sqs");
    const { createBatchProcessor } = await import("../handlers/event-processor");
    const { defaultTracer, disabledTracer, traceHandler } = await import("../handlers/tracing");
    const { exampleEvents, sqsRecord } = await import("../tests/support/factories/events");
    const clients = () => ({
        dynamodb: new DynamoDBClient({ requestHandler: inMemoryHandler() as never, maxAttempts: 1 }),
        sqs: new SQSClient({ requestHandler: inMemoryHandler() as never, maxAttempts: 1 }),
    });
    const base = { tableName: "events", deadLetterQueueUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/events-dlq" };
    const build = (tracer: ReturnType<typeof defaultTracer>) => {
        const processBatch = createBatchProcessor({ ...clients(), ...base, tracer });
        return traceHandler(tracer, (records: Parameters<typeof processBatch>[0]) => processBatch(records));
    };
    const enabled = defaultTracer(EVENT_PROCESSOR_SERVICE_NAME);
    if (!enabled.isTracingEnabled()) throw new Error("the tracer is not enabled in the bench child (AWS_EXECUTION_ENV?)");
    const handlers: Record<Variant, ReturnType<typeof build>> = {
        disabled: build(disabledTracer()),
        unsampled: build(enabled),
        sampled: build(enabled),
    };

    const examples = Object.values(exampleEvents());
    const perRound = Math.floor(events / rounds / BATCH_SIZE);
    const batchesOf = (variant: Variant, round: number) =>
        Array.from({ length: perRound }, (_, b) =>
            Array.from({ length: BATCH_SIZE }, (_, i) => {
                const example = examples[(b * BATCH_SIZE + i) % examples.length];
                const event = { ...example, clientId: `tenant-${i}`, eventId: `${variant}-${round}-${b}-${i}` };
                return sqsRecord(JSON.stringify(event), { messageId: `${variant}-${round}-${b}-${i}` });
            }),
        );
    const hex = (n: number) => Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join("");
    const result: ChildResult = {
        cpuMicros: { disabled: [], unsampled: [], sampled: [] },
        persisted: 0,
        sampledBatches: 0,
        sampledEvents: 0,
    };
    // Warm-up (JIT, SDK lazy loading, the X-Ray SDK's first facade segment), not measured.
    for (const variant of VARIANTS) {
        for (const records of batchesOf(variant, -1)) {
            process.env._X_AMZN_TRACE_ID = `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${hex(24)};Parent=${hex(16)};Sampled=${variant === "sampled" ? 1 : 0}`;
            await handlers[variant](records);
            if (variant === "sampled") {
                result.sampledBatches += 1;
                result.sampledEvents += records.length;
            }
        }
    }
    for (let round = 0; round < rounds; round++) {
        const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length]);
        for (const variant of order) {
            const batches = batchesOf(variant, round);
            const start = process.cpuUsage();
            for (const records of batches) {
                // Lambda sets the trace header per invocation; the X-Ray SDK starts a new facade segment for each.
                process.env._X_AMZN_TRACE_ID = `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${hex(24)};Parent=${hex(16)};Sampled=${variant === "sampled" ? 1 : 0}`;
                const { outcomes } = await handlers[variant](records);
                result.persisted += outcomes.filter((o) => o.outcome === "persisted").length;
                if (variant === "sampled") {
                    result.sampledBatches += 1;
                    result.sampledEvents += records.length;
                }
            }
            const used = process.cpuUsage(start);
            result.cpuMicros[variant].push(used.user + used.system);
        }
    }
    delete process.env._X_AMZN_TRACE_ID;
    process.send!(result, () => process.exit(0));
}

if (process.argv[2] === CHILD_FLAG) {
    child(Number(process.argv[3]), Number(process.argv[4])).catch((error) => {
        console.error(error);
        process.exit(1);
    });
}
