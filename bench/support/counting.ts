/**
 * Exact per-event counts for the bench: a client middleware that counts every
 * AWS request and the capacity DynamoDB reports for it, and a stdout/stderr tap
 * that counts what the handler writes (application log lines and EMF documents
 * apart). The counts go to whichever tally is current, so contenders run one
 * after another are counted separately on one shared client.
 */

/** What one contender spent. */
export interface Tally {
    dynamodbRequests: number;
    writeUnits: number;
    readUnits: number;
    sqsRequests: number;
    logBytes: number;
    logLines: number;
    emfBytes: number;
    emfLines: number;
}

export function emptyTally(): Tally {
    return { dynamodbRequests: 0, writeUnits: 0, readUnits: 0, sqsRequests: 0, logBytes: 0, logLines: 0, emfBytes: 0, emfLines: 0 };
}

/** Where counts go: set `current` before running a contender; `undefined` counts nothing. */
export interface TallySwitch {
    current: Tally | undefined;
}

interface ConsumedCapacity {
    CapacityUnits?: number;
    WriteCapacityUnits?: number;
    ReadCapacityUnits?: number;
}

/** DynamoDB commands that accept ReturnConsumedCapacity and report one ConsumedCapacity. */
const CAPACITY_COMMANDS = new Set(["PutItemCommand", "UpdateItemCommand", "DeleteItemCommand", "GetItemCommand"]);
const WRITE_COMMANDS = new Set(["PutItemCommand", "UpdateItemCommand", "DeleteItemCommand"]);

type Stack = { add(middleware: unknown, options: { step: string; name: string; priority?: string }): void };

/**
 * Counts every DynamoDB request of a client, asking DynamoDB for the capacity each
 * one consumed (`ReturnConsumedCapacity: TOTAL`, added to the request here, so the
 * code under test is unchanged). A conditional write that fails reports no capacity
 * to the client; it is counted as one unit (DynamoDB charges a failed conditional
 * write, "Read/write capacity mode" in the DynamoDB Developer Guide).
 *
 * @example
 * countDynamoDbRequests(dynamodb.middlewareStack, tallies);
 */
export function countDynamoDbRequests(stack: Stack, tallies: TallySwitch): void {
    stack.add(
        (
            next: (args: { input: Record<string, unknown> }) => Promise<{ output: { ConsumedCapacity?: ConsumedCapacity } }>,
            context: { commandName?: string },
        ) =>
            async (args: { input: Record<string, unknown> }) => {
                const tally = tallies.current;
                const command = context.commandName ?? "";
                if (tally) tally.dynamodbRequests += 1;
                if (tally && CAPACITY_COMMANDS.has(command)) args.input.ReturnConsumedCapacity = "TOTAL";
                try {
                    const result = await next(args);
                    const capacity = result.output?.ConsumedCapacity;
                    if (tally && capacity) {
                        const units = capacity.CapacityUnits ?? 0;
                        if (WRITE_COMMANDS.has(command)) tally.writeUnits += capacity.WriteCapacityUnits ?? units;
                        else tally.readUnits += capacity.ReadCapacityUnits ?? units;
                    }
                    return result;
                } catch (error) {
                    if (tally && WRITE_COMMANDS.has(command) && (error as Error)?.name === "ConditionalCheckFailedException")
                        tally.writeUnits += 1;
                    throw error;
                }
            },
        { step: "initialize", name: "benchCapacityCounter", priority: "high" },
    );
}

/**
 * Counts every SQS request of a client.
 *
 * @example
 * countSqsRequests(sqs.middlewareStack, tallies);
 */
export function countSqsRequests(stack: Stack, tallies: TallySwitch): void {
    stack.add(
        (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
            if (tallies.current) tallies.current.sqsRequests += 1;
            return next(args);
        },
        { step: "initialize", name: "benchRequestCounter", priority: "high" },
    );
}

/**
 * Replaces stdout and stderr (Lambda sends both to CloudWatch Logs) with a counter:
 * bytes and lines go to the current tally, EMF documents (`"_aws"`) apart from log
 * lines. Nothing is printed. Returns the function that restores both streams.
 *
 * @example
 * const restore = tapOutput(tallies);
 * try { await run(); } finally { restore(); }
 */
export function tapOutput(tallies: TallySwitch): () => void {
    const streams = [process.stdout, process.stderr];
    const originals = streams.map((stream) => stream.write);
    const write = (chunk: unknown): boolean => {
        const tally = tallies.current;
        if (!tally) return true;
        const text = typeof chunk === "string" ? chunk : Buffer.isBuffer(chunk) ? chunk.toString("utf8") : String(chunk);
        for (const line of text.split("\n")) {
            if (line === "") continue;
            const bytes = Buffer.byteLength(line) + 1;
            if (line.includes('"_aws":')) {
                tally.emfBytes += bytes;
                tally.emfLines += 1;
            } else {
                tally.logBytes += bytes;
                tally.logLines += 1;
            }
        }
        return true;
    };
    for (const stream of streams) stream.write = write as typeof stream.write;
    return () => streams.forEach((stream, i) => (stream.write = originals[i]));
}
