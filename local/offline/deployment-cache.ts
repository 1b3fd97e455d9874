/**
 * A result kept on disk between processes while nothing it was computed from has changed: here, a
 * mock deployment (local/offline/mock-deployment `cachedDeployment`), so that `npm start`,
 * `npm run local` and the test suite's processes run the Pulumi program under mocks once per
 * change, not once per start (about five seconds of CPU each time, most of a start).
 *
 * A kept result is used only when every file the computation read is byte for byte what it was:
 * while it runs, every `fs.readFileSync` and `fs.existsSync` of a file of the watched folder (the
 * repository: the program's modules, read by Node's loader and ts-node, the stack and project
 * files) is recorded with its SHA-256, or its absence. Installed packages are covered by
 * `package-lock.json` and `node_modules/.package-lock.json`, which npm rewrites on every install;
 * the Node.js version and the repository's path are part of the key. Anything else that changed
 * makes the next call compute it again and replace the file. Delete `.local/cache/` to force it.
 *
 * Processes that miss the same key at once (both mocha workers asking for the dev stack on a fresh
 * clone) compute it once: the first takes `<file>.lock` and the others wait for its result.
 */
import * as crypto from "node:crypto";
import fs = require("node:fs");
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");
/** Where kept results live: the local pipeline's own folder, which git ignores. */
export const KEPT_RESULTS_DIR = path.join(ROOT, ".local", "cache");
/** Bumped when the file's shape or the recording changes, so older files are never read as current. */
const FORMAT = 1;

/** One file a computation read: its SHA-256, or null when it was looked for and absent. */
interface ReadFile {
    path: string;
    sha256: string | null;
}

interface Kept<T> {
    format: number;
    key: string;
    reads: ReadFile[];
    result: T;
}

export interface KeptResultOptions {
    /** @default {@link KEPT_RESULTS_DIR} */
    cacheDir?: string;
    /** The folder whose files count as inputs (never its node_modules). @default the repository */
    watchedRoot?: string;
    /** How long to wait for another process computing the same key before computing it too. @default one minute */
    lockWaitMs?: number;
}

/**
 * `compute()`'s result as plain data (promises awaited, objects copied with their own enumerable
 * fields, then through JSON), or the result an earlier process kept under the same `key` when
 * nothing it read has changed since. Both paths give the same plain data.
 *
 * @example
 * const { result, fromCache } = await keptResult(`deployment ${key}`, () => deployUnderMocks(options));
 */
export async function keptResult<T>(
    key: string,
    compute: () => Promise<T>,
    options: KeptResultOptions = {},
): Promise<{ result: T; fromCache: boolean }> {
    const cacheDir = options.cacheDir ?? KEPT_RESULTS_DIR;
    const fullKey = crypto
        .createHash("sha256")
        .update(JSON.stringify({ format: FORMAT, environment: environmentKey(), key }))
        .digest("hex");
    const file = path.join(cacheDir, `${fullKey.slice(0, 32)}.json`);
    const kept = readKept<T>(file, fullKey);
    if (kept) return { result: kept.result, fromCache: true };

    // Another process (the other mocha worker, a second start) may be computing the same key: wait for
    // its result rather than compute it a second time.
    const lock = await lockOrKept<T>(file, fullKey, options.lockWaitMs ?? LOCK_WAIT_MS);
    if ("kept" in lock) return { result: lock.kept.result, fromCache: true };
    try {
        const { result, reads } = await oneAtATime(() => recordingReads(options.watchedRoot ?? ROOT, compute));
        const plain = JSON.parse(JSON.stringify(await settled(result))) as T;
        // The kept files themselves are not inputs.
        const inputs = reads.filter((read) => !read.path.startsWith(cacheDir + path.sep));
        writeKept(file, { format: FORMAT, key: fullKey, reads: inputs, result: plain });
        return { result: plain, fromCache: false };
    } finally {
        lock.release();
    }
}

/**
 * How long a process waits for another one's computation of the same key before computing it itself:
 * a deployment takes up to about 25 s on two loaded cores, and a waiter that gives up still ends
 * within the 120 s most tests give a deployment.
 */
const LOCK_WAIT_MS = 60_000;
/** How often a waiting process looks at the lock. */
const LOCK_POLL_MS = 50;

/** What a lock file holds: who computes the key, so a waiter can tell when that process died. */
interface LockOwner {
    pid: number;
    host: string;
    token: string;
}

/**
 * This process's right to compute `file`'s key (`release` gives it up), or the result another process
 * kept while this one waited. The lock is `<file>.lock`, created whole or not at all (a hard link to a
 * file already written, which fails when the name exists). A waiter polls it: when it is gone, the kept
 * result is read (or, if the holder kept none, the lock is taken); when its holder's process is dead,
 * the lock is taken over. After `waitMs` the waiter computes without the lock: a stuck holder costs a
 * second computation, never a hang. Two waiters taking over the same dead holder's lock at once can
 * both compute: a result computed twice, never a wrong one, as every write replaces the file whole.
 */
async function lockOrKept<T>(file: string, key: string, waitMs: number): Promise<{ release: () => void } | { kept: Kept<T> }> {
    const lockFile = `${file}.lock`;
    const owner: LockOwner = { pid: process.pid, host: os.hostname(), token: crypto.randomBytes(8).toString("hex") };
    const deadline = Date.now() + waitMs;
    for (;;) {
        const taken = tryLock(lockFile, owner);
        if (taken === "unlockable") return { release: () => undefined };
        if (taken === "taken") {
            const release = () => removeLockOf(lockFile, owner);
            // The previous holder may have kept its result between this process's first look and now.
            const kept = readKept<T>(file, key);
            if (kept) {
                release();
                return { kept };
            }
            return { release };
        }
        const holder = readLock(lockFile);
        if (holder === "absent") {
            const kept = readKept<T>(file, key);
            if (kept) return { kept };
            continue; // the holder kept nothing (it failed): take the lock
        }
        // Taken on the next turn, unless another waiter is first.
        if (holder !== "unreadable" && !isAlive(holder)) removeLockOf(lockFile, holder);
        if (Date.now() >= deadline) return { release: () => undefined };
        await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
    }
}

/** "taken" when this process now holds the lock, "held" when another does, "unlockable" when no lock can be made (a read-only checkout). */
function tryLock(lockFile: string, owner: LockOwner): "taken" | "held" | "unlockable" {
    const written = `${lockFile}.${owner.token}.tmp`;
    try {
        fs.mkdirSync(path.dirname(lockFile), { recursive: true });
        fs.writeFileSync(written, JSON.stringify(owner));
    } catch {
        return "unlockable";
    }
    try {
        fs.linkSync(written, lockFile);
        return "taken";
    } catch (error) {
        return (error as NodeJS.ErrnoException).code === "EEXIST" ? "held" : "unlockable";
    } finally {
        fs.rmSync(written, { force: true });
    }
}

function readLock(lockFile: string): LockOwner | "absent" | "unreadable" {
    try {
        const owner = JSON.parse(fs.readFileSync(lockFile, "utf8")) as LockOwner;
        return Number.isInteger(owner.pid) && typeof owner.host === "string" && typeof owner.token === "string" ? owner : "unreadable";
    } catch (error) {
        return (error as NodeJS.ErrnoException).code === "ENOENT" ? "absent" : "unreadable";
    }
}

/** Whether the lock's holder still runs; a holder on another host (a shared folder) is taken to. */
function isAlive(owner: LockOwner): boolean {
    if (owner.host !== os.hostname()) return true;
    try {
        process.kill(owner.pid, 0);
        return true;
    } catch (error) {
        return (error as NodeJS.ErrnoException).code === "EPERM"; // it runs, as another user
    }
}

/**
 * Removes the lock while `owner` holds it: this process's own on release, or a dead holder's on takeover,
 * unless another waiter has already replaced it with its own.
 */
function removeLockOf(lockFile: string, owner: LockOwner): void {
    const current = readLock(lockFile);
    if (current !== "absent" && current !== "unreadable" && current.token === owner.token) fs.rmSync(lockFile, { force: true });
}

const RECORDING = Symbol.for("event-ingestion.offline.keptResultRecording");

/**
 * Runs recordings one after the other in this process: each wraps the same `fs` functions, and two at
 * once would restore each other's wrappers out of order and miss reads. On `globalThis`, as a mock
 * deployment reloads this module.
 */
async function oneAtATime<T>(work: () => Promise<T>): Promise<T> {
    const holder = globalThis as unknown as Record<symbol, Promise<unknown> | undefined>;
    const previous = holder[RECORDING] ?? Promise.resolve();
    const current = previous.catch(() => undefined).then(work);
    holder[RECORDING] = current.catch(() => undefined);
    return current;
}

/** What decides every result besides its own key and the files it reads. */
function environmentKey(): string {
    const lockFiles = ["package-lock.json", path.join("node_modules", ".package-lock.json")].map((file) => fileHash(path.join(ROOT, file)));
    return JSON.stringify({ node: process.version, root: ROOT, lockFiles });
}

function readKept<T>(file: string, key: string): Kept<T> | undefined {
    let kept: Kept<T>;
    try {
        kept = JSON.parse(fs.readFileSync(file, "utf8")) as Kept<T>;
    } catch {
        return undefined; // absent, or cut short by a crash: compute it
    }
    if (kept.format !== FORMAT || kept.key !== key || !Array.isArray(kept.reads)) return undefined;
    return kept.reads.every((read) => fileHash(read.path) === read.sha256) ? kept : undefined;
}

function writeKept<T>(file: string, kept: Kept<T>): void {
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
