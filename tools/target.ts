/**
 * Where the operator tools (`npm run dlq`, `npm run send`) point: the local
 * pipeline (its READY JSON, which `npm run local` keeps in `.local/pipeline.json`
 * while it runs) or a deployed stack (`--stack NAME`: `pulumi stack output --json`,
 * the standard AWS credential chain, the region of the stack's queue URLs).
 */
import { KMSClient } from "@aws-sdk/client-kms";
import { GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { kmsSenderClaimKey, localSenderClaimKey, type SenderClaimKey } from "../handlers/event-processor/sender-claim";
import { processAlive } from "../local/pipeline-app/local-lock";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..");

/** Where `npm run local` writes its READY JSON; the tools read it. */
export const LOCAL_PIPELINE_FILE = path.join(ROOT, ".local", "pipeline.json");
/** Overrides {@link LOCAL_PIPELINE_FILE} (tests and a second local pipeline use it). */
export const LOCAL_PIPELINE_FILE_VARIABLE = "LOCAL_PIPELINE_FILE";

/** The two systems the tools know. */
export const SYSTEMS = ["events", "email"] as const;
export type SystemName = (typeof SYSTEMS)[number];

/** One system's queue and its dead-letter queue. */
export interface SystemQueues {
    system: SystemName;
    queueUrl: string;
    /** Resolved with GetQueueAttributes when the source did not name it. */
    queueArn?: string;
    deadLetterQueueUrl: string;
    deadLetterQueueArn?: string;
    fifo: boolean;
    /**
     * A short poll answers from every visible message of the DLQ (the local emulator keeps one store),
     * so one empty answer means none is left; SQS samples a subset of its servers instead.
     */
    shortPollSeesAll?: boolean;
}

export interface ToolTarget {
    /** `local` (the running local pipeline) or `stack` (a deployed stack). */
    kind: "local" | "stack";
    /** The stack name, or "local (<stack>)". */
    name: string;
    region: string;
    sqs: SQSClient;
    systems: Partial<Record<SystemName, SystemQueues>>;
    /** The email API's URL (POST /v1/emails). */
    emailApiUrl?: string;
    /**
     * The event pipeline's sender-claim key, on a stack with producers (`senderClaims.keyArn` output; locally a
     * READY `senderClaimSecret`): redrive signs SQS-moved letters with it (operator policy: kms:GenerateMac).
     */
    senderClaimKey?: SenderClaimKey;
    /** The local pipeline's READY fields (local only). */
    ready?: Record<string, unknown>;
    close(): void;
}

/** The tool cannot find its target; the message says how to get one. */
export class TargetError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "TargetError";
    }
}

/** The path of the local pipeline file for this environment. */
export function localPipelineFile(env: NodeJS.ProcessEnv = process.env): string {
    return env[LOCAL_PIPELINE_FILE_VARIABLE] || LOCAL_PIPELINE_FILE;
}

function text(value: unknown): string | undefined {
    return typeof value === "string" && value !== "" ? value : undefined;
}

/** The systems a READY line or a stack's outputs name (same field names: the stack outputs). */
export function systemsFrom(fields: Record<string, unknown>): Partial<Record<SystemName, SystemQueues>> {
    const systems: Partial<Record<SystemName, SystemQueues>> = {};
    const eventQueueUrl = text(fields.eventQueueUrl);
    const deadLetterQueueUrl = text(fields.deadLetterQueueUrl);
    if (eventQueueUrl && deadLetterQueueUrl) {
        systems.events = {
            system: "events",
            queueUrl: eventQueueUrl,
            queueArn: text(fields.eventQueueArn),
            deadLetterQueueUrl,
            deadLetterQueueArn: text(fields.deadLetterQueueArn),
            fifo: eventQueueUrl.endsWith(".fifo"),
        };
    }
    const emailQueueUrl = text(fields.emailQueueUrl);
    const emailDeadLetterQueueUrl = text(fields.emailDeadLetterQueueUrl);
    if (emailQueueUrl && emailDeadLetterQueueUrl) {
        systems.email = {
            system: "email",
            queueUrl: emailQueueUrl,
            deadLetterQueueUrl: emailDeadLetterQueueUrl,
            fifo: emailQueueUrl.endsWith(".fifo"),
        };
    }
    return systems;
}

/**
 * The local pipeline's systems, from its READY fields. fauxqs answers a short poll from its whole queue,
 * so a DLQ scan there needs no second, long poll to be sure it saw everything.
 */
export function localSystems(ready: Record<string, unknown>): Partial<Record<SystemName, SystemQueues>> {
    const systems = systemsFrom(ready);
    for (const queues of Object.values(systems)) queues.shortPollSeesAll = true;
    return systems;
}

/** `https://sqs.eu-west-1.amazonaws.com/...` → `eu-west-1`. */
export function regionOfQueueUrl(url: string): string | undefined {
    return /^https:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?\//.exec(url)?.[1];
}

/**
 * The running local pipeline, from its READY JSON file.
 *
 * @example
 * const target = localTarget(); // throws TargetError when `npm run local` is not running
 */
export function localTarget(file = localPipelineFile()): ToolTarget {
    if (!fs.existsSync(file)) {
        throw new TargetError(
            `No local pipeline: ${path.relative(process.cwd(), file) || file} does not exist. Start one with \`npm run local\`, or name a deployed stack with --stack NAME.`,
        );
    }
    let ready: Record<string, unknown>;
    try {
        ready = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (error) {
        throw new TargetError(
            `${file} is not the READY JSON of \`npm run local\` (${(error as Error).message}); restart \`npm run local\`.`,
        );
    }
    const pid = Number(ready.pid);
    if (Number.isInteger(pid) && pid > 0 && !processAlive(pid)) {
        throw new TargetError(
            `${file} is left over from a local pipeline that no longer runs (pid ${pid}); start one with \`npm run local\`.`,
        );
    }
    const credentials = ready.credentials as { accessKeyId: string; secretAccessKey: string };
    const region = String(ready.region);
    const sqs = new SQSClient({ region, endpoint: String(ready.sqsEndpoint), credentials, useQueueUrlAsEndpoint: false });
    const secret = text(ready.senderClaimSecret);
    return {
        kind: "local",
        ...(secret ? { senderClaimKey: localSenderClaimKey(Buffer.from(secret, "base64")) } : {}),
        name: `local (${String(ready.stack)})`,
        region,
        sqs,
        systems: localSystems(ready),
        emailApiUrl: text(ready.emailApiUrl),
        ready,
        close: () => sqs.destroy(),
    };
}

/**
 * A deployed stack, from `pulumi stack output --json --stack NAME`. Credentials come from
 * the standard AWS chain (environment, shared config/SSO, container or instance roles);
 * the region from the stack's queue URLs, else AWS_REGION.
 *
 * @example
 * const target = stackTarget("prod");
 */
export function stackTarget(stack: string, options: { pulumi?: string; env?: NodeJS.ProcessEnv } = {}): ToolTarget {
    const env = options.env ?? process.env;
    let outputs: Record<string, unknown>;
    try {
        const stdout = execFileSync(options.pulumi ?? "pulumi", ["stack", "output", "--json", "--stack", stack], {
            cwd: ROOT,
            encoding: "utf8",
            stdio: ["ignore", "pipe", "pipe"],
            env,
        });
        outputs = JSON.parse(stdout);
    } catch (error) {
        const e = error as NodeJS.ErrnoException & { stderr?: string };
        if (e.code === "ENOENT") throw new TargetError("--stack needs the Pulumi CLI (`pulumi` on PATH); it was not found.");
        throw new TargetError(`\`pulumi stack output --json --stack ${stack}\` failed: ${(e.stderr ?? e.message).trim().split("\n")[0]}`);
    }
    const systems = systemsFrom(outputs);
    const anyUrl = systems.events?.queueUrl ?? systems.email?.queueUrl ?? "";
    const region = regionOfQueueUrl(anyUrl) ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
    if (!region) throw new TargetError(`Cannot tell the region of stack ${stack}: set AWS_REGION.`);
    const sqs = new SQSClient({ region });
    const claims = outputs.senderClaims as { keyArn?: unknown } | undefined;
    const claimKeyArn = text(claims?.keyArn);
    const kms = claimKeyArn ? new KMSClient({ region }) : undefined;
    return {
        kind: "stack",
        name: stack,
        region,
        sqs,
        systems,
        emailApiUrl: text(outputs.emailApiUrl),
        ...(kms && claimKeyArn ? { senderClaimKey: kmsSenderClaimKey(kms, claimKeyArn) } : {}),
        close: () => {
            sqs.destroy();
            kms?.destroy();
        },
    };
}

/**
 * A stack as `pulumi --stack` takes it: `stack`, `project/stack` or `org/project/stack`, each part
 * letters, digits, `_`, `.` and `-`, not starting with `-` (it would read as a flag).
 */
const STACK_ARGUMENT = /^(?!-)[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+){0,2}$/;

/**
 * `--stack NAME` when given, else the local pipeline. A given but empty or malformed name is refused:
 * falling back to the local pipeline would act on the wrong system.
 */
export function resolveTarget(stack: string | undefined, env: NodeJS.ProcessEnv = process.env): ToolTarget {
    if (stack === undefined) return localTarget(localPipelineFile(env));
    if (!STACK_ARGUMENT.test(stack))
        throw new TargetError(
            `--stack needs a Pulumi stack name (stack, project/stack or org/project/stack: letters, digits, '_', '.', '-'), got ${JSON.stringify(stack)}.`,
        );
    return stackTarget(stack, { env });
}

/** Fills in the queue ARNs a source did not name (StartMessageMoveTask and the redrive source need them). */
export async function resolveArns(
    sqs: SQSClient,
    queues: SystemQueues,
): Promise<SystemQueues & Required<Pick<SystemQueues, "queueArn" | "deadLetterQueueArn">>> {
    const arnOf = async (url: string) =>
        (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }))).Attributes?.QueueArn ?? "";
    return {
        ...queues,
        queueArn: queues.queueArn ?? (await arnOf(queues.queueUrl)),
        deadLetterQueueArn: queues.deadLetterQueueArn ?? (await arnOf(queues.deadLetterQueueUrl)),
    };
}
