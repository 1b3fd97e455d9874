import * as aws from "@pulumi/aws";
import * as cloudwatch from "@pulumi/awsx/classic/cloudwatch";
import * as dynamodbMetrics from "@pulumi/awsx/classic/dynamodb/metrics";
import * as lambdaMetrics from "@pulumi/awsx/classic/lambda/metrics";
import * as sqsMetrics from "@pulumi/awsx/classic/sqs/metrics";
import * as pulumi from "@pulumi/pulumi";
import { awsScope, deploymentNames } from "../shared/aws-scope";
import { globalName } from "../shared/naming";
import { runbookAlarm } from "../shared/runbook-alarm";

export interface PipelineMonitoringArgs {
    /** Topic the alarms notify (alarm and OK). */
    alarmTopicArn: pulumi.Input<string>;
    /** Alarm names start with this (the key and topic policies only admit these). */
    alarmNamePrefix: string;
    processor: aws.lambda.Function;
    queue: aws.sqs.Queue;
    deadLetterQueue: aws.sqs.Queue;
    table: aws.dynamodb.Table;
    /** Alarm when the oldest event waits longer than this, seconds (`EventPipeline` passes `DEFAULTS.oldestMessageAgeAlarmSeconds` unless configured). */
    oldestMessageAgeSeconds: number;
}

/** DynamoDB operations whose system errors are watched (the processor's, the Sender's and the stream's). */
const WATCHED_TABLE_OPERATIONS = ["PutItem", "GetItem", "Query", "GetRecords"] as const;

/**
 * Alarms and a dashboard for the event pipeline: processor errors and throttles,
 * any message in the DLQ, the oldest message's age, DynamoDB throttles and system
 * errors. Every alarm notifies the alarm topic, on ALARM and on OK.
 *
 * @example
 * new PipelineMonitoring("events", { alarmTopicArn: topic.arn, alarmNamePrefix, processor, queue, deadLetterQueue, table });
 */
export class PipelineMonitoring extends pulumi.ComponentResource {
    readonly alarms: Record<
        "processorErrors" | "processorThrottles" | "deadLetters" | "oldestMessageAge" | "tableThrottles" | "tableSystemErrors",
        aws.cloudwatch.MetricAlarm
    >;
    readonly dashboard: aws.cloudwatch.Dashboard;

    constructor(name: string, args: PipelineMonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super("event-ingestion:monitoring:PipelineMonitoring", name, {}, opts);
        const { project, stack } = deploymentNames();
        const target = { topicArn: args.alarmTopicArn, namePrefix: args.alarmNamePrefix, component: name };
        const oldestMessageAgeSeconds = args.oldestMessageAgeSeconds;
        const child = { parent: this };

        // "Anything at all in one period": errors, throttles, dead letters, DynamoDB throttles and system errors.
        const onAnyOccurrence = { comparisonOperator: "GreaterThanOrEqualToThreshold", threshold: 1, evaluationPeriods: 1 } as const;
        // The metric alarms carry the unit and `actionsEnabled` they have in deployed stacks.
        const perMinute = (namespace: string, metricName: string, dimensions: Record<string, pulumi.Input<string>>) =>
            ({ namespace, metricName, dimensions, period: 60, actionsEnabled: true }) as const;
        const processorDimensions = { FunctionName: args.processor.name };

        this.alarms = {
            processorErrors: runbookAlarm(
                target,
                "processor-errors",
                "The event processor failed an invocation (a bug or a misconfiguration); its batch is retried.",
                { ...perMinute("AWS/Lambda", "Errors", processorDimensions), statistic: "Sum", unit: "Count", ...onAnyOccurrence },
                child,
            ),
            processorThrottles: runbookAlarm(
                target,
                "processor-throttles",
                "The event processor was throttled (account or reserved concurrency); events wait in the queue.",
                { ...perMinute("AWS/Lambda", "Throttles", processorDimensions), statistic: "Sum", unit: "Count", ...onAnyOccurrence },
                child,
            ),
            deadLetters: runbookAlarm(
                target,
                "dead-letters",
                "Events are in the dead-letter queue: rejected by validation or out of retries.",
                {
                    ...perMinute("AWS/SQS", "ApproximateNumberOfMessagesVisible", { QueueName: args.deadLetterQueue.name }),
                    statistic: "Maximum",
                    unit: "Count",
                    ...onAnyOccurrence,
                },
                child,
            ),
            oldestMessageAge: runbookAlarm(
                target,
                "oldest-message-age",
                "Events wait in the queue longer than expected: the processor is not keeping up or is failing.",
                {
                    ...perMinute("AWS/SQS", "ApproximateAgeOfOldestMessage", { QueueName: args.queue.name }),
                    statistic: "Maximum",
                    unit: "Seconds",
                    threshold: oldestMessageAgeSeconds,
                    comparisonOperator: "GreaterThanThreshold",
                    evaluationPeriods: 5,
                    datapointsToAlarm: 3,
                },
                child,
            ),
            tableThrottles: runbookAlarm(
                target,
                "table-throttles",
                "Read or write requests to the event table were throttled.",
                {
                    ...onAnyOccurrence,
                    metricQueries: [
                        { id: "throttles", expression: "FILL(reads, 0) + FILL(writes, 0)", label: "Throttled requests", returnData: true },
                        tableMetricQuery("reads", "ReadThrottleEvents", args.table.name),
                        tableMetricQuery("writes", "WriteThrottleEvents", args.table.name),
                    ],
                },
                child,
            ),
            tableSystemErrors: runbookAlarm(
                target,
                "table-system-errors",
                "DynamoDB returned HTTP 500 for requests to the event table.",
                {
                    ...onAnyOccurrence,
                    metricQueries: [
                        {
                            id: "errors",
                            expression: WATCHED_TABLE_OPERATIONS.map((_, i) => `FILL(op${i}, 0)`).join(" + "),
                            label: "System errors",
                            returnData: true,
                        },
                        ...WATCHED_TABLE_OPERATIONS.map((operation, i) =>
                            tableMetricQuery(`op${i}`, "SystemErrors", args.table.name, operation),
                        ),
                    ],
                },
                child,
            ),
        };

        // The dashboard's graphs (awsx metric helpers render the widget JSON).
        const errors = lambdaMetrics.metrics.errors({ function: args.processor, statistic: "Sum", period: 60 });
        const throttles = lambdaMetrics.metrics.throttles({ function: args.processor, statistic: "Sum", period: 60 });
        const deadLetters = sqsMetrics.metrics.approximateNumberOfMessagesVisible({
            queue: args.deadLetterQueue,
            statistic: "Maximum",
            period: 60,
        });
        const oldest = sqsMetrics.metrics.approximateAgeOfOldestMessage({ queue: args.queue, statistic: "Maximum", period: 60 });
        const readThrottles = dynamodbMetrics.metrics.readThrottleEvents({ table: args.table, statistic: "Sum", period: 60 });
        const writeThrottles = dynamodbMetrics.metrics.writeThrottleEvents({ table: args.table, statistic: "Sum", period: 60 });

        const region = awsScope(child).region;
        this.dashboard = new cloudwatch.Dashboard(
            `${name}-dashboard`,
            {
                // Dashboard names are global to the account: qualify with region too.
                name: region.apply((r) => globalName(project, stack, r, name)),
                widgets: [
                    new cloudwatch.RowWidget(
                        new cloudwatch.LineGraphMetricWidget({
                            title: "Events in / out",
                            metrics: [
                                sqsMetrics.metrics.numberOfMessagesSent({ queue: args.queue, statistic: "Sum" }).withLabel("sent"),
                                sqsMetrics.metrics.numberOfMessagesDeleted({ queue: args.queue, statistic: "Sum" }).withLabel("processed"),
                            ],
                            width: 8,
                        }),
                        new cloudwatch.LineGraphMetricWidget({
                            title: "Oldest event age (s)",
                            metrics: [oldest],
                            annotations: new cloudwatch.HorizontalAnnotation({
                                aboveEdge: { value: oldestMessageAgeSeconds, label: "alarm" },
                            }),
                            width: 8,
                        }),
                        new cloudwatch.LineGraphMetricWidget({ title: "Dead-lettered events", metrics: [deadLetters], width: 8 }),
                    ),
                    new cloudwatch.RowWidget(
                        new cloudwatch.LineGraphMetricWidget({
                            title: "Processor invocations / errors / throttles",
                            metrics: [lambdaMetrics.metrics.invocations({ function: args.processor, statistic: "Sum" }), errors, throttles],
                            width: 8,
                        }),
                        new cloudwatch.LineGraphMetricWidget({
                            title: "Processor duration (ms)",
                            metrics: [
                                lambdaMetrics.metrics.duration({ function: args.processor, extendedStatistic: 99 }).withLabel("p99"),
                                lambdaMetrics.metrics.duration({ function: args.processor, statistic: "Average" }).withLabel("avg"),
                            ],
                            width: 8,
                        }),
                        new cloudwatch.LineGraphMetricWidget({
                            title: "Processor concurrency",
                            metrics: [lambdaMetrics.metrics.concurrentExecutions({ function: args.processor, statistic: "Maximum" })],
                            width: 8,
                        }),
                    ),
                    new cloudwatch.RowWidget(
                        new cloudwatch.LineGraphMetricWidget({
                            title: "Event table writes",
                            metrics: [dynamodbMetrics.metrics.consumedWriteCapacityUnits({ table: args.table, statistic: "Sum" })],
                            width: 8,
                        }),
                        new cloudwatch.LineGraphMetricWidget({
                            title: "Event table throttles",
                            metrics: [readThrottles, writeThrottles],
                            width: 8,
                        }),
                        new cloudwatch.LineGraphMetricWidget({
                            title: "Put latency (ms)",
                            metrics: [
                                dynamodbMetrics.metrics.successfulRequestLatency({
                                    table: args.table,
                                    operation: "PutItem",
                                    statistic: "Average",
                                }),
                            ],
                            width: 8,
                        }),
                    ),
                ],
            },
            child,
        );
        this.registerOutputs({ dashboardName: this.dashboard.dashboardName });
    }
}

function tableMetricQuery(id: string, metricName: string, tableName: pulumi.Input<string>, operation?: string) {
    return {
        id,
        returnData: false,
        metric: {
            namespace: "AWS/DynamoDB",
            metricName,
            period: 60,
            stat: "Sum",
            dimensions: (operation ? { TableName: tableName, Operation: operation } : { TableName: tableName }) as Record<
                string,
                pulumi.Input<string>
            >,
        },
    };
}
