import * as v from "valibot";
import { DEFAULTS, LOG_RETENTION_DAYS_ALLOWED, SQS_MAX_MESSAGE_SIZE_BYTES } from "../components/shared/defaults";
import { SQS_DEFAULT_BATCH_SIZE, SQS_STANDARD_MAX_BATCH_SIZE } from "../components/shared/event-source-rules";
import { CLIENT_ID_PATTERN, EVENT_DEAD_LETTER_RESERVED_BYTES } from "../contracts/event-pipeline";
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
    /** The arrival index for a polling Sender (a global secondary index: one more write unit per event). */
    eventPollingIndex: boolean;
    alarmEmail?: string;
    oldestMessageAgeAlarmSeconds: number;
    logLevel: (typeof PROCESSOR_LOG_LEVELS)[number];
    /** Tenant isolation: producer name -> its tenants and who may assume its role. @default undefined (open mode) */
    producers?: Record<string, ProducerConfig>;
}

/** One producer: the stack creates a send-only role for it, assumable by `principals`, allowed to write `tenants`. */
export interface ProducerConfig {
    /** clientIds this producer may write (1-100, distinct). */
    tenants: string[];
    /** AWS principals allowed to assume the producer role: account ids or IAM role/user/root ARNs (no wildcards). */
    principals: string[];
    /** Required `sts:ExternalId` when assuming the role (for principals in another organisation). @default undefined */
    externalId?: string;
}

/** Producer names: they become part of IAM resource names and output keys. */
export const PRODUCER_NAME_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;
const ACCOUNT_OR_PRINCIPAL_ARN =
    /^(\d{12}|arn:aws(-cn|-us-gov|-iso[a-z]?)?:iam::\d{12}:(root|role\/[\w+=,.@/-]{1,512}|user\/[\w+=,.@/-]{1,512}))$/;
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;
/** Lambda allows 4 KB for all environment variables together; the tenant map may take this much of it. */
export const MAX_PRODUCER_TENANTS_BYTES = 3000;
/** Upper bound of a role unique id's length in the rendered map (AROA + 17 characters today). */
const ROLE_UNIQUE_ID_BYTES = 32;

/** Every problem with a `producers` value, each naming the sub-field; empty when valid. */
export function producerProblems(value: unknown, clientIdPattern: RegExp): string[] {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        return ["must be a map of producer name to { tenants: [clientId, ...], principals: [account id or IAM ARN, ...], externalId? }"];
    }
    const problems: string[] = [];
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) problems.push("must name at least one producer (remove the key for open mode)");
    let mapBytes = 2;
    for (const [name, producer] of entries) {
        const at = PRODUCER_NAME_PATTERN.test(name) ? name : "<name>";
        if (!PRODUCER_NAME_PATTERN.test(name))
            problems.push(`producer name "${name.slice(0, 40)}" must match ${PRODUCER_NAME_PATTERN} (lower-case letters, digits, -)`);
        if (typeof producer !== "object" || producer === null || Array.isArray(producer)) {
            problems.push(`${at} must be an object with tenants and principals`);
            continue;
        }
        const { tenants, principals, externalId, ...unknown } = producer as Record<string, unknown>;
        for (const key of Object.keys(unknown))
            problems.push(`${at}.${key.slice(0, 40)} is not a producer setting (tenants, principals, externalId)`);
        if (!Array.isArray(tenants) || tenants.length === 0 || tenants.length > 100) {
            problems.push(`${at}.tenants must be a list of 1-100 clientIds`);
        } else {
            tenants.forEach((tenant, i) => {
                if (typeof tenant !== "string" || !clientIdPattern.test(tenant))
                    problems.push(`${at}.tenants[${i}] must be a clientId (1-128 of A-Z a-z 0-9 . _ : -)`);
            });
            if (new Set(tenants).size !== tenants.length) problems.push(`${at}.tenants must not repeat a clientId`);
            mapBytes += ROLE_UNIQUE_ID_BYTES + 6 + tenants.reduce((sum: number, t) => sum + String(t).length + 3, 0);
        }
        if (!Array.isArray(principals) || principals.length === 0 || principals.length > 20) {
            problems.push(`${at}.principals must be a list of 1-20 AWS account ids or IAM role/user/root ARNs`);
        } else {
            principals.forEach((principal, i) => {
                if (typeof principal !== "string" || !ACCOUNT_OR_PRINCIPAL_ARN.test(principal)) {
                    problems.push(`${at}.principals[${i}] must be a 12-digit account id or an IAM role/user/root ARN, without wildcards`);
                }
            });
        }
        if (externalId !== undefined && (typeof externalId !== "string" || !EXTERNAL_ID.test(externalId))) {
            problems.push(`${at}.externalId must be 2-1224 characters of A-Z a-z 0-9 + = , . @ : / - _`);
        }
    }
    if (mapBytes > MAX_PRODUCER_TENANTS_BYTES) {
        problems.push(
            `the tenant map would take about ${mapBytes} bytes of the processor's environment; at most ${MAX_PRODUCER_TENANTS_BYTES} fit Lambda's 4 KB limit`,
        );
    }
    return problems;
}

/** What `Pulumi.yaml` says of each key (the ranges are the schema's below). */
const DESCRIPTIONS: Record<keyof EventProcessorConfig, string> = {
    batchSize: `Event processor: messages per invocation (1-${SQS_STANDARD_MAX_BATCH_SIZE}; above ${SQS_DEFAULT_BATCH_SIZE} needs maxBatchingWindowSeconds >= 1).`,
    maxBatchingWindowSeconds: `Event processor: seconds the event source mapping may wait to fill a batch (0-300; at least 1 while batchSize is above ${SQS_DEFAULT_BATCH_SIZE}).`,
    maxConcurrency: "Event processor: concurrent invocations the SQS poller may start (2-1000).",
    processorMemoryMb: "Event processor Lambda memory, MB (128-10240).",
    processorTimeoutSeconds: "Event processor Lambda timeout, seconds (1-900); the queue's visibility timeout is derived from it.",
    maxReceiveCount: "Receives before SQS moves an event to the DLQ (1-1000).",
    kmsDataKeyReusePeriodSeconds: "SQS SSE-KMS data key reuse period, seconds (60-86400).",
    maxMessageSize: `Largest event message, bytes (1024-${SQS_MAX_MESSAGE_SIZE_BYTES - EVENT_DEAD_LETTER_RESERVED_BYTES}: the DLQ keeps ${EVENT_DEAD_LETTER_RESERVED_BYTES} bytes for the reason).`,
    logRetentionDays: "Event processor log retention, days (a CloudWatch Logs retention value: 1, 3, 5, 7, 14, 30, ...).",
    eventRetentionDays: "Days a stored event is kept (DynamoDB TTL); 0 keeps events forever.",
    enabledEventTypes: "Event types the processor accepts; [] accepts every registered type.",
    deletionProtection: "Deletion protection on the event table.",
    eventPollingIndex:
        "The arrival index (DynamoDB global secondary index byArrival: clientId, receivedAt; KEYS_ONLY) for a Sender that polls; adds one write unit per event. Turning it on is an in-place table update (DynamoDB backfills the index).",
    alarmEmail:
        "E-mail address subscribed to the alarm topic. Required on every stack that deploys to AWS (alarms would notify no one); only emulator stacks (aws:endpoints) may leave it empty.",
    oldestMessageAgeAlarmSeconds: "Alarm when the oldest event waits longer than this, seconds (60-1209600).",
    producers:
        "Tenant isolation: producer name -> { tenants: [clientId, ...], principals: [account id or IAM ARN, ...], externalId? }. The stack creates a send-only role per producer and the processor rejects events for other tenants (sender_not_allowed). {} is open mode: any sender may write any tenant (docs/producers.md).",
    logLevel: "Event processor log level: DEBUG, INFO, WARN or ERROR.",
};

/**
 * The event processor's config section. `knownEventTypes` are the handler's
 * registered types (`EVENT_TYPE_NAMES`): `enabledEventTypes` must name only these.
 */
export function eventProcessorSection(knownEventTypes: readonly string[]): ConfigSection<EventProcessorConfig> {
    const typesAllowed = `must be a non-empty list of distinct registered event types (${knownEventTypes.join(", ")})`;
    const entries = v.object({
        batchSize: v.optional(integerIn(1, SQS_STANDARD_MAX_BATCH_SIZE, "messages per invocation"), DEFAULTS.batchSize),
        maxBatchingWindowSeconds: v.optional(integerIn(0, 300, "seconds"), DEFAULTS.maxBatchingWindowSeconds),
        maxConcurrency: v.optional(integerIn(2, 1000, "concurrent invocations"), DEFAULTS.maxConcurrency),
        processorMemoryMb: v.optional(integerIn(128, 10_240, "MB"), DEFAULTS.processorMemoryMb),
        processorTimeoutSeconds: v.optional(integerIn(1, 900, "seconds"), DEFAULTS.processorTimeoutSeconds),
        maxReceiveCount: v.optional(integerIn(1, 1000), DEFAULTS.maxReceiveCount),
        kmsDataKeyReusePeriodSeconds: v.optional(integerIn(60, 86_400, "seconds"), DEFAULTS.kmsDataKeyReusePeriodSeconds),
        // The DLQ is SQS's maximum; a rejected body keeps EVENT_DEAD_LETTER_RESERVED_BYTES free there for its reason.
        maxMessageSize: v.optional(
            integerIn(1024, SQS_MAX_MESSAGE_SIZE_BYTES - EVENT_DEAD_LETTER_RESERVED_BYTES, "bytes"),
            DEFAULTS.maxMessageSize,
        ),
        logRetentionDays: v.optional(oneOf(LOG_RETENTION_DAYS_ALLOWED), DEFAULTS.logRetentionDays),
        // 0 (the declared default) keeps events forever: no TTL.
        eventRetentionDays: v.optional(
            v.pipe(
                integerIn(0, 36_500, "days; 0 keeps events"),
                v.transform((days) => (days === 0 ? undefined : days)),
            ),
        ),
        enabledEventTypes: v.optional(
            v.pipe(
                v.array(v.string(typesAllowed), typesAllowed),
                v.minLength(1, typesAllowed),
                v.check((list) => list.every((t) => knownEventTypes.includes(t)), typesAllowed),
                v.check((list) => new Set(list).size === list.length, typesAllowed),
            ),
        ),
        deletionProtection: v.optional(v.boolean("must be true or false"), DEFAULTS.deletionProtection),
        eventPollingIndex: v.optional(v.boolean("must be true or false"), DEFAULTS.eventPollingIndex),
        alarmEmail: v.optional(v.pipe(v.string("must be an e-mail address"), v.email("must be an e-mail address"))),
        oldestMessageAgeAlarmSeconds: v.optional(integerIn(60, 1_209_600, "seconds"), DEFAULTS.oldestMessageAgeAlarmSeconds),
        logLevel: v.optional(oneOf(PROCESSOR_LOG_LEVELS), DEFAULTS.logLevel),
        producers: v.optional(
            v.pipe(
                v.unknown(),
                v.rawCheck(({ dataset, addIssue }) => {
                    if (dataset.typed) for (const message of producerProblems(dataset.value, CLIENT_ID_PATTERN)) addIssue({ message });
                }),
                v.transform((value) => value as Record<string, ProducerConfig>),
            ),
        ),
    });
    const schema = v.pipe(
        entries,
        v.forward(
            // A partial check runs even when other keys are invalid, so this problem is reported with theirs.
            v.partialCheck(
                [["batchSize"], ["maxBatchingWindowSeconds"]],
                (c) => c.batchSize <= SQS_DEFAULT_BATCH_SIZE || c.maxBatchingWindowSeconds >= 1,
                `above ${SQS_DEFAULT_BATCH_SIZE} needs maxBatchingWindowSeconds >= 1 (Lambda refuses a larger batch without a batching window)`,
            ),
            ["batchSize"],
        ),
    );
    return {
        keys: Object.keys(entries.entries),
        descriptions: DESCRIPTIONS,
        schema: schema as unknown as v.GenericSchema<unknown, EventProcessorConfig>,
    };
}
