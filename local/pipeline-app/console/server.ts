/**
 * The local console: one server-rendered HTML page on 127.0.0.1 that `npm run local`
 * serves beside the pipeline (READY field `consoleUrl`). It shows queue depths and
 * ages, the DLQs grouped by reason (with a redrive button), recent stored events per
 * tenant, the Sender's stream deliveries and the email inbox. No script, no front-end
 * build, nothing fetched from the internet.
 *
 * Safety, since a browser talks to it:
 * - requests whose one Host header is not `127.0.0.1:<port>` or `localhost:<port>` are
 *   refused with the address to use (DNS rebinding: a page on another name that resolves
 *   to 127.0.0.1 cannot read it), and so are two Host headers and an absolute-form target
 *   naming another authority (RFC 9112 §3.2.2: that authority replaces Host);
 * - a form larger than 4 KiB is a 413, a request target that is not a path a 400;
 * - the one state-changing request (POST /redrive) must come from the console's own
 *   origin (Origin, else Referer): a cross-site form cannot trigger it (CSRF);
 * - everything shown is HTML-escaped; an email's HTML is rendered in a sandboxed
 *   iframe (`srcdoc`, no scripts, no same-origin), and a CSP forbids scripts.
 */
import { ScanCommand } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { isLoopbackHost } from "../../../local/aws-stand-ins/loopback-host";
import {
    classify,
    groupDeadLetters,
    DeadLetter,
    REDRIVE_IS_SAFE,
    redriveDeadLetters,
    RETRIES_EXHAUSTED,
} from "../../../tools/dead-letters";
import { localSystems, systemsFrom, SYSTEMS, SystemName } from "../../../tools/target";
import { localSenderClaimKey } from "../../../handlers/event-processor/sender-claim";
import type { FairQueueMetrics } from "../../aws-stand-ins/sqs-fairness";
import { inspectQueue } from "../accounting";
import type { RunningEmailService } from "../services/email-service";
import type { LocalPipeline } from "../pipeline";
import { emailBodies } from "./mime";

export interface LocalConsole {
    /** `http://127.0.0.1:<port>/` */
    readonly url: string;
    readonly port: number;
    stop(): Promise<void>;
}

export interface ConsoleOptions {
    /** @default a free port */
    port?: number;
    /** Items read from the event table per page view. @default 500 */
    maxItems?: number;
    log?: (line: string) => void;
}

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: unknown): string {
    return String(value ?? "").replace(
        /[&<>"']/g,
        (character) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[character]!,
    );
}

const CONTENT_SECURITY_POLICY =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#232f3e;color:#fff;padding:10px 20px;display:flex;gap:16px;align-items:baseline}
header h1{font-size:18px;margin:0} header a{color:#ffb84d}
main{padding:12px 20px;display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:16px}
section{background:#fff;border:1px solid #d5dbe3;border-radius:6px;padding:10px 14px}
h2{font-size:15px;margin:4px 0 8px} h3{font-size:13px;margin:10px 0 4px}
table{border-collapse:collapse;width:100%} th,td{text-align:left;padding:3px 6px;border-bottom:1px solid #eef0f3;vertical-align:top}
th{font-size:12px;color:#5b6675} td.n{text-align:right;font-variant-numeric:tabular-nums}
.notice{margin:12px 20px 0;padding:8px 12px;background:#e8f5e9;border:1px solid #9ccc9f;border-radius:6px}
.warn{color:#a4262c} .muted{color:#6b7785;font-size:12px} code{font-size:12px}
iframe{width:100%;height:140px;border:1px solid #d5dbe3;background:#fff} pre{white-space:pre-wrap;margin:4px 0;background:#f6f7f9;padding:6px}
button{background:#ff9900;border:0;border-radius:4px;padding:3px 10px;cursor:pointer;font-weight:600}
details{margin:6px 0;border-top:1px solid #eef0f3;padding-top:6px}`;

function formatAge(seconds: number | undefined): string {
    if (seconds === undefined) return "–";
    if (seconds < 60) return `${seconds}s`;
    if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
    return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`;
}

interface FauxqsMessageView {
    messageId: string;
    body: string;
    sentTimestamp?: number;
    messageAttributes?: Record<string, { StringValue?: string; stringValue?: string }>;
}

function stringAttributes(attributes: FauxqsMessageView["messageAttributes"]): Record<string, { DataType: string; StringValue?: string }> {
    const out: Record<string, { DataType: string; StringValue?: string }> = {};
    for (const [name, value] of Object.entries(attributes ?? {}))
        out[name] = { DataType: "String", StringValue: value.StringValue ?? value.stringValue };
    return out;
}

interface QueueView {
    name: string;
    role: string;
    ready: number;
    inFlight: number;
    delayed: number;
    oldestAgeSeconds?: number;
}

/** One standard queue's fair-queue state, as the local SQS computes the metrics AWS publishes to CloudWatch. */
export interface FairQueueView {
    name: string;
    role: string;
    /** the groups detected as noisy (their MessageGroupIds: producer-controlled text) */
    noisyGroups: string[];
    metrics: FairQueueMetrics;
}

/** The fair-queue metrics the local SQS serves (GET /_stand-in/fair-queues), by queue name. */
export async function fairQueueReports(
    sqsEndpoint: string,
): Promise<Array<{ queue: string; noisyGroups: string[]; metrics: FairQueueMetrics }>> {
    const response = await fetch(`${sqsEndpoint}/_stand-in/fair-queues`);
    if (!response.ok) throw new Error(`the local SQS's fair-queue report failed: HTTP ${response.status}`);
    return (await response.json()) as Array<{ queue: string; noisyGroups: string[]; metrics: FairQueueMetrics }>;
}

/** The data one page view shows. Exported for tests. */
export interface ConsoleSnapshot {
    queues: QueueView[];
    /** standard source queues only (fair queues apply to standard queues; DLQs have no consumer to be fair to) */
    fairQueues: FairQueueView[];
    deadLetters: Array<{ system: SystemName; reason: string; count: number; oldestAgeSeconds: number; sampleId: string; detail?: string }>;
    tenants: Array<{ clientId: string; count: number; recent: Array<{ eventId: string; type: string; receivedAt: string }> }>;
    itemsRead: number;
    deliveries: Array<{ eventName: string; clientId: string; eventId: string; type?: string; seenAt: string }>;
    inbox: Array<{
        id: string;
        from?: string;
        to: string[];
        subject?: string;
        receivedAt: string;
        provider?: string;
        emailId?: string;
        text?: string;
        html?: string;
    }>;
    /** The latest emails' statuses with their timelines (the status table: ids, statuses and SES codes, no addresses). */
    statuses?: Array<{ id: string; status: string; updatedAt: string; history: Array<{ at: string; status: string; details: string }> }>;
}

/** The latest `limit` emails of the status table, newest first (suppression entries share the table and are left out). */
async function emailStatuses(pipeline: LocalPipeline, tableName: string | undefined, maxItems: number, limit = 20) {
    if (!tableName) return [];
    const { Items = [] } = await pipeline.context.clients.dynamodb.send(new ScanCommand({ TableName: tableName, Limit: maxItems }));
    return Items.map((item) => unmarshall(item))
        .filter((item) => typeof item.emailId === "string" && typeof item.status === "string" && Array.isArray(item.history))
        .map((item) => ({
            id: String(item.emailId),
            status: String(item.status),
            updatedAt: String(item.updatedAt ?? ""),
            history: (item.history as Array<Record<string, unknown>>).map((entry) => ({
                at: String(entry.at ?? ""),
                status: String(entry.status ?? ""),
                details: Object.entries(entry)
                    .filter(([key]) => key !== "at" && key !== "status")
                    .map(([key, value]) => `${key}=${String(value)}`)
                    .join(" "),
            })),
        }))
        .sort((left, right) => right.updatedAt.localeCompare(left.updatedAt))
        .slice(0, limit);
}

async function inspect(
    sqsEndpoint: string,
    name: string,
): Promise<{ ready: FauxqsMessageView[]; inflight: FauxqsMessageView[]; delayed: FauxqsMessageView[] }> {
    return (await inspectQueue(sqsEndpoint, name)) as never;
}

/** Reads everything a page shows, without receiving (fauxqs inspection) or changing anything. */
export async function consoleSnapshot(pipeline: LocalPipeline, maxItems = 500): Promise<ConsoleSnapshot> {
    const now = Date.now();
    const { context, ready } = pipeline;
    const systems = systemsFrom(ready);
    const named = (url: string | undefined, name: string) => url !== undefined && url.endsWith(`/${name}`);
    const scheduleDeadLetterQueueUrl =
        typeof ready.emailScheduleDeadLetterQueueUrl === "string" ? ready.emailScheduleDeadLetterQueueUrl : undefined;
    const roleOf = (name: string) => {
        for (const system of SYSTEMS) {
            if (named(systems[system]?.queueUrl, name)) return `${system} queue`;
            if (named(systems[system]?.deadLetterQueueUrl, name)) return `${system} DLQ`;
        }
        // Scheduled emails whose release failed: each message is the email to resend (docs/runbook.md#email-schedule-dlq-messages).
        if (named(scheduleDeadLetterQueueUrl, name)) return "email schedule DLQ";
        // A function's own dead-letter queue: failed asynchronous invocations (`deadLetterConfig`, the email status
        // function's) or the batches a stream mapping gave up on (`onFailure`, the status notifications').
        const arn = context.topology.queues.find((queue) => queue.name === name)?.deployedArn;
        const owner =
            arn === undefined
                ? undefined
                : context.topology.functions.find(
                      (fn) =>
                          fn.deadLetterTargetArn === arn ||
                          context.topology.eventSourceMappings.some(
                              (mapping) =>
                                  mapping.onFailureDestinationArn === arn &&
                                  (mapping.functionName === fn.name || mapping.functionName === fn.deployedArn),
                          ),
                  );
        if (owner) return `${owner.logicalName} DLQ`;
        return "";
    };
    const queues: QueueView[] = [];
    const deadLetters: DeadLetter[] = [];
    for (const queue of context.resources.queues) {
        const name = queue.spec.name;
        const state = await inspect(context.emulators.sqs.endpoint, name);
        const all = [...state.ready, ...state.inflight, ...state.delayed];
        const oldest = Math.min(...all.map((message) => message.sentTimestamp ?? now));
        const role = roleOf(name);
        queues.push({
            name,
            role,
            ready: state.ready.length,
            inFlight: state.inflight.length,
            delayed: state.delayed.length,
            oldestAgeSeconds: all.length ? Math.max(0, Math.round((now - oldest) / 1000)) : undefined,
        });
        const system = SYSTEMS.find((systemName) => role === `${systemName} DLQ`);
        if (system) {
            for (const message of all) {
                deadLetters.push({
                    system,
                    messageId: message.messageId,
                    receiptHandle: "",
                    ...classify(system, { MessageAttributes: stringAttributes(message.messageAttributes) }),
                    sentAt: message.sentTimestamp,
                    body: message.body,
                    messageAttributes: {},
                    systemAttributes: {},
                });
            }
        }
    }
    const fairQueues = (await fairQueueReports(context.emulators.sqs.endpoint))
        .map((report) => ({ name: report.queue, role: roleOf(report.queue), noisyGroups: report.noisyGroups, metrics: report.metrics }))
        .filter((view) => view.role.endsWith(" queue"));
    const groups = groupDeadLetters(deadLetters, now).map((group) => ({
        ...group,
        detail: deadLetters.find((letter) => letter.messageId === group.sampleId)?.detail,
    }));

    const items: Array<{ clientId: string; eventId: string; type: string; receivedAt: string }> = [];
    if (typeof ready.eventTableName === "string" && ready.eventTableName) {
        let startKey: Record<string, never> | undefined;
        do {
            const page = await context.clients.dynamodb.send(
                new ScanCommand({
                    TableName: ready.eventTableName,
                    ExclusiveStartKey: startKey,
                    Limit: Math.min(100, maxItems - items.length),
                }),
            );
            for (const item of page.Items ?? []) items.push(unmarshall(item) as never);
            startKey = page.LastEvaluatedKey as never;
        } while (startKey && items.length < maxItems);
    }
    const byTenant = new Map<string, typeof items>();
    for (const item of items) byTenant.set(item.clientId, [...(byTenant.get(item.clientId) ?? []), item]);
    const tenants = [...byTenant.entries()]
        .sort(([left], [right]) => left.localeCompare(right))
        .map(([clientId, list]) => ({
            clientId,
            count: list.length,
            recent: list
                .sort((left, right) => right.receivedAt.localeCompare(left.receivedAt))
                .slice(0, 5)
                .map((item) => ({ eventId: item.eventId, type: item.type, receivedAt: item.receivedAt })),
        }));

    const deliveries = (pipeline.sender?.delivered ?? [])
        .slice(-20)
        .reverse()
        .map((delivery) => ({
            eventName: delivery.eventName,
            clientId: delivery.clientId,
            eventId: delivery.eventId,
            type: delivery.type,
            seenAt: new Date(delivery.seenAt).toISOString(),
        }));

    const email = pipeline.services.find((service) => service.name === "email") as RunningEmailService | undefined;
    const inbox = await Promise.all(
        (email?.sink.messages() ?? [])
            .slice(-20)
            .reverse()
            .map(async (mail) => ({
                id: mail.id,
                from: mail.envelope.from,
                to: mail.envelope.to,
                subject: mail.subject,
                receivedAt: mail.receivedAt,
                provider: mail.headers["x-local-provider"] || "smtp",
                emailId: mail.emailId,
                ...(await emailBodies(mail.raw)),
            })),
    );
    const statuses = await emailStatuses(pipeline, email?.statusTableName, maxItems);
    return { queues, fairQueues, deadLetters: groups, tenants, itemsRead: items.length, deliveries, inbox, statuses };
}

/** Renders the page. Every value passes through {@link escapeHtml}. */
export function renderConsole(snapshot: ConsoleSnapshot, info: { stack: string; notice?: string }): string {
    const esc = escapeHtml;
    const rows = (cells: string[][]) => cells.map((row) => `<tr>${row.join("")}</tr>`).join("");
    const queueRows = rows(
        snapshot.queues.map((queue) => [
            `<td><code>${esc(queue.name)}</code></td>`,
            `<td>${esc(queue.role)}</td>`,
            `<td class="n">${queue.ready}</td>`,
            `<td class="n">${queue.inFlight}</td>`,
            `<td class="n">${queue.delayed}</td>`,
            `<td class="n">${esc(formatAge(queue.oldestAgeSeconds))}</td>`,
        ]),
    );
    const fairQueues = snapshot.fairQueues
        .map(
            (queue) =>
                `<h3><code>${esc(queue.name)}</code> <span class="muted">${esc(queue.role)}</span></h3><table><tr><th>metric (AWS/SQS)</th><th>value</th></tr>${rows(
                    (Object.entries(queue.metrics) as Array<[string, number]>).map(([name, value]) => [
                        `<td><code>${esc(name)}</code></td>`,
                        `<td class="n">${esc(name === "ApproximateAgeOfOldestMessageInQuietGroups" ? formatAge(value) : value)}</td>`,
                    ]),
                )}</table><p class="muted">Noisy groups: ${
                    queue.noisyGroups.length ? queue.noisyGroups.map((group) => `<code>${esc(group)}</code>`).join(", ") : "none"
                }</p>`,
        )
        .join("");
    const dlqRows = rows(
        snapshot.deadLetters.map((group) => [
            `<td>${esc(group.system)}</td>`,
            `<td><code>${esc(group.reason)}</code>${group.detail ? `<div class="muted">${esc(group.detail)}</div>` : ""}</td>`,
            `<td class="n">${group.count}</td>`,
            `<td class="n">${esc(formatAge(group.oldestAgeSeconds))}</td>`,
            `<td><code>${esc(group.sampleId)}</code></td>`,
            `<td><form method="post" action="/redrive"><input type="hidden" name="system" value="${esc(group.system)}">` +
                `<input type="hidden" name="reason" value="${esc(group.reason)}">` +
                `<button type="submit" aria-label="redrive ${esc(group.system)} ${esc(group.reason)}">Redrive ${group.count}</button></form></td>`,
        ]),
    );
    const tenants = snapshot.tenants
        .map(
            (tenant) =>
                `<h3>${esc(tenant.clientId)} <span class="muted">${tenant.count} stored</span></h3><table><tr><th>eventId</th><th>type</th><th>receivedAt</th></tr>${rows(
                    tenant.recent.map((event) => [
                        `<td><code>${esc(event.eventId)}</code></td>`,
                        `<td>${esc(event.type)}</td>`,
                        `<td>${esc(event.receivedAt)}</td>`,
                    ]),
                )}</table>`,
        )
        .join("");
    const deliveries = rows(
        snapshot.deliveries.map((delivery) => [
            `<td>${esc(delivery.eventName)}</td>`,
            `<td>${esc(delivery.clientId)}</td>`,
            `<td><code>${esc(delivery.eventId)}</code></td>`,
            `<td>${esc(delivery.type)}</td>`,
            `<td>${esc(delivery.seenAt)}</td>`,
        ]),
    );
    const inbox = snapshot.inbox
        .map(
            (mail) =>
                `<details class="mail"><summary><strong>${esc(mail.subject ?? "(no subject)")}</strong> · to ${esc(mail.to.join(", "))} · via ${esc(mail.provider)} · ${esc(mail.receivedAt)}</summary>` +
                `<div class="muted">from ${esc(mail.from)} · email id <code>${esc(mail.emailId)}</code></div>` +
                (mail.html !== undefined
                    ? `<iframe sandbox="" referrerpolicy="no-referrer" title="email ${esc(mail.emailId)}" srcdoc="${esc(mail.html)}"></iframe>`
                    : "") +
                (mail.text !== undefined ? `<pre>${esc(mail.text)}</pre>` : "") +
                `</details>`,
        )
        .join("");
    const statuses = (snapshot.statuses ?? [])
        .map(
            (email) =>
                `<details class="status"><summary><code>${esc(email.id)}</code> · <strong>${esc(email.status)}</strong> · ${esc(email.updatedAt)}</summary>` +
                `<ol class="timeline">${email.history
                    .map(
                        (entry) =>
                            `<li><time>${esc(entry.at)}</time> <strong>${esc(entry.status)}</strong>${entry.details ? ` <span class="muted">${esc(entry.details)}</span>` : ""}</li>`,
                    )
                    .join("")}</ol></details>`,
        )
        .join("");
    return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Local console · ${esc(info.stack)}</title><meta name="viewport" content="width=device-width">
<style>${STYLE}</style></head>
<body><header><h1>Local console</h1><span>stack ${esc(info.stack)}</span><a href="/">Refresh</a></header>
${info.notice ? `<div class="notice" role="status">${esc(info.notice)}</div>` : ""}
<main>
<section id="queues"><h2>Queues</h2><table><tr><th>queue</th><th>role</th><th>ready</th><th>in flight</th><th>delayed</th><th>oldest</th></tr>${queueRows}</table></section>
<section id="fair-queues"><h2>Fair queues</h2>${fairQueues || `<p class="muted">No standard source queue.</p>`}<p class="muted">A group is noisy with more than 10% of the queue's in-flight messages and at least 30 of its own; quiet groups' messages are delivered first (How Amazon SQS fair queues work). Computed by the local SQS as SQS publishes them to CloudWatch.</p></section>
<section id="dlq"><h2>Dead-letter queues by reason</h2>${
        snapshot.deadLetters.length
            ? `<table><tr><th>system</th><th>reason</th><th>count</th><th>oldest</th><th>sample id</th><th></th></tr>${dlqRows}</table>`
            : `<p class="muted">Both DLQs are empty.</p>`
    }<p class="muted">Fix the cause first: a rejected message fails again until it is fixed; <code>${esc(RETRIES_EXHAUSTED)}</code> means the consumer kept failing. ${esc(REDRIVE_IS_SAFE)} Same as <code>npm run dlq -- redrive --reason CODE --yes</code>.</p></section>
<section id="events"><h2>Recent stored events per tenant</h2>${tenants || `<p class="muted">No events stored yet.</p>`}<p class="muted">From the first ${snapshot.itemsRead} item(s) of the table.</p></section>
<section id="deliveries"><h2>Stream deliveries (demo Sender)</h2>${
        snapshot.deliveries.length
            ? `<table><tr><th>record</th><th>clientId</th><th>eventId</th><th>type</th><th>seen</th></tr>${deliveries}</table>`
            : `<p class="muted">None yet.</p>`
    }</section>
<section id="email-statuses"><h2>Email statuses</h2>${statuses || `<p class="muted">No email accepted yet.</p>`}<p class="muted">Each email's timeline, as <code>npm run send -- status ID</code> shows it to its sender.</p></section>
<section id="inbox"><h2>Email inbox</h2>${inbox || `<p class="muted">No email delivered yet.</p>`}</section>
</main></body></html>`;
}

function sameOrigin(req: http.IncomingMessage, origin: string): boolean {
    const header = req.headers.origin;
    if (typeof header === "string") return header === origin;
    const referer = req.headers.referer;
    if (typeof referer === "string") {
        try {
            return new URL(referer).origin === origin;
        } catch {
            return false;
        }
    }
    return false;
}

/** A request the console refuses with a 4xx status (anything else thrown is a 500). */
class RequestError extends Error {
    constructor(
        readonly status: number,
        message: string,
    ) {
        super(message);
        this.name = "RequestError";
    }
}

/** Largest redrive form the console reads; its two fields fit in a few hundred bytes. */
const FORM_LIMIT_BYTES = 4096;

async function readForm(req: http.IncomingMessage, limit = FORM_LIMIT_BYTES): Promise<URLSearchParams> {
    if (Number(req.headers["content-length"] ?? 0) > limit) throw new RequestError(413, `The form is larger than ${limit} bytes.`);
    let size = 0;
    const chunks: Buffer[] = [];
    for await (const chunk of req) {
        size += (chunk as Buffer).length;
        if (size > limit) throw new RequestError(413, `The form is larger than ${limit} bytes.`);
        chunks.push(chunk as Buffer);
    }
    return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

/**
 * The request's own address (`127.0.0.1:<port>` or `localhost:<port>`) and path, or a RequestError:
 * one Host header naming this listener, and a target that is a path (origin-form) or an absolute URL
 * naming this listener too.
 */
function addressOf(req: http.IncomingMessage, port: number): { host: string; url: URL } {
    const hosts = req.headersDistinct.host ?? [];
    const use = `http://127.0.0.1:${port}/`;
    if (hosts.length !== 1) throw new RequestError(400, `Send exactly one Host header (use ${use}).`);
    const target = req.url ?? "";
    let authority = hosts[0];
    let url: URL;
    if (target.startsWith("/") && !target.startsWith("//")) {
        url = new URL(`http://${authority}${target}`);
    } else {
        // Absolute form: its authority stands in for Host (RFC 9112 §3.2.2), so it must be ours as well.
        try {
            url = new URL(target);
        } catch {
            throw new RequestError(400, `Bad request target (use ${use}).`);
        }
        if (url.protocol !== "http:" || url.username || url.password) throw new RequestError(400, `Bad request target (use ${use}).`);
        authority = url.host;
    }
    if (!isLoopbackHost(authority, port) || !isLoopbackHost(hosts[0], port))
        throw new RequestError(421, `Misdirected request: this console answers at ${use} (or http://localhost:${port}/).`);
    return { host: authority.toLowerCase(), url };
}

/**
 * Serves the console for a running pipeline.
 *
 * @example
 * const console = await startConsole(pipeline);
 * // open console.url in a browser
 * await console.stop();
 */
export async function startConsole(pipeline: LocalPipeline, options: ConsoleOptions = {}): Promise<LocalConsole> {
    const log = options.log ?? (() => undefined);
    let port = 0;
    const headers = {
        "content-security-policy": CONTENT_SECURITY_POLICY,
        "x-frame-options": "DENY",
        "x-content-type-options": "nosniff",
        "referrer-policy": "same-origin",
        "cache-control": "no-store",
    };
    const reply = (res: http.ServerResponse, status: number, body: string, extra: Record<string, string> = {}) => {
        res.writeHead(status, { ...headers, "content-type": "text/html; charset=utf-8", ...extra });
        res.end(body);
    };
    const server = http.createServer((req, res) => {
        void (async () => {
            // DNS rebinding: only our own loopback host:port.
            const { host, url } = addressOf(req, port);
            const origin = `http://${host}`;
            if (req.method === "GET" && url.pathname === "/") {
                const snapshot = await consoleSnapshot(pipeline, options.maxItems);
                return reply(
                    res,
                    200,
                    renderConsole(snapshot, { stack: pipeline.ready.stack, notice: url.searchParams.get("notice") ?? undefined }),
                );
            }
            if (req.method === "POST" && url.pathname === "/redrive") {
                if (!sameOrigin(req, origin)) return reply(res, 403, "<p>Cross-origin request refused.</p>");
                if (!/^application\/x-www-form-urlencoded\b/.test(req.headers["content-type"] ?? ""))
                    return reply(res, 415, "<p>Form posts only.</p>");
                const form = await readForm(req);
                const system = form.get("system") as SystemName | null;
                const reason = form.get("reason");
                const queues = system && SYSTEMS.includes(system) ? localSystems(pipeline.ready)[system] : undefined;
                if (!queues || !reason) return reply(res, 400, "<p>Choose a system and a reason.</p>");
                const selection = reason === RETRIES_EXHAUSTED ? { retriesExhausted: true } : { reason };
                // On a stack with producers, letters SQS moved are signed as their first sender, as `npm run dlq` does.
                const secret = typeof pipeline.ready.senderClaimSecret === "string" ? pipeline.ready.senderClaimSecret : undefined;
                const result = await redriveDeadLetters(pipeline.context.clients.sqs, queues, selection, {
                    execute: true,
                    useMoveTask: false,
                    ...(secret ? { senderClaimKey: localSenderClaimKey(Buffer.from(secret, "base64")) } : {}),
                });
                const notice =
                    `Redrove ${result.moved} of ${result.selected} ${system} message(s) (${reason}) to the source queue.` +
                    (result.failed.length ? ` ${result.failed.length} could not be moved and stay in the DLQ.` : "") +
                    ` ${REDRIVE_IS_SAFE}`;
                log(`[console] ${notice}`);
                res.writeHead(303, { ...headers, location: `/?notice=${encodeURIComponent(notice)}` });
                return res.end();
            }
            return reply(res, 404, '<p>Not found. <a href="/">Console</a></p>');
        })().catch((error: Error) => {
            if (error instanceof RequestError) {
                if (!res.headersSent) reply(res, error.status, `<p>${escapeHtml(error.message)}</p>`, { connection: "close" });
                else res.end();
                return;
            }
            log(`[console] ${error.name}: ${error.message}`);
            if (!res.headersSent) reply(res, 500, `<p>Error: ${escapeHtml(error.name)}: ${escapeHtml(error.message)}</p>`);
            else res.end();
        });
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", (error: NodeJS.ErrnoException) =>
            reject(
                error.code === "EADDRINUSE"
                    ? new Error(`port ${options.port} is already in use; choose another with --console-port or stop whatever holds it`)
                    : error,
            ),
        );
        server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
    });
    port = (server.address() as AddressInfo).port;
    return {
        url: `http://127.0.0.1:${port}/`,
        port,
        stop: () =>
            new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
}
