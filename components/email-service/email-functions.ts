import type * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { EMAIL_ENV, EMAIL_SERVICE_NAMES } from "../../contracts/email-service";
import type { LogLevel } from "../shared/defaults";
import type { EncryptedQueue } from "../shared/encrypted-queue";
import type { ServiceFunctionArgs } from "../shared/service-function";
import type { EmailApiSettings, EmailWorkerSettings } from "./email-service-args";
import { emailApiPolicy, emailWorkerPolicy } from "./email-iam";
import type { EmailScheduler } from "./email-scheduler";
import type { EmailSesIdentities } from "./email-ses-identities";
import type { EmailSmtp } from "./email-smtp";

/** What the API function and the worker share. */
export interface EmailFunctionCommonArgs {
    /**
     * Customer-managed key of the log groups, the environments and every resource the policies name.
     * @example key.arn
     * @default none (required)
     */
    kmsKeyArn: pulumi.Input<string>;
    /**
     * Log group name prefix the key policy lets CloudWatch Logs use; each log group is `<prefix><name>-api`, `<prefix><name>-worker`.
     * @example key.logGroupNamePrefix
     * @default none (required)
     */
    logGroupNamePrefix: string;
    /**
     * @example "INFO"
     * @default none (required; `EmailService` passes `logs.level`, "INFO" unless configured)
     */
    logLevel: LogLevel;
    /**
     * @example 30
     * @default none (required; `EmailService` passes `logs.retentionDays`, 30 unless configured)
     */
    logRetentionDays: number;
    /**
     * The parent the functions' resources were registered under before `ServiceFunction` grouped them:
     * each gets an alias to it, so a deployed stack keeps its log groups, roles and functions.
     * @example this
     * @default undefined (no alias)
     */
    previousParent?: pulumi.Resource;
    /**
     * The email FIFO queue (and its dead-letter queue).
     * @example queue
     * @default none (required)
     */
    queue: EncryptedQueue;
    /**
     * The idempotency table.
     * @example table
     * @default none (required)
     */
    table: aws.dynamodb.Table;
    /**
     * The status table (each email's status and history).
     * @example statusTable
     * @default none (required)
     */
    statusTable: aws.dynamodb.Table;
    /**
     * The content bucket for large bodies.
     * @example content.bucket
     * @default none (required)
     */
    bucket: aws.s3.Bucket;
}

/** The API's settings with the defaults applied (the limits become its environment). */
export type EmailApiFunctionSettings<Event, Result> = Required<
    Omit<EmailApiSettings<Event, Result>, "authorization" | "throttleRateLimit" | "throttleBurstLimit" | "senders">
> &
    Pick<EmailApiSettings<Event, Result>, "senders">;

export interface EmailApiFunctionArgs<Event, Result> extends EmailFunctionCommonArgs {
    /**
     * @example { ...EMAIL_SERVICE_DEFAULTS.api, factory: emailApiFromEnvironment }
     * @default none (required)
     */
    settings: EmailApiFunctionSettings<Event, Result>;
    /**
     * The declared SES identities, which every `from` must be covered by.
     * @example ["example.com"]
     * @default undefined (none declared: the API checks no sender against identities)
     */
    sendingIdentities?: string[];
    /**
     * Days a status is kept after acceptance (or after sendAt when later).
     * @example 30
     * @default none (required; `EmailService` passes `storage.statusRetentionDays`)
     */
    statusRetentionDays: number;
    /**
     * The schedule group of `sendAt` schedules: the API deletes a cancelled email's schedule there.
     * @example scheduler
     * @default undefined (the API deletes no schedule; a cancelled email's release is dropped by the worker)
     */
    scheduler?: EmailScheduler;
}

/** The worker's settings with the defaults applied. */
export type EmailWorkerFunctionSettings<Event, Result> = Required<Omit<EmailWorkerSettings<Event, Result>, "smtp">>;

export interface EmailWorkerFunctionArgs<Event, Result> extends EmailFunctionCommonArgs {
    /**
     * @example { ...EMAIL_SERVICE_DEFAULTS.worker, factory: emailWorkerFromEnvironment }
     * @default none (required)
     */
    settings: EmailWorkerFunctionSettings<Event, Result>;
    /**
     * The SMTP secret the worker reads and the nodemailer layer it loads.
     * @example new EmailSmtp("email", { kmsKeyArn: key.arn }, { parent: this })
     * @default none (required)
     */
    smtp: EmailSmtp;
    /**
     * Schedule group, scheduler role and schedule dead-letter queue for `sendAt`.
     * @example scheduler
     * @default none (required)
     */
    scheduler: EmailScheduler;
    /**
     * The identities and configuration set the worker may send as and through.
     * @example ses
     * @default none (required)
     */
    ses: EmailSesIdentities;
}

/**
 * The arguments of the API function's `ServiceFunction` (`<name>-api`): validates `POST /v1/emails`,
 * remembers Idempotency-Keys in the table, offloads large bodies to the bucket and enqueues on the FIFO
 * queue; its policy allows exactly that.
 *
 * @example
 * const api = new ServiceFunction("email-api", emailApiFunctionArgs({ ...functionDefaults, settings: apiSettings, queue, table, bucket }), { parent: this });
 * export const apiFunctionName = api.function.name;
 */
export function emailApiFunctionArgs<Event, Result>(args: EmailApiFunctionArgs<Event, Result>): ServiceFunctionArgs<Event, Result> {
    const { settings, queue, table, statusTable, bucket } = args;
    const keyArn = pulumi.output(args.kmsKeyArn);
    const scheduleGroupName = args.scheduler ? args.scheduler.group.name : pulumi.output(undefined);
    return {
        ...functionCommon(args),
        callbackFactory: settings.factory,
        description: "POST /v1/emails: validates, stores Idempotency-Keys, enqueues on the email FIFO queue",
        roleDescription: "Email API",
        serviceName: EMAIL_SERVICE_NAMES.api,
        memorySizeMb: settings.memorySizeMb,
        timeoutSeconds: settings.timeoutSeconds,
        shippedPackages: ["valibot"],
        policy: ({ scope: awsScopeOutput, logGroupArn }) =>
            pulumi
                .all([awsScopeOutput, keyArn, logGroupArn, queue.queue.arn, table.arn, bucket.arn, statusTable.arn, scheduleGroupName])
                .apply(([resolvedScope, key, logGroup, queueArn, tableArn, bucketArn, statusTableArn, group]) =>
                    emailApiPolicy({
                        scope: resolvedScope,
                        keyArn: key,
                        logGroupArn: logGroup,
                        queueArn,
                        tableArn,
                        bucketArn,
                        statusTableArn,
                        ...(group ? { scheduleGroupName: group } : {}),
                    }),
                ),
        environment: {
            [EMAIL_ENV.queueUrl]: queue.queue.url,
            [EMAIL_ENV.idempotencyTable]: table.name,
            [EMAIL_ENV.contentBucket]: bucket.bucket,
            [EMAIL_ENV.largeBodyThresholdBytes]: String(settings.largeBodyThresholdBytes),
            [EMAIL_ENV.maxRequestBytes]: String(settings.maxRequestBytes),
            [EMAIL_ENV.maxRecipients]: String(settings.maxRecipients),
            [EMAIL_ENV.maxScheduleAheadDays]: String(settings.maxScheduleAheadDays),
            [EMAIL_ENV.idempotencyTtlSeconds]: String(settings.idempotencyTtlHours * 3600),
            [EMAIL_ENV.tenantLanes]: String(settings.tenantLanes),
            [EMAIL_ENV.statusTable]: statusTable.name,
            [EMAIL_ENV.statusRetentionSeconds]: String(args.statusRetentionDays * 86_400),
            ...(args.scheduler ? { [EMAIL_ENV.scheduleGroup]: args.scheduler.group.name } : {}),
            ...(args.sendingIdentities ? { [EMAIL_ENV.sendingIdentities]: JSON.stringify(args.sendingIdentities) } : {}),
            ...(settings.senders ? { [EMAIL_ENV.allowedSenders]: JSON.stringify(settings.senders) } : {}),
        },
    };
}

/**
 * The arguments of the worker's `ServiceFunction` (`<name>-worker`): reads the FIFO queue through an
 * event source mapping, sends through SES with SMTP failover (the secret, the nodemailer layer), schedules
 * future `sendAt` and rejects to the DLQ; its policy allows exactly that, SES sending only as the declared
 * identities through the configuration set.
 *
 * @example
 * const worker = new ServiceFunction("email-worker", emailWorkerFunctionArgs({ ...functionDefaults, settings: workerSettings, queue, table, bucket, smtp, scheduler, ses }), { parent: this });
 * export const workerFunctionName = worker.function.name;
 */
export function emailWorkerFunctionArgs<Event, Result>(args: EmailWorkerFunctionArgs<Event, Result>): ServiceFunctionArgs<Event, Result> {
    const { settings, queue, table, statusTable, bucket, smtp, scheduler, ses } = args;
    const keyArn = pulumi.output(args.kmsKeyArn);
    return {
        ...functionCommon(args),
        callbackFactory: settings.factory,
        description: "Sends queued emails through SES with SMTP failover; schedules future sendAt",
        roleDescription: "Email worker",
        serviceName: EMAIL_SERVICE_NAMES.worker,
        memorySizeMb: settings.memorySizeMb,
        timeoutSeconds: settings.timeoutSeconds,
        shippedPackages: ["valibot", "opossum"],
        extraLayers: [smtp.layer.arn],
        policy: ({ scope: awsScopeOutput, logGroupArn }) =>
            pulumi
                .all([
                    awsScopeOutput,
                    pulumi.all([
                        keyArn,
                        logGroupArn,
                        queue.queue.arn,
                        queue.deadLetterQueue.arn,
                        table.arn,
                        bucket.arn,
                        smtp.secret.arn,
                        scheduler.group.name,
                    ]),
                    scheduler.role.arn,
                    pulumi.all(Object.values(ses.identities).map((identity) => identity.arn)),
                    ses.configurationSet.arn,
                    statusTable.arn,
                ])
                .apply(
                    ([
                        resolvedScope,
                        [key, logGroup, queueArn, deadLetterQueueArn, tableArn, bucketArn, secretArn, group],
                        schedulerRoleArn,
                        identityArns,
                        configurationSetArn,
                        statusTableArn,
                    ]) =>
                        emailWorkerPolicy({
                            scope: resolvedScope,
                            keyArn: key,
                            logGroupArn: logGroup,
                            queueArn,
                            deadLetterQueueArn,
                            tableArn,
                            statusTableArn,
                            bucketArn,
                            secretArn,
                            // Without declared identities the worker may send as any identity of the account in the region.
                            sesIdentityArns:
                                identityArns.length > 0
                                    ? identityArns
                                    : [`arn:${resolvedScope.partition}:ses:${resolvedScope.region}:${resolvedScope.accountId}:identity/*`],
                            sesConfigurationSetArn: configurationSetArn,
                            scheduleGroupName: group,
                            schedulerRoleArn,
                        }),
                ),
        environment: {
            [EMAIL_ENV.deadLetterQueueUrl]: queue.deadLetterQueue.url,
            [EMAIL_ENV.queueArn]: queue.queue.arn,
            [EMAIL_ENV.idempotencyTable]: table.name,
            [EMAIL_ENV.contentBucket]: bucket.bucket,
            [EMAIL_ENV.smtpSecretArn]: smtp.secret.arn,
            [EMAIL_ENV.scheduleGroup]: scheduler.group.name,
            [EMAIL_ENV.schedulerRoleArn]: scheduler.role.arn,
            [EMAIL_ENV.sesConfigurationSet]: ses.configurationSet.configurationSetName,
            [EMAIL_ENV.scheduleDeadLetterQueueArn]: scheduler.deadLetterQueue.arn,
            [EMAIL_ENV.statusTable]: statusTable.name,
        },
        queue: { arn: queue.queue.arn, fifo: true, batchSize: settings.batchSize, maxConcurrency: settings.maxConcurrency },
    };
}

/** The `ServiceFunction` arguments both functions take unchanged. */
function functionCommon(args: EmailFunctionCommonArgs) {
    return {
        kmsKeyArn: args.kmsKeyArn,
        logGroupNamePrefix: args.logGroupNamePrefix,
        logLevel: args.logLevel,
        logRetentionDays: args.logRetentionDays,
        previousParent: args.previousParent,
    };
}
