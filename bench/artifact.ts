/**
 * Artifact benchmark: the Lambda archives exactly as Pulumi would upload them
 * (taken from the mock deployment of the dev stack), run in fresh Node 22
 * processes with the runtime/layer packages on NODE_PATH as in Lambda.
 *   - processor: zipped size against the 256 KiB target; cold init (require
 *     `__index.js`, which builds the handler); and the cold start: from process
 *     start to the end of the first invocation, a batch of valid events written
 *     to DynamoDB Local (target <= 110 ms), with X-Ray tracing active as deployed
 *     and with it off (POWERTOOLS_TRACE_ENABLED=false), in a random order each run.
 *     The cold start is split into Node's boot, init and the first invocation, and
 *     printed beside what the same batch costs DynamoDB Local from a warm client
 *     (the emulator's latency, which real DynamoDB does not share).
 *   - email worker: zipped size (target <= 256 KiB) and cold init (target <= 120 ms),
 *     traced and untraced.
 *
 * Run alone: `node scripts/node22.js -r ./scripts/register-ts.js bench/artifact.ts`
 */
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { integerOption } from "./index";
import { LOCAL_CREDENTIALS, startDynamoDbLocal } from "../local/offline/emulators";
import { directoryBytes, invokeArtifact, prepareArtifact, shippedPackages, zipDirectory } from "../local/offline/lambda-artifact";
import { exampleEvents, sqsEvent } from "../tests/support/factories/events";
import { benchDeployment } from "./support/stack";

/** The size target for a function's deployment package. */
export const ARCHIVE_TARGET_BYTES = 256 * 1024;
/** Processor: process start to the end of the first invocation. */
export const COLD_START_TARGET_MS = 110;
/** Email worker: require + build the handler. */
export const EMAIL_WORKER_COLD_INIT_TARGET_MS = 120;

/** Medians and extremes of repeated timings, in ms. */
export type Spread = { runs: number; median: number; min: number; max: number };

/** Figures (field names unique across bench modes: the registry merges them). */
export interface ArtifactFigures {
    /** Bytes of the zip Lambda would receive. */
    processorArchiveZippedBytes: number;
    /** Bytes of the unpacked archive. */
    processorArchiveUnzippedBytes: number;
    processorArchiveTargetBytes: number;
    processorArchiveWithinTarget: boolean;
    /** Packages in the archive's node_modules. */
    processorArchivePackages: string[];
    /** Cold init (require + handler build) per fresh process, milliseconds. */
    processorColdInitMs: Spread;
    /** Processor cold start, median ms: process start to the end of the first invocation (a batch of valid events). */
    coldStartMs: number;
    coldStartSpreadMs: Spread;
    /** CPU (user + system) the cold-start process used by the end of its first invocation: less sensitive to a loaded machine than wall time. */
    coldStartCpuMs: Spread;
    coldStartTargetMs: number;
    /** The traced cold start's parts, medians in ms: Node's boot, init (require + build), the first invocation. */
    coldStartPartsMs: { nodeBoot: number; init: number; firstInvocation: number };
    /** The same cold start with X-Ray tracing off (POWERTOOLS_TRACE_ENABLED=false): the Tracer's share is the difference. */
    coldStartUntracedMs: Spread;
    /** Ten concurrent PutItems of the same batch from a warm client: DynamoDB Local's own latency, part of every first invocation here. */
    dynamoDbLocalBatchMs: Spread;
    /** Bytes of the email worker's zip. */
    emailWorkerArchiveBytes: number;
    emailWorkerArchiveUnzippedBytes: number;
    emailWorkerArchivePackages: string[];
    /** Email worker cold init (require + handler build) per fresh process, milliseconds. */
    emailWorkerColdInitMs: Spread;
    /** CPU the worker's process used by the end of its init (Node's own start included). */
    emailWorkerColdInitCpuMs: Spread;
    emailWorkerColdInitTargetMs: number;
    /** The worker's cold init with X-Ray tracing off. */
    emailWorkerColdInitUntracedMs: Spread;
}

export const description =
    "Lambda archives' zipped sizes (target <= 256 KiB), processor cold start (target <= 110 ms) and email worker cold init (target <= 120 ms)";
export const options = {
    "cold-starts": integerOption("fresh processes to time each cold start over", 5, 1, 50),
};

/** The {@link Spread} of `values` (rounded to 0.1). */
export function spread(values: number[]): Spread {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    const round1 = (n: number) => Math.round(n * 10) / 10;
    return { runs: sorted.length, median: round1(median), min: round1(sorted[0]), max: round1(sorted[sorted.length - 1]) };
}

const credentials = (region: string) => ({
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
});

async function processorFigures(coldStarts: number) {
    const deployment = await benchDeployment();
    const artifact = await prepareArtifact(deployment, "event-processor");
    const dynamo = await startDynamoDbLocal({ jit: "throughput" });
    try {
        const zippedBytes = (await zipDirectory(artifact.archiveDir)).length;
        const environment = { ...artifact.environment, ...credentials(deployment.region), AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint };
        const dynamodb = new DynamoDBClient({ endpoint: dynamo.endpoint, region: deployment.region, credentials: LOCAL_CREDENTIALS });
        try {
            await dynamodb.send(
                new CreateTableCommand({
                    TableName: artifact.environment.EVENT_TABLE_NAME,
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
        } finally {
            dynamodb.destroy();
        }
        const inits: number[] = [];
        const starts: number[] = [];
        const startCpu: number[] = [];
        const parts = { nodeBoot: [] as number[], init: [] as number[], firstInvocation: [] as number[] };
        const untracedStarts: number[] = [];
        const emulatorBatches: number[] = [];
        const examples = Object.values(exampleEvents());
        const batchOf = (prefix: string) =>
            Array.from({ length: 10 }, (_, i) => ({ ...examples[i % examples.length], eventId: `${prefix}-${i}` }));
        const coldStart = async (prefix: string, extra: Record<string, string>) => {
            const invoked = await invokeArtifact<{ batchItemFailures: unknown[] }>({
                archiveDir: artifact.archiveDir,
                layerDir: artifact.layerDir,
                environment: { ...environment, ...extra },
                event: sqsEvent(batchOf(prefix)),
                functionName: "event-processor",
            });
            if (invoked.error || invoked.result?.batchItemFailures.length !== 0) {
                throw new Error(
                    `the processor's first invocation did not store its batch: ${JSON.stringify(invoked.error ?? invoked.result)}\n${invoked.stderr}`,
                );
            }
            return invoked;
        };
        const warmClient = new DynamoDBClient({ endpoint: dynamo.endpoint, region: deployment.region, credentials: LOCAL_CREDENTIALS });
        try {
            for (let run = 0; run < coldStarts; run++) {
                const init = await invokeArtifact({
                    archiveDir: artifact.archiveDir,
                    layerDir: artifact.layerDir,
                    environment,
                    functionName: "event-processor",
                });
                if (init.error) throw new Error(`the processor archive failed to initialise: ${init.error.name}: ${init.error.message}`);
                inits.push(init.initMs);
                // Traced (as deployed) and untraced in a random order, so neither always runs on a warmer machine.
                const variants = Math.random() < 0.5 ? (["traced", "untraced"] as const) : (["untraced", "traced"] as const);
                for (const variant of variants) {
                    if (variant === "untraced") {
                        untracedStarts.push((await coldStart(`cold-untraced-${run}`, { POWERTOOLS_TRACE_ENABLED: "false" })).processMs);
                        continue;
                    }
                    const invoked = await coldStart(`cold-${run}`, {});
                    starts.push(invoked.processMs);
                    startCpu.push(invoked.processCpuMs);
                    parts.nodeBoot.push(invoked.bootMs);
                    parts.init.push(invoked.initMs);
                    parts.firstInvocation.push(invoked.processMs - invoked.bootMs - invoked.initMs);
                }
                const started = performance.now();
                await Promise.all(
                    batchOf(`emulator-${run}`).map((event) =>
                        warmClient.send(
                            new PutItemCommand({
                                TableName: artifact.environment.EVENT_TABLE_NAME,
                                Item: {
                                    clientId: { S: event.clientId },
                                    eventId: { S: event.eventId },
                                    payload: { S: JSON.stringify(event) },
                                },
                                ConditionExpression: "attribute_not_exists(eventId)",
                            }),
                        ),
                    ),
                );
                emulatorBatches.push(performance.now() - started);
            }
        } finally {
            warmClient.destroy();
        }
        return {
            processorArchiveZippedBytes: zippedBytes,
            processorArchiveUnzippedBytes: directoryBytes(artifact.archiveDir),
            processorArchiveTargetBytes: ARCHIVE_TARGET_BYTES,
            processorArchiveWithinTarget: zippedBytes <= ARCHIVE_TARGET_BYTES,
            processorArchivePackages: shippedPackages(artifact.entries),
            processorColdInitMs: spread(inits),
            coldStartMs: spread(starts).median,
            coldStartSpreadMs: spread(starts),
            coldStartCpuMs: spread(startCpu),
            coldStartTargetMs: COLD_START_TARGET_MS,
            coldStartPartsMs: {
                nodeBoot: spread(parts.nodeBoot).median,
                init: spread(parts.init).median,
                firstInvocation: spread(parts.firstInvocation).median,
            },
            coldStartUntracedMs: spread(untracedStarts),
            dynamoDbLocalBatchMs: spread(emulatorBatches),
        };
    } finally {
        artifact.cleanup();
        await dynamo.stop();
    }
}

async function emailWorkerFigures(coldStarts: number) {
    const deployment = await benchDeployment();
    const artifact = await prepareArtifact(deployment, "email-worker");
    try {
        const environment = { ...artifact.environment, ...credentials(deployment.region) };
        const inits: number[] = [];
        const initCpu: number[] = [];
        const untracedInits: number[] = [];
        const initialise = async (extra: Record<string, string>) => {
            const init = await invokeArtifact({
                archiveDir: artifact.archiveDir,
                layerDir: artifact.layerDir,
                environment: { ...environment, ...extra },
                functionName: "email-worker",
            });
            if (init.error) throw new Error(`the email worker archive failed to initialise: ${init.error.name}: ${init.error.message}`);
            return init;
        };
        for (let run = 0; run < coldStarts; run++) {
            const tracedFirst = Math.random() < 0.5;
            if (!tracedFirst) untracedInits.push((await initialise({ POWERTOOLS_TRACE_ENABLED: "false" })).initMs);
            const init = await initialise({});
            inits.push(init.initMs);
            initCpu.push(init.processCpuMs);
            if (tracedFirst) untracedInits.push((await initialise({ POWERTOOLS_TRACE_ENABLED: "false" })).initMs);
        }
        return {
            emailWorkerArchiveBytes: (await zipDirectory(artifact.archiveDir)).length,
            emailWorkerArchiveUnzippedBytes: directoryBytes(artifact.archiveDir),
            emailWorkerArchivePackages: shippedPackages(artifact.entries),
            emailWorkerColdInitMs: spread(inits),
            emailWorkerColdInitCpuMs: spread(initCpu),
            emailWorkerColdInitTargetMs: EMAIL_WORKER_COLD_INIT_TARGET_MS,
            emailWorkerColdInitUntracedMs: spread(untracedInits),
        };
    } finally {
        artifact.cleanup();
    }
}

/**
 * Measures the Lambda artifacts.
 *
 * @example
 * const figures = await run({ coldStarts: 5 });
 */
export async function run(options: { coldStarts?: number } = {}): Promise<ArtifactFigures> {
    const coldStarts = options.coldStarts ?? 5;
    return { ...(await processorFigures(coldStarts)), ...(await emailWorkerFigures(coldStarts)) };
}

/** Human-readable lines for the bench report. */
export function format(figures: ArtifactFigures): string[] {
    const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
    const ms = (s: Spread) => `median ${s.median.toFixed(1)} ms over ${s.runs} runs (min ${s.min.toFixed(1)}, max ${s.max.toFixed(1)})`;
    const met = (ok: boolean) => (ok ? "met" : "MISSED");
    return [
        `processor archive zipped: ${kib(figures.processorArchiveZippedBytes)} (target <= ${kib(figures.processorArchiveTargetBytes)}: ${met(figures.processorArchiveWithinTarget)}), unzipped ${kib(figures.processorArchiveUnzippedBytes)}, ships ${figures.processorArchivePackages.join(", ") || "nothing"}`,
        `processor cold init (fresh process, require + build handler): ${ms(figures.processorColdInitMs)}`,
        `coldStartMs     ${figures.coldStartMs.toFixed(1)}  (processor, process start to the end of the first invocation of 10 events; target <= ${figures.coldStartTargetMs}: ${met(figures.coldStartMs <= figures.coldStartTargetMs)}; ${ms(figures.coldStartSpreadMs)}; CPU ${ms(figures.coldStartCpuMs)})`,
        `  cold start parts (traced, medians): Node boot ${figures.coldStartPartsMs.nodeBoot.toFixed(1)} ms, init ${figures.coldStartPartsMs.init.toFixed(1)} ms, first invocation ${figures.coldStartPartsMs.firstInvocation.toFixed(1)} ms; DynamoDB Local answers the same batch to a warm client in ${ms(figures.dynamoDbLocalBatchMs)}`,
        `  cold start with X-Ray tracing off (POWERTOOLS_TRACE_ENABLED=false): ${ms(figures.coldStartUntracedMs)}`,
        `email worker archive zipped: ${kib(figures.emailWorkerArchiveBytes)} (target <= ${kib(ARCHIVE_TARGET_BYTES)}: ${met(figures.emailWorkerArchiveBytes <= ARCHIVE_TARGET_BYTES)}), unzipped ${kib(figures.emailWorkerArchiveUnzippedBytes)}, ships ${figures.emailWorkerArchivePackages.join(", ")}`,
        `email worker cold init (require + build handler): ${ms(figures.emailWorkerColdInitMs)} (target <= ${figures.emailWorkerColdInitTargetMs}: ${met(figures.emailWorkerColdInitMs.median <= figures.emailWorkerColdInitTargetMs)}); process CPU to the end of init ${ms(figures.emailWorkerColdInitCpuMs)}; with tracing off ${ms(figures.emailWorkerColdInitUntracedMs)}`,
    ];
}

if (require.main === module) {
    run()
        .then((figures) => {
            for (const line of format(figures)) console.log(line);
        })
        .catch((error) => {
            console.error(error);
            process.exit(1);
        });
}
