/**
 * Reads a DynamoDB stream the way a stream-triggered Lambda's event source mapping
 * does: discovers shards (and their children as shards close), reads each from
 * TRIM_HORIZON in order, hands batches of records in the `DynamoDBStreamEvent`
 * shape to a handler, and only moves on when the handler succeeded. It survives the
 * emulator going away: iterators are re-acquired after the last sequence number seen,
 * so a restart neither loses nor replays records that were already handled.
 */
import {
    _Record,
    DescribeStreamCommand,
    DynamoDBStreamsClient,
    GetRecordsCommand,
    GetShardIteratorCommand,
    Shard,
} from "@aws-sdk/client-dynamodb-streams";
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { EventEmitter } from "node:events";

/** The `dynamodb` part of a stream record as a stream-triggered Lambda receives it. */
type LambdaStreamRecord = NonNullable<DynamoDBRecord["dynamodb"]>;

export interface StreamReaderOptions {
    streams: DynamoDBStreamsClient;
    streamArn: string;
    region: string;
    /** Records per handler call (the mapping's BatchSize). @default 100 */
    batchSize?: number;
    /** Pause between empty polls of a shard. @default 100 */
    pollIntervalMs?: number;
    /** Retries of a failing batch before it is skipped (MaximumRetryAttempts; -1 = until it succeeds). @default -1 */
    maximumRetryAttempts?: number;
    /**
     * The stream-triggered function. Throwing retries the same batch. Returning a
     * partial batch response (`batchItemFailures` of sequence numbers, as with
     * ReportBatchItemFailures) checkpoints before the lowest failed record and retries from it.
     */
    handler(event: DynamoDBStreamEvent): Promise<void | DynamoDBBatchResponse>;
}

interface ShardState {
    shardId: string;
    iterator?: string;
    lastSequenceNumber?: string;
    closed: boolean;
    /** a stale iterator was just replaced: a second one in a row is an error worth reporting */
    renewed?: boolean;
}

/**
 * Lambda's rules for a stream partial batch response: nothing, an empty or absent
 * `batchItemFailures` = all done (-1); otherwise the index of the lowest failed
 * record; an empty or unknown `itemIdentifier` makes the response invalid.
 */
export function firstFailedRecord(response: unknown, records: readonly _Record[]): number | "invalid" {
    if (response === undefined || response === null) return -1;
    if (typeof response !== "object") return "invalid";
    const failures = (response as DynamoDBBatchResponse).batchItemFailures;
    if (failures === undefined || failures === null) return -1;
    if (!Array.isArray(failures)) return "invalid";
    let lowest = -1;
    for (const failure of failures) {
        const index = records.findIndex((record) => record.dynamodb?.SequenceNumber === failure?.itemIdentifier);
        if (!failure?.itemIdentifier || index < 0) return "invalid";
        if (lowest === -1 || index < lowest) lowest = index;
    }
    return lowest;
}

/** Converts a DynamoDB Streams API record to the shape a Lambda receives. */
export function toStreamRecord(record: _Record, streamArn: string, region: string): DynamoDBRecord {
    const dynamodb = record.dynamodb ?? {};
    return {
        eventID: record.eventID,
        eventName: record.eventName as DynamoDBRecord["eventName"],
        eventVersion: record.eventVersion ?? "1.1",
        eventSource: "aws:dynamodb",
        awsRegion: region,
        eventSourceARN: streamArn,
        dynamodb: {
            ApproximateCreationDateTime: dynamodb.ApproximateCreationDateTime
                ? Math.floor(new Date(dynamodb.ApproximateCreationDateTime).getTime() / 1000)
                : undefined,
            // The SDK's AttributeValue and aws-lambda's describe the same JSON with different TypeScript shapes.
            Keys: dynamodb.Keys as unknown as LambdaStreamRecord["Keys"],
            NewImage: dynamodb.NewImage as unknown as LambdaStreamRecord["NewImage"],
            OldImage: dynamodb.OldImage as unknown as LambdaStreamRecord["OldImage"],
            SequenceNumber: dynamodb.SequenceNumber,
            SizeBytes: dynamodb.SizeBytes,
            StreamViewType: dynamodb.StreamViewType as LambdaStreamRecord["StreamViewType"],
        },
    };
}

/**
 * @example
 * const reader = new DynamoDbStreamReader({ streams, streamArn, region, handler: async (event) => deliver(event.Records) });
 * reader.start();
 * await reader.stop();
 */
export class DynamoDbStreamReader extends EventEmitter {
    private readonly shards = new Map<string, ShardState>();
    private running = false;
    private loop?: Promise<void>;
    private wake?: () => void;
    private delivered = 0;
    /** Passes over the shards begun so far. */
    private passes = 0;
    private discoverNow = false;
    /** The current pass skipped a shard's records (a renewed iterator): it does not prove the reader caught up. */
    private passIncomplete = false;

    constructor(private readonly options: StreamReaderOptions) {
        super();
    }

    /** Stream records handed to the handler so far. */
    get recordsDelivered(): number {
        return this.delivered;
    }

    /**
     * Resolves once a whole pass over the stream's shards, begun after this call (and rediscovering its shards),
     * found no record left to hand over: every record written before the call has been delivered. Lets a caller
     * (a test) know that a record it expects not to see would have arrived by now. (DynamoDB Local answers an
     * empty page only at a shard's end; DynamoDB itself may answer one before it.)
     *
     * @throws when the reader stops first, or after `timeoutMs`.
     */
    caughtUp(timeoutMs = 30_000): Promise<void> {
        if (!this.running) return Promise.reject(new Error("the stream reader is not running"));
        const after = this.passes;
        this.discoverNow = true;
        return new Promise<void>((resolve, reject) => {
            const done = (error?: Error) => {
                clearTimeout(timer);
                this.off("caught-up", onPass);
                this.off("stopped", onStop);
                if (error) reject(error);
                else resolve();
            };
            const onPass = (pass: number) => pass > after && done();
            const onStop = () => done(new Error("the stream reader stopped before it caught up"));
            const timer = setTimeout(() => done(new Error(`the stream reader did not catch up within ${timeoutMs} ms`)), timeoutMs);
            this.on("caught-up", onPass);
            this.on("stopped", onStop);
        });
    }

    start(): void {
        if (this.running) return;
        this.running = true;
        this.loop = this.run();
    }

    async stop(): Promise<void> {
        this.running = false;
        this.wake?.();
        await this.loop;
        this.emit("stopped");
    }

    private async run(): Promise<void> {
        let lastDiscovery = 0;
        while (this.running) {
            const pass = ++this.passes;
            this.passIncomplete = false;
            try {
                if (
                    this.discoverNow ||
                    Date.now() - lastDiscovery > 1000 ||
                    this.shards.size === 0 ||
                    [...this.shards.values()].every((shard) => shard.closed)
                ) {
                    this.discoverNow = false;
                    await this.discoverShards();
                    lastDiscovery = Date.now();
                }
                let sawRecords = false;
                for (const shard of this.shards.values()) {
                    if (!this.running) break;
                    if (shard.closed) continue;
                    sawRecords = (await this.pollShard(shard)) || sawRecords;
                }
                if (!sawRecords && this.running) {
                    if (!this.passIncomplete) this.emit("caught-up", pass);
                    await this.sleep(this.options.pollIntervalMs ?? 100);
                }
            } catch (error) {
                // The emulator is down or restarting: forget the iterators and re-acquire them later.
                this.emit("read-error", error);
                for (const shard of this.shards.values()) shard.iterator = undefined;
                await this.sleep(500);
            }
        }
    }

    private async discoverShards(): Promise<void> {
        let exclusiveStartShardId: string | undefined;
        const found: Shard[] = [];
        do {
            const page = await this.options.streams.send(
                new DescribeStreamCommand({ StreamArn: this.options.streamArn, ExclusiveStartShardId: exclusiveStartShardId }),
            );
            found.push(...(page.StreamDescription?.Shards ?? []));
            exclusiveStartShardId = page.StreamDescription?.LastEvaluatedShardId;
        } while (exclusiveStartShardId);
        for (const shard of found) {
            if (shard.ShardId && !this.shards.has(shard.ShardId)) {
                this.shards.set(shard.ShardId, { shardId: shard.ShardId, closed: false });
            }
        }
    }

    /** Reads one batch from a shard; returns whether records were seen. */
    private async pollShard(shard: ShardState): Promise<boolean> {
        if (!shard.iterator) {
            const got = await this.options.streams.send(
                new GetShardIteratorCommand({
                    StreamArn: this.options.streamArn,
                    ShardId: shard.shardId,
                    ShardIteratorType: shard.lastSequenceNumber ? "AFTER_SEQUENCE_NUMBER" : "TRIM_HORIZON",
                    SequenceNumber: shard.lastSequenceNumber,
                }),
            );
            shard.iterator = got.ShardIterator;
            if (!shard.iterator) {
                shard.closed = true;
                return false;
            }
        }
        let page;
        try {
            page = await this.options.streams.send(
                new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: this.options.batchSize ?? 100 }),
            );
        } catch (error) {
            // "The operation attempted to read past the oldest stream record in a shard" (GetRecords, DynamoDB Streams
            // API Reference): the iterator is stale, not the stream broken. Its documented recovery is a new iterator,
            // which resumes after the checkpoint; DynamoDB Local answers it now and then for a fresh iterator too.
            if ((error as Error).name !== "TrimmedDataAccessException" || shard.renewed) throw error;
            shard.iterator = undefined;
            shard.renewed = true;
            this.passIncomplete = true;
            this.emit("iterator-renewed", { shardId: shard.shardId });
            return false;
        }
        shard.renewed = false;
        const records = page.Records ?? [];
        if (records.length > 0) {
            await this.deliver(shard, records);
            shard.lastSequenceNumber = records[records.length - 1].dynamodb?.SequenceNumber ?? shard.lastSequenceNumber;
        }
        shard.iterator = page.NextShardIterator;
        if (!shard.iterator) shard.closed = true;
        return records.length > 0;
    }

    private async deliver(shard: ShardState, records: _Record[]): Promise<void> {
        let pending = records;
        const maxRetries = this.options.maximumRetryAttempts ?? -1;
        for (let attempt = 0; ; attempt++) {
            try {
                const event: DynamoDBStreamEvent = {
                    Records: pending.map((record) => toStreamRecord(record, this.options.streamArn, this.options.region)),
                };
                const failedAt = firstFailedRecord(await this.options.handler(event), pending);
                if (failedAt === "invalid")
                    throw new Error("invalid partial batch response: an itemIdentifier is empty or not a sequence number of this batch");
                const succeeded = failedAt === -1 ? pending : pending.slice(0, failedAt);
                if (succeeded.length) {
                    // Checkpoint, so a restart resumes after what the handler finished.
                    shard.lastSequenceNumber = succeeded[succeeded.length - 1].dynamodb?.SequenceNumber ?? shard.lastSequenceNumber;
                    this.delivered += succeeded.length;
                    this.emit("delivered", {
                        count: succeeded.length,
                        sequenceNumbers: succeeded.map((record) => record.dynamodb?.SequenceNumber),
                    });
                }
                if (failedAt === -1) return;
                // Checkpoint: everything before the lowest failure is done; retry from it.
                pending = pending.slice(failedAt);
                throw new Error(`the handler reported ${pending[0].dynamodb?.SequenceNumber} as failed`);
            } catch (error) {
                this.emit("handler-error", error);
                if (!this.running || (maxRetries >= 0 && attempt >= maxRetries)) {
                    if (this.running) this.emit("skipped", { count: pending.length });
                    if (!this.running) throw error;
                    return;
                }
                await this.sleep(Math.min(2000, 100 * 2 ** attempt));
            }
        }
    }

    private sleep(ms: number): Promise<void> {
        return new Promise((resolve) => {
            const timer = setTimeout(resolve, ms);
            this.wake = () => {
                clearTimeout(timer);
                resolve();
            };
        });
    }
}
