/**
 * Defaults of every `EmailServiceArgs` setting; config/email-service.ts declares the stack
 * config's defaults from these. Pure: config and local code import it without the component.
 * The API's request limits are the handler's own defaults, from the email service's contract.
 */
import { EMAIL_API_DEFAULTS } from "../../contracts/email-service";
import { EMAIL_STATUS_RETENTION_DAYS } from "../shared/defaults";

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
} as const;
