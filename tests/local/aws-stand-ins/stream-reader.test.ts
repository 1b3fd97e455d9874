import { expect } from "chai";
import * as crypto from "node:crypto";
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { DynamoDBStreamsClient, GetRecordsCommand } from "@aws-sdk/client-dynamodb-streams";
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda";
import { Emulator, LOCAL_CREDENTIALS, sharedEmulators } from "../../../local/offline/emulators";
import { DynamoDbStreamReader, firstFailedRecord } from "../../../local/aws-stand-ins/stream-reader";

const REGION = "us-east-1";

describe("DynamoDB stream reader (a stream-triggered event source mapping)", function () {
    this.timeout(60_000);
    let dynamo: Emulator;
    let dynamodb: DynamoDBClient;
    let streams: DynamoDBStreamsClient;
    let tables = 0;
    const run = crypto.randomUUID().slice(0, 8); // table names unique in the process's shared DynamoDB Local

    before(async () => {
        dynamo = (await sharedEmulators()).dynamodb;
        dynamodb = new DynamoDBClient({ region: REGION, endpoint: dynamo.endpoint, credentials: LOCAL_CREDENTIALS });
        streams = new DynamoDBStreamsClient({ region: REGION, endpoint: dynamo.endpoint, credentials: LOCAL_CREDENTIALS });
    });
    after(async () => {
        dynamodb?.destroy();
        streams?.destroy();
    });

    async function tableWithItems(n: number): Promise<string> {
        const name = `stream-${run}-${++tables}`;
        const created = await dynamodb.send(
            new CreateTableCommand({
                TableName: name,
                BillingMode: "PAY_PER_REQUEST",
                AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
                KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
                StreamSpecification: { StreamEnabled: true, StreamViewType: "NEW_IMAGE" },
            }),
        );
        for (let i = 0; i < n; i++) await dynamodb.send(new PutItemCommand({ TableName: name, Item: { id: { S: `item-${i}` } } }));
        return created.TableDescription!.LatestStreamArn!;
    }

    async function readAll(
        streamArn: string,
        handler: (e: DynamoDBStreamEvent) => Promise<void | DynamoDBBatchResponse>,
        until: () => boolean,
    ) {
        const reader = new DynamoDbStreamReader({ streams, streamArn, region: REGION, pollIntervalMs: 20, handler });
        reader.start();
        const deadline = Date.now() + 20_000;
        try {
            while (!until()) {
                if (Date.now() > deadline) throw new Error("timed out");
                await new Promise((r) => setTimeout(r, 20));
            }
        } finally {
            await reader.stop();
        }
        return reader;
    }

    const ids = (e: DynamoDBStreamEvent) => e.Records.map((r) => r.dynamodb!.NewImage!.id.S!);

    it("hands records over in order, in the Lambda event shape", async () => {
        const streamArn = await tableWithItems(5);
        const calls: string[][] = [];
        const reader = await readAll(
            streamArn,
            async (e) => {
                expect(e.Records[0]).to.include({
                    eventSource: "aws:dynamodb",
                    eventName: "INSERT",
                    eventSourceARN: streamArn,
                    awsRegion: REGION,
                });
                calls.push(ids(e));
            },
            () => calls.flat().length >= 5,
        );
        expect(calls.flat()).to.deep.equal(["item-0", "item-1", "item-2", "item-3", "item-4"]);
        expect(reader.recordsDelivered).to.equal(5);
    });

    it("caughtUp() resolves once every record written before the call is handed over, and rejects once the reader stops", async () => {
        const streamArn = await tableWithItems(3);
        const seen: string[] = [];
        const reader = new DynamoDbStreamReader({
            streams,
            streamArn,
            region: REGION,
            pollIntervalMs: 20,
            handler: async (e) => {
                // Slow enough that a wait resolving before delivery would be caught.
                await new Promise((r) => setTimeout(r, 200));
                seen.push(...ids(e));
            },
        });
        reader.start();
        try {
            await reader.caughtUp();
            expect(seen).to.deep.equal(["item-0", "item-1", "item-2"]);
            const table = streamArn.split("/")[1];
            await dynamodb.send(new PutItemCommand({ TableName: table, Item: { id: { S: "item-3" } } }));
            await reader.caughtUp();
            expect(seen).to.deep.equal(["item-0", "item-1", "item-2", "item-3"]);
        } finally {
            const pending = reader.caughtUp().then(
                () => "resolved",
                (e: Error) => e.message,
            );
            await reader.stop();
            expect(await pending).to.match(/stopped before it caught up|resolved/);
        }
        await reader.caughtUp().then(
            () => expect.fail("caughtUp() of a stopped reader resolved"),
            (e: Error) => expect(e.message).to.match(/not running/),
        );
    });

    it("checkpoints on a partial batch response and retries from the lowest failed record only", async () => {
        const streamArn = await tableWithItems(5);
        const calls: string[][] = [];
        await readAll(
            streamArn,
            async (e) => {
                calls.push(ids(e));
                if (calls.length === 1) {
                    const failed = e.Records.filter((r) => ["item-2", "item-4"].includes(r.dynamodb!.NewImage!.id.S!));
                    return { batchItemFailures: failed.map((r) => ({ itemIdentifier: r.dynamodb!.SequenceNumber! })) };
                }
                return { batchItemFailures: [] };
            },
            () => calls.length >= 2,
        );
        expect(calls[0]).to.deep.equal(["item-0", "item-1", "item-2", "item-3", "item-4"]);
        expect(calls[1]).to.deep.equal(["item-2", "item-3", "item-4"]);
    });

    it("retries a failing batch (thrown error or invalid response) until it succeeds, never skipping ahead", async () => {
        const streamArn = await tableWithItems(3);
        const calls: string[][] = [];
        await readAll(
            streamArn,
            async (e) => {
                calls.push(ids(e));
                if (calls.length === 1) throw new Error("downstream unavailable");
                if (calls.length === 2) return { batchItemFailures: [{ itemIdentifier: "not-a-sequence-number" }] };
                return undefined;
            },
            () => calls.length >= 3,
        );
        expect(calls).to.deep.equal([
            ["item-0", "item-1", "item-2"],
            ["item-0", "item-1", "item-2"],
            ["item-0", "item-1", "item-2"],
        ]);
    });

    it("renews a stale iterator (TrimmedDataAccessException) from its checkpoint: nothing lost or repeated, no read error; twice in a row is one [DynamoDB Streams API Reference: GetRecords]", async () => {
        const streamArn = await tableWithItems(6);
        const trimmed = () =>
            Object.assign(new Error("The operation attempted to read past the oldest stream record in a shard."), {
                name: "TrimmedDataAccessException",
            });
        // The first GetRecords after the first batch answers TrimmedDataAccessException once; later ones `times` in a row.
        const flaky = (times: number) => {
            let calls = 0;
            return {
                send: (command: unknown) => {
                    if (command instanceof GetRecordsCommand && ++calls >= 2 && calls < 2 + times) return Promise.reject(trimmed());
                    return streams.send(command as never);
                },
            } as unknown as DynamoDBStreamsClient;
        };
        const seen: string[] = [];
        const events: string[] = [];
        const reader = new DynamoDbStreamReader({
            streams: flaky(1),
            streamArn,
            region: REGION,
            pollIntervalMs: 20,
            batchSize: 2,
            handler: async (event) => void seen.push(...ids(event)),
        });
        reader.on("read-error", () => events.push("read-error"));
        reader.on("iterator-renewed", () => events.push("iterator-renewed"));
        reader.start();
        const deadline = Date.now() + 20_000;
        while (seen.length < 6 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        await reader.stop();
        expect(seen).to.deep.equal(["item-0", "item-1", "item-2", "item-3", "item-4", "item-5"]);
        expect(events).to.deep.equal(["iterator-renewed"]);

        const twice: string[] = [];
        const stubborn = new DynamoDbStreamReader({
            streams: flaky(2),
            streamArn,
            region: REGION,
            pollIntervalMs: 20,
            batchSize: 2,
            handler: async () => undefined,
        });
        stubborn.on("read-error", (error: Error) => twice.push(error.name));
        stubborn.start();
        const until = Date.now() + 20_000;
        while (twice.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
        await stubborn.stop();
        expect(twice).to.deep.equal(["TrimmedDataAccessException"]);
    });

    it("reads partial batch responses with Lambda's rules", () => {
        const records = [{ dynamodb: { SequenceNumber: "100" } }, { dynamodb: { SequenceNumber: "200" } }];
        expect(firstFailedRecord(undefined, records)).to.equal(-1);
        expect(firstFailedRecord({ batchItemFailures: [] }, records)).to.equal(-1);
        expect(firstFailedRecord({ batchItemFailures: [{ itemIdentifier: "200" }, { itemIdentifier: "100" }] }, records)).to.equal(0);
        expect(firstFailedRecord({ batchItemFailures: [{ itemIdentifier: "" }] }, records)).to.equal("invalid");
        expect(firstFailedRecord({ batchItemFailures: [{ itemIdentifier: "300" }] }, records)).to.equal("invalid");
        expect(firstFailedRecord("ok", records)).to.equal("invalid");
    });
});
