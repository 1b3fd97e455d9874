import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { POINT_IN_TIME_RECOVERY } from "../shared/defaults";
import { EVENT_ARRIVAL_INDEX, EVENT_TABLE_KEYS, EVENT_TTL_ATTRIBUTE } from "../../contracts/event-pipeline";

export interface EventStoreArgs {
    /** ARN of the customer-managed key that encrypts the table and its stream. */
    kmsKeyArn: pulumi.Input<string>;
    /** Refuse `DeleteTable` until this is turned off (`EventPipeline` passes `DEFAULTS.deletionProtection` unless configured). */
    deletionProtection: boolean;
    /**
     * Days an event is kept. When set, DynamoDB TTL deletes items after their
     * `expiresAt` attribute (the handler writes it); when unset, events are kept.
     * @default undefined (no expiry)
     */
    retentionDays?: number;
    /**
     * Point-in-time recovery.
     * @default true
     */
    pointInTimeRecovery?: boolean;
    /**
     * The arrival index for a polling Sender: a KEYS_ONLY global secondary index on `clientId` (HASH)
     * and `receivedAt` (RANGE). Adding it to a deployed table is an in-place update (DynamoDB backfills
     * it from the stored items); every later write pays one more write unit for its entry.
     * (`EventPipeline` passes `DEFAULTS.eventPollingIndex` unless configured.)
     */
    pollingIndex: boolean;
}

/**
 * The event store: a DynamoDB table keyed by `clientId` (HASH) and `eventId`
 * (RANGE), on-demand, encrypted with the customer-managed key, with PITR,
 * deletion protection and a `NEW_IMAGE` stream for the Sender; optionally the
 * arrival index a polling Sender queries by `receivedAt`.
 *
 * @example
 * const store = new EventStore("events", { kmsKeyArn: key.arn, retentionDays: 90 });
 * export const eventStreamArn = store.table.streamArn;
 */
export class EventStore extends pulumi.ComponentResource {
    readonly table: aws.dynamodb.Table;
    /** The arrival index's name, when `pollingIndex` is on. */
    readonly pollingIndexName?: string;
    /** The arrival index's ARN (`<table ARN>/index/<name>`), when `pollingIndex` is on. */
    readonly pollingIndexArn?: pulumi.Output<string>;

    constructor(name: string, args: EventStoreArgs, opts?: pulumi.ComponentResourceOptions) {
        super("event-ingestion:storage:EventStore", name, {}, opts);
        if (args.retentionDays !== undefined && (!Number.isInteger(args.retentionDays) || args.retentionDays < 1)) {
            throw new RangeError(`EventStore retentionDays = ${JSON.stringify(args.retentionDays)}: must be a positive integer`);
        }
        const pollingIndex = args.pollingIndex;
        this.table = new aws.dynamodb.Table(
            name,
            {
                billingMode: "PAY_PER_REQUEST",
                hashKey: EVENT_TABLE_KEYS.partition,
                rangeKey: EVENT_TABLE_KEYS.sort,
                attributes: [
                    { name: EVENT_TABLE_KEYS.partition, type: "S" },
                    { name: EVENT_TABLE_KEYS.sort, type: "S" },
                    // DynamoDB declares only key attributes; the handler writes receivedAt as a string on every item.
                    ...(pollingIndex ? [{ name: EVENT_ARRIVAL_INDEX.sort, type: "S" }] : []),
                ],
                // Added in place to a deployed table: UpdateTable creates the index and backfills it.
                ...(pollingIndex
                    ? {
                          globalSecondaryIndexes: [
                              {
                                  name: EVENT_ARRIVAL_INDEX.name,
                                  keySchemas: [
                                      { attributeName: EVENT_ARRIVAL_INDEX.partition, keyType: "HASH" },
                                      { attributeName: EVENT_ARRIVAL_INDEX.sort, keyType: "RANGE" },
                                  ],
                                  projectionType: EVENT_ARRIVAL_INDEX.projection,
                              },
                          ],
                      }
                    : {}),
                serverSideEncryption: { enabled: true, kmsKeyArn: args.kmsKeyArn },
                pointInTimeRecovery: { enabled: args.pointInTimeRecovery ?? POINT_IN_TIME_RECOVERY },
                deletionProtectionEnabled: args.deletionProtection,
                streamEnabled: true,
                streamViewType: "NEW_IMAGE",
                ...(args.retentionDays !== undefined ? { ttl: { enabled: true, attributeName: EVENT_TTL_ATTRIBUTE } } : {}),
            },
            { parent: this },
        );
        if (pollingIndex) {
            this.pollingIndexName = EVENT_ARRIVAL_INDEX.name;
            this.pollingIndexArn = pulumi.interpolate`${this.table.arn}/index/${EVENT_ARRIVAL_INDEX.name}`;
        }
        this.registerOutputs({
            tableName: this.table.name,
            tableArn: this.table.arn,
            streamArn: this.table.streamArn,
            pollingIndexName: this.pollingIndexName,
        });
    }
}
