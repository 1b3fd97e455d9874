/**
 * The Lambda artifact exactly as Pulumi ships it, run outside the cloud.
 *
 * Under mocks, a CallbackFunction's `code` input is an AssetArchive whose `assets`
 * is a promise of `{ "__index.js": StringAsset, "node_modules/<pkg>": FileArchive }`
 * (FileArchive paths are relative to the program's directory). These helpers write
 * that archive to a directory, build a separate directory with what Lambda itself
 * provides, in two paths as Lambda has them: `layer/nodejs/node_modules` (the
 * Powertools layer: Powertools and its own dependencies, no AWS SDK, as in layers 50
 * and later) and `runtime/node_modules` (the nodejs22.x runtime's AWS SDK v3), and
 * run the handler in a fresh Node process with those on NODE_PATH in Lambda's order
 * (`/opt/nodejs/node_modules` before `/var/runtime/node_modules`).
 *
 * Used by the infrastructure artifact test, the email service tests, the local
 * pipeline and `bench/artifact.ts`.
 */
import { fork } from "node:child_process";
import * as yazl from "yazl";
import { once } from "node:events";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { isProvidedByLayer, isProvidedByRuntime } from "../../components/shared/lambda-packaging";
import {
    LAMBDA_WORKER_FILE,
    workerEnvironment,
    type WorkerMessage,
    type WorkerTiming,
} from "../aws-stand-ins/lambda-runtime/local-function";
import type { MockDeployment, MockedResource } from "./mock-deployment";

const ROOT = path.resolve(__dirname, "..", "..");
const REPO_NODE_MODULES = path.join(ROOT, "node_modules");

/** One entry of a Lambda archive. */
export type ArchiveEntry =
    { kind: "text"; text: string } | { kind: "directory"; sourcePath: string } | { kind: "file"; sourcePath: string };

/** Raised when a code archive is not what a CallbackFunction produces. */
export class LambdaArtifactError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "LambdaArtifactError";
    }
}

/**
 * The function registered under `name` (a CallbackFunction's logical name) in a mock deployment.
 *
 * @example
 * const fn = functionResource(await deployUnderMocks(), "event-processor");
 */
export function functionResource(deployment: MockDeployment, name: string): MockedResource {
    const found = deployment.resources.filter((resource) => resource.type === "aws:lambda/function:Function" && resource.name === name);
    if (found.length !== 1) {
        const names = deployment.resources
            .filter((resource) => resource.type === "aws:lambda/function:Function")
            .map((resource) => resource.name);
        throw new LambdaArtifactError(
            `expected one Lambda function named "${name}", found ${found.length} (functions: ${names.join(", ") || "none"})`,
        );
    }
    return found[0];
}

/** Reads a mock `code` AssetArchive into its entries (archive path -> content); a function's archive must hold `__index.js`. */
export async function archiveEntries(code: unknown, kind: "function" | "layer" = "function"): Promise<Map<string, ArchiveEntry>> {
    const archive = code as { assets?: unknown } | undefined;
    if (!archive || archive.assets === undefined)
        throw new LambdaArtifactError("the function's `code` is not an AssetArchive (is this a CallbackFunction under mocks?)");
    const assets = (await archive.assets) as Record<string, { text?: unknown; path?: unknown; assets?: unknown }>;
    const entries = new Map<string, ArchiveEntry>();
    for (const [archivePath, asset] of Object.entries(assets)) {
        if (asset.text !== undefined) {
            entries.set(archivePath, { kind: "text", text: String(await asset.text) });
        } else if (asset.path !== undefined) {
            const sourcePath = path.resolve(ROOT, String(await asset.path));
            entries.set(archivePath, { kind: fs.statSync(sourcePath).isDirectory() ? "directory" : "file", sourcePath });
        } else {
            throw new LambdaArtifactError(`archive entry ${archivePath} is neither a string asset nor a file/directory archive`);
        }
    }
    if (kind === "function" && !entries.has("__index.js"))
        throw new LambdaArtifactError("the archive has no __index.js (the serialized function)");
    return entries;
}

/**
 * Writes the archive to `directory` (created if needed): `__index.js` plus each
 * `node_modules/<pkg>` copied (dereferenced), as the zip Lambda unpacks in /var/task.
 * Returns the directory.
 */
export async function writeArchive(code: unknown, directory: string, kind: "function" | "layer" = "function"): Promise<string> {
    const entries = await archiveEntries(code, kind);
    fs.mkdirSync(directory, { recursive: true });
    for (const [archivePath, entry] of entries) {
        const target = path.join(directory, archivePath);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        if (entry.kind === "text") fs.writeFileSync(target, entry.text);
        else fs.cpSync(entry.sourcePath, target, { recursive: true, dereference: true });
    }
    return directory;
}

/** Package names the archive ships (`node_modules/<name>` or `node_modules/<name>/<file>` entries, scoped names included). */
export function shippedPackages(entries: Map<string, ArchiveEntry> | Iterable<string>): string[] {
    const paths = entries instanceof Map ? [...entries.keys()] : [...entries];
    const names = paths
        .map((archivePath) => archivePath.replace(/^nodejs\//, ""))
        .filter((archivePath) => archivePath.startsWith("node_modules/"))
        .map((archivePath) => {
            const parts = archivePath.slice("node_modules/".length).split("/");
            return parts[0].startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
        });
    return [...new Set(names)].sort();
}

/**
 * The `code` archives of the Lambda layers this stack builds itself and attaches to
 * the function (its `layers` ARNs that are LayerVersion resources of the deployment;
 * AWS's public layers, such as Powertools, are not resources and stand in through
 * {@link createRuntimeLayerDir}).
 *
 * @example
 * const codes = stackLayerCodes(deployment, functionResource(deployment, "email-worker").inputs.layers);
 */
export function stackLayerCodes(deployment: MockDeployment, layerArns: readonly unknown[] | undefined): unknown[] {
    const arns = new Set((layerArns ?? []).map(String));
    return deployment.resources
        .filter((resource) => resource.type === "aws:lambda/layerVersion:LayerVersion" && arns.has(String(resource.state.arn)))
        .map((resource) => resource.inputs.code);
}

/**
 * Unpacks stack-built layers where Lambda puts them on NODE_PATH: every layer's
 * `nodejs/node_modules/<pkg>` lands in `/opt/nodejs/node_modules/<pkg>`, here
 * `<layerDir>/`{@link LAYER_NODE_MODULES}, beside the Powertools layer's packages.
 *
 * @example
 * await writeStackLayers(stackLayerCodes(deployment, fn.inputs.layers), layerDir);
 */
export async function writeStackLayers(layerCodes: readonly unknown[], layerDir: string): Promise<void> {
    for (const code of layerCodes) {
        const unpacked = await writeArchive(code, fs.mkdtempSync(path.join(os.tmpdir(), "lambda-stack-layer-")), "layer");
        try {
            const nodejs = path.join(unpacked, "nodejs", "node_modules");
            if (!fs.existsSync(nodejs))
                throw new LambdaArtifactError("a stack layer has no nodejs/node_modules: Lambda would not put it on NODE_PATH");
            fs.cpSync(nodejs, path.join(layerDir, LAYER_NODE_MODULES), { recursive: true, dereference: true });
        } finally {
            fs.rmSync(unpacked, { recursive: true, force: true });
        }
    }
}

function packageDir(name: string, fromDir: string): string | undefined {
    // Node's lookup: <dir>/node_modules/<name>, walking up to the repo root.
    let dir = fromDir;
    for (;;) {
        const candidate = path.join(dir, "node_modules", name);
        if (fs.existsSync(path.join(candidate, "package.json"))) return candidate;
        if (dir === ROOT || dir === path.dirname(dir)) return undefined;
        dir = path.dirname(dir);
    }
}

/** Where, inside a {@link createRuntimeLayerDir} directory, each provider's packages live (Lambda: /opt and /var/runtime). */
export const LAYER_NODE_MODULES = path.join("layer", "nodejs", "node_modules");
export const RUNTIME_NODE_MODULES = path.join("runtime", "node_modules");

/** NODE_PATH for a {@link createRuntimeLayerDir} directory, in Lambda's order: layer, then runtime. */
export function lambdaNodePath(directory: string): string[] {
    return [path.join(directory, LAYER_NODE_MODULES), path.join(directory, RUNTIME_NODE_MODULES)];
}

/**
 * Links every installed package `provides` accepts, and their dependency closure, into `nodeModules`.
 * Returns the linked package names and their directories.
 */
function linkProvided(nodeModules: string, provides: (name: string) => boolean): Map<string, string> {
    fs.mkdirSync(nodeModules, { recursive: true });
    const roots: string[] = [];
    for (const scope of fs.readdirSync(REPO_NODE_MODULES).filter((name) => name.startsWith("@"))) {
        for (const name of fs.readdirSync(path.join(REPO_NODE_MODULES, scope))) {
            const full = `${scope}/${name}`;
            if (provides(full)) roots.push(full);
        }
    }
    const linked = new Map<string, string>();
    const queue: [string, string][] = roots.map((name) => [name, ROOT]);
    while (queue.length > 0) {
        const [name, fromDir] = queue.pop()!;
        const dir = packageDir(name, fromDir);
        if (!dir) continue; // optional or platform-specific dependency that is not installed
        if (linked.has(name)) continue; // first (top-level) copy wins, as in a flat node_modules
        linked.set(name, dir);
        const manifest = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
        for (const dependency of Object.keys(manifest.dependencies ?? {})) queue.push([dependency, dir]);
    }
    for (const [name, dir] of linked) {
        const link = path.join(nodeModules, name);
        fs.mkdirSync(path.dirname(link), { recursive: true });
        fs.symlinkSync(dir, link, "dir");
    }
    return linked;
}

/**
 * A directory standing in for what Lambda provides outside the archive, in two paths:
 * `layer/nodejs/node_modules` holds the Powertools layer (every installed
 * `@aws-lambda-powertools/*` package and its dependencies, and no AWS SDK, as layers 50
 * and later), `runtime/node_modules` the nodejs22.x runtime's AWS SDK v3 (`@aws-sdk/*`,
 * `@smithy/*`, `@aws-crypto/*` and their dependencies). Nothing else: a package the
 * archive forgot to ship fails to load, as it would in Lambda.
 */
export function createRuntimeLayerDir(directory: string = fs.mkdtempSync(path.join(os.tmpdir(), "lambda-layer-"))): string {
    linkProvided(path.join(directory, LAYER_NODE_MODULES), isProvidedByLayer);
    linkProvided(path.join(directory, RUNTIME_NODE_MODULES), isProvidedByRuntime);
    return directory;
}

/** What one invocation in a fresh process returned. */
export interface ArtifactInvocation<T = unknown> {
    /** Milliseconds from the process's start to the worker's first line: Node's own boot, before any of the function's code. */
    bootMs: number;
    /** Time to `require()` the archive's `__index.js`, which builds the handler (the factory runs at load). */
    initMs: number;
    /** CPU (user + system) the init used. */
    initCpuMs: number;
    /**
     * Milliseconds from the process's start (Node's time origin) to the end of the
     * invocation, or of the init when there is none: a cold start as a caller sees it.
     */
    processMs: number;
    /** CPU the process used up to the same point (user + system): the same cold start, less sensitive to a loaded machine. */
    processCpuMs: number;
    /** The handler's return value (absent when only initialised or when it threw). */
    result?: T;
    /** What the handler (or loading it) threw. */
    error?: { name: string; message: string };
    /** The process's stdout/stderr (structured logs). */
    stdout: string;
    stderr: string;
}

export interface InvokeOptions {
    /** The unpacked archive (from {@link writeArchive}). */
    archiveDir: string;
    /** The runtime + layer directory (from {@link createRuntimeLayerDir}); its two paths go on NODE_PATH. */
    layerDir: string;
    /** Environment of the function (its configured variables plus endpoints/credentials). */
    environment: Record<string, string>;
    /** The event to pass; omit to only load the handler (cold init). */
    event?: unknown;
    /** Node binary. @default the current one (tests and bench run on Node 22, the runtime's major) */
    nodeBinary?: string;
    /** @default 60000 */
    timeoutMs?: number;
    /** Function name for the context object. @default "function" */
    functionName?: string;
    /**
     * Milliseconds the process lives on after the handler settled, so that fire-and-forget I/O
     * (the X-Ray SDK's UDP sends) completes, as it does in a Lambda environment that is not torn down.
     * @default 0
     */
    drainMs?: number;
}

/**
 * Loads the archive in a fresh execution environment of the local Lambda runtime
 * (local/aws-stand-ins/lambda-runtime/worker.js, the process the pipeline runs
 * functions in), with Lambda's module resolution (archive first, then the
 * runtime/layer directory), and invokes the handler once.
 *
 * @example
 * const run = await invokeArtifact({ archiveDir, layerDir, environment: { ...fn.inputs.environment.variables, AWS_ENDPOINT_URL_SQS: sqs.endpoint }, event });
 */
export async function invokeArtifact<T = unknown>(options: InvokeOptions): Promise<ArtifactInvocation<T>> {
    const functionName = options.functionName ?? "function";
    const timeoutMs = options.timeoutMs ?? 60_000;
    const env: Record<string, string> = {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        NODE_PATH: lambdaNodePath(options.layerDir).join(path.delimiter),
        LAMBDA_TASK_ROOT: options.archiveDir,
        AWS_LAMBDA_FUNCTION_NAME: functionName,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "256",
        AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x",
        // Lambda's on-demand environments say so; Powertools reports ColdStart from it.
        AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
        TZ: "UTC",
        ...options.environment,
        ...workerEnvironment({ moduleFile: path.join(options.archiveDir, "__index.js") }),
    };
    const child = fork(LAMBDA_WORKER_FILE, [], {
        execPath: options.nodeBinary ?? process.execPath,
        execArgv: [],
        cwd: options.archiveDir,
        env,
        stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    // Not the child's "close" event: once the parent has disconnected the IPC channel, it may never come.
    const exited = new Promise<number | null>((resolve) => child.once("exit", (exitCode) => resolve(exitCode)));
    const drained = Promise.all([once(child.stdout!, "close"), once(child.stderr!, "close")]);
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs + 5_000);
    let outcome: Omit<ArtifactInvocation<T>, "stdout" | "stderr"> | undefined;
    const settle = (figures: Omit<ArtifactInvocation<T>, "stdout" | "stderr">, drainMs: number) => {
        outcome = figures;
        // The environment lives on for drainMs (fire-and-forget I/O completes), then exits on disconnect.
        setTimeout(() => child.connected && child.disconnect(), drainMs);
    };
    let init: WorkerTiming | undefined;
    child.on("message", (message: WorkerMessage) => {
        if (message.type === "init-error") {
            const error = { name: message.error.errorType, message: message.error.errorMessage };
            settle({ ...message.timing, error }, 0);
        } else if (message.type === "ready") {
            init = message.timing;
            if (options.event === undefined) return settle(message.timing, 0);
            child.send({
                type: "invoke",
                requestId: `local-${child.pid}`,
                event: options.event,
                timeoutMs,
                functionArn: `arn:aws:lambda:${env.AWS_REGION}:000000000000:function:${functionName}`,
                logGroupName: `/local/${functionName}`,
                logStreamName: "local",
            });
        } else if (init && message.type === "result") {
            settle({ ...init, ...message.timing, result: message.result as T }, options.drainMs ?? 0);
        } else if (init && message.type === "error") {
            const error = { name: message.error.errorType, message: message.error.errorMessage };
            settle({ ...init, ...message.timing, error }, options.drainMs ?? 0);
        }
    });
    const spawned = new Promise<never>((_resolve, reject) => child.once("error", reject));
    const code = await Promise.race([exited, spawned]).finally(() => clearTimeout(timer));
    await drained;
    if (!outcome) throw new LambdaArtifactError(`the artifact process exited (${code}) without a result.\nstderr:\n${stderr.slice(-4000)}`);
    return { ...outcome, stdout, stderr };
}

/** What {@link prepareArtifact} needs of a function: its logical name, `code` archive, handler and stack-built layers. */
export interface ArtifactSource {
    /** Pulumi logical name (names the temporary directory). */
    logicalName: string;
    /** The `code` input: a CallbackFunction's AssetArchive. */
    code: unknown;
    /** `<file>.<export>`. @default "__index.handler" */
    handler?: string;
    /** The `code` of the stack-built layers the function attaches ({@link stackLayerCodes}). */
    layerCodes?: readonly unknown[];
    /** The function's configured environment variables. */
    environment?: Record<string, string>;
}

/** A function's archive unpacked as Lambda has it, ready for {@link invokeArtifact} or a LocalFunction. */
export interface PreparedArtifact {
    /** The unpacked archive (Lambda's /var/task): `__index.js` plus the shipped node_modules. */
    archiveDir: string;
    /** The runtime + layer directory ({@link createRuntimeLayerDir}) with the stack's own layers unpacked into it. */
    layerDir: string;
    /** The file the handler setting names, inside `archiveDir`. */
    moduleFile: string;
    /** The export the handler setting names. */
    exportName: string;
    /** NODE_PATH entries for `layerDir`, in Lambda's order (/opt/nodejs/node_modules, then /var/runtime/node_modules). */
    nodePath: string[];
    /** The function's configured environment variables. */
    environment: Record<string, string>;
    functionName: string;
    entries: Map<string, ArchiveEntry>;
    /** Removes both directories. */
    cleanup: () => void;
}

/** Splits a Lambda handler setting (`__index.handler`) into file and export. */
export function splitHandler(handler: string): [string, string] {
    const dot = handler.lastIndexOf(".");
    if (dot <= 0 || dot === handler.length - 1) throw new Error(`handler ${JSON.stringify(handler)} is not <file>.<export>`);
    return [handler.slice(0, dot), handler.slice(dot + 1)];
}

/**
 * The {@link ArtifactSource} of the function registered under `functionName` in a mock deployment.
 *
 * @example
 * const source = artifactSource(await deployUnderMocks(), "event-processor");
 */
export function artifactSource(deployment: MockDeployment, functionName: string): ArtifactSource {
    const fn = functionResource(deployment, functionName);
    return {
        logicalName: functionName,
        code: fn.inputs.code,
        handler: fn.inputs.handler ?? "__index.handler",
        layerCodes: stackLayerCodes(deployment, fn.inputs.layers),
        environment: { ...((fn.inputs.environment?.variables ?? {}) as Record<string, string>) },
    };
}

/**
 * Everything a caller needs to run a function locally, from a mock deployment and
 * the function's logical name, or from its {@link ArtifactSource} (the local
 * pipeline's topology): the unpacked archive, the runtime + layer directory, the
 * handler's file and export, the function's own environment, and a `cleanup()`.
 * Tests, bench and the local pipeline all run what this writes: the code that
 * ships, not the source it came from.
 *
 * @example
 * const artifact = await prepareArtifact(deployment, "event-processor");
 * try { await invokeArtifact({ ...artifact, environment: { ...artifact.environment, ...overrides }, event }); } finally { artifact.cleanup(); }
 * // in the local pipeline, under its work directory:
 * const code = await prepareArtifact(functionSpec, { parentDir: context.workDir });
 */
export async function prepareArtifact(deployment: MockDeployment, functionName: string): Promise<PreparedArtifact>;
export async function prepareArtifact(source: ArtifactSource, options?: { parentDir?: string }): Promise<PreparedArtifact>;
export async function prepareArtifact(
    from: MockDeployment | ArtifactSource,
    nameOrOptions?: string | { parentDir?: string },
): Promise<PreparedArtifact> {
    const source = typeof nameOrOptions === "string" ? artifactSource(from as MockDeployment, nameOrOptions) : (from as ArtifactSource);
    const parentDir = typeof nameOrOptions === "object" ? nameOrOptions.parentDir : undefined;
    const base = fs.mkdtempSync(path.join(parentDir ?? os.tmpdir(), `lambda-${source.logicalName.replace(/[^A-Za-z0-9_-]/g, "_")}-`));
    const cleanup = () => fs.rmSync(base, { recursive: true, force: true });
    try {
        const handler = source.handler ?? "__index.handler";
        const [moduleName, exportName] = splitHandler(handler);
        const archiveDir = await writeArchive(source.code, path.join(base, "task"));
        const layerDir = createRuntimeLayerDir(path.join(base, "opt"));
        await writeStackLayers(source.layerCodes ?? [], layerDir);
        const moduleFile = path.join(archiveDir, `${moduleName}.js`);
        if (!fs.existsSync(moduleFile))
            throw new LambdaArtifactError(`the archive of ${source.logicalName} has no ${moduleName}.js (handler ${handler})`);
        return {
            archiveDir,
            layerDir,
            moduleFile,
            exportName,
            nodePath: lambdaNodePath(layerDir),
            environment: { ...(source.environment ?? {}) },
            functionName: source.logicalName,
            entries: await archiveEntries(source.code),
            cleanup,
        };
    } catch (error) {
        cleanup();
        throw error;
    }
}

/** Total bytes of a directory tree (dereferencing nothing: the archive holds real files). */
export function directoryBytes(directory: string): number {
    let total = 0;
    for (const entry of fs.readdirSync(directory, { withFileTypes: true })) {
        const full = path.join(directory, entry.name);
        if (entry.isDirectory()) total += directoryBytes(full);
        else if (entry.isFile()) total += fs.statSync(full).size;
    }
    return total;
}

function filesUnder(directory: string, prefix = ""): [string, string][] {
    const files: [string, string][] = [];
    for (const entry of fs.readdirSync(directory, { withFileTypes: true }).sort((left, right) => left.name.localeCompare(right.name))) {
        const full = path.join(directory, entry.name);
        const name = prefix ? `${prefix}/${entry.name}` : entry.name;
        if (entry.isDirectory()) files.push(...filesUnder(full, name));
        else if (entry.isFile()) files.push([name, full]);
    }
    return files;
}

/** A fixed entry time (the DOS epoch), so the same files always zip to the same bytes. */
const ZIP_ENTRY_TIME = new Date(1980, 0, 1);

/**
 * Zips a directory the way a deployment package is zipped (deflate at zlib's level 9,
 * one entry per file, regular files 0644, UTF-8 names, no extra fields) with yazl, and
 * resolves to the zip's bytes. Used to measure the archive's real upload size.
 *
 * @example
 * const bytes = (await zipDirectory(archiveDir)).length;
 */
export async function zipDirectory(directory: string): Promise<Buffer> {
    const zip = new yazl.ZipFile();
    for (const [name, full] of filesUnder(directory))
        zip.addBuffer(fs.readFileSync(full), name, { compressionLevel: 9, mtime: ZIP_ENTRY_TIME, mode: 0o100644, forceDosTimestamp: true });
    zip.end();
    const chunks: Buffer[] = [];
    for await (const chunk of zip.outputStream as AsyncIterable<Buffer>) chunks.push(chunk);
    return Buffer.concat(chunks);
}
