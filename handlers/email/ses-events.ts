/**
 * The status function: SES's event records for the stack's configuration set
 * (SEND, DELIVERY, BOUNCE, COMPLAINT, REJECT, DELIVERY_DELAY, RENDERING_FAILURE),
 * delivered by EventBridge, become the email's status. The email is found by the
 * `emailId` tag the worker puts on every SendEmail; SES returns it in `mail.tags`.
 *
 * Events arrive out of order and more than once (EventBridge and Lambda's asynchronous
 * invocation both deliver at least once): the status store records a status only over
 * a lower-ranked one, so a late DELIVERY after a BOUNCE and a repeated event change nothing.
 * A failure to record throws: Lambda retries the event, then puts it on the function's DLQ.
 */
import powertools = require("@aws-lambda-powertools/logger");
import v = require("valibot");
import type * as metricsLib from "@aws-lambda-powertools/metrics";
import type { Context } from "aws-lambda";
import {
    EMAIL_ID_PATTERN,
    EMAIL_ID_TAG,
    EMAIL_METRICS,
    EMAIL_SERVICE_NAMES,
    EMAIL_SES_EVENTS,
    type EmailStatus,
} from "../../contracts/email-service";
import { describeError } from "./errors";
import { count, emailMetrics } from "./observability";
import type { EmailStatusStore, StatusDetails, StatusOutcome } from "./status";
import type { SuppressionList } from "./suppression";

/** An EventBridge event whose `detail` is an SES event record. */
export interface SesEventBridgeEvent {
    "detail-type"?: string;
    source?: string;
    time?: string;
    detail?: unknown;
}

export interface EmailStatusEventDeps {
    statuses: EmailStatusStore;
    /** Where a permanent bounce's or a complaint's recipients go (as hashes). @default undefined (no suppression list) */
    suppressions?: SuppressionList;
    /** Powertools logger; never given PII (SES records hold addresses: only ids and codes are logged). */
    logger?: powertools.Logger;
    /** @default EMF metrics for service `email-status` */
    metrics?: metricsLib.Metrics;
}

/** What one event did: the email it concerned, the status it maps to and whether that moved the email forward. */
export interface EmailStatusEventResult {
    outcome: StatusOutcome | "ignored";
    emailId?: string;
    status?: EmailStatus;
}

export type EmailStatusEventHandler = (event: SesEventBridgeEvent, context?: Context) => Promise<EmailStatusEventResult>;

const STATUS_BY_EVENT_TYPE: Record<string, EmailStatus> = Object.fromEntries(
    Object.values(EMAIL_SES_EVENTS).map((event) => [event.eventType, event.status]),
);

function recordSchema() {
    const code = v.optional(v.pipe(v.string(), v.maxLength(256)));
    const recipients = v.array(v.object({ emailAddress: v.pipe(v.string(), v.maxLength(320)) }));
    return v.object({
        eventType: v.string(),
        mail: v.object({
            messageId: v.optional(v.string()),
            timestamp: v.optional(v.string()),
            tags: v.optional(v.record(v.string(), v.array(v.string()))),
        }),
        bounce: v.optional(v.object({ bounceType: code, bounceSubType: code, timestamp: code, bouncedRecipients: v.optional(recipients) })),
        complaint: v.optional(v.object({ complaintFeedbackType: code, timestamp: code, complainedRecipients: v.optional(recipients) })),
        delivery: v.optional(v.object({ timestamp: code })),
        deliveryDelay: v.optional(v.object({ delayType: code, timestamp: code })),
        reject: v.optional(v.object({ reason: code })),
    });
}

/** The parsed SES event record (only the fields the status uses; addresses are never read). */
type SesEventRecord = v.InferOutput<ReturnType<typeof recordSchema>>;

/** The details one record contributes to the history: SES's codes and its message id. */
function detailsOf(record: SesEventRecord, status: EmailStatus): StatusDetails {
    const details: StatusDetails = { provider: "ses", ...(record.mail.messageId ? { providerMessageId: record.mail.messageId } : {}) };
    if (status === "bounced")
        Object.assign(details, { bounceType: record.bounce?.bounceType, bounceSubType: record.bounce?.bounceSubType });
    if (status === "complained") Object.assign(details, { complaintFeedbackType: record.complaint?.complaintFeedbackType });
    if (status === "delayed") Object.assign(details, { delayType: record.deliveryDelay?.delayType });
    if (status === "failed") details.reason = "rendering-failure";
    return details;
}

/** When the event happened: the event's own timestamp (bounce, complaint, delivery, delay), else EventBridge's time. */
function whenOf(record: SesEventRecord, event: SesEventBridgeEvent): Date | undefined {
    const candidates = [
        record.bounce?.timestamp,
        record.complaint?.timestamp,
        record.delivery?.timestamp,
        record.deliveryDelay?.timestamp,
        event.time,
    ];
    for (const candidate of candidates) {
        const date = candidate ? new Date(candidate) : undefined;
        if (date && !Number.isNaN(date.getTime())) return date;
    }
    return undefined;
}

/**
 * Builds the status function's handler.
 *
 * @example
 * export const handler = createEmailStatusEvents({ statuses: dynamoStatusStore(new DynamoDBClient({}), statusTable) });
 */
export function createEmailStatusEvents(deps: EmailStatusEventDeps): EmailStatusEventHandler {
    const logger = deps.logger ?? new powertools.Logger({ serviceName: EMAIL_SERVICE_NAMES.status });
    const metrics = deps.metrics ?? emailMetrics(EMAIL_SERVICE_NAMES.status);
    return async (event, context) => {
        if (context) logger.addContext(context);
        try {
            const parsed = v.safeParse(recordSchema(), event.detail);
            if (!parsed.success) {
                logger.warn("ses event ignored: not an SES event record", { detailType: String(event["detail-type"] ?? "").slice(0, 64) });
                return { outcome: "ignored" };
            }
            const record = parsed.output;
            const status = STATUS_BY_EVENT_TYPE[record.eventType];
            const emailId = record.mail.tags?.[EMAIL_ID_TAG]?.[0];
            if (!status || !emailId || !EMAIL_ID_PATTERN.test(emailId)) {
                // Opens, clicks, or mail sent through the configuration set by something other than this service.
                logger.info("ses event ignored", { eventType: record.eventType.slice(0, 64), tracked: Boolean(emailId) });
                return { outcome: "ignored" };
            }
            // Suppress first: a retry of an event whose status was recorded still suppresses (both are idempotent).
            const toSuppress =
                status === "bounced" && record.bounce?.bounceType === "Permanent"
                    ? { addresses: record.bounce.bouncedRecipients ?? [], reason: "bounce" as const }
                    : status === "complained"
                      ? { addresses: record.complaint?.complainedRecipients ?? [], reason: "complaint" as const }
                      : undefined;
            if (toSuppress && deps.suppressions && toSuppress.addresses.length > 0) {
                await deps.suppressions.suppress(
                    toSuppress.addresses.map((recipient) => recipient.emailAddress),
                    toSuppress.reason,
                );
            }
            const outcome = await deps.statuses.record(emailId, status, detailsOf(record, status), whenOf(record, event));
            count(metrics, outcome === "recorded" ? EMAIL_METRICS.statusEventsApplied : EMAIL_METRICS.statusEventsStale);
            logger.info("email status from ses", { emailId, status, outcome, providerMessageId: record.mail.messageId });
            return { outcome, emailId, status };
        } catch (error) {
            // Rethrown without its message: Lambda retries the event, then dead-letters it.
            logger.error("email status not recorded", describeError(error));
            throw Object.assign(new Error(`status not recorded: ${describeError(error).errorName}`), { name: "StatusNotRecordedError" });
        } finally {
            metrics.publishStoredMetrics();
        }
    };
}
