/**
 * A tiny stand-in for the SES v2 API (`POST /v2/email/outbound-emails`) that the
 * real `SESv2Client` talks to through `endpoint`. It can be up, down (the port
 * refuses connections) or answer with a chosen SES error, so tests and the local
 * pipeline can exercise classification and failover against the real SDK.
 */
import * as http from "node:http";
import * as crypto from "node:crypto";
import type { AddressInfo, Socket } from "node:net";
import { senderCovered } from "../../../handlers/email/senders";
import { refuseForeignHost } from "../loopback-host";

/** What SES received (the parsed SendEmail request). */
export interface SesSendRequest {
    messageId: string;
    FromEmailAddress?: string;
    Destination?: { ToAddresses?: string[]; CcAddresses?: string[]; BccAddresses?: string[] };
    Content?: { Simple?: { Subject?: { Data?: string }; Body?: { Text?: { Data?: string }; Html?: { Data?: string } } } };
    EmailTags?: Array<{ Name: string; Value: string }>;
    ConfigurationSetName?: string;
}

export type FakeSesMode =
    | "up"
    | "down"
    /** An SES error response, e.g. `{ status: 400, errorType: "MessageRejected" }`. */
    | { status: number; errorType: string; message?: string };

export interface FakeSes {
    readonly endpoint: string;
    readonly port: number;
    readonly requests: SesSendRequest[];
    /** SendEmail calls that reached the server (accepted or not). */
    attempts(): number;
    setMode(mode: FakeSesMode): Promise<void>;
    stop(): Promise<void>;
}

export interface FakeSesOptions {
    port?: number;
    onAccepted?: (request: SesSendRequest) => void;
    /**
     * The verified identities (domains and addresses), like the stack's `aws.sesv2.EmailIdentity`s: a
     * `FromEmailAddress` none of them covers is refused the way SES refuses it (400 MessageRejected
     * "Email address is not verified. The following identities failed the check …").
     * @default every sender is accepted
     */
    identities?: readonly string[];
    /** Configuration sets that exist; another `ConfigurationSetName` is a 404 NotFoundException. @default any */
    configurationSets?: readonly string[];
}

/**
 * @example
 * const ses = await startFakeSes({ identities: ["example.com"] });
 * const client = new SESv2Client({ endpoint: ses.endpoint, region: "us-east-1", credentials: LOCAL_CREDENTIALS });
 * await ses.setMode("down");
 */
export async function startFakeSes(options: FakeSesOptions = {}): Promise<FakeSes> {
    let mode: FakeSesMode = "up";
    let attempts = 0;
    const requests: SesSendRequest[] = [];
    const sockets = new Set<Socket>();
    const server = http.createServer((req, res) => {
        if (refuseForeignHost(req, res)) return;
        const chunks: Buffer[] = [];
        req.on("data", (chunk: Buffer) => chunks.push(chunk));
        req.on("end", () => {
            if (req.method !== "POST" || !req.url?.startsWith("/v2/email/outbound-emails")) {
                res.writeHead(404, { "content-type": "application/json", "x-amzn-errortype": "NotFoundException" });
                res.end(JSON.stringify({ message: "Unknown operation" }));
                return;
            }
            attempts++;
            if (typeof mode === "object") {
                res.writeHead(mode.status, {
                    "content-type": "application/json",
                    "x-amzn-errortype": mode.errorType,
                    "x-amzn-requestid": crypto.randomUUID(),
                });
                res.end(JSON.stringify({ message: mode.message ?? mode.errorType }));
                return;
            }
            const messageId = `fake-ses-${crypto.randomUUID()}`;
            const request = { messageId, ...(JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as object) } as SesSendRequest;
            const refusal = refuse(request, options);
            if (refusal) {
                res.writeHead(refusal.status, {
                    "content-type": "application/json",
                    "x-amzn-errortype": refusal.errorType,
                    "x-amzn-requestid": crypto.randomUUID(),
                });
                res.end(JSON.stringify({ message: refusal.message }));
                return;
            }
            requests.push(request);
            options.onAccepted?.(request);
            res.writeHead(200, { "content-type": "application/json", "x-amzn-requestid": crypto.randomUUID() });
            res.end(JSON.stringify({ MessageId: messageId }));
        });
    });
    server.on("connection", (socket) => {
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
    });
    const listen = (port: number) =>
        new Promise<void>((resolve, reject) => {
            server.once("error", reject);
            server.listen(port, "127.0.0.1", () => {
                server.off("error", reject);
                resolve();
            });
        });
    const close = () =>
        new Promise<void>((resolve) => {
            if (!server.listening) return resolve();
            for (const socket of sockets) socket.destroy();
            server.close(() => resolve());
        });
    await listen(options.port ?? 0);
    const port = (server.address() as AddressInfo).port;
    return {
        endpoint: `http://127.0.0.1:${port}`,
        port,
        requests,
        attempts: () => attempts,
        async setMode(next) {
            const wasDown = mode === "down";
            mode = next;
            if (next === "down") await close();
            else if (wasDown) await listen(port);
        },
        stop: close,
    };
}

/** What SES itself would refuse before sending: an unverified sender, an unknown configuration set. */
function refuse(request: SesSendRequest, options: FakeSesOptions): { status: number; errorType: string; message: string } | undefined {
    const from = request.FromEmailAddress ?? "";
    if (options.identities && !senderCovered(from, options.identities)) {
        return {
            status: 400,
            errorType: "MessageRejected",
            message: `Email address is not verified. The following identities failed the check in region LOCAL: ${from}`,
        };
    }
    if (options.configurationSets && request.ConfigurationSetName && !options.configurationSets.includes(request.ConfigurationSetName)) {
        return { status: 404, errorType: "NotFoundException", message: "Configuration set does not exist." };
    }
    return undefined;
}
