/**
 * Tracer wiring (handlers/tracing.ts): each typed factory takes `tracer` in its deps
 * and captures the AWS SDK clients it is given with it; a disabled tracer leaves
 * clients and handlers untouched (no cost, no X-Ray SDK calls). The traced path itself
 * (subsegments reaching a daemon) is proven on the serialized artifact
 * (tests/components/artifact.test.ts).
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { SQSClient } from "@aws-sdk/client-sqs";
import { Tracer } from "@aws-lambda-powertools/tracer";
import { expect } from "chai";
import { createEmailApi, createEmailWorker } from "../../handlers/email";
import { createEventProcessor } from "../../handlers/event-processor";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { defaultTracer, disabledTracer, isTracingActive, traceClients, traceHandler } from "../../handlers/tracing";

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

    it("isTracingActive applies the rule Powertools' own Tracer applies, in every environment that decides it", () => {
        const environments: Record<string, string | undefined>[] = [
            {},
            { AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x" },
            { AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x", POWERTOOLS_TRACE_ENABLED: "false" },
            { AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x", POWERTOOLS_TRACE_ENABLED: "FALSE" },
            { AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x", POWERTOOLS_TRACE_ENABLED: "true" },
            { AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x", AWS_SAM_LOCAL: "true" },
            { AWS_EXECUTION_ENV: "AWS_Lambda_amplify-mock" },
            { POWERTOOLS_TRACE_ENABLED: "true" },
        ];
        const keys = ["AWS_EXECUTION_ENV", "POWERTOOLS_TRACE_ENABLED", "AWS_SAM_LOCAL"];
        const saved = Object.fromEntries(keys.map((key) => [key, process.env[key]]));
        try {
            for (const environment of environments) {
                for (const key of keys) {
                    if (environment[key] === undefined) delete process.env[key];
                    else process.env[key] = environment[key];
                }
                const powertools = new Tracer({ captureHTTPsRequests: false }).isTracingEnabled();
                expect(isTracingActive(environment), JSON.stringify(environment)).to.equal(powertools);
            }
        } finally {
            for (const key of keys) {
                if (saved[key] === undefined) delete process.env[key];
                else process.env[key] = saved[key];
            }
        }
    });

    it("loads the X-Ray SDK only where tracing is active (it costs about 70 ms of cold start)", function () {
        this.timeout(30_000);
        const root = path.resolve(__dirname, "../..");
        const probe = (env: Record<string, string>) => {
            const run = spawnSync(
                process.execPath,
                [
                    "-r",
                    path.join(root, "scripts", "register-ts.js"),
                    "-e",
                    'const t = require("./handlers/tracing").defaultTracer("probe"); console.log(JSON.stringify({ enabled: t.isTracingEnabled(), xray: Object.keys(require.cache).some((file) => file.includes("aws-xray-sdk-core")) }));',
                ],
                { cwd: root, env: { PATH: process.env.PATH ?? "", AWS_REGION: "us-east-1", ...env }, encoding: "utf8" },
            );
            expect(run.status, run.stderr).to.equal(0);
            return JSON.parse(run.stdout.trim().split("\n").pop() ?? "{}") as { enabled: boolean; xray: boolean };
        };
        expect(probe({})).to.deep.equal({ enabled: false, xray: false });
        expect(probe({ AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x", POWERTOOLS_TRACE_ENABLED: "false" })).to.deep.equal({
            enabled: false,
            xray: false,
        });
        expect(probe({ AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x" })).to.deep.equal({ enabled: true, xray: true });
    });

    it("createEventProcessor captures its DynamoDB and SQS clients with deps.tracer", () => {
        const tracer = new RecordingTracer();
        const dynamodb = new DynamoDBClient({ region, credentials });
        const sqs = new SQSClient({ region, credentials });
        createEventProcessor({
            dynamodb,
            sqs,
            tableName: "events",
            deadLetterQueueUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/dlq",
            tracer,
        });
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
