/**
 * Artifact benchmark: the Lambda archives exactly as Pulumi would upload them
 * (taken from the mock deployment of the dev stack), run in fresh Node 22
 * processes with the runtime/layer packages on NODE_PATH as in Lambda.
 *   - processor: zipped size against the 256 KiB target; cold init (require
 *     `__index.js`, which builds the handler); and the cold start: from process
 *     start to the end of the first invocation, a batch of valid events written
 *     to DynamoDB Local (target <= 110 ms).
 *   - email worker: zipped size (target <= 256 KiB) and cold init (target <= 120 ms).
 *
 * Run alone: `node scripts/node22.js -r ts-node/register/transpile-only bench/artifact.ts`
 */
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { integerOption } from "./index";
import { LOCAL_CREDENTIALS, startDynamoDbLocal } from "../local/emulators";
import { directoryBytes, invokeArtifact, prepareArtifact, shippedPackages, zipDirectory } from "../local/lambda-artifact";
import { exampleEvents, sqsEvent } from "../tests/support/factories/events";
import { benchDeployment } from "./support/stack";

/** The size target for a function's deployment package. */
export const ARCHIVE_TARGET_BYTES = 256 * 1024;
/** Processor: process start to the end of the first invocation. */
export const COLD_START_TARGET_MS = 110;
/** Email worker: require + build the handler. */
export const EMAIL_WORKER_COLD_INIT_TARGET_MS = 120;

type Spread = { runs: number; median: number; min: number; max: number };

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
    /** Bytes of the email worker's zip. */
    emailWorkerArchiveBytes: number;
    emailWorkerArchiveUnzippedBytes: number;
    emailWorkerArchivePackages: string[];
    /** Email worker cold init (require + handler build) per fresh process, milliseconds. */
    emailWorkerColdInitMs: Spread;
    /** CPU the worker's process used by the end of its init (Node's own start included). */
    emailWorkerColdInitCpuMs: Spread;
    emailWorkerColdInitTargetMs: number;
}

export const description = "Lambda archives' zipped sizes (target <= 256 KiB), processor cold start (target <= 110 ms) and email worker cold init (target <= 120 ms)";
export const options = {
    "cold-starts": integerOption("fresh processes to time each cold start over", 5, 1, 50),
};

function spread(values: number[]): Spread {
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
    const dynamo = await startDynamoDbLocal();
    try {
        const zippedBytes = zipDirectory(artifact.archiveDir).length;
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
        const examples = Object.values(exampleEvents());
        for (let run = 0; run < coldStarts; run++) {
            const init = await invokeArtifact({ archiveDir: artifact.archiveDir, layerDir: artifact.layerDir, environment, functionName: "event-processor" });
            if (init.error) throw new Error(`the processor archive failed to initialise: ${init.error.name}: ${init.error.message}`);
            inits.push(init.initMs);
            const batch = Array.from({ length: 10 }, (_, i) => ({ ...examples[i % examples.length], eventId: `cold-${run}-${i}` }));
            const invoked = await invokeArtifact<{ batchItemFailures: unknown[] }>({
                archiveDir: artifact.archiveDir,
                layerDir: artifact.layerDir,
                environment,
                event: sqsEvent(batch),
                functionName: "event-processor",
            });
            if (invoked.error || invoked.result?.batchItemFailures.length !== 0) {
                throw new Error(`the processor's first invocation did not store its batch: ${JSON.stringify(invoked.error ?? invoked.result)}\n${invoked.stderr}`);
            }
            starts.push(invoked.processMs);
            startCpu.push(invoked.processCpuMs);
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
        for (let run = 0; run < coldStarts; run++) {
            const init = await invokeArtifact({ archiveDir: artifact.archiveDir, layerDir: artifact.layerDir, environment, functionName: "email-worker" });
            if (init.error) throw new Error(`the email worker archive failed to initialise: ${init.error.name}: ${init.error.message}`);
            inits.push(init.initMs);
            initCpu.push(init.processCpuMs);
        }
        return {
            emailWorkerArchiveBytes: zipDirectory(artifact.archiveDir).length,
            emailWorkerArchiveUnzippedBytes: directoryBytes(artifact.archiveDir),
            emailWorkerArchivePackages: shippedPackages(artifact.entries),
            emailWorkerColdInitMs: spread(inits),
            emailWorkerColdInitCpuMs: spread(initCpu),
            emailWorkerColdInitTargetMs: EMAIL_WORKER_COLD_INIT_TARGET_MS,
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
        `email worker archive zipped: ${kib(figures.emailWorkerArchiveBytes)} (target <= ${kib(ARCHIVE_TARGET_BYTES)}: ${met(figures.emailWorkerArchiveBytes <= ARCHIVE_TARGET_BYTES)}), unzipped ${kib(figures.emailWorkerArchiveUnzippedBytes)}, ships ${figures.emailWorkerArchivePackages.join(", ")}`,
        `email worker cold init (require + build handler): ${ms(figures.emailWorkerColdInitMs)} (target <= ${figures.emailWorkerColdInitTargetMs}: ${met(figures.emailWorkerColdInitMs.median <= figures.emailWorkerColdInitTargetMs)}); process CPU to the end of init ${ms(figures.emailWorkerColdInitCpuMs)}`,
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
