/**
 * The worker: an SQS FIFO batch handler with ReportBatchItemFailures.
 *
 * Per message: parse → (future sendAt: hand to the scheduler, done) → skip if the
 * delivery ledger says it was sent → load offloaded content → send through the
 * failover mailer → record the delivery → delete offloaded content.
 *
 * - Permanent failures (invalid recipient, rejected content, malformed message)
 *   go to the DLQ with a `rejectionReason` attribute and are acknowledged.
 * - Transient failures are reported as batch item failures and retried; after
 *   `maxReceiveCount` SQS moves them to the DLQ.
 * - Powertools' SqsFifoPartialProcessorAsync with `skipGroupOnError`: a failure
 *   holds back the rest of its own group (keeping FIFO order) while other tenants'
 *   groups in the batch are still processed.
 */
import sqs = require("@aws-sdk/client-sqs");
import batch = require("@aws-lambda-powertools/batch");
import powertools = require("@aws-lambda-powertools/logger");
import type * as metricsLib from "@aws-lambda-powertools/metrics";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import {
    EMAIL_DEAD_LETTER_ATTRIBUTES,
    EMAIL_DEAD_LETTER_MAX_DETAIL_LENGTH,
    EMAIL_METRICS,
    EMAIL_SERVICE_NAMES,
    type EmailRejectionReason,
} from "../../contracts/email-service";
import type { ContentStore } from "./content-store";
import { describeError, isDeliveryError, isPermanent, transientFailure } from "./errors";
import type { DeliveryLedger } from "./idempotency";
import type { EmailStatusStore, StatusDetails } from "./status";
import type { SuppressionList } from "./suppression";
import type { EmailStatus } from "../../contracts/email-service";
import { parseQueuedEmail } from "./message";
import { count, emailMetrics } from "./observability";
import { markForLogFilter } from "../shared/metric-level";
import { BreakerOptions, createFailoverMailer, FailoverMailer } from "./providers/failover";
import type { DeliveryScheduler, EmailProvider, QueuedEmail } from "./types";
import type { RejectedRecord } from "../shared/rejected-record";
import { defaultTracer, type HandlerTracer, traceClients, traceHandler } from "../tracing";

/** A dead-lettered email on its way to the DLQ. */
export type RejectedEmail = RejectedRecord<EmailRejectionReason>;

/**
 * How a transiently failing email leaves its FIFO lane. A failed record stays in its message
 * group and holds back the group's later emails until it is received again (one visibility
 * timeout per attempt), so a recipient that keeps answering 451 would hold its lane for up
 * to `maxReceiveCount` visibility timeouts. From receive `afterReceives` on, a transient
 * failure instead hands the email to the scheduler (`email-<id>-r<n>`, deterministic, so a
 * redelivery cannot park it twice) and acknowledges it: the lane moves on, and the email comes
 * back after `firstDelayMs`, doubling each time. After `maxDeferrals` it is dead-lettered as
 * `retries-exhausted`.
 */
export interface DeferralPolicy {
    /** Receives after which a transient failure parks the email (must be below the queue's maxReceiveCount). @default 2 */
    afterReceives: number;
    /** Delay of the first deferred retry; each next one doubles it. @default 300000 (5 minutes) */
    firstDelayMs: number;
    /** Deferred retries before the email is dead-lettered as `retries-exhausted`. @default 5 */
    maxDeferrals: number;
}

/** 5 + 10 + 20 + 40 + 80 minutes: about 2.6 hours of deferred retries, RFC 5321 §4.5.4.1 territory. */
export const DEFAULT_DEFERRAL_POLICY: DeferralPolicy = { afterReceives: 2, firstDelayMs: 300_000, maxDeferrals: 5 };

/** What the worker needs; the Lambda builds it from the environment (emailWorkerFromEnvironment). */
export interface EmailWorkerDeps {
    sqs: sqs.SQSClient;
    /** FIFO DLQ for permanent failures. */
    deadLetterQueueUrl: string;
    /** Primary provider (SES in production). */
    primary: EmailProvider;
    /** Secondary provider (SMTP in production); omit to run without failover. */
    secondary?: EmailProvider;
    breaker?: Partial<BreakerOptions>;
    contentStore: ContentStore;
    ledger: DeliveryLedger;
    scheduler: DeliveryScheduler;
    /** Where the worker records `sent` and `failed`; omit to run without statuses. */
    statuses?: EmailStatusStore;
    /**
     * Addresses that bounced permanently or complained: an email to any of them is not sent and ends as
     * `suppressed`. Checked at send time, so a bounce reported after the email was accepted still counts.
     * @default undefined (no suppression list)
     */
    suppressions?: SuppressionList;
    /** Powertools logger; never given PII. @default a Logger for service `email-worker` */
    logger?: powertools.Logger;
    /**
     * Records are not started when less than this remains of the invocation: a send can take
     * the breaker timeout plus SMTP's timeouts, and an invocation killed mid-batch would retry
     * the whole batch. Unstarted records are reported as failures and retried. At most half of
     * the invocation's time is reserved. @default 35000
     */
    deadlineMarginMs?: number;
    /** Powertools metrics (counts per outcome). @default EMF metrics for service `email-worker` */
    metrics?: metricsLib.Metrics;
    /** @default DEFAULT_DEFERRAL_POLICY */
    deferral?: Partial<DeferralPolicy>;
    /**
     * X-Ray: the handler's subsegment and one per SQS call of `sqs` (captured in place). The providers',
     * store's, ledger's and scheduler's clients are captured by whoever builds them (emailWorkerFromEnvironment).
     * @default a Powertools Tracer for service `email-worker`, on only inside Lambda
     */
    tracer?: HandlerTracer;
    now?: () => Date;
}

/** The worker Lambda handler: an SQS FIFO batch handler with ReportBatchItemFailures. */
export type EmailWorkerHandler = ((event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>) & {
    /** The breaker-backed mailer (state for tests and logs; `shutdown()` stops its timers). */
    readonly mailer: FailoverMailer;
};

/**
 * Builds the worker Lambda handler.
 *
 * @example
 * export const handler = createEmailWorker({
 *     sqs, deadLetterQueueUrl, primary: sesProvider({ client }), secondary: smtpProvider({ transport }),
 *     contentStore, ledger, scheduler,
 * });
 */
export function createEmailWorker(deps: EmailWorkerDeps): EmailWorkerHandler {
    const logger = deps.logger ?? new powertools.Logger({ serviceName: EMAIL_SERVICE_NAMES.worker });
    const now = deps.now ?? (() => new Date());
    const metrics = deps.metrics ?? emailMetrics(EMAIL_SERVICE_NAMES.worker);
    const tracer = deps.tracer ?? defaultTracer(EMAIL_SERVICE_NAMES.worker);
    traceClients(tracer, deps.sqs);
    const mailer = createFailoverMailer({ primary: deps.primary, secondary: deps.secondary, breaker: deps.breaker, logger });

    /** A status the worker could not record is logged, never retried: retrying the record could send the email twice. */
    async function recordStatus(emailId: string, status: EmailStatus, details: StatusDetails): Promise<void> {
        if (!deps.statuses) return;
        try {
            await deps.statuses.record(emailId, status, details);
        } catch (error) {
            logger.warn("email status not recorded", { emailId, status, ...describeError(error) });
        }
    }

    async function deadLetter({ record, reason, detail }: RejectedEmail, emailId: string | undefined): Promise<void> {
        await deps.sqs.send(
            new sqs.SendMessageCommand({
                QueueUrl: deps.deadLetterQueueUrl,
                MessageBody: record.body,
                MessageGroupId: record.attributes.MessageGroupId ?? "email",
                MessageDeduplicationId: `${record.messageId}-rejected`.slice(0, 128),
                MessageAttributes: {
                    [EMAIL_DEAD_LETTER_ATTRIBUTES.reason]: { DataType: "String", StringValue: reason },
                    [EMAIL_DEAD_LETTER_ATTRIBUTES.detail]: {
                        DataType: "String",
                        StringValue: detail.slice(0, EMAIL_DEAD_LETTER_MAX_DETAIL_LENGTH),
                    },
                },
            }),
        );
        logger.warn("email dead-lettered", { emailId, messageId: record.messageId, reason, detail });
        count(metrics, EMAIL_METRICS.deadLettered);
        if (emailId) await recordStatus(emailId, "failed", { reason });
    }

    const deferral: DeferralPolicy = { ...DEFAULT_DEFERRAL_POLICY, ...(deps.deferral ?? {}) };

    async function park(message: QueuedEmail, at: Date): Promise<void> {
        // The scheduler carries a pointer only: move inline content to S3 first.
        let pointer = message;
        if (message.content) {
            const contentRef = await deps.contentStore.put(message.id, message.content);
            pointer = { ...message, contentRef };
            delete pointer.content;
        }
        await deps.scheduler.schedule({ ...pointer, released: true }, at);
    }

    async function schedule(message: QueuedEmail, at: Date): Promise<void> {
        await park(message, at);
        logger.info("email scheduled", { emailId: message.id, lane: message.lane, sendAt: at.toISOString() });
        count(metrics, EMAIL_METRICS.scheduled);
    }

    /** Takes a transiently failing email off its lane; false when it should be retried in the lane. */
    async function deferOrGiveUp(record: SQSRecord, message: QueuedEmail, error: unknown): Promise<boolean> {
        const receiveCount = Number(record.attributes.ApproximateReceiveCount ?? 1);
        if (receiveCount < deferral.afterReceives) return false;
        const deferrals = message.deferrals ?? 0;
        const { errorName, errorCode } = describeError(error);
        if (deferrals >= deferral.maxDeferrals) {
            await deadLetter(
                { record, reason: "retries-exhausted", detail: `${errorCode ?? errorName} after ${deferrals} deferred retries` },
                message.id,
            );
            return true;
        }
        const at = new Date(now().getTime() + deferral.firstDelayMs * 2 ** deferrals);
        await park({ ...message, deferrals: deferrals + 1 }, at);
        logger.warn("email delivery deferred; its lane is free", {
            emailId: message.id,
            lane: message.lane,
            deferrals: deferrals + 1,
            retryAt: at.toISOString(),
            errorName,
            errorCode,
        });
        count(metrics, EMAIL_METRICS.deferred);
        return true;
    }

    let invocation: Context | undefined;
    let margin = deps.deadlineMarginMs ?? 35_000;

    async function processRecord(record: SQSRecord): Promise<void> {
        if (invocation && invocation.getRemainingTimeInMillis() < margin) {
            count(metrics, EMAIL_METRICS.retried);
            logger.info("email left for the next invocation: too little time left", { messageId: record.messageId });
            throw transientFailure("worker:deadline");
        }
        const message = parseQueuedEmail(record.body);
        if (!message) {
            await deadLetter({ record, reason: "malformed-message", detail: "not a v1 email message" }, undefined);
            return;
        }
        const emailId = message.id;
        if (message.sendAt && !message.released) {
            const at = new Date(message.sendAt);
            if (at.getTime() > now().getTime()) {
                await schedule(message, at);
                return;
            }
        }
        if (await deps.ledger.wasDelivered(emailId)) {
            logger.info("email already delivered; duplicate dropped", { emailId });
            count(metrics, EMAIL_METRICS.duplicatesDropped);
            return;
        }
        // An email with a sendAt could have been cancelled: take it (`queued`) or learn that it was, in one
        // conditional write that a cancel cannot interleave with. A failure here is retried: nothing was sent.
        if (message.sendAt && deps.statuses) {
            let release;
            try {
                release = await deps.statuses.release(emailId);
            } catch (error) {
                logger.warn("email not released: its status could not be checked; will retry", { emailId, ...describeError(error) });
                throw transientFailure(`status:${describeError(error).errorName}`);
            }
            if (release === "cancelled") {
                logger.info("email cancelled; release dropped", { emailId, lane: message.lane });
                count(metrics, EMAIL_METRICS.cancelledReleasesDropped);
                if (message.contentRef) await deps.contentStore.delete(message.contentRef).catch(() => undefined);
                return;
            }
        }
        try {
            const content = message.content ?? (await deps.contentStore.get(message.contentRef!));
            const suppressed = deps.suppressions
                ? await deps.suppressions.countSuppressed([...content.to, ...content.cc, ...content.bcc])
                : 0;
            if (suppressed > 0) {
                await recordStatus(emailId, "suppressed", { suppressedRecipients: String(suppressed) });
                count(metrics, EMAIL_METRICS.suppressed);
                logger.warn("email suppressed", { emailId, suppressedRecipients: suppressed });
                if (message.contentRef) await deps.contentStore.delete(message.contentRef).catch(() => undefined);
                return;
            }
            const receipt = await mailer.send(content, emailId);
            try {
                await deps.ledger.recordDelivery(emailId, receipt);
            } catch (error) {
                // Never fail the record now: a retry would send the email a second time.
                logger.warn("delivery not recorded in the ledger", { emailId, ...describeError(error) });
            }
            await recordStatus(emailId, "sent", { provider: receipt.provider, providerMessageId: receipt.messageId });
            count(metrics, receipt.provider === deps.primary.name ? EMAIL_METRICS.sent : EMAIL_METRICS.sentBySecondary);
            logger.info("email sent", {
                emailId,
                provider: receipt.provider,
                providerMessageId: receipt.messageId,
                rejectedRecipients: receipt.rejectedRecipients ?? 0,
                receiveCount: Number(record.attributes.ApproximateReceiveCount ?? 1),
            });
            if (message.contentRef) {
                await deps.contentStore
                    .delete(message.contentRef)
                    .catch((error) =>
                        logger.warn("offloaded content not deleted; lifecycle expiry will remove it", { emailId, ...describeError(error) }),
                    );
            }
        } catch (error) {
            if (isPermanent(error)) {
                await deadLetter({ record, reason: error.reason, detail: error.code }, emailId);
                return;
            }
            try {
                if (await deferOrGiveUp(record, message, error)) return;
            } catch (parkError) {
                // Scheduler or DLQ unreachable: keep the email in its lane and retry it there (nothing lost).
                logger.warn("email not deferred; retrying in its lane", { emailId, ...describeError(parkError) });
            }
            count(metrics, EMAIL_METRICS.retried);
            logger.warn("email delivery failed; will retry", {
                emailId,
                receiveCount: Number(record.attributes.ApproximateReceiveCount ?? 1),
                ...describeError(error),
            });
            // Rethrow without the original message: SDK and SMTP messages can quote addresses.
            throw isDeliveryError(error) ? error : transientFailure(describeError(error).errorName);
        }
    }

    const handler = async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
        if (context) logger.addContext(context);
        invocation = context;
        // Never reserve more than half of the invocation (short function timeouts still make progress).
        if (context?.getRemainingTimeInMillis) margin = Math.min(deps.deadlineMarginMs ?? 35_000, context.getRemainingTimeInMillis() / 2);
        const processor = new batch.SqsFifoPartialProcessorAsync();
        try {
            return await batch.processPartialResponse(event, processRecord, processor, {
                ...(context ? { context } : {}),
                skipGroupOnError: true,
            });
        } finally {
            markForLogFilter(metrics).publishStoredMetrics();
        }
    };
    return Object.assign(traceHandler(tracer, handler), { mailer });
}
