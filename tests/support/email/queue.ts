import type * as sqs from "@aws-sdk/client-sqs";

/** A queue stand-in for handler-level tests of the API: records every SendMessage input (the API only ever sends). */
export function recordingQueue(): { client: sqs.SQSClient; sent: Array<Record<string, unknown>> } {
    const sent: Array<Record<string, unknown>> = [];
    const client = {
        send: async (command: { input: Record<string, unknown> }) => (sent.push(command.input), { MessageId: String(sent.length) }),
    };
    return { client: client as unknown as sqs.SQSClient, sent };
}
