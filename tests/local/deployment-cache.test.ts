import { expect } from "chai";
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { archiveEntries, functionResource } from "../../local/offline/lambda-artifact";
import { keptResult } from "../../local/offline/deployment-cache";
import { cachedDeployment, type MockDeployment, type MockDeploymentOptions } from "../../local/offline/mock-deployment";
import { until } from "../support/until";

const ROOT = path.resolve(__dirname, "..", "..");

/** A stand-in program: reads `input.txt` (and looks for `optional.txt`) under `root`, as a module loader would. */
function fakeProgram(root: string) {
    const calls: MockDeploymentOptions[] = [];
    const deploy = async (options: MockDeploymentOptions): Promise<MockDeployment> => {
        calls.push(options);
        const text = fs.readFileSync(path.join(root, "input.txt"), "utf8");
        const optional = fs.existsSync(path.join(root, "optional.txt"));
        // The shape mocks hand a CallbackFunction's code: an archive whose fields are promises.
        const code = {
            __pulumiArchive: true,
            assets: Promise.resolve({ "__index.js": { __pulumiAsset: true, text: Promise.resolve(text) } }),
        };
        return {
            project: "p",
            stack: options.stack ?? "dev",
            region: "us-east-1",
            resources: [{ type: "aws:lambda/function:Function", name: "fn", id: "fn", inputs: { code }, state: { code } }],
            registrations: [],
            invokes: [],
            outputs: { optional },
        };
    };
    return { deploy, calls };
}

/**
 * Another process asking `keptResult` for key "shared" in `cacheDir`: its computation appends `name`
 * to `<root>/runs.txt`, then waits for `<root>/release` before returning `input.txt`'s text. It prints
 * "asked" once the call has looked for a kept result (and, with the lock, taken it or found it held),
 * then the outcome as JSON.
 */
function askingProcess(name: string, root: string, cacheDir: string) {
    const script = `
        const fs = require("node:fs");
        const path = require("node:path");
        const { keptResult } = require(${JSON.stringify(path.join(ROOT, "local", "offline", "deployment-cache"))});
        const root = ${JSON.stringify(root)};
        const compute = async () => {
            fs.appendFileSync(path.join(root, "runs.txt"), ${JSON.stringify(name)} + "\\n");
            const deadline = Date.now() + 60000;
            while (!fs.existsSync(path.join(root, "release"))) {
                if (Date.now() > deadline) throw new Error("never released");
                await new Promise((resolve) => setTimeout(resolve, 20));
            }
            return fs.readFileSync(path.join(root, "input.txt"), "utf8");
        };
        const asked = keptResult("shared", compute, { cacheDir: ${JSON.stringify(cacheDir)}, watchedRoot: root });
        console.log("asked");
        asked.then((outcome) => console.log(JSON.stringify(outcome)));
    `;
    const child = spawn(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    return {
        child,
        output: () => output,
        asked: () => until(`${name} to ask`, () => output.split("\n").includes("asked"), { timeoutMs: 60_000, intervalMs: 20 }),
        outcome: async (): Promise<{ result: string; fromCache: boolean }> => {
            expect(await exited, output).to.equal(0);
            return JSON.parse(output.trim().split("\n").pop() ?? "");
        },
        exited,
    };
}

function runs(root: string): string[] {
    const file = path.join(root, "runs.txt");
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
}

describe("the kept mock deployment (.local/cache)", () => {
    let root: string;
    let cacheDir: string;
    beforeEach(() => {
        root = fs.mkdtempSync(path.join(os.tmpdir(), "deployment-cache-"));
        cacheDir = path.join(root, "cache");
        fs.writeFileSync(path.join(root, "input.txt"), "exports.handler = 1;");
    });
    afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

    it("runs the program once; a later start with nothing changed gets the same deployment without running it", async () => {
        const program = fakeProgram(root);
        const first = await cachedDeployment({ stack: "localstack" }, { cacheDir, deploy: program.deploy, watchedRoot: root });
        const second = await cachedDeployment({ stack: "localstack" }, { cacheDir, deploy: program.deploy, watchedRoot: root });
        expect(program.calls).to.have.length(1);
        expect([first.fromCache, second.fromCache]).to.deep.equal([false, true]);
        expect(second.deployment).to.deep.equal(first.deployment);
        // The archive reads the same from either: its promises are settled into plain values.
        for (const { deployment } of [first, second]) {
            const entries = await archiveEntries(functionResource(deployment, "fn").inputs.code);
            expect(entries.get("__index.js")).to.deep.equal({ kind: "text", text: "exports.handler = 1;" });
        }
    });

    it("runs the program again when a file it read changed, or a file it looked for appeared", async () => {
        const program = fakeProgram(root);
        const options = { cacheDir, deploy: program.deploy, watchedRoot: root };
        await cachedDeployment({ stack: "localstack" }, options);
        fs.writeFileSync(path.join(root, "input.txt"), "exports.handler = 2;");
        const changed = await cachedDeployment({ stack: "localstack" }, options);
        expect(changed.fromCache).to.equal(false);
        const entries = await archiveEntries(functionResource(changed.deployment, "fn").inputs.code);
        expect(entries.get("__index.js")).to.deep.equal({ kind: "text", text: "exports.handler = 2;" });

        fs.writeFileSync(path.join(root, "optional.txt"), "");
        const appeared = await cachedDeployment({ stack: "localstack" }, options);
        expect(appeared.fromCache).to.equal(false);
        expect(appeared.deployment.outputs.optional).to.equal(true);
        expect((await cachedDeployment({ stack: "localstack" }, options)).fromCache).to.equal(true);
        expect(program.calls).to.have.length(3);
    });

    it("keeps one deployment per stack and config: other options never get it", async () => {
        const program = fakeProgram(root);
        const options = { cacheDir, deploy: program.deploy, watchedRoot: root };
        await cachedDeployment({ stack: "localstack" }, options);
        const overridden = await cachedDeployment({ stack: "localstack", configOverrides: { "event-ingestion:batchSize": 7 } }, options);
        const otherStack = await cachedDeployment({ stack: "dev" }, options);
        expect([overridden.fromCache, otherStack.fromCache]).to.deep.equal([false, false]);
        expect(otherStack.deployment.stack).to.equal("dev");
    });

    it("records two runs started at once each with its own reads (one after the other), so a change to either is seen", async () => {
        const options = { cacheDir, watchedRoot: root };
        fs.writeFileSync(path.join(root, "a.txt"), "a");
        fs.writeFileSync(path.join(root, "b.txt"), "b");
        const run = (file: string) => async () => {
            await new Promise((resolve) => setTimeout(resolve, 20));
            return fs.readFileSync(path.join(root, file), "utf8");
        };
        const [a, b] = await Promise.all([keptResult("a", run("a.txt"), options), keptResult("b", run("b.txt"), options)]);
        expect([a.result, b.result]).to.deep.equal(["a", "b"]);
        fs.writeFileSync(path.join(root, "b.txt"), "b2");
        const [againA, againB] = await Promise.all([keptResult("a", run("a.txt"), options), keptResult("b", run("b.txt"), options)]);
        expect([againA.fromCache, againB.fromCache]).to.deep.equal([true, false]);
        expect(againB.result).to.equal("b2");
    });

    it("never writes a deployment with secret config to disk", async () => {
        const program = fakeProgram(root);
        const options = { cacheDir, deploy: program.deploy, watchedRoot: root };
        const secret = { stack: "localstack", secretConfig: { "event-ingestion:token": "s3cr3t" } };
        await cachedDeployment(secret, options);
        expect((await cachedDeployment(secret, options)).fromCache).to.equal(false);
        expect(fs.existsSync(cacheDir)).to.equal(false);
    });

    it("a kept file cut short (a crash while writing) is ignored and replaced", async () => {
        const program = fakeProgram(root);
        const options = { cacheDir, deploy: program.deploy, watchedRoot: root };
        await cachedDeployment({ stack: "localstack" }, options);
        const [file] = fs.readdirSync(cacheDir);
        fs.writeFileSync(path.join(cacheDir, file), fs.readFileSync(path.join(cacheDir, file), "utf8").slice(0, 100));
        expect((await cachedDeployment({ stack: "localstack" }, options)).fromCache).to.equal(false);
        expect((await cachedDeployment({ stack: "localstack" }, options)).fromCache).to.equal(true);
    });

    describe("processes asking for the same key at once", () => {
        const children: ChildProcess[] = [];
        afterEach(async () => {
            for (const child of children.splice(0)) {
                if (child.exitCode === null && child.signalCode === null) {
                    child.kill("SIGKILL");
                    await new Promise((resolve) => child.once("exit", resolve));
                }
            }
        });
        const asking = (name: string) => {
            const process = askingProcess(name, root, cacheDir);
            children.push(process.child);
            return process;
        };

        it("computes it once: the second waits for the first's result", async function () {
            this.timeout(120_000);
            const [first, second] = [asking("first"), asking("second")];
            await Promise.all([first.asked(), second.asked()]);
            await until("a computation to start", () => runs(root).length > 0, { timeoutMs: 60_000, intervalMs: 20 });
            fs.writeFileSync(path.join(root, "release"), "");
            const outcomes = await Promise.all([first.outcome(), second.outcome()]);
            expect(runs(root)).to.have.length(1);
            expect(outcomes.map((outcome) => outcome.result)).to.deep.equal(["exports.handler = 1;", "exports.handler = 1;"]);
            expect(outcomes.map((outcome) => outcome.fromCache).sort()).to.deep.equal([false, true]);
            expect(fs.readdirSync(cacheDir), "no lock left behind").to.have.length(1);
        });

        it("takes over the lock of a process that died while computing", async function () {
            this.timeout(120_000);
            const dying = asking("dying");
            await until(
                "the lock to be taken and the computation to start",
                () => fs.existsSync(cacheDir) && fs.readdirSync(cacheDir).some((file) => file.endsWith(".lock")) && runs(root).length > 0,
                { timeoutMs: 60_000, intervalMs: 20 },
            );
            dying.child.kill("SIGKILL");
            await dying.exited;
            const compute = async () => {
                fs.appendFileSync(path.join(root, "runs.txt"), "this one\n");
                return "computed here";
            };
            const outcome = await keptResult("shared", compute, { cacheDir, watchedRoot: root });
            expect(outcome).to.deep.equal({ result: "computed here", fromCache: false });
            expect(runs(root)).to.deep.equal(["dying", "this one"]);
            expect(fs.readdirSync(cacheDir).filter((file) => file.endsWith(".lock"))).to.deep.equal([]);
        });

        it("computes it itself when the live holder has not finished within the wait", async function () {
            this.timeout(120_000);
            const holder = asking("holder");
            await until(
                "the lock to be taken and the computation to start",
                () => fs.existsSync(cacheDir) && fs.readdirSync(cacheDir).some((file) => file.endsWith(".lock")) && runs(root).length > 0,
                { timeoutMs: 60_000, intervalMs: 20 },
            );
            const outcome = await keptResult("shared", async () => "computed here", { cacheDir, watchedRoot: root, lockWaitMs: 200 });
            expect(outcome).to.deep.equal({ result: "computed here", fromCache: false });
            expect(
                fs.readdirSync(cacheDir).filter((file) => file.endsWith(".lock")),
                "the holder's lock is left to it",
            ).to.have.length(1);
            fs.writeFileSync(path.join(root, "release"), "");
            expect((await holder.outcome()).fromCache).to.equal(false);
        });
    });

    it("on the real program: records what Node's loader and ts-node read (modules, stack files), and ships the same archive", async function () {
        this.timeout(120_000);
        const real = await cachedDeployment({ stack: "localstack" }, { cacheDir });
        const [file] = fs.readdirSync(cacheDir);
        const kept = JSON.parse(fs.readFileSync(path.join(cacheDir, file), "utf8")) as {
            reads: Array<{ path: string; sha256: string | null }>;
        };
        const read = kept.reads.map((entry) => path.relative(ROOT, entry.path));
        expect(read).to.include.members([
            "index.ts",
            "Pulumi.yaml",
            "Pulumi.localstack.yaml",
            "components/shared/defaults.ts",
            "handlers/event-processor/processor.ts",
        ]);
        expect(read.filter((file) => file.split(path.sep).includes("node_modules"))).to.deep.equal([]);
        const again = await cachedDeployment({ stack: "localstack" }, { cacheDir });
        expect(again.fromCache).to.equal(true);
        const [shipped, kept2] = await Promise.all(
            [real, again].map(async ({ deployment }) => archiveEntries(functionResource(deployment, "event-processor").inputs.code)),
        );
        expect([...kept2]).to.deep.equal([...shipped]);
        expect(shipped.get("__index.js")?.kind).to.equal("text");
    });
});
