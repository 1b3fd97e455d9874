/**
 * A stand-in for the X-Ray daemon: a loopback UDP socket that receives what the
 * X-Ray SDK sends and keeps the segment documents. It enforces the daemon's
 * format ("Sending segment documents to the X-Ray daemon": a JSON header
 * `{"format":"json","version":1}`, a newline, one segment document; at most
 * 64 KB a datagram) and the fields "AWS X-Ray segment documents" requires of a
 * subsegment sent on its own (`type: "subsegment"`, `id` of 16 hex digits,
 * `trace_id`, `parent_id`, `name`, `start_time`). A datagram that breaks them
 * is kept in `rejected` with the reason, never silently dropped.
 *
 * Used by the artifact tests (a traced invocation) and `npm run bench -- --mode tracer`.
 */
import * as dgram from "node:dgram";

/** One subsegment or segment document as the SDK sent it. */
export interface SegmentDocument {
    id: string;
    name: string;
    trace_id: string;
    parent_id?: string;
    type?: string;
    start_time: number;
    end_time?: number;
    in_progress?: boolean;
    namespace?: string;
    annotations?: Record<string, string | number | boolean>;
    metadata?: Record<string, unknown>;
    aws?: Record<string, unknown>;
    fault?: boolean;
    error?: boolean;
    [key: string]: unknown;
}

export interface XRayDaemon {
    /** `127.0.0.1:<port>`, for AWS_XRAY_DAEMON_ADDRESS. */
    readonly address: string;
    readonly documents: SegmentDocument[];
    readonly rejected: { reason: string; datagram: string }[];
    /** Datagrams received (accepted or not). */
    received(): number;
    /** Resolves once `count` documents arrived, or after `timeoutMs` (whatever arrived by then). */
    waitFor(count: number, timeoutMs?: number): Promise<SegmentDocument[]>;
    stop(): Promise<void>;
}

const HEADER = JSON.stringify({ format: "json", version: 1 });
const MAX_DATAGRAM_BYTES = 64 * 1024;
const SEGMENT_ID = /^[0-9a-f]{16}$/;
const TRACE_ID = /^1-[0-9a-f]{8}-[0-9a-f]{24}$/;

/** Why a datagram is not a valid daemon message, or undefined when it is. */
export function checkDatagram(datagram: Buffer): { reason: string } | { document: SegmentDocument } {
    if (datagram.length > MAX_DATAGRAM_BYTES) return { reason: `datagram of ${datagram.length} bytes exceeds 64 KB` };
    const text = datagram.toString("utf8");
    const newline = text.indexOf("\n");
    if (newline < 0) return { reason: "no header line" };
    let header: unknown;
    try {
        header = JSON.parse(text.slice(0, newline));
    } catch {
        return { reason: "header is not JSON" };
    }
    if (JSON.stringify(header) !== HEADER) return { reason: `header is not ${HEADER}` };
    let document: SegmentDocument;
    try {
        document = JSON.parse(text.slice(newline + 1)) as SegmentDocument;
    } catch {
        return { reason: "segment document is not JSON" };
    }
    const problems: string[] = [];
    if (!SEGMENT_ID.test(String(document.id))) problems.push("id is not 16 hex digits");
    if (!TRACE_ID.test(String(document.trace_id))) problems.push("trace_id is not 1-<8 hex>-<24 hex>");
    if (typeof document.name !== "string" || document.name === "") problems.push("name is missing");
    if (typeof document.start_time !== "number") problems.push("start_time is not a number");
    if (document.end_time === undefined && document.in_progress !== true) problems.push("neither end_time nor in_progress");
    if (document.type === "subsegment" && !SEGMENT_ID.test(String(document.parent_id)))
        problems.push("a subsegment sent alone needs parent_id");
    return problems.length > 0 ? { reason: problems.join("; ") } : { document };
}

/**
 * Starts the stand-in on a free loopback port.
 *
 * @example
 * const daemon = await startXRayDaemon();
 * env.AWS_XRAY_DAEMON_ADDRESS = daemon.address;
 */
export async function startXRayDaemon(): Promise<XRayDaemon> {
    const socket = dgram.createSocket("udp4");
    const documents: SegmentDocument[] = [];
    const rejected: { reason: string; datagram: string }[] = [];
    let count = 0;
    let waiters: (() => void)[] = [];
    socket.on("message", (datagram) => {
        count += 1;
        const checked = checkDatagram(datagram);
        if ("document" in checked) documents.push(checked.document);
        else rejected.push({ reason: checked.reason, datagram: datagram.toString("utf8").slice(0, 2000) });
        for (const wake of waiters) wake();
    });
    await new Promise<void>((resolve, reject) => {
        socket.once("error", reject);
        socket.bind(0, "127.0.0.1", () => resolve());
    });
    const address = `127.0.0.1:${socket.address().port}`;
    return {
        address,
        documents,
        rejected,
        received: () => count,
        async waitFor(wanted, timeoutMs = 5_000) {
            const deadline = Date.now() + timeoutMs;
            while (documents.length < wanted && Date.now() < deadline) {
                await new Promise<void>((resolve) => {
                    const timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
                    waiters.push(() => {
                        clearTimeout(timer);
                        resolve();
                    });
                });
                waiters = [];
            }
            return documents;
        },
        stop: () => new Promise<void>((resolve) => socket.close(() => resolve())),
    };
}

/**
 * The environment Lambda gives a sampled invocation with active tracing: the trace header and the daemon's address.
 *
 * @example
 * invokeArtifact({ ...artifact, environment: { ...env, ...tracedInvocationEnvironment(daemon.address) }, event });
 */
export function tracedInvocationEnvironment(daemonAddress: string, sampled = true): Record<string, string> {
    const hex = (digits: number) => Array.from({ length: digits }, () => Math.floor(Math.random() * 16).toString(16)).join("");
    const root = `1-${Math.floor(Date.now() / 1000).toString(16)}-${hex(24)}`;
    return {
        AWS_XRAY_DAEMON_ADDRESS: daemonAddress,
        _X_AMZN_TRACE_ID: `Root=${root};Parent=${hex(16)};Sampled=${sampled ? 1 : 0}`,
    };
}
