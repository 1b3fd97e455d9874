/**
 * Example Sender: consumes the event store's DynamoDB stream (the "stream
 * trigger" option in docs/sender.md) and, with `sender:pollTenants` set, also polls
 * those tenants every minute through the arrival index (the "polling" option;
 * the producing stack needs `eventPollingIndex` on). It reads the event-ingestion
 * stack's outputs through a StackReference and attaches the exported policies to
 * its own roles: no ARN, key or table name is copied by hand.
 *
 * Deploy from this folder: `pulumi stack init dev && pulumi up`.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as path from "node:path";
import { deliverNewEvents } from "./deliver";
import { pollAllTenants } from "./poll";

const config = new pulumi.Config("sender");
const ingestion = new pulumi.StackReference(config.require("eventIngestionStack"));
// requireOutput fails the preview if the producing stack does not export the name.
const eventStreamArn = ingestion.requireOutput("eventStreamArn") as pulumi.Output<string>;
const streamReadPolicyArn = ingestion.requireOutput("streamReadPolicyArn") as pulumi.Output<string>;
const kmsKeyArn = ingestion.requireOutput("kmsKeyArn") as pulumi.Output<string>;

// Owner and cost-allocation tags on every taggable resource (the event-ingestion policy pack requires them).
const tags = { owner: config.require("owner"), "cost-center": config.require("costCenter") };

const stack = pulumi.getStack();
const accountId = aws.getCallerIdentityOutput().accountId;
const region = aws.getRegionOutput().name;
const partition = aws.getPartitionOutput().partition;
const logGroupName = `/sender/${stack}/sender`;
const alarmPrefix = `sender-${stack}-`;

// The Sender's own customer managed key: its log group, its on-failure queue, its alarm topic.
// (The producing stack's key is for the producing stack's data; the stream read policy decrypts with it.)
const key = new aws.kms.Key("sender", {
    description: `Sender (${stack}): logs, failures queue, alarm topic`,
    enableKeyRotation: true,
    deletionWindowInDays: 30,
    policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "AccountAdministersKey",
                Effect: "Allow",
                Principal: { AWS: pulumi.interpolate`arn:${partition}:iam::${accountId}:root` },
                Action: "kms:*",
                Resource: "*",
            },
            {
                Sid: "CloudWatchLogsEncryptsTheSendersLogGroup",
                Effect: "Allow",
                Principal: { Service: pulumi.interpolate`logs.${region}.amazonaws.com` },
                Action: [
                    "kms:Decrypt",
                    "kms:DescribeKey",
                    "kms:Encrypt",
                    "kms:GenerateDataKey",
                    "kms:GenerateDataKeyWithoutPlaintext",
                    "kms:ReEncryptFrom",
                    "kms:ReEncryptTo",
                ],
                Resource: "*",
                Condition: {
                    ArnLike: {
                        "kms:EncryptionContext:aws:logs:arn": pulumi.interpolate`arn:${partition}:logs:${region}:${accountId}:log-group:${logGroupName}`,
                    },
                },
            },
            {
                Sid: "CloudWatchAlarmsPublishToTheEncryptedTopic",
                Effect: "Allow",
                Principal: { Service: "cloudwatch.amazonaws.com" },
                Action: ["kms:Decrypt", "kms:GenerateDataKey"],
                Resource: "*",
                Condition: {
                    StringEquals: { "aws:SourceAccount": accountId },
                    ArnLike: {
                        "aws:SourceArn": pulumi.interpolate`arn:${partition}:cloudwatch:${region}:${accountId}:alarm:${alarmPrefix}*`,
                    },
                },
            },
        ],
    }),
    tags,
});

const logs = new aws.cloudwatch.LogGroup("sender", { name: logGroupName, retentionInDays: 30, kmsKeyId: key.arn, tags });
// Records that still fail after the retries land here: a dead-letter queue for the stream (allows redrive out of it).
const failures = new aws.sqs.Queue("sender-failures", {
    messageRetentionSeconds: 1_209_600,
    kmsMasterKeyId: key.arn,
    redriveAllowPolicy: JSON.stringify({ redrivePermission: "allowAll" }),
    tags,
});
new aws.sqs.QueuePolicy("sender-failures-tls-only", {
    queueUrl: failures.url,
    policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "DenyInsecureTransport",
                Effect: "Deny",
                Principal: "*",
                Action: "sqs:*",
                Resource: failures.arn,
                Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
        ],
    }),
});
const alarmTopic = new aws.sns.Topic("sender-alarms", { kmsMasterKeyId: key.arn, tags });
new aws.sns.TopicPolicy("sender-alarms", {
    arn: alarmTopic.arn,
    policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "DenyInsecureTransport",
                Effect: "Deny",
                Principal: "*",
                Action: "sns:*",
                Resource: alarmTopic.arn,
                Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
            {
                Sid: "CloudWatchAlarmsPublish",
                Effect: "Allow",
                Principal: { Service: "cloudwatch.amazonaws.com" },
                Action: "sns:Publish",
                Resource: alarmTopic.arn,
                Condition: {
                    StringEquals: { "aws:SourceAccount": accountId },
                    ArnLike: {
                        "aws:SourceArn": pulumi.interpolate`arn:${partition}:cloudwatch:${region}:${accountId}:alarm:${alarmPrefix}*`,
                    },
                },
            },
        ],
    }),
});

/** Both of the Sender's functions run under roles only Lambda may assume. */
const lambdaAssumeRolePolicy = JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
});

const role = new aws.iam.Role("sender", {
    assumeRolePolicy: lambdaAssumeRolePolicy,
    tags,
});
// The producer stack's exported policy: read its stream, decrypt through DynamoDB.
new aws.iam.RolePolicyAttachment("sender-stream-read", { role: role.name, policyArn: streamReadPolicyArn });
// What is the Sender's own: its log group and its on-failure queue (encrypted with its key).
new aws.iam.RolePolicy("sender-own", {
    role: role.id,
    policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
            {
                Effect: "Allow",
                Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
                Resource: pulumi.interpolate`${logs.arn}:log-stream:*`,
            },
            { Effect: "Allow", Action: "sqs:SendMessage", Resource: failures.arn },
            {
                Effect: "Allow",
                Action: ["kms:GenerateDataKey", "kms:Decrypt"],
                Resource: key.arn,
                Condition: { StringEquals: { "kms:ViaService": pulumi.interpolate`sqs.${region}.amazonaws.com` } },
            },
        ],
    }),
});

/** The Sender ships no packages: exclude every dependency of the nearest package.json (optional ones included). */
function excludeAllDependencies(): string[] {
    let dir = process.cwd();
    while (!fs.existsSync(path.join(dir, "package.json")) && path.dirname(dir) !== dir) dir = path.dirname(dir);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as {
        dependencies?: Record<string, string>;
        optionalDependencies?: Record<string, string>;
    };
    return [...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.optionalDependencies ?? {})];
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
    tags,
});

// Someone hears about failures: function errors, and records parked in the failures queue.
new aws.cloudwatch.MetricAlarm("sender-errors", {
    name: `${alarmPrefix}errors`,
    namespace: "AWS/Lambda",
    metricName: "Errors",
    dimensions: { FunctionName: sender.name },
    statistic: "Sum",
    period: 60,
    evaluationPeriods: 1,
    threshold: 1,
    comparisonOperator: "GreaterThanOrEqualToThreshold",
    treatMissingData: "notBreaching",
    alarmActions: [alarmTopic.arn],
    okActions: [alarmTopic.arn],
    tags,
});
new aws.cloudwatch.MetricAlarm("sender-failures-visible", {
    name: `${alarmPrefix}failures-visible`,
    namespace: "AWS/SQS",
    metricName: "ApproximateNumberOfMessagesVisible",
    dimensions: { QueueName: failures.name },
    statistic: "Maximum",
    period: 60,
    evaluationPeriods: 1,
    threshold: 1,
    comparisonOperator: "GreaterThanOrEqualToThreshold",
    treatMissingData: "notBreaching",
    alarmActions: [alarmTopic.arn],
    okActions: [alarmTopic.arn],
    tags,
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
    tags,
    // Only inserts are new events; TTL deletions and rewrites are not sent.
    filterCriteria: { filters: [{ pattern: JSON.stringify({ eventName: ["INSERT"] }) }] },
});

// Polling (optional): a scheduled function reads each tenant's new events through the arrival index
// and keeps one cursor per tenant in the Sender's own table.
const pollTenants = config.getObject<string[]>("pollTenants") ?? [];
let pollerFunctionName: pulumi.Output<string> | undefined;
if (pollTenants.length > 0) {
    // requireOutput fails the preview when the producing stack has no arrival index (eventPollingIndex off).
    const eventPollingIndexName = ingestion.requireOutput("eventPollingIndexName") as pulumi.Output<string>;
    const eventPollingLagSeconds = ingestion.requireOutput("eventPollingLagSeconds") as pulumi.Output<number>;
    const eventTableName = ingestion.requireOutput("eventTableName") as pulumi.Output<string>;
    const tableReadPolicyArn = ingestion.requireOutput("tableReadPolicyArn") as pulumi.Output<string>;

    const cursors = new aws.dynamodb.Table("sender-cursors", {
        billingMode: "PAY_PER_REQUEST",
        hashKey: "clientId",
        attributes: [{ name: "clientId", type: "S" }],
        serverSideEncryption: { enabled: true, kmsKeyArn: key.arn },
        pointInTimeRecovery: { enabled: true },
        deletionProtectionEnabled: true,
        tags,
    });
    const pollerRole = new aws.iam.Role("sender-poller", {
        assumeRolePolicy: lambdaAssumeRolePolicy,
        tags,
    });
    // The producer stack's exported policy: Query the table and its arrival index, GetItem, decrypt through DynamoDB.
    new aws.iam.RolePolicyAttachment("sender-poller-table-read", { role: pollerRole.name, policyArn: tableReadPolicyArn });
    new aws.iam.RolePolicy("sender-poller-own", {
        role: pollerRole.id,
        policy: pulumi.jsonStringify({
            Version: "2012-10-17",
            Statement: [
                {
                    Effect: "Allow",
                    Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
                    Resource: pulumi.interpolate`${logs.arn}:log-stream:*`,
                },
                { Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:PutItem"], Resource: cursors.arn },
                {
                    Effect: "Allow",
                    Action: ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                    Resource: key.arn,
                    Condition: { StringEquals: { "kms:ViaService": pulumi.interpolate`dynamodb.${region}.amazonaws.com` } },
                },
                {
                    Effect: "Allow",
                    Action: "kms:Decrypt",
                    Resource: key.arn,
                    Condition: { StringEquals: { "kms:ViaService": pulumi.interpolate`lambda.${region}.amazonaws.com` } },
                },
            ],
        }),
    });
    const poller = new aws.lambda.CallbackFunction("sender-poller", {
        callback: pollAllTenants,
        role: pollerRole,
        runtime: "nodejs22.x",
        architectures: ["arm64"],
        memorySize: 256,
        timeout: 50,
        // One poll at a time: two concurrent polls of a tenant from the same cursor would deliver twice.
        reservedConcurrentExecutions: 1,
        tracingConfig: { mode: "Active" },
        loggingConfig: { logFormat: "JSON", logGroup: logs.name },
        kmsKeyArn: key.arn,
        environment: {
            variables: {
                EVENT_TABLE_NAME: eventTableName,
                EVENT_POLLING_INDEX_NAME: eventPollingIndexName,
                EVENT_POLLING_LAG_SECONDS: eventPollingLagSeconds.apply(String),
                CURSOR_TABLE_NAME: cursors.name,
                POLL_TENANTS: pollTenants.join(","),
            },
        },
        codePathOptions: { extraExcludePackages: excludeAllDependencies() },
        tags,
    });
    const everyMinute = new aws.cloudwatch.EventRule("sender-poll-schedule", { scheduleExpression: "rate(1 minute)", tags });
    new aws.cloudwatch.EventTarget("sender-poll-schedule", { rule: everyMinute.name, arn: poller.arn });
    new aws.lambda.Permission("sender-poll-schedule", {
        action: "lambda:InvokeFunction",
        function: poller.name,
        principal: "events.amazonaws.com",
        sourceArn: everyMinute.arn,
    });
    new aws.cloudwatch.MetricAlarm("sender-poller-errors", {
        name: `${alarmPrefix}poller-errors`,
        namespace: "AWS/Lambda",
        metricName: "Errors",
        dimensions: { FunctionName: poller.name },
        statistic: "Sum",
        period: 60,
        evaluationPeriods: 1,
        threshold: 1,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        treatMissingData: "notBreaching",
        alarmActions: [alarmTopic.arn],
        okActions: [alarmTopic.arn],
        tags,
    });
    pollerFunctionName = poller.name;
}

export const senderFunctionName = sender.name;
export const senderPollerFunctionName = pollerFunctionName;
export const consumedStreamArn = eventStreamArn;
export const decryptsWithKeyArn = kmsKeyArn;
