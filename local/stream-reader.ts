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
import type { DynamoDBRecord, DynamoDBStreamEvent } from "aws-lambda";
import { EventEmitter } from "node:events";

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
    /** The stream-triggered function. Throwing retries the same batch. */
    handler(event: DynamoDBStreamEvent): Promise<void>;
}

interface ShardState {
    shardId: string;
    iterator?: string;
    lastSequenceNumber?: string;
    closed: boolean;
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
            ApproximateCreationDateTime: dynamodb.ApproximateCreationDateTime ? Math.floor(new Date(dynamodb.ApproximateCreationDateTime).getTime() / 1000) : undefined,
            Keys: dynamodb.Keys as any,
            NewImage: dynamodb.NewImage as any,
            OldImage: dynamodb.OldImage as any,
            SequenceNumber: dynamodb.SequenceNumber,
            SizeBytes: dynamodb.SizeBytes,
            StreamViewType: dynamodb.StreamViewType as any,
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

    constructor(private readonly options: StreamReaderOptions) {
        super();
    }

    /** Stream records handed to the handler so far. */
    get recordsDelivered(): number {
        return this.delivered;
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
    }

    private async run(): Promise<void> {
        let lastDiscovery = 0;
        while (this.running) {
            try {
                if (Date.now() - lastDiscovery > 1000 || this.shards.size === 0 || [...this.shards.values()].every((s) => s.closed)) {
                    await this.discoverShards();
                    lastDiscovery = Date.now();
                }
                let sawRecords = false;
                for (const shard of this.shards.values()) {
                    if (!this.running) break;
                    if (shard.closed) continue;
                    sawRecords = (await this.pollShard(shard)) || sawRecords;
                }
                if (!sawRecords) await this.sleep(this.options.pollIntervalMs ?? 100);
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
        const page = await this.options.streams.send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: this.options.batchSize ?? 100 }));
        const records = page.Records ?? [];
        if (records.length > 0) {
            await this.deliver(records);
            shard.lastSequenceNumber = records[records.length - 1].dynamodb?.SequenceNumber ?? shard.lastSequenceNumber;
        }
        shard.iterator = page.NextShardIterator;
        if (!shard.iterator) shard.closed = true;
        return records.length > 0;
    }

    private async deliver(records: _Record[]): Promise<void> {
        const event: DynamoDBStreamEvent = { Records: records.map((r) => toStreamRecord(r, this.options.streamArn, this.options.region)) };
        const maxRetries = this.options.maximumRetryAttempts ?? -1;
        for (let attempt = 0; ; attempt++) {
            try {
                await this.options.handler(event);
                this.delivered += records.length;
                this.emit("delivered", { count: records.length });
                return;
            } catch (error) {
                this.emit("handler-error", error);
                if (!this.running || (maxRetries >= 0 && attempt >= maxRetries)) {
                    if (this.running) this.emit("skipped", { count: records.length });
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
