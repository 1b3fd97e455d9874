import * as v from "valibot";
import { DEFAULTS, LOG_RETENTION_DAYS_ALLOWED } from "../components/defaults";
import { integerIn, oneOf, type ConfigSection } from "./section";

/** Powertools log levels the processor accepts. */
export const PROCESSOR_LOG_LEVELS = ["DEBUG", "INFO", "WARN", "ERROR"] as const;

/** The event processor's settings, typed and defaulted. */
export interface EventProcessorConfig {
    batchSize: number;
    maxBatchingWindowSeconds: number;
    maxConcurrency: number;
    processorMemoryMb: number;
    processorTimeoutSeconds: number;
    maxReceiveCount: number;
    kmsDataKeyReusePeriodSeconds: number;
    maxMessageSize: number;
    logRetentionDays: number;
    eventRetentionDays?: number;
    enabledEventTypes?: string[];
    deletionProtection: boolean;
    alarmEmail?: string;
    oldestMessageAgeAlarmSeconds: number;
    powertoolsLayerVersion: number;
    logLevel: (typeof PROCESSOR_LOG_LEVELS)[number];
}

/**
 * The event processor's config section. `knownEventTypes` are the handler's
 * registered types (`EVENT_TYPE_NAMES`): `enabledEventTypes` must name only these.
 */
export function eventProcessorSection(knownEventTypes: readonly string[]): ConfigSection<EventProcessorConfig> {
    const typesAllowed = `must be a non-empty list of distinct registered event types (${knownEventTypes.join(", ")})`;
    const schema = v.object({
        batchSize: v.optional(integerIn(1, 10, "messages per invocation"), DEFAULTS.batchSize),
        maxBatchingWindowSeconds: v.optional(integerIn(0, 300, "seconds"), DEFAULTS.maxBatchingWindowSeconds),
        maxConcurrency: v.optional(integerIn(2, 1000, "concurrent invocations"), DEFAULTS.maxConcurrency),
        processorMemoryMb: v.optional(integerIn(128, 10_240, "MB"), DEFAULTS.processorMemoryMb),
        processorTimeoutSeconds: v.optional(integerIn(1, 900, "seconds"), DEFAULTS.processorTimeoutSeconds),
        maxReceiveCount: v.optional(integerIn(1, 1000), DEFAULTS.maxReceiveCount),
        kmsDataKeyReusePeriodSeconds: v.optional(integerIn(60, 86_400, "seconds"), DEFAULTS.kmsDataKeyReusePeriodSeconds),
        maxMessageSize: v.optional(integerIn(1024, 1_048_576, "bytes"), DEFAULTS.maxMessageSize),
        logRetentionDays: v.optional(oneOf(LOG_RETENTION_DAYS_ALLOWED), DEFAULTS.logRetentionDays),
        // 0 (the declared default) keeps events forever: no TTL.
        eventRetentionDays: v.optional(v.pipe(integerIn(0, 36_500, "days; 0 keeps events"), v.transform((days) => (days === 0 ? undefined : days)))),
        enabledEventTypes: v.optional(
            v.pipe(
                v.array(v.string(typesAllowed), typesAllowed),
                v.minLength(1, typesAllowed),
                v.check((list) => list.every((t) => knownEventTypes.includes(t)), typesAllowed),
                v.check((list) => new Set(list).size === list.length, typesAllowed),
            ),
        ),
        deletionProtection: v.optional(v.boolean("must be true or false"), DEFAULTS.deletionProtection),
        alarmEmail: v.optional(v.pipe(v.string("must be an e-mail address"), v.email("must be an e-mail address"))),
        oldestMessageAgeAlarmSeconds: v.optional(integerIn(60, 1_209_600, "seconds"), DEFAULTS.oldestMessageAgeAlarmSeconds),
        powertoolsLayerVersion: v.optional(integerIn(1, 10_000, "AWSLambdaPowertoolsTypeScriptV2 layer version"), DEFAULTS.powertoolsLayerVersion),
        logLevel: v.optional(oneOf(PROCESSOR_LOG_LEVELS), DEFAULTS.logLevel),
    });
    return { keys: Object.keys(schema.entries), schema: schema as v.GenericSchema<unknown, EventProcessorConfig> };
}
