import { expect } from "chai";
import { CreateTableCommand, DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { CreateQueueCommand, ReceiveMessageCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import * as fs from "node:fs";
import {
    DYNAMODB_LOCAL_JVM_OPTIONS,
    Emulator,
    LOCAL_CREDENTIALS,
    EmulatorStartError,
    startDynamoDbLocal,
    startFauxqs,
} from "../../../local/offline/emulators";
import { listeningAddresses } from "../../support/sockets";

describe("embedded emulators", () => {
    let dynamo: Emulator;
    let sqs: Emulator;
    before(async () => {
        [dynamo, sqs] = await Promise.all([startDynamoDbLocal(), startFauxqs()]);
    });
    after(async () => {
        await Promise.all([dynamo?.stop(), sqs?.stop()]);
    });

    it("DynamoDB Local answers a real client", async () => {
        const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: "us-east-1", credentials: LOCAL_CREDENTIALS });
        await client.send(
            new CreateTableCommand({
                TableName: "smoke",
                BillingMode: "PAY_PER_REQUEST",
                AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
                KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
            }),
        );
        const tables = await client.send(new ListTablesCommand({}));
        expect(tables.TableNames).to.include("smoke");
    });

    it("DynamoDB Local's JVM compiles for start-up (C1 only, serial GC) unless a run asks for throughput", function () {
        // "Customize Java runtime startup behavior for Lambda functions", AWS Lambda Developer Guide.
        if (process.platform !== "linux") this.skip();
        const commandLine = fs.readFileSync(`/proc/${dynamo.process.pid}/cmdline`, "utf8").split("\0");
        expect(commandLine).to.include.members(["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]);
        expect(commandLine.indexOf("-XX:TieredStopAtLevel=1"), "a JVM option, before the main class").to.be.lessThan(
            commandLine.indexOf("LoopbackDynamoDbLocal"),
        );
        expect(DYNAMODB_LOCAL_JVM_OPTIONS.throughput.join(" ")).to.not.include("TieredStopAtLevel");
    });

    it("DynamoDB Local is one database for any credentials and region (-sharedDb), as users expect of an emulator", async () => {
        // Without -sharedDb DynamoDB Local keeps one database per access key and region
        // ("DynamoDB Local usage notes", Amazon DynamoDB Developer Guide). Its access keys must be letters and digits only.
        const creator = new DynamoDBClient({
            endpoint: dynamo.endpoint,
            region: "us-east-1",
            credentials: { accessKeyId: "PIPELINE", secretAccessKey: "x" },
        });
        await creator.send(
            new CreateTableCommand({
                TableName: "shared-visibility",
                BillingMode: "PAY_PER_REQUEST",
                AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
                KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
            }),
        );
        const stranger = new DynamoDBClient({
            endpoint: dynamo.endpoint,
            region: "eu-west-1",
            credentials: { accessKeyId: "SOMEONEELSE", secretAccessKey: "y" },
        });
        const tables = await stranger.send(new ListTablesCommand({}));
        expect(tables.TableNames).to.include("shared-visibility");
    });

    it("fauxqs round-trips a message and binds to loopback only", async () => {
        const client = new SQSClient({ endpoint: sqs.endpoint, region: "us-east-1", credentials: LOCAL_CREDENTIALS });
        const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: "smoke" }));
        await client.send(new SendMessageCommand({ QueueUrl, MessageBody: "hello" }));
        const received = await client.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));
        expect(received.Messages?.[0]?.Body).to.equal("hello");
        expect(listeningAddresses(sqs.port)).to.deep.equal(["127.0.0.1"]);
    });

    it("refuses a port that is already taken, with a clear error", async () => {
        const error = await startFauxqs({ port: sqs.port }).then(
            () => undefined,
            (e: unknown) => e,
        );
        expect(error).to.be.instanceOf(EmulatorStartError);
        expect((error as Error).message).to.match(/already in use/);
    });
});
