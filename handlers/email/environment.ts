/**
 * The zero-argument factories the Lambdas use (`callbackFactory`): read and check
 * the environment once, build the AWS clients once per container, return the
 * handler. Endpoints for emulators come from the SDK's standard
 * `AWS_ENDPOINT_URL_<SERVICE>` variables; there is no custom endpoint code.
 *
 * They survive Pulumi closure serialization: libraries are referenced through
 * their modules (serialized as `require(...)`), schemas are built at run time.
 */
import sqs = require("@aws-sdk/client-sqs");
import type s3 = require("@aws-sdk/client-s3");
import ddb = require("@aws-sdk/client-dynamodb");
import sesv2 = require("@aws-sdk/client-sesv2");
import type secrets = require("@aws-sdk/client-secrets-manager");
import type schedulerSdk = require("@aws-sdk/client-scheduler");
import v = require("valibot");
import { createEmailApi, EmailApiHandler } from "./api";
import { s3ContentStore } from "./content-store";
import { environmentError } from "./errors";
import { dynamoDeliveryLedger } from "./idempotency";
import { sesProvider } from "./providers/ses";
import { smtpProvider, transportFromSecret } from "./providers/smtp";
import { eventBridgeScheduler } from "./scheduler";
import { createEmailWorker, EmailWorkerHandler } from "./worker";
import { once } from "../shared/deferred";
import { defaultTracer, traceClients } from "../tracing";

/* eslint-disable @typescript-eslint/no-require-imports -- the rare paths' SDK modules load on first use (handlers/shared/deferred.ts) */
const loadS3 = () => require("@aws-sdk/client-s3") as typeof s3;
const loadSecretsManager = () => require("@aws-sdk/client-secrets-manager") as typeof secrets;
const loadScheduler = () => require("@aws-sdk/client-scheduler") as typeof schedulerSdk;
/* eslint-enable @typescript-eslint/no-require-imports */

/** Environment variable names (the component sets them). */
export const EMAIL_ENV = {
    queueUrl: "EMAIL_QUEUE_URL",
    queueArn: "EMAIL_QUEUE_ARN",
    deadLetterQueueUrl: "EMAIL_DEAD_LETTER_QUEUE_URL",
    idempotencyTable: "EMAIL_IDEMPOTENCY_TABLE_NAME",
    contentBucket: "EMAIL_CONTENT_BUCKET",
    largeBodyThresholdBytes: "EMAIL_LARGE_BODY_THRESHOLD_BYTES",
    maxRequestBytes: "EMAIL_MAX_REQUEST_BYTES",
    maxRecipients: "EMAIL_MAX_RECIPIENTS",
    maxScheduleAheadDays: "EMAIL_MAX_SCHEDULE_AHEAD_DAYS",
    idempotencyTtlSeconds: "EMAIL_IDEMPOTENCY_TTL_SECONDS",
    tenantLanes: "EMAIL_TENANT_LANES",
    smtpSecretArn: "EMAIL_SMTP_SECRET_ARN",
    sesConfigurationSet: "EMAIL_SES_CONFIGURATION_SET",
    scheduleGroup: "EMAIL_SCHEDULE_GROUP",
    schedulerRoleArn: "EMAIL_SCHEDULER_ROLE_ARN",
    /** Standard SQS queue EventBridge Scheduler dead-letters a schedule's release to. */
    scheduleDeadLetterQueueArn: "EMAIL_SCHEDULE_DEAD_LETTER_QUEUE_ARN",
    /** JSON list of the stack's SES identities (domains, addresses): every `from` must be one of them. */
    sendingIdentities: "EMAIL_SENDING_IDENTITIES",
    /** JSON map: caller principal ARN → the `from` addresses and domains it may use. */
    allowedSenders: "EMAIL_ALLOWED_SENDERS",
    deliveryLedgerTtlSeconds: "EMAIL_DELIVERY_LEDGER_TTL_SECONDS",
    breakerTimeoutMs: "EMAIL_BREAKER_TIMEOUT_MS",
    breakerResetTimeoutMs: "EMAIL_BREAKER_RESET_TIMEOUT_MS",
    /** Local pipeline only: the local scheduler fires to the second, so it can lower the one-minute lead. */
    scheduleMinLeadSeconds: "EMAIL_SCHEDULE_MIN_LEAD_SECONDS",
} as const;

type Env = Record<string, string | undefined>;

function readEnv(
    env: Env,
    required: readonly string[],
    positiveInts: readonly string[],
): { values: Record<string, string>; ints: Record<string, number | undefined> } {
    const problems: string[] = [];
    const values: Record<string, string> = {};
    const ints: Record<string, number | undefined> = {};
    const nonEmpty = v.pipe(v.string(), v.trim(), v.nonEmpty());
    for (const name of required) {
        const result = v.safeParse(nonEmpty, env[name] ?? "");
        if (result.success) values[name] = result.output;
        else problems.push(`${name} is required`);
    }
    const positive = v.pipe(v.string(), v.regex(/^\d+$/), v.transform(Number), v.integer(), v.minValue(1));
    for (const name of positiveInts) {
        const raw = env[name];
        if (raw === undefined || raw === "") continue;
        const result = v.safeParse(positive, raw.trim());
        if (result.success) ints[name] = result.output;
        else problems.push(`${name} must be a positive integer (got "${raw}")`);
    }
    if (problems.length > 0) throw environmentError(problems);
    return { values, ints };
}

/**
 * The API Lambda's `callbackFactory`.
 *
 * @example
 * new aws.lambda.CallbackFunction("email-api", { callbackFactory: emailApiFromEnvironment, ... });
 */
export function emailApiFromEnvironment(env: Env = process.env): EmailApiHandler {
    const E = EMAIL_ENV;
    const { values, ints } = readEnv(
        env,
        [E.queueUrl, E.idempotencyTable, E.contentBucket],
        [E.largeBodyThresholdBytes, E.maxRequestBytes, E.maxRecipients, E.maxScheduleAheadDays, E.idempotencyTtlSeconds, E.tenantLanes],
    );
    const defined = <T>(value: T | undefined) => value;
    const senders = readSenderPolicy(env);
    return createEmailApi({
        ...senders,
        sqs: new sqs.SQSClient({}),
        queueUrl: values[E.queueUrl],
        dynamodb: new ddb.DynamoDBClient({}),
        idempotencyTableName: values[E.idempotencyTable],
        s3: new (loadS3().S3Client)({}),
        contentBucket: values[E.contentBucket],
        limits: Object.fromEntries(
            Object.entries({
                maxRequestBytes: defined(ints[E.maxRequestBytes]),
                maxRecipients: defined(ints[E.maxRecipients]),
                maxScheduleAheadDays: defined(ints[E.maxScheduleAheadDays]),
            }).filter(([, value]) => value !== undefined),
        ),
        largeBodyThresholdBytes: ints[E.largeBodyThresholdBytes],
        idempotencyTtlSeconds: ints[E.idempotencyTtlSeconds],
        tenantLanes: ints[E.tenantLanes],
    });
}

/**
 * The worker Lambda's `callbackFactory`. SES is the primary (the role's
 * credentials); SMTP is the secondary, configured by the Secrets Manager secret
 * named in `EMAIL_SMTP_SECRET_ARN` (omit it to run without failover).
 *
 * @example
 * new aws.lambda.CallbackFunction("email-worker", { callbackFactory: emailWorkerFromEnvironment, ... });
 */
export function emailWorkerFromEnvironment(env: Env = process.env): EmailWorkerHandler {
    const E = EMAIL_ENV;
    const { values, ints } = readEnv(
        env,
        [
            E.deadLetterQueueUrl,
            E.idempotencyTable,
            E.contentBucket,
            E.queueArn,
            E.scheduleGroup,
            E.schedulerRoleArn,
            E.scheduleDeadLetterQueueArn,
        ],
        [E.deliveryLedgerTtlSeconds, E.breakerTimeoutMs, E.breakerResetTimeoutMs, E.scheduleMinLeadSeconds],
    );
    // Every client the worker's collaborators use is traced (SES, S3, DynamoDB, Secrets Manager, Scheduler).
    // S3, Secrets Manager and Scheduler serve rare paths (large or scheduled content, SMTP failover,
    // deferred sends) and are built, and their modules loaded, on first use.
    const tracer = defaultTracer("email-worker");
    const [dynamodb, sesClient] = traceClients(tracer, new ddb.DynamoDBClient({}), new sesv2.SESv2Client({}));
    const s3Client = once(() => traceClients(tracer, new (loadS3().S3Client)({}))[0]);
    const secretsClient = once(() => traceClients(tracer, new (loadSecretsManager().SecretsManagerClient)({}))[0]);
    const schedulerClient = once(() => traceClients(tracer, new (loadScheduler().SchedulerClient)({}))[0]);
    const smtpSecret = env[E.smtpSecretArn]?.trim();
    return createEmailWorker({
        tracer,
        sqs: new sqs.SQSClient({}),
        deadLetterQueueUrl: values[E.deadLetterQueueUrl],
        primary: sesProvider({ client: sesClient, configurationSetName: env[E.sesConfigurationSet] || undefined }),
        ...(smtpSecret ? { secondary: smtpProvider({ transport: transportFromSecret(secretsClient, smtpSecret) }) } : {}),
        breaker: {
            ...(ints[E.breakerTimeoutMs] ? { timeoutMs: ints[E.breakerTimeoutMs] } : {}),
            ...(ints[E.breakerResetTimeoutMs] ? { resetTimeoutMs: ints[E.breakerResetTimeoutMs] } : {}),
        },
        contentStore: s3ContentStore(s3Client, values[E.contentBucket]),
        ledger: dynamoDeliveryLedger(dynamodb, values[E.idempotencyTable], ints[E.deliveryLedgerTtlSeconds] ?? 14 * 86_400),
        scheduler: eventBridgeScheduler({
            client: schedulerClient,
            groupName: values[E.scheduleGroup],
            queueArn: values[E.queueArn],
            roleArn: values[E.schedulerRoleArn],
            deadLetterQueueArn: values[E.scheduleDeadLetterQueueArn],
            ...(ints[E.scheduleMinLeadSeconds] ? { minLeadMs: ints[E.scheduleMinLeadSeconds]! * 1000 } : {}),
        }),
    });
}

/** `EMAIL_SENDING_IDENTITIES` and `EMAIL_ALLOWED_SENDERS`, checked; a malformed value stops the function from starting. */
function readSenderPolicy(env: Env): { sendingIdentities?: string[]; allowedSenders?: Record<string, string[]> } {
    const E = EMAIL_ENV;
    const problems: string[] = [];
    const names = v.array(v.pipe(v.string(), v.nonEmpty()));
    const parse = <T>(name: string, schema: v.GenericSchema<unknown, T>): T | undefined => {
        const raw = env[name]?.trim();
        if (!raw) return undefined;
        let json: unknown;
        try {
            json = JSON.parse(raw);
        } catch {
            problems.push(`${name} must be JSON`);
            return undefined;
        }
        const result = v.safeParse(schema, json);
        if (!result.success) problems.push(`${name} has the wrong shape`);
        return result.success ? result.output : undefined;
    };
    const sendingIdentities = parse(E.sendingIdentities, names);
    const allowedSenders = parse(E.allowedSenders, v.record(v.string(), names));
    if (problems.length > 0) throw environmentError(problems);
    return { ...(sendingIdentities ? { sendingIdentities } : {}), ...(allowedSenders ? { allowedSenders } : {}) };
}
