/**
 * Sends permanently rejected messages to the DLQ at once, with the reason as
 * message attributes, so they are never retried. SendMessageBatch takes at most
 * 10 entries and one message's worth of bytes per call, so rejections are
 * chunked on both. Whatever fails to send is reported back: the caller must not
 * acknowledge it (nothing is ever lost).
 */
import { SendMessageBatchCommand, SendMessageBatchRequestEntry, SQSClient } from "@aws-sdk/client-sqs";
import type { SQSRecord } from "aws-lambda";
import type { RejectionReason } from "./errors";

/** A message on its way to the DLQ. */
export interface DeadLetter {
    readonly record: SQSRecord;
    readonly reason: RejectionReason;
    readonly detail: string;
}

/** DLQ message attribute names (a contract with whoever drains the DLQ). */
export const DEAD_LETTER_ATTRIBUTES = {
    reason: "rejectionReason",
    detail: "rejectionDetail",
    sourceMessageId: "sourceMessageId",
} as const;

const MAX_ENTRIES_PER_CALL = 10;
// The smallest SQS request size limit in use (256 KiB); a queue configured for 1 MiB still accepts this.
const MAX_BYTES_PER_CALL = 256 * 1024;
const MAX_DETAIL_LENGTH = 256;

function entryFor(letter: DeadLetter, id: string): SendMessageBatchRequestEntry {
    const groupId = letter.record.attributes?.MessageGroupId;
    return {
        Id: id,
        MessageBody: letter.record.body,
        // Keep the tenant's fair-queue group, as the source message had it.
        ...(groupId ? { MessageGroupId: groupId } : {}),
        MessageAttributes: {
            [DEAD_LETTER_ATTRIBUTES.reason]: { DataType: "String", StringValue: letter.reason },
            [DEAD_LETTER_ATTRIBUTES.detail]: { DataType: "String", StringValue: letter.detail.slice(0, MAX_DETAIL_LENGTH) || "-" },
            [DEAD_LETTER_ATTRIBUTES.sourceMessageId]: { DataType: "String", StringValue: letter.record.messageId },
        },
    };
}

function entryBytes(entry: SendMessageBatchRequestEntry): number {
    let bytes = Buffer.byteLength(entry.MessageBody ?? "", "utf8");
    for (const [name, value] of Object.entries(entry.MessageAttributes ?? {})) {
        bytes += name.length + (value.DataType?.length ?? 0) + Buffer.byteLength(value.StringValue ?? "", "utf8");
    }
    return bytes;
}

/**
 * Sends the letters; resolves to the indexes (into `letters`) of those that could NOT be sent, with why.
 * Never rejects.
 *
 * @example
 * const failed = await sendToDeadLetterQueue(sqs, dlqUrl, [{ record, reason: "unknown_type", detail: "type not registered" }]);
 * if (failed.has(0)) { ... return it in batchItemFailures ... }
 */
export async function sendToDeadLetterQueue(sqs: SQSClient, queueUrl: string, letters: readonly DeadLetter[]): Promise<Map<number, string>> {
    const failed = new Map<number, string>();
    const chunks: { entries: SendMessageBatchRequestEntry[]; letterIndexes: number[] }[] = [];
    let current: (typeof chunks)[number] = { entries: [], letterIndexes: [] };
    let currentBytes = 0;
    letters.forEach((letter, index) => {
        const entry = entryFor(letter, `m${index}`);
        const bytes = entryBytes(entry);
        if (current.entries.length > 0 && (current.entries.length === MAX_ENTRIES_PER_CALL || currentBytes + bytes > MAX_BYTES_PER_CALL)) {
            chunks.push(current);
            current = { entries: [], letterIndexes: [] };
            currentBytes = 0;
        }
        current.entries.push(entry);
        current.letterIndexes.push(index);
        currentBytes += bytes;
    });
    if (current.entries.length > 0) chunks.push(current);

    await Promise.all(
        chunks.map(async ({ entries, letterIndexes }) => {
            try {
                const response = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
                for (const failure of response.Failed ?? []) {
                    const index = entries.findIndex((entry) => entry.Id === failure.Id);
                    if (index >= 0) failed.set(letterIndexes[index], `SQS ${failure.Code ?? "error"}`);
                }
                // Anything neither successful nor failed is treated as not sent.
                const settled = new Set([...(response.Successful ?? []).map((s) => s.Id), ...(response.Failed ?? []).map((f) => f.Id)]);
                entries.forEach((entry, index) => {
                    if (!settled.has(entry.Id)) failed.set(letterIndexes[index], "SQS did not confirm the send");
                });
            } catch (error) {
                const name = (error as Error)?.name ?? "UnknownError";
                for (const letterIndex of letterIndexes) failed.set(letterIndex, `SQS ${name}`);
            }
        }),
    );
    return failed;
}
