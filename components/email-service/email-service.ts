import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { EMAIL_SERVICE_NAMES, EMAIL_STATUS_TABLE_KEYS, EMAIL_TABLE_KEYS, EMAIL_TTL_ATTRIBUTE } from "../../contracts/email-service";
import { awsScope, deploymentNames } from "../shared/aws-scope";
import { EMAIL_SERVICE_DEFAULTS, SQS_MAX_MESSAGE_SIZE_BYTES, withDefaults } from "../shared/defaults";
import type { EmailServiceArgs } from "./email-service-args";
import { EmailAlarms } from "./email-alarms";
import { EmailContentBucket } from "./email-content-bucket";
import { emailApiFunctionArgs, emailWorkerFunctionArgs } from "./email-functions";
import { EmailHttpApi } from "./email-http-api";
import { EmailScheduler } from "./email-scheduler";
import { type EmailDkimRecord, EmailSesIdentities } from "./email-ses-identities";
import { EmailSmtp } from "./email-smtp";
import { EmailDashboard } from "./email-dashboard";
import { eventBusName, globalName } from "../shared/naming";
import { emailInvokePolicy } from "./email-iam";
import { EncryptedQueue } from "../shared/encrypted-queue";
import { EmailStatusEvents } from "./email-status-events";
import { EmailStatusNotifications } from "./email-status-notifications";
import { ServiceFunction } from "../shared/service-function";

export type { EmailApiSettings, EmailFunctionSettings, EmailServiceArgs, EmailWorkerSettings } from "./email-service-args";

export { SMTP_LAYER_PACKAGES } from "./email-smtp";

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
    /** Each email's status and history by email id, owned by the caller's principal; expires after `storage.statusRetentionDays`. */
    readonly statusTable: aws.dynamodb.Table;
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
    /** `GET /v1/emails/{id}`, with the same authorization as `route`. */
    readonly statusRoute: aws.apigatewayv2.Route;
    /** `DELETE /v1/emails/{id}`: cancel a scheduled email. */
    readonly cancelRoute: aws.apigatewayv2.Route;
    readonly stage: aws.apigatewayv2.Stage;
    readonly invokePolicy: aws.iam.Policy;
    readonly alarms: aws.cloudwatch.MetricAlarm[];
    /** SES events → statuses (event destination, rule, status function, its DLQ and alarms); present with `statusEvents`. */
    readonly statusEvents?: EmailStatusEvents<never, unknown>;
    /** Status changes → the status bus (stream, notify function, bus, DLQ, subscribe policy, alarms); present with `statusNotifications`. */
    readonly statusNotifications?: EmailStatusNotifications<never, unknown>;
    /** API, queue, providers, failovers, DLQ and scheduled emails; named like the events dashboard. */
    readonly dashboard: aws.cloudwatch.Dashboard;
    /** `https://<api>.execute-api.<region>.amazonaws.com/v1/emails` */
    readonly apiUrl: pulumi.Output<string>;

    /**
     * The name of the status bus of the email service `name` in this stack, known before anything is deployed
     * (the email key's policy names the bus: `EncryptionKeyArgs.eventBusNames`).
     *
     * @example
     * new EncryptionKey("email", { services: [..., "events"], eventBusNames: [EmailService.statusEventBusName("email")] });
     */
    static statusEventBusName(name: string): string {
        const { project, stack } = deploymentNames();
        return eventBusName(project, stack, `${name}-status`);
    }

    constructor(
        name: string,
        args: EmailServiceArgs<ApiEvent, ApiResult, WorkerEvent, WorkerResult>,
        opts?: pulumi.ComponentResourceOptions,
    ) {
        super("event-ingestion:email:EmailService", name, {}, opts);
        const defaults = EMAIL_SERVICE_DEFAULTS;
        const apiSettings = withDefaults(defaults.api, args.api);
        const workerSettings = withDefaults(defaults.worker, args.worker);
        const queueSettings = withDefaults(defaults.queue, args.queue);
        const storage = withDefaults(defaults.storage, args.storage);
        const logs = withDefaults(defaults.logs, args.logs);
        const ses = args.ses ?? {};
        const { project, stack } = deploymentNames();
        const scope = awsScope({ parent: this });
        const parent = { parent: this };

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

        // Statuses: one item per email, written by the API, the worker (and later reports) with conditional updates.
        this.statusTable = new aws.dynamodb.Table(
            `${name}-status`,
            {
                billingMode: "PAY_PER_REQUEST",
                hashKey: EMAIL_STATUS_TABLE_KEYS.partition,
                attributes: [{ name: EMAIL_STATUS_TABLE_KEYS.partition, type: "S" }],
                ttl: { attributeName: EMAIL_TTL_ATTRIBUTE, enabled: true },
                pointInTimeRecovery: { enabled: true },
                serverSideEncryption: { enabled: true, kmsKeyArn: args.kmsKeyArn },
                deletionProtectionEnabled: storage.deletionProtection,
                // Every status change, whoever wrote it, for the status bus; old images tell a change from a rewrite.
                ...(args.statusNotifications ? { streamEnabled: true, streamViewType: "NEW_AND_OLD_IMAGES" } : {}),
            },
            parent,
        );

        // Content bucket: CMK + bucket key, TLS only, private, objects expire.
        this.bucket = new EmailContentBucket(
            name,
            { kmsKeyArn: args.kmsKeyArn, contentRetentionDays: storage.contentRetentionDays, previousParent: this },
            parent,
        ).bucket;

        // SMTP failover: the relay's secret (its value from config, a Pulumi secret, or set out of band) and the nodemailer layer.
        const smtp = new EmailSmtp(name, { kmsKeyArn: args.kmsKeyArn, smtp: workerSettings.smtp, previousParent: this }, parent);
        this.smtpSecret = smtp.secret;
        this.smtpLayer = smtp.layer;

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

        // What both functions share; their resources were children of this component before ServiceFunction grouped them.
        const functionDefaults = {
            kmsKeyArn: args.kmsKeyArn,
            logGroupNamePrefix: args.logGroupNamePrefix,
            logLevel: logs.level,
            logRetentionDays: logs.retentionDays,
            previousParent: this,
            queue: this.queue,
            table: this.table,
            statusTable: this.statusTable,
            bucket: this.bucket,
        };
        const api = new ServiceFunction(
            `${name}-api`,
            emailApiFunctionArgs({
                ...functionDefaults,
                settings: { ...apiSettings, factory: args.api.factory },
                sendingIdentities: ses.identities,
                statusRetentionDays: storage.statusRetentionDays,
                scheduler,
            }),
            parent,
        );
        this.apiFunction = api.function;
        this.apiRole = api.role;
        const worker = new ServiceFunction(
            `${name}-worker`,
            emailWorkerFunctionArgs({
                ...functionDefaults,
                settings: { ...workerSettings, factory: args.worker.factory },
                smtp,
                scheduler,
                ses: sesResources,
            }),
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
        this.statusRoute = http.statusRoute;
        this.cancelRoute = http.cancelRoute;
        this.stage = http.stage;
        this.invokePolicy = new aws.iam.Policy(
            `${name}-invoke`,
            {
                // The description is the deployed one (changing it replaces the policy); it also grants GET and DELETE /v1/emails/{id}.
                description: "Call POST /v1/emails on the email API (SigV4)",
                policy: pulumi
                    .all([http.routeExecutionArn, http.statusRouteExecutionArn, http.cancelRouteExecutionArn])
                    .apply(([sendArn, statusArn, cancelArn]) => JSON.stringify(emailInvokePolicy(sendArn, statusArn, cancelArn))),
            },
            parent,
        );
        this.apiUrl = http.url;

        this.alarms = new EmailAlarms(
            name,
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
                previousParent: this,
            },
            parent,
        ).alarms;

        // What the two functions on the status table share: the table, the key, their logs and their alarms.
        const statusFunctionArgs = {
            statusTable: this.statusTable,
            kmsKeyArn: args.kmsKeyArn,
            logGroupNamePrefix: args.logGroupNamePrefix,
            logLevel: logs.level,
            logRetentionDays: logs.retentionDays,
            alarms: { topicArn: args.alarms.topicArn, namePrefix: args.alarms.namePrefix, component: name },
        };
        if (args.statusEvents) {
            this.statusEvents = new EmailStatusEvents(
                name,
                {
                    factory: args.statusEvents.factory,
                    configurationSetName: this.sesConfigurationSet.configurationSetName,
                    ...statusFunctionArgs,
                },
                parent,
            );
        }

        if (args.statusNotifications) {
            this.statusNotifications = new EmailStatusNotifications(
                name,
                {
                    factory: args.statusNotifications.factory,
                    eventBusName: EmailService.statusEventBusName(name),
                    ...statusFunctionArgs,
                },
                parent,
            );
        }

        this.dashboard = new EmailDashboard(
            name,
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
                previousParent: this,
            },
            parent,
        ).dashboard;

        this.registerOutputs({
            apiUrl: this.apiUrl,
            dashboardName: this.dashboard.dashboardName,
            queueUrl: this.queue.queue.url,
            statusTableName: this.statusTable.name,
            deadLetterQueueUrl: this.queue.deadLetterQueue.url,
            scheduleDeadLetterQueueUrl: this.scheduleDeadLetterQueue.url,
            invokePolicyArn: this.invokePolicy.arn,
            sesDkimRecords: this.sesDkimRecords,
            statusEventBusArn: this.statusNotifications?.eventBus.arn,
            statusSubscribePolicyArn: this.statusNotifications?.subscribePolicy.arn,
        });
    }
}
