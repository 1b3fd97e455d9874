import * as pulumi from "@pulumi/pulumi";
import type * as aws from "@pulumi/aws";
import type { LogLevel } from "../shared/defaults";
import { processorPolicy } from "../shared/iam-documents";
import type { ServiceFunctionArgs } from "../shared/service-function";
import { EVENT_PROCESSOR_ENV, EVENT_PROCESSOR_SERVICE_NAME } from "../../contracts/event-pipeline";

/** `Event` and `Result` are the handler's event and result types. */
export interface EventProcessorFunctionArgs<Event = unknown, Result = unknown> {
    /** Zero-argument factory that builds the handler once per container (`eventProcessorFromEnvironment`). */
    callbackFactory: aws.lambda.CallbackFactory<Event, Result>;
    /** Source queue (the event source mapping reads it). */
    queueArn: pulumi.Input<string>;
    /** Where the handler writes events it rejects. */
    deadLetterQueueArn: pulumi.Input<string>;
    deadLetterQueueUrl: pulumi.Input<string>;
    /** The event store. */
    tableName: pulumi.Input<string>;
    tableArn: pulumi.Input<string>;
    /** The customer-managed key of the queue, table, log group and environment variables. */
    kmsKeyArn: pulumi.Input<string>;
    /**
     * Name prefix the key policy lets CloudWatch Logs encrypt (from `EncryptionKey.logGroupNamePrefix`).
     * The log group is `<prefix><name>`.
     */
    logGroupNamePrefix: string;
    /** Function memory, MB (`EventPipeline` passes `DEFAULTS.processorMemoryMb` unless configured). */
    memorySizeMb: number;
    /** Function timeout, seconds. */
    timeoutSeconds: number;
    /** Messages per invocation. */
    batchSize: number;
    /** Seconds the mapping waits to fill a batch. */
    maxBatchingWindowSeconds: number;
    /** Event source mapping `scalingConfig.maximumConcurrency`. */
    maxConcurrency: number;
    logRetentionDays: number;
    /** Powertools log level; Lambda's JSON log filter (`applicationLogLevel`, `systemLogLevel`) follows it. */
    logLevel: LogLevel;
    /** `ENABLED_EVENT_TYPES`. @default undefined (every registered type) */
    enabledEventTypes?: readonly string[];
    /** `EVENT_RETENTION_DAYS` (TTL). @default undefined (no expiry) */
    retentionDays?: number;
    /**
     * `PRODUCER_TENANTS`: JSON map of producer role unique id -> clientIds ({@link ProducerRoles.tenantMap}).
     * @default undefined (open mode: any sender may write any tenant)
     */
    producerTenants?: pulumi.Input<string>;
    /** Packages from package.json `dependencies` the handler needs in its archive. @default ["valibot"] */
    shippedPackages?: readonly string[];
}

/**
 * The processor's settings a caller of {@link EventPipeline} chooses (the rest comes from the pipeline's own resources);
 * `EventPipeline` applies the defaults (`DEFAULTS`) to those it is not given.
 */
export type EventProcessorSettings = Partial<
    Pick<
        EventProcessorFunctionArgs,
        | "memorySizeMb"
        | "timeoutSeconds"
        | "batchSize"
        | "maxBatchingWindowSeconds"
        | "maxConcurrency"
        | "logRetentionDays"
        | "logLevel"
        | "enabledEventTypes"
    >
>;

/** The processor's type token before it was a {@link ServiceFunction}: the alias that keeps deployed stacks' URNs. */
export const EVENT_PROCESSOR_FORMER_TYPE = "event-ingestion:processing:EventProcessorFunction";

/**
 * The arguments of the event processor's {@link ServiceFunction} `name`: validates SQS events and stores them in the
 * event table, with its least-privilege policy, its environment contract and an SQS event source
 * mapping with partial batch responses.
 *
 * @example
 * const processor = new ServiceFunction("event-processor", eventProcessorFunctionArgs("event-processor", { callbackFactory: eventProcessorFromEnvironment, ...resources }));
 */
export function eventProcessorFunctionArgs<Event, Result>(
    name: string,
    args: EventProcessorFunctionArgs<Event, Result>,
): ServiceFunctionArgs<Event, Result> {
    const environment: Record<string, pulumi.Input<string>> = {
        [EVENT_PROCESSOR_ENV.tableName]: args.tableName,
        [EVENT_PROCESSOR_ENV.deadLetterQueueUrl]: args.deadLetterQueueUrl,
    };
    if (args.enabledEventTypes && args.enabledEventTypes.length > 0)
        environment[EVENT_PROCESSOR_ENV.enabledTypes] = args.enabledEventTypes.join(",");
    if (args.retentionDays !== undefined) environment[EVENT_PROCESSOR_ENV.retentionDays] = String(args.retentionDays);
    if (args.producerTenants !== undefined) environment[EVENT_PROCESSOR_ENV.producerTenants] = args.producerTenants;

    return {
        callbackFactory: args.callbackFactory,
        description: "Validates SQS events and stores them in the event table",
        // The handler's metrics and alarms use the contract's service name, whatever the function is called.
        serviceName: EVENT_PROCESSOR_SERVICE_NAME,
        roleDescription: "Event processor",
        policy: ({ scope, logGroupArn }) =>
            pulumi
                .all([scope, args.queueArn, args.deadLetterQueueArn, args.tableArn, args.kmsKeyArn, logGroupArn])
                .apply(([awsScope, queueArn, deadLetterQueueArn, tableArn, keyArn, logGroup]) =>
                    processorPolicy({ scope: awsScope, queueArn, deadLetterQueueArn, tableArn, keyArn, logGroupArn: logGroup }),
                ),
        kmsKeyArn: args.kmsKeyArn,
        logGroupNamePrefix: args.logGroupNamePrefix,
        environment,
        logLevel: args.logLevel,
        logRetentionDays: args.logRetentionDays,
        memorySizeMb: args.memorySizeMb,
        timeoutSeconds: args.timeoutSeconds,
        shippedPackages: args.shippedPackages,
        queue: {
            arn: args.queueArn,
            batchSize: args.batchSize,
            maxBatchingWindowSeconds: args.maxBatchingWindowSeconds,
            maxConcurrency: args.maxConcurrency,
            // The mapping's name in deployed stacks.
            mappingName: `${name}-events`,
        },
    };
}
