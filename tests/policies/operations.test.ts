import { expect } from "chai";
import { unknown } from "../../policies/testing";
import {
    compliantStack,
    pick,
    set,
    unset,
    resource,
    tlsDeny,
    queue,
    queuePolicy,
    arnOf,
    topic,
    bucket,
    bucketEncryption,
    bucketPolicy,
    httpApi,
} from "./fixtures/resources";
import { evaluate, expectOnly, expectClean, violatedPolicies } from "./helpers";

const withoutType = (type: string) => compliantStack().filter((r) => r.type !== type);

describe("policies: TLS-only resource policies", () => {
    it("flags a queue, a topic and a bucket that have no resource policy", async () => {
        for (const type of ["aws:sqs/queuePolicy:QueuePolicy", "aws:sns/topicPolicy:TopicPolicy", "aws:s3/bucketPolicy:BucketPolicy"]) {
            expectOnly(await evaluate(withoutType(type)), "tls-only-resource-policies");
        }
    });

    it("flags a queue policy without the deny, with the condition inverted, or with a narrow action", async () => {
        const variants = [
            [{ Effect: "Allow", Principal: { Service: "sns.amazonaws.com" }, Action: "sqs:SendMessage", Resource: "*" }],
            [{ ...tlsDeny("sqs", "*"), Condition: { Bool: { "aws:SecureTransport": "true" } } }],
            [{ ...tlsDeny("sqs", "*"), Action: "sqs:SendMessage" }],
            [{ ...tlsDeny("sqs", "*"), Principal: { Service: "lambda.amazonaws.com" } }],
            [{ ...tlsDeny("sqs", "arn:aws:sqs:us-east-1:123456789012:some-other-queue") }],
        ];
        for (const statements of variants) {
            const stack = withoutType("aws:sqs/queuePolicy:QueuePolicy");
            for (const name of ["events-dlq", "email-dlq", "email"]) stack.push(queuePolicy(pick(stack, name, "aws:sqs/queue:Queue")));
            stack.push(queuePolicy(pick(stack, "events", "aws:sqs/queue:Queue"), statements));
            expectOnly(await evaluate(stack), "tls-only-resource-policies");
        }
    });

    it("accepts an inline queue policy given as an object with a single Statement, boolean false and { AWS: '*' }", async () => {
        const stack = withoutType("aws:sqs/queuePolicy:QueuePolicy");
        for (const q of stack.filter((r) => r.type === "aws:sqs/queue:Queue")) {
            set(q, "policy", {
                Version: "2012-10-17",
                Statement: { ...tlsDeny("sqs", arnOf(q)), Principal: { AWS: "*" }, Condition: { Bool: { "aws:securetransport": false } } },
            });
        }
        expectClean(await evaluate(stack));
    });

    it("checks a policy attached to a queue outside the stack as well", async () => {
        const external = resource("aws:sqs/queuePolicy:QueuePolicy", "external", {
            queueUrl: "https://sqs.us-east-1.amazonaws.com/123456789012/someone-elses",
            policy: JSON.stringify({
                Statement: { Effect: "Allow", Principal: { Service: "sns.amazonaws.com" }, Action: "sqs:SendMessage", Resource: "*" },
            }),
        });
        const [message] = expectOnly(await evaluate([...compliantStack(), external]), "tls-only-resource-policies");
        expect(message).to.match(/\nexternal \(aws:sqs\/queuePolicy:QueuePolicy\)/);
        set(external, "policy", JSON.stringify({ Statement: [tlsDeny("sqs", "arn:aws:sqs:us-east-1:123456789012:someone-elses")] }));
        expectClean(await evaluate([...compliantStack(), external]));
    });

    it("requires a bucket deny to cover both the bucket and its objects", async () => {
        const stack = withoutType("aws:s3/bucketPolicy:BucketPolicy");
        const b = pick(stack, "email-archive");
        stack.push(
            resource("aws:s3/bucketPolicy:BucketPolicy", "p", {
                bucket: "email-archive",
                policy: JSON.stringify({ Statement: [tlsDeny("s3", arnOf(b))] }),
            }),
        );
        expectOnly(await evaluate(stack), "tls-only-resource-policies");
    });

    it("defers (preview) when the attached policy document is unknown, and matches it by dependency", async () => {
        const stack = compliantStack();
        const policy = pick(stack, "alarms-policy");
        set(set(policy, "policy", unknown.string), "arn", unknown.string);
        policy.propertyDependencies = { arn: ["alarms"] };
        const evaluation = await evaluate(stack);
        expect(evaluation.violations).to.deep.equal([]);
        expect(evaluation.deferred.map((d) => d.policy)).to.deep.equal(["tls-only-resource-policies"]);
    });
});

describe("policies: Lambda", () => {
    const fn = (stack = compliantStack()) => ({ stack, fn: pick(stack, "event-processor", "aws:lambda/function:Function") });

    it("requires a runtime from the supported list", async () => {
        for (const runtime of ["nodejs18.x", "nodejs16.x", "python3.8", undefined]) {
            const { stack, fn: f } = fn();
            if (runtime) set(f, "runtime", runtime);
            else unset(f, "runtime");
            expectOnly(await evaluate(stack), "lambda-supported-runtime");
        }
        const { stack, fn: image } = fn();
        set(unset(image, "runtime"), "packageType", "Image");
        expectClean(await evaluate(stack));
    });

    it("treats a runtime whose changes are ignored (CallbackFunction's implicit default) as not explicit", async () => {
        const { stack, fn: f } = fn();
        f.ignoreChanges = ["runtime"];
        const [message] = expectOnly(await evaluate(stack), "lambda-supported-runtime");
        expect(message).to.match(/not explicit/);
    });

    it("requires explicit timeout and memory", async () => {
        for (const field of ["timeout", "memorySize"]) {
            const { stack, fn: f } = fn();
            unset(f, field);
            expectOnly(await evaluate(stack), "lambda-explicit-timeout-and-memory");
        }
    });

    it("requires active tracing", async () => {
        for (const tracing of [undefined, { mode: "PassThrough" }]) {
            const { stack, fn: f } = fn();
            if (tracing) set(f, "tracingConfig", tracing);
            else unset(f, "tracingConfig");
            expectOnly(await evaluate(stack), "lambda-tracing-active");
        }
    });

    it("forbids public function URLs (and public URL invoke permissions)", async () => {
        const url = (authorizationType?: string) =>
            resource("aws:lambda/functionUrl:FunctionUrl", "url", {
                functionName: "event-processor",
                ...(authorizationType ? { authorizationType } : {}),
            });
        expectOnly(await evaluate([...compliantStack(), url("NONE")]), "lambda-function-url-requires-auth");
        expectClean(await evaluate([...compliantStack(), url("AWS_IAM")]));
        const permission = resource("aws:lambda/permission:Permission", "public", {
            action: "lambda:InvokeFunctionUrl",
            function: "event-processor",
            principal: "*",
            functionUrlAuthType: "NONE",
        });
        expectOnly(await evaluate([...compliantStack(), permission]), "lambda-function-url-requires-auth");
    });
});

describe("policies: SQS", () => {
    it("requires a redrive policy on every queue that is not a DLQ (standard and FIFO)", async () => {
        for (const name of ["events", "email"]) {
            const stack = compliantStack();
            unset(pick(stack, name, "aws:sqs/queue:Queue"), "redrivePolicy");
            expectOnly(await evaluate(stack), "sqs-redrive-policy");
        }
    });

    it("flags a redrive policy without maxReceiveCount, and accepts a separate RedrivePolicy resource", async () => {
        const stack = compliantStack();
        const q = pick(stack, "events", "aws:sqs/queue:Queue");
        set(q, "redrivePolicy", JSON.stringify({ deadLetterTargetArn: arnOf(pick(stack, "events-dlq")) }));
        expectOnly(await evaluate(stack), "sqs-redrive-policy");
        unset(q, "redrivePolicy");
        stack.push(
            resource("aws:sqs/redrivePolicy:RedrivePolicy", "events-redrive", {
                queueUrl: q.outputs!.url,
                redrivePolicy: { deadLetterTargetArn: arnOf(pick(stack, "events-dlq")), maxReceiveCount: "5" },
            }),
        );
        expectClean(await evaluate(stack));
    });

    it("recognises a DLQ by being a redrive target even without a redrive-allow policy", async () => {
        const stack = compliantStack().filter((r) => r.type !== "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy");
        expectClean(await evaluate(stack));
    });

    it("requires visibility timeout >= 6x the consuming Lambda's timeout", async () => {
        const stack = compliantStack();
        set(pick(stack, "events", "aws:sqs/queue:Queue"), "visibilityTimeoutSeconds", 179);
        const [message] = expectOnly(await evaluate(stack), "sqs-visibility-timeout-covers-consumers");
        expect(message).to.match(/179s is less than 6 x 30s/);
        const raised = compliantStack();
        set(pick(raised, "event-processor", "aws:lambda/function:Function"), "timeout", 31);
        expectOnly(await evaluate(raised), "sqs-visibility-timeout-covers-consumers");
        const defaults = compliantStack();
        unset(pick(defaults, "events", "aws:sqs/queue:Queue"), "visibilityTimeoutSeconds"); // AWS default 30s
        expectOnly(await evaluate(defaults), "sqs-visibility-timeout-covers-consumers");
    });

    it("matches the consumer by function name as well as ARN", async () => {
        const stack = compliantStack();
        const mapping = stack.find(
            (r) => r.type === "aws:lambda/eventSourceMapping:EventSourceMapping" && r.inputs.functionName.endsWith(":event-processor"),
        )!;
        set(mapping, "functionName", "event-processor");
        set(pick(stack, "events", "aws:sqs/queue:Queue"), "visibilityTimeoutSeconds", 60);
        expectOnly(await evaluate(stack), "sqs-visibility-timeout-covers-consumers");
    });

    it("requires ReportBatchItemFailures on SQS mappings only", async () => {
        const stack = compliantStack();
        const mapping = stack.find((r) => r.type === "aws:lambda/eventSourceMapping:EventSourceMapping")!;
        unset(mapping, "functionResponseTypes");
        expectOnly(await evaluate(stack), "sqs-event-source-reports-batch-item-failures");
        set(mapping, "eventSourceArn", "arn:aws:dynamodb:us-east-1:123456789012:table/events/stream/2026");
        expectClean(await evaluate(stack));
    });

    it("defers the batch-failure rule while the event source is unknown, unless the mapping already complies", async () => {
        const stack = compliantStack();
        const mapping = stack.find((r) => r.type === "aws:lambda/eventSourceMapping:EventSourceMapping")!;
        set(mapping, "eventSourceArn", unknown.string);
        expectClean(await evaluate(stack));
        unset(mapping, "functionResponseTypes");
        const evaluation = await evaluate(stack);
        expect(evaluation.violations).to.deep.equal([]);
        expect(evaluation.deferred.map((d) => d.policy)).to.deep.equal(["sqs-event-source-reports-batch-item-failures"]);
    });
});

describe("policies: DynamoDB", () => {
    it("requires point-in-time recovery", async () => {
        const stack = compliantStack();
        set(pick(stack, "events", "aws:dynamodb/table:Table"), "pointInTimeRecovery", { enabled: false });
        expectOnly(await evaluate(stack), "dynamodb-point-in-time-recovery");
    });

    it("reports missing deletion protection as advisory, which a stack may disable", async () => {
        const stack = compliantStack();
        unset(pick(stack, "events", "aws:dynamodb/table:Table"), "deletionProtectionEnabled");
        const evaluation = await evaluate(stack);
        expect(evaluation.mandatory).to.deep.equal([]);
        expect(violatedPolicies(evaluation, "advisory")).to.deep.equal(["dynamodb-deletion-protection"]);
        expectClean(await evaluate(stack, { config: { "dynamodb-deletion-protection": "disabled" } }));
    });
});

describe("policies: observability", () => {
    it("requires an alarm on visible messages for every DLQ", async () => {
        const stack = compliantStack().filter((r) => r.name !== "email-dlq-visible");
        const [message] = expectOnly(await evaluate(stack), "dlq-visible-messages-alarm");
        expect(message).to.match(/\nemail-dlq \(aws:sqs\/queue:Queue\)/);
    });

    it("does not accept an alarm that notifies nobody", async () => {
        const stack = compliantStack();
        set(pick(stack, "events-dlq-visible"), "alarmActions", []);
        expectOnly(await evaluate(stack), "dlq-visible-messages-alarm");
        const fnAlarm = compliantStack();
        unset(pick(fnAlarm, "email-worker-errors"), "alarmActions");
        expectOnly(await evaluate(fnAlarm), "lambda-errors-alarm");
    });

    it("does not accept an alarm on the wrong metric or the wrong queue", async () => {
        const stack = compliantStack();
        set(pick(stack, "events-dlq-visible"), "metricName", "NumberOfMessagesSent");
        expectOnly(await evaluate(stack), "dlq-visible-messages-alarm");
        const other = compliantStack();
        set(pick(other, "events-dlq-visible"), "dimensions", { QueueName: "events" });
        expectOnly(await evaluate(other), "dlq-visible-messages-alarm");
    });

    it("accepts a metric-math alarm and, in preview, a dimension computed from the DLQ", async () => {
        const stack = compliantStack();
        const a = pick(stack, "events-dlq-visible");
        const dims = a.inputs.dimensions;
        for (const key of ["namespace", "metricName", "dimensions", "statistic", "period"]) unset(a, key);
        set(a, "metricQueries", [
            {
                id: "m1",
                returnData: true,
                metric: {
                    namespace: "AWS/SQS",
                    metricName: "ApproximateNumberOfMessagesVisible",
                    dimensions: dims,
                    period: 60,
                    stat: "Maximum",
                },
            },
        ]);
        expectClean(await evaluate(stack));
        const preview = compliantStack();
        const b = pick(preview, "email-dlq-visible");
        set(b, "dimensions", { QueueName: unknown.string });
        b.propertyDependencies = { dimensions: ["email-dlq"] };
        expectClean(await evaluate(preview));
    });

    it("requires an Errors alarm for every Lambda", async () => {
        const stack = compliantStack().filter((r) => r.name !== "email-worker-errors");
        const [message] = expectOnly(await evaluate(stack), "lambda-errors-alarm");
        expect(message).to.match(/\nemail-worker \(aws:lambda\/function:Function\)/);
    });

    it("requires retention on every log group and a declared log group for every Lambda", async () => {
        for (const retention of [0, undefined]) {
            const stack = compliantStack();
            const group = pick(stack, "event-ingestion-event-processor");
            if (retention === undefined) unset(group, "retentionInDays");
            else set(group, "retentionInDays", retention);
            expectOnly(await evaluate(stack), "log-group-retention");
        }
        const implicit = compliantStack().filter((r) => r.name !== "aws-lambda-email-worker");
        const [message] = expectOnly(await evaluate(implicit), "log-group-retention");
        expect(message).to.include("/aws/lambda/email-worker");
    });
});

describe("policies: API Gateway", () => {
    it("requires authorization on every route and forbids quick-create APIs", async () => {
        for (const authorizationType of ["NONE", undefined]) {
            const stack = compliantStack();
            const route = pick(stack, "email-api-route");
            if (authorizationType) set(route, "authorizationType", authorizationType);
            else unset(route, "authorizationType");
            expectOnly(await evaluate(stack), "apigateway-route-authorization");
        }
        const quick = httpApi("quick");
        set(quick, "target", "arn:aws:lambda:us-east-1:123456789012:function:f");
        expectOnly(await evaluate([...compliantStack(), quick]), "apigateway-route-authorization");
        const rest = resource("aws:apigateway/method:Method", "get", {
            restApi: "r",
            resourceId: "x",
            httpMethod: "GET",
            authorization: "NONE",
        });
        expectOnly(await evaluate([...compliantStack(), rest]), "apigateway-route-authorization");
    });

    it("requires access logging on every stage", async () => {
        const stack = compliantStack();
        unset(pick(stack, "email-api-stage"), "accessLogSettings");
        expectOnly(await evaluate(stack), "apigateway-access-logging");
        const noFormat = compliantStack();
        set(pick(noFormat, "email-api-stage"), "accessLogSettings", { destinationArn: "arn:aws:logs:us-east-1:123456789012:log-group:x" });
        expectOnly(await evaluate(noFormat), "apigateway-access-logging");
    });

    it("requires throttling on every stage (HTTP API default route settings, REST method settings)", async () => {
        const stack = compliantStack();
        set(pick(stack, "email-api-stage"), "defaultRouteSettings", { throttlingBurstLimit: 50 });
        expectOnly(await evaluate(stack), "apigateway-throttling");
        const restStage = resource("aws:apigateway/stage:Stage", "rest", {
            restApi: "r1",
            stageName: "prod",
            deployment: "d",
            accessLogSettings: { destinationArn: "arn:aws:logs:x", format: "$context.requestId" },
        });
        expectOnly(await evaluate([...compliantStack(), restStage]), "apigateway-throttling");
        const settings = resource("aws:apigateway/methodSettings:MethodSettings", "all", {
            restApi: "r1",
            stageName: "prod",
            methodPath: "*/*",
            settings: { throttlingBurstLimit: 10, throttlingRateLimit: 5 },
        });
        expectClean(await evaluate([...compliantStack(), restStage, settings]));
    });
});

describe("policies: shapes the email service adds", () => {
    it("a second FIFO queue, bucket and topic that are compliant pass", async () => {
        const dlq = queue("extra-dlq", { fifo: true });
        const extra = queue("extra", { fifo: true, deadLetterTargetArn: arnOf(dlq) });
        const b = bucket("second-bucket");
        const t = topic("second-topic");
        const evaluation = await evaluate([
            ...compliantStack(),
            dlq,
            extra,
            queuePolicy(dlq),
            queuePolicy(extra),
            b,
            bucketEncryption(b),
            bucketPolicy(b),
            t,
            resource("aws:sns/topicPolicy:TopicPolicy", "second-topic-policy", {
                arn: arnOf(t),
                policy: JSON.stringify({ Statement: [tlsDeny("sns", arnOf(t))] }),
            }),
            resource("aws:cloudwatch/metricAlarm:MetricAlarm", "extra-dlq-visible", {
                namespace: "AWS/SQS",
                metricName: "ApproximateNumberOfMessagesVisible",
                dimensions: { QueueName: dlq.outputs!.name },
                alarmActions: [arnOf(t)],
            }),
        ]);
        expectClean(evaluation);
    });
});
