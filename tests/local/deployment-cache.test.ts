import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { archiveEntries, functionResource } from "../../local/offline/lambda-artifact";
import { keptResult } from "../../local/offline/deployment-cache";
import { cachedDeployment, type MockDeployment, type MockDeploymentOptions } from "../../local/offline/mock-deployment";

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
