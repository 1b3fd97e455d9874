import { expect } from "chai";
import * as path from "node:path";
import { FunctionInitError, LocalFunction } from "../../../../local/aws-stand-ins/lambda-runtime/local-function";

const HANDLERS = path.join(__dirname, "fixtures", "handlers.js");

/** What the fixture's `echo` action returns. */
interface EchoResult {
    pid: number;
    loadedAt: number;
    env: string;
    functionName: string;
    remaining: number;
}

describe("local execution environments (LocalFunction)", function () {
    this.timeout(30_000);
    const functions: LocalFunction[] = [];
    const make = (overrides: Partial<ConstructorParameters<typeof LocalFunction>[0]> = {}) => {
        const fn = new LocalFunction({
            name: "fixture",
            moduleFile: HANDLERS,
            environment: { GREETING: "hello" },
            timeoutSeconds: 2,
            ...overrides,
        });
        functions.push(fn);
        return fn;
    };
    afterEach(async () => {
        for (const fn of functions.splice(0)) await fn.stop();
    });

    it("loads the handler once per environment and passes the function's environment and a Lambda context", async () => {
        const fn = make();
        await fn.start();
        const first = await fn.invoke({ action: "echo" });
        const second = await fn.invoke({ action: "echo" });
        expect(first.ok && second.ok).to.equal(true);
        const [warm, again] = [first, second].map((outcome) => (outcome as { result: EchoResult }).result);
        expect(warm).to.include({ env: "hello", functionName: "fixture" });
        expect(warm.remaining).to.be.within(1, 2000);
        expect(again.pid).to.equal(warm.pid); // warm: same environment
        expect(again.loadedAt).to.equal(warm.loadedAt); // module loaded once
    });

    it("calls a zero-argument factory when told to (callbackFactory)", async () => {
        const fn = make({ exportName: "factory", isFactory: true });
        const outcome = await fn.invoke({});
        expect(outcome).to.deep.include({ ok: true, result: { fromFactory: true } });
    });

    it("reports a handler error as a function error and keeps the environment", async () => {
        const fn = make();
        await fn.start();
        const [pid] = fn.pids();
        const outcome = await fn.invoke({ action: "throw" });
        expect(outcome.ok).to.equal(false);
        expect(outcome.ok === false && outcome.error).to.include({ errorType: "TypeError", errorMessage: "bad input" });
        expect(fn.pids()).to.deep.equal([pid]);
    });

    it("kills the environment at the timeout and cold-starts a new one for the next invocation", async () => {
        const fn = make({ timeoutSeconds: 1 });
        await fn.start();
        const [pid] = fn.pids();
        const outcome = await fn.invoke({ action: "sleep", ms: 3000 });
        expect(outcome.ok === false && outcome.error.errorType).to.equal("Sandbox.Timedout");
        const next = await fn.invoke({ action: "echo" });
        expect(next.ok && (next.result as EchoResult).pid).to.not.equal(pid);
    });

    it("a crash mid-invocation fails that invocation only", async () => {
        const fn = make();
        const crashed = await fn.invoke({ action: "exit" });
        expect(crashed.ok === false && crashed.error.errorType).to.equal("Runtime.ExitError");
        expect((await fn.invoke({ action: "echo" })).ok).to.equal(true);
    });

    it("runs up to `concurrency` invocations at once, in separate environments", async () => {
        const fn = make({ concurrency: 2 });
        const started = Date.now();
        const outcomes = await Promise.all([
            fn.invoke({ action: "sleep", ms: 600 }),
            fn.invoke({ action: "sleep", ms: 600 }),
            fn.invoke({ action: "sleep", ms: 600 }),
        ]);
        expect(outcomes.every((o) => o.ok)).to.equal(true);
        const pids = new Set(outcomes.map((o) => o.workerPid));
        expect(pids.size).to.equal(2);
        expect(Date.now() - started).to.be.at.least(1150); // the third waited for a free environment
    });

    it("surfaces an init error clearly at start", async () => {
        const fn = make({ environment: { FAIL_AT_INIT: "1" } });
        const error = await fn.start().then(
            () => undefined,
            (e: unknown) => e,
        );
        expect(error).to.be.instanceOf(FunctionInitError);
        expect((error as Error).message).to.match(/fixture failed to initialise: Error: EVENT_TABLE_NAME is required/);
    });

    it("resolves *.localhost to loopback (fauxqs queue URLs), as RFC 6761 reserves it", async () => {
        const outcome = await make().invoke({ action: "resolve-localhost" });
        expect(outcome).to.deep.include({ ok: true, result: "127.0.0.1" });
    });

    it("stop() leaves no environment behind", async () => {
        const fn = make({ concurrency: 2 });
        await Promise.all([fn.invoke({ action: "echo" }), fn.invoke({ action: "echo" })]);
        const pids = fn.pids();
        expect(pids).to.have.length(2);
        await fn.stop();
        for (const pid of pids) expect(() => process.kill(pid, 0)).to.throw(/ESRCH/);
    });
});
