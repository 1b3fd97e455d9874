/**
 * The event records SES publishes for a configuration set with event publishing, in the
 * shape "Contents of event data that Amazon SES publishes to Amazon SNS" (the same
 * records reach Firehose and, as the `detail` of an event, EventBridge) documents:
 * `eventType`, the `mail` object (with `tags`, including `ses:configuration-set` and the
 * sender's own message tags) and one object per type (`bounce`, `complaint`, `delivery`,
 * `deliveryDelay`, `reject`, `failure`, `send`). The EventBridge envelope follows
 * EventBridge's "Amazon Simple Email Service events" (`source` aws.ses, `detail-type`
 * "Email Delivered", ...). The local SES stand-in emits these; tests build them.
 */
import * as crypto from "node:crypto";
import { EMAIL_SES_EVENTS } from "../../../contracts/email-service";

/** An SES event publishing type (`MatchingEventTypes`). */
export type SesEventKind = keyof typeof EMAIL_SES_EVENTS;

export interface SesMailFacts {
    /** SES's message id (the SendEmail answer's MessageId). */
    messageId: string;
    /** `FromEmailAddress`. */
    source: string;
    /** Every recipient. */
    destination: string[];
    configurationSetName: string;
    /** The SendEmail call's EmailTags. */
    tags: Record<string, string>;
    /** When SES accepted the email. @default now */
    sentAt?: Date;
    /** @default "000000000000" */
    accountId?: string;
}

export interface SesEventOptions {
    /** When the event happened. @default now */
    at?: Date;
    /** BOUNCE: @default { bounceType: "Permanent", bounceSubType: "General" } */
    bounceType?: "Permanent" | "Transient" | "Undetermined";
    bounceSubType?: string;
    /** COMPLAINT: @default "abuse" */
    complaintFeedbackType?: string;
    /** DELIVERY_DELAY: @default "MailboxFull" */
    delayType?: string;
    /** Recipients the event is about. @default every recipient */
    recipients?: string[];
}

/** One SES event record (the JSON SES publishes). */
export type SesEventRecord = Record<string, unknown> & { eventType: string; mail: Record<string, unknown> };

/**
 * The record SES publishes for `kind` about the email `mail`.
 *
 * @example
 * sesEventRecord("BOUNCE", mail, { bounceType: "Permanent" }); // { eventType: "Bounce", bounce: { bounceType: "Permanent", ... }, mail: { ... } }
 */
export function sesEventRecord(kind: SesEventKind, mail: SesMailFacts, options: SesEventOptions = {}): SesEventRecord {
    const at = (options.at ?? new Date()).toISOString();
    const recipients = options.recipients ?? mail.destination;
    const tags: Record<string, string[]> = {
        "ses:operation": ["SendEmail"],
        "ses:configuration-set": [mail.configurationSetName],
        "ses:source-ip": ["127.0.0.1"],
        "ses:from-domain": [mail.source.split("@")[1] ?? ""],
        "ses:caller-identity": ["local"],
    };
    for (const [name, value] of Object.entries(mail.tags)) tags[name] = [value];
    const record: SesEventRecord = {
        eventType: EMAIL_SES_EVENTS[kind].eventType,
        mail: {
            timestamp: (mail.sentAt ?? new Date()).toISOString(),
            source: mail.source,
            sourceArn: `arn:aws:ses:us-east-1:${mail.accountId ?? "000000000000"}:identity/${mail.source.split("@")[1] ?? mail.source}`,
            sendingAccountId: mail.accountId ?? "000000000000",
            messageId: mail.messageId,
            destination: mail.destination,
            headersTruncated: false,
            tags,
        },
    };
    switch (kind) {
        case "SEND":
            record.send = {};
            break;
        case "DELIVERY":
            record.delivery = {
                timestamp: at,
                processingTimeMillis: 420,
                recipients,
                smtpResponse: "250 2.6.0 Message received",
                reportingMTA: "local.amazonses.com",
            };
            break;
        case "BOUNCE":
            record.bounce = {
                bounceType: options.bounceType ?? "Permanent",
                bounceSubType: options.bounceSubType ?? "General",
                bouncedRecipients: recipients.map((emailAddress) => ({
                    emailAddress,
                    action: "failed",
                    status: "5.1.1",
                    diagnosticCode: "smtp; 550 5.1.1 user unknown",
                })),
                timestamp: at,
                feedbackId: `${crypto.randomUUID()}-000000`,
                reportingMTA: "dsn; local.amazonses.com",
            };
            break;
        case "COMPLAINT":
            record.complaint = {
                complainedRecipients: recipients.map((emailAddress) => ({ emailAddress })),
                timestamp: at,
                feedbackId: `${crypto.randomUUID()}-000000`,
                complaintFeedbackType: options.complaintFeedbackType ?? "abuse",
            };
            break;
        case "REJECT":
            record.reject = { reason: "Bad content" };
            break;
        case "DELIVERY_DELAY":
            record.deliveryDelay = {
                timestamp: at,
                delayType: options.delayType ?? "MailboxFull",
                expirationTime: new Date(Date.parse(at) + 86_400_000).toISOString(),
                delayedRecipients: recipients.map((emailAddress) => ({
                    emailAddress,
                    status: "4.2.2",
                    diagnosticCode: "smtp; 452 4.2.2 Mailbox full",
                })),
            };
            break;
        case "RENDERING_FAILURE":
            record.failure = { errorMessage: "Attribute 'name' is not present in the rendering data.", templateName: "local" };
            break;
    }
    return record;
}

/** An EventBridge event carrying an SES event record, as SES publishes to the default bus. */
export interface SesEventBridgeEnvelope {
    version: "0";
    id: string;
    "detail-type": string;
    source: "aws.ses";
    account: string;
    time: string;
    region: string;
    resources: string[];
    detail: SesEventRecord;
}

/**
 * Wraps a record the way EventBridge delivers it to a rule's target.
 *
 * @example
 * await statusHandler(sesEventBridgeEvent("DELIVERY", sesEventRecord("DELIVERY", mail)));
 */
export function sesEventBridgeEvent(kind: SesEventKind, record: SesEventRecord, region = "us-east-1"): SesEventBridgeEnvelope {
    const mail = record.mail as { sendingAccountId?: string };
    return {
        version: "0",
        id: crypto.randomUUID(),
        "detail-type": EMAIL_SES_EVENTS[kind].detailType,
        source: "aws.ses",
        account: mail.sendingAccountId ?? "000000000000",
        time: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
        region,
        resources: [],
        detail: record,
    };
}
