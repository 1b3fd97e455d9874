/**
 * The one place where the stack config becomes component arguments: each component
 * takes arguments in its own terms, and program.ts adds the resources they share (keys,
 * the alarm topic) and the handler factories. Config imports component types here;
 * components never import config.
 */
import type { EmailServiceArgs } from "../components/email-service/email-service";
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
    /** The `EventPipeline`, without the resources and handler program.ts gives it. */
    events: Omit<EventPipelineArgs, "processorFactory" | "kmsKeyArn" | "logGroupNamePrefix" | "alarms">;
    /** The `EmailService`, without the resources and handlers program.ts gives it. */
    email: {
        api: Omit<EmailServiceArgs["api"], "factory">;
        worker: Omit<EmailServiceArgs["worker"], "factory">;
    } & Omit<EmailServiceArgs, "api" | "worker" | "kmsKeyArn" | "logGroupNamePrefix" | "alarms">;
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
    const email = config.emailService;
    return {
        shared: { tags: stackTags(config.tags), alarmEmail: events.alarmEmail },
        events: {
            queue: {
                maxReceiveCount: events.maxReceiveCount,
                kmsDataKeyReusePeriodSeconds: events.kmsDataKeyReusePeriodSeconds,
                maxMessageSize: events.maxMessageSize,
            },
            store: {
                deletionProtection: events.deletionProtection,
                retentionDays: events.eventRetentionDays,
                pollingIndex: events.eventPollingIndex,
            },
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
        email: {
            api: {
                authorization: email.emailApiAuthorization,
                throttleRateLimit: email.emailThrottleRateLimit,
                throttleBurstLimit: email.emailThrottleBurstLimit,
                memorySizeMb: email.emailApiMemoryMb,
                timeoutSeconds: email.emailApiTimeoutSeconds,
                largeBodyThresholdBytes: email.emailLargeBodyThresholdBytes,
                maxRequestBytes: email.emailMaxRequestBytes,
                maxRecipients: email.emailMaxRecipients,
                maxScheduleAheadDays: email.emailMaxScheduleAheadDays,
                idempotencyTtlHours: email.emailIdempotencyTtlHours,
                tenantLanes: email.emailTenantLanes,
                senders: email.emailSenders,
            },
            worker: {
                memorySizeMb: email.emailWorkerMemoryMb,
                timeoutSeconds: email.emailWorkerTimeoutSeconds,
                batchSize: email.emailWorkerBatchSize,
                maxConcurrency: email.emailWorkerMaxConcurrency,
                smtp: email.emailSmtp,
            },
            queue: { maxReceiveCount: email.emailMaxReceiveCount, oldestMessageAgeAlarmSeconds: email.emailOldestMessageAgeAlarmSeconds },
            storage: {
                contentRetentionDays: email.emailContentRetentionDays,
                deletionProtection: email.emailDeletionProtection,
                statusRetentionDays: email.emailStatusRetentionDays,
            },
            logs: { retentionDays: email.emailLogRetentionDays, level: email.emailLogLevel },
            ses: { identities: email.emailSesIdentities, configurationSetName: email.emailSesConfigurationSet },
        },
    };
}
