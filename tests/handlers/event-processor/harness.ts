/**
 * Emulator harness for the event processor tests: DynamoDB Local + fauxqs, a
 * fresh table and DLQ per scenario, and readers for what ended up where.
 */
import { CreateTableCommand, DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import {
    CreateQueueCommand,
    DeleteMessageBatchCommand,
    ReceiveMessageCommand,
    SQSClient,
    type SendMessageBatchRequestEntry,
} from "@aws-sdk/client-sqs";
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import * as crypto from "node:crypto";
import { Emulator, LOCAL_CREDENTIALS, sharedEmulators } from "../../../local/offline/emulators";

export const REGION = "eu-west-1";

export interface DeadLetteredMessage {
    body: string;
    reason?: string;
    detail?: string;
    sourceMessageId?: string;
    messageGroupId?: string;
}

export interface Harness {
    dynamo: Emulator;
    sqsEmulator: Emulator;
    dynamodb: DynamoDBClient;
    sqs: SQSClient;
    /** A new event table (clientId/eventId keys), or one with `keys` for misconfiguration tests. */
    createTable(keys?: { partition: string; sort?: string }): Promise<string>;
    /** A new standard queue accepting 1 MiB messages, like the deployed DLQ. */
    createQueue(): Promise<string>;
    scan(tableName: string): Promise<Record<string, any>[]>;
    /** Receives and deletes every message on the queue. */
    drain(queueUrl: string): Promise<DeadLetteredMessage[]>;
    stop(): Promise<void>;
}

let counter = 0;
/** Unique in the shared emulators, even across files (a mock deployment reloads this module and resets the counter). */
const run = crypto.randomUUID().slice(0, 8);
const name = (prefix: string) => `${prefix}-${run}-${++counter}`;

/** Clients on this process's shared DynamoDB Local and fauxqs (`sharedEmulators`), and fresh tables and queues on them. */
export async function startHarness(): Promise<Harness> {
    const { dynamodb: dynamo, sqs: sqsEmulator } = await sharedEmulators();
    const dynamodb = new DynamoDBClient({ endpoint: dynamo.endpoint, region: REGION, credentials: LOCAL_CREDENTIALS });
    const sqs = new SQSClient({ endpoint: sqsEmulator.endpoint, region: REGION, credentials: LOCAL_CREDENTIALS });
    return {
        dynamo,
        sqsEmulator,
        dynamodb,
        sqs,
        async createTable(keys = { partition: "clientId", sort: "eventId" }) {
            const tableName = name("events");
            const attributes = [keys.partition, ...(keys.sort ? [keys.sort] : [])];
            await dynamodb.send(
                new CreateTableCommand({
                    TableName: tableName,
                    BillingMode: "PAY_PER_REQUEST",
                    AttributeDefinitions: attributes.map((a) => ({ AttributeName: a, AttributeType: "S" })),
                    KeySchema: [
                        { AttributeName: keys.partition, KeyType: "HASH" },
                        ...(keys.sort ? [{ AttributeName: keys.sort, KeyType: "RANGE" as const }] : []),
                    ],
                }),
            );
            return tableName;
        },
        async createQueue() {
            const { QueueUrl } = await sqs.send(
                new CreateQueueCommand({ QueueName: name("dlq"), Attributes: { MaximumMessageSize: String(1024 * 1024) } }),
            );
            return QueueUrl!;
        },
        async scan(tableName) {
            const items: Record<string, any>[] = [];
            let start: Record<string, any> | undefined;
            do {
                const page = await dynamodb.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start, ConsistentRead: true }));
                items.push(...(page.Items ?? []));
                start = page.LastEvaluatedKey;
            } while (start);
            return items;
        },
        async drain(queueUrl) {
            const messages: DeadLetteredMessage[] = [];
            for (;;) {
                const { Messages = [] } = await sqs.send(
                    new ReceiveMessageCommand({
                        QueueUrl: queueUrl,
                        MaxNumberOfMessages: 10,
                        WaitTimeSeconds: 0,
                        MessageAttributeNames: ["All"],
                        MessageSystemAttributeNames: ["All"],
                    }),
                );
                if (Messages.length === 0) return messages;
                for (const m of Messages) {
                    messages.push({
                        body: m.Body ?? "",
                        reason: m.MessageAttributes?.rejectionReason?.StringValue,
                        detail: m.MessageAttributes?.rejectionDetail?.StringValue,
                        sourceMessageId: m.MessageAttributes?.sourceMessageId?.StringValue,
                        messageGroupId: (m.Attributes as Record<string, string> | undefined)?.MessageGroupId,
                    });
                }
                await sqs.send(
                    new DeleteMessageBatchCommand({
                        QueueUrl: queueUrl,
                        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
                    }),
                );
            }
        },
        /** Closes the clients; the shared emulators stay up for the next file. */
        async stop() {
            dynamodb.destroy();
            sqs.destroy();
        },
    };
}

/** Logger and Metrics that write nowhere (tests that assert on output capture stdout instead). */
export function quietObservability(): { logger: Logger; metrics: Metrics } {
    return { logger: new Logger({ logLevel: "SILENT" }), metrics: silentMetrics() };
}

function silentMetrics(): Metrics {
    const metrics = new Metrics({ namespace: "Tests", serviceName: "event-processor" });
    // No public "disable" option besides POWERTOOLS_METRICS_DISABLED (process-wide); swallow the EMF line instead.
    (metrics as unknown as { publishStoredMetrics(): void }).publishStoredMetrics = function () {
        (this as unknown as { clearMetrics(): void }).clearMetrics();
    };
    (metrics as unknown as { singleMetric(): Metrics }).singleMetric = () => silentMetrics();
    return metrics;
}

/** Runs `fn` with process.stdout and process.stderr captured (Lambda sends both to CloudWatch); returns the lines written. */
export async function captureOutput<T>(fn: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
    const streams = [process.stdout, process.stderr];
    const originals = streams.map((stream) => stream.write);
    let text = "";
    for (const stream of streams) {
        (stream as unknown as { write: (chunk: unknown) => boolean }).write = (chunk: unknown) => {
            text += String(chunk);
            return true;
        };
    }
    try {
        const result = await fn();
        return { result, lines: text.split("\n").filter((line) => line.trim() !== "") };
    } finally {
        streams.forEach((stream, i) => (stream.write = originals[i]));
    }
}

/** A DynamoDB and an SQS client that accept everything and record the calls (decisions are what these tests check). */
export function recordingClients() {
    const puts: Record<string, unknown>[] = [];
    const letters: SendMessageBatchRequestEntry[] = [];
    const dynamodb = {
        send: async (command: { input: Record<string, unknown> }) => (puts.push(command.input), {}),
    } as unknown as DynamoDBClient;
    const sqs = {
        send: async (command: { input: { Entries: SendMessageBatchRequestEntry[] } }) => {
            letters.push(...command.input.Entries);
            return { Successful: command.input.Entries.map((e) => ({ Id: e.Id })), Failed: [] };
        },
    } as unknown as SQSClient;
    return { dynamodb, sqs, puts, letters };
}
