import type * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { EMAIL_METRICS, EMAIL_SERVICE_NAMES } from "../../contracts/email-service";
import { runbookAlarm, type RunbookAlarmMetric, type RunbookAlarmTarget } from "../shared/runbook-alarm";
import { previousParentAliases } from "../shared/aliases";

export interface EmailAlarmsArgs {
    /**
     * The shared alarm topic, the alarm name prefix it accepts, and the component name the alarms and runbook sections carry.
     * @example { topicArn: alarms.topic.arn, namePrefix: alarms.alarmNamePrefix, component: "email" }
     * @default none (required)
     */
    target: RunbookAlarmTarget;
    /**
     * Namespace of the worker's EMF metrics (the project).
     * @example "event-ingestion"
     * @default none (required)
     */
    metricsNamespace: string;
    /**
     * The HTTP API's id.
     * @example http.api.id
     * @default none (required)
     */
    apiId: pulumi.Input<string>;
    /**
     * @example apiFunction.name
     * @default none (required)
     */
    apiFunctionName: pulumi.Input<string>;
    /**
     * @example workerFunction.name
     * @default none (required)
     */
    workerFunctionName: pulumi.Input<string>;
    /**
     * The email queue's name.
     * @example queue.queue.name
     * @default none (required)
     */
    queueName: pulumi.Input<string>;
    /**
     * The email queue's dead-letter queue's name.
     * @example queue.deadLetterQueue.name
     * @default none (required)
     */
    deadLetterQueueName: pulumi.Input<string>;
    /**
     * The schedule dead-letter queue's name.
     * @example scheduler.deadLetterQueue.name
     * @default none (required)
     */
    scheduleDeadLetterQueueName: pulumi.Input<string>;
    /**
     * The schedule group: AWS/Scheduler metrics are per group.
     * @example scheduler.group.name
     * @default none (required)
     */
    scheduleGroupName: pulumi.Input<string>;
    /**
     * Age of the oldest queued email above which the worker is not keeping up.
     * @example 300
     * @default none (required)
     */
    oldestMessageAgeAlarmSeconds: number;
    /**
     * The parent these resources were registered under before this component grouped them: each child
     * gets an alias to it, so a deployed stack keeps them.
     * @example this
     * @default undefined (no alias)
     */
    previousParent?: pulumi.Resource;
}

/**
 * The email service's alarms on the shared topic: API 5xx, API and worker errors, DLQ messages,
 * SMTP failover, schedule DLQ messages, scheduler target and dead-letter failures, oldest message age.
 * Each description links its runbook section (docs/runbook.md#<component>-<suffix>).
 *
 * @example
 * const alarms = new EmailAlarms("email", { target, metricsNamespace: project, apiId: http.api.id, ... }, { parent: this });
 * export const alarmNames = alarms.alarms.map((alarm) => alarm.name);
 */
export class EmailAlarms extends pulumi.ComponentResource {
    readonly alarms: aws.cloudwatch.MetricAlarm[];

    constructor(name: string, args: EmailAlarmsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("event-ingestion:email:EmailAlarms", name, {}, opts);
        this.alarms = alarmResources(args, {
            parent: this,
            ...previousParentAliases(args.previousParent),
        });
        this.registerOutputs({ alarmArns: this.alarms.map((alarm) => alarm.arn) });
    }
}

function alarmResources(args: EmailAlarmsArgs, opts: pulumi.CustomResourceOptions): aws.cloudwatch.MetricAlarm[] {
    const alarm = (suffix: string, summary: string, metric: RunbookAlarmMetric) => runbookAlarm(args.target, suffix, summary, metric, opts);
    const sum = {
        statistic: "Sum",
        period: 300,
        evaluationPeriods: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        threshold: 1,
    } as const;
    // Any message visible in a dead-letter queue, the email DLQ's and the schedule DLQ's alike.
    const anyMessageIn = (queueName: pulumi.Input<string>) =>
        ({
            namespace: "AWS/SQS",
            metricName: "ApproximateNumberOfMessagesVisible",
            dimensions: { QueueName: queueName },
            statistic: "Maximum",
            period: 60,
            evaluationPeriods: 1,
            comparisonOperator: "GreaterThanThreshold",
            threshold: 0,
        }) as const;
    return [
        alarm("api-5xx", "The email API answered 5xx (queue, table or bucket unreachable, or a bug): clients must retry.", {
            namespace: "AWS/ApiGateway",
            metricName: "5xx",
            dimensions: { ApiId: args.apiId, Stage: "$default" },
            ...sum,
        }),
        alarm("api-errors", "The email API function failed.", {
            namespace: "AWS/Lambda",
            metricName: "Errors",
            dimensions: { FunctionName: args.apiFunctionName },
            ...sum,
        }),
        alarm("worker-errors", "The email worker failed a whole batch (providers down or misconfigured).", {
            namespace: "AWS/Lambda",
            metricName: "Errors",
            dimensions: { FunctionName: args.workerFunctionName },
            ...sum,
        }),
        alarm(
            "dlq-messages",
            "Emails are in the dead-letter queue: rejected by providers or out of retries.",
            anyMessageIn(args.deadLetterQueueName),
        ),
        alarm(
            "failover",
            "Emails are going out through the SMTP secondary: SES is failing or the circuit is open. Nothing is lost; check SES.",
            {
                namespace: args.metricsNamespace,
                metricName: EMAIL_METRICS.sentBySecondary,
                dimensions: { service: EMAIL_SERVICE_NAMES.worker },
                statistic: "Sum",
                period: 300,
                evaluationPeriods: 3,
                datapointsToAlarm: 2,
                comparisonOperator: "GreaterThanOrEqualToThreshold",
                threshold: 1,
            },
        ),
        alarm(
            "schedule-dlq-messages",
            "Scheduled emails are in the schedule dead-letter queue: their release failed. Each message body is the email to resend.",
            anyMessageIn(args.scheduleDeadLetterQueueName),
        ),
        // AWS/Scheduler metrics per schedule group ("Monitoring Amazon EventBridge Scheduler with Amazon CloudWatch").
        alarm(
            "schedule-target-errors",
            "EventBridge Scheduler could not put due emails on the queue (it retries, then dead-letters): check the scheduler role, queue and key.",
            {
                namespace: "AWS/Scheduler",
                metricName: "TargetErrorCount",
                dimensions: { ScheduleGroup: args.scheduleGroupName },
                ...sum,
            },
        ),
        alarm(
            "schedule-dead-letter-failed",
            "EventBridge Scheduler could neither release due emails nor dead-letter them: emails are lost unless resent from their S3 content.",
            {
                namespace: "AWS/Scheduler",
                metricName: "InvocationsFailedToBeSentToDeadLetterCount",
                dimensions: { ScheduleGroup: args.scheduleGroupName },
                ...sum,
            },
        ),
        alarm("oldest-message-age", "Emails wait in the queue longer than expected: the worker is not keeping up or is failing.", {
            namespace: "AWS/SQS",
            metricName: "ApproximateAgeOfOldestMessage",
            dimensions: { QueueName: args.queueName },
            statistic: "Maximum",
            period: 60,
            evaluationPeriods: 5,
            comparisonOperator: "GreaterThanThreshold",
            threshold: args.oldestMessageAgeAlarmSeconds,
        }),
    ];
}
