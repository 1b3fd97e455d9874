/**
 * `npm run send -- event <file|->` and `npm run send -- email <file|->`: send one
 * event (or a JSON array of events) to the event queue, or one email request to the
 * email API, on the running local pipeline or a deployed stack (`--stack NAME`).
 *
 * Events go to SQS as producers send them (docs/producers.md): the JSON envelope as
 * the body, `MessageGroupId` = `clientId`. Emails are POSTed to `/v1/emails`; a
 * deployed API uses IAM authorization, so the request is signed with SigV4
 * (service `execute-api`) using the standard AWS credential chain. The local API
 * takes unsigned requests.
 *
 * Exit codes: 0 sent (the API answered 2xx); 1 SQS or the API refused it; 2 bad usage,
 * unreadable input or no target.
 */
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import { Hash } from "@smithy/core/serde";
import { SignatureV4 } from "@smithy/signature-v4";
import * as fs from "node:fs";
import { CLIENT_ID_PATTERN } from "../contracts/event-pipeline";
import type { ParseArgsOptionsConfig } from "node:util";
import { parseToolArgs, runAsMain, runTool, UsageError, type ToolIo } from "./command-line";
import { resolveTarget, TargetError, ToolTarget } from "./target";
import { terminalSafeLines } from "./terminal";

export const SEND_USAGE = `Usage: npm run send -- <event|email> <file|-> [options]

  event <file|->   send the event (a JSON object, or an array of them) to the event queue;
                   MessageGroupId = clientId. Prints each message id.
  email <file|->   POST the email request (JSON) to the email API; prints the API's answer.

Options:
  --stack NAME              a deployed stack (\`pulumi stack output --json\`; standard AWS credentials, SigV4 for the API)
                            default: the running \`npm run local\` (.local/pipeline.json)
  --idempotency-key KEY     (email) the Idempotency-Key header
  --help                    this text`;

interface Io extends ToolIo {
    /** Reads standard input (for `-`). */
    stdin(): Promise<string>;
}

async function readInput(source: string, io: Io): Promise<unknown> {
    let text: string;
    try {
        text = source === "-" ? await io.stdin() : fs.readFileSync(source, "utf8");
    } catch (error) {
        throw new UsageError(`cannot read ${source}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    try {
        return JSON.parse(text);
    } catch (error) {
        throw new UsageError(`${source === "-" ? "standard input" : source} is not JSON: ${(error as Error).message}`);
    }
}

async function sendEvents(target: ToolTarget, input: unknown, io: Io): Promise<number> {
    const queue = target.systems.events;
    if (!queue) throw new TargetError(`${target.name} has no event queue.`);
    const events = Array.isArray(input) ? input : [input];
    const problems: string[] = [];
    events.forEach((event, index) => {
        const where = Array.isArray(input) ? `event [${index}]` : "the event";
        if (typeof event !== "object" || event === null || Array.isArray(event)) problems.push(`${where} must be a JSON object`);
        else if (typeof event.clientId !== "string" || !CLIENT_ID_PATTERN.test(event.clientId)) {
            problems.push(`${where} needs a clientId of 1-128 characters from A-Z a-z 0-9 . _ : - (it is the MessageGroupId)`);
        }
    });
    if (events.length === 0) problems.push("the array holds no event");
    if (problems.length) throw new UsageError(problems.join("\n  "));
    let failed = 0;
    for (const event of events as Array<{ clientId: string; eventId?: unknown }>) {
        try {
            const sent = await target.sqs.send(
                new SendMessageCommand({ QueueUrl: queue.queueUrl, MessageBody: JSON.stringify(event), MessageGroupId: event.clientId }),
            );
            io.out(JSON.stringify({ clientId: event.clientId, eventId: event.eventId, messageId: sent.MessageId }));
        } catch (error) {
            failed++;
            io.err(`error: ${event.clientId}/${String(event.eventId)} not sent: ${(error as Error).name}: ${(error as Error).message}`);
        }
    }
    return failed ? 1 : 0;
}

/** `https://abc.execute-api.eu-west-1.amazonaws.com/...` → `eu-west-1`. */
export function regionOfApiUrl(url: string): string | undefined {
    return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/.exec(new URL(url).hostname)?.[1];
}

/**
 * Signs a POST for API Gateway with IAM authorization (SigV4, service `execute-api`).
 *
 * @example
 * const headers = await signedHeaders(url, body, "eu-west-1");
 * await fetch(url, { method: "POST", headers, body });
 */
export async function signedHeaders(
    url: string,
    body: string,
    region: string,
    headers: Record<string, string>,
    credentials = defaultProvider(),
): Promise<Record<string, string>> {
    const parsed = new URL(url);
    const signer = new SignatureV4({ service: "execute-api", region, credentials, sha256: Hash.bind(null, "sha256") });
    const query: Record<string, string> = {};
    parsed.searchParams.forEach((value, key) => (query[key] = value));
    const signed = await signer.sign({
        method: "POST",
        protocol: parsed.protocol,
        hostname: parsed.hostname,
        port: parsed.port ? Number(parsed.port) : undefined,
        path: parsed.pathname,
        query,
        headers: { ...headers, host: parsed.host },
        body,
    });
    const out: Record<string, string> = {};
    // fetch sets Host itself (to the same value that was signed).
    for (const [name, value] of Object.entries(signed.headers)) if (name.toLowerCase() !== "host") out[name] = String(value);
    return out;
}

async function sendEmail(target: ToolTarget, input: unknown, idempotencyKey: string | undefined, io: Io): Promise<number> {
    if (!target.emailApiUrl) throw new TargetError(`${target.name} has no email API (emailApiUrl).`);
    const body = JSON.stringify(input);
    let headers: Record<string, string> = {
        "content-type": "application/json",
        ...(idempotencyKey ? { "idempotency-key": idempotencyKey } : {}),
    };
    if (target.kind === "stack")
        headers = await signedHeaders(target.emailApiUrl, body, regionOfApiUrl(target.emailApiUrl) ?? target.region, headers);
    const response = await fetch(target.emailApiUrl, { method: "POST", headers, body });
    const answer = await response.text();
    let shown = answer;
    try {
        shown = JSON.stringify(JSON.parse(answer), null, 2);
    } catch {
        shown = answer;
    }
    const replayed = response.headers.get("idempotent-replayed") === "true" ? " (idempotent replay)" : "";
    (response.ok ? io.out : io.err)(`HTTP ${response.status}${replayed}\n${shown}`);
    return response.ok ? 0 : 1;
}

/** The options of `npm run send` (tests check the docs' command lines against them). */
export const SEND_OPTIONS = {
    stack: { type: "string" },
    "idempotency-key": { type: "string" },
    help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsOptionsConfig;

/**
 * Runs the CLI. Returns the exit code.
 *
 * @example
 * await runSend(["event", "examples/event.json"], { out: console.log, err: console.error, stdin: readStdin });
 */
export async function runSend(argv: string[], terminal: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
    // The API's answer and the events' fields are printed: no character of them acts on the terminal.
    const io: Io = {
        ...terminal,
        out: (text) => terminal.out(terminalSafeLines(text)),
        err: (text) => terminal.err(terminalSafeLines(text)),
    };
    const parsed = parseToolArgs(argv, SEND_OPTIONS, SEND_USAGE, io);
    if (!parsed) return 2;
    const { values, positionals } = parsed;
    if (values.help) {
        io.out(SEND_USAGE);
        return 0;
    }
    return runTool(SEND_USAGE, io, async (open) => {
        const [kind, source, ...extra] = positionals;
        if (kind !== "event" && kind !== "email")
            throw new UsageError(
                kind === undefined ? "name what to send: event or email" : `unknown kind ${JSON.stringify(kind)}: event or email`,
            );
        if (source === undefined || extra.length) throw new UsageError(`send ${kind} takes one file, or - for standard input`);
        if (kind === "event" && values["idempotency-key"] !== undefined) throw new UsageError("--idempotency-key applies to email only");
        const input = await readInput(source, io);
        const target = open(resolveTarget(values.stack, env));
        return kind === "event" ? await sendEvents(target, input, io) : await sendEmail(target, input, values["idempotency-key"], io);
    });
}

async function readStdin(): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
}

if (require.main === module) runAsMain((io) => runSend(process.argv.slice(2), { ...io, stdin: readStdin }));
