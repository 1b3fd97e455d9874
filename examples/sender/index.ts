/**
 * Example Sender: consumes the event store's DynamoDB stream (the "stream
 * trigger" option in docs/sender.md). It reads the event-ingestion stack's
 * outputs through a StackReference and attaches the exported `streamReadPolicyArn`
 * to its own role: no ARN, key or table name is copied by hand.
 *
 * Deploy from this folder: `pulumi stack init dev && pulumi up`.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as path from "node:path";
import { deliverNewEvents } from "./deliver";

const config = new pulumi.Config("sender");
const ingestion = new pulumi.StackReference(config.require("eventIngestionStack"));
// requireOutput fails the preview if the producing stack does not export the name.
const eventStreamArn = ingestion.requireOutput("eventStreamArn") as pulumi.Output<string>;
const streamReadPolicyArn = ingestion.requireOutput("streamReadPolicyArn") as pulumi.Output<string>;
const kmsKeyArn = ingestion.requireOutput("kmsKeyArn") as pulumi.Output<string>;

const logs = new aws.cloudwatch.LogGroup("sender", { retentionInDays: 30, kmsKeyId: config.get("logKmsKeyArn") });
const failures = new aws.sqs.Queue("sender-failures", { messageRetentionSeconds: 1_209_600, sqsManagedSseEnabled: true });

const role = new aws.iam.Role("sender", {
    assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
    }),
});
// The producer stack's exported policy: read its stream, decrypt through DynamoDB.
new aws.iam.RolePolicyAttachment("sender-stream-read", { role: role.name, policyArn: streamReadPolicyArn });
// What is the Sender's own: its log group and its on-failure queue.
new aws.iam.RolePolicy("sender-own", {
    role: role.id,
    policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
            { Effect: "Allow", Action: ["logs:CreateLogStream", "logs:PutLogEvents"], Resource: pulumi.interpolate`${logs.arn}:log-stream:*` },
            { Effect: "Allow", Action: "sqs:SendMessage", Resource: failures.arn },
        ],
    }),
});

/** The Sender ships no packages: exclude every dependency of the nearest package.json. */
function excludeAllDependencies(): string[] {
    let dir = process.cwd();
    while (!fs.existsSync(path.join(dir, "package.json")) && path.dirname(dir) !== dir) dir = path.dirname(dir);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
    return Object.keys(manifest.dependencies ?? {});
}

const sender = new aws.lambda.CallbackFunction("sender", {
    callback: deliverNewEvents,
    role,
    runtime: "nodejs22.x",
    architectures: ["arm64"],
    memorySize: 256,
    timeout: 30,
    tracingConfig: { mode: "Active" },
    loggingConfig: { logFormat: "JSON", logGroup: logs.name },
    codePathOptions: { extraExcludePackages: excludeAllDependencies() },
});

new aws.lambda.EventSourceMapping("sender-stream", {
    eventSourceArn: eventStreamArn,
    functionName: sender.arn,
    startingPosition: "LATEST",
    batchSize: 100,
    maximumBatchingWindowInSeconds: 1,
    // Retry only what failed, split poison batches, and park what still fails.
    functionResponseTypes: ["ReportBatchItemFailures"],
    bisectBatchOnFunctionError: true,
    maximumRetryAttempts: 5,
    maximumRecordAgeInSeconds: 3_600,
    destinationConfig: { onFailure: { destinationArn: failures.arn } },
    // Only inserts are new events; TTL deletions and rewrites are not sent.
    filterCriteria: { filters: [{ pattern: JSON.stringify({ eventName: ["INSERT"] }) }] },
});

export const senderFunctionName = sender.name;
export const consumedStreamArn = eventStreamArn;
export const decryptsWithKeyArn = kmsKeyArn;
