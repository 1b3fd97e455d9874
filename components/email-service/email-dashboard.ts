/**
 * The email service's CloudWatch dashboard, beside the events one (same naming):
 * the API (requests, 4xx/5xx, latency, outcomes), the queue (depth, oldest age),
 * delivery (sent by provider, failovers, retries), the DLQ, scheduled emails
 * (the worker's count and EventBridge Scheduler's invocations) and the functions.
 * Metric names come from the handlers' contract (EMAIL_METRICS).
 */
import * as aws from "@pulumi/aws";
import * as cloudwatch from "@pulumi/awsx/classic/cloudwatch";
import * as lambdaMetrics from "@pulumi/awsx/classic/lambda/metrics";
import * as sqsMetrics from "@pulumi/awsx/classic/sqs/metrics";
import * as pulumi from "@pulumi/pulumi";
import { EMAIL_METRICS } from "../../contracts/email-service";
import { previousParentAliases } from "../shared/aliases";

export interface EmailDashboardArgs {
    /** Dashboard name (global to the account: qualify it with project, stack and region). */
    dashboardName: pulumi.Input<string>;
    /** Namespace of the functions' EMF metrics (their POWERTOOLS_METRICS_NAMESPACE). */
    metricsNamespace: string;
    /** POWERTOOLS_SERVICE_NAME of each function: the `service` dimension of its EMF metrics. */
    apiServiceName: string;
    workerServiceName: string;
    api: aws.apigatewayv2.Api;
    /** The API stage's name (`$default`). */
    stageName: pulumi.Input<string>;
    apiFunction: aws.lambda.Function;
    workerFunction: aws.lambda.Function;
    queue: aws.sqs.Queue;
    deadLetterQueue: aws.sqs.Queue;
    scheduleGroupName: pulumi.Input<string>;
    /** The oldest-message-age alarm's threshold, seconds (drawn on the age graph). */
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
 * The email dashboard (`<name>-dashboard`), one resource under this component, named as its service.
 *
 * @example
 * const board = new EmailDashboard("email", { dashboardName, metricsNamespace: project, apiServiceName: "email-api", ... }, { parent: this });
 * export const dashboardName = board.dashboard.dashboardName;
 */
export class EmailDashboard extends pulumi.ComponentResource {
    readonly dashboard: cloudwatch.Dashboard;

    constructor(name: string, args: EmailDashboardArgs, opts?: pulumi.ComponentResourceOptions) {
        super("event-ingestion:email:EmailDashboard", name, {}, opts);
        this.dashboard = dashboardResource(`${name}-dashboard`, args, {
            parent: this,
            ...previousParentAliases(args.previousParent),
        });
        this.registerOutputs({ dashboardName: this.dashboard.dashboardName });
    }
}

function dashboardResource(name: string, args: EmailDashboardArgs, opts: pulumi.CustomResourceOptions): cloudwatch.Dashboard {
    const period = 60;
    const api = (metric: string, statistic: cloudwatch.MetricStatistic = "Sum") =>
        new cloudwatch.Metric({
            namespace: "AWS/ApiGateway",
            name: metric,
            dimensions: { ApiId: args.api.id, Stage: args.stageName },
            statistic,
            period,
        });
    const emf = (service: string, metric: string, label: string) =>
        new cloudwatch.Metric({ namespace: args.metricsNamespace, name: metric, dimensions: { service }, statistic: "Sum", period, label });
    const apiCount = (metric: string, label: string) => emf(args.apiServiceName, metric, label);
    const workerCount = (metric: string, label: string) => emf(args.workerServiceName, metric, label);
    const scheduler = (metric: string, label: string) =>
        new cloudwatch.Metric({
            namespace: "AWS/Scheduler",
            name: metric,
            dimensions: { ScheduleGroup: args.scheduleGroupName },
            statistic: "Sum",
            period,
            label,
        });
    const latency = (metric: string, label: string, extendedStatistic: number) =>
        new cloudwatch.Metric({
            namespace: "AWS/ApiGateway",
            name: metric,
            dimensions: { ApiId: args.api.id, Stage: args.stageName },
            extendedStatistic,
            period,
            label,
        });
    const width = 8;

    return new cloudwatch.Dashboard(
        name,
        {
            name: args.dashboardName,
            widgets: [
                new cloudwatch.RowWidget(
                    new cloudwatch.LineGraphMetricWidget({
                        title: "API requests / 4xx / 5xx",
                        metrics: [api("Count").withLabel("requests"), api("4xx").withLabel("4xx"), api("5xx").withLabel("5xx")],
                        width,
                    }),
                    new cloudwatch.LineGraphMetricWidget({
                        title: "API latency (ms)",
                        metrics: [
                            latency("Latency", "p50", 50),
                            latency("Latency", "p99", 99),
                            latency("IntegrationLatency", "integration p99", 99),
                        ],
                        width,
                    }),
                    new cloudwatch.StackedAreaGraphMetricWidget({
                        title: "API outcomes",
                        metrics: [
                            apiCount(EMAIL_METRICS.accepted, "accepted"),
                            apiCount(EMAIL_METRICS.replayed, "replayed (Idempotency-Key)"),
                            apiCount(EMAIL_METRICS.rejected, "rejected (4xx)"),
                            apiCount(EMAIL_METRICS.notAccepted, "not accepted (5xx)"),
                            apiCount(EMAIL_METRICS.offloaded, "content offloaded to S3"),
                        ],
                        width,
                    }),
                ),
                new cloudwatch.RowWidget(
                    new cloudwatch.LineGraphMetricWidget({
                        title: "Queue depth",
                        metrics: [
                            sqsMetrics.metrics
                                .approximateNumberOfMessagesVisible({ queue: args.queue, statistic: "Maximum", period })
                                .withLabel("waiting"),
                            sqsMetrics.metrics
                                .approximateNumberOfMessagesNotVisible({ queue: args.queue, statistic: "Maximum", period })
                                .withLabel("in flight"),
                        ],
                        width,
                    }),
                    new cloudwatch.LineGraphMetricWidget({
                        title: "Oldest email age (s)",
                        metrics: [sqsMetrics.metrics.approximateAgeOfOldestMessage({ queue: args.queue, statistic: "Maximum", period })],
                        annotations: new cloudwatch.HorizontalAnnotation({
                            aboveEdge: { value: args.oldestMessageAgeAlarmSeconds, label: "alarm" },
                        }),
                        width,
                    }),
                    new cloudwatch.LineGraphMetricWidget({
                        title: "Dead-lettered emails",
                        metrics: [
                            sqsMetrics.metrics
                                .approximateNumberOfMessagesVisible({ queue: args.deadLetterQueue, statistic: "Maximum", period })
                                .withLabel("in the DLQ"),
                            workerCount(EMAIL_METRICS.deadLettered, "dead-lettered by the worker"),
                        ],
                        width,
                    }),
                ),
                new cloudwatch.RowWidget(
                    new cloudwatch.StackedAreaGraphMetricWidget({
                        title: "Sent by provider",
                        metrics: [
                            workerCount(EMAIL_METRICS.sent, "SES (primary)"),
                            workerCount(EMAIL_METRICS.sentBySecondary, "SMTP (secondary)"),
                        ],
                        width,
                    }),
                    new cloudwatch.LineGraphMetricWidget({
                        title: "Failovers and retries",
                        metrics: [
                            workerCount(EMAIL_METRICS.sentBySecondary, "failed over to SMTP"),
                            workerCount(EMAIL_METRICS.retried, "deliveries retried"),
                            workerCount(EMAIL_METRICS.duplicatesDropped, "duplicates dropped"),
                        ],
                        width,
                    }),
                    new cloudwatch.LineGraphMetricWidget({
                        title: "Scheduled emails (sendAt)",
                        metrics: [
                            workerCount(EMAIL_METRICS.scheduled, "scheduled"),
                            scheduler("InvocationAttemptCount", "released by the scheduler"),
                            scheduler("TargetErrorCount", "release failed"),
                            scheduler("InvocationDroppedCount", "release dropped"),
                        ],
                        width,
                    }),
                ),
                new cloudwatch.RowWidget(
                    new cloudwatch.LineGraphMetricWidget({
                        title: "Functions: invocations / errors / throttles",
                        metrics: [args.apiFunction, args.workerFunction].flatMap((fn, i) => {
                            const who = i === 0 ? "api" : "worker";
                            return [
                                lambdaMetrics.metrics
                                    .invocations({ function: fn, statistic: "Sum", period })
                                    .withLabel(`${who} invocations`),
                                lambdaMetrics.metrics.errors({ function: fn, statistic: "Sum", period }).withLabel(`${who} errors`),
                                lambdaMetrics.metrics.throttles({ function: fn, statistic: "Sum", period }).withLabel(`${who} throttles`),
                            ];
                        }),
                        width: 12,
                    }),
                    new cloudwatch.LineGraphMetricWidget({
                        title: "Functions: duration p99 (ms)",
                        metrics: [
                            lambdaMetrics.metrics
                                .duration({ function: args.apiFunction, extendedStatistic: 99, period })
                                .withLabel("api p99"),
                            lambdaMetrics.metrics
                                .duration({ function: args.workerFunction, extendedStatistic: 99, period })
                                .withLabel("worker p99"),
                        ],
                        width: 12,
                    }),
                ),
            ],
        },
        opts,
    );
}
