/**
 * Sends permanently rejected messages to the DLQ at once, with the reason as
 * message attributes, so they are never retried. SendMessageBatch takes at most
 * 10 entries and one message's worth of bytes per call, so rejections are
 * chunked on both. Whatever fails to send is reported back: the caller must not
 * acknowledge it (nothing is ever lost).
 *
 * A reject never loses its reason: SQS counts every attribute's name, data type and
 * value toward the message size ("Amazon SQS message attributes", SQS Developer Guide;
 * MessageAttributeValue in the SQS API Reference), so a body at the source queue's limit
 * plus the three reason attributes would not fit a DLQ of the same size. The DLQ is
 * therefore created at SQS's maximum (1 MiB) and the source queue's limit is capped
 * `EVENT_DEAD_LETTER_RESERVED_BYTES` (contracts/event-pipeline.ts) below it: the body moves to the DLQ byte for byte,
 * with its reason, whatever its size. No side store, no pointer, nothing to clean up.
 */
import { SendMessageBatchCommand, SendMessageBatchRequestEntry, SQSClient } from "@aws-sdk/client-sqs";
import {
    EVENT_DEAD_LETTER_ATTRIBUTES,
    EVENT_DEAD_LETTER_MAX_DETAIL_BYTES,
    EVENT_DEAD_LETTER_MAX_SOURCE_ID_BYTES,
    type EventRejectionReason,
} from "../../contracts/event-pipeline";
import type { RejectedRecord } from "../shared/rejected-record";
import { senderClaimAttributes, type SenderClaim } from "./sender-claim";

/** A rejected event on its way to the DLQ; on a stack with producers, with its first sender's signed claim. */
export type RejectedEvent = RejectedRecord<EventRejectionReason> & { readonly claim?: SenderClaim };

const MAX_ENTRIES_PER_CALL = 10;
/** SQS's request limit for SendMessageBatch (the sum of all entries), equal to its largest message: 1 MiB. */
const MAX_BYTES_PER_CALL = 1_048_576;

/** Cuts text to at most `maxBytes` of UTF-8 without splitting a character. */
function truncateUtf8(text: string, maxBytes: number): string {
    if (Buffer.byteLength(text, "utf8") <= maxBytes) return text;
    let cut = "";
    for (const char of text) {
        if (Buffer.byteLength(cut + char, "utf8") > maxBytes) break;
        cut += char;
    }
    return cut;
}

/**
 * The DLQ entry for a rejected event: the body as received, the tenant's group, the reason attributes
 * and, when the letter has one, its first sender's claim (sender-claim.ts).
 *
 * @example
 * const entry = entryFor({ record, reason: "unknown_type", detail: "type is not a registered event type" }, "m0");
 */
export function entryFor(letter: RejectedEvent, id: string): SendMessageBatchRequestEntry {
    const groupId = letter.record.attributes?.MessageGroupId;
    return {
        Id: id,
        MessageBody: letter.record.body,
        // Keep the tenant's fair-queue group, as the source message had it.
        ...(groupId ? { MessageGroupId: groupId } : {}),
        MessageAttributes: {
            [EVENT_DEAD_LETTER_ATTRIBUTES.reason]: { DataType: "String", StringValue: letter.reason },
            [EVENT_DEAD_LETTER_ATTRIBUTES.detail]: {
                DataType: "String",
                StringValue: truncateUtf8(letter.detail, EVENT_DEAD_LETTER_MAX_DETAIL_BYTES) || "-",
            },
            [EVENT_DEAD_LETTER_ATTRIBUTES.sourceMessageId]: {
                DataType: "String",
                StringValue: truncateUtf8(String(letter.record.messageId), EVENT_DEAD_LETTER_MAX_SOURCE_ID_BYTES) || "-",
            },
            ...(letter.claim ? senderClaimAttributes(letter.claim) : {}),
        },
    };
}

/**
 * A message's size as SQS counts it: the body plus every attribute's name, data type and value, in UTF-8 bytes.
 *
 * @example
 * entryBytes(entryFor(letter, "m0")) <= 1_048_576;
 */
export function entryBytes(entry: Pick<SendMessageBatchRequestEntry, "MessageBody" | "MessageAttributes">): number {
    let bytes = Buffer.byteLength(entry.MessageBody ?? "", "utf8");
    for (const [name, value] of Object.entries(entry.MessageAttributes ?? {})) {
        bytes +=
            Buffer.byteLength(name, "utf8") +
            Buffer.byteLength(value.DataType ?? "", "utf8") +
            Buffer.byteLength(value.StringValue ?? "", "utf8");
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
export async function sendToDeadLetterQueue(
    sqs: SQSClient,
    queueUrl: string,
    letters: readonly RejectedEvent[],
): Promise<Map<number, string>> {
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
                const settled = new Set([
                    ...(response.Successful ?? []).map((success) => success.Id),
                    ...(response.Failed ?? []).map((failure) => failure.Id),
                ]);
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
