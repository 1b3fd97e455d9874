/**
 * Metrics survive every allowed log level. Each function's shipped archive runs (as in
 * tests/components/artifact.test.ts) with the logging its deployed function gets, and
 * Lambda's documented application log filter ("Log-level filtering", AWS Lambda Developer
 * Guide: a JSON line without `level` is INFO) is applied to everything it prints: every
 * Embedded Metric Format document must pass, at WARN and ERROR too, while the Logger's own
 * lines below the configured level are not printed at all (handlers/shared/metric-level.ts).
 * The worker's one metric needs an answer (a dead-lettered email is counted once SQS took it),
 * so its dead-letter queue is on fauxqs. Every AWS endpoint is a closed
 * loopback port, so each invocation fails fast and still publishes its metrics.
 */
import { expect } from "chai";
import { lambdaLoggingConfig, type LogLevel } from "../../components/shared/defaults";
import { CreateQueueCommand, SQSClient } from "@aws-sdk/client-sqs";
import { EMAIL_ENV } from "../../contracts/email-service";
import { LOCAL_CREDENTIALS, startFauxqs, type Emulator } from "../../local/offline/emulators";
import { invokeArtifact, prepareArtifact } from "../../local/offline/lambda-artifact";
import { deployUnderMocks, type MockDeployment } from "../../local/offline/mock-deployment";
import { onEndpoint } from "../support/email/aws";
import { validEvent } from "../support/factories/events";
import { isEmfDocument, lambdaLevelOf, passesLambdaLogFilter, type LambdaApplicationLogLevel } from "../support/lambda-log-filter";
import { one } from "./helpers";

const DOC = "AWS Lambda Developer Guide: Log-level filtering (a JSON log line without a level key is INFO)";
const REGION = "us-east-1";
const CLOSED = "http://127.0.0.1:9";
const LEVELS: LogLevel[] = ["DEBUG", "INFO", "WARN", "ERROR"];

function sqsRecord(body: string, id: string, groupId?: string) {
    return {
        messageId: id,
        receiptHandle: `rh-${id}`,
        body,
        attributes: {
            ApproximateReceiveCount: "1",
            SentTimestamp: String(Date.now()),
            SenderId: "AIDAEXAMPLE",
            ApproximateFirstReceiveTimestamp: String(Date.now()),
            ...(groupId ? { MessageGroupId: groupId, MessageDeduplicationId: id, SequenceNumber: "1" } : {}),
        },
        messageAttributes: {},
        md5OfBody: "",
        eventSource: "aws:sqs",
        eventSourceARN: `arn:aws:sqs:${REGION}:123456789012:${groupId ? "email.fifo" : "events"}`,
        awsRegion: REGION,
    };
}

/** Per function: an event whose invocation records a metric without any AWS service answering. */
const INVOCATIONS: Record<string, unknown> = {
    "event-processor": {
        Records: [sqsRecord(JSON.stringify(validEvent({ clientId: "tenant-a" })), "m-1"), sqsRecord("{not json", "m-2")],
    },
    "email-api": {
        version: "2.0",
        routeKey: "POST /v1/emails",
        rawPath: "/v1/emails",
        rawQueryString: "",
        headers: { "content-type": "application/json" },
        requestContext: {
            http: { method: "POST", path: "/v1/emails" },
            requestId: "log-level",
            authorizer: { iam: { userArn: "arn:aws:sts::123456789012:assumed-role/Shop/session" } },
        },
        body: JSON.stringify({ from: "not-an-address" }),
        isBase64Encoded: false,
    },
    "email-worker": { Records: [sqsRecord("{not json", "w-1", "lane-0")] },
};

describe(`metrics reach CloudWatch at every log level: Lambda's filter applied to what each archive prints [${DOC}]`, function () {
    this.timeout(300_000);
    let d: MockDeployment;
    let sqs: Emulator | undefined;
    let workerDeadLetterQueueUrl: string;
    const artifacts = new Map<string, Awaited<ReturnType<typeof prepareArtifact>>>();

    before(async () => {
        d = await deployUnderMocks({
            stack: "dev",
            configOverrides: { "event-ingestion:logLevel": "WARN", "event-ingestion:emailLogLevel": "ERROR" },
        });
        for (const name of Object.keys(INVOCATIONS)) artifacts.set(name, await prepareArtifact(d, name));
        sqs = await startFauxqs({ region: REGION });
        const client = new SQSClient({ endpoint: sqs.endpoint, region: REGION, credentials: LOCAL_CREDENTIALS });
        const created = await client.send(new CreateQueueCommand({ QueueName: "email-dlq.fifo", Attributes: { FifoQueue: "true" } }));
        workerDeadLetterQueueUrl = onEndpoint(created.QueueUrl!, sqs.endpoint);
    });
    after(async () => {
        await sqs?.stop();
        for (const artifact of artifacts.values()) artifact.cleanup();
    });

    it("deploys the logging configuration this test applies (Lambda's filter at the configured level)", () => {
        for (const [name, level] of [
            ["event-processor", "WARN"],
            ["email-api", "ERROR"],
            ["email-worker", "ERROR"],
        ] as const) {
            const fn = one(d, "aws:lambda/function:Function", name);
            const { logGroup: _logGroup, ...expected } = lambdaLoggingConfig(undefined, level);
            expect(fn.inputs.loggingConfig, name).to.deep.include(expected);
            expect(fn.inputs.environment.variables.POWERTOOLS_LOG_LEVEL, name).to.equal(level);
        }
    });

    for (const name of Object.keys(INVOCATIONS)) {
        for (const level of LEVELS) {
            it(`${name} at ${level}: every EMF document passes the filter; no Logger line below ${level} is printed`, async () => {
                const artifact = artifacts.get(name)!;
                const logging = lambdaLoggingConfig(undefined, level);
                const run = await invokeArtifact({
                    ...artifact,
                    environment: {
                        ...artifact.environment,
                        // Queue URLs name their own host, which the SDK prefers to the endpoint: point them at the closed port too.
                        ...Object.fromEntries(
                            Object.entries(artifact.environment)
                                .filter(([, value]) => /^https:\/\/sqs\./.test(value))
                                .map(([key, value]) => [key, value.replace(/^https:\/\/[^/]+/, CLOSED)]),
                        ),
                        ...(name === "email-worker"
                            ? {
                                  [EMAIL_ENV.deadLetterQueueUrl]: workerDeadLetterQueueUrl,
                                  AWS_ENDPOINT_URL_SQS: sqs!.endpoint,
                              }
                            : {}),
                        POWERTOOLS_LOG_LEVEL: level,
                        // What Lambda sets for a function with advanced logging controls.
                        AWS_LAMBDA_LOG_FORMAT: logging.logFormat,
                        AWS_LAMBDA_LOG_LEVEL: logging.applicationLogLevel,
                        AWS_REGION: REGION,
                        AWS_DEFAULT_REGION: REGION,
                        AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
                        AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
                        AWS_ENDPOINT_URL: CLOSED,
                        AWS_MAX_ATTEMPTS: "1",
                    },
                    event: INVOCATIONS[name],
                    functionName: name,
                });
                const lines = `${run.stdout}\n${run.stderr}`.split("\n").filter((line) => line.trim().startsWith("{"));
                const metrics = lines.filter(isEmfDocument);
                expect(
                    metrics,
                    `${name} printed no EMF document (${JSON.stringify(run.error)}):\n${run.stdout}\n${run.stderr}`,
                ).to.not.deep.equal([]);
                const dropped = metrics.filter(
                    (line) => !passesLambdaLogFilter(line, logging.applicationLogLevel as LambdaApplicationLogLevel),
                );
                expect(dropped, `EMF documents Lambda drops at applicationLogLevel ${logging.applicationLogLevel}`).to.deep.equal([]);
                const order = ["DEBUG", "INFO", "WARN", "ERROR"];
                const tooDetailed = lines
                    .filter((line) => !isEmfDocument(line) && /"level"\s*:/.test(line))
                    .filter((line) => order.indexOf(lambdaLevelOf(line)) >= 0 && order.indexOf(lambdaLevelOf(line)) < order.indexOf(level));
                expect(tooDetailed, `Logger lines below ${level}`).to.deep.equal([]);
            });
        }
    }
});
