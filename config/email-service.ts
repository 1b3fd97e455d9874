/**
 * The email service's stack config section (keys `event-ingestion:email*`),
 * typed, defaulted and validated with valibot; cross-field rules are reported on
 * the key that has to change.
 */
import * as v from "valibot";
import { EMAIL_SERVICE_DEFAULTS, LOG_RETENTION_DAYS_ALLOWED, SQS_MAX_MESSAGE_SIZE_BYTES } from "../components/shared/defaults";
import { integerIn, oneOf, type ConfigSection } from "./section";
import { EMAIL_ENV, senderCovered, type SmtpSettings } from "../contracts/email-service";
import { emailWorkerPolicy } from "../components/email-service/email-iam";
import {
    IAM_INLINE_POLICY_MAX_CHARACTERS_PER_ROLE,
    iamPolicyCharacters,
    iamWildcardIn,
    LAMBDA_ENVIRONMENT_FIXED_RESERVE_BYTES,
    LAMBDA_ENVIRONMENT_MAX_BYTES,
    lambdaEnvironmentBytes,
} from "../components/shared/aws-quotas";

export const EMAIL_LOG_LEVELS = ["DEBUG", "INFO", "WARN", "ERROR"] as const;
export const EMAIL_API_AUTHORIZATION = ["AWS_IAM", "NONE"] as const;

/** Defaults of every email setting (README "Default settings"): the email service's own defaults, under their config keys. */
const COMPONENT = EMAIL_SERVICE_DEFAULTS;
export const EMAIL_DEFAULTS = {
    /** Route authorization: SigV4 callers with `execute-api:Invoke` (the exported policy). */
    emailApiAuthorization: COMPONENT.api.authorization,
    /** Stage throttling: steady requests per second. */
    emailThrottleRateLimit: COMPONENT.api.throttleRateLimit,
    /** Stage throttling: burst. */
    emailThrottleBurstLimit: COMPONENT.api.throttleBurstLimit,
    /** Messages above this many bytes put their content in S3 (256 KB). */
    emailLargeBodyThresholdBytes: COMPONENT.api.largeBodyThresholdBytes,
    /** Largest request body, bytes (413 above); fits Lambda's 6 MB payload even base64-encoded. */
    emailMaxRequestBytes: COMPONENT.api.maxRequestBytes,
    /** Most recipients across to/cc/bcc (SES's limit is 50). */
    emailMaxRecipients: COMPONENT.api.maxRecipients,
    /** Furthest a `sendAt` may be ahead, days. */
    emailMaxScheduleAheadDays: COMPONENT.api.maxScheduleAheadDays,
    /** Offloaded content expires from S3 after this many days (must exceed the schedule horizon). */
    emailContentRetentionDays: COMPONENT.storage.contentRetentionDays,
    /** How long an Idempotency-Key is remembered, hours. */
    emailIdempotencyTtlHours: COMPONENT.api.idempotencyTtlHours,
    /** FIFO message groups per tenant. */
    emailTenantLanes: COMPONENT.api.tenantLanes,
    /** API function memory (MB) and timeout (s). */
    emailApiMemoryMb: COMPONENT.api.memorySizeMb,
    emailApiTimeoutSeconds: COMPONENT.api.timeoutSeconds,
    /** Worker function memory (MB) and timeout (s); the queue's visibility timeout is 6x this. */
    emailWorkerMemoryMb: COMPONENT.worker.memorySizeMb,
    emailWorkerTimeoutSeconds: COMPONENT.worker.timeoutSeconds,
    /** Messages per worker invocation (FIFO maximum 10). */
    emailWorkerBatchSize: COMPONENT.worker.batchSize,
    /** Concurrent worker invocations the SQS poller may start. */
    emailWorkerMaxConcurrency: COMPONENT.worker.maxConcurrency,
    /** Receives before SQS moves an email to the DLQ. */
    emailMaxReceiveCount: COMPONENT.queue.maxReceiveCount,
    /** Log retention, days. */
    emailLogRetentionDays: COMPONENT.logs.retentionDays,
    emailLogLevel: COMPONENT.logs.level,
    /** Alarm when the oldest email waits longer than this, seconds. */
    emailOldestMessageAgeAlarmSeconds: COMPONENT.queue.oldestMessageAgeAlarmSeconds,
    /** Idempotency and status tables' deletion protection. */
    emailDeletionProtection: COMPONENT.storage.deletionProtection,
    /** How long an email's status is kept, days from acceptance (or from sendAt when later). */
    emailStatusRetentionDays: COMPONENT.storage.statusRetentionDays,
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
    emailStatusRetentionDays: number;
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

/** What `Pulumi.yaml` says of each key (the ranges are the schema's below). */
const DESCRIPTIONS: Record<keyof EmailServiceConfig, string> = {
    emailApiAuthorization: "Email API route authorization: AWS_IAM (SigV4 with the exported invoke policy) or NONE.",
    emailThrottleRateLimit: "Email API stage throttling: steady requests per second (1-10000).",
    emailThrottleBurstLimit: "Email API stage throttling: burst (1-5000, at least the rate limit).",
    emailLargeBodyThresholdBytes: "Emails above this many bytes keep their content in S3, bytes.",
    emailMaxRequestBytes: "Largest email request body, bytes (413 above).",
    emailMaxRecipients: "Most recipients across to/cc/bcc (1-50).",
    emailMaxScheduleAheadDays: "Furthest a sendAt may be ahead, days (1-365).",
    emailContentRetentionDays: "Offloaded email content expires from S3 after this many days (greater than emailMaxScheduleAheadDays).",
    emailIdempotencyTtlHours: "How long an Idempotency-Key is remembered, hours (1-720).",
    emailTenantLanes: "FIFO message groups per tenant (1-64).",
    emailApiMemoryMb: "Email API Lambda memory, MB (128-10240).",
    emailApiTimeoutSeconds: "Email API Lambda timeout, seconds (1-29).",
    emailWorkerMemoryMb: "Email worker Lambda memory, MB (128-10240).",
    emailWorkerTimeoutSeconds: "Email worker Lambda timeout, seconds (30-900); the queue's visibility timeout is 6x this.",
    emailWorkerBatchSize: "Emails per worker invocation (1-10, the FIFO maximum).",
    emailWorkerMaxConcurrency: "Concurrent worker invocations the SQS poller may start (2-1000).",
    emailMaxReceiveCount: "Receives before SQS moves an email to the DLQ (1-1000).",
    emailLogRetentionDays: "Email service log retention, days (a CloudWatch Logs retention value).",
    emailLogLevel: "Email service log level: DEBUG, INFO, WARN or ERROR.",
    emailOldestMessageAgeAlarmSeconds: "Alarm when the oldest email waits longer than this, seconds (60-1209600).",
    emailDeletionProtection: "Deletion protection on the idempotency and status tables.",
    emailStatusRetentionDays:
        "How long an email's status and history are kept (DynamoDB TTL), days from acceptance or from its sendAt when later (1-365).",
    emailSesIdentities:
        "SES identities (domains or addresses) the worker may send as; [] allows every identity of the account in the region.",
    emailSesConfigurationSet:
        "Name of the SES configuration set the stack creates and sends through ([A-Za-z0-9_-], 1-64); empty for <project>-<stack>-email.",
    emailSenders:
        "Per API caller (IAM role or user ARN, as SigV4 signs it), the `from` addresses and domains it may use, each covered by emailSesIdentities; a caller not listed may send as no one. {} lets every caller use every declared identity (single-tenant).",
    emailSmtp: `SMTP relay for failover, an object { host, port: ${COMPONENT.smtp.port}, secure: ${COMPONENT.smtp.secure}, requireTLS: ${COMPONENT.smtp.requireTLS}, username }; {} for none (or put the secret value out of band). Pulumi has no object config type, so the program validates it.`,
    emailSmtpPassword:
        "The SMTP relay's password: set it with `pulumi config set --secret emailSmtpPassword`. Declared without a type because Pulumi refuses a default for a typed secret; the program refuses a plaintext value.",
};

const IDENTITY = /^([A-Za-z0-9-]+\.)+[A-Za-z]{2,}$|^[^\s@]+@([A-Za-z0-9-]+\.)+[A-Za-z]{2,}$/;
/** What `tenantOf` reports for a SigV4 caller: an IAM role (sessions collapse to it), user or account root. */
const CALLER_PRINCIPAL = /^arn:aws[a-z-]*:iam::\d{12}:(role\/[\w+=,.@/-]+|user\/[\w+=,.@/-]+|root)$/;
/** A role ARN with a path (`role/<path>/<name>`): its sessions' ARNs carry the name only. */
const ROLE_WITH_PATH = /^arn:(aws[a-z-]*):iam::(\d{12}):role\/(?:[^/]+\/)+([^/]+)$/;

/** Why an SES identity cannot be a `Resource` of the worker's `ses:SendEmail`, or undefined. */
function identityWildcardProblem(identity: string): string | undefined {
    const wildcard = iamWildcardIn(identity);
    return wildcard
        ? `${JSON.stringify(identity)} contains "${wildcard}", which IAM reads as a wildcard in the worker's ses:SendEmail resource ` +
              `(arn:…:ses:<region>:<account>:identity/${identity}) and would let it send as other identities ` +
              `(IAM JSON policy elements: Resource); name each address or domain exactly`
        : undefined;
}

/** Why a caller key can never match the caller `tenantOf` reports, or undefined. */
function callerKeyProblem(caller: string): string | undefined {
    const withPath = ROLE_WITH_PATH.exec(caller);
    if (!withPath) return undefined;
    const [, partition, account, name] = withPath;
    return (
        `${JSON.stringify(caller)} names a role with a path, which can never match: the API sees a role's caller as its ` +
        `assumed-role session (arn:${partition}:sts::${account}:assumed-role/${name}/<session>), which carries the role's name ` +
        `and not its path (IAM identifiers: assumed-role session ARNs); use arn:${partition}:iam::${account}:role/${name}`
    );
}

/** Room the email API's config-driven variables (allowed senders, sending identities) have in its environment. */
export const EMAIL_CONFIG_ENVIRONMENT_BUDGET_BYTES = LAMBDA_ENVIRONMENT_MAX_BYTES - LAMBDA_ENVIRONMENT_FIXED_RESERVE_BYTES;

/**
 * Bytes `EMAIL_ALLOWED_SENDERS` and `EMAIL_SENDING_IDENTITIES` take of the email API's environment, as Lambda measures it.
 *
 * @example
 * emailConfigEnvironmentBytes(["example.com"], undefined); // 43
 */
export function emailConfigEnvironmentBytes(identities?: readonly string[], senders?: Readonly<Record<string, readonly string[]>>): number {
    const variables: Record<string, string> = {};
    if (identities) variables[EMAIL_ENV.sendingIdentities] = JSON.stringify(identities);
    if (senders) variables[EMAIL_ENV.allowedSenders] = JSON.stringify(senders);
    // The two share the environment's braces with the fixed variables: count their entries only.
    return Object.keys(variables).length === 0 ? 0 : lambdaEnvironmentBytes(variables) - 2;
}

type EnvironmentSettings = { emailSesIdentities?: readonly string[]; emailSenders?: Readonly<Record<string, readonly string[]>> };

function environmentFits(settings: EnvironmentSettings): boolean {
    return emailConfigEnvironmentBytes(settings.emailSesIdentities, settings.emailSenders) <= EMAIL_CONFIG_ENVIRONMENT_BUDGET_BYTES;
}

function environmentTooLarge(input: unknown): string {
    const settings = input as EnvironmentSettings;
    return (
        `makes EMAIL_ALLOWED_SENDERS and EMAIL_SENDING_IDENTITIES take ${emailConfigEnvironmentBytes(settings.emailSesIdentities, settings.emailSenders)} ` +
        `bytes of the email API's environment; they may take ${EMAIL_CONFIG_ENVIRONMENT_BUDGET_BYTES} (Lambda quotas: ` +
        `${LAMBDA_ENVIRONMENT_MAX_BYTES} bytes of environment variables per function, ${LAMBDA_ENVIRONMENT_FIXED_RESERVE_BYTES} ` +
        `kept for its own variables): list fewer callers or entries (a domain covers all its addresses)`
    );
}

/**
 * Names at least as long as the deployed ones (autonamed resources carry a random suffix, an ARN the
 * longest partition and region): an estimate of the worker's policy that is never short.
 */
const LONGEST_SCOPE = { partition: "aws-us-gov", region: "ap-southeast-99", accountId: "123456789012" } as const;
const PLACEHOLDER_NAME = "n".repeat(80);

/**
 * Characters IAM counts for the email worker's inline policy with these SES identities (an upper bound:
 * every generated name is taken at 80 characters, the partition and region at their longest).
 *
 * @example
 * emailWorkerPolicyCharacters(["example.com"], "event-ingestion-dev-email") < 10_240; // true
 */
export function emailWorkerPolicyCharacters(identities: readonly string[], configurationSetName = PLACEHOLDER_NAME.slice(0, 64)): number {
    const { partition, region, accountId } = LONGEST_SCOPE;
    const arn = (service: string, resource: string) => `arn:${partition}:${service}:${region}:${accountId}:${resource}`;
    return iamPolicyCharacters(
        emailWorkerPolicy({
            scope: LONGEST_SCOPE,
            keyArn: arn("kms", "key/00000000-0000-0000-0000-000000000000"),
            logGroupArn: arn("logs", `log-group:/${PLACEHOLDER_NAME}/${PLACEHOLDER_NAME}`),
            queueArn: arn("sqs", `${PLACEHOLDER_NAME}.fifo`),
            deadLetterQueueArn: arn("sqs", `${PLACEHOLDER_NAME}.fifo`),
            tableArn: arn("dynamodb", `table/${PLACEHOLDER_NAME}`),
            statusTableArn: arn("dynamodb", `table/${PLACEHOLDER_NAME}`),
            bucketArn: `arn:${partition}:s3:::${PLACEHOLDER_NAME.slice(0, 63)}`,
            secretArn: arn("secretsmanager", `secret:${PLACEHOLDER_NAME}-AbCdEf`),
            sesIdentityArns: identities.map((identity) => arn("ses", `identity/${identity}`)),
            sesConfigurationSetArn: arn("ses", `configuration-set/${configurationSetName}`),
            scheduleGroupName: PLACEHOLDER_NAME.slice(0, 64),
            schedulerRoleArn: `arn:${partition}:iam::${accountId}:role/${PLACEHOLDER_NAME.slice(0, 64)}`,
        }),
    );
}

/** The email service's config section. */
export function emailServiceSection(): ConfigSection<EmailServiceConfig> {
    const defaults = EMAIL_DEFAULTS;
    const identities = "must be a non-empty list of SES identities (domains like example.com or addresses)";
    const sendersAllowed =
        "must map caller principals (arn:aws:iam::<account>:role/<name>, …:user/<name> or …:root) to non-empty lists of addresses or domains";
    const smtpAllowed = "must be an object { host, port?, secure?, requireTLS?, username? }";
    const smtpPasswordHere = `must not be in emailSmtp: the password is its own secret key (pulumi config set --secret ${EMAIL_SMTP_PASSWORD_KEY} <password>)`;
    const schema = v.pipe(
        v.object({
            emailApiAuthorization: v.optional(oneOf(EMAIL_API_AUTHORIZATION), defaults.emailApiAuthorization),
            emailThrottleRateLimit: v.optional(integerIn(1, 10_000, "requests per second"), defaults.emailThrottleRateLimit),
            emailThrottleBurstLimit: v.optional(integerIn(1, 5_000, "requests"), defaults.emailThrottleBurstLimit),
            emailLargeBodyThresholdBytes: v.optional(
                integerIn(1024, SQS_MAX_MESSAGE_SIZE_BYTES - 4096, "bytes"),
                defaults.emailLargeBodyThresholdBytes,
            ),
            emailMaxRequestBytes: v.optional(integerIn(1024, 4_194_304, "bytes"), defaults.emailMaxRequestBytes),
            emailMaxRecipients: v.optional(integerIn(1, 50, "recipients"), defaults.emailMaxRecipients),
            emailMaxScheduleAheadDays: v.optional(integerIn(1, 365, "days"), defaults.emailMaxScheduleAheadDays),
            emailContentRetentionDays: v.optional(integerIn(2, 3650, "days"), defaults.emailContentRetentionDays),
            emailIdempotencyTtlHours: v.optional(integerIn(1, 24 * 30, "hours"), defaults.emailIdempotencyTtlHours),
            emailTenantLanes: v.optional(integerIn(1, 64, "lanes"), defaults.emailTenantLanes),
            emailApiMemoryMb: v.optional(integerIn(128, 10_240, "MB"), defaults.emailApiMemoryMb),
            emailApiTimeoutSeconds: v.optional(integerIn(1, 29, "seconds (API Gateway waits at most 30)"), defaults.emailApiTimeoutSeconds),
            emailWorkerMemoryMb: v.optional(integerIn(128, 10_240, "MB"), defaults.emailWorkerMemoryMb),
            emailWorkerTimeoutSeconds: v.optional(integerIn(30, 900, "seconds"), defaults.emailWorkerTimeoutSeconds),
            emailWorkerBatchSize: v.optional(integerIn(1, 10, "messages (FIFO maximum)"), defaults.emailWorkerBatchSize),
            emailWorkerMaxConcurrency: v.optional(integerIn(2, 1000, "concurrent invocations"), defaults.emailWorkerMaxConcurrency),
            emailMaxReceiveCount: v.optional(integerIn(1, 1000), defaults.emailMaxReceiveCount),
            emailLogRetentionDays: v.optional(oneOf(LOG_RETENTION_DAYS_ALLOWED), defaults.emailLogRetentionDays),
            emailLogLevel: v.optional(oneOf(EMAIL_LOG_LEVELS), defaults.emailLogLevel),
            emailOldestMessageAgeAlarmSeconds: v.optional(integerIn(60, 1_209_600, "seconds"), defaults.emailOldestMessageAgeAlarmSeconds),
            emailDeletionProtection: v.optional(v.boolean("must be true or false"), defaults.emailDeletionProtection),
            emailStatusRetentionDays: v.optional(integerIn(1, 365, "days"), defaults.emailStatusRetentionDays),
            emailSesIdentities: v.optional(
                v.pipe(
                    v.array(v.pipe(v.string(identities), v.regex(IDENTITY, identities)), identities),
                    v.minLength(1, identities),
                    v.rawCheck(({ dataset, addIssue }) => {
                        if (!dataset.typed) return;
                        for (const identity of dataset.value) {
                            const problem = identityWildcardProblem(identity);
                            if (problem) addIssue({ message: problem });
                        }
                        const characters = emailWorkerPolicyCharacters(dataset.value);
                        if (characters > IAM_INLINE_POLICY_MAX_CHARACTERS_PER_ROLE) {
                            addIssue({
                                message:
                                    `${dataset.value.length} identities make the email worker's inline policy (one ses:SendEmail resource each) ` +
                                    `up to ${characters} characters; IAM allows ${IAM_INLINE_POLICY_MAX_CHARACTERS_PER_ROLE} per role ` +
                                    `(IAM and AWS STS quotas: role policy size): declare fewer, e.g. a domain instead of its addresses`,
                            });
                        }
                    }),
                ),
            ),
            emailSesConfigurationSet: v.optional(
                v.pipe(
                    v.string("must be an SES configuration set name"),
                    v.regex(/^[A-Za-z0-9_-]{1,64}$/, "must be an SES configuration set name"),
                ),
            ),
            emailSenders: v.optional(
                v.pipe(
                    v.record(
                        v.pipe(v.string(sendersAllowed), v.regex(CALLER_PRINCIPAL, sendersAllowed)),
                        v.pipe(
                            v.array(v.pipe(v.string(sendersAllowed), v.regex(IDENTITY, sendersAllowed)), sendersAllowed),
                            v.minLength(1, sendersAllowed),
                        ),
                        sendersAllowed,
                    ),
                    v.rawCheck(({ dataset, addIssue }) => {
                        if (!dataset.typed) return;
                        for (const [caller, entries] of Object.entries(dataset.value)) {
                            const problem = callerKeyProblem(caller);
                            if (problem) addIssue({ message: problem });
                            for (const entry of entries) {
                                const wildcard = identityWildcardProblem(entry);
                                if (wildcard) addIssue({ message: `${caller}: ${wildcard}` });
                            }
                        }
                    }),
                ),
            ),
            emailSmtp: v.optional(
                v.objectWithRest(
                    {
                        host: v.pipe(v.string("must be the relay's host name"), v.nonEmpty("must be the relay's host name")),
                        port: v.optional(integerIn(1, 65_535), COMPONENT.smtp.port),
                        secure: v.optional(v.boolean("must be true or false (TLS from the first byte, port 465)"), COMPONENT.smtp.secure),
                        requireTLS: v.optional(v.boolean("must be true or false (STARTTLS required)"), COMPONENT.smtp.requireTLS),
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
        // Partial checks run even when other keys are invalid, so these problems are reported with theirs. The
        // environment's size is reported on emailSenders when it is set (it grows with callers), else on the identities.
        v.forward(
            v.partialCheck(
                [["emailSesIdentities"], ["emailSenders"]],
                (c) => c.emailSenders === undefined || environmentFits(c),
                (issue) => environmentTooLarge(issue.input),
            ),
            ["emailSenders"],
        ),
        v.forward(
            v.partialCheck(
                [["emailSesIdentities"], ["emailSenders"]],
                (c) => c.emailSenders !== undefined || environmentFits(c),
                (issue) => environmentTooLarge(issue.input),
            ),
            ["emailSesIdentities"],
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
    return {
        keys,
        descriptions: DESCRIPTIONS,
        schema: schema as unknown as v.GenericSchema<unknown, EmailServiceConfig>,
        secretKeys: [EMAIL_SMTP_PASSWORD_KEY],
    };
}
