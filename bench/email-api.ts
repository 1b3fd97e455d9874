/**
 * Email API benchmark: how fast the API answers where clients wait.
 *   - latency: `POST /v1/emails` then `GET /v1/emails/{id}` of every accepted email, against
 *     the email service on the local pipeline (the shipped API archive behind the loopback HTTP
 *     API), each request signed with SigV4 (service `execute-api`) with the pipeline's local
 *     credentials, as a client of the deployed API signs; `--requests` of each at
 *     `--concurrency` in flight, after a warm-up that starts every API environment.
 *   - cold start: the init (require `__index.js`, which builds the handler) of the shipped API
 *     archive, median over `--cold-starts` fresh environments, traced as deployed, beside a
 *     minimal handler that only enqueues to SQS with the runtime's SDK, in the same environments:
 *     `apiColdStartRatio` = API / minimal init CPU (wall times beside it), the price of everything
 *     the API loads beyond the one call every accepted email needs.
 *
 * Run alone: `npm run bench -- --mode email-api [--requests 200] [--concurrency 4] [--cold-starts 5] [--json]`
 */
import { Hash } from "@smithy/core/serde";
import { SignatureV4 } from "@smithy/signature-v4";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { percentile } from "../local/pipeline-app/accounting";
import { startLocalPipeline } from "../local/pipeline-app/pipeline";
import { emailLocalService, type RunningEmailService } from "../local/pipeline-app/services/email-service";
import { LOCAL_CREDENTIALS } from "../local/offline/emulators";
import { invokeArtifact, prepareArtifact } from "../local/offline/lambda-artifact";
import { spread, type Spread } from "./artifact";
import { integerOption } from "./index";
import { benchDeployment } from "./support/stack";

/**
 * The API's init may use at most this many times the CPU of a handler that only enqueues. What
 * every POST needs costs about twice that floor (DynamoDB for its status, Powertools' Logger and
 * Metrics, the request schemas, and X-Ray's SDK for the Tracer, as deployed: 1.85-2.2 measured on
 * a loaded 2-core machine); one more SDK client loaded at init crosses it (S3's, for large bodies
 * only, cost half the floor: 2.53-2.63 with it).
 */
export const API_COLD_START_TARGET_RATIO = 2.5;

export const description = `email API on the local pipeline: p50/p99 of signed POST /v1/emails and GET /v1/emails/{id}; the API archive's cold init beside a minimal SQS-only handler (target ratio <= ${API_COLD_START_TARGET_RATIO})`;
export const options = {
    requests: integerOption("POSTs in the measured run (and as many GETs)", 200, 10, 10_000),
    concurrency: integerOption("requests in flight at once", 4, 1, 64),
    "cold-starts": integerOption("fresh processes to time each cold start over", 5, 1, 50),
};

interface Latency {
    p50: number | null;
    p99: number | null;
    max: number | null;
}

/** Figures (field names unique across bench modes: the registry merges them). */
export interface EmailApiFigures {
    emailApiStack: string;
    /** POSTs measured (and GETs: one per accepted email). */
    emailApiRequests: number;
    /** Requests in flight at once. */
    emailApiConcurrency: number;
    /** Execution environments the local API runs (requests beyond them wait, as at a reserved concurrency). */
    emailApiEnvironments: number;
    /** Client-side: from sending the signed request to the whole answer read. */
    emailApiPostLatencyMs: Latency;
    emailApiGetLatencyMs: Latency;
    emailApiPostPerSecond: number;
    /** Init duration (wall) of the shipped API archive, traced as deployed, per fresh environment. */
    apiColdStartMs: Spread;
    /** The CPU the same inits used. */
    apiColdStartCpuMs: Spread;
    /** The same with X-Ray tracing off (POWERTOOLS_TRACE_ENABLED=false): the Tracer's share is the difference. */
    apiColdStartUntracedMs: Spread;
    apiColdStartUntracedCpuMs: Spread;
    /** Init of a handler that only builds an SQS client (the runtime's SDK), in the same environments. */
    minimalEnqueueColdStartMs: Spread;
    minimalEnqueueColdStartCpuMs: Spread;
    /** AWS SDK clients the API's init loads. */
    apiColdStartSdkClients: string[];
    /**
     * apiColdStartCpuMs.median / minimalEnqueueColdStartCpuMs.median. An init is CPU-bound (it reads
     * files but waits on no network), so its CPU is its duration on a core of its own; the wall time
     * also counts the waits for a core, which on a shared machine can double it between runs.
     */
    apiColdStartRatio: number;
    /** The same ratio of wall times. */
    apiColdStartWallRatio: number;
    /** The same ratio with tracing off: what the API loads beside X-Ray. */
    apiColdStartUntracedRatio: number;
    apiColdStartTargetRatio: number;
    apiColdStartTargetMet: boolean;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

function latency(values: number[]): Latency {
    const sorted = values.map(round1).sort((a, b) => a - b);
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) ?? null };
}

/** The request a client would send, with SigV4 headers (service `execute-api`), as `npm run send` signs it. */
export async function signedRequest(
    method: "GET" | "POST",
    url: string,
    region: string,
    credentials: { accessKeyId: string; secretAccessKey: string },
    body?: string,
): Promise<RequestInit> {
    const parsed = new URL(url);
    const signer = new SignatureV4({ service: "execute-api", region, credentials, sha256: Hash.bind(null, "sha256") });
    const headers: Record<string, string> = body === undefined ? {} : { "content-type": "application/json" };
    const signed = await signer.sign({
        method,
        protocol: parsed.protocol,
        hostname: parsed.hostname,
        port: parsed.port ? Number(parsed.port) : undefined,
        path: parsed.pathname,
        query: {},
        headers: { ...headers, host: parsed.host },
        ...(body === undefined ? {} : { body }),
    });
    // fetch sets Host itself, to the value that was signed.
    const out = Object.fromEntries(Object.entries(signed.headers).filter(([name]) => name.toLowerCase() !== "host"));
    return { method, headers: out, ...(body === undefined ? {} : { body }) };
}

/** Runs `total` tasks, `concurrency` at a time; resolves to each task's duration in ms. */
async function timed(total: number, concurrency: number, task: (index: number) => Promise<void>): Promise<number[]> {
    const durations: number[] = new Array<number>(total);
    let next = 0;
    await Promise.all(
        Array.from({ length: Math.min(concurrency, total) }, async () => {
            while (next < total) {
                const index = next++;
                const started = performance.now();
                await task(index);
                durations[index] = performance.now() - started;
            }
        }),
    );
    return durations;
}

/** A request the local SES accepts (a sender under the stack's identity); no personal data. */
const BENCH_EMAIL = JSON.stringify({
    from: "bench@example.com",
    to: ["success@simulator.amazonses.com"],
    subject: "bench",
    text: "bench",
});

async function latencyFigures(requests: number, concurrency: number) {
    const pipeline = await startLocalPipeline({
        // Only the email service: the event processor would compete for the same CPU.
        services: [emailLocalService()],
        log: (line) => process.stderr.write(`  ${line}\n`),
        functionLogs: () => undefined,
    });
    try {
        const email = pipeline.services.find((service) => service.name === "email") as RunningEmailService;
        const apiUrl = pipeline.ready.emailApiUrl as string;
        const { region, credentials } = pipeline.ready;
        const post = async (): Promise<string> => {
            const response = await fetch(apiUrl, await signedRequest("POST", apiUrl, region, credentials, BENCH_EMAIL));
            const answer = (await response.json().catch(() => ({}))) as { id?: string; error?: unknown };
            if (response.status !== 202 || !answer.id) {
                // The error's name only (a word, or nothing): never an answer's free text on a terminal.
                const name = typeof answer.error === "string" && /^[A-Za-z]{1,40}$/.test(answer.error) ? ` ${answer.error}` : "";
                throw new Error(`POST /v1/emails answered ${response.status}${name}, not 202 with an id`);
            }
            return answer.id;
        };
        const get = async (id: string): Promise<void> => {
            const url = `${apiUrl}/${id}`;
            const response = await fetch(url, await signedRequest("GET", url, region, credentials));
            await response.arrayBuffer();
            if (response.status !== 200) throw new Error(`GET /v1/emails/{id} answered ${response.status}, not 200`);
        };
        // Warm-up: every environment's cold start and first connections are not request latency.
        const environments = email.api.concurrency;
        const warm = await Promise.all(Array.from({ length: environments * 2 }, () => post()));
        await Promise.all(warm.map((id) => get(id)));

        process.stderr.write(`  ${requests} POSTs, then ${requests} GETs, ${concurrency} in flight\n`);
        const ids: string[] = [];
        const postsStarted = performance.now();
        const postLatencies = await timed(requests, concurrency, async (index) => {
            ids[index] = await post();
        });
        const postSeconds = (performance.now() - postsStarted) / 1000;
        const getLatencies = await timed(requests, concurrency, (index) => get(ids[index]));
        return {
            emailApiStack: pipeline.ready.stack,
            emailApiRequests: requests,
            emailApiConcurrency: concurrency,
            emailApiEnvironments: environments,
            emailApiPostLatencyMs: latency(postLatencies),
            emailApiGetLatencyMs: latency(getLatencies),
            emailApiPostPerSecond: round1(requests / postSeconds),
        };
    } finally {
        await pipeline.stop();
    }
}

/** A handler that only enqueues: the runtime's SQS client, built at init, one SendMessage per request. */
const MINIMAL_ENQUEUE_HANDLER = `"use strict";
const sqs = require("@aws-sdk/client-sqs");
const client = new sqs.SQSClient({});
exports.handler = async (event) => {
    const id = require("node:crypto").randomUUID();
    await client.send(new sqs.SendMessageCommand({ QueueUrl: process.env.EMAIL_QUEUE_URL, MessageBody: event.body ?? "{}", MessageGroupId: id, MessageDeduplicationId: id }));
    return { statusCode: 202, body: JSON.stringify({ id }) };
};
`;

/** A preload that reports, at exit, which AWS SDK clients the process loaded. */
const SDK_PROBE = `process.on("exit", () => process.stderr.write("SDK_CLIENTS " + JSON.stringify([...new Set(Object.keys(require.cache).map((f) => (f.match(/@aws-sdk[\\\\/](client-[a-z0-9-]+)/) || [])[1]).filter(Boolean))].sort()) + "\\n"));`;

async function coldStartFigures(coldStarts: number) {
    const deployment = await benchDeployment();
    const api = await prepareArtifact(deployment, "email-api");
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "bench-email-api-"));
    try {
        const minimalDir = path.join(scratch, "task");
        fs.mkdirSync(minimalDir);
        fs.writeFileSync(path.join(minimalDir, "__index.js"), MINIMAL_ENQUEUE_HANDLER);
        const probe = path.join(scratch, "probe.cjs");
        fs.writeFileSync(probe, SDK_PROBE);
        const environment = {
            ...api.environment,
            AWS_REGION: deployment.region,
            AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
            AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
        };
        const initialise = async (archiveDir: string, extra: Record<string, string> = {}) => {
            const init = await invokeArtifact({
                archiveDir,
                layerDir: api.layerDir,
                environment: { ...environment, ...extra },
                functionName: "email-api",
            });
            if (init.error) throw new Error(`${archiveDir} failed to initialise: ${init.error.name}: ${init.error.message}`);
            return init;
        };
        const probed = await initialise(api.archiveDir, { NODE_OPTIONS: `--require ${probe}` });
        const clients = JSON.parse(/SDK_CLIENTS (.*)/.exec(probed.stderr)?.[1] ?? "[]") as string[];
        const wall = { api: [] as number[], untraced: [] as number[], minimal: [] as number[] };
        const cpu = { api: [] as number[], untraced: [] as number[], minimal: [] as number[] };
        for (let run = 0; run < coldStarts; run++) {
            // A random order each run, so that no variant always runs on a warmer machine.
            const variants = (["api", "untraced", "minimal"] as const)
                .map((variant) => ({ variant, key: Math.random() }))
                .sort((a, b) => a.key - b.key)
                .map(({ variant }) => variant);
            for (const variant of variants) {
                const init =
                    variant === "minimal"
                        ? await initialise(minimalDir)
                        : await initialise(api.archiveDir, variant === "untraced" ? { POWERTOOLS_TRACE_ENABLED: "false" } : {});
                wall[variant].push(init.initMs);
                cpu[variant].push(init.initCpuMs);
            }
        }
        const ratio = spread(cpu.api).median / spread(cpu.minimal).median;
        return {
            apiColdStartMs: spread(wall.api),
            apiColdStartCpuMs: spread(cpu.api),
            apiColdStartUntracedMs: spread(wall.untraced),
            apiColdStartUntracedCpuMs: spread(cpu.untraced),
            minimalEnqueueColdStartMs: spread(wall.minimal),
            minimalEnqueueColdStartCpuMs: spread(cpu.minimal),
            apiColdStartSdkClients: clients,
            apiColdStartRatio: Math.round(ratio * 100) / 100,
            apiColdStartWallRatio: Math.round((spread(wall.api).median / spread(wall.minimal).median) * 100) / 100,
            apiColdStartUntracedRatio: Math.round((spread(cpu.untraced).median / spread(cpu.minimal).median) * 100) / 100,
            apiColdStartTargetRatio: API_COLD_START_TARGET_RATIO,
            apiColdStartTargetMet: ratio <= API_COLD_START_TARGET_RATIO,
        };
    } finally {
        fs.rmSync(scratch, { recursive: true, force: true });
        api.cleanup();
    }
}

/**
 * Measures the email API.
 *
 * @example
 * const figures = await run({ requests: 200, concurrency: 4, coldStarts: 5 });
 */
export async function run(opts: { requests?: number; concurrency?: number; coldStarts?: number } = {}): Promise<EmailApiFigures> {
    const latencies = await latencyFigures(opts.requests ?? 200, opts.concurrency ?? 4);
    return { ...latencies, ...(await coldStartFigures(opts.coldStarts ?? 5)) };
}

export function format(f: EmailApiFigures): string[] {
    const l = (x: Latency) => `p50 ${x.p50} ms, p99 ${x.p99} ms, max ${x.max} ms`;
    const ms = (s: Spread) => `median ${s.median.toFixed(1)} ms over ${s.runs} (min ${s.min.toFixed(1)}, max ${s.max.toFixed(1)})`;
    return [
        `email API (stack ${f.emailApiStack}, local pipeline, ${f.emailApiEnvironments} API environments; ${f.emailApiRequests} signed requests of each, ${f.emailApiConcurrency} in flight):`,
        `  POST /v1/emails:      ${l(f.emailApiPostLatencyMs)} (${f.emailApiPostPerSecond}/s)`,
        `  GET /v1/emails/{id}:  ${l(f.emailApiGetLatencyMs)}`,
        `  API cold init (shipped archive, traced): CPU ${ms(f.apiColdStartCpuMs)}, wall ${ms(f.apiColdStartMs)}; loads ${f.apiColdStartSdkClients.join(", ")}`,
        `    untraced (POWERTOOLS_TRACE_ENABLED=false): CPU ${ms(f.apiColdStartUntracedCpuMs)}, wall ${ms(f.apiColdStartUntracedMs)}`,
        `  minimal enqueue-only handler cold init:  CPU ${ms(f.minimalEnqueueColdStartCpuMs)}, wall ${ms(f.minimalEnqueueColdStartMs)}`,
        `  apiColdStartRatio ${f.apiColdStartRatio} (init CPU, API / minimal; target <= ${f.apiColdStartTargetRatio}: ${f.apiColdStartTargetMet ? "met" : "MISSED"}); wall ${f.apiColdStartWallRatio}; untraced ${f.apiColdStartUntracedRatio}`,
    ];
}
