/**
 * Observability (stack policies, because they relate resources to each other):
 * every DLQ has an alarm on visible messages, every Lambda has an Errors alarm, and every log
 * group, including the one Lambda would create implicitly, has a retention.
 */
import { stackPolicy, StackContext, StackResource, T, type ResourceProps } from "../lib/define";
import { deadLetterQueues } from "../lib/queues";
import { isUnknown, asNumber, toList } from "../lib/values";

const group = "observability";

interface AlarmMetric {
    namespace?: unknown;
    metricName?: unknown;
    dimensions?: Record<string, unknown>;
}

function alarmMetrics(alarm: StackResource): AlarmMetric[] {
    const p = alarm.props;
    const metrics: AlarmMetric[] = [{ namespace: p.namespace, metricName: p.metricName, dimensions: p.dimensions }];
    for (const query of toList(p.metricQueries as ResourceProps[])) {
        if (query?.metric)
            metrics.push({ namespace: query.metric.namespace, metricName: query.metric.metricName, dimensions: query.metric.dimensions });
    }
    return metrics;
}

/** The physical name of a queue/function: `name`, else the last ARN segment. */
function physicalName(resource: StackResource): unknown {
    const { name, arn } = resource.props;
    if (name !== undefined) return name;
    return typeof arn === "string" ? arn.split(":").pop() : arn;
}

/** An alarm nobody hears is not an alarm: it must notify someone (an SNS topic, ...). */
function notifies(alarm: StackResource): boolean {
    return toList(alarm.props.alarmActions as unknown[]).length > 0 || isUnknown(alarm.props.alarmActions);
}

/** Alarms on `namespace`/`metricName` whose `dimension` names `target` and that notify someone. */
function alarmsFor(
    context: StackContext,
    target: StackResource,
    namespace: string,
    metricName: string,
    dimension: string,
): StackResource[] {
    const wanted = physicalName(target);
    return context.ofType(T.metricAlarm).filter(
        (alarm) =>
            notifies(alarm) &&
            alarmMetrics(alarm).some((m) => {
                if (m.namespace !== namespace || m.metricName !== metricName) return false;
                const value = m.dimensions?.[dimension];
                if (value === undefined) return false;
                if (!isUnknown(value) && !isUnknown(wanted)) return value === wanted;
                // Preview: the dimension is computed from the target's name; trust the dependency.
                const deps = [
                    ...(alarm.source.propertyDependencies?.dimensions ?? []),
                    ...(alarm.source.propertyDependencies?.metricQueries ?? []),
                ];
                return deps.some((d) => d.urn === target.urn);
            }),
    );
}

export const dlqAlarm = stackPolicy({
    name: "dlq-visible-messages-alarm",
    description:
        "Every dead-letter queue has a CloudWatch alarm on ApproximateNumberOfMessagesVisible that notifies someone (alarmActions).",
    level: "mandatory",
    group,
    appliesTo: [T.sqsQueue, T.metricAlarm],
    remediationSteps:
        "Add an aws.cloudwatch.MetricAlarm (AWS/SQS ApproximateNumberOfMessagesVisible, QueueName = DLQ name, > 0) that notifies the alarm topic.",
    validate(context) {
        for (const dlq of deadLetterQueues(context)) {
            if (alarmsFor(context, dlq, "AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName").length === 0) {
                context.report(
                    "is a dead-letter queue without an alarm (with alarmActions) on ApproximateNumberOfMessagesVisible: failed messages would pile up unnoticed.",
                    dlq,
                );
            }
        }
    },
});

export const lambdaErrorsAlarm = stackPolicy({
    name: "lambda-errors-alarm",
    description: "Every Lambda function has a CloudWatch alarm on its Errors metric that notifies someone (alarmActions).",
    level: "mandatory",
    group,
    appliesTo: [T.lambdaFunction, T.metricAlarm],
    remediationSteps: "Add an aws.cloudwatch.MetricAlarm (AWS/Lambda Errors, FunctionName = function name) that notifies the alarm topic.",
    validate(context) {
        for (const fn of context.ofType(T.lambdaFunction)) {
            if (alarmsFor(context, fn, "AWS/Lambda", "Errors", "FunctionName").length === 0) {
                context.report("has no alarm (with alarmActions) on the AWS/Lambda Errors metric.", fn);
            }
        }
    },
});

export const logRetention = stackPolicy({
    name: "log-group-retention",
    description:
        "Every log group has a retention, including each Lambda function's log group (which Lambda would otherwise create without one).",
    level: "mandatory",
    group,
    appliesTo: [T.logGroup, T.lambdaFunction],
    remediationSteps:
        "Set retentionInDays on every aws.cloudwatch.LogGroup and create each function's log group (/aws/lambda/<name> or loggingConfig.logGroup) in the program.",
    validate(context) {
        const groups = context.ofType(T.logGroup);
        for (const logGroup of groups) {
            const retention = logGroup.props.retentionInDays;
            if (isUnknown(retention)) {
                context.defer(retention);
                continue;
            }
            const days = asNumber(retention);
            if (days === undefined || days <= 0)
                context.report(`retentionInDays is ${retention === undefined ? "not set" : retention}: logs are kept forever.`, logGroup);
        }
        for (const fn of context.ofType(T.lambdaFunction)) {
            const explicit = fn.props.loggingConfig?.logGroup;
            const name = physicalName(fn);
            const expected = explicit !== undefined ? explicit : isUnknown(name) ? name : `/aws/lambda/${name}`;
            const found = groups.some((g) => {
                if (!isUnknown(expected) && !isUnknown(g.props.name)) return g.props.name === expected;
                // Preview: names computed from the function (or the group) are matched by dependency.
                const deps = fn.source.propertyDependencies?.loggingConfig ?? [];
                const groupDeps = g.source.propertyDependencies?.name ?? [];
                return deps.some((d) => d.urn === g.urn) || groupDeps.some((d) => d.urn === fn.urn);
            });
            if (!found) {
                context.report(
                    `logs to ${isUnknown(expected) ? "a log group" : expected}, which the program does not create: Lambda would create it with no retention (and no KMS key).`,
                    fn,
                );
            }
        }
    },
});

export const observabilityPolicies = [dlqAlarm, lambdaErrorsAlarm, logRetention];
