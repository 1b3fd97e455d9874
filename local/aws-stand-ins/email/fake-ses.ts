/**
 * A tiny stand-in for the SES v2 API (`POST /v2/email/outbound-emails`) that the
 * real `SESv2Client` talks to through `endpoint`. It can be up, down (the port
 * refuses connections) or answer with a chosen SES error, so tests and the local
 * pipeline can exercise classification and failover against the real SDK.
 *
 * After accepting an email it behaves as SES does for a configuration set with event
 * publishing: it emits the event records SES publishes (ses-event-records.ts) through
 * `onEvent` — SEND, then DELIVERY, BOUNCE, DELIVERY_DELAY or COMPLAINT per recipient.
 * The SES mailbox simulator addresses (SES Developer Guide, "Using the mailbox simulator",
 * https://docs.aws.amazon.com/ses/latest/dg/send-an-email-from-console.html#send-email-simulator)
 * answer as documented: `success@` delivered, `bounce@` a hard bounce (550 5.1.1),
 * `ooto@` delivered (with an automatic reply SES does not publish as an event),
 * `complaint@` delivered then a complaint, `suppressionlist@` a hard bounce as if the
 * address were on the suppression list. A `+label` before the `@` is allowed, as there.
 * Other recipients are relayed (`onAccepted`); one the relay refuses bounces (5xx) or is
 * delayed (4xx), so a refused recipient never vanishes.
 */
import * as http from "node:http";
import * as crypto from "node:crypto";
import type { AddressInfo, Socket } from "node:net";
import { senderCovered } from "../../../handlers/email/senders";
import { refuseForeignHost } from "../loopback-host";
import { sesEventRecord, type SesEventKind, type SesEventOptions, type SesEventRecord } from "./ses-event-records";

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

/** What the relay made of the recipients it was given: those the receiving server refused, with its SMTP code. */
export interface RelayOutcome {
    refused?: Array<{ address: string; responseCode: number }>;
}

/** The mailbox simulator's scenarios (SES Developer Guide, "Using the mailbox simulator"). */
export type SimulatorScenario = "success" | "bounce" | "ooto" | "complaint" | "suppressionlist";

export const SES_SIMULATOR_DOMAIN = "simulator.amazonses.com";

/**
 * The simulator scenario an address stands for, or undefined for any other address.
 *
 * @example
 * simulatorScenario("bounce+order-7@simulator.amazonses.com"); // "bounce"
 */
export function simulatorScenario(address: string): SimulatorScenario | undefined {
    const match = /^([a-z]+)(?:\+[^@]*)?@simulator\.amazonses\.com$/i.exec(address.trim());
    const local = match?.[1].toLowerCase();
    return local === "success" || local === "bounce" || local === "ooto" || local === "complaint" || local === "suppressionlist"
        ? local
        : undefined;
}

export interface FakeSesOptions {
    port?: number;
    /**
     * Delivers an accepted email to the recipients in its `Destination` (the simulator's are left out, except those
     * it delivers); resolves with the recipients refused. @default every recipient delivered
     */
    onAccepted?: (request: SesSendRequest) => void | Promise<RelayOutcome | void>;
    /**
     * Receives each event record SES publishes for an email sent with a configuration set, in the order SES
     * emits them. @default events are not published
     */
    onEvent?: (kind: SesEventKind, record: SesEventRecord) => void | Promise<void>;
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
            publish(request, options).catch(() => undefined);
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

function recipientsOf(request: SesSendRequest): string[] {
    const destination = request.Destination ?? {};
    return [...(destination.ToAddresses ?? []), ...(destination.CcAddresses ?? []), ...(destination.BccAddresses ?? [])];
}

/** Relays what SES delivers, then emits the events SES would publish for it. */
async function publish(request: SesSendRequest, options: FakeSesOptions): Promise<void> {
    const all = recipientsOf(request);
    const deliverable = (address: string) => {
        const scenario = simulatorScenario(address);
        return scenario === undefined || scenario === "success" || scenario === "ooto" || scenario === "complaint";
    };
    // Only real mailboxes and the simulator's accepting ones reach the relay (the inbox).
    const keep = (addresses?: string[]) => addresses?.filter(deliverable);
    const relayed: SesSendRequest = {
        ...request,
        Destination: {
            ToAddresses: keep(request.Destination?.ToAddresses),
            CcAddresses: keep(request.Destination?.CcAddresses),
            BccAddresses: keep(request.Destination?.BccAddresses),
        },
    };
    let outcome: RelayOutcome | void = undefined;
    if (all.some(deliverable)) {
        try {
            outcome = await options.onAccepted?.(relayed);
        } catch {
            // A relay that failed as a whole: every recipient it was given is deferred, never silently dropped.
            outcome = { refused: recipientsOf(relayed).map((address) => ({ address, responseCode: 451 })) };
        }
    }
    if (!options.onEvent || !request.ConfigurationSetName) return;
    const refused = new Map((outcome?.refused ?? []).map((entry) => [entry.address.toLowerCase(), entry.responseCode]));
    const delivered: string[] = [];
    const hardBounced: string[] = [];
    const suppressed: string[] = [];
    const delayed: string[] = [];
    const complained: string[] = [];
    for (const address of all) {
        const scenario = simulatorScenario(address);
        const code = refused.get(address.toLowerCase());
        if (scenario === "bounce") hardBounced.push(address);
        else if (scenario === "suppressionlist") suppressed.push(address);
        else if (code !== undefined) (code >= 500 ? hardBounced : delayed).push(address);
        else {
            delivered.push(address);
            if (scenario === "complaint") complained.push(address);
        }
    }
    const mail = {
        messageId: request.messageId,
        source: request.FromEmailAddress ?? "",
        destination: all,
        configurationSetName: request.ConfigurationSetName,
        tags: Object.fromEntries((request.EmailTags ?? []).map((tag) => [tag.Name, tag.Value])),
    };
    const emit = (kind: SesEventKind, eventOptions: SesEventOptions = {}) =>
        options.onEvent!(kind, sesEventRecord(kind, mail, eventOptions));
    await emit("SEND");
    if (hardBounced.length) await emit("BOUNCE", { recipients: hardBounced, bounceType: "Permanent", bounceSubType: "General" });
    if (suppressed.length) await emit("BOUNCE", { recipients: suppressed, bounceType: "Permanent", bounceSubType: "Suppressed" });
    if (delayed.length) await emit("DELIVERY_DELAY", { recipients: delayed, delayType: "TransientCommunicationFailure" });
    if (delivered.length) await emit("DELIVERY", { recipients: delivered });
    if (complained.length) await emit("COMPLAINT", { recipients: complained, complaintFeedbackType: "abuse" });
}
