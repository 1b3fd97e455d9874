/**
 * `npm start`'s demo traffic: sends the sample through the real SQS API (as a
 * producer would, MessageGroupId = clientId), shows progress, and waits until every
 * event is accounted for (or the deadline passes), then returns the summary.
 */
import { SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import { account, SentMessage, Summary } from "./accounting";
import type { LocalPipeline } from "./pipeline";
import { generateSampleTraffic, SampleMessage } from "./sample-traffic";

export interface DemoOptions {
    clients: number;
    eventsPerClient: number;
    timeoutSeconds: number;
    progress?: (line: string) => void;
}

/** Sends messages with SendMessageBatch, a few batches in flight; returns them with their send times. */
export async function sendMessages(
    pipeline: LocalPipeline,
    messages: readonly SampleMessage[],
    onSent?: (count: number) => void,
): Promise<SentMessage[]> {
    const { sqs } = pipeline.context.clients;
    const sent: SentMessage[] = [];
    const batches: SampleMessage[][] = [];
    for (let i = 0; i < messages.length; i += 10) batches.push(messages.slice(i, i + 10));
    let next = 0;
    const worker = async () => {
        while (next < batches.length) {
            const batch = batches[next++];
            const sentAt = Date.now();
            const result = await sqs.send(
                new SendMessageBatchCommand({
                    QueueUrl: pipeline.ready.eventQueueUrl,
                    Entries: batch.map((message, index) => ({
                        Id: String(index),
                        MessageBody: message.body,
                        MessageGroupId: message.messageGroupId,
                    })),
                }),
            );
            if (result.Failed?.length)
                throw new Error(`SendMessageBatch refused ${result.Failed.length} message(s): ${result.Failed[0].Message}`);
            for (const ok of result.Successful ?? []) sent.push({ ...batch[Number(ok.Id)], messageId: ok.MessageId!, sentAt });
            onSent?.(sent.length);
        }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    return sent;
}

function queueName(url: string): string {
    return url.split("/").pop()!;
}

/** Accounts for `sent` against the pipeline's table, stream deliveries and queues. */
export function accountFor(pipeline: LocalPipeline, sent: readonly SentMessage[]): Promise<Summary> {
    return account({
        sent,
        deliveries: pipeline.sender?.delivered ?? [],
        dynamodb: pipeline.context.clients.dynamodb,
        tableName: pipeline.ready.eventTableName,
        sqsEndpoint: pipeline.ready.sqsEndpoint,
        queueName: queueName(pipeline.ready.eventQueueUrl),
        deadLetterQueueName: queueName(pipeline.ready.deadLetterQueueUrl),
    });
}

/**
 * @example
 * const summary = await runDemo(pipeline, { clients: 4, eventsPerClient: 20, timeoutSeconds: 45 });
 */
export async function runDemo(pipeline: LocalPipeline, options: DemoOptions): Promise<Summary> {
    const progress = options.progress ?? (() => undefined);
    const enabledTypes = pipeline.eventProcessor?.environment.ENABLED_EVENT_TYPES?.split(",").filter(Boolean);
    const messages = generateSampleTraffic({ clients: options.clients, eventsPerClient: options.eventsPerClient, enabledTypes });
    const deadline = Date.now() + options.timeoutSeconds * 1000;
    const phase1 = messages.filter((message) => message.phase === 1);
    const phase2 = messages.filter((message) => message.phase === 2);
    progress(
        `[demo] sending ${phase1.length} events from ${options.clients} tenants (${phase1.filter((message) => message.expect.kind === "rejected").length} invalid, one per reason)`,
    );

    const sent = await sendMessages(pipeline, phase1);
    let summary = await settleAccounting(pipeline, sent, {
        deadline,
        progress,
        done: (current) =>
            current.persisted === current.expectedPersisted &&
            current.deliveredThroughStream >= current.expectedPersisted &&
            current.queue.visible + current.queue.inFlight === 0,
    });
    progress(`[demo] sending ${phase2.length} producer retries (duplicates, and one conflicting duplicate)`);
    sent.push(...(await sendMessages(pipeline, phase2)));
    summary = await settleAccounting(pipeline, sent, { deadline, progress });
    return summary;
}

/**
 * Polls {@link accountFor} until `done` holds (by default: every message accounted for) or the deadline
 * passes, and returns the last summary: the caller's assertions then say what is missing.
 *
 * @example
 * const summary = await settleAccounting(pipeline, sent, { deadline: Date.now() + 30_000 });
 */
export async function settleAccounting(
    pipeline: LocalPipeline,
    sent: readonly SentMessage[],
    options: { deadline: number; done?: (summary: Summary) => boolean; progress?: (line: string) => void },
): Promise<Summary> {
    const done = options.done ?? ((summary: Summary) => summary.accounted);
    let lastPrinted = 0;
    for (;;) {
        const summary = await accountFor(pipeline, sent);
        if (done(summary) || Date.now() > options.deadline) return summary;
        if (options.progress && Date.now() - lastPrinted >= 1000) {
            lastPrinted = Date.now();
            options.progress(
                `[demo] sent ${summary.sent} | persisted ${summary.persisted}/${summary.expectedPersisted} | on the stream ${summary.deliveredThroughStream} | DLQ ${summary.inDeadLetterQueue} | queue ${summary.queue.visible} waiting, ${summary.queue.inFlight} in flight`,
            );
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
    }
}
