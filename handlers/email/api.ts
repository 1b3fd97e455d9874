/**
 * The email API: `POST /v1/emails` → validate → (idempotency) → status `accepted`
 * → (offload large content to S3) → SQS FIFO SendMessage → status `queued` or
 * `scheduled` → 202 `{ id }`. It answers 202 only after SendMessage succeeded, so an
 * accepted email is durably on the queue. `GET /v1/emails/{id}` answers the email's
 * status and history to the principal that sent it, and the same 404 to anyone else.
 * `DELETE /v1/emails/{id}` cancels that principal's email while it waits for its `sendAt`
 * (the status write decides; deleting the schedule is clean-up), and is a 409 naming the
 * status once it is queued or further.
 */
import * as crypto from "node:crypto";
import sqs = require("@aws-sdk/client-sqs");
import s3 = require("@aws-sdk/client-s3");
import ddb = require("@aws-sdk/client-dynamodb");
import powertools = require("@aws-lambda-powertools/logger");
import type * as metricsLib from "@aws-lambda-powertools/metrics";
import type { Context } from "aws-lambda";
import { EMAIL_API_DEFAULTS, EMAIL_ID_PATTERN, EMAIL_METRICS, EMAIL_SERVICE_NAMES } from "../../contracts/email-service";
import { ContentStore, s3ContentStore } from "./content-store";
import { describeError, idempotencyKeyReused, isNamedError, queueUnavailable } from "./errors";
import {
    bodyBytes,
    charsetDecoder,
    charsetOf,
    EmailApiEvent,
    EmailApiResult,
    header,
    isJsonContentType,
    json,
    problem,
    SUPPORTED_CHARSETS,
} from "./http";
import { dynamoIdempotencyStore, IdempotencyStore } from "./idempotency";
import { count, emailMetrics } from "./observability";
import { markForLogFilter } from "../shared/metric-level";
import { contentOf, fingerprintOf, laneFor, messageBytes, tenantOf, tenantScope } from "./message";
import { EMAIL_REQUEST_FIELDS, validateEmailRequest } from "./request";
import { senderError, type SenderPolicy } from "./senders";
import { dynamoStatusStore, type EmailStatusStore } from "./status";
import type { ScheduleCanceller } from "./scheduler";
import { defaultTracer, type HandlerTracer, traceClients, traceHandler } from "../tracing";
import { type Deferred, once } from "../shared/deferred";
import type { EmailLimits, EmailRequest, QueuedEmail } from "./types";

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
const KNOWN_FIELDS: readonly string[] = [...EMAIL_REQUEST_FIELDS, "recipients", "body", "Idempotency-Key"];

/** What the API handler needs; the defaults are `EMAIL_API_DEFAULTS` (contracts/email-service.ts). */
export interface EmailApiDeps extends SenderPolicy {
    sqs: sqs.SQSClient;
    /** The FIFO email queue. */
    queueUrl: string;
    /** The idempotency table; omit to disable the Idempotency-Key header (it is then rejected with 400). */
    dynamodb?: ddb.DynamoDBClient;
    idempotencyTableName?: string;
    /** The content bucket's client, for large bodies only: a function is called (once, and its client traced) on the first large body. */
    s3: Deferred<s3.S3Client>;
    contentBucket: string;
    /** @default EMAIL_API_DEFAULTS.limits */
    limits?: Partial<EmailLimits>;
    /** Messages larger than this put their content in S3. @default EMAIL_API_DEFAULTS.largeBodyThresholdBytes */
    largeBodyThresholdBytes?: number;
    /** How long an Idempotency-Key is remembered. @default EMAIL_API_DEFAULTS.idempotencyTtlHours in seconds */
    idempotencyTtlSeconds?: number;
    /** FIFO message groups per tenant. @default EMAIL_API_DEFAULTS.tenantLanes */
    tenantLanes?: number;
    /** The status table (in the `dynamodb` client's account); omit to run without statuses (`GET` is then always 404). */
    statusTableName?: string;
    /** How long a status is kept after acceptance, or after sendAt when later. Required with a status table. */
    statusRetentionSeconds?: number;
    /** Powertools logger; never given PII. @default a Logger for service `email-api` */
    logger?: powertools.Logger;
    /** Powertools metrics (counts per outcome). @default EMF metrics for service `email-api` */
    metrics?: metricsLib.Metrics;
    /**
     * X-Ray: the handler's subsegment and one per SQS/S3/DynamoDB call (the clients are captured in place).
     * @default a Powertools Tracer for service `email-api`, on only inside Lambda
     */
    tracer?: HandlerTracer;
    now?: () => Date;
    newId?: () => string;
    /** Overrides for tests: where content and keys go. */
    contentStore?: ContentStore;
    idempotencyStore?: IdempotencyStore;
    statusStore?: EmailStatusStore;
    /**
     * Deletes a cancelled email's schedule (EventBridge Scheduler's DeleteSchedule). Without it a cancel still
     * stands (the worker never sends a cancelled email); the schedule then fires and its release is dropped.
     * @default undefined (schedules are left to fire)
     */
    scheduleCanceller?: ScheduleCanceller;
}

/** The API Lambda handler (API Gateway HTTP API, payload format 2.0). */
export type EmailApiHandler = (event: EmailApiEvent, context?: Context) => Promise<EmailApiResult>;

/**
 * Builds the API Lambda handler.
 *
 * @example
 * export const handler = createEmailApi({
 *     sqs: new SQSClient({}), queueUrl, s3: new S3Client({}), contentBucket,
 *     dynamodb: new DynamoDBClient({}), idempotencyTableName,
 * });
 */
export function createEmailApi(deps: EmailApiDeps): EmailApiHandler {
    const limits: EmailLimits = { ...EMAIL_API_DEFAULTS.limits, ...(deps.limits ?? {}) };
    const threshold = deps.largeBodyThresholdBytes ?? EMAIL_API_DEFAULTS.largeBodyThresholdBytes;
    const lanes = deps.tenantLanes ?? EMAIL_API_DEFAULTS.tenantLanes;
    const now = deps.now ?? (() => new Date());
    const newId = deps.newId ?? (() => crypto.randomUUID());
    const logger = deps.logger ?? new powertools.Logger({ serviceName: EMAIL_SERVICE_NAMES.api });
    const metrics = deps.metrics ?? emailMetrics(EMAIL_SERVICE_NAMES.api);
    const tracer = deps.tracer ?? defaultTracer(EMAIL_SERVICE_NAMES.api);
    const s3Deferred = deps.s3;
    traceClients(tracer, deps.sqs, typeof s3Deferred === "function" ? undefined : s3Deferred, deps.dynamodb);
    const s3Client = typeof s3Deferred === "function" ? once(() => traceClients(tracer, s3Deferred())[0]) : s3Deferred;
    const contentStore = deps.contentStore ?? s3ContentStore(s3Client, deps.contentBucket);
    const idempotency =
        deps.idempotencyStore ??
        (deps.dynamodb && deps.idempotencyTableName
            ? dynamoIdempotencyStore(
                  deps.dynamodb,
                  deps.idempotencyTableName,
                  deps.idempotencyTtlSeconds ?? EMAIL_API_DEFAULTS.idempotencyTtlHours * 3600,
                  now,
              )
            : undefined);
    const statuses =
        deps.statusStore ??
        (deps.dynamodb && deps.statusTableName ? dynamoStatusStore(deps.dynamodb, deps.statusTableName, now) : undefined);
    const statusRetentionMs = (deps.statusRetentionSeconds ?? 0) * 1000;
    if (statuses && !(statusRetentionMs > 0)) throw new RangeError("statusRetentionSeconds must be positive with a status table");

    /** Records `accepted`, owned by the caller, before anything is enqueued: a failure here accepts nothing. */
    async function accept(request: EmailRequest, emailId: string, tenant: string): Promise<void> {
        if (!statuses) return;
        const from = Math.max(now().getTime(), request.sendAt?.getTime() ?? 0);
        await statuses.accept(emailId, tenantScope(tenant), new Date(from + statusRetentionMs), request.sendAt);
    }

    /** After SendMessage: `scheduled` for a future sendAt, `queued` otherwise. The email is accepted whatever happens here. */
    async function recordQueued(message: QueuedEmail): Promise<void> {
        if (!statuses) return;
        const scheduled = message.sendAt !== undefined && new Date(message.sendAt).getTime() > now().getTime();
        try {
            await (scheduled
                ? statuses.record(message.id, "scheduled", { sendAt: message.sendAt })
                : statuses.record(message.id, "queued"));
        } catch (error) {
            logger.warn("email status not recorded", {
                emailId: message.id,
                status: scheduled ? "scheduled" : "queued",
                ...describeError(error),
            });
        }
    }

    /** The `{id}` of `/v1/emails/{id}`, when it can be an email id. */
    function emailIdOf(event: EmailApiEvent): string | undefined {
        const id = event.pathParameters?.id ?? /^\/v1\/emails\/([^/]+)$/.exec(event.rawPath ?? "")?.[1];
        return id && EMAIL_ID_PATTERN.test(id) ? id : undefined;
    }
    const notFound = () => problem(404, "NotFound", "No email with this id.");

    /** `GET /v1/emails/{id}`: the caller's own email, or one 404 for unknown, expired and other principals' ids. */
    async function readStatus(event: EmailApiEvent): Promise<EmailApiResult> {
        const id = emailIdOf(event);
        if (!statuses || !id) return notFound();
        let found;
        try {
            found = await statuses.read(id, tenantScope(tenantOf(event)));
        } catch (error) {
            logger.error("email status not read", { status: 500, requestId: event.requestContext?.requestId, ...describeError(error) });
            return problem(500, "StatusUnavailable", "The status could not be read; retry the request.");
        }
        if (!found) return notFound();
        logger.info("email status read", { emailId: id, status: found.status, requestId: event.requestContext?.requestId });
        return json(200, found);
    }

    /**
     * `DELETE /v1/emails/{id}`: 200 with the status (`cancelled`) when the caller's email was waiting for its
     * sendAt, and the same 200 again for an email already cancelled; 409 naming the status once the worker
     * took it (queued, sent, ...); the GET's 404 otherwise. The conditional status write is the cancel: the
     * worker never sends a cancelled email, so a schedule that fires meanwhile, or one that cannot be deleted
     * now, sends nothing.
     */
    async function cancelEmail(event: EmailApiEvent): Promise<EmailApiResult> {
        const requestId = event.requestContext?.requestId;
        const id = emailIdOf(event);
        if (!statuses || !id) return notFound();
        let result;
        try {
            result = await statuses.cancel(id, tenantScope(tenantOf(event)));
        } catch (error) {
            logger.error("email not cancelled", { status: 500, requestId, ...describeError(error) });
            return problem(500, "StatusUnavailable", "The email was not cancelled; retry the request.");
        }
        if (result.outcome === "not-found") return notFound();
        if (result.outcome === "not-cancellable") {
            logger.info("email not cancelled", { emailId: id, status: 409, emailStatus: result.status, requestId });
            return json(409, {
                error: "NotCancellable",
                message: `The email is ${result.status}; only an email waiting for its sendAt can be cancelled.`,
                status: result.status,
            });
        }
        if (result.outcome === "cancelled") {
            count(metrics, EMAIL_METRICS.cancelled);
            markForLogFilter(metrics).publishStoredMetrics();
        }
        // Also on a repeated cancel: a schedule an earlier attempt could not delete is deleted now.
        let schedule = "not-configured";
        if (deps.scheduleCanceller) {
            try {
                schedule = await deps.scheduleCanceller.deleteSchedule(id);
            } catch (error) {
                schedule = "not-deleted";
                logger.warn("schedule not deleted; its release will be dropped", { emailId: id, requestId, ...describeError(error) });
            }
        }
        logger.info("email cancelled", { emailId: id, repeated: result.outcome === "already-cancelled", schedule, requestId });
        return json(200, result.record);
    }

    async function enqueue(request: EmailRequest, emailId: string, lane: string): Promise<QueuedEmail> {
        const message: QueuedEmail = {
            version: 1,
            id: emailId,
            lane,
            acceptedAt: now().toISOString(),
            ...(request.sendAt ? { sendAt: request.sendAt.toISOString() } : {}),
            content: contentOf(request),
        };
        let body = message;
        if (messageBytes(message) > threshold) {
            const contentRef = await contentStore.put(emailId, message.content!);
            count(metrics, EMAIL_METRICS.offloaded);
            body = { ...message, content: undefined, contentRef };
            delete body.content;
        }
        try {
            await deps.sqs.send(
                new sqs.SendMessageCommand({
                    QueueUrl: deps.queueUrl,
                    MessageBody: JSON.stringify(body),
                    MessageGroupId: lane,
                    // The id is the deduplication id: a retry of a half-finished request is dropped by SQS.
                    MessageDeduplicationId: emailId,
                }),
            );
        } catch (error) {
            throw queueUnavailable(describeError(error).errorName);
        }
        return body;
    }

    const handle = async (event: EmailApiEvent, context?: Context): Promise<EmailApiResult> => {
        if (context) logger.addContext(context);
        const requestId = event.requestContext?.requestId;
        try {
            const method = event.requestContext?.http?.method ?? "POST";
            if (method === "GET") return await readStatus(event);
            if (method === "DELETE") return await cancelEmail(event);
            if (method !== "POST") return problem(405, "MethodNotAllowed", "Use POST, or GET or DELETE /v1/emails/{id}.");
            if (!isJsonContentType(header(event, "content-type"))) {
                return problem(415, "UnsupportedMediaType", "Content-Type must be application/json.");
            }
            const charset = charsetOf(header(event, "content-type"));
            const decode = charsetDecoder(charset);
            if (!decode) {
                // Echo the label (printable ASCII, bounded) so the client sees what to fix; never log it.
                const label = charset.replace(/[^\x20-\x7e]/g, "?").slice(0, 40);
                return problem(
                    415,
                    "UnsupportedMediaType",
                    `Charset "${label}" is not supported; send utf-8 (supported: ${SUPPORTED_CHARSETS.join(", ")}).`,
                );
            }
            const bytes = bodyBytes(event);
            if (bytes.length > limits.maxRequestBytes) {
                logger.info("email rejected", { status: 413, requestBytes: bytes.length, requestId });
                return problem(413, "PayloadTooLarge", `The request body must be at most ${limits.maxRequestBytes} bytes.`);
            }
            // A text body arrives as a string API Gateway already decoded; other bodies arrive base64-encoded
            // and are decoded here with the declared charset (fatally: never U+FFFD in place of a character).
            const text = event.isBase64Encoded ? decode(bytes) : (event.body ?? "");
            if (text === undefined) {
                logger.info("email rejected", { status: 400, fieldsInError: ["body"], requestId });
                const message =
                    charset === "utf-8" || charset === "utf8" ? "must be valid UTF-8 (or declare its charset)" : `must be valid ${charset}`;
                return problem(400, "ValidationFailed", "The request is invalid.", [{ field: "body", message }]);
            }
            let parsed: unknown;
            try {
                parsed = JSON.parse(text);
            } catch {
                // JSON.parse's message quotes the input: never echo or log it.
                return problem(400, "ValidationFailed", "The request is invalid.", [{ field: "body", message: "must be valid JSON" }]);
            }
            const validation = validateEmailRequest(parsed, limits, now());
            const tenant = tenantOf(event);
            // The sender policy is checked with the other field errors (every error at once).
            const rawFrom = typeof parsed === "object" && parsed !== null ? (parsed as { from?: unknown }).from : undefined;
            const fromInError = !validation.success && validation.errors.some((error) => error.field === "from");
            const senderProblem = typeof rawFrom === "string" && !fromInError ? senderError(rawFrom, tenant, deps) : undefined;
            const senderErrors = senderProblem ? [{ field: "from", message: senderProblem }] : [];
            const key = header(event, "idempotency-key");
            const keyErrors =
                key === undefined
                    ? []
                    : !IDEMPOTENCY_KEY.test(key)
                      ? [{ field: "Idempotency-Key", message: "must be 1-255 printable ASCII characters without spaces" }]
                      : !idempotency
                        ? [{ field: "Idempotency-Key", message: "is not supported by this deployment" }]
                        : [];
            if (!validation.success || keyErrors.length > 0 || senderErrors.length > 0) {
                const errors = [...(validation.success ? [] : validation.errors), ...senderErrors, ...keyErrors];
                // Unknown keys are client text (could be anything, even an address): log known fields only.
                const fieldsInError = errors.map((error) =>
                    KNOWN_FIELDS.includes(error.field.split(/[.[]/)[0]) ? error.field : "(unknown field)",
                );
                logger.info("email rejected", { status: 400, fieldsInError, requestId });
                return problem(400, "ValidationFailed", "The request is invalid.", errors);
            }
            const request = validation.request;
            let emailId = newId();
            let replay = false;
            if (key !== undefined && idempotency) {
                const scope = tenantScope(tenant);
                const fingerprint = fingerprintOf(request);
                const claim = await idempotency.claim(scope, key, emailId, fingerprint);
                if (claim.outcome === "existing") {
                    if (claim.fingerprint !== fingerprint) throw idempotencyKeyReused();
                    emailId = claim.emailId;
                    replay = true;
                    if (claim.state === "enqueued") {
                        logger.info("email replayed", { emailId, requestId });
                        return json(202, { id: emailId }, { "idempotent-replayed": "true" });
                    }
                    // `pending`: an earlier attempt stored the key but may not have enqueued.
                }
                const lane = laneFor(tenant, emailId, lanes);
                await accept(request, emailId, tenant);
                const queued = await enqueue(request, emailId, lane);
                await recordQueued(queued);
                try {
                    await idempotency.markEnqueued(scope, key);
                } catch (error) {
                    // The email is on the queue. A retry re-enqueues the same id: SQS and the delivery ledger drop it.
                    logger.warn("idempotency key not marked enqueued", { emailId, ...describeError(error) });
                }
                logAccepted(queued, request, replay);
                return json(202, { id: emailId }, replay ? { "idempotent-replayed": "true" } : {});
            }
            await accept(request, emailId, tenant);
            const queued = await enqueue(request, emailId, laneFor(tenant, emailId, lanes));
            await recordQueued(queued);
            logAccepted(queued, request, false);
            return json(202, { id: emailId });
        } catch (error) {
            if (isNamedError(error, "IdempotencyKeyReusedError")) {
                return problem(422, "IdempotencyKeyReused", (error as Error).message);
            }
            if (isNamedError(error, "QueueUnavailableError")) {
                logger.error("email not accepted: queue unavailable", { status: 500, requestId, ...describeError(error) });
                return problem(500, "QueueUnavailable", "The email was not accepted; retry the request.");
            }
            logger.error("email not accepted", { status: 500, requestId, ...describeError(error) });
            return problem(500, "InternalError", "The email was not accepted; retry the request.");
        }
    };

    return traceHandler(tracer, async (event: EmailApiEvent, context?: Context) => {
        const result = await handle(event, context);
        const status = result.statusCode ?? 500;
        // The outcome counts are about sending; a status read is not a send, nor is a cancel (EmailsCancelled).
        const method = event.requestContext?.http?.method;
        if (method === "GET" || method === "DELETE") return result;
        if (status === 202) count(metrics, result.headers?.["idempotent-replayed"] ? EMAIL_METRICS.replayed : EMAIL_METRICS.accepted);
        else if (status >= 500) count(metrics, EMAIL_METRICS.notAccepted);
        else count(metrics, EMAIL_METRICS.rejected);
        markForLogFilter(metrics).publishStoredMetrics();
        return result;
    });

    function logAccepted(message: QueuedEmail, request: EmailRequest, replay: boolean): void {
        logger.info("email accepted", {
            emailId: message.id,
            lane: message.lane,
            recipients: request.to.length + request.cc.length + request.bcc.length,
            offloaded: message.contentRef !== undefined,
            scheduled: message.sendAt !== undefined,
            replay,
        });
    }
}
