/**
 * The shape both systems give a message on its way to their dead-letter queue,
 * before it becomes a DLQ message with the reason attributes of their contract
 * (contracts/event-pipeline.ts, contracts/email-service.ts).
 */
import type { SQSRecord } from "aws-lambda";

/**
 * A received message rejected for good: the record as received, why (a reason code of its
 * system's contract) and a short, payload-free detail.
 *
 * @example
 * const rejected: RejectedRecord<EventRejectionReason> = { record, reason: "unknown_type", detail: "type is not a registered event type" };
 */
export interface RejectedRecord<Reason extends string> {
    readonly record: SQSRecord;
    readonly reason: Reason;
    readonly detail: string;
}
