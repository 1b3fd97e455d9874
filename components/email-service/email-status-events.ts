import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { EMAIL_ENV, EMAIL_SERVICE_NAMES, EMAIL_SES_EVENTS } from "../../contracts/email-service";
import { awsScope } from "../shared/aws-scope";
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
import { emailStatusFunctionPolicy, sesEventPattern } from "./email-iam";

/** EventBridge's retry policy for the target (its maxima: 24 hours, 185 attempts, "Event retry policy and using dead-letter queues"). */
const TARGET_RETRY_POLICY = { maximumEventAgeInSeconds: 86_400, maximumRetryAttempts: 185 } as const;

export interface EmailStatusEventsArgs<Event, Result> {
    /**
     * The status function's factory.
     * @example emailStatusEventsFromEnvironment
     * @default none (required)
     */
    factory: aws.lambda.CallbackFactory<Event, Result>;
    /**
     * The SES configuration set whose events are published.
     * @example ses.configurationSet.configurationSetName
     * @default none (required)
     */
    configurationSetName: pulumi.Input<string>;
    /**
     * The status table the function writes (and its ARN for the policy).
     * @example statusTable
     * @default none (required)
     */
    statusTable: aws.dynamodb.Table;
    /**
     * Customer-managed key of the DLQ, the log group and the environment.
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
     * Where the function's alarms notify, and their names.
     * @example { topicArn: alarms.topic.arn, namePrefix: alarms.alarmNamePrefix, component: "email" }
     * @default none (required)
     */
    alarms: RunbookAlarmTarget;
}

/**
 * SES events → email statuses. The configuration set publishes SEND, DELIVERY, BOUNCE, COMPLAINT,
 * REJECT, DELIVERY_DELAY and RENDERING_FAILURE to the account's default EventBridge bus (the only bus
 * SES publishes to); a rule matching this configuration set's events invokes the status function
 * (built from `ServiceFunction`), which records each event with a conditional write. EventBridge retries
 * a failed invocation for 24 hours; Lambda retries a failing event twice, then sends it to the function's
 * encrypted dead-letter queue. Alarms: the function's errors and any message in its DLQ.
 *
 * Why EventBridge and not an encrypted SNS topic: SES needs no permission to publish to the default bus,
 * and EventBridge needs none on our key to invoke a function, so the key policy stays as deployed; an
 * SNS topic encrypted with the email key would have to admit `ses.amazonaws.com` to that key.
 *
 * @example
 * const events = new EmailStatusEvents("email", {
 *     factory: emailStatusEventsFromEnvironment, configurationSetName: ses.configurationSet.configurationSetName,
 *     statusTable, kmsKeyArn: key.arn, logGroupNamePrefix: key.logGroupNamePrefix, logLevel: "INFO", logRetentionDays: 30,
 *     alarms: { topicArn: alarms.topic.arn, namePrefix: alarms.alarmNamePrefix, component: "email" },
 * }, { parent: this });
 */
export class EmailStatusEvents<Event = unknown, Result = unknown> extends pulumi.ComponentResource {
    readonly eventDestination: aws.sesv2.ConfigurationSetEventDestination;
    readonly deadLetterQueue: aws.sqs.Queue;
    readonly function: ServiceFunction<Event, Result>;
    readonly rule: aws.cloudwatch.EventRule;
    readonly target: aws.cloudwatch.EventTarget;
    readonly invokePermission: aws.lambda.Permission;
    readonly alarms: aws.cloudwatch.MetricAlarm[];

    constructor(name: string, args: EmailStatusEventsArgs<Event, Result>, opts?: pulumi.ComponentResourceOptions) {
        super("event-ingestion:email:EmailStatusEvents", name, {}, opts);
        const parent = { parent: this };
        const scope = awsScope(parent);
        const sesEvents = Object.values(EMAIL_SES_EVENTS);

        this.eventDestination = new aws.sesv2.ConfigurationSetEventDestination(
            `${name}-ses-events`,
            {
                configurationSetName: args.configurationSetName,
                eventDestinationName: "status-events",
                eventDestination: {
                    enabled: true,
                    matchingEventTypes: Object.keys(EMAIL_SES_EVENTS),
                    // Only the default bus is supported as an SES event destination.
                    eventBridgeDestination: {
                        eventBusArn: scope.apply((s) => `arn:${s.partition}:events:${s.region}:${s.accountId}:event-bus/default`),
                    },
                },
            },
            parent,
        );

        this.deadLetterQueue = new aws.sqs.Queue(
            `${name}-status-dlq`,
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
            `${name}-status-dlq-tls-only`,
            {
                queueUrl: this.deadLetterQueue.url,
                policy: this.deadLetterQueue.arn.apply((arn) => JSON.stringify(queuePolicy(arn))),
            },
            parent,
        );

        const keyArn = pulumi.output(args.kmsKeyArn);
        this.function = new ServiceFunction(
            `${name}-status`,
            {
                callbackFactory: args.factory,
                description: "SES events (EventBridge) → email statuses, with conditional writes",
                roleDescription: "Email status events",
                serviceName: EMAIL_SERVICE_NAMES.status,
                kmsKeyArn: args.kmsKeyArn,
                logGroupNamePrefix: args.logGroupNamePrefix,
                logLevel: args.logLevel,
                logRetentionDays: args.logRetentionDays,
                memorySizeMb: 128,
                timeoutSeconds: 10,
                shippedPackages: ["valibot"],
                deadLetterQueueArn: this.deadLetterQueue.arn,
                policy: ({ scope: policyScope, logGroupArn }) =>
                    pulumi
                        .all([policyScope, keyArn, logGroupArn, args.statusTable.arn, this.deadLetterQueue.arn])
                        .apply(([resolvedScope, key, logGroup, statusTableArn, deadLetterQueueArn]) =>
                            emailStatusFunctionPolicy({
                                scope: resolvedScope,
                                keyArn: key,
                                logGroupArn: logGroup,
                                statusTableArn,
                                deadLetterQueueArn,
                            }),
                        ),
                environment: { [EMAIL_ENV.statusTable]: args.statusTable.name },
            },
            parent,
        );

        this.rule = new aws.cloudwatch.EventRule(
            `${name}-status-rule`,
            {
                description: "SES events of the email configuration set → the email status function",
                eventBusName: "default",
                eventPattern: pulumi.output(args.configurationSetName).apply((set) =>
                    JSON.stringify(
                        sesEventPattern(
                            set,
                            sesEvents.map((event) => event.detailType),
                        ),
                    ),
                ),
            },
            parent,
        );
        this.invokePermission = new aws.lambda.Permission(
            `${name}-status-invoke`,
            {
                action: "lambda:InvokeFunction",
                function: this.function.function.name,
                principal: "events.amazonaws.com",
                sourceArn: this.rule.arn,
            },
            parent,
        );
        this.target = new aws.cloudwatch.EventTarget(
            `${name}-status-target`,
            { rule: this.rule.name, eventBusName: "default", arn: this.function.function.arn, retryPolicy: TARGET_RETRY_POLICY },
            { parent: this, dependsOn: [this.invokePermission] },
        );

        this.alarms = [
            runbookAlarm(
                args.alarms,
                "status-errors",
                "The email status function is failing: SES events are being retried and may end in its dead-letter queue.",
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
                "status-dlq-messages",
                "SES events are in the status dead-letter queue: those emails' statuses are behind. Each message is the SES event to replay.",
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
            functionName: this.function.function.name,
            ruleArn: this.rule.arn,
            deadLetterQueueUrl: this.deadLetterQueue.url,
        });
    }
}
