import { expect } from "chai";
import { ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { freePort } from "../../../local/offline/emulators";
import { LOCAL_PIPELINE_FILE_VARIABLE } from "../../../tools/target";
import { listeningAddresses } from "../../support/sockets";
import { EVENT_ARRIVAL_INDEX } from "../../../contracts/event-pipeline";

const ROOT = path.resolve(__dirname, "..", "..", "..");

interface Run {
    child: ChildProcess;
    stdout: () => string;
    stderr: () => string;
    exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

let runs = 0;

/**
 * Spawns `local/pipeline-app/main.ts` exactly as the npm scripts do (Node 22 via ts-node), without npm in between.
 * Its READY file goes to a temporary path, not the developer's `.local/pipeline.json`.
 */
function spawnLocal(mode: "local" | "start", args: string[], env: NodeJS.ProcessEnv = process.env): Run {
    env = { [LOCAL_PIPELINE_FILE_VARIABLE]: path.join(os.tmpdir(), `local-command-${process.pid}-${runs++}.json`), ...env };
    const child = spawn(
        process.execPath,
        ["-r", path.join(ROOT, "scripts", "register-ts.js"), path.join(ROOT, "local", "pipeline-app", "main.ts"), mode, ...args],
        {
            cwd: ROOT,
            env,
            stdio: ["ignore", "pipe", "pipe"],
        },
    );
    let out = "";
    let err = "";
    child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        child.once("exit", (code, signal) => resolve({ code, signal })),
    );
    return { child, stdout: () => out, stderr: () => err, exited };
}

/** The READY JSON, with the fields these tests read. */
interface ReadyJson {
    [field: string]: unknown;
    region: string;
    sqsEndpoint: string;
    dynamodbEndpoint: string;
    consoleUrl: string;
    credentials: Record<string, string>;
    environment: Record<string, string>;
    processes: { fauxqs: number; dynamodbLocal: number };
}

/** Waits for the READY line (or the process's exit); the deadline only guards against a hang, on a loaded machine a start can take minutes. */
async function readyLine(run: Run, timeoutMs = 150_000): Promise<ReadyJson> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const line = run
            .stdout()
            .split("\n")
            .find((l) => l.startsWith("LOCAL_PIPELINE_READY "));
        if (line) return JSON.parse(line.slice("LOCAL_PIPELINE_READY ".length));
        if (run.child.exitCode !== null) throw new Error(`exited ${run.child.exitCode} before READY:\n${run.stderr()}`);
        if (Date.now() > deadline) throw new Error(`no READY line within ${timeoutMs} ms:\n${run.stderr()}`);
        await new Promise((r) => setTimeout(r, 100));
    }
}

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

describe("`npm start`", function () {
    this.timeout(240_000);

    it("runs the demo and prints a JSON summary in which every event is accounted for, then exits 0", async () => {
        const run = spawnLocal("start", ["--clients", "2", "--events-per-client", "4", "--json", "--quiet"]);
        const { code } = await run.exited;
        expect(code, run.stderr()).to.equal(0);
        const summary = JSON.parse(run.stdout());
        expect(summary).to.include({ accounted: true, persisted: 8, expectedPersisted: 8, deliveredThroughStream: 8 });
        expect(summary.unaccounted).to.deep.equal([]);
        expect(summary.inDeadLetterQueue).to.equal(Object.values<number>(summary.rejected).reduce((a, b) => a + b, 0));
        expect(summary.latencyMs.p50).to.be.a("number");
        expect(summary.latencyMs.p99).to.be.at.least(summary.latencyMs.p50);
        expect(summary.elapsedSeconds).to.be.a("number").and.above(0); // how fast is npm run bench's to say, not a test's
        for (const report of summary.services) expect(report.accounted, report.service).to.equal(true);
    });

    it("the table summary ends saying the addresses it printed are closed now (and that `npm run local` keeps them)", async () => {
        const run = spawnLocal("start", ["--clients", "1", "--events-per-client", "2"]);
        const { code } = await run.exited;
        expect(code, run.stderr()).to.equal(0);
        expect(run.stderr()).to.match(/\[email\] API http:\/\/127\.0\.0\.1:\d+/);
        expect(run.stdout()).to.match(/addresses printed above served this run only and are closed now; `npm run local` keeps/);
    });
});

describe("`npm run local` lifecycle", function () {
    this.timeout(240_000);
    const started: Run[] = [];
    afterEach(() => {
        // Never leave anything behind, even when an assertion failed half-way.
        for (const run of started.splice(0)) if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill("SIGKILL");
    });

    it("prints one READY line with everything a client needs, then stops everything on SIGTERM", async () => {
        const [sqsPort, dynamodbPort] = [await freePort(), await freePort()];
        const readyFile = path.join(os.tmpdir(), `local-command-ready-${process.pid}.json`);
        const run = spawnLocal("local", ["--sqs-port", String(sqsPort)], {
            ...process.env,
            LOCAL_DYNAMODB_PORT: String(dynamodbPort),
            [LOCAL_PIPELINE_FILE_VARIABLE]: readyFile,
        });
        started.push(run);
        const ready = await readyLine(run);
        for (const field of [
            "region",
            "sqsEndpoint",
            "dynamodbEndpoint",
            "eventQueueUrl",
            "deadLetterQueueUrl",
            "eventTableName",
            "eventStreamArn",
        ]) {
            expect(ready[field], field).to.be.a("string").and.not.equal("");
        }
        // The localstack stack has eventPollingIndex on: a polling Sender finds the arrival index and its lag here.
        expect([ready.eventPollingIndexName, ready.eventPollingLagSeconds]).to.deep.equal([EVENT_ARRIVAL_INDEX.name, 60]);
        expect(ready.credentials).to.deep.equal({ accessKeyId: "local", secretAccessKey: "local" });
        expect(ready.environment).to.include({
            AWS_ENDPOINT_URL_SQS: ready.sqsEndpoint,
            AWS_ENDPOINT_URL_DYNAMODB: ready.dynamodbEndpoint,
            AWS_REGION: ready.region,
        });
        expect(ready.sqsEndpoint).to.equal(`http://127.0.0.1:${sqsPort}`);
        expect(ready.dynamodbEndpoint).to.equal(`http://127.0.0.1:${dynamodbPort}`);
        expect(listeningAddresses(sqsPort)).to.deep.equal(["127.0.0.1"]);
        expect(listeningAddresses(dynamodbPort)).to.deep.equal(["127.0.0.1"]);
        expect(
            run
                .stdout()
                .split("\n")
                .filter((l) => l.startsWith("LOCAL_PIPELINE_READY")),
        ).to.have.length(1);
        const pids = [ready.processes.fauxqs, ready.processes.dynamodbLocal] as number[];
        expect(pids.every(alive)).to.equal(true);
        // The tools find the pipeline through its READY file; the console answers on loopback.
        expect(JSON.parse(fs.readFileSync(readyFile, "utf8"))).to.deep.equal(ready);
        expect(ready.consoleUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+\/$/);
        const consolePort = Number(new URL(ready.consoleUrl).port);
        expect(listeningAddresses(consolePort)).to.deep.equal(["127.0.0.1"]);
        expect((await fetch(ready.consoleUrl)).status).to.equal(200);

        run.child.kill("SIGTERM");
        const { code } = await run.exited;
        expect(code, run.stderr()).to.equal(0);
        expect(fs.existsSync(readyFile), "READY file removed on stop").to.equal(false);
        expect(listeningAddresses(consolePort)).to.deep.equal([]);
        expect(pids.filter(alive), "emulator processes left running").to.deep.equal([]);
        expect(listeningAddresses(sqsPort)).to.deep.equal([]);
        expect(listeningAddresses(dynamodbPort)).to.deep.equal([]);
    });

    it("`npm run local` exits 0 when SIGTERM reaches its whole process group (as a terminal or a supervisor sends it)", async function () {
        this.timeout(180_000);
        // npm runs the script through `sh -c`; without `exec` the shell dies of the group's SIGTERM and npm reports 143.
        const npm = process.env.npm_execpath;
        // Its READY file in a temporary path, not the developer's .local/pipeline.json (other test processes run beside it).
        const env = { ...process.env, [LOCAL_PIPELINE_FILE_VARIABLE]: path.join(os.tmpdir(), `local-command-npm-${process.pid}.json`) };
        const child = npm
            ? spawn(process.execPath, [npm, "run", "--silent", "local"], {
                  cwd: ROOT,
                  env,
                  detached: true,
                  stdio: ["ignore", "pipe", "pipe"],
              })
            : spawn("npm", ["run", "--silent", "local"], { cwd: ROOT, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
        let out = "";
        let err = "";
        child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
        child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
        const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
            child.once("exit", (code, signal) => resolve({ code, signal })),
        );
        const run: Run = { child, stdout: () => out, stderr: () => err, exited };
        started.push(run);
        try {
            const ready = await readyLine(run, 150_000);
            const pids = [ready.processes.fauxqs, ready.processes.dynamodbLocal] as number[];
            process.kill(-child.pid!, "SIGTERM");
            const { code, signal } = await exited;
            expect({ code, signal }, err).to.deep.equal({ code: 0, signal: null });
            const deadline = Date.now() + 15_000;
            while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
            expect(pids.filter(alive), "emulator processes left running").to.deep.equal([]);
        } finally {
            if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, "SIGKILL");
        }
    });

    it("even a SIGKILLed pipeline leaves nothing behind: emulators and environments follow their parent", async () => {
        const run = spawnLocal("local", []);
        started.push(run);
        const ready = await readyLine(run);
        const ports = [Number(new URL(ready.sqsEndpoint).port), Number(new URL(ready.dynamodbEndpoint).port)];
        const pids = [ready.processes.fauxqs, ready.processes.dynamodbLocal] as number[];
        run.child.kill("SIGKILL");
        await run.exited;
        const deadline = Date.now() + 15_000;
        while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
        expect(pids.filter(alive), "orphaned emulators").to.deep.equal([]);
        for (const port of ports) expect(listeningAddresses(port)).to.deep.equal([]);
    });

    it("an emulator that crashes stops the whole pipeline with a clear message", async () => {
        const run = spawnLocal("local", []);
        started.push(run);
        const ready = await readyLine(run);
        process.kill(ready.processes.dynamodbLocal, "SIGKILL");
        const { code } = await run.exited;
        expect(code).to.equal(1);
        expect(run.stderr()).to.match(/DynamoDB Local exited unexpectedly/);
        expect(alive(ready.processes.fauxqs), "fauxqs left running").to.equal(false);
        expect(listeningAddresses(Number(new URL(ready.sqsEndpoint).port))).to.deep.equal([]);
    });

    it("a taken port gets a clear message, exit 1, and nothing left running", async () => {
        const squatter = net.createServer();
        await new Promise<void>((resolve) => squatter.listen(0, "127.0.0.1", resolve));
        const taken = (squatter.address() as net.AddressInfo).port;
        const otherPort = await freePort();
        try {
            const run = spawnLocal("local", ["--dynamodb-port", String(taken), "--sqs-port", String(otherPort)]);
            started.push(run);
            const { code } = await run.exited;
            expect(code).to.equal(1);
            expect(run.stderr()).to.match(new RegExp(`Port ${taken} for DynamoDB Local is already in use`));
            expect(run.stdout()).to.not.match(/LOCAL_PIPELINE_READY/);
            expect(listeningAddresses(otherPort), "fauxqs stopped again").to.deep.equal([]);
        } finally {
            squatter.close();
        }
    });

    it("bad flags: every problem named, exit 2, nothing started", async () => {
        const run = spawnLocal("local", ["--sqs-port", "70000", "--frobnicate"]);
        started.push(run);
        const { code } = await run.exited;
        expect(code).to.equal(2);
        expect(run.stderr())
            .to.match(/--sqs-port must be a port number/)
            .and.match(/unknown option "--frobnicate"/);
        const noStack = spawnLocal("local", ["--stack", "prod-eu"]);
        started.push(noStack);
        expect((await noStack.exited).code).to.equal(2);
        expect(noStack.stderr()).to.match(/no stack "prod-eu" \(no Pulumi.prod-eu.yaml\); stacks: .*localstack/);
    });

    it("missing Java: a clear message and a clean exit", async () => {
        // A PATH with node's directory only: no `java`, no `javac`.
        const bin = fs.mkdtempSync(path.join(os.tmpdir(), "no-java-"));
        fs.symlinkSync(process.execPath, path.join(bin, "node"));
        try {
            const run = spawnLocal("local", [], { ...process.env, PATH: bin });
            started.push(run);
            const { code } = await run.exited;
            expect(code).to.equal(1);
            expect(run.stderr()).to.match(/DynamoDB Local needs Java 17 or newer/);
            expect(run.stdout()).to.not.match(/LOCAL_PIPELINE_READY/);
        } finally {
            fs.rmSync(bin, { recursive: true, force: true });
        }
    });
});
