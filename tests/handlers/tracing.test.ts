/**
 * Tracer wiring (handlers/tracing.ts): each typed factory takes `tracer` in its deps
 * and captures the AWS SDK clients it is given with it; a disabled tracer leaves
 * clients and handlers untouched (no cost, no X-Ray SDK calls). The traced path itself
 * (subsegments reaching a daemon) is proven on the serialized artifact
 * (tests/infrastructure/artifact.test.ts).
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { Tracer } from "@aws-lambda-powertools/tracer";
import { expect } from "chai";
import { createEmailApi, createEmailWorker } from "../../handlers/email";
import { createEventProcessor } from "../../handlers/event-processor";
import { defaultTracer, disabledTracer, traceClients, traceHandler } from "../../handlers/tracing";

/** A disabled Tracer that records which clients a factory asked it to capture. */
class RecordingTracer extends Tracer {
    readonly captured: unknown[] = [];
    constructor() {
        super({ enabled: false });
    }
    override captureAWSv3Client<T>(client: T): T {
        this.captured.push(client);
        return client;
    }
}

const region = "us-east-1";
const credentials = { accessKeyId: "test", secretAccessKey: "test" };

describe("tracer wiring (handlers/tracing.ts)", () => {
    it("is off outside Lambda and quiet: a disabled tracer returns the handler and the clients untouched", () => {
        expect(defaultTracer("event-processor").isTracingEnabled(), "no AWS_EXECUTION_ENV here").to.equal(false);
        const tracer = disabledTracer();
        const handler = async () => "ok";
        expect(traceHandler(tracer, handler)).to.equal(handler);
        const client = new SQSClient({ region, credentials });
        const before = client.middlewareStack.identify();
        const [same] = traceClients(tracer, client);
        expect(same).to.equal(client);
        expect(client.middlewareStack.identify()).to.deep.equal(before);
        client.destroy();
    });

    it("createEventProcessor captures its DynamoDB and SQS clients with deps.tracer", () => {
        const tracer = new RecordingTracer();
        const dynamodb = new DynamoDBClient({ region, credentials });
        const sqs = new SQSClient({ region, credentials });
        createEventProcessor({ dynamodb, sqs, tableName: "events", deadLetterQueueUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/dlq", tracer });
        expect(tracer.captured).to.include(dynamodb).and.include(sqs);
    });

    it("createEmailApi captures its SQS, S3 and DynamoDB clients with deps.tracer", () => {
        const tracer = new RecordingTracer();
        const sqs = new SQSClient({ region, credentials });
        const s3 = new S3Client({ region, credentials });
        const dynamodb = new DynamoDBClient({ region, credentials });
        createEmailApi({ sqs, queueUrl: "https://sqs/q.fifo", s3, contentBucket: "b", dynamodb, idempotencyTableName: "t", tracer });
        expect(tracer.captured).to.include(sqs).and.include(s3).and.include(dynamodb);
    });

    it("createEmailWorker captures its SQS client with deps.tracer", () => {
        const tracer = new RecordingTracer();
        const sqs = new SQSClient({ region, credentials });
        const noop = async () => undefined as never;
        const worker = createEmailWorker({
            sqs,
            deadLetterQueueUrl: "https://sqs/dlq.fifo",
            primary: { name: "primary", send: noop } as never,
            contentStore: { put: noop, get: noop, delete: noop } as never,
            ledger: { wasSent: noop, recordSent: noop } as never,
            scheduler: { schedule: noop } as never,
            tracer,
        });
        worker.mailer.shutdown?.();
        expect(tracer.captured).to.include(sqs);
    });
});
