/**
 * The queue message: how an accepted request becomes an SQS FIFO message, how its
 * MessageGroupId (the tenant lane) is chosen, and how it is read back.
 *
 * MessageGroupId: `<tenant hash>-<lane>`. SQS FIFO delivers one group's messages in
 * order, one batch in flight at a time, and Lambda scales out across groups. Keying
 * groups by tenant means one tenant's backlog (or a message being retried) only
 * holds that tenant's lanes, while every other tenant's groups keep flowing; giving
 * each tenant a few lanes (hash of the email id) keeps one busy tenant from being
 * serialised to a single in-flight batch. The tenant is hashed so that no caller
 * identity sits in the group id.
 */
import * as crypto from "node:crypto";
import v = require("valibot");
import type { EmailContent, EmailRequest, QueuedEmail } from "./types";

/**
 * Identity of the caller, from the API Gateway IAM authorizer context (never a header).
 *
 * @example
 * tenantOf(event); // "arn:aws:iam::111122223333:role/shop"
 */
export function tenantOf(event: { requestContext?: { authorizer?: { iam?: { userArn?: string; accountId?: string } } } }): string {
    const iam = event.requestContext?.authorizer?.iam;
    const arn = iam?.userArn;
    if (arn) {
        // Role sessions change names; the role is the tenant.
        const assumed = /^arn:([^:]+):sts::(\d+):assumed-role\/([^/]+)\//.exec(arn);
        return assumed ? `arn:${assumed[1]}:iam::${assumed[2]}:role/${assumed[3]}` : arn;
    }
    return iam?.accountId ? `account:${iam.accountId}` : "anonymous";
}

function sha256(text: string): string {
    return crypto.createHash("sha256").update(text).digest("hex");
}

/**
 * The MessageGroupId for an email of `tenant`: the tenant's hash plus one of `lanes` lanes.
 *
 * @example
 * laneFor(tenant, emailId, 4); // MessageGroupId of one of the tenant's 4 lanes
 */
export function laneFor(tenant: string, emailId: string, lanes: number): string {
    const lane = parseInt(sha256(emailId).slice(0, 8), 16) % Math.max(1, lanes);
    return `t${sha256(tenant).slice(0, 16)}-${lane}`;
}

/** Scope of an Idempotency-Key: keys belong to a tenant, so two tenants cannot collide. */
export function tenantScope(tenant: string): string {
    return sha256(tenant).slice(0, 32);
}

/** The content part of a request (what may be offloaded to S3). */
export function contentOf(request: EmailRequest): EmailContent {
    return {
        from: request.from,
        to: request.to,
        cc: request.cc,
        bcc: request.bcc,
        subject: request.subject,
        ...(request.text !== undefined ? { text: request.text } : {}),
        ...(request.html !== undefined ? { html: request.html } : {}),
    };
}

/** A stable hash of a request, to tell a retry from a different request under the same Idempotency-Key. */
export function fingerprintOf(request: EmailRequest): string {
    const canonical = JSON.stringify([
        request.from,
        request.to,
        request.cc,
        request.bcc,
        request.subject,
        request.text ?? null,
        request.html ?? null,
        request.sendAt ? request.sendAt.toISOString() : null,
    ]);
    return sha256(canonical);
}

/** UTF-8 size of a message body as SQS counts it. */
export function messageBytes(message: QueuedEmail): number {
    return Buffer.byteLength(JSON.stringify(message), "utf8");
}

function contentSchema() {
    const list = v.array(v.string());
    return v.object({
        from: v.string(),
        to: v.pipe(list, v.minLength(1)),
        cc: list,
        bcc: list,
        subject: v.string(),
        text: v.optional(v.string()),
        html: v.optional(v.string()),
    });
}

function queuedEmailSchema() {
    return v.pipe(
        v.object({
            version: v.literal(1),
            id: v.pipe(v.string(), v.nonEmpty(), v.maxLength(128)),
            lane: v.pipe(v.string(), v.nonEmpty(), v.maxLength(128)),
            acceptedAt: v.pipe(v.string(), v.isoTimestamp()),
            sendAt: v.optional(v.pipe(v.string(), v.isoTimestamp())),
            released: v.optional(v.boolean()),
            deferrals: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(1000))),
            content: v.optional(contentSchema()),
            contentRef: v.optional(v.object({ bucket: v.string(), key: v.string(), bytes: v.number() })),
        }),
        v.check(
            (message) => (message.content === undefined) !== (message.contentRef === undefined),
            "exactly one of content and contentRef",
        ),
    );
}

/**
 * Parses a queue message body. Returns `undefined` for anything that is not a v1
 * email message; the caller dead-letters it as `malformed-message`.
 *
 * @example
 * const message = parseQueuedEmail(record.body); // undefined when not a v1 email message
 */
export function parseQueuedEmail(body: string): QueuedEmail | undefined {
    let json: unknown;
    try {
        json = JSON.parse(body);
    } catch {
        return undefined;
    }
    const result = v.safeParse(queuedEmailSchema(), json);
    return result.success ? (result.output as QueuedEmail) : undefined;
}
