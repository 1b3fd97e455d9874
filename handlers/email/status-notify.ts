/**
 * The notify function: every status change of an email, read from the status table's
 * DynamoDB stream, becomes one `Email Status Changed` event (EMAIL_STATUS_CHANGE_EVENT)
 * on the stack's status-change bus, for clients to subscribe to with an EventBridge rule.
 *
 * Reading the stream instead of asking each writer to publish covers every writer (the
 * API's accept, the worker's sent/failed/suppressed, the status function's SES events,
 * a cancel) and any added later: a status that reached the table is published, one that
 * did not (a stale report, a failed conditional write) is not.
 *
 * What an event carries is built from an allow-list (email id, owner hash, status, rank,
 * time and the history entry's codes and ids, StatusDetails): the table holds no address,
 * subject or body, and `suppressed#<hash>` items (the suppression list) are never published.
 *
 * Delivery is at least once: a batch that fails is retried from its first unpublished record
 * (ReportBatchItemFailures), so a consumer may see an event twice; the pair (emailId, status)
 * is unique, because a status is recorded at most once per email.
 */
import powertools = require("@aws-lambda-powertools/logger");
import type eventbridge = require("@aws-sdk/client-eventbridge");
import type * as metricsLib from "@aws-lambda-powertools/metrics";
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import {
    EMAIL_ID_PATTERN,
    EMAIL_METRICS,
    EMAIL_SERVICE_NAMES,
    EMAIL_STATUS_CHANGE_EVENT,
    EMAIL_STATUS_NAMES,
    EMAIL_STATUS_TABLE_KEYS,
    EMAIL_STATUSES,
    type EmailStatus,
} from "../../contracts/email-service";
import { describeError } from "./errors";
import { count, emailMetrics } from "./observability";
import { DETAIL_FIELDS, entryOf, type StatusDetails } from "./status";

/** The EventBridge SDK, loaded when first asked for: only the notify function needs it, not the API or the worker importing this module. */
export function eventBridgeSdk(): typeof eventbridge {
    return require("@aws-sdk/client-eventbridge") as typeof eventbridge;
}

/** PutEvents takes at most 10 entries a request (EventBridge API Reference, "PutEvents"). */
export const PUT_EVENTS_MAX_ENTRIES = 10;

/** The `detail` of an `Email Status Changed` event (version 1). */
export interface StatusChangeDetail extends StatusDetails {
    version: typeof EMAIL_STATUS_CHANGE_EVENT.version;
    emailId: string;
    /** The email's owner as the status table keeps it: the first 32 hex digits of SHA-256(caller's principal ARN). */
    owner: string;
    status: EmailStatus;
    /** The status's precedence (EMAIL_STATUSES): a consumer keeps the highest it has seen. */
    rank: number;
    /** The status before this change; absent for the first (`accepted`). */
    previousStatus?: EmailStatus;
    /** When the status happened (the history entry's time). */
    at: string;
}

/** One status change and the stream record it came from. */
export interface StatusChange {
    sequenceNumber: string;
    detail: StatusChangeDetail;
}

/** Puts entries on the bus; returns the index of the first entry EventBridge did not take, or -1 when it took them all. */
export type StatusEventPublisher = (entries: eventbridge.PutEventsRequestEntry[]) => Promise<number>;

export interface EmailStatusNotifierDeps {
    /** Name (or ARN) of the status-change bus. */
    eventBusName: string;
    publish: StatusEventPublisher;
    /** Powertools logger; given ids and counts only. */
    logger?: powertools.Logger;
    /** @default EMF metrics for service `email-status-notify` */
    metrics?: metricsLib.Metrics;
}

export type EmailStatusNotifierHandler = (event: DynamoDBStreamEvent, context?: Context) => Promise<DynamoDBBatchResponse>;

type Image = Record<string, { S?: string; N?: string; L?: unknown[]; M?: Record<string, unknown> }>;

const isStatus = (value: unknown): value is EmailStatus => typeof value === "string" && EMAIL_STATUS_NAMES.includes(value as EmailStatus);

/**
 * The status change a stream record stands for, or undefined: a removal (TTL), a suppression-list
 * item, an item without owner or status, or a write that left the status as it was.
 */
export function statusChangeOf(record: DynamoDBRecord): StatusChange | undefined {
    const stream = record.dynamodb;
    if ((record.eventName !== "INSERT" && record.eventName !== "MODIFY") || !stream?.NewImage || !stream.SequenceNumber) return undefined;
    const image = stream.NewImage as Image;
    const emailId = image[EMAIL_STATUS_TABLE_KEYS.partition]?.S;
    const owner = image.owner?.S;
    const status = image.status?.S;
    // EMAIL_ID_PATTERN has no `#`: `suppressed#<hash>` items never pass.
    if (!emailId || !EMAIL_ID_PATTERN.test(emailId) || !owner || !isStatus(status)) return undefined;
    const previous = (stream.OldImage as Image | undefined)?.status?.S;
    if (previous === status) return undefined;
    const history = (image.history?.L ?? []).map((value) => entryOf(value as Parameters<typeof entryOf>[0]));
    const entry = [...history].reverse().find((candidate) => candidate?.status === status);
    const detail: StatusChangeDetail = {
        version: EMAIL_STATUS_CHANGE_EVENT.version,
        emailId,
        owner,
        status,
        rank: EMAIL_STATUSES[status].rank,
        ...(isStatus(previous) ? { previousStatus: previous } : {}),
        at: entry?.at ?? image.updatedAt?.S ?? new Date(0).toISOString(),
    };
    for (const name of DETAIL_FIELDS) {
        const value = entry?.[name];
        if (value) detail[name] = value;
    }
    return { sequenceNumber: stream.SequenceNumber, detail };
}

/** The PutEvents entry of a change. */
export function statusChangeEntry(eventBusName: string, change: StatusChange): eventbridge.PutEventsRequestEntry {
    const time = new Date(change.detail.at);
    return {
        EventBusName: eventBusName,
        Source: EMAIL_STATUS_CHANGE_EVENT.source,
        DetailType: EMAIL_STATUS_CHANGE_EVENT.detailType,
        Detail: JSON.stringify(change.detail),
        ...(Number.isNaN(time.getTime()) ? {} : { Time: time }),
    };
}

/**
 * PutEvents through an EventBridge client. An entry with an `ErrorCode` was not taken
 * (EventBridge answers per entry: a request can succeed while some entries fail).
 *
 * @example
 * const publish = eventBridgePublisher(new EventBridgeClient({}));
 */
export function eventBridgePublisher(client: Pick<eventbridge.EventBridgeClient, "send">): StatusEventPublisher {
    return async (entries) => {
        const result = await client.send(new (eventBridgeSdk().PutEventsCommand)({ Entries: entries }));
        if (!result.FailedEntryCount) return -1;
        const failed = (result.Entries ?? []).findIndex((entry) => Boolean(entry.ErrorCode) || !entry.EventId);
        return failed < 0 ? 0 : failed;
    };
}

/**
 * Builds the notify function's handler (a DynamoDB stream event source mapping with ReportBatchItemFailures).
 * Changes are published in stream order, ten at a time; at the first one not taken it stops and reports
 * that record, so Lambda retries from it and no change of an email overtakes an earlier one.
 *
 * @example
 * export const handler = createEmailStatusNotifier({ eventBusName, publish: eventBridgePublisher(client) });
 */
export function createEmailStatusNotifier(deps: EmailStatusNotifierDeps): EmailStatusNotifierHandler {
    const logger = deps.logger ?? new powertools.Logger({ serviceName: EMAIL_SERVICE_NAMES.notify });
    const metrics = deps.metrics ?? emailMetrics(EMAIL_SERVICE_NAMES.notify);
    return async (event, context) => {
        if (context) logger.addContext(context);
        const changes = (event.Records ?? []).map(statusChangeOf).filter((change): change is StatusChange => change !== undefined);
        let published = 0;
        try {
            for (let start = 0; start < changes.length; start += PUT_EVENTS_MAX_ENTRIES) {
                const chunk = changes.slice(start, start + PUT_EVENTS_MAX_ENTRIES);
                let failedAt: number;
                try {
                    failedAt = await deps.publish(chunk.map((change) => statusChangeEntry(deps.eventBusName, change)));
                } catch (error) {
                    logger.error("status changes not published", describeError(error));
                    failedAt = 0;
                }
                published += failedAt < 0 ? chunk.length : failedAt;
                if (failedAt >= 0) {
                    const first = chunk[failedAt];
                    count(metrics, EMAIL_METRICS.statusChangesNotPublished, changes.length - published);
                    logger.warn("status changes to retry", {
                        emailId: first.detail.emailId,
                        status: first.detail.status,
                        remaining: changes.length - published,
                    });
                    return { batchItemFailures: [{ itemIdentifier: first.sequenceNumber }] };
                }
            }
            return { batchItemFailures: [] };
        } finally {
            if (published > 0) count(metrics, EMAIL_METRICS.statusChangesPublished, published);
            logger.info("status changes published", { records: event.Records?.length ?? 0, published });
            metrics.publishStoredMetrics();
        }
    };
}
