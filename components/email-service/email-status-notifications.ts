import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { EMAIL_ENV, EMAIL_SERVICE_NAMES } from "../../contracts/email-service";
import {
    DEAD_LETTER_RETENTION_SECONDS,
    DEFAULTS,
    RECEIVE_WAIT_TIME_SECONDS,
    SQS_MAX_MESSAGE_SIZE_BYTES,
    type LogLevel,
} from "../shared/defaults";
import { QUEUE_ROLE_TAG } from "../shared/encrypted-queue";
import { queuePolicy } from "../shared/iam-documents";
import { runbookAlarm, type RunbookAlarmTarget } from "../shared/runbook-alarm";
import { ServiceFunction } from "../shared/service-function";
import { emailStatusNotifierPolicy, emailStatusSubscribePolicy } from "./email-iam";

/**
 * How the stream mapping gives up: retry a failing batch (bisecting it) until its oldest record is 6 hours
 * old, then park its coordinates in the DLQ. Stream records are kept 24 hours (DynamoDB Developer Guide,
 * "Change data capture for DynamoDB Streams"), so an operator has 18 hours to re-read them from the stream.
 */
export const STATUS_STREAM_MAPPING = {
    batchSize: 100,
    maximumRetryAttempts: -1,
    maximumRecordAgeInSeconds: 21_600,
    bisectBatchOnFunctionError: true,
    /** Notifications late by more than this (the stream's IteratorAge) alarm. */
    iteratorAgeAlarmMs: 300_000,
} as const;

/**
 * The stream records worth an invocation: new and changed items that have an owner (an email's item; the
 * suppression list's `suppressed#<hash>` items have none). Removals are TTL expiries, not status changes.
 * Lambda event filtering on DynamoDB streams ("Lambda event filtering", `exists`).
 */
export const STATUS_STREAM_FILTER = {
    eventName: ["INSERT", "MODIFY"],
    dynamodb: { NewImage: { owner: { S: [{ exists: true }] } } },
} as const;

export interface EmailStatusNotificationsArgs<Event, Result> {
    /**
     * The notify function's factory.
     * @example emailStatusNotifierFromEnvironment
     * @default none (required)
     */
    factory: aws.lambda.CallbackFactory<Event, Result>;
    /**
     * The name of the status-change bus (its ARN is in the email key's policy before the bus exists).
     * @example EmailService.statusEventBusName("email")
     * @default none (required)
     */
    eventBusName: string;
    /**
     * The status table, with its stream (`NEW_AND_OLD_IMAGES`) enabled.
     * @example statusTable
     * @default none (required)
     */
    statusTable: aws.dynamodb.Table;
    /**
     * Customer-managed key of the bus, the DLQ, the log group and the environment.
     * @example key.arn
     * @default none (required)
     */
    kmsKeyArn: pulumi.Input<string>;
    /**
     * @example key.logGroupNamePrefix
     * @default none (required)
     */
    logGroupNamePrefix: string;
    /**
     * @example "INFO"
     * @default none (required)
     */
    logLevel: LogLevel;
    /**
     * @example 30
     * @default none (required)
     */
    logRetentionDays: number;
    /**
     * Where the alarms notify, and their names.
     * @example { topicArn: alarms.topic.arn, namePrefix: alarms.alarmNamePrefix, component: "email" }
     * @default none (required)
     */
    alarms: RunbookAlarmTarget;
}

/**
 * Status changes for clients: the status table's DynamoDB stream → the notify function (a `ServiceFunction`)
 * → `Email Status Changed` events on a custom EventBridge bus encrypted with the email key. Clients subscribe
 * with a rule on the bus (`subscribePolicy`), filtering on `detail.owner`, `detail.status`, …
 *
 * Why the stream and not each writer publishing: every writer (API, worker, status function, a cancel) is
 * covered without remembering to publish, and only what reached the table is published. Why a Lambda and
 * not EventBridge Pipes: the event is built by tested code from an allow-list of fields (Pipes' input
 * template cannot pick the newest history entry), and a Lambda's stream reads are free. Why a custom bus and
 * not SNS: rules filter on any field of `detail` (the owner) and can target Lambda, SQS, Step Functions or
 * another account's bus without a subscription protocol.
 *
 * Failure paths: the function's errors alarm; a batch that keeps failing is retried until its records are
 * 6 hours old, then its stream coordinates go to the DLQ (alarmed); the stream falling behind alarms too.
 *
 * @example
 * const notifications = new EmailStatusNotifications("email", {
 *     factory: emailStatusNotifierFromEnvironment, eventBusName: "event-ingestion-dev-email-status", statusTable,
 *     kmsKeyArn: key.arn, logGroupNamePrefix: key.logGroupNamePrefix, logLevel: "INFO", logRetentionDays: 30,
 *     alarms: { topicArn: alarms.topic.arn, namePrefix: alarms.alarmNamePrefix, component: "email" },
 * }, { parent: this });
 * export const emailStatusEventBusArn = notifications.eventBus.arn;
 */
export class EmailStatusNotifications<Event = unknown, Result = unknown> extends pulumi.ComponentResource {
    readonly eventBus: aws.cloudwatch.EventBus;
    readonly deadLetterQueue: aws.sqs.Queue;
    readonly function: ServiceFunction<Event, Result>;
    readonly eventSourceMapping: aws.lambda.EventSourceMapping;
    /** What a consumer needs to subscribe: rules and their targets on this bus only. */
    readonly subscribePolicy: aws.iam.Policy;
    readonly alarms: aws.cloudwatch.MetricAlarm[];

    constructor(name: string, args: EmailStatusNotificationsArgs<Event, Result>, opts?: pulumi.ComponentResourceOptions) {
        super("event-ingestion:email:EmailStatusNotifications", name, {}, opts);
        const parent = { parent: this };
        const keyArn = pulumi.output(args.kmsKeyArn);

        this.eventBus = new aws.cloudwatch.EventBus(
            `${name}-status-bus`,
            {
                name: args.eventBusName,
                description: "Email status changes (Email Status Changed): ids, statuses and codes, no addresses",
                kmsKeyIdentifier: args.kmsKeyArn,
            },
            parent,
        );

        this.deadLetterQueue = new aws.sqs.Queue(
            `${name}-notify-dlq`,
            {
                kmsMasterKeyId: args.kmsKeyArn,
                kmsDataKeyReusePeriodSeconds: DEFAULTS.kmsDataKeyReusePeriodSeconds,
                maxMessageSize: SQS_MAX_MESSAGE_SIZE_BYTES,
                messageRetentionSeconds: DEAD_LETTER_RETENTION_SECONDS,
                receiveWaitTimeSeconds: RECEIVE_WAIT_TIME_SECONDS,
                tags: { [QUEUE_ROLE_TAG]: "dead-letter" },
            },
            parent,
        );
        new aws.sqs.QueuePolicy(
            `${name}-notify-dlq-tls-only`,
            {
                queueUrl: this.deadLetterQueue.url,
                policy: this.deadLetterQueue.arn.apply((arn) => JSON.stringify(queuePolicy(arn))),
            },
            parent,
        );

        this.function = new ServiceFunction(
            `${name}-status-notify`,
            {
                callbackFactory: args.factory,
                description: "Email status table stream → Email Status Changed events on the status bus",
                roleDescription: "Email status notifications",
                serviceName: EMAIL_SERVICE_NAMES.notify,
                kmsKeyArn: args.kmsKeyArn,
                logGroupNamePrefix: args.logGroupNamePrefix,
                logLevel: args.logLevel,
                logRetentionDays: args.logRetentionDays,
                memorySizeMb: 128,
                timeoutSeconds: 30,
                shippedPackages: [],
                policy: ({ scope, logGroupArn }) =>
                    pulumi
                        .all([scope, keyArn, logGroupArn, args.statusTable.streamArn, this.eventBus.arn, this.deadLetterQueue.arn])
                        .apply(([resolvedScope, key, logGroup, streamArn, busArn, deadLetterQueueArn]) =>
                            emailStatusNotifierPolicy({
                                scope: resolvedScope,
                                keyArn: key,
                                logGroupArn: logGroup,
                                statusStreamArn: streamArn,
                                eventBusArn: busArn,
                                deadLetterQueueArn,
                            }),
                        ),
                environment: { [EMAIL_ENV.statusEventBus]: this.eventBus.name },
            },
            parent,
        );

        this.eventSourceMapping = new aws.lambda.EventSourceMapping(
            `${name}-status-stream`,
            {
                eventSourceArn: args.statusTable.streamArn,
                functionName: this.function.function.arn,
                // From the stream's oldest record: what was written before the mapping existed is published too.
                startingPosition: "TRIM_HORIZON",
                batchSize: STATUS_STREAM_MAPPING.batchSize,
                maximumRetryAttempts: STATUS_STREAM_MAPPING.maximumRetryAttempts,
                maximumRecordAgeInSeconds: STATUS_STREAM_MAPPING.maximumRecordAgeInSeconds,
                bisectBatchOnFunctionError: STATUS_STREAM_MAPPING.bisectBatchOnFunctionError,
                functionResponseTypes: ["ReportBatchItemFailures"],
                destinationConfig: { onFailure: { destinationArn: this.deadLetterQueue.arn } },
                // Removals (TTL) and suppression-list items (no owner) cost no invocation.
                filterCriteria: { filters: [{ pattern: JSON.stringify(STATUS_STREAM_FILTER) }] },
            },
            // The role must read the stream and reach the DLQ before Lambda validates the mapping.
            { parent: this, dependsOn: [this.function.policy] },
        );

        this.subscribePolicy = new aws.iam.Policy(
            `${name}-status-subscribe`,
            {
                description: "Subscribe to email status changes: rules and targets on the email status bus",
                policy: this.eventBus.arn.apply((busArn) => JSON.stringify(emailStatusSubscribePolicy(busArn))),
            },
            parent,
        );

        this.alarms = [
            runbookAlarm(
                args.alarms,
                "notify-errors",
                "The email status notify function is failing: status changes are being retried and clients are not told.",
                {
                    namespace: "AWS/Lambda",
                    metricName: "Errors",
                    dimensions: { FunctionName: this.function.function.name },
                    statistic: "Sum",
                    period: 300,
                    evaluationPeriods: 1,
                    comparisonOperator: "GreaterThanOrEqualToThreshold",
                    threshold: 1,
                },
                parent,
            ),
            runbookAlarm(
                args.alarms,
                "notify-iterator-age",
                "Email status changes reach the status bus late: the notify function is behind on the status table's stream.",
                {
                    namespace: "AWS/Lambda",
                    metricName: "IteratorAge",
                    dimensions: { FunctionName: this.function.function.name },
                    statistic: "Maximum",
                    period: 60,
                    evaluationPeriods: 5,
                    comparisonOperator: "GreaterThanThreshold",
                    threshold: STATUS_STREAM_MAPPING.iteratorAgeAlarmMs,
                },
                parent,
            ),
            runbookAlarm(
                args.alarms,
                "notify-dlq-messages",
                "Email status changes were not published: the notify DLQ holds the stream coordinates of the records to re-read.",
                {
                    namespace: "AWS/SQS",
                    metricName: "ApproximateNumberOfMessagesVisible",
                    dimensions: { QueueName: this.deadLetterQueue.name },
                    statistic: "Maximum",
                    period: 60,
                    evaluationPeriods: 1,
                    comparisonOperator: "GreaterThanThreshold",
                    threshold: 0,
                },
                parent,
            ),
        ];

        this.registerOutputs({
            eventBusArn: this.eventBus.arn,
            subscribePolicyArn: this.subscribePolicy.arn,
            functionName: this.function.function.name,
            deadLetterQueueUrl: this.deadLetterQueue.url,
        });
    }
}
