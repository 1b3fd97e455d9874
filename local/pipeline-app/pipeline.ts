/**
 * The Docker-free local pipeline: runs the Pulumi program under mocks with a
 * stack's config, starts DynamoDB Local and fauxqs on 127.0.0.1, creates the
 * stack's queues and tables on them, then starts each local service (the event
 * processor from its serialized artifact, the stream Sender, and whatever else
 * plugs in). `stop()` undoes all of it, in reverse, and is safe to call twice.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams";
import { SQSClient } from "@aws-sdk/client-sqs";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as net from "node:net";
import { assertJava, Emulator, EmulatorStartError, LOCAL_CREDENTIALS, startDynamoDbLocal, startFauxqs } from "../offline/emulators";
import { cachedDeployment, type MockDeployment } from "../offline/mock-deployment";
import * as crypto from "node:crypto";
import { EVENT_PROCESSOR_ENV } from "../../contracts/event-pipeline";
import { startLocalKms } from "../aws-stand-ins/kms-hmac";
import { localIdentities, type LocalProducerCredentials } from "./identities";
import { provision } from "./provision";
import { defaultServices } from "./services/default-services";
import type { RunningEventProcessor } from "./services/event-processor";
import type { RunningStreamSender } from "./services/stream-sender";
import type { LocalContext, LocalService, RunningService } from "./services/types";
import { localTopology } from "./topology";
import { availableStacks } from "./options";

const ROOT = path.resolve(__dirname, "..", "..");

export interface PipelineOptions {
    /** @default "localstack" when Pulumi.localstack.yaml exists, else "dev" */
    stack?: string;
    /** Config merged over the stack file's (tests use it for short timeouts). */
    configOverrides?: Record<string, unknown>;
    sqsPort?: number;
    dynamodbPort?: number;
    /** Keep DynamoDB Local's data in this directory (survives an emulator restart). @default in memory */
    dynamodbDataDir?: string;
    /** Services to run. @default defaultServices() (local/pipeline-app/services/default-services.ts) */
    services?: LocalService[];
    /** Extra services appended to the defaults (e.g. the email service). */
    extraServices?: LocalService[];
    /** @default 4 */
    maxLocalConcurrency?: number;
    /** Progress and service logs. @default ignored */
    log?: (line: string) => void;
    /**
     * Where functions' own logs go: a directory (one `<function>.log` each), or a callback.
     * @default "<repo>/.local/logs"
     */
    functionLogs?: string | ((functionName: string, text: string) => void);
    /** Called once when something unrecoverable happens after start (an emulator died). */
    onFatal?: (error: Error) => void;
    /** Aborts a start under way (Ctrl-C): what was started is stopped and the start rejects with a {@link PipelineStartError}. */
    signal?: AbortSignal;
}

/** The fields of the `LOCAL_PIPELINE_READY` line. */
export interface ReadyInfo {
    stack: string;
    region: string;
    sqsEndpoint: string;
    dynamodbEndpoint: string;
    dynamodbStreamsEndpoint: string;
    eventQueueUrl: string;
    deadLetterQueueUrl: string;
    eventTableName: string;
    eventStreamArn: string;
    /** Credentials the emulators accept (never real ones). */
    credentials: { accessKeyId: string; secretAccessKey: string };
    /** Environment variables that point the AWS CLI / any SDK here. */
    environment: Record<string, string>;
    /**
     * Each configured producer's local credentials and tenants (empty in open mode). The local
     * SQS accepts only these and `credentials` (and the functions' own) when producers are configured.
     */
    producers: Record<string, LocalProducerCredentials>;
    notEmulated: string[];
    [key: string]: unknown;
}

export interface LocalPipeline {
    ready: ReadyInfo;
    context: LocalContext;
    services: RunningService[];
    eventProcessor?: RunningEventProcessor;
    sender?: RunningStreamSender;
    /** Processes this pipeline started, for lifecycle checks. */
    pids(): number[];
    /** Kills DynamoDB Local (fault injection). The pipeline treats it as expected until `restartDynamoDb`. */
    killDynamoDb(signal?: NodeJS.Signals): Promise<void>;
    /** Starts DynamoDB Local again on the same port (data survives only with `dynamodbDataDir`). */
    restartDynamoDb(): Promise<void>;
    stop(): Promise<void>;
}

export class PipelineStartError extends Error {
    constructor(
        message: string,
        readonly cause?: unknown,
    ) {
        super(message);
        this.name = "PipelineStartError";
    }
}

/** Which stack's config the local pipeline uses when none is named. */
export function defaultStack(): string {
    return fs.existsSync(path.join(ROOT, "Pulumi.localstack.yaml")) ? "localstack" : "dev";
}

/**
 * @example
 * const pipeline = await startLocalPipeline({ log: console.error });
 * console.log(pipeline.ready.eventQueueUrl);
 * await pipeline.stop();
 */
export async function startLocalPipeline(options: PipelineOptions = {}): Promise<LocalPipeline> {
    const log = options.log ?? (() => undefined);
    const stack = options.stack ?? defaultStack();
    const cleanups: Array<() => Promise<void> | void> = [];
    let stopping = false;
    let fatalRaised = false;
    const stopAll = async () => {
        stopping = true;
        for (const cleanup of cleanups.splice(0).reverse()) {
            try {
                await cleanup();
            } catch (error) {
                log(`[pipeline] cleanup failed: ${(error as Error).message}`);
            }
        }
    };

    /** Between steps: a start aborted (Ctrl-C) goes no further. */
    const checkpoint = () => {
        if (options.signal?.aborted) throw new PipelineStartError("the start was aborted");
    };
    try {
        // 0. Fail fast, before the slower mock deployment: Java present, requested ports free.
        assertJava();
        await assertPortsFree([
            ["fauxqs (SQS)", options.sqsPort],
            ["DynamoDB Local", options.dynamodbPort],
        ]);
        // 1. The stack, as Pulumi would deploy it (no emulator is started if this fails).
        if (!fs.existsSync(path.join(ROOT, `Pulumi.${stack}.yaml`))) {
            throw new PipelineStartError(
                `No stack config Pulumi.${stack}.yaml in ${ROOT}. Use --stack with one of: ${availableStacks().join(", ")}`,
            );
        }
        log(`[pipeline] running the Pulumi program under mocks with stack "${stack}"`);
        let deployment: MockDeployment;
        try {
            const deployed = await cachedDeployment({ stack, configOverrides: options.configOverrides });
            deployment = deployed.deployment;
            if (deployed.fromCache)
                log(`[pipeline] nothing the program reads changed since its last run: its result is reused (.local/cache)`);
        } catch (error) {
            throw new PipelineStartError(`The Pulumi program failed under mocks for stack "${stack}": ${(error as Error).message}`, error);
        }
        const topology = localTopology(deployment);
        const region = deployment.region;
        const identities = localIdentities(topology);
        checkpoint();

        // 2. Emulators on loopback.
        log(`[pipeline] starting fauxqs and DynamoDB Local on 127.0.0.1`);
        const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "event-ingestion-local-"));
        cleanups.push(() => fs.rmSync(workDir, { recursive: true, force: true }));
        const emulators: { sqs?: Emulator; dynamodb?: Emulator } = {};
        const started = await Promise.allSettled([
            startFauxqs({ region, port: options.sqsPort, identities: identities?.all() }).then((emulator) => (emulators.sqs = emulator)),
            startDynamoDbLocal({ port: options.dynamodbPort, dbPath: options.dynamodbDataDir }).then(
                (emulator) => (emulators.dynamodb = emulator),
            ),
        ]);
        cleanups.push(() => emulators.sqs?.stop());
        // `emulators.dynamodb` is replaced when DynamoDB Local is restarted; stop whichever runs.
        cleanups.push(() => emulators.dynamodb?.stop());
        const failures = started.filter((result): result is PromiseRejectedResult => result.status === "rejected");
        if (failures.length)
            throw new PipelineStartError(failures.map((failure) => (failure.reason as Error).message).join("\n"), failures[0].reason);
        const sqsEmulator = emulators.sqs!;
        const dynamo = () => emulators.dynamodb!;
        let dynamoExpectedDown = false;

        const fatal = (error: Error) => {
            if (stopping || fatalRaised) return;
            fatalRaised = true;
            log(`[pipeline] fatal: ${error.message}`);
            options.onFatal?.(error);
        };
        const watch = (emulator: Emulator, name: string, expectedDown: () => boolean) =>
            emulator.process.once("exit", (code, signal) => {
                if (!stopping && !expectedDown())
                    fatal(new Error(`${name} exited unexpectedly (${signal ?? `code ${code}`}); stopping the pipeline`));
            });
        watch(sqsEmulator, "fauxqs", () => false);
        watch(dynamo(), "DynamoDB Local", () => dynamoExpectedDown);

        const clientConfig = { region, credentials: LOCAL_CREDENTIALS };
        const clients = {
            sqs: new SQSClient({ ...clientConfig, endpoint: sqsEmulator.endpoint, useQueueUrlAsEndpoint: false }),
            dynamodb: new DynamoDBClient({ ...clientConfig, endpoint: dynamo().endpoint }),
            streams: new DynamoDBStreamsClient({ ...clientConfig, endpoint: dynamo().endpoint }),
        };
        cleanups.push(() => Object.values(clients).forEach((client) => client.destroy()));

        // The sender-claim HMAC key (stacks with producers): a local KMS holding random key material
        // for the run; the READY line carries it (base64) so the operator tools sign as the redrive policy may.
        const claimKeyArns = [
            ...new Set(topology.functions.map((fn) => fn.environment[EVENT_PROCESSOR_ENV.senderClaimKeyArn]).filter(Boolean)),
        ];
        const claimSecret = claimKeyArns.length ? crypto.randomBytes(32) : undefined;
        const kms = claimSecret ? await startLocalKms(new Map(claimKeyArns.map((arn) => [arn, claimSecret]))) : undefined;
        if (kms) cleanups.push(() => kms.stop());

        // 3. The stack's queues and tables.
        checkpoint();
        const resources = await provision(topology, clients);
        log(`[pipeline] created ${resources.queues.length} queue(s) and ${resources.tables.length} table(s) from stack "${stack}"`);

        const awsEnvironment = {
            AWS_REGION: region,
            AWS_DEFAULT_REGION: region,
            AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
            AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
            AWS_ENDPOINT_URL_SQS: sqsEmulator.endpoint,
            AWS_ENDPOINT_URL_DYNAMODB: dynamo().endpoint,
            AWS_ENDPOINT_URL_DYNAMODB_STREAMS: dynamo().endpoint,
            ...(kms ? { AWS_ENDPOINT_URL_KMS: kms.endpoint } : {}),
        };
        const functionLog =
            typeof options.functionLogs === "function"
                ? options.functionLogs
                : (() => {
                      const dir = options.functionLogs ?? path.join(ROOT, ".local", "logs");
                      fs.mkdirSync(dir, { recursive: true });
                      const streams = new Map<string, fs.WriteStream>();
                      cleanups.push(() =>
                          Promise.all([...streams.values()].map((stream) => new Promise((resolve) => stream.end(resolve)))).then(
                              () => undefined,
                          ),
                      );
                      log(`[pipeline] function logs: ${dir}`);
                      return (name: string, text: string) => {
                          if (!streams.has(name)) streams.set(name, fs.createWriteStream(path.join(dir, `${name}.log`), { flags: "w" }));
                          streams.get(name)!.write(text);
                      };
                  })();
        const context: LocalContext = {
            stack,
            region,
            emulators: { sqs: sqsEmulator, dynamodb: dynamo() },
            clients,
            deployment,
            topology,
            resources,
            awsEnvironment,
            functionCredentials: (functionName) => {
                const identity = identities?.functions.get(functionName);
                return identity && { accessKeyId: identity.accessKeyId, secretAccessKey: identity.secretAccessKey };
            },
            workDir,
            maxLocalConcurrency: options.maxLocalConcurrency ?? 4,
            log,
            functionLog,
            fatal,
        };

        // 4. Services, in order; each one's stop is registered as soon as it runs.
        const services: RunningService[] = [];
        const wanted = [...(options.services ?? defaultServices()), ...(options.extraServices ?? [])];
        for (const service of wanted) {
            checkpoint();
            log(`[pipeline] starting ${service.name}`);
            let running: RunningService;
            try {
                running = await service.start(context);
            } catch (error) {
                throw new PipelineStartError(`${service.name} failed to start: ${(error as Error).message}`, error);
            }
            services.push(running);
            cleanups.push(() => running.stop());
        }

        const readyFields: Record<string, unknown> = {};
        for (const service of services) {
            for (const [key, value] of Object.entries(service.ready)) {
                if (key in readyFields) throw new PipelineStartError(`READY field "${key}" is claimed by two services`);
                readyFields[key] = value;
            }
        }
        const ready: ReadyInfo = {
            stack,
            region,
            sqsEndpoint: sqsEmulator.endpoint,
            dynamodbEndpoint: dynamo().endpoint,
            dynamodbStreamsEndpoint: dynamo().endpoint,
            eventQueueUrl: "",
            deadLetterQueueUrl: "",
            eventTableName: "",
            eventStreamArn: "",
            ...readyFields,
            pid: process.pid,
            processes: { fauxqs: sqsEmulator.process.pid, dynamodbLocal: dynamo().process.pid },
            // Named fields only: the SDK decorates credential objects it is given (`$source`).
            credentials: { accessKeyId: LOCAL_CREDENTIALS.accessKeyId, secretAccessKey: LOCAL_CREDENTIALS.secretAccessKey },
            environment: awsEnvironment,
            producers: identities?.readyProducers() ?? {},
            ...(claimSecret ? { senderClaimSecret: claimSecret.toString("base64") } : {}),
            notEmulated: topology.notEmulated,
        };

        const pipeline: LocalPipeline = {
            ready,
            context,
            services,
            eventProcessor: services.find((service) => service.name === "event-processor") as RunningEventProcessor | undefined,
            sender: services.find((service) => service.name === "stream-sender") as RunningStreamSender | undefined,
            pids() {
                const fromServices = services.flatMap((service) =>
                    (service as RunningEventProcessor).fn ? (service as RunningEventProcessor).fn.pids() : [],
                );
                return [sqsEmulator.process.pid!, dynamo().process.pid!, ...fromServices].filter(Boolean);
            },
            async killDynamoDb(signal: NodeJS.Signals = "SIGKILL") {
                dynamoExpectedDown = true;
                const child = dynamo().process;
                if (child.exitCode !== null || child.signalCode !== null) return;
                const exited = new Promise((resolve) => child.once("exit", resolve));
                child.kill(signal);
                await exited;
            },
            async restartDynamoDb() {
                emulators.dynamodb = await startDynamoDbLocal({ port: dynamo().port, dbPath: options.dynamodbDataDir });
                context.emulators.dynamodb = dynamo();
                dynamoExpectedDown = false;
                watch(dynamo(), "DynamoDB Local", () => dynamoExpectedDown);
                // Without a data directory the tables are gone: create them again.
                if (!options.dynamodbDataDir) await provision({ ...topology, queues: [] }, clients);
            },
            stop: stopAll,
        };
        return pipeline;
    } catch (error) {
        await stopAll();
        throw error;
    }
}

/** Checks requested ports on 127.0.0.1 (the emulators check again when they bind). */
async function assertPortsFree(ports: Array<[string, number | undefined]>): Promise<void> {
    const taken: string[] = [];
    for (const [name, port] of ports) {
        if (port === undefined) continue;
        const free = await new Promise<boolean>((resolve) => {
            const server = net.createServer();
            server.once("error", () => resolve(false));
            server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
        });
        if (!free) taken.push(`Port ${port} for ${name} is already in use. Choose another port or stop whatever holds it.`);
    }
    if (taken.length) throw new EmulatorStartError(taken.join("\n"));
}
