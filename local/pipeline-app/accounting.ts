/**
 * Proves where every demo event ended up: stored exactly once and delivered once
 * through the stream, acknowledged as a duplicate, or in the DLQ with the reason
 * it was sent for. Reads the emulators directly (fauxqs' inspection endpoint lists
 * DLQ messages without receiving them, so inspecting never changes the outcome).
 */
import {
    BatchGetItemCommand,
    type BatchGetItemCommandInput,
    type BatchGetItemCommandOutput,
    DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import type { Delivery } from "./services/stream-sender";
import type { SampleMessage } from "./sample-traffic";
import { EVENT_DEAD_LETTER_ATTRIBUTES } from "../../contracts/event-pipeline";

export interface SentMessage extends SampleMessage {
    messageId: string;
    sentAt: number;
}

/** A DLQ message read through fauxqs' inspection endpoint: seen without being received (its receive count unchanged). */
export interface PeekedDeadLetter {
    body: string;
    reason?: string;
    detail?: string;
}

export interface Summary {
    sent: number;
    persisted: number;
    expectedPersisted: number;
    duplicates: number;
    rejected: Record<string, number>;
    inDeadLetterQueue: number;
    deliveredThroughStream: number;
    latencyMs: { p50: number | null; p99: number | null; max: number | null; samples: number };
    queue: { visible: number; inFlight: number };
    /** every problem that keeps the run from being fully accounted for */
    unaccounted: string[];
    accounted: boolean;
}

/** Nearest-rank percentile of sorted numbers. */
export function percentile(sorted: readonly number[], percent: number): number | null {
    if (sorted.length === 0) return null;
    const rank = Math.ceil((percent / 100) * sorted.length);
    return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

interface FauxqsMessage {
    body: string;
    messageAttributes?: Record<string, { StringValue?: string; stringValue?: string }>;
}

/** Messages in a fauxqs queue (ready + in flight + delayed), without receiving them. */
export async function inspectQueue(
    sqsEndpoint: string,
    queueName: string,
): Promise<{ ready: FauxqsMessage[]; inflight: FauxqsMessage[]; delayed: FauxqsMessage[] }> {
    const response = await fetch(`${sqsEndpoint}/_fauxqs/queues/${encodeURIComponent(queueName)}`);
    if (!response.ok) throw new Error(`fauxqs inspection of ${queueName} failed: HTTP ${response.status}`);
    const json = (await response.json()) as {
        messages: { ready: FauxqsMessage[]; delayed: FauxqsMessage[]; inflight: Array<{ message: FauxqsMessage }> };
    };
    return { ready: json.messages.ready, delayed: json.messages.delayed, inflight: json.messages.inflight.map((entry) => entry.message) };
}

export async function deadLetters(sqsEndpoint: string, queueName: string): Promise<PeekedDeadLetter[]> {
    const { ready, inflight, delayed } = await inspectQueue(sqsEndpoint, queueName);
    const attribute = (message: FauxqsMessage, name: string) =>
        message.messageAttributes?.[name]?.StringValue ?? message.messageAttributes?.[name]?.stringValue;
    return [...ready, ...inflight, ...delayed].map((message) => ({
        body: message.body,
        reason: attribute(message, EVENT_DEAD_LETTER_ATTRIBUTES.reason),
        detail: attribute(message, EVENT_DEAD_LETTER_ATTRIBUTES.detail),
    }));
}

async function storedKeys(
    dynamodb: DynamoDBClient,
    tableName: string,
    keys: Array<{ clientId: string; eventId: string }>,
): Promise<Set<string>> {
    const found = new Set<string>();
    for (let i = 0; i < keys.length; i += 100) {
        let request: BatchGetItemCommandInput["RequestItems"] = {
            [tableName]: {
                Keys: keys.slice(i, i + 100).map((key) => ({ clientId: { S: key.clientId }, eventId: { S: key.eventId } })),
                ProjectionExpression: "clientId, eventId",
            },
        };
        while (request && Object.keys(request).length) {
            const page: BatchGetItemCommandOutput = await dynamodb.send(new BatchGetItemCommand({ RequestItems: request }));
            for (const item of page.Responses?.[tableName] ?? []) found.add(`${item.clientId?.S}/${item.eventId?.S}`);
            request = page.UnprocessedKeys;
        }
    }
    return found;
}

/**
 * @example
 * const summary = await account({ sent, deliveries, dynamodb, tableName, sqsEndpoint, queueName, deadLetterQueueName });
 * if (!summary.accounted) console.error(summary.unaccounted);
 */
export async function account(input: {
    sent: readonly SentMessage[];
    deliveries: readonly Delivery[];
    dynamodb: DynamoDBClient;
    tableName: string;
    sqsEndpoint: string;
    queueName: string;
    deadLetterQueueName: string;
}): Promise<Summary> {
    const unaccounted: string[] = [];
    // Snapshot the stream first, so a progress line never shows more streamed than stored.
    const deliveries = [...input.deliveries];
    const valid = input.sent.filter((sent) => sent.expect.kind === "persisted");
    const keys = valid.map((sent) => sent.expect as { clientId: string; eventId: string });
    const stored = await storedKeys(input.dynamodb, input.tableName, keys);
    // Only this run's messages: a long-running `npm run local` DLQ may hold earlier ones.
    const sentBodies = new Set(input.sent.map((sent) => sent.body));
    const letters = (await deadLetters(input.sqsEndpoint, input.deadLetterQueueName)).filter((letter) => sentBodies.has(letter.body));
    const queue = await inspectQueue(input.sqsEndpoint, input.queueName);

    const sentAt = new Map(valid.map((sent, index) => [`${keys[index].clientId}/${keys[index].eventId}`, sent.sentAt]));
    const inserts = new Map<string, number>();
    const firstSeen = new Map<string, number>();
    for (const delivery of deliveries) {
        const key = `${delivery.clientId}/${delivery.eventId}`;
        if (!sentAt.has(key)) continue;
        if (delivery.eventName !== "INSERT")
            unaccounted.push(`${key}: unexpected ${delivery.eventName} on the stream (an event was changed after it was stored)`);
        inserts.set(key, (inserts.get(key) ?? 0) + 1);
        if (!firstSeen.has(key)) firstSeen.set(key, delivery.seenAt);
    }
    for (const key of sentAt.keys()) {
        if (!stored.has(key)) unaccounted.push(`${key}: valid event not stored`);
        const count = inserts.get(key) ?? 0;
        if (count !== 1) unaccounted.push(`${key}: delivered ${count} times through the stream (expected once)`);
    }

    const rejected: Record<string, number> = {};
    for (const letter of letters)
        rejected[letter.reason ?? "(no reason: redriven after maxReceiveCount)"] =
            (rejected[letter.reason ?? "(no reason: redriven after maxReceiveCount)"] ?? 0) + 1;
    const expectedRejections: Record<string, number> = {};
    for (const sentMessage of input.sent)
        if (sentMessage.expect.kind === "rejected")
            expectedRejections[sentMessage.expect.reason] = (expectedRejections[sentMessage.expect.reason] ?? 0) + 1;
    for (const reason of new Set([...Object.keys(rejected), ...Object.keys(expectedRejections)])) {
        if ((rejected[reason] ?? 0) !== (expectedRejections[reason] ?? 0)) {
            unaccounted.push(
                `DLQ holds ${rejected[reason] ?? 0} message(s) with reason ${reason}, expected ${expectedRejections[reason] ?? 0}`,
            );
        }
    }
    const duplicatesSent = input.sent.filter((sent) => sent.expect.kind === "duplicate");
    const duplicateBodies = new Set(duplicatesSent.map((sent) => sent.body));
    const dlqDuplicates = letters.filter((letter) => duplicateBodies.has(letter.body) && letter.reason !== "conflicting_duplicate").length;
    if (dlqDuplicates) unaccounted.push(`${dlqDuplicates} exact duplicate(s) ended in the DLQ instead of being acknowledged`);
    const left = queue.ready.length + queue.inflight.length + queue.delayed.length;
    if (left) unaccounted.push(`${left} message(s) still on the event queue`);

    const latencies = [...firstSeen].map(([key, seen]) => seen - sentAt.get(key)!).sort((first, second) => first - second);
    const persisted = [...sentAt.keys()].filter((key) => stored.has(key)).length;
    return {
        sent: input.sent.length,
        persisted,
        expectedPersisted: sentAt.size,
        duplicates: duplicatesSent.length - dlqDuplicates,
        rejected,
        inDeadLetterQueue: letters.length,
        deliveredThroughStream: [...inserts.values()].reduce((total, count) => total + count, 0),
        latencyMs: {
            p50: percentile(latencies, 50),
            p99: percentile(latencies, 99),
            max: latencies.at(-1) ?? null,
            samples: latencies.length,
        },
        queue: { visible: queue.ready.length + queue.delayed.length, inFlight: queue.inflight.length },
        unaccounted,
        accounted: unaccounted.length === 0,
    };
}

/** Rows as an aligned two-column text table. */
export function formatTable(rows: ReadonlyArray<readonly [string, string]>): string {
    const width = Math.max(...rows.map(([key]) => key.length));
    const valueWidth = Math.max(...rows.map(([, value]) => value.length));
    const line = `+${"-".repeat(width + 2)}+${"-".repeat(valueWidth + 2)}+`;
    return [line, ...rows.map(([key, value]) => `| ${key.padEnd(width)} | ${value.padStart(valueWidth)} |`), line].join("\n");
}

/** The summary as an aligned text table. */
export function formatSummary(summary: Summary): string {
    const rows: Array<[string, string]> = [
        ["sent", String(summary.sent)],
        ["persisted (exactly once)", `${summary.persisted} / ${summary.expectedPersisted}`],
        ["duplicates acknowledged", String(summary.duplicates)],
        ...Object.entries(summary.rejected)
            .sort(([left], [right]) => left.localeCompare(right))
            .map(([reason, count]): [string, string] => [`rejected: ${reason}`, String(count)]),
        ["in the DLQ", String(summary.inDeadLetterQueue)],
        ["delivered through the stream", String(summary.deliveredThroughStream)],
        ["latency p50 (enqueue -> stream)", summary.latencyMs.p50 === null ? "n/a" : `${summary.latencyMs.p50} ms`],
        ["latency p99 (enqueue -> stream)", summary.latencyMs.p99 === null ? "n/a" : `${summary.latencyMs.p99} ms`],
        ["left on the event queue", String(summary.queue.visible + summary.queue.inFlight)],
        ["every event accounted for", summary.accounted ? "yes" : "NO"],
    ];
    return formatTable(rows);
}
