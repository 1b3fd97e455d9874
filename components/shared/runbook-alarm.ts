import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { alarmDescription } from "./alarm-runbook";

/** Where a component's alarms notify, and how they are named. */
export interface RunbookAlarmTarget {
    /** The topic notified on ALARM and on OK. */
    topicArn: pulumi.Input<string>;
    /** Alarm names start with this (the key and topic policies only admit these; `EncryptionKey.alarmNamePrefix`). */
    namePrefix: string;
    /** The owning component's name: the alarm is `<namePrefix><component>-<suffix>`, its runbook section `<component>-<suffix>`. */
    component: string;
}

/** What an alarm watches and when it fires: everything of `MetricAlarmArgs` but its name, description and actions. */
export type RunbookAlarmMetric = Omit<aws.cloudwatch.MetricAlarmArgs, "name" | "alarmDescription" | "alarmActions" | "okActions">;

/**
 * The one way this program builds an alarm: logical name `<component>-<suffix>`, physical
 * name with the stack's alarm prefix, a description that ends with its runbook link
 * (docs/runbook.md#<component>-<suffix>), the topic notified on ALARM and on OK, and
 * missing data treated as not breaching unless `metric` says otherwise.
 *
 * @example
 * runbookAlarm({ topicArn: topic.arn, namePrefix: key.alarmNamePrefix, component: "email" }, "dlq-messages",
 *     "Emails are in the dead-letter queue.",
 *     { namespace: "AWS/SQS", metricName: "ApproximateNumberOfMessagesVisible", dimensions: { QueueName: dlq.name },
 *       statistic: "Maximum", period: 60, evaluationPeriods: 1, comparisonOperator: "GreaterThanThreshold", threshold: 0 },
 *     { parent: this });
 */
export function runbookAlarm(
    target: RunbookAlarmTarget,
    suffix: string,
    summary: string,
    metric: RunbookAlarmMetric,
    opts: pulumi.CustomResourceOptions,
): aws.cloudwatch.MetricAlarm {
    return new aws.cloudwatch.MetricAlarm(
        `${target.component}-${suffix}`,
        {
            name: `${target.namePrefix}${target.component}-${suffix}`,
            alarmDescription: alarmDescription(summary, target.component, suffix),
            alarmActions: [target.topicArn],
            okActions: [target.topicArn],
            treatMissingData: "notBreaching",
            ...metric,
        },
        opts,
    );
}
