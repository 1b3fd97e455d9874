import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { EMAIL_ENV, EMAIL_SERVICE_NAMES, EMAIL_TABLE_KEYS, EMAIL_TTL_ATTRIBUTE } from "../../contracts/email-service";
import { awsScope, deploymentNames } from "../shared/aws-scope";
import { LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME, SQS_MAX_MESSAGE_SIZE_BYTES } from "../shared/defaults";
import { EMAIL_SERVICE_DEFAULTS } from "./defaults";
import type { EmailServiceArgs } from "./email-service-args";
import { emailAlarms } from "./email-alarms";
import { EmailContentBucket } from "./email-content-bucket";
import { EmailHttpApi } from "./email-http-api";
import { EmailScheduler } from "./email-scheduler";
import { type EmailDkimRecord, EmailSesIdentities } from "./email-ses-identities";
import { emailDashboard } from "./email-dashboard";
import { globalName, lambdaLayerName } from "../shared/naming";
import { emailApiPolicy, emailInvokePolicy, emailWorkerPolicy } from "./email-iam";
import { EncryptedQueue } from "../shared/encrypted-queue";
import { ServiceFunction } from "../shared/service-function";
import { layerFiles } from "../shared/lambda-packaging";

export type { EmailApiSettings, EmailFunctionSettings, EmailServiceArgs, EmailWorkerSettings } from "./email-service-args";

/** Packages of the worker's SMTP layer: needed only when SES fails over to SMTP. */
export const SMTP_LAYER_PACKAGES = ["nodemailer"] as const;

/**
 * The email service: `POST /v1/emails` (API Gateway HTTP API, IAM auth, throttled,
 * access-logged) → API Lambda → encrypted high-throughput FIFO queue (+ FIFO DLQ) →
 * worker Lambda (SES, SMTP failover) with an idempotency table, a content bucket for
 * large bodies, the SMTP secret, an EventBridge Scheduler group for `sendAt`, alarms
 * and an invoke policy for clients.
 *
 * @example
 * const email = new EmailService("email", {
 *     api: { factory: emailApiFromEnvironment, throttleRateLimit: 50 },
 *     worker: { factory: emailWorkerFromEnvironment, batchSize: 10 },
 *     kmsKeyArn: key.arn, logGroupNamePrefix: key.logGroupNamePrefix,
 *     alarms: { topicArn: alarms.topic.arn, namePrefix: alarms.alarmNamePrefix },
 * });
 * export const emailApiUrl = email.apiUrl;
 */
export class EmailService<ApiEvent = unknown, ApiResult = unknown, WorkerEvent = unknown, WorkerResult = unknown>
    extends pulumi.ComponentResource
{
    readonly queue: EncryptedQueue;
    readonly table: aws.dynamodb.Table;
    readonly bucket: aws.s3.Bucket;
    readonly smtpSecret: aws.secretsmanager.Secret;
    readonly scheduleGroup: aws.scheduler.ScheduleGroup;
    /** Standard queue (EventBridge Scheduler refuses FIFO DLQs) for schedules that could not release their email. */
    readonly scheduleDeadLetterQueue: aws.sqs.Queue;
    readonly schedulerRole: aws.iam.Role;
    /** SES sending identities declared in `ses.identities`, by identity. */
    readonly sesIdentities: Record<string, aws.sesv2.EmailIdentity>;
    readonly sesConfigurationSet: aws.sesv2.ConfigurationSet;
    /** Per declared domain, the three DKIM CNAME records to publish (`name CNAME value`). */
    readonly sesDkimRecords: pulumi.Output<EmailDkimRecord[]>;
    readonly apiFunction: aws.lambda.CallbackFunction<ApiEvent, ApiResult>;
    readonly workerFunction: aws.lambda.CallbackFunction<WorkerEvent, WorkerResult>;
    /** nodemailer for the worker's SMTP failover path (kept out of the worker's archive). */
    readonly smtpLayer: aws.lambda.LayerVersion;
    readonly apiRole: aws.iam.Role;
    readonly workerRole: aws.iam.Role;
    readonly api: aws.apigatewayv2.Api;
    readonly route: aws.apigatewayv2.Route;
    readonly stage: aws.apigatewayv2.Stage;
    readonly invokePolicy: aws.iam.Policy;
    readonly alarms: aws.cloudwatch.MetricAlarm[];
    /** API, queue, providers, failovers, DLQ and scheduled emails; named like the events dashboard. */
    readonly dashboard: aws.cloudwatch.Dashboard;
    /** `https://<api>.execute-api.<region>.amazonaws.com/v1/emails` */
    readonly apiUrl: pulumi.Output<string>;

    constructor(
        name: string,
        args: EmailServiceArgs<ApiEvent, ApiResult, WorkerEvent, WorkerResult>,
        opts?: pulumi.ComponentResourceOptions,
    ) {
        super("event-ingestion:email:EmailService", name, {}, opts);
        const defaults = EMAIL_SERVICE_DEFAULTS;
        const apiSettings = { ...defaults.api, ...definedOnly(args.api) };
        const workerSettings = { ...defaults.worker, ...definedOnly(args.worker) };
        const queueSettings = { ...defaults.queue, ...definedOnly(args.queue ?? {}) };
        const storage = { ...defaults.storage, ...definedOnly(args.storage ?? {}) };
        const logs = { ...defaults.logs, ...definedOnly(args.logs ?? {}) };
        const ses = args.ses ?? {};
        const { project, stack } = deploymentNames();
        const scope = awsScope({ parent: this });
        const parent = { parent: this };
        const keyArn = pulumi.output(args.kmsKeyArn);

        // Queue: FIFO, high throughput; content-based deduplication for the scheduler's releases
        // (explicit deduplication ids — the email id — win for everything the API sends).
        this.queue = new EncryptedQueue(
            `${name}-queue`,
            {
                kmsKeyArn: args.kmsKeyArn,
                consumerTimeoutSeconds: workerSettings.timeoutSeconds,
                fifo: true,
                highThroughput: true,
                contentBasedDeduplication: true,
                maxReceiveCount: queueSettings.maxReceiveCount,
                maxMessageSize: SQS_MAX_MESSAGE_SIZE_BYTES,
            },
            parent,
        );

        this.table = new aws.dynamodb.Table(
            `${name}-idempotency`,
            {
                billingMode: "PAY_PER_REQUEST",
                hashKey: EMAIL_TABLE_KEYS.partition,
                attributes: [{ name: EMAIL_TABLE_KEYS.partition, type: "S" }],
                ttl: { attributeName: EMAIL_TTL_ATTRIBUTE, enabled: true },
                pointInTimeRecovery: { enabled: true },
                serverSideEncryption: { enabled: true, kmsKeyArn: args.kmsKeyArn },
                deletionProtectionEnabled: storage.deletionProtection,
            },
            parent,
        );

        // Content bucket: CMK + bucket key, TLS only, private, objects expire.
        this.bucket = new EmailContentBucket(
            name,
            { kmsKeyArn: args.kmsKeyArn, contentRetentionDays: storage.contentRetentionDays, previousParent: this },
            parent,
        ).bucket;

        // SMTP relay settings: a secret encrypted with the key; its value from config (a Pulumi secret) or set out of band.
        this.smtpSecret = new aws.secretsmanager.Secret(
            `${name}-smtp`,
            {
                description: "SMTP relay for email failover: JSON { host, port, secure, requireTLS, username, password }",
                kmsKeyId: args.kmsKeyArn,
                recoveryWindowInDays: 7,
            },
            parent,
        );
        if (workerSettings.smtp) {
            new aws.secretsmanager.SecretVersion(
                `${name}-smtp-value`,
                { secretId: this.smtpSecret.id, secretString: pulumi.secret(JSON.stringify(workerSettings.smtp)) },
                parent,
            );
        }

        // sendAt: one-time schedules in the scheduler's group put released emails back on the queue.
        const scheduler = new EmailScheduler(
            name,
            { queueArn: this.queue.queue.arn, kmsKeyArn: args.kmsKeyArn, previousParent: this },
            parent,
        );
        this.scheduleGroup = scheduler.group;
        this.scheduleDeadLetterQueue = scheduler.deadLetterQueue;
        this.schedulerRole = scheduler.role;
        const scheduleGroupName = this.scheduleGroup.name;

        // SES: the sending identities and the configuration set are resources of the stack; the worker may send
        // only as them, through that configuration set. Domains use Easy DKIM: publish `sesDkimRecords`.
        const sesResources = new EmailSesIdentities(
            name,
            { identities: ses.identities, configurationSetName: ses.configurationSetName, previousParent: this },
            parent,
        );
        this.sesConfigurationSet = sesResources.configurationSet;
        this.sesIdentities = sesResources.identities;
        this.sesDkimRecords = sesResources.dkimRecords;
        const configurationSetName = this.sesConfigurationSet.configurationSetName;

        // nodemailer serves only the SMTP failover path: the worker requires it on first use, and it ships in this
        // layer, built from the installed package's runtime files, so the worker's archive and cold start stay small.
        this.smtpLayer = new aws.lambda.LayerVersion(
            `${name}-smtp-layer`,
            {
                layerName: lambdaLayerName(project, stack, `${name}-smtp`),
                description: "nodemailer, for the email worker's SMTP failover path",
                code: new pulumi.asset.AssetArchive(
                    Object.fromEntries(
                        Object.entries(layerFiles(SMTP_LAYER_PACKAGES)).map(([archivePath, file]) => [
                            archivePath,
                            new pulumi.asset.FileAsset(file),
                        ]),
                    ),
                ),
                compatibleRuntimes: [LAMBDA_RUNTIME],
                compatibleArchitectures: [LAMBDA_ARCHITECTURE],
            },
            parent,
        );

        // The functions' resources were children of this component before ServiceFunction grouped them.
        const functionDefaults = {
            kmsKeyArn: args.kmsKeyArn,
            logGroupNamePrefix: args.logGroupNamePrefix,
            logLevel: logs.level,
            logRetentionDays: logs.retentionDays,
            previousParent: this,
        };
        const api = new ServiceFunction(
            `${name}-api`,
            {
                ...functionDefaults,
                callbackFactory: args.api.factory,
                description: "POST /v1/emails: validates, stores Idempotency-Keys, enqueues on the email FIFO queue",
                roleDescription: "Email API",
                serviceName: EMAIL_SERVICE_NAMES.api,
                memorySizeMb: apiSettings.memorySizeMb,
                timeoutSeconds: apiSettings.timeoutSeconds,
                shippedPackages: ["valibot"],
                policy: ({ scope: awsScopeOutput, logGroupArn }) =>
                    pulumi
                        .all([awsScopeOutput, keyArn, logGroupArn, this.queue.queue.arn, this.table.arn, this.bucket.arn])
                        .apply(([resolvedScope, key, logGroup, queueArn, tableArn, bucketArn]) =>
                            emailApiPolicy({ scope: resolvedScope, keyArn: key, logGroupArn: logGroup, queueArn, tableArn, bucketArn }),
                        ),
                environment: {
                    [EMAIL_ENV.queueUrl]: this.queue.queue.url,
                    [EMAIL_ENV.idempotencyTable]: this.table.name,
                    [EMAIL_ENV.contentBucket]: this.bucket.bucket,
                    [EMAIL_ENV.largeBodyThresholdBytes]: String(apiSettings.largeBodyThresholdBytes),
                    [EMAIL_ENV.maxRequestBytes]: String(apiSettings.maxRequestBytes),
                    [EMAIL_ENV.maxRecipients]: String(apiSettings.maxRecipients),
                    [EMAIL_ENV.maxScheduleAheadDays]: String(apiSettings.maxScheduleAheadDays),
                    [EMAIL_ENV.idempotencyTtlSeconds]: String(apiSettings.idempotencyTtlHours * 3600),
                    [EMAIL_ENV.tenantLanes]: String(apiSettings.tenantLanes),
                    ...(ses.identities ? { [EMAIL_ENV.sendingIdentities]: JSON.stringify(ses.identities) } : {}),
                    ...(apiSettings.senders ? { [EMAIL_ENV.allowedSenders]: JSON.stringify(apiSettings.senders) } : {}),
                },
            },
            parent,
        );
        this.apiFunction = api.function;
        this.apiRole = api.role;

        const worker = new ServiceFunction(
            `${name}-worker`,
            {
                ...functionDefaults,
                callbackFactory: args.worker.factory,
                description: "Sends queued emails through SES with SMTP failover; schedules future sendAt",
                roleDescription: "Email worker",
                serviceName: EMAIL_SERVICE_NAMES.worker,
                memorySizeMb: workerSettings.memorySizeMb,
                timeoutSeconds: workerSettings.timeoutSeconds,
                shippedPackages: ["valibot", "opossum"],
                extraLayers: [this.smtpLayer.arn],
                policy: ({ scope: awsScopeOutput, logGroupArn }) =>
                    pulumi
                        .all([
                            awsScopeOutput,
                            pulumi.all([
                                keyArn,
                                logGroupArn,
                                this.queue.queue.arn,
                                this.queue.deadLetterQueue.arn,
                                this.table.arn,
                                this.bucket.arn,
                                this.smtpSecret.arn,
                                scheduleGroupName,
                            ]),
                            this.schedulerRole.arn,
                            pulumi.all(Object.values(this.sesIdentities).map((identity) => identity.arn)),
                            this.sesConfigurationSet.arn,
                        ])
                        .apply(
                            ([
                                resolvedScope,
                                [key, logGroup, queueArn, deadLetterQueueArn, tableArn, bucketArn, secretArn, group],
                                schedulerRoleArn,
                                identityArns,
                                configurationSetArn,
                            ]) =>
                                emailWorkerPolicy({
                                    scope: resolvedScope,
                                    keyArn: key,
                                    logGroupArn: logGroup,
                                    queueArn,
                                    deadLetterQueueArn,
                                    tableArn,
                                    bucketArn,
                                    secretArn,
                                    // Without declared identities the worker may send as any identity of the account in the region.
                                    sesIdentityArns:
                                        identityArns.length > 0
                                            ? identityArns
                                            : [
                                                  `arn:${resolvedScope.partition}:ses:${resolvedScope.region}:${resolvedScope.accountId}:identity/*`,
                                              ],
                                    sesConfigurationSetArn: configurationSetArn,
                                    scheduleGroupName: group,
                                    schedulerRoleArn,
                                }),
                        ),
                environment: {
                    [EMAIL_ENV.deadLetterQueueUrl]: this.queue.deadLetterQueue.url,
                    [EMAIL_ENV.queueArn]: this.queue.queue.arn,
                    [EMAIL_ENV.idempotencyTable]: this.table.name,
                    [EMAIL_ENV.contentBucket]: this.bucket.bucket,
                    [EMAIL_ENV.smtpSecretArn]: this.smtpSecret.arn,
                    [EMAIL_ENV.scheduleGroup]: scheduleGroupName,
                    [EMAIL_ENV.schedulerRoleArn]: this.schedulerRole.arn,
                    [EMAIL_ENV.sesConfigurationSet]: configurationSetName,
                    [EMAIL_ENV.scheduleDeadLetterQueueArn]: this.scheduleDeadLetterQueue.arn,
                },
                queue: {
                    arn: this.queue.queue.arn,
                    batchSize: workerSettings.batchSize,
                    maxConcurrency: workerSettings.maxConcurrency,
                },
            },
            parent,
        );
        this.workerFunction = worker.function;
        this.workerRole = worker.role;

        // HTTP API: one explicit route, IAM auth by default, throttled, access-logged (no bodies, no IPs).
        const http = new EmailHttpApi(
            name,
            {
                functionInvokeArn: this.apiFunction.invokeArn,
                functionName: this.apiFunction.name,
                functionTimeoutSeconds: apiSettings.timeoutSeconds,
                authorization: apiSettings.authorization,
                throttleRateLimit: apiSettings.throttleRateLimit,
                throttleBurstLimit: apiSettings.throttleBurstLimit,
                accessLogGroupName: `${args.logGroupNamePrefix}${name}-api-access`,
                accessLogRetentionDays: logs.retentionDays,
                kmsKeyArn: args.kmsKeyArn,
                previousParent: this,
            },
            parent,
        );
        this.api = http.api;
        this.route = http.route;
        this.stage = http.stage;
        this.invokePolicy = new aws.iam.Policy(
            `${name}-invoke`,
            {
                description: "Call POST /v1/emails on the email API (SigV4)",
                policy: http.routeExecutionArn.apply((arn) => JSON.stringify(emailInvokePolicy(arn))),
            },
            parent,
        );
        this.apiUrl = http.url;

        this.alarms = emailAlarms(
            {
                target: { topicArn: args.alarms.topicArn, namePrefix: args.alarms.namePrefix, component: name },
                metricsNamespace: project,
                apiId: this.api.id,
                apiFunctionName: this.apiFunction.name,
                workerFunctionName: this.workerFunction.name,
                queueName: this.queue.queue.name,
                deadLetterQueueName: this.queue.deadLetterQueue.name,
                scheduleDeadLetterQueueName: this.scheduleDeadLetterQueue.name,
                scheduleGroupName,
                oldestMessageAgeAlarmSeconds: queueSettings.oldestMessageAgeAlarmSeconds,
            },
            parent,
        );

        this.dashboard = emailDashboard(
            `${name}-dashboard`,
            {
                // Dashboard names are global to the account: qualify with region too (as the events dashboard).
                dashboardName: scope.apply((resolvedScope) => globalName(project, stack, resolvedScope.region, name)),
                metricsNamespace: project,
                apiServiceName: EMAIL_SERVICE_NAMES.api,
                workerServiceName: EMAIL_SERVICE_NAMES.worker,
                api: this.api,
                stageName: this.stage.name,
                apiFunction: this.apiFunction,
                workerFunction: this.workerFunction,
                queue: this.queue.queue,
                deadLetterQueue: this.queue.deadLetterQueue,
                scheduleGroupName,
                oldestMessageAgeAlarmSeconds: queueSettings.oldestMessageAgeAlarmSeconds,
            },
            parent,
        );

        this.registerOutputs({
            apiUrl: this.apiUrl,
            dashboardName: this.dashboard.dashboardName,
            queueUrl: this.queue.queue.url,
            deadLetterQueueUrl: this.queue.deadLetterQueue.url,
            scheduleDeadLetterQueueUrl: this.scheduleDeadLetterQueue.url,
            invokePolicyArn: this.invokePolicy.arn,
            sesDkimRecords: this.sesDkimRecords,
        });
    }
}

/** The fields of `settings` that are set: an explicit `undefined` must not hide a default. */
function definedOnly<T extends object>(settings: T): Partial<T> {
    return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined)) as Partial<T>;
}
