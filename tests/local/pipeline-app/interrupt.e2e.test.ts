/**
 * Ctrl-C during `npm start`, as a terminal sends it: SIGINT to the whole foreground process group
 * (npm, the Node 22 wrapper, the pipeline and every child that shares its group). At every stage
 * the run ends with exit code 130 and without lines that look like failures (refused connections,
 * crashed Lambda environments), and leaves no emulator behind.
 */
import { expect } from "chai";
import { spawn, type SpawnOptions } from "node:child_process";
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { until } from "../../support/until";

const ROOT = path.resolve(__dirname, "..", "..", "..");

/** Lines a user would read as a failure. */
const ALARMING = /error|ECONNREFUSED|ExitError|exception|unhandled|at .+:\d+:\d+/i;

/** Processes (Linux: /proc) whose environment carries `marker`; elsewhere an empty list (the check is skipped). */
function processesMarked(marker: string): number[] {
    if (process.platform !== "linux") return [];
    const pids: number[] = [];
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) continue;
        try {
            if (fs.readFileSync(`/proc/${entry}/environ`, "latin1").includes(marker)) pids.push(Number(entry));
        } catch {
            // Gone, or not ours to read.
        }
    }
    return pids;
}

interface Interrupted {
    code: number | null;
    signal: NodeJS.Signals | null;
    afterSignal: string;
    stderr: string;
    marker: string;
}

/** Runs `npm start` in its own process group and sends SIGINT to the group once `stage` holds. */
async function interruptNpmStart(stage: { stderr?: RegExp; afterMs?: number }): Promise<Interrupted> {
    const marker = `INTERRUPT_TEST_${randomUUID()}`;
    const npm = process.env.npm_execpath;
    const args = ["start", "--", "--clients", "1", "--events-per-client", "2"];
    const env = { ...process.env, [marker]: "1", LOCAL_PIPELINE_FILE: path.join(os.tmpdir(), `${marker}.json`) };
    const options: SpawnOptions = { cwd: ROOT, detached: true, env, stdio: ["ignore", "pipe", "pipe"] };
    const child = npm ? spawn(process.execPath, [npm, ...args], options) : spawn("npm", args, options);
    let stderr = "";
    let signalledAt: number | undefined;
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout!.resume();
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.once("exit", (code, signal) => resolve({ code, signal })),
    );
    try {
        if (stage.stderr)
            await until(`${stage.stderr} on stderr`, () => stage.stderr!.test(stderr) || child.exitCode !== null, { timeoutMs: 150_000 });
        if (stage.afterMs) await new Promise((resolve) => setTimeout(resolve, stage.afterMs));
        expect(child.exitCode, `npm start ended before the stage:\n${stderr}`).to.equal(null);
        signalledAt = stderr.length;
        process.kill(-child.pid!, "SIGINT");
        const { code, signal } = await exited;
        return { code, signal, afterSignal: stderr.slice(signalledAt), stderr, marker };
    } finally {
        if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, "SIGKILL");
    }
}

async function expectQuiet130(run: Interrupted): Promise<void> {
    // What a shell reports ($?): the exit code, or 128 + the signal's number for a process that died of it (npm re-raises it).
    const status = run.code ?? 128 + os.constants.signals[run.signal!];
    expect(status, `${run.code} ${run.signal}\n${run.stderr}`).to.equal(130);
    const lines = run.afterSignal.split("\n").filter(Boolean);
    expect(
        lines.filter((line) => ALARMING.test(line)),
        run.stderr,
    ).to.deep.equal([]);
    expect(lines.length, run.afterSignal).to.be.at.most(3);
    await until("every process of the run to end", () => processesMarked(run.marker).length === 0, { timeoutMs: 15_000 });
}

describe("Ctrl-C during `npm start`", function () {
    this.timeout(300_000);

    it("while Node loads the program: exit 130, nothing printed", async () => {
        await expectQuiet130(await interruptNpmStart({ afterMs: 1500 }));
    });

    it("while the emulators start: exit 130, quietly", async () => {
        await expectQuiet130(await interruptNpmStart({ stderr: /\[pipeline\] starting fauxqs/ }));
    });

    it("while the demo traffic is processed: exit 130, quietly", async () => {
        await expectQuiet130(await interruptNpmStart({ stderr: /\[demo\] sending/, afterMs: 300 }));
    });

    it("during the email demo: exit 130, quietly", async () => {
        await expectQuiet130(await interruptNpmStart({ stderr: /\[email demo\] sending/, afterMs: 200 }));
    });
});
