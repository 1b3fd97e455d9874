/**
 * A cold batch does not fire all its PutItems at once: an invocation has at most as many
 * writes in flight as the DynamoDB client's connection pool has sockets (its agent's
 * `maxSockets`, kept alive across invocations), so no write queues for a socket behind a
 * cold container's TLS handshakes and its 1 s connection timeout. Every event is still
 * written exactly once.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { expect } from "chai";
import { createBatchProcessor } from "../../../handlers/event-processor";
import { createProcessorClients } from "../../../handlers/event-processor/environment";
import { DYNAMODB_MAX_SOCKETS, inFlightLimit } from "../../../handlers/event-processor/persistence";
import { sqsRecord, validEvent } from "../../support/factories/events";
import { quietObservability, recordingClients } from "./harness";

/** A DynamoDB client whose writes take a while, recording how many were in flight at most. */
function slowDynamoDb() {
    let inFlight = 0;
    const seen = { max: 0, writes: 0 };
    const dynamodb = {
        send: async () => {
            inFlight++;
            seen.max = Math.max(seen.max, inFlight);
            await new Promise((resolve) => setImmediate(resolve));
            await new Promise((resolve) => setTimeout(resolve, 2));
            inFlight--;
            seen.writes++;
            return {};
        },
    } as unknown as DynamoDBClient;
    return { dynamodb, seen };
}

describe("event processor: writes in flight per invocation", () => {
    it(`a batch of 100 has at most ${DYNAMODB_MAX_SOCKETS} PutItems in flight (the client's maxSockets) and writes each event once`, async () => {
        const { dynamodb, seen } = slowDynamoDb();
        const processBatch = createBatchProcessor({
            dynamodb,
            sqs: recordingClients().sqs,
            tableName: "events",
            deadLetterQueueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/events-dlq",
            ...quietObservability(),
        });
        const records = Array.from({ length: 100 }, (_, i) => sqsRecord(validEvent({ clientId: `tenant-${i % 7}` })));
        const { response } = await processBatch(records);
        expect(response.batchItemFailures).to.deep.equal([]);
        expect(seen.writes).to.equal(100);
        expect(seen.max).to.equal(DYNAMODB_MAX_SOCKETS);
    });

    it("the limit is configurable and validated", async () => {
        const { dynamodb, seen } = slowDynamoDb();
        const base = {
            dynamodb,
            sqs: recordingClients().sqs,
            tableName: "events",
            deadLetterQueueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/events-dlq",
            ...quietObservability(),
        };
        const processBatch = createBatchProcessor({ ...base, maxWritesInFlight: 7 });
        await processBatch(Array.from({ length: 30 }, () => sqsRecord(validEvent())));
        expect(seen.max).to.equal(7);
        expect(() => createBatchProcessor({ ...base, maxWritesInFlight: 0 })).to.throw(/maxWritesInFlight must be a positive integer/);
    });

    it("inFlightLimit runs tasks in arrival order and passes each result and error through", async () => {
        const limit = inFlightLimit(2);
        const started: number[] = [];
        const results = await Promise.allSettled(
            [0, 1, 2, 3, 4].map((i) =>
                limit(async () => {
                    started.push(i);
                    await new Promise((resolve) => setTimeout(resolve, 1));
                    if (i === 3) throw new Error("four");
                    return i * 10;
                }),
            ),
        );
        expect(started).to.deep.equal([0, 1, 2, 3, 4]);
        expect(results.map((r) => (r.status === "fulfilled" ? r.value : (r.reason as Error).message))).to.deep.equal([
            0,
            10,
            20,
            "four",
            40,
        ]);
        expect(() => inFlightLimit(0)).to.throw(RangeError);
    });

    it(`the Lambda's DynamoDB client keeps its connections alive, ${DYNAMODB_MAX_SOCKETS} sockets`, async () => {
        const { dynamodb } = createProcessorClients({ dynamodb: { region: "eu-west-1" } });
        const handler = dynamodb.config.requestHandler as unknown as {
            configProvider: Promise<{ httpsAgent: { keepAlive: boolean; maxSockets: number } }>;
        };
        const config = await handler.configProvider;
        expect(config.httpsAgent.maxSockets).to.equal(DYNAMODB_MAX_SOCKETS);
        expect(config.httpsAgent.keepAlive).to.equal(true);
    });
});
