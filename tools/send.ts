/**
 * `npm run send -- event <file|->`, `npm run send -- email <file|->`, `npm run send -- status ID`
 * and `npm run send -- cancel ID`: send one event (or a JSON array of events) to the event
 * queue, one email request to the email API, read an email's status and history, or cancel
 * a scheduled email, on the running local pipeline or a deployed stack (`--stack NAME`).
 *
 * Events go to SQS as producers send them (docs/producers.md): the JSON envelope as
 * the body, `MessageGroupId` = `clientId`. The email API uses IAM authorization, so every
 * request is signed with SigV4 (service `execute-api`): for a stack with the standard AWS
 * credential chain; locally with the access key `AWS_ACCESS_KEY_ID` (default: the READY
 * line's) and the local secret the READY line announces, so another access key is
 * another principal, exactly as on AWS.
 *
 * Exit codes: 0 sent (the API answered 2xx); 1 SQS or the API refused it; 2 bad usage,
 * unreadable input or no target.
 */
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import * as fs from "node:fs";
import { CLIENT_ID_PATTERN } from "../contracts/event-pipeline";
import { EMAIL_ID_PATTERN } from "../contracts/email-service";
import { signedApiHeaders, type SigningCredentials } from "../local/aws-stand-ins/email/sigv4-identity";
import type { ParseArgsOptionsConfig } from "node:util";
import { parseToolArgs, runAsMain, runTool, UsageError, type ToolIo } from "./command-line";
import { resolveTarget, TargetError, ToolTarget } from "./target";
import { terminalSafeLines } from "./terminal";

export const SEND_USAGE = `Usage: npm run send -- <event|email> <file|-> [options]
       npm run send -- <status|cancel> ID [options]

  event <file|->   send the event (a JSON object, or an array of them) to the event queue;
                   MessageGroupId = clientId. Prints each message id.
  email <file|->   POST the email request (JSON) to the email API; prints the API's answer.
  status ID        GET /v1/emails/ID: the email's status and its history (a timeline).
  cancel ID        DELETE /v1/emails/ID: cancel a scheduled email; prints the API's answer.

Options:
  --stack NAME              a deployed stack (\`pulumi stack output --json\`; standard AWS credentials, SigV4 for the API)
                            default: the running \`npm run local\` (.local/pipeline.json); signed with the access key
                            AWS_ACCESS_KEY_ID (default the pipeline's) and the pipeline's local secret
  --idempotency-key KEY     (email) the Idempotency-Key header
  --json                    (email, status) print JSON: email { "id", "status" }; status the API's answer
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
 * Signs a request for API Gateway with IAM authorization (SigV4, service `execute-api`).
 *
 * @example
 * const headers = await signedHeaders(url, body, "eu-west-1", { "content-type": "application/json" });
 * await fetch(url, { method: "POST", headers, body });
 */
export async function signedHeaders(
    url: string,
    body: string | undefined,
    region: string,
    headers: Record<string, string>,
    credentials: SigningCredentials = defaultProvider(),
    method = "POST",
): Promise<Record<string, string>> {
    return signedApiHeaders({ method, url, body, region, headers, credentials });
}

/** Who signs: a stack's caller (the standard chain), or locally any access key with the pipeline's secret. */
function signingFor(target: ToolTarget, env: NodeJS.ProcessEnv): { region: string; credentials: SigningCredentials } {
    if (target.kind === "stack") return { region: regionOfApiUrl(target.emailApiUrl!) ?? target.region, credentials: defaultProvider() };
    const local = (target.ready?.credentials ?? {}) as { accessKeyId?: string; secretAccessKey?: string };
    if (!local.secretAccessKey) throw new TargetError(`${target.name} announces no credentials to sign with; restart \`npm run local\`.`);
    return {
        region: target.region,
        credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID || local.accessKeyId || "local", secretAccessKey: local.secretAccessKey },
    };
}

/** A signed call to the email API; the answer's text and its JSON when it is JSON. */
async function callApi(
    target: ToolTarget,
    env: NodeJS.ProcessEnv,
    method: string,
    url: string,
    body?: string,
    extraHeaders: Record<string, string> = {},
): Promise<{ response: Response; text: string; json: unknown }> {
    const { region, credentials } = signingFor(target, env);
    const headers = await signedHeaders(url, body, region, extraHeaders, credentials, method);
    const response = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await response.text();
    let json: unknown = undefined;
    try {
        json = JSON.parse(text);
    } catch {
        json = undefined;
    }
    return { response, text, json };
}

function pretty(text: string, json: unknown): string {
    return json === undefined ? text : JSON.stringify(json, null, 2);
}

function emailUrl(target: ToolTarget, id: string): string {
    if (!target.emailApiUrl) throw new TargetError(`${target.name} has no email API (emailApiUrl).`);
    if (!EMAIL_ID_PATTERN.test(id)) throw new UsageError("the email id is 1-128 characters from A-Z a-z 0-9 - (the id the API answered)");
    return `${target.emailApiUrl}/${encodeURIComponent(id)}`;
}

interface StatusAnswer {
    id?: string;
    status?: string;
    updatedAt?: string;
    history?: Array<Record<string, unknown> & { status?: string; at?: string }>;
}

/** The status and its history as a readable timeline, one entry a line (the caller escapes the text). */
export function statusTimeline(answer: StatusAnswer): string {
    const lines = [
        `email ${String(answer.id ?? "?")}: ${String(answer.status ?? "?")}${answer.updatedAt ? ` (since ${answer.updatedAt})` : ""}`,
    ];
    for (const entry of answer.history ?? []) {
        const details = Object.entries(entry)
            .filter(([key]) => key !== "status" && key !== "at")
            .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`)
            .join(" ");
        lines.push(`  ${String(entry.at ?? "")}  ${String(entry.status ?? "?").padEnd(10)}${details ? `  ${details}` : ""}`);
    }
    return lines.join("\n");
}

async function readStatus(target: ToolTarget, id: string, asJson: boolean, io: Io, env: NodeJS.ProcessEnv): Promise<number> {
    const { response, text, json } = await callApi(target, env, "GET", emailUrl(target, id));
    if (!response.ok) {
        io.err(`HTTP ${response.status}\n${pretty(text, json)}`);
        return 1;
    }
    io.out(asJson ? JSON.stringify(json, null, 2) : statusTimeline((json ?? {}) as StatusAnswer));
    return 0;
}

async function cancelEmail(target: ToolTarget, id: string, io: Io, env: NodeJS.ProcessEnv): Promise<number> {
    const { response, text, json } = await callApi(target, env, "DELETE", emailUrl(target, id));
    (response.ok ? io.out : io.err)(`HTTP ${response.status}\n${pretty(text, json)}`);
    return response.ok ? 0 : 1;
}

async function sendEmail(
    target: ToolTarget,
    input: unknown,
    options: { idempotencyKey?: string; json: boolean },
    io: Io,
    env: NodeJS.ProcessEnv,
): Promise<number> {
    if (!target.emailApiUrl) throw new TargetError(`${target.name} has no email API (emailApiUrl).`);
    const body = JSON.stringify(input);
    const headers: Record<string, string> = {
        "content-type": "application/json",
        ...(options.idempotencyKey ? { "idempotency-key": options.idempotencyKey } : {}),
    };
    const { response, text, json } = await callApi(target, env, "POST", target.emailApiUrl, body, headers);
    const replayed = response.headers.get("idempotent-replayed") === "true" ? " (idempotent replay)" : "";
    if (!options.json || !response.ok) {
        (response.ok ? io.out : io.err)(`HTTP ${response.status}${replayed}\n${pretty(text, json)}`);
        return response.ok ? 0 : 1;
    }
    const id = String((json as { id?: unknown } | undefined)?.id ?? "");
    // The status the email has now (accepted, queued or scheduled): one signed GET as the same principal.
    let status = "accepted";
    if (EMAIL_ID_PATTERN.test(id)) {
        const read = await callApi(target, env, "GET", emailUrl(target, id));
        const now = (read.json as { status?: unknown } | undefined)?.status;
        if (read.response.ok && typeof now === "string") status = now;
    }
    io.out(JSON.stringify({ id, status, ...(replayed ? { replayed: true } : {}) }));
    return 0;
}

/** The options of `npm run send` (tests check the docs' command lines against them). */
export const SEND_OPTIONS = {
    stack: { type: "string" },
    "idempotency-key": { type: "string" },
    json: { type: "boolean" },
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
        const kinds = ["event", "email", "status", "cancel"];
        if (kind === undefined || !kinds.includes(kind))
            throw new UsageError(
                kind === undefined
                    ? "name what to do: event, email, status or cancel"
                    : `unknown command ${JSON.stringify(kind)}: event, email, status or cancel`,
            );
        if (kind === "status" || kind === "cancel") {
            if (source === undefined || extra.length) throw new UsageError(`send ${kind} takes one email id`);
            if (values["idempotency-key"] !== undefined) throw new UsageError("--idempotency-key applies to email only");
            if (kind === "cancel" && values.json) throw new UsageError("--json applies to email and status");
            const target = open(resolveTarget(values.stack, env));
            return kind === "status"
                ? await readStatus(target, source, values.json === true, io, env)
                : await cancelEmail(target, source, io, env);
        }
        if (source === undefined || extra.length) throw new UsageError(`send ${kind} takes one file, or - for standard input`);
        if (kind === "event" && values["idempotency-key"] !== undefined) throw new UsageError("--idempotency-key applies to email only");
        if (kind === "event" && values.json) throw new UsageError("--json applies to email and status");
        const input = await readInput(source, io);
        const target = open(resolveTarget(values.stack, env));
        return kind === "event"
            ? await sendEvents(target, input, io)
            : await sendEmail(target, input, { idempotencyKey: values["idempotency-key"], json: values.json === true }, io, env);
    });
}

async function readStdin(): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
}

if (require.main === module) runAsMain((io) => runSend(process.argv.slice(2), { ...io, stdin: readStdin }));
