/**
 * A demo Sender: what the Sender team's stream-triggered Lambda would do with the
 * event table's stream. It reads the stream through {@link DynamoDbStreamReader}
 * (the event source mapping's behaviour) and "delivers" each newly stored event,
 * recording when it saw it so the pipeline can measure end-to-end latency.
 */
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { unmarshall } from "@aws-sdk/util-dynamodb";
import type { DynamoDBStreamEvent } from "aws-lambda";
import { EventEmitter } from "node:events";
import { DynamoDbStreamReader } from "../../aws-stand-ins/stream-reader";
import { locateEventProcessor } from "./event-processor";
import type { LocalContext, LocalService, RunningService } from "./types";

export interface Delivery {
    clientId: string;
    eventId: string;
    type?: string;
    eventName: "INSERT" | "MODIFY" | "REMOVE";
    /** epoch ms when the Sender saw the record */
    seenAt: number;
}

export interface RunningStreamSender extends RunningService {
    reader: DynamoDbStreamReader;
    /** emits `delivery` (Delivery) for every stream record */
    deliveries: EventEmitter;
    delivered: Delivery[];
}

/** The Sender's handler: turns a stream event into deliveries. Exported for tests. */
export function deliveriesFrom(event: DynamoDBStreamEvent, seenAt = Date.now()): Delivery[] {
    return event.Records.map((record) => {
        // aws-lambda's AttributeValue and the SDK's describe the same JSON with different TypeScript shapes.
        const image = unmarshall((record.dynamodb?.NewImage ?? record.dynamodb?.Keys ?? {}) as Record<string, AttributeValue>);
        return {
            clientId: String(image.clientId),
            eventId: String(image.eventId),
            type: image.type,
            eventName: record.eventName as Delivery["eventName"],
            seenAt,
        };
    });
}

export function streamSenderService(options: { keep?: boolean } = {}): LocalService {
    return {
        name: "stream-sender",
        async start(context: LocalContext): Promise<RunningStreamSender> {
            const { table } = locateEventProcessor(context);
            if (!table.streamArn) throw new Error(`table ${table.name} has no stream; the Sender reads the stream`);
            const deliveries = new EventEmitter();
            const delivered: Delivery[] = [];
            const reader = new DynamoDbStreamReader({
                streams: context.clients.streams,
                streamArn: table.streamArn,
                region: context.region,
                handler: async (event) => {
                    for (const delivery of deliveriesFrom(event)) {
                        if (options.keep !== false) delivered.push(delivery);
                        deliveries.emit("delivery", delivery);
                    }
                },
            });
            let lastError = "";
            reader.on("read-error", (error: Error) => {
                const text = `${error.name}: ${error.message}`;
                if (text !== lastError) context.log(`[sender] stream read failed, retrying: ${text}`);
                lastError = text;
            });
            reader.on("delivered", () => (lastError = ""));
            reader.start();
            return {
                name: "stream-sender",
                ready: { sender: "stream-triggered demo Sender reading eventStreamArn" },
                reader,
                deliveries,
                delivered,
                stop: () => reader.stop(),
            };
        },
    };
}
