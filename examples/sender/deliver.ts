/**
 * The Sender's stream handler (example): turns each INSERT record into a
 * delivery and reports the records it could not deliver, so Lambda retries only
 * those. Replace `deliver` with the real delivery to clients.
 */
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from "aws-lambda";

/** What the Sender needs of a stored event (no payload is logged). */
export interface NewEvent {
    clientId: string;
    eventId: string;
    type: string;
}

/**
 * @example
 * await deliverNewEvents({ Records: [record] }); // { batchItemFailures: [] }
 */
export async function deliverNewEvents(event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> {
    const batchItemFailures: { itemIdentifier: string }[] = [];
    for (const record of event.Records) {
        const image = record.dynamodb?.NewImage;
        if (record.eventName !== "INSERT" || !image) continue;
        const delivery: NewEvent = { clientId: image.clientId?.S ?? "", eventId: image.eventId?.S ?? "", type: image.type?.S ?? "" };
        try {
            // The real Sender delivers to the client here (HTTP, WebSocket, ...).
            console.log(
                JSON.stringify({
                    message: "delivering event",
                    clientId: delivery.clientId,
                    eventId: delivery.eventId,
                    type: delivery.type,
                }),
            );
        } catch {
            batchItemFailures.push({ itemIdentifier: record.dynamodb!.SequenceNumber! });
        }
    }
    return { batchItemFailures };
}
