/**
 * The one place where the stack config becomes component arguments: each component
 * takes arguments in its own terms, and index.ts adds the resources they share (keys,
 * the alarm topic) and the handler factories. Config imports component types here;
 * components never import config.
 */
import type { EventPipelineArgs } from "../components/event-pipeline/event-pipeline";
import type { StackConfig } from "./index";
import { stackTags } from "./tags";

/** The arguments every component gets from config. */
export interface ComponentArgs {
    /** Settings of the whole stack. */
    shared: {
        /** Owner and cost-allocation tags of every taggable resource. */
        tags: Record<string, string>;
        /** Subscribed to the alarm topic. @default undefined (no subscription) */
        alarmEmail?: string;
    };
    /** The `EventPipeline`, without the resources and handler index.ts gives it. */
    events: Omit<EventPipelineArgs, "processorFactory" | "kmsKeyArn" | "logGroupNamePrefix" | "alarms">;
}

/**
 * Maps a validated stack config to component arguments.
 *
 * @example
 * const args = componentArgs(loadStackConfig());
 * new EventPipeline("events", { ...args.events, processorFactory, kmsKeyArn: key.arn, logGroupNamePrefix, alarms });
 */
export function componentArgs(config: StackConfig): ComponentArgs {
    const events = config.eventProcessor;
    return {
        shared: { tags: stackTags(config.tags), alarmEmail: events.alarmEmail },
        events: {
            queue: {
                maxReceiveCount: events.maxReceiveCount,
                kmsDataKeyReusePeriodSeconds: events.kmsDataKeyReusePeriodSeconds,
                maxMessageSize: events.maxMessageSize,
            },
            store: { deletionProtection: events.deletionProtection, retentionDays: events.eventRetentionDays },
            processor: {
                memorySizeMb: events.processorMemoryMb,
                timeoutSeconds: events.processorTimeoutSeconds,
                batchSize: events.batchSize,
                maxBatchingWindowSeconds: events.maxBatchingWindowSeconds,
                maxConcurrency: events.maxConcurrency,
                logRetentionDays: events.logRetentionDays,
                logLevel: events.logLevel,
                enabledEventTypes: events.enabledEventTypes,
            },
            producers: events.producers,
            oldestMessageAgeAlarmSeconds: events.oldestMessageAgeAlarmSeconds,
        },
    };
}
