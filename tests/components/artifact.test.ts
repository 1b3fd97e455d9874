/**
 * The processor's code archive, taken from the mock deployment and run the way
 * Lambda runs it: unpacked to a directory (`__index.js` + its node_modules), with
 * the AWS SDK and Powertools only on NODE_PATH (runtime + layer), in a fresh
 * Node 22 process, against DynamoDB Local and fauxqs with a real SQS batch.
 */
import { CreateTableCommand, DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient, type Message } from "@aws-sdk/client-sqs";
import type { SQSEvent } from "aws-lambda";
import { expect } from "chai";
import { EVENT_TYPE_NAMES } from "../../handlers/event-processor";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runtimeFiles } from "../../components/shared/lambda-packaging";
import { installedPowertoolsVersion } from "../../components/shared/powertools";
import {
    invokeArtifact,
    LAYER_NODE_MODULES,
    prepareArtifact,
    RUNTIME_NODE_MODULES,
    shippedPackages,
} from "../../local/offline/lambda-artifact";
import { LOCAL_CREDENTIALS, sharedEmulators, type Emulator } from "../../local/offline/emulators";
import { sharedDeployment, type MockDeployment } from "../../local/offline/mock-deployment";
import { startXRayDaemon, tracedInvocationEnvironment } from "../../local/offline/xray-daemon";
import { validEvent } from "../support/factories/events";
import { one } from "./helpers";

const REGION = "us-east-1";

/** Package names linked in a node_modules directory (scoped ones as `@scope/name`). */
function packagesIn(nodeModules: string): string[] {
    return fs
        .readdirSync(nodeModules)
        .flatMap((entry) => (entry.startsWith("@") ? fs.readdirSync(path.join(nodeModules, entry)).map((n) => `${entry}/${n}`) : [entry]));
}

function manifest(nodeModules: string, name: string): { version: string; dependencies?: Record<string, string> } {
    return JSON.parse(fs.readFileSync(path.join(nodeModules, name, "package.json"), "utf8"));
}

/**
 * The SQS event Lambda's poller builds from received messages. fauxqs does not
 * return `MessageGroupId` for standard queues (SQS does, for fair queues), so the
 * group each message was sent with is put back, as Lambda would deliver it.
 */
function sqsEvent(messages: Message[], queueArn: string, groups: Map<string, string> = new Map()): SQSEvent {
    return {
        Records: messages.map((m) => ({
            messageId: m.MessageId!,
            receiptHandle: m.ReceiptHandle!,
            body: m.Body!,
            attributes: {
                ...(m.Attributes as unknown as SQSEvent["Records"][number]["attributes"]),
                ...(groups.has(m.Body!) ? { MessageGroupId: groups.get(m.Body!) } : {}),
            },
            messageAttributes: {},
            md5OfBody: m.MD5OfBody!,
            eventSource: "aws:sqs",
            eventSourceARN: queueArn,
            awsRegion: REGION,
        })),
    };
}

describe("processor artifact on Node 22 against DynamoDB Local and fauxqs", function () {
    this.timeout(120_000);
    let deployment: MockDeployment;
    let artifact: Awaited<ReturnType<typeof prepareArtifact>>;
    let dynamo: Emulator | undefined;
    let sqs: Emulator | undefined;
    let dynamoClient: DynamoDBClient;
    let sqsClient: SQSClient;
    let queueUrl: string;
    let dlqUrl: string;
    let tableName: string;

    before(async () => {
        deployment = await sharedDeployment({ stack: "dev" });
        artifact = await prepareArtifact(deployment, "event-processor");
        // The process's shared emulators: the table and queue names below are this file's alone.
        ({ dynamodb: dynamo, sqs } = await sharedEmulators());
        dynamoClient = new DynamoDBClient({ endpoint: dynamo.endpoint, region: REGION, credentials: LOCAL_CREDENTIALS });
        sqsClient = new SQSClient({ endpoint: sqs.endpoint, region: REGION, credentials: LOCAL_CREDENTIALS });
        // The table as the program declares it (keys and attribute types from the registered resource).
        const table = one(deployment, "aws:dynamodb/table:Table", "events");
        tableName = table.state.name;
        await dynamoClient.send(
            new CreateTableCommand({
                TableName: tableName,
                BillingMode: "PAY_PER_REQUEST",
                AttributeDefinitions: table.inputs.attributes.map((a: { name: string; type: "S" }) => ({
                    AttributeName: a.name,
                    AttributeType: a.type,
                })),
                KeySchema: [
                    { AttributeName: table.inputs.hashKey, KeyType: "HASH" },
                    { AttributeName: table.inputs.rangeKey, KeyType: "RANGE" },
                ],
                StreamSpecification: { StreamEnabled: true, StreamViewType: table.inputs.streamViewType },
            }),
        );
        dlqUrl = (await sqsClient.send(new CreateQueueCommand({ QueueName: "events-dlq" }))).QueueUrl!;
        queueUrl = (await sqsClient.send(new CreateQueueCommand({ QueueName: "events", Attributes: { VisibilityTimeout: "180" } })))
            .QueueUrl!;
    });

    after(async () => {
        dynamoClient?.destroy();
        sqsClient?.destroy();
        artifact?.cleanup();
    });

    function environment(): Record<string, string> {
        return {
            ...artifact.environment,
            DEAD_LETTER_QUEUE_URL: dlqUrl,
            AWS_REGION: REGION,
            AWS_DEFAULT_REGION: REGION,
            AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
            AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
            AWS_ENDPOINT_URL_DYNAMODB: dynamo!.endpoint,
            AWS_ENDPOINT_URL_SQS: sqs!.endpoint,
        };
    }

    it("ships only __index.js and valibot; the SDK and Powertools come from the runtime/layer directory", () => {
        expect([...artifact.entries.keys()].sort()).to.deep.equal(["__index.js", ...runtimeFiles("valibot")].sort());
        expect(shippedPackages(artifact.entries)).to.deep.equal(["valibot"]);
        expect(artifact.environment.EVENT_TABLE_NAME).to.equal(tableName);
    });

    it("has a layer path with only Powertools at the installed version (no AWS SDK, as layers 50+) and the SDK on a separate runtime path", () => {
        const layer = path.join(artifact.layerDir, LAYER_NODE_MODULES);
        const runtime = path.join(artifact.layerDir, RUNTIME_NODE_MODULES);
        const layerPackages = packagesIn(layer);
        expect(layerPackages.filter((name) => name.startsWith("@aws-lambda-powertools/"))).to.include.members([
            "@aws-lambda-powertools/batch",
            "@aws-lambda-powertools/commons",
            "@aws-lambda-powertools/logger",
            "@aws-lambda-powertools/metrics",
        ]);
        // No SDK client or SDK core that would shadow the runtime's own; the Tracer's X-Ray SDK brings
        // type and error-classification packages (@aws-sdk/types, @smithy/types, …), which the layer carries too.
        const sdkRuntime = /^@aws-sdk\/(client-|core$|credential-provider|middleware-)|^@smithy\/(smithy-client|core|node-http-handler)$/;
        expect(
            layerPackages.filter((name) => sdkRuntime.test(name)),
            "no SDK client or core in the layer",
        ).to.deep.equal([]);
        // Everything else in the layer is a dependency some Powertools package declares.
        const declared = new Set(layerPackages.flatMap((name) => Object.keys(manifest(layer, name).dependencies ?? {})));
        for (const name of layerPackages.filter((n) => !n.startsWith("@aws-lambda-powertools/")))
            expect(declared.has(name), `${name} in the layer`).to.equal(true);
        for (const name of layerPackages.filter((n) => n.startsWith("@aws-lambda-powertools/"))) {
            expect(manifest(layer, name).version, name).to.equal(installedPowertoolsVersion());
        }
        const runtimePackages = packagesIn(runtime);
        expect(runtimePackages).to.include.members(["@aws-sdk/client-dynamodb", "@aws-sdk/client-sqs"]);
        expect(
            runtimePackages.filter((name) => name.startsWith("@aws-lambda-powertools/")),
            "no Powertools in the runtime",
        ).to.deep.equal([]);
    });

    it("fails to load with the layer alone: the AWS SDK the function sees is the runtime's", async () => {
        const layerOnly = fs.mkdtempSync(path.join(os.tmpdir(), "lambda-layer-only-"));
        try {
            fs.mkdirSync(path.dirname(path.join(layerOnly, LAYER_NODE_MODULES)), { recursive: true });
            fs.symlinkSync(path.join(artifact.layerDir, LAYER_NODE_MODULES), path.join(layerOnly, LAYER_NODE_MODULES), "dir");
            const run = await invokeArtifact({ archiveDir: artifact.archiveDir, layerDir: layerOnly, environment: environment() });
            expect(run.error?.message).to.match(/Cannot find module '@aws-sdk\//);
        } finally {
            fs.rmSync(layerOnly, { recursive: true, force: true });
        }
    });

    it("fails to load without the runtime/layer directory (the archive really relies on it)", async () => {
        const run = await invokeArtifact({ archiveDir: artifact.archiveDir, layerDir: "/nonexistent-layer", environment: environment() });
        expect(run.error?.message).to.match(/Cannot find module '@aws-lambda-powertools|Cannot find module '@aws-sdk/);
    });

    it("stores valid events, dead-letters invalid ones with their reason, and reports no failures", async () => {
        const first = validEvent({ clientId: "tenant-a" });
        const second = validEvent({
            clientId: "tenant-b",
            type: EVENT_TYPE_NAMES.includes("payment.captured") ? "payment.captured" : "order.placed",
        });
        const unknownType = { ...validEvent({ clientId: "tenant-a" }), type: "no.such_type" };
        const bodies: [string, string][] = [
            [JSON.stringify(first), "tenant-a"],
            [JSON.stringify(second), "tenant-b"],
            [JSON.stringify(unknownType), "tenant-a"],
            ["{not json", "tenant-c"],
        ];
        for (const [body, group] of bodies)
            await sqsClient.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body, MessageGroupId: group }));
        const received: Message[] = [];
        for (let attempt = 0; attempt < 5 && received.length < bodies.length; attempt++) {
            const batch = await sqsClient.send(
                new ReceiveMessageCommand({
                    QueueUrl: queueUrl,
                    MaxNumberOfMessages: 10,
                    WaitTimeSeconds: 1,
                    MessageSystemAttributeNames: ["All"],
                }),
            );
            received.push(...(batch.Messages ?? []));
        }
        expect(received, "a real batch from the queue").to.have.length(4);
        const queueArn = `arn:aws:sqs:${REGION}:000000000000:events`;

        const run = await invokeArtifact<{ batchItemFailures: { itemIdentifier: string }[] }>({
            ...artifact,
            environment: environment(),
            event: sqsEvent(received, queueArn, new Map(bodies)),
            functionName: "event-processor",
        });
        expect(run.error, run.stderr).to.equal(undefined);
        expect(run.result).to.deep.equal({ batchItemFailures: [] });
        expect(run.initMs).to.be.greaterThan(0);
        // Tracing is on (AWS_EXECUTION_ENV) but there is no trace header or daemon here: nothing about X-Ray may be printed.
        expect(run.stderr + run.stdout, "no X-Ray noise without a daemon").not.to.match(/x-?ray|segment|_X_AMZN_TRACE_ID/i);

        const items = (await dynamoClient.send(new ScanCommand({ TableName: tableName, ConsistentRead: true }))).Items ?? [];
        const stored = items.map((i) => `${i.clientId.S}/${i.eventId.S}/${i.type.S}`).sort();
        expect(stored).to.deep.equal([`tenant-a/${first.eventId}/${first.type}`, `tenant-b/${second.eventId}/${second.type}`].sort());
        for (const item of items) {
            expect(item.data.M, "data stored as a native map").to.be.an("object");
            expect(Number(item.expiresAt.N), "TTL from EVENT_RETENTION_DAYS (dev: 90)").to.be.closeTo(
                Date.now() / 1000 + 90 * 86_400,
                3_600,
            );
        }

        const letters: Message[] = [];
        for (let attempt = 0; attempt < 5 && letters.length < 2; attempt++) {
            const batch = await sqsClient.send(
                new ReceiveMessageCommand({
                    QueueUrl: dlqUrl,
                    MaxNumberOfMessages: 10,
                    WaitTimeSeconds: 1,
                    MessageAttributeNames: ["All"],
                    MessageSystemAttributeNames: ["All"],
                }),
            );
            letters.push(...(batch.Messages ?? []));
        }
        const idOf = new Map(received.map((m) => [m.Body!, m.MessageId!]));
        const reasons = letters.map((m) => [
            m.Body,
            m.MessageAttributes?.rejectionReason?.StringValue,
            m.MessageAttributes?.sourceMessageId?.StringValue,
        ]);
        expect(reasons).to.have.deep.members([
            [JSON.stringify(unknownType), "unknown_type", idOf.get(JSON.stringify(unknownType))],
            ["{not json", "body_not_json", idOf.get("{not json")],
        ]);
        for (const letter of letters)
            expect(letter.MessageAttributes?.rejectionDetail?.StringValue, "a short reason text").to.be.a("string").and.not.equal("");
    });

    it("records an X-Ray subsegment for the handler and for each DynamoDB and SQS call (Powertools Tracer, daemon stand-in)", async () => {
        const valid = validEvent({ clientId: "tenant-x" });
        const bodies: [string, string][] = [
            [JSON.stringify(valid), "tenant-x"],
            ["{not json", "tenant-x"],
        ];
        for (const [body, group] of bodies)
            await sqsClient.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body, MessageGroupId: group }));
        const received: Message[] = [];
        for (let attempt = 0; attempt < 5 && received.length < 2; attempt++) {
            const batch = await sqsClient.send(
                new ReceiveMessageCommand({
                    QueueUrl: queueUrl,
                    MaxNumberOfMessages: 10,
                    WaitTimeSeconds: 1,
                    MessageSystemAttributeNames: ["All"],
                }),
            );
            received.push(...(batch.Messages ?? []));
        }
        expect(received).to.have.length(2);
        const daemon = await startXRayDaemon();
        try {
            const run = await invokeArtifact({
                ...artifact,
                environment: { ...environment(), ...tracedInvocationEnvironment(daemon.address) },
                event: sqsEvent(received, `arn:aws:sqs:${REGION}:000000000000:events`, new Map(bodies)),
                functionName: "event-processor",
                drainMs: 200,
            });
            expect(run.error, run.stderr).to.equal(undefined);
            expect(run.result).to.deep.equal({ batchItemFailures: [] });
            const documents = await daemon.waitFor(3);
            expect(daemon.rejected, "datagrams the daemon would refuse").to.deep.equal([]);
            const handler = documents.find((d) => d.name.startsWith("## "));
            expect(handler, JSON.stringify(documents)).to.not.equal(undefined);
            expect(handler!.annotations).to.deep.include({ ColdStart: true, Service: "event-processor" });
            const calls = documents
                .filter((d) => d.namespace === "aws")
                .map((d) => [d.name, d.aws?.operation, d.aws?.table_name ?? null, d.parent_id === handler!.id]);
            expect(calls).to.have.deep.members([
                ["DynamoDB", "PutItem", tableName, true],
                ["SQS", "SendMessageBatch", null, true],
            ]);
            expect(JSON.stringify(documents), "no event payload in the trace").not.to.include(valid.eventId);
            // Logs carry `xray_trace_id` now (Powertools Logger); what must not appear is the X-Ray SDK complaining.
            expect(run.stderr + run.stdout, "no X-Ray errors").not.to.match(
                /Missing AWS Lambda trace data|context missing|Failed to get the current sub\/segment|segment (not found|missing)/i,
            );
            expect(run.stdout + run.stderr, "logs are correlated with the trace").to.include(String(documents[0].trace_id));
        } finally {
            await daemon.stop();
        }
    });

    it("treats a redelivered batch as duplicates: nothing new stored, nothing failed", async () => {
        const event = validEvent({ clientId: "tenant-d" });
        await sqsClient.send(
            new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(event), MessageGroupId: "tenant-d" }),
        );
        const batch = await sqsClient.send(
            new ReceiveMessageCommand({
                QueueUrl: queueUrl,
                MaxNumberOfMessages: 10,
                WaitTimeSeconds: 1,
                MessageSystemAttributeNames: ["All"],
            }),
        );
        const sqsBatch = sqsEvent(batch.Messages ?? [], `arn:aws:sqs:${REGION}:000000000000:events`);
        expect(sqsBatch.Records).to.have.length(1);
        for (let delivery = 0; delivery < 2; delivery++) {
            const run = await invokeArtifact({ ...artifact, environment: environment(), event: sqsBatch, functionName: "event-processor" });
            expect(run.error, run.stderr).to.equal(undefined);
            expect(run.result).to.deep.equal({ batchItemFailures: [] });
        }
        const items = (await dynamoClient.send(new ScanCommand({ TableName: tableName, ConsistentRead: true }))).Items ?? [];
        expect(items.filter((i) => i.clientId.S === "tenant-d")).to.have.length(1);
    });

    it("returns every valid message as a batch item failure when the table is unreachable (SQS retries; nothing is lost)", async () => {
        const events = [validEvent({ clientId: "tenant-e" }), validEvent({ clientId: "tenant-f" })];
        for (const event of events)
            await sqsClient.send(
                new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(event), MessageGroupId: event.clientId }),
            );
        const batch = await sqsClient.send(
            new ReceiveMessageCommand({
                QueueUrl: queueUrl,
                MaxNumberOfMessages: 10,
                WaitTimeSeconds: 1,
                MessageSystemAttributeNames: ["All"],
            }),
        );
        const sqsBatch = sqsEvent(batch.Messages ?? [], `arn:aws:sqs:${REGION}:000000000000:events`);
        expect(sqsBatch.Records).to.have.length(2);
        const run = await invokeArtifact<{ batchItemFailures: { itemIdentifier: string }[] }>({
            ...artifact,
            // A loopback port nothing listens on: every PutItem fails to connect.
            environment: { ...environment(), AWS_ENDPOINT_URL_DYNAMODB: "http://127.0.0.1:9", AWS_MAX_ATTEMPTS: "1" },
            event: sqsBatch,
            functionName: "event-processor",
        });
        expect(run.error, run.stderr).to.equal(undefined);
        expect(run.result!.batchItemFailures.map((f) => f.itemIdentifier).sort()).to.deep.equal(
            sqsBatch.Records.map((r) => r.messageId).sort(),
        );
        const items = (await dynamoClient.send(new ScanCommand({ TableName: tableName, ConsistentRead: true }))).Items ?? [];
        expect(items.filter((i) => i.clientId.S === "tenant-e" || i.clientId.S === "tenant-f")).to.deep.equal([]);
    });
});
