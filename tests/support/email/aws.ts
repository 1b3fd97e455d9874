/**
 * The email service's AWS resources on the embedded emulators: a high-throughput
 * FIFO queue with a FIFO DLQ (fauxqs), the content bucket (fauxqs S3), the
 * idempotency table and the status table (DynamoDB Local).
 */
import * as crypto from "node:crypto";
import * as ddb from "@aws-sdk/client-dynamodb";
import * as s3 from "@aws-sdk/client-s3";
import * as sqs from "@aws-sdk/client-sqs";
import type { SQSEvent } from "aws-lambda";
import { Emulator, LOCAL_CREDENTIALS, sharedEmulators } from "../../../local/offline/emulators";
import * as sesv2 from "@aws-sdk/client-sesv2";
import type { EmailApiDeps } from "../../../handlers/email/api";
import { s3ContentStore } from "../../../handlers/email/content-store";
import { dynamoDeliveryLedger } from "../../../handlers/email/idempotency";
import { sesProvider } from "../../../handlers/email/providers/ses";
import { dynamoStatusStore } from "../../../handlers/email/status";
import { createEmailWorker, type EmailWorkerDeps, type EmailWorkerHandler } from "../../../handlers/email/worker";

export const REGION = "us-east-1";

export interface EmailStack {
    fauxqs: Emulator;
    dynamo: Emulator;
    sqs: sqs.SQSClient;
    s3: s3.S3Client;
    dynamodb: ddb.DynamoDBClient;
    queueUrl: string;
    queueArn: string;
    deadLetterQueueUrl: string;
    tableName: string;
    statusTableName: string;
    bucket: string;
    stop(): Promise<void>;
}

/** Two callers as API Gateway's IAM authorizer names them: each one's emails are its own. */
export const TENANT_A = "arn:aws:sts::111111111111:assumed-role/TenantA/session-1";
export const TENANT_B = "arn:aws:sts::222222222222:assumed-role/TenantB/session-1";
export const DAY_SECONDS = 86_400;

/**
 * The email API's dependencies on this stack's clients, queue, tables and bucket (statuses kept 30 days).
 *
 * @example
 * const api = createEmailApi(emailApiDeps(stack, { statusTableName: "no-such-table" }));
 */
export function emailApiDeps(stack: EmailStack, overrides: Partial<EmailApiDeps> = {}): EmailApiDeps {
    return {
        sqs: stack.sqs,
        queueUrl: stack.queueUrl,
        dynamodb: stack.dynamodb,
        idempotencyTableName: stack.tableName,
        statusTableName: stack.statusTableName,
        statusRetentionSeconds: 30 * DAY_SECONDS,
        s3: stack.s3,
        contentBucket: stack.bucket,
        ...overrides,
    };
}

/**
 * The email worker on this stack: it sends through the local SES at `sesEndpoint` (one attempt), keeps
 * content in the stack's bucket, its delivery ledger (an hour) and statuses in the stack's tables, and
 * schedules nothing unless `overrides` gives a scheduler.
 *
 * @example
 * const worker = emailWorkerOnStack(stack, ses.endpoint, { suppressions });
 */
export function emailWorkerOnStack(stack: EmailStack, sesEndpoint: string, overrides: Partial<EmailWorkerDeps> = {}): EmailWorkerHandler {
    return createEmailWorker({
        sqs: stack.sqs,
        deadLetterQueueUrl: stack.deadLetterQueueUrl,
        primary: sesProvider({
            client: new sesv2.SESv2Client({ region: REGION, credentials: LOCAL_CREDENTIALS, endpoint: sesEndpoint, maxAttempts: 1 }),
        }),
        contentStore: s3ContentStore(stack.s3, stack.bucket),
        ledger: dynamoDeliveryLedger(stack.dynamodb, stack.tableName, 3600),
        scheduler: { schedule: async () => undefined },
        statuses: dynamoStatusStore(stack.dynamodb, stack.statusTableName),
        ...overrides,
    });
}

/** One worker invocation on what is on the stack's queue now, acknowledged as the event source mapping does. */
export async function runWorkerOnce(stack: EmailStack, handler: EmailWorkerHandler): Promise<void> {
    const batch = await receiveAsEvent(stack.sqs, stack.queueUrl, stack.queueArn);
    const response = await handler(batch);
    await acknowledge(
        stack.sqs,
        stack.queueUrl,
        batch,
        response.batchItemFailures.map((failure) => failure.itemIdentifier),
    );
}

/**
 * An API Gateway HTTP API (payload v2) event for one of the email routes, as IAM authorization
 * delivers it: `userArn` is the caller (undefined: no authorizer context).
 *
 * @example
 * await api(emailApiEvent("DELETE", TENANT_A, { id }));
 */
export function emailApiEvent(
    method: "GET" | "POST" | "DELETE",
    userArn: string | undefined,
    options: { id?: string; body?: unknown; key?: string } = {},
) {
    return {
        version: "2.0",
        routeKey: method === "POST" ? "POST /v1/emails" : `${method} /v1/emails/{id}`,
        rawPath: method === "POST" ? "/v1/emails" : `/v1/emails/${options.id}`,
        rawQueryString: "",
        headers: { "content-type": "application/json", ...(options.key ? { "idempotency-key": options.key } : {}) },
        ...(options.id !== undefined ? { pathParameters: { id: options.id } } : {}),
        requestContext: { http: { method }, requestId: "r", ...(userArn ? { authorizer: { iam: { userArn } } } : {}) },
        ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
        isBase64Encoded: false,
    } as never;
}

/**
 * fauxqs answers queue URLs on `sqs.<region>.localhost`; the SDK prefers a queue
 * URL's host over an endpoint from the environment, and that name may not resolve.
 * Point the URL at the emulator's own address.
 */
export function onEndpoint(queueUrl: string, endpoint: string): string {
    return queueUrl.replace(/^https?:\/\/[^/]+/, endpoint);
}

export async function createFifoQueues(client: sqs.SQSClient, name: string, endpoint?: string) {
    const dlq = await client.send(
        new sqs.CreateQueueCommand({ QueueName: `${name}-dlq.fifo`, Attributes: { FifoQueue: "true", ContentBasedDeduplication: "true" } }),
    );
    const dlqArn = (await client.send(new sqs.GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ["QueueArn"] })))
        .Attributes!.QueueArn!;
    const queue = await client.send(
        new sqs.CreateQueueCommand({
            QueueName: `${name}.fifo`,
            Attributes: {
                FifoQueue: "true",
                ContentBasedDeduplication: "true",
                DeduplicationScope: "messageGroup",
                FifoThroughputLimit: "perMessageGroupId",
                VisibilityTimeout: "1",
                RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 5 }),
            },
        }),
    );
    const queueArn = (await client.send(new sqs.GetQueueAttributesCommand({ QueueUrl: queue.QueueUrl, AttributeNames: ["QueueArn"] })))
        .Attributes!.QueueArn!;
    const at = (url: string) => (endpoint ? onEndpoint(url, endpoint) : url);
    return { queueUrl: at(queue.QueueUrl!), queueArn, deadLetterQueueUrl: at(dlq.QueueUrl!) };
}

export async function createIdempotencyTable(client: ddb.DynamoDBClient, tableName: string): Promise<void> {
    await client.send(
        new ddb.CreateTableCommand({
            TableName: tableName,
            BillingMode: "PAY_PER_REQUEST",
            AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
            KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
        }),
    );
    await client.send(
        new ddb.UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true } }),
    );
}

/** The status table as the component declares it: hash key `emailId`, TTL on `expiresAt`. */
export async function createStatusTable(client: ddb.DynamoDBClient, tableName: string): Promise<void> {
    await client.send(
        new ddb.CreateTableCommand({
            TableName: tableName,
            BillingMode: "PAY_PER_REQUEST",
            AttributeDefinitions: [{ AttributeName: "emailId", AttributeType: "S" }],
            KeySchema: [{ AttributeName: "emailId", KeyType: "HASH" }],
        }),
    );
    await client.send(
        new ddb.UpdateTimeToLiveCommand({ TableName: tableName, TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true } }),
    );
}

/**
 * Creates the resources, under fresh names, on this process's shared fauxqs and DynamoDB Local
 * (`sharedEmulators`: started once per test process). `dynamo: false` leaves DynamoDB unreachable.
 */
export async function startEmailStack(options: { dynamo?: boolean } = {}): Promise<EmailStack> {
    const emulators = await sharedEmulators();
    const fauxqs = emulators.sqs;
    const dynamo = options.dynamo === false ? undefined : emulators.dynamodb;
    const common = { region: REGION, credentials: LOCAL_CREDENTIALS };
    const sqsClient = new sqs.SQSClient({ ...common, endpoint: fauxqs.endpoint });
    const s3Client = new s3.S3Client({ ...common, endpoint: fauxqs.endpoint, forcePathStyle: true });
    const dynamodb = new ddb.DynamoDBClient({ ...common, endpoint: dynamo?.endpoint ?? "http://127.0.0.1:9" });
    const suffix = crypto.randomUUID().slice(0, 8);
    const queues = await createFifoQueues(sqsClient, `email-${suffix}`, fauxqs.endpoint);
    const tableName = `email-idempotency-${suffix}`;
    const statusTableName = `email-status-${suffix}`;
    if (dynamo) await Promise.all([createIdempotencyTable(dynamodb, tableName), createStatusTable(dynamodb, statusTableName)]);
    const bucket = `email-content-${suffix}`;
    await s3Client.send(new s3.CreateBucketCommand({ Bucket: bucket }));
    return {
        fauxqs,
        dynamo: dynamo!,
        sqs: sqsClient,
        s3: s3Client,
        dynamodb,
        ...queues,
        tableName,
        statusTableName,
        bucket,
        /** Closes the clients; the shared emulators stay up for the next file. */
        async stop() {
            sqsClient.destroy();
            s3Client.destroy();
            dynamodb.destroy();
        },
    };
}

/** Receives up to `max` messages as a Lambda SQS event (what the event source mapping would pass). */
export async function receiveAsEvent(
    client: sqs.SQSClient,
    queueUrl: string,
    queueArn: string,
    max = 10,
    waitSeconds = 1,
): Promise<SQSEvent> {
    const result = await client.send(
        new sqs.ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: max,
            WaitTimeSeconds: waitSeconds,
            MessageSystemAttributeNames: ["All"],
            MessageAttributeNames: ["All"],
        }),
    );
    return {
        Records: (result.Messages ?? []).map((m) => ({
            messageId: m.MessageId!,
            receiptHandle: m.ReceiptHandle!,
            body: m.Body!,
            attributes: {
                ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? "1",
                SentTimestamp: m.Attributes?.SentTimestamp ?? String(Date.now()),
                SenderId: m.Attributes?.SenderId ?? "local",
                ApproximateFirstReceiveTimestamp: m.Attributes?.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
                MessageGroupId: m.Attributes?.MessageGroupId,
                MessageDeduplicationId: m.Attributes?.MessageDeduplicationId,
                SequenceNumber: m.Attributes?.SequenceNumber,
            },
            messageAttributes: {},
            md5OfBody: m.MD5OfBody ?? "",
            eventSource: "aws:sqs",
            eventSourceARN: queueArn,
            awsRegion: REGION,
        })),
    };
}

/** Deletes the records the worker did not report as failed (what Lambda's ESM does). */
export async function acknowledge(client: sqs.SQSClient, queueUrl: string, event: SQSEvent, failedIds: string[]): Promise<void> {
    for (const record of event.Records) {
        if (!failedIds.includes(record.messageId)) {
            await client.send(new sqs.DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: record.receiptHandle }));
        }
    }
}

/**
 * Makes the records the worker reported as failed visible again at once (ChangeMessageVisibility to
 * 0): what the queue does when their visibility timeout runs out, without waiting it out. Their
 * receive count still grows on the next receive, so the redrive policy applies as it would.
 */
export async function expireVisibility(client: sqs.SQSClient, queueUrl: string, event: SQSEvent, failedIds: string[]): Promise<void> {
    for (const record of event.Records) {
        if (failedIds.includes(record.messageId)) {
            await client.send(
                new sqs.ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: record.receiptHandle, VisibilityTimeout: 0 }),
            );
        }
    }
}

/** Drains a queue (receive + delete) and returns the raw messages. */
export async function drain(client: sqs.SQSClient, queueUrl: string, waitSeconds = 1): Promise<sqs.Message[]> {
    const all: sqs.Message[] = [];
    for (;;) {
        const result = await client.send(
            new sqs.ReceiveMessageCommand({
                QueueUrl: queueUrl,
                MaxNumberOfMessages: 10,
                WaitTimeSeconds: waitSeconds,
                MessageSystemAttributeNames: ["All"],
                MessageAttributeNames: ["All"],
            }),
        );
        const messages = result.Messages ?? [];
        if (messages.length === 0) return all;
        for (const m of messages) {
            all.push(m);
            await client.send(new sqs.DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
        }
        waitSeconds = 0;
    }
}
