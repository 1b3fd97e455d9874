// What fauxqs lacks and the stack relies on, as a thin layer over its own app and store
// (docs/local.md, "The local SQS"): per-credential identities with SigV4 checked, SenderId
// in AWS's form, MessageGroupId kept on standard queues, and fair-queue delivery and
// metrics. fauxqs's own actions still do the work; this layer wraps three of them
// (SendMessage, SendMessageBatch, ReceiveMessage) and orders a standard queue's waiting
// messages before fauxqs dequeues them. It reaches into fauxqs's dist files, so
// package.json pins fauxqs exactly and tests/local/aws-stand-ins/sqs-stand-in.test.ts
// fails first if an upgrade moves them.
import { Buffer } from "node:buffer";
import { Readable } from "node:stream";
import { detectNoisyGroups, fairDeliveryOrder, fairQueueMetrics, newFairnessState } from "./sqs-fairness.ts";

const fauxqsDist = (file) => new URL(file, import.meta.resolve("fauxqs")).href;
const { SqsQueue, SqsStore } = await import(fauxqsDist("./sqs/sqsStore.js"));
const { SqsError } = await import(fauxqsDist("./common/errors.js"));
const { sendMessage } = await import(fauxqsDist("./sqs/actions/sendMessage.js"));
const { sendMessageBatch } = await import(fauxqsDist("./sqs/actions/sendMessageBatch.js"));
const { receiveMessage } = await import(fauxqsDist("./sqs/actions/receiveMessage.js"));

/** MessageGroupId: 1-128 characters, letters, digits and punctuation (SQS API Reference, "SendMessage"). */
const MESSAGE_GROUP_ID = /^[\x21-\x7e]{1,128}$/;

/** A standard queue that keeps MessageGroupId and SenderId and delivers quiet groups first. */
class StandInQueue extends SqsQueue {
    fairness = newFairnessState();
    /** false: fauxqs's own order (the bench's control); detection and metrics still run */
    fairDelivery = true;
    /** messages enqueued by the action being wrapped (set only while it runs; actions are synchronous) */
    captured;

    enqueue(msg) {
        this.captured?.push(msg);
        super.enqueue(msg);
    }

    dequeue(maxCount, visibilityTimeoutOverride, dlqResolver) {
        if (this.isFifo()) return super.dequeue(maxCount, visibilityTimeoutOverride, dlqResolver);
        this.processTimers();
        const { noisy, inFlight } = this.refreshNoisyGroups(Date.now());
        if (this.fairDelivery && noisy.size > 0 && this.messages.length > 0) {
            const order = fairDeliveryOrder(
                this.messages.map((msg) => msg.messageGroupId),
                Math.min(maxCount, 10),
                noisy,
                inFlight,
            );
            const first = new Set(order);
            // fauxqs takes from the front: put this receive's picks there, the rest keep their order.
            this.messages = [...order.map((index) => this.messages[index]), ...this.messages.filter((_, index) => !first.has(index))];
        }
        return super.dequeue(maxCount, visibilityTimeoutOverride, dlqResolver);
    }

    refreshNoisyGroups(now) {
        const loads = new Map();
        const load = (group) => loads.get(group) ?? loads.set(group, { inFlight: 0, backlog: 0 }).get(group);
        for (const { message } of this.inflightMessages.values()) if (message.messageGroupId) load(message.messageGroupId).inFlight++;
        for (const msg of [...this.messages, ...this.delayedMessages]) if (msg.messageGroupId) load(msg.messageGroupId).backlog++;
        const noisy = detectNoisyGroups(this.fairness, loads, now);
        return { noisy, inFlight: new Map([...loads].map(([group, { inFlight }]) => [group, inFlight])) };
    }

    /** The five fair-queue metrics and the noisy groups, without changing anything a consumer sees. */
    fairQueueReport(now = Date.now()) {
        if (this.isFifo()) return undefined;
        const { noisy } = this.refreshNoisyGroups(now);
        const view = (msg) => ({
            group: msg.messageGroupId,
            sentTimestamp: msg.sentTimestamp,
            receiveCount: msg.approximateReceiveCount,
        });
        const metrics = fairQueueMetrics(
            {
                visible: this.messages.map(view),
                inFlight: [...this.inflightMessages.values()].map(({ message }) => view(message)),
                delayed: this.delayedMessages.map(view),
            },
            noisy,
            now,
        );
        return { queue: this.name, fairDelivery: this.fairDelivery, noisyGroups: [...noisy], metrics };
    }
}

class StandInStore extends SqsStore {
    fairDelivery = true;

    createQueue(name, url, arn, attributes, tags) {
        // fauxqs's createQueue, with our queue class (no persistence or spies here).
        const queue = new StandInQueue(name, url, arn, attributes, tags);
        queue.fairDelivery = this.fairDelivery;
        this.queues.set(url, queue);
        this.queuesByName.set(name, queue);
        this.queuesByArn.set(arn, queue);
        return queue;
    }
}

/**
 * @param {{ fairDelivery?: boolean }} options
 * @example
 * const store = createStandInStore({ fairDelivery: true });
 * const app = buildApp({ stores: { sqsStore: store } });
 */
export function createStandInStore(options = {}) {
    const store = new StandInStore();
    store.fairDelivery = options.fairDelivery !== false;
    return store;
}

/** An SQS error in the JSON protocol, as fauxqs's router writes them (plus AWS's auth errors). */
function replyError(reply, status, code, message, queryCode) {
    reply
        .code(status)
        .header("content-type", "application/x-amz-json-1.0")
        .header("x-amzn-query-error", `${queryCode};Sender`)
        .send({ __type: `com.amazon.coral.service#${code}`, message });
    return reply;
}

/** The SigV4 signer, loaded only when identities are checked (it adds to every start-up otherwise). */
let signing;
async function loadSigning() {
    if (!signing) {
        const [{ Hash }, { SignatureV4 }] = await Promise.all([import("@smithy/core/serde"), import("@smithy/signature-v4")]);
        // node:crypto behind smithy's Checksum interface (SHA-256, HMAC when given a key).
        signing = { SignatureV4, sha256: Hash.bind(null, "sha256") };
    }
    return signing;
}

/**
 * Checks a request's SigV4 signature the way AWS does: the access key must be known, and
 * signing the request as received with its secret must give the same signature.
 * Returns the identity, or the AWS error to answer with.
 */
async function authenticate(request, identities) {
    const authorization = String(request.headers.authorization ?? "");
    const match =
        /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
            authorization,
        );
    if (!match) {
        return {
            error: [
                403,
                "MissingAuthenticationToken",
                "The request must contain either a valid (registered) AWS access key ID or X.509 certificate.",
                "MissingAuthenticationToken",
            ],
        };
    }
    const [, accessKeyId, , region, service, signedHeaderList, signature] = match;
    const identity = identities.get(accessKeyId);
    if (!identity) {
        return {
            error: [403, "InvalidClientTokenId", "The security token included in the request is invalid.", "InvalidClientTokenId"],
        };
    }
    const headers = {};
    for (const name of signedHeaderList.split(";")) headers[name] = String(request.headers[name] ?? "");
    const amzDate = headers["x-amz-date"] ?? String(request.headers["x-amz-date"] ?? "");
    const signingDate = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
    const { SignatureV4, sha256 } = await loadSigning();
    const signer = new SignatureV4({
        service,
        region,
        credentials: { accessKeyId, secretAccessKey: identity.secretAccessKey },
        sha256,
        applyChecksum: false,
    });
    const expected = signingDate
        ? await signer.sign(
              {
                  method: request.method,
                  protocol: "http:",
                  hostname: String(request.headers.host ?? "").split(":")[0],
                  path: request.raw.url ?? "/",
                  query: {},
                  headers,
                  body: request.rawBody ?? "",
              },
              {
                  signingDate: new Date(
                      Date.UTC(+signingDate[1], +signingDate[2] - 1, +signingDate[3], +signingDate[4], +signingDate[5], +signingDate[6]),
                  ),
                  signableHeaders: new Set(Object.keys(headers)),
              },
          )
        : undefined;
    const got = expected && /Signature=([0-9a-f]{64})/.exec(String(expected.headers.authorization ?? ""))?.[1];
    if (got !== signature) {
        return {
            error: [
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
                "SignatureDoesNotMatch",
            ],
        };
    }
    return { identity };
}

/** Runs a fauxqs action, capturing the messages it enqueues on the addressed queue. */
function runCapturing(store, body, action) {
    const queue = typeof body?.QueueUrl === "string" ? store.getQueue(body.QueueUrl) : undefined;
    if (queue) queue.captured = [];
    try {
        const result = action(body, store);
        return { result, captured: queue?.captured ?? [], queue };
    } finally {
        if (queue) queue.captured = undefined;
    }
}

function assertGroupId(groupId) {
    if (groupId !== undefined && (typeof groupId !== "string" || !MESSAGE_GROUP_ID.test(groupId))) {
        throw new SqsError(
            "InvalidParameterValue",
            "Value for parameter MessageGroupId is invalid. Reason: MessageGroupId can only include 1-128 alphanumeric and punctuation characters.",
        );
    }
}

/** SendMessage / SendMessageBatch / ReceiveMessage with what fauxqs drops restored. */
const WRAPPED_ACTIONS = {
    SendMessage(body, store, senderId) {
        assertGroupId(body.MessageGroupId);
        const { result, captured, queue } = runCapturing(store, body, sendMessage);
        for (const msg of captured) {
            msg.senderId = senderId;
            if (!queue.isFifo() && body.MessageGroupId !== undefined) msg.messageGroupId = body.MessageGroupId;
            if (msg.messageGroupId) queue.fairness.lastSentAt.set(msg.messageGroupId, msg.sentTimestamp);
        }
        return result;
    },
    SendMessageBatch(body, store, senderId) {
        for (const entry of body.Entries ?? []) assertGroupId(entry.MessageGroupId);
        const { result, captured, queue } = runCapturing(store, body, sendMessageBatch);
        const entries = new Map((body.Entries ?? []).map((entry) => [entry.Id, entry]));
        const groupByMessageId = new Map((result.Successful ?? []).map((ok) => [ok.MessageId, entries.get(ok.Id)?.MessageGroupId]));
        for (const msg of captured) {
            msg.senderId = senderId;
            const groupId = groupByMessageId.get(msg.messageId);
            if (!queue.isFifo() && groupId !== undefined) msg.messageGroupId = groupId;
            if (msg.messageGroupId) queue.fairness.lastSentAt.set(msg.messageGroupId, msg.sentTimestamp);
        }
        return result;
    },
    async ReceiveMessage(body, store) {
        const result = await receiveMessage(body, store);
        const queue = store.getQueue(body.QueueUrl);
        for (const received of result.Messages ?? []) {
            const msg = queue?.inflightMessages.get(received.ReceiptHandle)?.message;
            if (msg?.senderId && received.Attributes?.SenderId !== undefined) received.Attributes.SenderId = msg.senderId;
        }
        return result;
    },
};

/**
 * Adds the layer to fauxqs's app. With `identities` (access key -> { secretAccessKey, senderId }),
 * every SQS request must be signed by one of them (else InvalidClientTokenId / SignatureDoesNotMatch,
 * HTTP 403, as AWS answers) and messages carry the sender's SenderId; without, any key is accepted
 * and fauxqs's SenderId stands.
 *
 * @example
 * installSqsStandIn(app, store, { identities: new Map([["AKIA…", { secretAccessKey: "…", senderId: "AROA…:orders" }]]) });
 */
export function installSqsStandIn(app, store, { identities } = {}) {
    const isSqs = (request) =>
        request.method === "POST" && String(request.headers["content-type"] ?? "").includes("application/x-amz-json-1.0");
    if (identities) {
        // Keep the bytes as sent: the signature covers them.
        app.addHook("preParsing", async (request, _reply, payload) => {
            if (!isSqs(request)) return payload;
            const chunks = [];
            for await (const chunk of payload) chunks.push(chunk);
            request.rawBody = Buffer.concat(chunks).toString("utf8");
            const copy = Readable.from([Buffer.from(request.rawBody, "utf8")]);
            copy.receivedEncodedLength = Buffer.byteLength(request.rawBody, "utf8");
            return copy;
        });
    }
    app.addHook("preHandler", async (request, reply) => {
        if (!isSqs(request)) return;
        let senderId;
        if (identities) {
            const checked = await authenticate(request, identities);
            if (checked.error) return replyError(reply, ...checked.error);
            senderId = checked.identity.senderId;
        }
        const action = String(request.headers["x-amz-target"] ?? "").replace("AmazonSQS.", "");
        const wrapped = WRAPPED_ACTIONS[action];
        if (!wrapped) return;
        try {
            const result = await wrapped(request.body, store, senderId);
            reply.header("content-type", "application/x-amz-json-1.0").send(result);
        } catch (error) {
            if (!(error instanceof SqsError)) throw error;
            reply
                .code(error.statusCode)
                .header("content-type", "application/x-amz-json-1.0")
                .header("x-amzn-query-error", error.queryErrorHeader)
                .send(error.toJSON());
        }
        return reply;
    });
    // The bench's control: fair delivery off (and on again) without restarting. JSON only, so a
    // cross-site page cannot send it without a CORS preflight, which this server never grants.
    app.put("/_stand-in/fair-delivery", async (request, reply) => {
        const body = Buffer.isBuffer(request.body) ? request.body.toString("utf8") : "";
        let enabled;
        try {
            enabled = String(request.headers["content-type"] ?? "").startsWith("application/json") ? JSON.parse(body).enabled : undefined;
        } catch {
            enabled = undefined;
        }
        if (typeof enabled !== "boolean") return reply.code(400).send({ message: 'send {"enabled": true|false} as application/json' });
        store.fairDelivery = enabled;
        for (const queue of store.allQueues()) queue.fairDelivery = enabled;
        return { fairDelivery: enabled };
    });
    // Read-only, like fauxqs's /_fauxqs/queues: the fair-queue metrics SQS would publish to CloudWatch.
    app.get("/_stand-in/fair-queues", async () => [...store.allQueues()].map((queue) => queue.fairQueueReport?.()).filter(Boolean));
}
