/**
 * What the opt-in arrival index costs per event, measured: the `dev` stack deployed with
 * `eventPollingIndex` on (under mocks), its event table created on DynamoDB Local exactly as
 * the local pipeline creates it, and handler-built items written with
 * ReturnConsumedCapacity=INDEXES, which reports the table's and each index's write units.
 */
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { EVENT_ARRIVAL_INDEX, EVENT_RECEIVED_AT_ATTRIBUTE, EVENT_TABLE_KEYS } from "../../contracts/event-pipeline";
import { buildItem } from "../../handlers/event-processor/item";
import { LOCAL_CREDENTIALS, startDynamoDbLocal } from "../../local/offline/emulators";
import { deployUnderMocks } from "../../local/offline/mock-deployment";
import { createTableInput } from "../../local/pipeline-app/provision";
import { localTopology } from "../../local/pipeline-app/topology";
import { exampleEvents } from "../../tests/support/factories/events";
import type { ArrivalIndexCounts } from "./pricing";

export interface ArrivalIndexMeasurement extends ArrivalIndexCounts {
    /** Events written. */
    events: number;
    /** Write units the table itself consumed per event (unchanged by the index). */
    tableWriteUnitsPerEvent: number;
    /** Average stored item size (the handler's own estimate), bytes: what a full-partition Query reads per event. */
    storedItemBytes: number;
}

/**
 * @example
 * const { indexWriteUnitsPerEvent } = await measureArrivalIndex(500); // 1
 */
export async function measureArrivalIndex(events = 500): Promise<ArrivalIndexMeasurement> {
    const deployment = await deployUnderMocks({ stack: "dev", configOverrides: { "event-ingestion:eventPollingIndex": true } });
    const spec = localTopology(deployment).tables.find((table) =>
        table.globalSecondaryIndexes.some((index) => index.name === EVENT_ARRIVAL_INDEX.name),
    );
    if (!spec) throw new Error(`the dev stack with eventPollingIndex on declares no ${EVENT_ARRIVAL_INDEX.name} index`);
    const dynamo = await startDynamoDbLocal();
    try {
        const dynamodb = new DynamoDBClient({ endpoint: dynamo.endpoint, region: "us-east-1", credentials: LOCAL_CREDENTIALS });
        await dynamodb.send(new CreateTableCommand(createTableInput(spec)));
        const examples = Object.values(exampleEvents());
        let tableUnits = 0;
        let indexUnits = 0;
        let entryBytes = 0;
        let itemBytes = 0;
        const receivedAt = new Date();
        for (let i = 0; i < events; i++) {
            const event = { ...examples[i % examples.length], clientId: `tenant-${i % 50}`, eventId: `evt-${String(i).padStart(8, "0")}` };
            const built = buildItem(event, event.data as Record<string, unknown>, { receivedAt });
            if (!built.ok) throw new Error(built.detail);
            const written = await dynamodb.send(
                new PutItemCommand({
                    TableName: spec.name,
                    Item: built.item as unknown as PutItemCommand["input"]["Item"],
                    ConditionExpression: `attribute_not_exists(${EVENT_TABLE_KEYS.partition})`,
                    ReturnConsumedCapacity: "INDEXES",
                }),
            );
            tableUnits += written.ConsumedCapacity?.Table?.CapacityUnits ?? 0;
            indexUnits += written.ConsumedCapacity?.GlobalSecondaryIndexes?.[EVENT_ARRIVAL_INDEX.name]?.CapacityUnits ?? 0;
            // An entry holds the table's keys and the index's sort key (KEYS_ONLY): names and values, as DynamoDB sizes them.
            for (const [name, value] of [
                [EVENT_TABLE_KEYS.partition, event.clientId],
                [EVENT_TABLE_KEYS.sort, event.eventId],
                [EVENT_RECEIVED_AT_ATTRIBUTE, built.item[EVENT_RECEIVED_AT_ATTRIBUTE].S],
            ])
                entryBytes += Buffer.byteLength(name) + Buffer.byteLength(value);
            itemBytes += built.sizeBytes;
        }
        dynamodb.destroy();
        return {
            events,
            tableWriteUnitsPerEvent: tableUnits / events,
            indexWriteUnitsPerEvent: indexUnits / events,
            indexEntryAttributeBytes: Math.round(entryBytes / events),
            storedItemBytes: Math.round(itemBytes / events),
        };
    } finally {
        await dynamo.stop();
    }
}
