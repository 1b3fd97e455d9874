/**
 * A local SMTP sink (the `smtp-server` package) with an HTTP inspection API, so the
 * local pipeline and the tests can see what the worker delivered over SMTP.
 *
 * Inspection API (JSON):
 * - `GET /messages` → `[{ id, envelope: { from, to }, subject, messageId, emailId, receivedAt, size }]`
 * - `GET /messages/:id` → the same plus `headers` and `raw` (the full RFC 5322 message)
 * - `DELETE /messages` → empties the inbox
 *
 * Recipients can be refused to exercise failure handling: any local part starting
 * with `reject` gets `550 5.1.1`, `defer` gets `451 4.3.0`.
 */
import * as http from "node:http";
import * as crypto from "node:crypto";
import { SMTPServer } from "smtp-server";
import { refuseForeignHost } from "../loopback-host";

export interface SinkMessage {
    id: string;
    envelope: { from: string | undefined; to: string[] };
    subject: string | undefined;
    messageId: string | undefined;
    /** The service's email id (header `X-Email-Id`). */
    emailId: string | undefined;
    receivedAt: string;
    size: number;
    headers: Record<string, string>;
    raw: string;
}

export interface MailSink {
    /** SMTP port on 127.0.0.1. */
    readonly smtpPort: number;
    /** `http://127.0.0.1:<port>` of the inspection API. */
    readonly inboxUrl: string;
    /** Messages received so far (oldest first). */
    messages(): SinkMessage[];
    clear(): void;
    /** Resolves when `count` messages have arrived (or rejects after `timeoutMs`). */
    waitFor(count: number, timeoutMs?: number): Promise<SinkMessage[]>;
    stop(): Promise<void>;
}

/** Decodes RFC 2047 encoded words (`=?UTF-8?B?...?=`, `=?UTF-8?Q?...?=`). */
export function decodeWords(value: string): string {
    return value.replace(/=\?([^?]+)\?([bBqQ])\?([^?]*)\?=\s*/g, (_m, _charset: string, encoding: string, text: string) => {
        if (encoding.toUpperCase() === "B") return Buffer.from(text, "base64").toString("utf8");
        const bytes = text.replace(/_/g, " ").replace(/=([0-9A-Fa-f]{2})/g, (_x, hex: string) => String.fromCharCode(parseInt(hex, 16)));
        return Buffer.from(bytes, "latin1").toString("utf8");
    });
}

function parseHeaders(raw: string): Record<string, string> {
    const end = raw.search(/\r?\n\r?\n/);
    const head = (end >= 0 ? raw.slice(0, end) : raw).replace(/\r?\n[ \t]+/g, " ");
    const headers: Record<string, string> = {};
    for (const line of head.split(/\r?\n/)) {
        const colon = line.indexOf(":");
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = decodeWords(line.slice(colon + 1).trim());
    }
    return headers;
}

/**
 * Starts the sink on loopback ports.
 *
 * @example
 * const sink = await startMailSink();
 * // SMTP settings: { host: "127.0.0.1", port: sink.smtpPort, secure: false, requireTLS: false }
 * const [mail] = await sink.waitFor(1);
 * await sink.stop();
 */
export async function startMailSink(options: { smtpPort?: number; httpPort?: number } = {}): Promise<MailSink> {
    const inbox: SinkMessage[] = [];
    const waiters: Array<() => void> = [];
    const smtp = new SMTPServer({
        authOptional: true,
        disabledCommands: ["STARTTLS"],
        logger: false,
        size: 40 * 1024 * 1024,
        onRcptTo(address, _session, callback) {
            const local = address.address.split("@")[0].toLowerCase();
            if (local.startsWith("reject")) {
                const error = Object.assign(new Error("5.1.1 Mailbox unavailable"), { responseCode: 550 });
                return callback(error);
            }
            if (local.startsWith("defer")) {
                const error = Object.assign(new Error("4.3.0 Try again later"), { responseCode: 451 });
                return callback(error);
            }
            callback();
        },
        onData(stream, session, callback) {
            const chunks: Buffer[] = [];
            stream.on("data", (chunk: Buffer) => chunks.push(chunk));
            stream.on("end", () => {
                const raw = Buffer.concat(chunks).toString("utf8");
                const headers = parseHeaders(raw);
                inbox.push({
                    id: crypto.randomUUID(),
                    envelope: {
                        from: session.envelope.mailFrom ? session.envelope.mailFrom.address : undefined,
                        to: session.envelope.rcptTo.map((recipient) => recipient.address),
                    },
                    subject: headers["subject"],
                    messageId: headers["message-id"],
                    emailId: headers["x-email-id"],
                    receivedAt: new Date().toISOString(),
                    size: raw.length,
                    headers,
                    raw,
                });
                for (const wake of waiters.splice(0)) wake();
                callback();
            });
        },
    });
    await new Promise<void>((resolve, reject) => {
        smtp.once("error", reject);
        smtp.listen(options.smtpPort ?? 0, "127.0.0.1", () => resolve());
    });
    smtp.on("error", () => undefined);
    const smtpPort = (smtp.server.address() as { port: number }).port;

    const summary = ({ raw: _raw, headers: _headers, ...rest }: SinkMessage) => rest;
    const api = http.createServer((req, res) => {
        if (refuseForeignHost(req, res)) return;
        const send = (status: number, body: unknown) => {
            res.writeHead(status, { "content-type": "application/json" });
            res.end(JSON.stringify(body));
        };
        const url = new URL(req.url ?? "/", "http://localhost");
        if (req.method === "GET" && url.pathname === "/messages") return send(200, inbox.map(summary));
        if (req.method === "DELETE" && url.pathname === "/messages") {
            inbox.splice(0);
            return send(200, { deleted: true });
        }
        const match = /^\/messages\/([^/]+)$/.exec(url.pathname);
        if (req.method === "GET" && match) {
            const found = inbox.find((mail) => mail.id === match[1] || mail.emailId === match[1]);
            return found ? send(200, found) : send(404, { message: "no such message" });
        }
        send(404, { message: "GET /messages, GET /messages/:id, DELETE /messages" });
    });
    await new Promise<void>((resolve, reject) => {
        api.once("error", reject);
        api.listen(options.httpPort ?? 0, "127.0.0.1", () => resolve());
    });
    const httpPort = (api.address() as { port: number }).port;

    return {
        smtpPort,
        inboxUrl: `http://127.0.0.1:${httpPort}`,
        messages: () => [...inbox],
        clear: () => void inbox.splice(0),
        async waitFor(count, timeoutMs = 10_000) {
            const deadline = Date.now() + timeoutMs;
            while (inbox.length < count) {
                const left = deadline - Date.now();
                if (left <= 0) throw new Error(`mail sink: expected ${count} messages, have ${inbox.length}`);
                await new Promise<void>((resolve) => {
                    const timer = setTimeout(resolve, left);
                    waiters.push(() => {
                        clearTimeout(timer);
                        resolve();
                    });
                });
            }
            return [...inbox];
        },
        async stop() {
            api.closeAllConnections?.();
            await Promise.all([
                new Promise<void>((resolve) => api.close(() => resolve())),
                new Promise<void>((resolve) => smtp.close(() => resolve())),
            ]);
        },
    };
}
