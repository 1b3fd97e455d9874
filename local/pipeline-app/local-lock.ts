/**
 * One `npm run local` per READY file. The tools (`npm run dlq`, `npm run send`) find the
 * running pipeline through `.local/pipeline.json`; a second pipeline in the same checkout
 * would take that file over and delete it when it stops, leaving the first unreachable.
 * So `npm run local` takes `<ready file>.lock` (holding its pid) before it starts anything,
 * refuses while another live process holds it, and takes over a lock whose process is gone.
 * A second pipeline runs beside the first with its own file: `LOCAL_PIPELINE_FILE=...`.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** A held lock; `release()` removes it if it is still this process's. Safe to call twice. */
export interface LocalLock {
    readonly file: string;
    release(): void;
}

/** Another live process holds the lock. */
export interface LockRefused {
    readonly runningPid: number;
    readonly message: string;
}

/** Whether a process with this pid exists (EPERM: it does, under another user). */
export function processAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (error) {
        return (error as NodeJS.ErrnoException).code === "EPERM";
    }
}

function holder(file: string): number | undefined {
    try {
        const pid = Number(JSON.parse(fs.readFileSync(file, "utf8")).pid);
        return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
        return undefined;
    }
}

/**
 * Takes the lock beside `readyFile` for this process.
 *
 * @example
 * const lock = acquireLocalLock(localPipelineFile());
 * if ("runningPid" in lock) throw new Error(lock.message);
 * try { ... } finally { lock.release(); }
 */
export function acquireLocalLock(readyFile: string, pid = process.pid): LocalLock | LockRefused {
    const file = `${readyFile}.lock`;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    for (let attempt = 0; attempt < 3; attempt++) {
        try {
            // "wx": created only if absent, atomically, so two starts cannot both win.
            fs.writeFileSync(file, JSON.stringify({ pid }) + "\n", { flag: "wx", mode: 0o600 });
            return {
                file,
                release: () => {
                    if (holder(file) === pid) fs.rmSync(file, { force: true });
                },
            };
        } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
        }
        const running = holder(file);
        if (running !== undefined && running !== pid && processAlive(running)) {
            const shown = path.relative(process.cwd(), readyFile) || readyFile;
            return {
                runningPid: running,
                message:
                    `another \`npm run local\` (pid ${running}) is running from this checkout and owns ${shown}. ` +
                    `Stop it first (Ctrl-C in its terminal, or \`kill ${running}\`), or run a second one beside it with its own file: ` +
                    `LOCAL_PIPELINE_FILE=.local/second.json npm run local (and the same variable for the tools that should use it).`,
            };
        }
        // Left by a process that is gone (or unreadable, e.g. half-written by one killed mid-write): take it over.
        fs.rmSync(file, { force: true });
    }
    throw new Error(`could not take the lock ${file}`);
}
