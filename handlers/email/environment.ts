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
import ddb = require("@aws-sdk/client-dynamodb");
import sesv2 = require("@aws-sdk/client-sesv2");
import v = require("valibot");
import { EMAIL_ENV, EMAIL_SERVICE_NAMES } from "../../contracts/email-service";
import { createEmailApi, EmailApiHandler } from "./api";
import { s3ContentStore, s3Sdk } from "./content-store";
import { environmentError } from "./errors";
import { dynamoDeliveryLedger } from "./idempotency";
import { sesProvider } from "./providers/ses";
import { secretsSdk, smtpProvider, transportFromSecret } from "./providers/smtp";
import { eventBridgeScheduleCanceller, eventBridgeScheduler, schedulerSdk } from "./scheduler";
import { dynamoStatusStore } from "./status";
import { dynamoSuppressionList } from "./suppression";
import { createEmailStatusEvents, type EmailStatusEventHandler } from "./ses-events";
import { createEmailStatusNotifier, eventBridgePublisher, eventBridgeSdk, type EmailStatusNotifierHandler } from "./status-notify";
import { createEmailWorker, EmailWorkerHandler } from "./worker";
import { once } from "../shared/deferred";
import { defaultTracer, traceClients } from "../tracing";

/** Used only if the component did not pass a retention: the stack's default, 30 days. */
const STATUS_RETENTION_FALLBACK_SECONDS = 30 * 86_400;

/** The process environment, or a stand-in for it; variable names: `EMAIL_ENV` (contracts/email-service.ts). */
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
    const { values, ints } = readEnv(
        env,
        [EMAIL_ENV.queueUrl, EMAIL_ENV.idempotencyTable, EMAIL_ENV.contentBucket, EMAIL_ENV.statusTable],
        [
            EMAIL_ENV.statusRetentionSeconds,
            EMAIL_ENV.largeBodyThresholdBytes,
            EMAIL_ENV.maxRequestBytes,
            EMAIL_ENV.maxRecipients,
            EMAIL_ENV.maxScheduleAheadDays,
            EMAIL_ENV.idempotencyTtlSeconds,
            EMAIL_ENV.tenantLanes,
        ],
    );
    const defined = <T>(value: T | undefined) => value;
    const senders = readSenderPolicy(env);
    // Only a cancel deletes a schedule: the Scheduler client (and its module) is built on the first one.
    const scheduleGroup = env[EMAIL_ENV.scheduleGroup]?.trim();
    const scheduleCanceller = scheduleGroup
        ? eventBridgeScheduleCanceller({ client: once(() => new (schedulerSdk().SchedulerClient)({})), groupName: scheduleGroup })
        : undefined;
    return createEmailApi({
        ...senders,
        ...(scheduleCanceller ? { scheduleCanceller } : {}),
        sqs: new sqs.SQSClient({}),
        queueUrl: values[EMAIL_ENV.queueUrl],
        dynamodb: new ddb.DynamoDBClient({}),
        idempotencyTableName: values[EMAIL_ENV.idempotencyTable],
        statusTableName: values[EMAIL_ENV.statusTable],
        statusRetentionSeconds: ints[EMAIL_ENV.statusRetentionSeconds] ?? STATUS_RETENTION_FALLBACK_SECONDS,
        // Only bodies above the offload threshold reach S3: its SDK loads then, not in every cold start.
        s3: () => new (s3Sdk().S3Client)({}),
        contentBucket: values[EMAIL_ENV.contentBucket],
        limits: Object.fromEntries(
            Object.entries({
                maxRequestBytes: defined(ints[EMAIL_ENV.maxRequestBytes]),
                maxRecipients: defined(ints[EMAIL_ENV.maxRecipients]),
                maxScheduleAheadDays: defined(ints[EMAIL_ENV.maxScheduleAheadDays]),
            }).filter(([, value]) => value !== undefined),
        ),
        largeBodyThresholdBytes: ints[EMAIL_ENV.largeBodyThresholdBytes],
        idempotencyTtlSeconds: ints[EMAIL_ENV.idempotencyTtlSeconds],
        tenantLanes: ints[EMAIL_ENV.tenantLanes],
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
    const { values, ints } = readEnv(
        env,
        [
            EMAIL_ENV.deadLetterQueueUrl,
            EMAIL_ENV.idempotencyTable,
            EMAIL_ENV.contentBucket,
            EMAIL_ENV.queueArn,
            EMAIL_ENV.scheduleGroup,
            EMAIL_ENV.schedulerRoleArn,
            EMAIL_ENV.scheduleDeadLetterQueueArn,
            EMAIL_ENV.statusTable,
        ],
        [EMAIL_ENV.deliveryLedgerTtlSeconds, EMAIL_ENV.breakerTimeoutMs, EMAIL_ENV.breakerResetTimeoutMs, EMAIL_ENV.scheduleMinLeadSeconds],
    );
    // Every client the worker's collaborators use is traced (SES, S3, DynamoDB, Secrets Manager, Scheduler).
    // S3, Secrets Manager and Scheduler serve rare paths (large or scheduled content, SMTP failover,
    // deferred sends) and are built, and their modules loaded, on first use.
    const tracer = defaultTracer(EMAIL_SERVICE_NAMES.worker);
    const [dynamodb, sesClient] = traceClients(tracer, new ddb.DynamoDBClient({}), new sesv2.SESv2Client({}));
    const s3Client = once(() => traceClients(tracer, new (s3Sdk().S3Client)({}))[0]);
    const secretsClient = once(() => traceClients(tracer, new (secretsSdk().SecretsManagerClient)({}))[0]);
    const schedulerClient = once(() => traceClients(tracer, new (schedulerSdk().SchedulerClient)({}))[0]);
    const smtpSecret = env[EMAIL_ENV.smtpSecretArn]?.trim();
    return createEmailWorker({
        tracer,
        sqs: new sqs.SQSClient({}),
        deadLetterQueueUrl: values[EMAIL_ENV.deadLetterQueueUrl],
        primary: sesProvider({ client: sesClient, configurationSetName: env[EMAIL_ENV.sesConfigurationSet] || undefined }),
        ...(smtpSecret ? { secondary: smtpProvider({ transport: transportFromSecret(secretsClient, smtpSecret) }) } : {}),
        breaker: {
            ...(ints[EMAIL_ENV.breakerTimeoutMs] ? { timeoutMs: ints[EMAIL_ENV.breakerTimeoutMs] } : {}),
            ...(ints[EMAIL_ENV.breakerResetTimeoutMs] ? { resetTimeoutMs: ints[EMAIL_ENV.breakerResetTimeoutMs] } : {}),
        },
        contentStore: s3ContentStore(s3Client, values[EMAIL_ENV.contentBucket]),
        statuses: dynamoStatusStore(dynamodb, values[EMAIL_ENV.statusTable]),
        suppressions: dynamoSuppressionList(dynamodb, values[EMAIL_ENV.statusTable]),
        ledger: dynamoDeliveryLedger(dynamodb, values[EMAIL_ENV.idempotencyTable], ints[EMAIL_ENV.deliveryLedgerTtlSeconds] ?? 14 * 86_400),
        scheduler: eventBridgeScheduler({
            client: schedulerClient,
            groupName: values[EMAIL_ENV.scheduleGroup],
            queueArn: values[EMAIL_ENV.queueArn],
            roleArn: values[EMAIL_ENV.schedulerRoleArn],
            deadLetterQueueArn: values[EMAIL_ENV.scheduleDeadLetterQueueArn],
            ...(ints[EMAIL_ENV.scheduleMinLeadSeconds] ? { minLeadMs: ints[EMAIL_ENV.scheduleMinLeadSeconds]! * 1000 } : {}),
        }),
    });
}

/**
 * The status function's `callbackFactory`: SES events (through EventBridge) → the status table.
 * It needs only DynamoDB.
 *
 * @example
 * new ServiceFunction("email-status", { callbackFactory: emailStatusEventsFromEnvironment, ... });
 */
export function emailStatusEventsFromEnvironment(env: Env = process.env): EmailStatusEventHandler {
    const { values } = readEnv(env, [EMAIL_ENV.statusTable], []);
    const tracer = defaultTracer(EMAIL_SERVICE_NAMES.status);
    const [dynamodb] = traceClients(tracer, new ddb.DynamoDBClient({}));
    return createEmailStatusEvents({
        statuses: dynamoStatusStore(dynamodb, values[EMAIL_ENV.statusTable]),
        suppressions: dynamoSuppressionList(dynamodb, values[EMAIL_ENV.statusTable]),
    });
}

/**
 * The notify function's `callbackFactory`: the status table's stream → the status-change bus.
 * It needs only EventBridge (the stream records are its event).
 *
 * @example
 * new ServiceFunction("email-status-notify", { callbackFactory: emailStatusNotifierFromEnvironment, ... });
 */
export function emailStatusNotifierFromEnvironment(env: Env = process.env): EmailStatusNotifierHandler {
    const { values } = readEnv(env, [EMAIL_ENV.statusEventBus], []);
    const tracer = defaultTracer(EMAIL_SERVICE_NAMES.notify);
    const [client] = traceClients(tracer, new (eventBridgeSdk().EventBridgeClient)({}));
    return createEmailStatusNotifier({ eventBusName: values[EMAIL_ENV.statusEventBus], publish: eventBridgePublisher(client) });
}

/** `EMAIL_SENDING_IDENTITIES` and `EMAIL_ALLOWED_SENDERS`, checked; a malformed value stops the function from starting. */
function readSenderPolicy(env: Env): { sendingIdentities?: string[]; allowedSenders?: Record<string, string[]> } {
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
    const sendingIdentities = parse(EMAIL_ENV.sendingIdentities, names);
    const allowedSenders = parse(EMAIL_ENV.allowedSenders, v.record(v.string(), names));
    if (problems.length > 0) throw environmentError(problems);
    return { ...(sendingIdentities ? { sendingIdentities } : {}), ...(allowedSenders ? { allowedSenders } : {}) };
}
