import type * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { EncryptedQueue } from "../shared/encrypted-queue";
import { ServiceFunction } from "../shared/service-function";
import { DEFAULTS, pollingLagSeconds, withDefaults } from "../shared/defaults";
import { EVENT_POLLING_LAG_MARGIN_SECONDS } from "../../contracts/event-pipeline";
import { EventAccessPolicies } from "./event-access-policies";
import { EVENT_PROCESSOR_FORMER_TYPE, eventProcessorFunctionArgs, type EventProcessorSettings } from "./event-processor-function";
import { EventStore } from "./event-store";
import { PipelineMonitoring } from "./pipeline-monitoring";
import { ProducerRoles, type ProducerRoleSpec } from "./producer-roles";

/** `Event` and `Result` are the processor handler's event and result types. */
export interface EventPipelineArgs<Event = unknown, Result = unknown> {
    /** Zero-argument factory of the processor's handler (`eventProcessorFromEnvironment`). */
    processorFactory: aws.lambda.CallbackFactory<Event, Result>;
    /** The customer-managed key of the queue, table, log group and environment variables (`EncryptionKey.arn`). */
    kmsKeyArn: pulumi.Input<string>;
    /** Log group name prefix the key policy admits (`EncryptionKey.logGroupNamePrefix`). */
    logGroupNamePrefix: string;
    /** The shared alarm topic and the alarm name prefix it accepts. */
    alarms: { topicArn: pulumi.Input<string>; namePrefix: string };
    /** The event queue and its DLQ. @default {} (the EncryptedQueue defaults) */
    queue?: {
        /** Receives before SQS moves a message to the DLQ. @default 5 */
        maxReceiveCount?: number;
        /** @default 300 */
        kmsDataKeyReusePeriodSeconds?: number;
        /** Largest event message, bytes. @default 262144 */
        maxMessageSize?: number;
    };
    /** The event table. @default {} (deletion protection, no expiry) */
    store?: {
        /** @default true */
        deletionProtection?: boolean;
        /** Days an event is kept (TTL). @default undefined (no expiry) */
        retentionDays?: number;
        /** The arrival index for a polling Sender. @default false */
        pollingIndex?: boolean;
    };
    /** The processor function and its event source mapping. @default {} (the ServiceFunction and mapping defaults) */
    processor?: {
        /** The function's logical name, also its log group's suffix. @default "event-processor" */
        name?: string;
    } & EventProcessorSettings;
    /** Tenant isolation: a send-only role per producer. @default undefined (open mode: any sender may write any tenant) */
    producers?: Readonly<Record<string, ProducerRoleSpec>>;
    /** Alarm when the oldest event waits longer than this, seconds. @default 300 */
    oldestMessageAgeAlarmSeconds?: number;
}

/** The pipeline's defaults (`DEFAULTS`, by config key) under the names of its arguments. */
const PIPELINE_DEFAULTS = {
    queue: {
        maxReceiveCount: DEFAULTS.maxReceiveCount,
        kmsDataKeyReusePeriodSeconds: DEFAULTS.kmsDataKeyReusePeriodSeconds,
        maxMessageSize: DEFAULTS.maxMessageSize,
    },
    store: { deletionProtection: DEFAULTS.deletionProtection, pollingIndex: DEFAULTS.eventPollingIndex },
    processor: {
        name: "event-processor",
        memorySizeMb: DEFAULTS.processorMemoryMb,
        timeoutSeconds: DEFAULTS.processorTimeoutSeconds,
        batchSize: DEFAULTS.batchSize,
        maxBatchingWindowSeconds: DEFAULTS.maxBatchingWindowSeconds,
        maxConcurrency: DEFAULTS.maxConcurrency,
        logRetentionDays: DEFAULTS.logRetentionDays,
        logLevel: DEFAULTS.logLevel,
    },
} as const;

/** Components that were registered at the stack's root before this component grouped them. */
const FROM_STACK_ROOT = { aliases: [{ parent: pulumi.rootStackResource }] };

/**
 * The event side of the stack: producers send events to an encrypted queue (MessageGroupId =
 * clientId for fair queues); the processor validates them and stores them in the event table,
 * whose stream feeds consumers. Also the producer roles, alarms and dashboard, and the managed
 * policies (send, read the stream, read the table) the stack exports.
 *
 * @example
 * const events = new EventPipeline("events", {
 *     processorFactory: eventProcessorFromEnvironment,
 *     kmsKeyArn: key.arn,
 *     logGroupNamePrefix: key.logGroupNamePrefix,
 *     alarms: { topicArn: alarms.topic.arn, namePrefix: key.alarmNamePrefix },
 *     processor: { batchSize: 10 },
 * });
 * export const eventQueueUrl = events.queue.queue.url;
 */
export class EventPipeline<Event = unknown, Result = unknown> extends pulumi.ComponentResource {
    readonly queue: EncryptedQueue;
    readonly store: EventStore;
    /** Present when `producers` is set. */
    readonly producers?: ProducerRoles;
    readonly processor: ServiceFunction<Event, Result>;
    readonly monitoring: PipelineMonitoring;
    readonly access: EventAccessPolicies;
    /** What a polling Sender needs besides the table: present when the store has the arrival index. */
    readonly polling?: { readonly indexName: string; readonly lagSeconds: number };

    constructor(name: string, args: EventPipelineArgs<Event, Result>, opts?: pulumi.ComponentResourceOptions) {
        super("event-ingestion:events:EventPipeline", name, {}, opts);
        // The components keep their pre-grouping root URNs through an alias each; their children inherit it.
        const child = { parent: this, ...FROM_STACK_ROOT };
        // The defaults are applied here, once; the children receive resolved settings.
        const { name: processorName, ...processor } = withDefaults(PIPELINE_DEFAULTS.processor, args.processor);
        const queue = withDefaults(PIPELINE_DEFAULTS.queue, args.queue);
        const store = withDefaults(PIPELINE_DEFAULTS.store, args.store);

        this.queue = new EncryptedQueue(
            name,
            {
                kmsKeyArn: args.kmsKeyArn,
                consumerTimeoutSeconds: processor.timeoutSeconds,
                consumerBatchingWindowSeconds: processor.maxBatchingWindowSeconds,
                ...queue,
            },
            child,
        );
        this.store = new EventStore(name, { kmsKeyArn: args.kmsKeyArn, ...store }, child);
        this.producers = args.producers
            ? new ProducerRoles(name, { producers: args.producers, queueArn: this.queue.queue.arn, kmsKeyArn: args.kmsKeyArn }, child)
            : undefined;

        this.processor = new ServiceFunction(
            processorName,
            eventProcessorFunctionArgs(processorName, {
                callbackFactory: args.processorFactory,
                queueArn: this.queue.queue.arn,
                deadLetterQueueArn: this.queue.deadLetterQueue.arn,
                deadLetterQueueUrl: this.queue.deadLetterQueue.url,
                tableName: this.store.table.name,
                tableArn: this.store.table.arn,
                kmsKeyArn: args.kmsKeyArn,
                logGroupNamePrefix: args.logGroupNamePrefix,
                ...processor,
                retentionDays: args.store?.retentionDays,
                producerTenants: this.producers?.tenantMap,
            }),
            // Before ServiceFunction, the processor was its own component type at the stack's root.
            { parent: this, aliases: [{ type: EVENT_PROCESSOR_FORMER_TYPE, parent: pulumi.rootStackResource }] },
        );

        this.monitoring = new PipelineMonitoring(
            name,
            {
                alarmTopicArn: args.alarms.topicArn,
                alarmNamePrefix: args.alarms.namePrefix,
                processor: this.processor.function,
                queue: this.queue.queue,
                deadLetterQueue: this.queue.deadLetterQueue,
                table: this.store.table,
                oldestMessageAgeSeconds: args.oldestMessageAgeAlarmSeconds ?? DEFAULTS.oldestMessageAgeAlarmSeconds,
            },
            child,
        );
        this.access = new EventAccessPolicies(
            name,
            {
                queueArn: this.queue.queue.arn,
                tableArn: this.store.table.arn,
                streamArn: this.store.table.streamArn,
                kmsKeyArn: args.kmsKeyArn,
                pollingIndexArn: this.store.pollingIndexArn,
            },
            child,
        );
        if (this.store.pollingIndexName) {
            this.polling = {
                indexName: this.store.pollingIndexName,
                lagSeconds: pollingLagSeconds(processor.timeoutSeconds, EVENT_POLLING_LAG_MARGIN_SECONDS),
            };
        }
        this.registerOutputs({
            queueUrl: this.queue.queue.url,
            tableName: this.store.table.name,
            processorName: this.processor.function.name,
        });
    }
}
