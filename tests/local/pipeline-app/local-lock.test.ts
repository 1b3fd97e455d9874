/**
 * One `npm run local` per READY file: a second one in the same checkout refuses with the running
 * one's pid instead of taking over `.local/pipeline.json` (and deleting it when it stops).
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { acquireLocalLock, LocalLock } from "../../../local/pipeline-app/local-lock";
import { LOCAL_PIPELINE_FILE_VARIABLE } from "../../../tools/target";

const ROOT = path.resolve(__dirname, "..", "..", "..");
/** A pid no process has (above Linux's and macOS's pid_max defaults). */
const GONE_PID = 2 ** 22 + 12345;

describe("`npm run local`: one pipeline per READY file", () => {
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "local-lock-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("a second lock on the same file is refused with the holder's pid; released, it can be taken again", () => {
        const ready = path.join(dir, "pipeline.json");
        const first = acquireLocalLock(ready) as LocalLock;
        expect(first.file).to.equal(`${ready}.lock`);
        const second = acquireLocalLock(ready, process.ppid);
        expect(second).to.have.property("runningPid", process.pid);
        expect((second as { message: string }).message).to.match(new RegExp(`pid ${process.pid}.*LOCAL_PIPELINE_FILE=`));
        first.release();
        expect(fs.existsSync(first.file)).to.equal(false);
        const again = acquireLocalLock(ready, process.ppid) as LocalLock;
        expect(again.file).to.equal(first.file);
        first.release(); // not the holder any more: leaves the new lock alone
        expect(fs.existsSync(again.file)).to.equal(true);
    });

    it("a lock left by a process that is gone (or half-written) is taken over", () => {
        const ready = path.join(dir, "pipeline.json");
        for (const left of [JSON.stringify({ pid: GONE_PID }), "{"]) {
            fs.writeFileSync(`${ready}.lock`, left);
            const lock = acquireLocalLock(ready);
            expect(lock, left).to.have.property("file");
            expect(JSON.parse(fs.readFileSync(`${ready}.lock`, "utf8")).pid).to.equal(process.pid);
            (lock as LocalLock).release();
        }
    });

    it("`npm run local` refuses to start while another holds the file: exit 2, the pid named, nothing started, the file kept", async function () {
        this.timeout(60_000);
        const ready = path.join(dir, "pipeline.json");
        fs.writeFileSync(ready, JSON.stringify({ pid: process.pid, stack: "localstack" }));
        const lock = acquireLocalLock(ready) as LocalLock; // this test process plays the running pipeline
        try {
            const child = spawn(
                process.execPath,
                ["-r", path.join(ROOT, "scripts", "register-ts.js"), "local/pipeline-app/main.ts", "local"],
                {
                    cwd: ROOT,
                    env: { ...process.env, [LOCAL_PIPELINE_FILE_VARIABLE]: ready },
                    stdio: ["ignore", "pipe", "pipe"],
                },
            );
            let stderr = "";
            let stdout = "";
            child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
            child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
            const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
            expect(code, stderr).to.equal(2);
            expect(stderr).to.match(new RegExp(`another \`npm run local\` \\(pid ${process.pid}\\) is running`));
            expect(stderr).to.not.match(/\[pipeline\] running/);
            expect(stdout).to.not.match(/LOCAL_PIPELINE_READY/);
            expect(JSON.parse(fs.readFileSync(ready, "utf8")).pid, "the running one's READY file is untouched").to.equal(process.pid);
        } finally {
            lock.release();
        }
    });
});
