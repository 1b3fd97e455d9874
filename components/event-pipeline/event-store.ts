import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { POINT_IN_TIME_RECOVERY } from "../shared/defaults";
import { EVENT_TABLE_KEYS, EVENT_TTL_ATTRIBUTE } from "../../contracts/event-pipeline";

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
}

/**
 * The event store: a DynamoDB table keyed by `clientId` (HASH) and `eventId`
 * (RANGE), on-demand, encrypted with the customer-managed key, with PITR,
 * deletion protection and a `NEW_IMAGE` stream for the Sender.
 *
 * @example
 * const store = new EventStore("events", { kmsKeyArn: key.arn, retentionDays: 90 });
 * export const eventStreamArn = store.table.streamArn;
 */
export class EventStore extends pulumi.ComponentResource {
    readonly table: aws.dynamodb.Table;

    constructor(name: string, args: EventStoreArgs, opts?: pulumi.ComponentResourceOptions) {
        super("event-ingestion:storage:EventStore", name, {}, opts);
        if (args.retentionDays !== undefined && (!Number.isInteger(args.retentionDays) || args.retentionDays < 1)) {
            throw new RangeError(`EventStore retentionDays = ${JSON.stringify(args.retentionDays)}: must be a positive integer`);
        }
        this.table = new aws.dynamodb.Table(
            name,
            {
                billingMode: "PAY_PER_REQUEST",
                hashKey: EVENT_TABLE_KEYS.partition,
                rangeKey: EVENT_TABLE_KEYS.sort,
                attributes: [
                    { name: EVENT_TABLE_KEYS.partition, type: "S" },
                    { name: EVENT_TABLE_KEYS.sort, type: "S" },
                ],
                serverSideEncryption: { enabled: true, kmsKeyArn: args.kmsKeyArn },
                pointInTimeRecovery: { enabled: args.pointInTimeRecovery ?? POINT_IN_TIME_RECOVERY },
                deletionProtectionEnabled: args.deletionProtection,
                streamEnabled: true,
                streamViewType: "NEW_IMAGE",
                ...(args.retentionDays !== undefined ? { ttl: { enabled: true, attributeName: EVENT_TTL_ATTRIBUTE } } : {}),
            },
            { parent: this },
        );
        this.registerOutputs({ tableName: this.table.name, tableArn: this.table.arn, streamArn: this.table.streamArn });
    }
}
