/**
 * Artifact benchmark: the processor archive exactly as Pulumi would upload it
 * (taken from the mock deployment), its zipped size against the 256 KiB target,
 * and its cold init time: a fresh Node 22 process requiring `__index.js`, which
 * builds the handler (the callbackFactory runs at load), with the runtime/layer
 * packages on NODE_PATH as in Lambda.
 *
 * Run alone: `node scripts/node22.js -r ts-node/register/transpile-only bench/artifact.ts`
 */
import { integerOption } from "./index";
import { LOCAL_CREDENTIALS } from "../local/emulators";
import { directoryBytes, invokeArtifact, prepareArtifact, zipDirectory } from "../local/lambda-artifact";
import { deployUnderMocks } from "../local/mock-deployment";

/** The size target for the processor's deployment package. */
export const ARCHIVE_TARGET_BYTES = 256 * 1024;

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
    processorColdInitMs: { runs: number; median: number; min: number; max: number };
}

export const description = "processor archive zipped size (target <= 256 KiB) and cold init time in a fresh Node 22 process";
export const options = {
    "cold-starts": integerOption("fresh processes to time the cold init over", 5, 1, 50),
};

function median(values: number[]): number {
    const sorted = [...values].sort((a, b) => a - b);
    const mid = Math.floor(sorted.length / 2);
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Measures the processor artifact.
 *
 * @example
 * const figures = await run({ coldStarts: 5 });
 */
export async function run(options: { coldStarts?: number; functionName?: string } = {}): Promise<ArtifactFigures> {
    const deployment = await deployUnderMocks({ stack: "dev" });
    const artifact = await prepareArtifact(deployment, options.functionName ?? "event-processor");
    try {
        const zippedBytes = zipDirectory(artifact.archiveDir).length;
        const environment = {
            ...artifact.environment,
            AWS_REGION: deployment.region,
            AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
            AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
        };
        const inits: number[] = [];
        for (let i = 0; i < (options.coldStarts ?? 5); i++) {
            const result = await invokeArtifact({ archiveDir: artifact.archiveDir, layerDir: artifact.layerDir, environment });
            if (result.error) throw new Error(`the archive failed to initialise: ${result.error.name}: ${result.error.message}`);
            inits.push(result.initMs);
        }
        return {
            processorArchiveZippedBytes: zippedBytes,
            processorArchiveUnzippedBytes: directoryBytes(artifact.archiveDir),
            processorArchiveTargetBytes: ARCHIVE_TARGET_BYTES,
            processorArchiveWithinTarget: zippedBytes <= ARCHIVE_TARGET_BYTES,
            processorArchivePackages: [...artifact.entries.keys()].filter((k) => k.startsWith("node_modules/")).map((k) => k.slice("node_modules/".length)),
            processorColdInitMs: { runs: inits.length, median: median(inits), min: Math.min(...inits), max: Math.max(...inits) },
        };
    } finally {
        artifact.cleanup();
    }
}

/** Human-readable lines for the bench report. */
export function format(figures: ArtifactFigures): string[] {
    const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
    const init = figures.processorColdInitMs;
    return [
        `processor archive zipped: ${kib(figures.processorArchiveZippedBytes)} (target <= ${kib(figures.processorArchiveTargetBytes)}: ${figures.processorArchiveWithinTarget ? "met" : "MISSED"}), unzipped ${kib(figures.processorArchiveUnzippedBytes)}, ships ${figures.processorArchivePackages.join(", ") || "nothing"}`,
        `processor cold init (fresh process, require + build handler): median ${init.median.toFixed(1)} ms over ${init.runs} runs (min ${init.min.toFixed(1)}, max ${init.max.toFixed(1)})`,
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
