/**
 * The email service's stack config section (keys `event-ingestion:email*`),
 * typed, defaulted and validated with valibot; cross-field rules are reported on
 * the key that has to change.
 */
import * as v from "valibot";
import { LOG_RETENTION_DAYS_ALLOWED, SQS_MAX_MESSAGE_SIZE_BYTES } from "../components/shared/defaults";
import { integerIn, oneOf, type ConfigSection } from "./section";
import type { SmtpSettings } from "../handlers/email/providers/smtp";
import { senderCovered } from "../handlers/email/senders";

export const EMAIL_LOG_LEVELS = ["DEBUG", "INFO", "WARN", "ERROR"] as const;
export const EMAIL_API_AUTHORIZATION = ["AWS_IAM", "NONE"] as const;

/** Defaults of every email setting (README "Default settings"). */
export const EMAIL_DEFAULTS = {
    /** Route authorization: SigV4 callers with `execute-api:Invoke` (the exported policy). */
    emailApiAuthorization: "AWS_IAM",
    /** Stage throttling: steady requests per second. */
    emailThrottleRateLimit: 50,
    /** Stage throttling: burst. */
    emailThrottleBurstLimit: 100,
    /** Messages above this many bytes put their content in S3 (256 KB). */
    emailLargeBodyThresholdBytes: 262_144,
    /** Largest request body, bytes (413 above); fits Lambda's 6 MB payload even base64-encoded. */
    emailMaxRequestBytes: 4_194_304,
    /** Most recipients across to/cc/bcc (SES's limit is 50). */
    emailMaxRecipients: 50,
    /** Furthest a `sendAt` may be ahead, days. */
    emailMaxScheduleAheadDays: 30,
    /** Offloaded content expires from S3 after this many days (must exceed the schedule horizon). */
    emailContentRetentionDays: 45,
    /** How long an Idempotency-Key is remembered, hours. */
    emailIdempotencyTtlHours: 24,
    /** FIFO message groups per tenant. */
    emailTenantLanes: 4,
    /** API function memory (MB) and timeout (s). */
    emailApiMemoryMb: 256,
    emailApiTimeoutSeconds: 10,
    /** Worker function memory (MB) and timeout (s); the queue's visibility timeout is 6x this. */
    emailWorkerMemoryMb: 256,
    emailWorkerTimeoutSeconds: 60,
    /** Messages per worker invocation (FIFO maximum 10). */
    emailWorkerBatchSize: 10,
    /** Concurrent worker invocations the SQS poller may start. */
    emailWorkerMaxConcurrency: 10,
    /** Receives before SQS moves an email to the DLQ. */
    emailMaxReceiveCount: 5,
    /** Log retention, days. */
    emailLogRetentionDays: 30,
    emailLogLevel: "INFO",
    /** Alarm when the oldest email waits longer than this, seconds. */
    emailOldestMessageAgeAlarmSeconds: 300,
    /** Idempotency table deletion protection. */
    emailDeletionProtection: true,
} as const;

/** SMTP relay settings stored in the secret: the worker's own secret shape (the password comes from `emailSmtpPassword`). */
export type EmailSmtpConfig = SmtpSettings;

/** The SMTP password's own key: a Pulumi secret, never part of the `emailSmtp` object. */
export const EMAIL_SMTP_PASSWORD_KEY = "emailSmtpPassword";

export interface EmailServiceConfig {
    emailApiAuthorization: (typeof EMAIL_API_AUTHORIZATION)[number];
    emailThrottleRateLimit: number;
    emailThrottleBurstLimit: number;
    emailLargeBodyThresholdBytes: number;
    emailMaxRequestBytes: number;
    emailMaxRecipients: number;
    emailMaxScheduleAheadDays: number;
    emailContentRetentionDays: number;
    emailIdempotencyTtlHours: number;
    emailTenantLanes: number;
    emailApiMemoryMb: number;
    emailApiTimeoutSeconds: number;
    emailWorkerMemoryMb: number;
    emailWorkerTimeoutSeconds: number;
    emailWorkerBatchSize: number;
    emailWorkerMaxConcurrency: number;
    emailMaxReceiveCount: number;
    emailLogRetentionDays: number;
    emailLogLevel: (typeof EMAIL_LOG_LEVELS)[number];
    emailOldestMessageAgeAlarmSeconds: number;
    emailDeletionProtection: boolean;
    /**
     * SES sending identities (domains or addresses): each is an `aws.sesv2.EmailIdentity` of the stack,
     * `ses:SendEmail` is scoped to them and every `from` must be covered by one.
     * @default none declared: the worker may send as any identity of the account in the region
     */
    emailSesIdentities?: string[];
    /** Name of the SES configuration set the stack creates and sends through. @default "<project>-<stack>-email" */
    emailSesConfigurationSet?: string;
    /**
     * Per API caller (IAM role or user ARN, as SigV4 signs it), the `from` addresses and domains it may use;
     * each must be covered by `emailSesIdentities`. A caller not listed may send as no one.
     * @default every caller may use every declared identity (single-tenant)
     */
    emailSenders?: Record<string, string[]>;
    /** SMTP relay for failover (password from `emailSmtpPassword`); stored in Secrets Manager, encrypted with the key. @default none (put the secret value out of band) */
    emailSmtp?: EmailSmtpConfig;
    /** The SMTP relay's password; must be a Pulumi secret. @default none */
    emailSmtpPassword?: string;
}

const IDENTITY = /^([A-Za-z0-9-]+\.)+[A-Za-z]{2,}$|^[^\s@]+@([A-Za-z0-9-]+\.)+[A-Za-z]{2,}$/;
/** What `tenantOf` reports for a SigV4 caller: an IAM role (sessions collapse to it), user or account root. */
const CALLER_PRINCIPAL = /^arn:aws[a-z-]*:iam::\d{12}:(role\/[\w+=,.@/-]+|user\/[\w+=,.@/-]+|root)$/;

/** The email service's config section. */
export function emailServiceSection(): ConfigSection<EmailServiceConfig> {
    const D = EMAIL_DEFAULTS;
    const identities = "must be a non-empty list of SES identities (domains like example.com or addresses)";
    const sendersAllowed =
        "must map caller principals (arn:aws:iam::<account>:role/<name>, …:user/<name> or …:root) to non-empty lists of addresses or domains";
    const smtpAllowed = "must be an object { host, port?, secure?, requireTLS?, username? }";
    const smtpPasswordHere = `must not be in emailSmtp: the password is its own secret key (pulumi config set --secret ${EMAIL_SMTP_PASSWORD_KEY} <password>)`;
    const schema = v.pipe(
        v.object({
            emailApiAuthorization: v.optional(oneOf(EMAIL_API_AUTHORIZATION), D.emailApiAuthorization),
            emailThrottleRateLimit: v.optional(integerIn(1, 10_000, "requests per second"), D.emailThrottleRateLimit),
            emailThrottleBurstLimit: v.optional(integerIn(1, 5_000, "requests"), D.emailThrottleBurstLimit),
            emailLargeBodyThresholdBytes: v.optional(
                integerIn(1024, SQS_MAX_MESSAGE_SIZE_BYTES - 4096, "bytes"),
                D.emailLargeBodyThresholdBytes,
            ),
            emailMaxRequestBytes: v.optional(integerIn(1024, 4_194_304, "bytes"), D.emailMaxRequestBytes),
            emailMaxRecipients: v.optional(integerIn(1, 50, "recipients"), D.emailMaxRecipients),
            emailMaxScheduleAheadDays: v.optional(integerIn(1, 365, "days"), D.emailMaxScheduleAheadDays),
            emailContentRetentionDays: v.optional(integerIn(2, 3650, "days"), D.emailContentRetentionDays),
            emailIdempotencyTtlHours: v.optional(integerIn(1, 24 * 30, "hours"), D.emailIdempotencyTtlHours),
            emailTenantLanes: v.optional(integerIn(1, 64, "lanes"), D.emailTenantLanes),
            emailApiMemoryMb: v.optional(integerIn(128, 10_240, "MB"), D.emailApiMemoryMb),
            emailApiTimeoutSeconds: v.optional(integerIn(1, 29, "seconds (API Gateway waits at most 30)"), D.emailApiTimeoutSeconds),
            emailWorkerMemoryMb: v.optional(integerIn(128, 10_240, "MB"), D.emailWorkerMemoryMb),
            emailWorkerTimeoutSeconds: v.optional(integerIn(30, 900, "seconds"), D.emailWorkerTimeoutSeconds),
            emailWorkerBatchSize: v.optional(integerIn(1, 10, "messages (FIFO maximum)"), D.emailWorkerBatchSize),
            emailWorkerMaxConcurrency: v.optional(integerIn(2, 1000, "concurrent invocations"), D.emailWorkerMaxConcurrency),
            emailMaxReceiveCount: v.optional(integerIn(1, 1000), D.emailMaxReceiveCount),
            emailLogRetentionDays: v.optional(oneOf(LOG_RETENTION_DAYS_ALLOWED), D.emailLogRetentionDays),
            emailLogLevel: v.optional(oneOf(EMAIL_LOG_LEVELS), D.emailLogLevel),
            emailOldestMessageAgeAlarmSeconds: v.optional(integerIn(60, 1_209_600, "seconds"), D.emailOldestMessageAgeAlarmSeconds),
            emailDeletionProtection: v.optional(v.boolean("must be true or false"), D.emailDeletionProtection),
            emailSesIdentities: v.optional(
                v.pipe(v.array(v.pipe(v.string(identities), v.regex(IDENTITY, identities)), identities), v.minLength(1, identities)),
            ),
            emailSesConfigurationSet: v.optional(
                v.pipe(
                    v.string("must be an SES configuration set name"),
                    v.regex(/^[A-Za-z0-9_-]{1,64}$/, "must be an SES configuration set name"),
                ),
            ),
            emailSenders: v.optional(
                v.record(
                    v.pipe(v.string(sendersAllowed), v.regex(CALLER_PRINCIPAL, sendersAllowed)),
                    v.pipe(
                        v.array(v.pipe(v.string(sendersAllowed), v.regex(IDENTITY, sendersAllowed)), sendersAllowed),
                        v.minLength(1, sendersAllowed),
                    ),
                    sendersAllowed,
                ),
            ),
            emailSmtp: v.optional(
                v.objectWithRest(
                    {
                        host: v.pipe(v.string("must be the relay's host name"), v.nonEmpty("must be the relay's host name")),
                        port: v.optional(integerIn(1, 65_535), 587),
                        secure: v.optional(v.boolean("must be true or false (TLS from the first byte, port 465)"), false),
                        requireTLS: v.optional(v.boolean("must be true or false (STARTTLS required)"), true),
                        username: v.optional(v.string("must be a string")),
                        password: v.optional(v.never(smtpPasswordHere)),
                    },
                    v.never(`is not a field of emailSmtp; ${smtpAllowed}`),
                    smtpAllowed,
                ),
            ),
            [EMAIL_SMTP_PASSWORD_KEY]: v.optional(v.string("must be a string")),
        }),
        v.forward(
            v.check(
                (c) => c.emailContentRetentionDays > c.emailMaxScheduleAheadDays,
                "must be greater than emailMaxScheduleAheadDays: scheduled emails keep their content in S3 until they are sent",
            ),
            ["emailContentRetentionDays"],
        ),
        v.forward(
            v.check(
                (c) =>
                    !c.emailSenders ||
                    !c.emailSesIdentities ||
                    Object.values(c.emailSenders).every((entries) => entries.every((e) => senderCovered(e, c.emailSesIdentities!))),
                "must only name addresses and domains covered by emailSesIdentities (SES refuses any other sender)",
            ),
            ["emailSenders"],
        ),
        v.forward(
            v.check(
                (c) => c.emailThrottleBurstLimit >= Math.min(c.emailThrottleRateLimit, 5_000),
                "must be at least emailThrottleRateLimit",
            ),
            ["emailThrottleBurstLimit"],
        ),
        v.forward(
            v.check(
                (c) => c.emailSmtpPassword === undefined || c.emailSmtp !== undefined,
                "needs emailSmtp (the relay's host) to be set too",
            ),
            [EMAIL_SMTP_PASSWORD_KEY],
        ),
        // The worker's secret holds one JSON document: the relay settings with their password.
        v.transform(({ emailSmtpPassword, ...settings }) =>
            settings.emailSmtp && emailSmtpPassword !== undefined
                ? { ...settings, emailSmtp: { ...settings.emailSmtp, password: emailSmtpPassword } }
                : settings,
        ),
    );
    const keys = Object.keys((schema.pipe[0] as { entries: Record<string, unknown> }).entries);
    return { keys, schema: schema as unknown as v.GenericSchema<unknown, EmailServiceConfig>, secretKeys: [EMAIL_SMTP_PASSWORD_KEY] };
}
