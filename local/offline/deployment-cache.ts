/**
 * A mock deployment kept on disk between processes, so that `npm start`, `npm run local` and the
 * tests that start them run the Pulumi program under mocks once per change, not once per start
 * (about five seconds of CPU each time, most of a start).
 *
 * A kept deployment is used only when every file the deployment read is byte for byte what it was:
 * while it runs, every `fs.readFileSync` and `fs.existsSync` of a file of this repository is
 * recorded (the program's modules, read by Node's loader and ts-node, the stack and project files,
 * the generated schemas), with its SHA-256, or its absence. Installed packages are covered by
 * `package-lock.json` and `node_modules/.package-lock.json`, which npm rewrites on every install;
 * the Node.js version and the repository's path are part of the key. Anything else that changed
 * makes the next start run the program again and replace the file. Delete `.local/cache/` to
 * force a run.
 */
import * as crypto from "node:crypto";
import fs = require("node:fs");
import * as path from "node:path";
import { deploymentKey, deployUnderMocks, type MockDeployment, type MockDeploymentOptions } from "./mock-deployment";

const ROOT = path.resolve(__dirname, "..", "..");
/** Where kept deployments live: the local pipeline's own folder, which git ignores. */
export const DEPLOYMENT_CACHE_DIR = path.join(ROOT, ".local", "cache");
/** Bumped when the file's shape or the recording changes, so older files are never read as current. */
const FORMAT = 1;

/** One file a deployment read: its SHA-256, or null when it was looked for and absent. */
interface ReadFile {
    path: string;
    sha256: string | null;
}

interface KeptDeployment {
    format: number;
    key: string;
    reads: ReadFile[];
    deployment: MockDeployment;
}

export interface CachedDeploymentOptions {
    /** @default {@link DEPLOYMENT_CACHE_DIR} */
    cacheDir?: string;
    /** Runs the program; tests pass their own. @default deployUnderMocks */
    deploy?: (options: MockDeploymentOptions) => Promise<MockDeployment>;
    /** Files outside the repository whose reads count too (tests of this module). @default the repository */
    watchedRoot?: string;
}

/** The result of {@link cachedDeployment}: the deployment and whether it came from disk. */
export interface CachedDeployment {
    deployment: MockDeployment;
    fromCache: boolean;
}

/**
 * {@link deployUnderMocks}, or the deployment an earlier process made with the same options when
 * nothing it read has changed since. Options with secret config are never kept on disk.
 *
 * @example
 * const { deployment, fromCache } = await cachedDeployment({ stack: "localstack" });
 */
export async function cachedDeployment(
    options: MockDeploymentOptions,
    cacheOptions: CachedDeploymentOptions = {},
): Promise<CachedDeployment> {
    const deploy = cacheOptions.deploy ?? deployUnderMocks;
    if (options.secretConfig && Object.keys(options.secretConfig).length > 0)
        return { deployment: await deploy(options), fromCache: false };
    const cacheDir = cacheOptions.cacheDir ?? DEPLOYMENT_CACHE_DIR;
    const key = cacheKey(options);
    const file = path.join(cacheDir, `deployment-${key.slice(0, 32)}.json`);
    const kept = readKept(file, key);
    if (kept) return { deployment: kept.deployment, fromCache: true };

    const watchedRoot = cacheOptions.watchedRoot ?? ROOT;
    const { result, reads } = await recordingReads(watchedRoot, () => deploy(options));
    // What a kept file gives back, on this start too: one behaviour whether or not it was kept.
    const deployment = JSON.parse(JSON.stringify(await settled(result))) as MockDeployment;
    // Under the repository's own folder only: the kept files themselves are not inputs.
    const inputs = reads.filter((read) => !read.path.startsWith(cacheDir + path.sep));
    writeKept(file, { format: FORMAT, key, reads: inputs, deployment });
    return { deployment, fromCache: false };
}

/** What decides a deployment besides the files it reads. */
function cacheKey(options: MockDeploymentOptions): string {
    const lockFiles = ["package-lock.json", path.join("node_modules", ".package-lock.json")].map((file) => fileHash(path.join(ROOT, file)));
    const material = JSON.stringify({
        format: FORMAT,
        node: process.version,
        root: ROOT,
        lockFiles,
        deployment: deploymentKey(options),
    });
    return crypto.createHash("sha256").update(material).digest("hex");
}

function readKept(file: string, key: string): KeptDeployment | undefined {
    let kept: KeptDeployment;
    try {
        kept = JSON.parse(fs.readFileSync(file, "utf8")) as KeptDeployment;
    } catch {
        return undefined; // absent, or cut short by a crash: run the program
    }
    if (kept.format !== FORMAT || kept.key !== key || !Array.isArray(kept.reads)) return undefined;
    return kept.reads.every((read) => fileHash(read.path) === read.sha256) ? kept : undefined;
}

function writeKept(file: string, kept: KeptDeployment): void {
    try {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        // Renamed into place: a concurrent start reads the old file or the new one, never half of one.
        const partial = `${file}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`;
        fs.writeFileSync(partial, JSON.stringify(kept));
        fs.renameSync(partial, file);
    } catch {
        // A read-only checkout still starts; it only runs the program every time.
    }
}

function fileHash(file: string): string | null {
    try {
        return crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
    } catch {
        return null;
    }
}

/**
 * Runs `work` while recording the files under `root` (outside any node_modules) that are read or
 * looked for. The recording wraps the `fs` functions themselves, which Node's module loader and
 * ts-node call through, so a module loaded by `require` counts as read.
 */
async function recordingReads<T>(root: string, work: () => Promise<T>): Promise<{ result: T; reads: ReadFile[] }> {
    const seen = new Set<string>();
    const watched = (file: fs.PathOrFileDescriptor | fs.PathLike): string | undefined => {
        if (typeof file !== "string" || file.startsWith("node:")) return undefined;
        const absolute = path.resolve(file);
        if (!absolute.startsWith(root + path.sep) || absolute.split(path.sep).includes("node_modules")) return undefined;
        return absolute;
    };
    const readFileSync = fs.readFileSync;
    const existsSync = fs.existsSync;
    const patched = fs as unknown as Record<string, unknown>;
    patched.readFileSync = function (this: unknown, file: fs.PathOrFileDescriptor, ...rest: unknown[]) {
        const absolute = watched(file);
        if (absolute) seen.add(absolute);
        return (readFileSync as (...args: unknown[]) => unknown).call(this, file, ...rest);
    };
    patched.existsSync = function (this: unknown, file: fs.PathLike) {
        const absolute = watched(file);
        if (absolute) seen.add(absolute);
        return existsSync.call(this, file);
    };
    try {
        const result = await work();
        return { result, reads: [...seen].sort().map((file) => ({ path: file, sha256: fileHash(file) })) };
    } finally {
        patched.readFileSync = readFileSync;
        patched.existsSync = existsSync;
    }
}

/**
 * The deployment as plain data: every promise awaited, every object (Pulumi's assets and archives
 * among them: an AssetArchive's `assets`, a StringAsset's `text`, a FileArchive's `path` are
 * promises) copied with its own enumerable fields. What reads a deployment awaits those fields, and
 * awaiting a plain value gives the value.
 */
async function settled(value: unknown): Promise<unknown> {
    const resolved = await value;
    if (Array.isArray(resolved)) return Promise.all(resolved.map(settled));
    if (resolved && typeof resolved === "object") {
        const entries = await Promise.all(Object.entries(resolved).map(async ([name, item]) => [name, await settled(item)] as const));
        return Object.fromEntries(entries);
    }
    return resolved;
}
