/**
 * The email dashboard (mocks): beside the events dashboard, and every graph reads a
 * metric that the deployed resources or the handlers really publish: the API's id
 * and stage, the email queue and its DLQ, the functions, the schedule group, and
 * the EMF metrics under the namespace and `service` each function is configured
 * with and whose names its handler emits.
 *
 * AWS rule encoded: "CloudWatch Dashboard Body Structure and Syntax": the grid is
 * 24 columns wide (x + width <= 24); a metric is [Namespace, MetricName,
 * DimensionName, DimensionValue, ..., {rendering options}].
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { EMAIL_METRICS } from "../../contracts/email-service";
import { sharedDeployment, type MockDeployment, type MockedResource } from "../../local/offline/mock-deployment";
import { one } from "./helpers";

const DASHBOARD = "aws:cloudwatch/dashboard:Dashboard";

interface DashboardMetric {
    namespace: string;
    name: string;
    dimensions: Record<string, string>;
    widget: string;
}

/** Every metric of every metric widget: [namespace, name, dimName, dimValue, ..., options?]. */
function metricsOf(body: string): DashboardMetric[] {
    const parsed = JSON.parse(body) as { widgets: { type: string; properties: { title?: string; metrics?: unknown[][] } }[] };
    return parsed.widgets.flatMap((widget) =>
        (widget.properties.metrics ?? []).map((entry) => {
            const parts = entry.filter((part) => typeof part === "string") as string[];
            expect(parts.length % 2, `metric entry ${JSON.stringify(entry)} has name/value dimension pairs`).to.equal(0);
            const dimensions: Record<string, string> = {};
            for (let i = 2; i < parts.length; i += 2) dimensions[parts[i]] = parts[i + 1];
            return { namespace: parts[0], name: parts[1], dimensions, widget: widget.properties.title ?? "" };
        }),
    );
}

describe("email dashboard (mocks)", () => {
    let d: MockDeployment;
    let dashboard: MockedResource;
    let metrics: DashboardMetric[];
    const resource = (type: string, name: string) => one(d, type, name);
    const env = (fn: string) => resource("aws:lambda/function:Function", fn).inputs.environment.variables as Record<string, string>;

    before(async () => {
        d = await sharedDeployment({ stack: "dev" });
        dashboard = one(d, DASHBOARD, "email-dashboard");
        metrics = metricsOf(dashboard.inputs.dashboardBody as string);
    });

    it("sits beside the events dashboard: same stack and region qualified name, its own suffix", () => {
        const events = one(d, DASHBOARD, "events-dashboard");
        expect(dashboard.inputs.dashboardName).to.equal(`event-ingestion-dev-${d.region}-email`);
        expect(String(events.inputs.dashboardName).replace(/-events$/, "-email")).to.equal(dashboard.inputs.dashboardName);
    });

    it("lays out on CloudWatch's 24-column grid", () => {
        const widgets = (
            JSON.parse(dashboard.inputs.dashboardBody as string) as { widgets: { x: number; width: number; title?: string }[] }
        ).widgets;
        expect(widgets.length).to.be.greaterThan(8);
        for (const widget of widgets) expect(widget.x + widget.width, JSON.stringify(widget)).to.be.at.most(24);
    });

    it("graphs the API's requests, 4xx, 5xx and latency for the deployed API and stage", () => {
        const api = resource("aws:apigatewayv2/api:Api", "email-http");
        const stage = resource("aws:apigatewayv2/stage:Stage", "email-http-stage");
        const apiMetrics = metrics.filter((m) => m.namespace === "AWS/ApiGateway");
        expect([...new Set(apiMetrics.map((m) => m.name))]).to.have.members(["Count", "4xx", "5xx", "Latency", "IntegrationLatency"]);
        for (const m of apiMetrics) expect(m.dimensions, m.name).to.deep.equal({ ApiId: api.id, Stage: stage.inputs.name });
    });

    it("graphs the email queue's depth and oldest age and the email DLQ's depth (not the event queues')", () => {
        const queue = resource("aws:sqs/queue:Queue", "email-queue").state.name;
        const deadLetterQueue = resource("aws:sqs/queue:Queue", "email-queue-dlq").state.name;
        const sqs = metrics.filter((m) => m.namespace === "AWS/SQS");
        const on = (queueName: string) => sqs.filter((m) => m.dimensions.QueueName === queueName).map((m) => m.name);
        expect(on(queue)).to.include.members([
            "ApproximateNumberOfMessagesVisible",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateAgeOfOldestMessage",
        ]);
        expect(on(deadLetterQueue)).to.include("ApproximateNumberOfMessagesVisible");
        expect(
            sqs.every((m) => [queue, deadLetterQueue].includes(m.dimensions.QueueName)),
            "only email queues",
        ).to.equal(true);
    });

    it("draws the oldest-age alarm's threshold on the age graph", () => {
        const alarm = one(d, "aws:cloudwatch/metricAlarm:MetricAlarm", "email-oldest-message-age");
        const widgets = (
            JSON.parse(dashboard.inputs.dashboardBody as string) as {
                widgets: { properties: { title?: string; annotations?: { horizontal?: { value: number }[] } } }[];
            }
        ).widgets;
        const age = widgets.find((w) => w.properties.title?.startsWith("Oldest email age"));
        expect(age?.properties.annotations?.horizontal?.[0]?.value).to.equal(alarm.inputs.threshold);
    });

    it("graphs the functions' EMF metrics under the namespace and service each function is configured with, by their contract names", () => {
        const emf = metrics.filter((m) => !m.namespace.startsWith("AWS/"));
        const contract = Object.values(EMAIL_METRICS) as string[];
        expect(
            emf.filter((m) => !contract.includes(m.name)).map((m) => m.name),
            "names outside EMAIL_METRICS",
        ).to.deep.equal([]);
        for (const [fn, expected] of [
            ["email-api", [EMAIL_METRICS.accepted, EMAIL_METRICS.rejected, EMAIL_METRICS.notAccepted]],
            [
                "email-worker",
                [
                    EMAIL_METRICS.sent,
                    EMAIL_METRICS.sentBySecondary,
                    EMAIL_METRICS.deadLettered,
                    EMAIL_METRICS.scheduled,
                    EMAIL_METRICS.retried,
                ],
            ],
        ] as const) {
            const { POWERTOOLS_METRICS_NAMESPACE: namespace, POWERTOOLS_SERVICE_NAME: service } = env(fn);
            const mine = emf.filter((m) => m.dimensions.service === service);
            expect(
                mine.every((m) => m.namespace === namespace && Object.keys(m.dimensions).length === 1),
                `${fn}: namespace ${namespace}, dimension service only`,
            ).to.equal(true);
            expect(mine.map((m) => m.name)).to.include.members([...expected]);
        }
        expect(
            emf.every((m) =>
                [env("email-api").POWERTOOLS_SERVICE_NAME, env("email-worker").POWERTOOLS_SERVICE_NAME].includes(m.dimensions.service),
            ),
        ).to.equal(true);
    });

    it("graphs each EMF metric under the function whose handler emits it", () => {
        const source = (file: string) => fs.readFileSync(path.join(__dirname, "..", "..", "handlers", "email", file), "utf8");
        const emitted = (file: string) =>
            new Set(
                Object.entries(EMAIL_METRICS)
                    .filter(([key]) => new RegExp(`EMAIL_METRICS\\.${key}\\b`).test(source(file)))
                    .map(([, name]) => name as string),
            );
        const byService: Record<string, Set<string>> = {
            [env("email-api").POWERTOOLS_SERVICE_NAME]: emitted("api.ts"),
            [env("email-worker").POWERTOOLS_SERVICE_NAME]: emitted("worker.ts"),
        };
        const wrong = metrics
            .filter((m) => !m.namespace.startsWith("AWS/"))
            .filter((m) => !byService[m.dimensions.service]?.has(m.name))
            .map((m) => `${m.widget}: ${m.name} (service ${m.dimensions.service})`);
        expect(wrong, "metrics the service's handler never emits").to.deep.equal([]);
    });

    it("graphs scheduled emails: the worker's count and EventBridge Scheduler's invocations for the schedule group", () => {
        const group = resource("aws:scheduler/scheduleGroup:ScheduleGroup", "email-schedules").inputs.name;
        const scheduler = metrics.filter((m) => m.namespace === "AWS/Scheduler");
        expect(scheduler.map((m) => m.name)).to.include.members(["InvocationAttemptCount", "TargetErrorCount", "InvocationDroppedCount"]);
        for (const m of scheduler) expect(m.dimensions).to.deep.equal({ ScheduleGroup: group });
    });

    it("graphs both functions' invocations, errors, throttles and duration", () => {
        const names = ["email-api", "email-worker"].map((fn) => resource("aws:lambda/function:Function", fn).state.name);
        const lambda = metrics.filter((m) => m.namespace === "AWS/Lambda");
        for (const name of names) {
            expect(lambda.filter((m) => m.dimensions.FunctionName === name).map((m) => m.name)).to.include.members([
                "Invocations",
                "Errors",
                "Throttles",
                "Duration",
            ]);
        }
        expect(lambda.every((m) => names.includes(m.dimensions.FunctionName))).to.equal(true);
    });
});
