/**
 * Every default of the program, in one pure place (no Pulumi resources, no I/O): the
 * platform's secure settings, the shared blocks' defaults (`ENCRYPTED_QUEUE_DEFAULTS`,
 * `SERVICE_FUNCTION_DEFAULTS`) and each system's (`DEFAULTS` for the event pipeline,
 * `EMAIL_SERVICE_DEFAULTS`). A component applies its own defaults once, in its
 * constructor, and hands its children resolved values. The config sections default
 * their keys from these; `Pulumi.yaml`'s `config:` block and the README's "Default
 * settings" table are generated from them (`npm run generate`; a test fails on drift).
 */
import { EMAIL_API_DEFAULTS, EMAIL_SMTP_DEFAULTS } from "../../contracts/email-service";

/** The Lambda runtime every function in this program declares. */
export const LAMBDA_RUNTIME = "nodejs22.x" as const;
/** Graviton: cheaper per GB-second and the Powertools layer is architecture-independent. */
export const LAMBDA_ARCHITECTURE = "arm64" as const;
/** X-Ray active tracing on every function. */
export const LAMBDA_TRACING_MODE = "Active" as const;

/** AWS recommends a source queue visibility timeout of at least 6x the function timeout. */
export const VISIBILITY_TIMEOUT_MULTIPLIER = 6;
/** SQS's hard upper bound for a visibility timeout (12 hours). */
export const MAX_VISIBILITY_TIMEOUT_SECONDS = 43_200;
/** Dead-letter queues keep messages for the SQS maximum: 14 days. */
export const DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 60 * 60;
/** Source queues keep messages 4 days, SQS's default (its maximum is 14 days, kept for dead-letter queues). */
export const SOURCE_QUEUE_RETENTION_SECONDS = 4 * 24 * 60 * 60;
/** SQS's largest message (1 MiB since 2025); the program sets it explicitly. */
export const SQS_MAX_MESSAGE_SIZE_BYTES = 1_048_576;

/** Retention values CloudWatch Logs accepts. */
export const LOG_RETENTION_DAYS_ALLOWED = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** KMS: automatic rotation period and the waiting period of a scheduled deletion. */
export const KEY_ROTATION_PERIOD_DAYS = 365;
export const KEY_DELETION_WINDOW_DAYS = 30;
/** SQS long polling: fewer empty receives, lower cost. */
export const RECEIVE_WAIT_TIME_SECONDS = 20;
/** DynamoDB point-in-time recovery on every table. */
export const POINT_IN_TIME_RECOVERY = true;

/**
 * How long an email's status (and its history) is kept, days, counted from acceptance or from its
 * sendAt when that is later: above the longest schedule horizon's default (30 days ahead) is not
 * needed, because the clock starts at sendAt; SES reports complaints days after delivery at most.
 */
export const EMAIL_STATUS_RETENTION_DAYS = 30;

/** AWS's public Powertools for AWS Lambda (TypeScript) layer account (commercial partition). */
export const POWERTOOLS_LAYER_ACCOUNT = "094274105915";
/** The name of AWS's public Powertools for AWS Lambda (TypeScript) v2 layer. */
export const POWERTOOLS_LAYER_NAME = "AWSLambdaPowertoolsTypeScriptV2";

/**
 * Defaults of an `EncryptedQueue` created without the setting (the email queue takes
 * them; the event pipeline passes its own, {@link DEFAULTS}).
 */
export const ENCRYPTED_QUEUE_DEFAULTS = {
    /** Receives before SQS moves a message to the DLQ. */
    maxReceiveCount: 5,
    /** How long SQS reuses a KMS data key (seconds); longer = fewer KMS calls. */
    kmsDataKeyReusePeriodSeconds: 300,
    /** Largest message the source queue accepts, bytes. */
    maxMessageSize: 262_144,
    /** The consumer's batching window, added to the visibility timeout. */
    consumerBatchingWindowSeconds: 0,
    messageRetentionSeconds: SOURCE_QUEUE_RETENTION_SECONDS,
    receiveWaitTimeSeconds: RECEIVE_WAIT_TIME_SECONDS,
} as const;

/**
 * Defaults of a `ServiceFunction` created without the setting. The systems size their
 * own functions ({@link DEFAULTS}, {@link EMAIL_SERVICE_DEFAULTS}) and pass every value.
 */
export const SERVICE_FUNCTION_DEFAULTS = {
    memorySizeMb: 256,
    timeoutSeconds: 30,
    logRetentionDays: 30,
    logLevel: "INFO",
    /** Packages from package.json `dependencies` the handler's archive carries. */
    shippedPackages: ["valibot"],
    /** The queue mapping's `scalingConfig.maximumConcurrency`. */
    maxConcurrency: 10,
} as const;

/** Defaults of the event pipeline's settings, by their stack config keys (`config/event-processor.ts`). */
export const DEFAULTS = {
    /**
     * SQS messages per Lambda invocation (a standard queue allows up to 10,000; above 10 needs a batching window).
     * Each invocation costs a request, Lambda's own log lines, an EMF document and a share of X-Ray traces
     * whatever its size: 100 spreads them over ten times as many events as 10. Latency is bounded by the
     * window, not the size: a batch is invoked when it is full, when the window ends, or at 6 MB.
     */
    batchSize: 100,
    /** Seconds the event source mapping waits to fill a batch; at least 1 while batchSize is above 10. */
    maxBatchingWindowSeconds: 1,
    /** Upper bound of concurrent processor invocations the SQS poller may start (2–1000). */
    maxConcurrency: 10,
    /** Processor memory, MB. */
    processorMemoryMb: 256,
    /** Processor timeout, seconds. The queue's visibility timeout is derived from it. */
    processorTimeoutSeconds: 30,
    /** Receives before SQS moves a message to the DLQ. */
    maxReceiveCount: 5,
    /** How long SQS reuses a KMS data key (seconds); longer = fewer KMS calls. */
    kmsDataKeyReusePeriodSeconds: 300,
    /** Largest event message accepted by the queue, bytes. */
    maxMessageSize: 262_144,
    /** CloudWatch Logs retention for every log group, days. */
    logRetentionDays: 30,
    /** Table deletion protection. */
    deletionProtection: true,
    /** Alarm when the oldest message in the event queue is older than this, seconds. */
    oldestMessageAgeAlarmSeconds: 300,
    /**
     * Alarm when the oldest message of the quiet tenants (fair queues: ApproximateAgeOfOldestMessageInQuietGroups)
     * is older than this, seconds: fair queues should keep them near the empty-queue latency while one tenant floods.
     */
    quietTenantAgeAlarmSeconds: 60,
    /** Alarm when the p99 of stored events' dwell time (SentTimestamp to stored) exceeds this, milliseconds. */
    dwellP99AlarmMs: 30_000,
    /** Powertools log level inside the processor. */
    logLevel: "INFO",
    /**
     * The arrival index (a KEYS_ONLY global secondary index on clientId + receivedAt) for a polling Sender.
     * Off: every index entry is a second write unit per event, paid whether anyone polls or not.
     */
    eventPollingIndex: false,
} as const;

/**
 * Defaults of every `EmailServiceArgs` setting; `config/email-service.ts` declares the stack
 * config's defaults from these. The API's request limits are the handler's own defaults, a
 * contract the handler and the stack share (`EMAIL_API_DEFAULTS`, contracts/email-service.ts).
 */
export const EMAIL_SERVICE_DEFAULTS = {
    api: {
        /** Route authorization: SigV4 callers with `execute-api:Invoke` (the exported invoke policy). */
        authorization: "AWS_IAM",
        /** Stage throttling: steady requests per second. */
        throttleRateLimit: 50,
        /** Stage throttling: burst. */
        throttleBurstLimit: 100,
        memorySizeMb: 256,
        timeoutSeconds: 10,
        /** Messages above this many bytes put their content in S3 (256 KB). */
        largeBodyThresholdBytes: EMAIL_API_DEFAULTS.largeBodyThresholdBytes,
        /** Largest request body, bytes (413 above); fits Lambda's 6 MB payload even base64-encoded. */
        maxRequestBytes: EMAIL_API_DEFAULTS.limits.maxRequestBytes,
        /** Most recipients across to/cc/bcc (SES's limit is 50). */
        maxRecipients: EMAIL_API_DEFAULTS.limits.maxRecipients,
        /** Furthest a `sendAt` may be ahead, days. */
        maxScheduleAheadDays: EMAIL_API_DEFAULTS.limits.maxScheduleAheadDays,
        /** How long an Idempotency-Key is remembered, hours. */
        idempotencyTtlHours: EMAIL_API_DEFAULTS.idempotencyTtlHours,
        /** FIFO message groups per tenant. */
        tenantLanes: EMAIL_API_DEFAULTS.tenantLanes,
    },
    worker: {
        memorySizeMb: 256,
        /** The queue's visibility timeout is 6x this. */
        timeoutSeconds: 60,
        /** Messages per invocation (FIFO maximum 10). */
        batchSize: 10,
        /** Concurrent invocations the SQS poller may start. */
        maxConcurrency: 10,
    },
    queue: {
        /** Receives before SQS moves an email to the DLQ. */
        maxReceiveCount: 5,
        /** Alarm when the oldest email waits longer than this, seconds. */
        oldestMessageAgeAlarmSeconds: 300,
    },
    storage: {
        /** Offloaded content expires from S3 after this many days (must exceed the schedule horizon). */
        contentRetentionDays: 45,
        /** Idempotency and status tables' deletion protection. */
        deletionProtection: true,
        /** Statuses expire (DynamoDB TTL) this many days after acceptance, or after sendAt when later. */
        statusRetentionDays: EMAIL_STATUS_RETENTION_DAYS,
    },
    logs: { retentionDays: 30, level: "INFO" },
    /** The SMTP relay's connection, for the fields `emailSmtp` leaves out: the contract's, which the worker applies too. */
    smtp: EMAIL_SMTP_DEFAULTS,
} as const;

/**
 * The visibility timeout of a queue whose consumer runs for `consumerTimeoutSeconds`
 * and waits up to `batchingWindowSeconds` to fill a batch: AWS's guidance is at
 * least six times the function timeout plus the batching window, so a message is
 * never visible again while a (retried) invocation still holds it.
 *
 * @example
 * deriveVisibilityTimeoutSeconds(30, 5); // 185
 */
export function deriveVisibilityTimeoutSeconds(consumerTimeoutSeconds: number, batchingWindowSeconds = 0): number {
    if (!Number.isInteger(consumerTimeoutSeconds) || consumerTimeoutSeconds < 1) {
        throw new RangeError(`consumerTimeoutSeconds must be a positive integer, got ${consumerTimeoutSeconds}`);
    }
    if (!Number.isInteger(batchingWindowSeconds) || batchingWindowSeconds < 0) {
        throw new RangeError(`batchingWindowSeconds must be a non-negative integer, got ${batchingWindowSeconds}`);
    }
    const seconds = VISIBILITY_TIMEOUT_MULTIPLIER * consumerTimeoutSeconds + batchingWindowSeconds;
    if (seconds > MAX_VISIBILITY_TIMEOUT_SECONDS) {
        throw new RangeError(
            `a consumer timeout of ${consumerTimeoutSeconds}s (+${batchingWindowSeconds}s window) needs a visibility timeout of ${seconds}s, above the SQS maximum of ${MAX_VISIBILITY_TIMEOUT_SECONDS}s`,
        );
    }
    return seconds;
}

/**
 * How far behind its cursor a polling Sender re-reads the arrival index, seconds: an event is stamped
 * `receivedAt` when its batch starts, its write lands at most `processorTimeoutSeconds` later, and the
 * index shows it after that (eventually consistent); the margin covers propagation and clock differences.
 *
 * @example
 * pollingLagSeconds(30); // 60
 */
export function pollingLagSeconds(processorTimeoutSeconds: number, marginSeconds: number): number {
    return processorTimeoutSeconds + marginSeconds;
}

/** Log levels this program configures (Powertools' and Lambda's share these names). */
export type LogLevel = "DEBUG" | "INFO" | "WARN" | "ERROR";

/**
 * A function's `loggingConfig`: JSON logs into its own log group, and Lambda's log-level
 * filter set to the configured level. With JSON logging, Lambda drops application logs
 * below `applicationLogLevel` (default INFO) whatever the library logs, so DEBUG would
 * never reach the log group unless the filter follows the level ("Configuring advanced
 * logging controls for Lambda functions", Log-level filtering).
 *
 * @example
 * lambdaLoggingConfig(logGroup.name, "DEBUG"); // { logFormat: "JSON", applicationLogLevel: "DEBUG", systemLogLevel: "DEBUG", logGroup }
 */
export function lambdaLoggingConfig<T>(
    logGroup: T,
    level: LogLevel,
): { logFormat: "JSON"; applicationLogLevel: LogLevel; systemLogLevel: "DEBUG" | "INFO" | "WARN"; logGroup: T } {
    // Lambda's system log levels are DEBUG, INFO and WARN only.
    return { logFormat: "JSON", applicationLogLevel: level, systemLogLevel: level === "ERROR" ? "WARN" : level, logGroup };
}

/** `defaults` overridden by `given`'s settings; a setting given as `undefined` keeps its default. */
export type WithDefaults<D, G> = {
    [K in keyof D | keyof G]-?: K extends keyof G
        ? K extends keyof D
            ? Exclude<G[K], undefined> | D[K]
            : G[K]
        : K extends keyof D
          ? D[K]
          : never;
};

/**
 * A component's settings with its defaults applied, once, in its constructor: every setting of
 * `given` that is defined, over `defaults` (an explicit `undefined`, as config passes an unset
 * optional key, keeps the default).
 *
 * @example
 * withDefaults(ENCRYPTED_QUEUE_DEFAULTS, { maxReceiveCount: 3, maxMessageSize: undefined }).maxMessageSize; // 262144
 */
export function withDefaults<D extends object, G extends object>(defaults: D, given: G | undefined): WithDefaults<D, G> {
    const defined = Object.entries(given ?? {}).filter(([, value]) => value !== undefined);
    return { ...defaults, ...Object.fromEntries(defined) } as WithDefaults<D, G>;
}
