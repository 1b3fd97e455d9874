/**
 * AWS service contracts, simulated: every place where an AWS service acts on this stack's
 * resources, evaluated with the IAM simulator (tests/support/iam.ts) against the real
 * policies of the mocked deployment (identity, trust, key, queue, topic and bucket
 * policies), with the request context the service documents. Each case asserts the
 * service is allowed and that a near neighbour (another account, another schedule group,
 * another key, another queue, another alarm) is denied, and names the AWS documentation
 * page it follows in its title.
 */
import { expect } from "chai";
import { sharedDeployment, MOCK_ACCOUNT_ID, type MockDeployment } from "../../local/offline/mock-deployment";
import type { PolicyDocument } from "../../components/shared/iam-documents";
import { decide, type AccessRequest } from "../support/iam";
import { all, one, policyOf, keyPolicyOf } from "./helpers";

const REGION = "us-east-1";
const ACCOUNT = MOCK_ACCOUNT_ID;
const OTHER_ACCOUNT = "999999999999";

/** The documentation pages the cases follow (titles as AWS publishes them). */
export const DOCS = {
    schedulerConfusedDeputy: "EventBridge Scheduler User Guide: Confused deputy prevention in EventBridge Scheduler",
    schedulerExecutionRole: "EventBridge Scheduler User Guide: Setting up the execution role",
    sqsKeyManagement: "Amazon SQS Developer Guide: Amazon SQS key management (SSE-KMS permissions for producers and consumers)",
    snsEncryptionContext:
        "Amazon SNS Developer Guide: Data encryption, encryption at rest (SNS encrypts with the encryption context aws:sns:topicArn)",
    snsKeyManagement:
        "Amazon SNS Developer Guide: Key management (Enable compatibility between event sources from AWS services and encrypted topics)",
    cloudwatchAlarmSns: "Amazon CloudWatch User Guide: Confused deputy prevention (alarm actions to SNS: aws:SourceArn, aws:SourceAccount)",
    logsKms: "Amazon CloudWatch Logs User Guide: Encrypt log data in CloudWatch Logs using AWS Key Management Service",
    lambdaSqs: "AWS Lambda Developer Guide: Using Lambda with Amazon SQS (execution role permissions, encrypted queues)",
    apiGatewayLambda:
        "Amazon API Gateway Developer Guide: Create AWS Lambda proxy integrations for HTTP APIs (resource-based permission for API Gateway)",
    lambdaResourcePolicy: "AWS Lambda Developer Guide: Working with resource-based IAM policies in Lambda",
    eventBridgeLambda:
        "Amazon EventBridge User Guide: Using resource-based policies for Amazon EventBridge (Lambda permissions: events.amazonaws.com, aws:SourceArn = the rule)",
    apiGatewayIam:
        "Amazon API Gateway Developer Guide: Control access to HTTP APIs with IAM authorization (execute-api:Invoke resource ARNs)",
    dynamodbStreamsLambda: "AWS Lambda Developer Guide: Using Lambda with DynamoDB (execution role permissions for streams)",
    dynamodbKms: "Amazon DynamoDB Developer Guide: How Amazon DynamoDB uses AWS KMS (kms:ViaService)",
    kmsViaService: "AWS KMS Developer Guide: kms:ViaService condition key",
    s3SseKms: "Amazon S3 User Guide: Using server-side encryption with AWS KMS keys (SSE-KMS) (permissions to upload and download)",
    s3Tls: "Amazon S3 User Guide: Security best practices (enforce encryption of data in transit, aws:SecureTransport)",
    secretsKms: "AWS Secrets Manager User Guide: Secret encryption and decryption in AWS Secrets Manager",
    eventBridgeKms:
        "Amazon EventBridge User Guide: Authorizing EventBridge to use a customer managed key (events.amazonaws.com, kms:EncryptionContext:aws:events:event-bus:arn)",
    eventBridgePermissions:
        "Amazon EventBridge User Guide: Amazon EventBridge permissions reference (PutEvents on the bus; rule actions on rule/<bus>/<rule>)",
    lambdaStreamOnFailure:
        "AWS Lambda Developer Guide: Retaining discarded records for a DynamoDB event source in Lambda (on-failure destination)",
} as const;

const via = (service: string, account = ACCOUNT) => ({
    "kms:ViaService": `${service}.${REGION}.amazonaws.com`,
    "kms:CallerAccount": account,
});

describe("AWS service contracts, simulated on the deployed policies (dev, mocks)", function () {
    this.timeout(120_000);
    let d: MockDeployment;
    const keys = new Map<string, { arn: string; policy: PolicyDocument }>();
    const resourcePolicies = new Map<string, PolicyDocument>();

    /** The identity policy of a role (its inline RolePolicy) or a managed policy, by logical name. */
    function rolePolicy(name: string): PolicyDocument {
        return policyOf(one(d, "aws:iam/rolePolicy:RolePolicy", name).inputs.policy);
    }
    function managedPolicy(name: string): PolicyDocument {
        return policyOf(one(d, "aws:iam/policy:Policy", name).inputs.policy);
    }
    const roleArn = (name: string) => one(d, "aws:iam/role:Role", name).state.arn as string;
    const queueArn = (name: string) => one(d, "aws:sqs/queue:Queue", name).state.arn as string;

    /** One request by `principal`, with the resource's own policy (key, queue, topic, bucket, trust) as AWS would add it. */
    async function decision(
        principal: string,
        identityPolicies: PolicyDocument[],
        request: AccessRequest,
        resourcePolicy?: PolicyDocument,
    ) {
        return decide({ principal, identityPolicies, resourcePolicy: resourcePolicy ?? resourcePolicies.get(request.resource) }, request);
    }
    async function expectAllowed(
        principal: string,
        identityPolicies: PolicyDocument[],
        requests: AccessRequest[],
        resourcePolicy?: PolicyDocument,
    ) {
        const wrong: string[] = [];
        for (const r of requests) {
            const result = await decision(principal, identityPolicies, r, resourcePolicy);
            if (result !== "Allowed") wrong.push(`${r.action} on ${r.resource} ${JSON.stringify(r.context ?? {})} -> ${result}`);
        }
        expect(wrong, `${principal}: requests the service makes must be allowed`).to.deep.equal([]);
    }
    async function expectDenied(
        principal: string,
        identityPolicies: PolicyDocument[],
        requests: AccessRequest[],
        resourcePolicy?: PolicyDocument,
    ) {
        const wrong: string[] = [];
        for (const r of requests) {
            const result = await decision(principal, identityPolicies, r, resourcePolicy);
            if (result === "Allowed") wrong.push(`${r.action} on ${r.resource} ${JSON.stringify(r.context ?? {})} -> ${result}`);
        }
        expect(wrong, `${principal}: near neighbours must be denied`).to.deep.equal([]);
    }

    before(async () => {
        d = await sharedDeployment({ stack: "dev" });
        for (const name of ["events", "email"]) {
            const key = one(d, "aws:kms/key:Key", name);
            keys.set(name, { arn: key.state.arn, policy: keyPolicyOf(d, name) });
            resourcePolicies.set(key.state.arn, keyPolicyOf(d, name));
        }
        for (const qp of all(d, "aws:sqs/queuePolicy:QueuePolicy")) {
            const doc = policyOf(qp.inputs.policy);
            resourcePolicies.set(
                doc.Statement[0].Resource instanceof Array ? doc.Statement[0].Resource[0] : (doc.Statement[0].Resource as string),
                doc,
            );
        }
        const topicPolicy = one(d, "aws:sns/topicPolicy:TopicPolicy", "alarms-policy");
        resourcePolicies.set(topicPolicy.inputs.arn, policyOf(topicPolicy.inputs.policy));
        expect(resourcePolicies.get(queueArn("events")), "the event queue's policy is known").to.not.equal(undefined);
        expect(resourcePolicies.get(queueArn("email-queue")), "the email queue's policy is known").to.not.equal(undefined);
    });

    describe("EventBridge Scheduler releases due emails", () => {
        // Scheduler sets aws:SourceArn to the schedule GROUP's ARN and aws:SourceAccount to the owner.
        const groupArn = (group: string, account = ACCOUNT) => `arn:aws:scheduler:${REGION}:${account}:schedule-group/${group}`;

        it(`assumes its execution role for schedules of the group, and for nothing else [${DOCS.schedulerConfusedDeputy}]`, async () => {
            const role = one(d, "aws:iam/role:Role", "email-scheduler-role");
            const trust = policyOf(role.inputs.assumeRolePolicy);
            const group = one(d, "aws:scheduler/scheduleGroup:ScheduleGroup", "email-schedules").inputs.name as string;
            const assume = (context: Record<string, string>): AccessRequest => ({
                action: "sts:AssumeRole",
                resource: role.state.arn,
                context,
            });
            await expectAllowed(
                "scheduler.amazonaws.com",
                [],
                [assume({ "aws:SourceArn": groupArn(group), "aws:SourceAccount": ACCOUNT })],
                trust,
            );
            await expectDenied(
                "scheduler.amazonaws.com",
                [],
                [
                    // another group (the account's default group), another account's group of the same name
                    assume({ "aws:SourceArn": groupArn("default"), "aws:SourceAccount": ACCOUNT }),
                    assume({ "aws:SourceArn": groupArn(group, OTHER_ACCOUNT), "aws:SourceAccount": OTHER_ACCOUNT }),
                    assume({ "aws:SourceArn": groupArn(group), "aws:SourceAccount": OTHER_ACCOUNT }),
                    // a schedule's ARN is never what Scheduler sends: a trust scoped to it would never match
                    assume({
                        "aws:SourceArn": `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/${group}/email-1`,
                        "aws:SourceAccount": ACCOUNT,
                    }),
                ],
                trust,
            );
            // Only Scheduler: another service principal with the same context is refused.
            await expectDenied(
                "events.amazonaws.com",
                [],
                [assume({ "aws:SourceArn": groupArn(group), "aws:SourceAccount": ACCOUNT })],
                trust,
            );
        });

        it(`sends to the email FIFO queue through the email key, and to nothing else [${DOCS.schedulerExecutionRole}; ${DOCS.sqsKeyManagement}]`, async () => {
            const role = roleArn("email-scheduler-role");
            const policy = rolePolicy("email-scheduler-policy");
            const email = keys.get("email")!;
            await expectAllowed(
                role,
                [policy],
                [
                    { action: "sqs:SendMessage", resource: queueArn("email-queue") },
                    { action: "kms:GenerateDataKey", resource: email.arn, context: via("sqs") },
                    { action: "kms:Decrypt", resource: email.arn, context: via("sqs") },
                ],
            );
            await expectDenied(
                role,
                [policy],
                [
                    { action: "sqs:SendMessage", resource: queueArn("events") },
                    { action: "sqs:SendMessage", resource: queueArn("email-queue-dlq") },
                    { action: "sqs:SendMessage", resource: queueArn("email-queue"), context: { "aws:SecureTransport": "false" } },
                    { action: "kms:GenerateDataKey", resource: keys.get("events")!.arn, context: via("sqs") },
                    { action: "kms:GenerateDataKey", resource: email.arn, context: via("dynamodb") },
                    { action: "kms:GenerateDataKey", resource: email.arn },
                ],
            );
        });
    });

    describe("CloudWatch alarms notify through the encrypted alarm topic", () => {
        it(`publish to the topic only for this stack's alarms of this account [${DOCS.cloudwatchAlarmSns}]`, async () => {
            const topicArn = d.outputs.alarmTopicArn as string;
            const publish = (alarmName: string, account = ACCOUNT): AccessRequest => ({
                action: "sns:Publish",
                resource: topicArn,
                context: { "aws:SourceArn": `arn:aws:cloudwatch:${REGION}:${account}:alarm:${alarmName}`, "aws:SourceAccount": account },
            });
            const alarms = all(d, "aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => a.inputs.name as string);
            expect(alarms.length).to.be.greaterThan(8);
            await expectAllowed(
                "cloudwatch.amazonaws.com",
                [],
                alarms.map((a) => publish(a)),
            );
            await expectDenied(
                "cloudwatch.amazonaws.com",
                [],
                [
                    publish("event-ingestion-dev-2/events-processor-errors"), // another stack's alarm
                    publish("someone-elses-alarm"),
                    publish(alarms[0], OTHER_ACCOUNT), // same name, another account
                ],
            );
        });

        // SNS encrypts a topic's messages with the encryption context aws:sns:topicArn = the topic's ARN, the context
        // AWS's key policy examples for encrypted topics condition on; the topic policy decides which alarms publish.
        it(`use the key the topic is encrypted with, for that topic's encryption context only [${DOCS.snsKeyManagement}; ${DOCS.snsEncryptionContext}]`, async () => {
            const events = keys.get("events")!;
            const topic = one(d, "aws:sns/topic:Topic", "alarms");
            expect(topic.inputs.kmsMasterKeyId, "the topic is encrypted with the events key").to.equal(events.arn);
            const context = (topicArn: string) => ({ "kms:EncryptionContext:aws:sns:topicArn": topicArn });
            await expectAllowed(
                "cloudwatch.amazonaws.com",
                [],
                [
                    { action: "kms:GenerateDataKey", resource: events.arn, context: context(topic.state.arn) },
                    { action: "kms:Decrypt", resource: events.arn, context: context(topic.state.arn) },
                ],
            );
            await expectDenied(
                "cloudwatch.amazonaws.com",
                [],
                [
                    // another topic encrypted with the same key (its own context), and no context at all
                    { action: "kms:GenerateDataKey", resource: events.arn, context: context(`${topic.state.arn}-other`) },
                    {
                        action: "kms:GenerateDataKey",
                        resource: events.arn,
                        context: context(`arn:aws:sns:${REGION}:${ACCOUNT}:someone-elses`),
                    },
                    { action: "kms:Decrypt", resource: events.arn },
                    // another key: the email key was never offered to CloudWatch
                    { action: "kms:GenerateDataKey", resource: keys.get("email")!.arn, context: context(topic.state.arn) },
                    { action: "kms:Encrypt", resource: events.arn, context: context(topic.state.arn) },
                    { action: "kms:ReEncryptTo", resource: events.arn, context: context(topic.state.arn) },
                ],
            );
        });
    });

    describe("CloudWatch Logs encrypts each log group with its stack key", () => {
        it(`encrypts and decrypts for every log group of the stack, with the log group ARN as encryption context [${DOCS.logsKms}]`, async () => {
            const keyOfGroup = new Map<string, string>(
                all(d, "aws:cloudwatch/logGroup:LogGroup").map((g) => [g.state.arn as string, g.inputs.kmsKeyId as string]),
            );
            // The processor, the email API, worker, status and notify functions, and the API's access logs.
            expect(keyOfGroup.size).to.equal(6);
            const logs = `logs.${REGION}.amazonaws.com`;
            for (const [groupArn, keyArn] of keyOfGroup) {
                const context = { "kms:EncryptionContext:aws:logs:arn": groupArn };
                const actions = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:DescribeKey"];
                await expectAllowed(
                    logs,
                    [],
                    actions.map((action) => ({ action, resource: keyArn, context })),
                );
                await expectDenied(
                    logs,
                    [],
                    [
                        // another stack's log group, another account's log group, a log group outside the prefix
                        {
                            action: "kms:GenerateDataKey",
                            resource: keyArn,
                            context: {
                                "kms:EncryptionContext:aws:logs:arn": groupArn.replace("/event-ingestion/dev/", "/event-ingestion/dev-2/"),
                            },
                        },
                        {
                            action: "kms:GenerateDataKey",
                            resource: keyArn,
                            context: { "kms:EncryptionContext:aws:logs:arn": groupArn.replace(`:${ACCOUNT}:`, `:${OTHER_ACCOUNT}:`) },
                        },
                        {
                            action: "kms:GenerateDataKey",
                            resource: keyArn,
                            context: {
                                "kms:EncryptionContext:aws:logs:arn": `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/other`,
                            },
                        },
                        // no encryption context at all
                        { action: "kms:GenerateDataKey", resource: keyArn },
                    ],
                );
            }
            // The CloudWatch Logs principal of another region is not the one the key names.
            const [groupArn, keyArn] = [...keyOfGroup][0];
            await expectDenied(
                "logs.eu-west-1.amazonaws.com",
                [],
                [{ action: "kms:GenerateDataKey", resource: keyArn, context: { "kms:EncryptionContext:aws:logs:arn": groupArn } }],
            );
        });
    });

    describe("Lambda's SQS pollers read their queues through the keys", () => {
        const mappings = [
            {
                mapping: "event-processor-events",
                role: "event-processor-role",
                policy: "event-processor-policy",
                queue: "events",
                key: "events",
                neighbourQueue: "email-queue",
                neighbourKey: "email",
            },
            {
                mapping: "email-worker-queue",
                role: "email-worker-role",
                policy: "email-worker-policy",
                queue: "email-queue",
                key: "email",
                neighbourQueue: "events",
                neighbourKey: "events",
            },
        ];
        for (const m of mappings) {
            it(`${m.mapping}: receives, deletes and decrypts with the function's role [${DOCS.lambdaSqs}; ${DOCS.sqsKeyManagement}]`, async () => {
                const esm = one(d, "aws:lambda/eventSourceMapping:EventSourceMapping", m.mapping);
                expect(esm.inputs.eventSourceArn).to.equal(queueArn(m.queue));
                const role = roleArn(m.role);
                const policy = rolePolicy(m.policy);
                const key = keys.get(m.key)!;
                await expectAllowed(
                    role,
                    [policy],
                    [
                        ...["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"].map((action) => ({
                            action,
                            resource: queueArn(m.queue),
                        })),
                        { action: "kms:Decrypt", resource: key.arn, context: via("sqs") },
                    ],
                );
                await expectDenied(
                    role,
                    [policy],
                    [
                        { action: "sqs:ReceiveMessage", resource: queueArn(m.neighbourQueue) },
                        { action: "sqs:ReceiveMessage", resource: queueArn(m.queue), context: { "aws:SecureTransport": "false" } },
                        { action: "kms:Decrypt", resource: keys.get(m.neighbourKey)!.arn, context: via("sqs") },
                        { action: "kms:Decrypt", resource: key.arn },
                        { action: "kms:Decrypt", resource: key.arn, context: via("sqs", OTHER_ACCOUNT) },
                    ],
                );
            });
        }
    });

    describe("API Gateway invokes the API function", () => {
        it(`only from this API's POST /v1/emails route [${DOCS.apiGatewayLambda}; ${DOCS.lambdaResourcePolicy}]`, async () => {
            const permission = one(d, "aws:lambda/permission:Permission", "email-http-invoke");
            const fn = one(d, "aws:lambda/function:Function", "email-api");
            expect(permission.inputs.function).to.equal(fn.state.name);
            // The statement Lambda's AddPermission writes into the function's resource policy.
            const functionPolicy: PolicyDocument = {
                Version: "2012-10-17",
                Statement: [
                    {
                        Effect: "Allow",
                        Principal: { Service: permission.inputs.principal },
                        Action: permission.inputs.action,
                        Resource: fn.state.arn,
                        Condition: { ArnLike: { "AWS:SourceArn": permission.inputs.sourceArn } },
                    },
                ],
            };
            const api = one(d, "aws:apigatewayv2/api:Api", "email-http").state.executionArn as string;
            const invoke = (sourceArn: string): AccessRequest => ({
                action: "lambda:InvokeFunction",
                resource: fn.state.arn,
                context: { "aws:SourceArn": sourceArn },
            });
            await expectAllowed("apigateway.amazonaws.com", [], [invoke(`${api}/$default/POST/v1/emails`)], functionPolicy);
            await expectDenied(
                "apigateway.amazonaws.com",
                [],
                [
                    invoke(`${api}/$default/GET/v1/emails`), // another route
                    invoke(`arn:aws:execute-api:${REGION}:${ACCOUNT}:otherapi/$default/POST/v1/emails`), // another API
                    invoke(`arn:aws:execute-api:${REGION}:${OTHER_ACCOUNT}:${api.split(":").pop()}/$default/POST/v1/emails`), // another account
                ],
                functionPolicy,
            );
        });
    });

    describe("email statuses: GET /v1/emails/{id} and the status table", () => {
        it(`API Gateway invokes the API function from the GET /v1/emails/{id} route only [${DOCS.apiGatewayLambda}; ${DOCS.lambdaResourcePolicy}]`, async () => {
            const permission = one(d, "aws:lambda/permission:Permission", "email-http-invoke-status");
            const fn = one(d, "aws:lambda/function:Function", "email-api");
            expect(permission.inputs.function).to.equal(fn.state.name);
            const functionPolicy: PolicyDocument = {
                Version: "2012-10-17",
                Statement: [
                    {
                        Effect: "Allow",
                        Principal: { Service: permission.inputs.principal },
                        Action: permission.inputs.action,
                        Resource: fn.state.arn,
                        Condition: { ArnLike: { "AWS:SourceArn": permission.inputs.sourceArn } },
                    },
                ],
            };
            const api = one(d, "aws:apigatewayv2/api:Api", "email-http").state.executionArn as string;
            const invoke = (sourceArn: string): AccessRequest => ({
                action: "lambda:InvokeFunction",
                resource: fn.state.arn,
                context: { "aws:SourceArn": sourceArn },
            });
            await expectAllowed("apigateway.amazonaws.com", [], [invoke(`${api}/$default/GET/v1/emails/0190c5b2-aaaa`)], functionPolicy);
            await expectDenied(
                "apigateway.amazonaws.com",
                [],
                [
                    invoke(`${api}/$default/DELETE/v1/emails/0190c5b2-aaaa`), // another method
                    invoke(`${api}/$default/GET/v1/other/0190c5b2-aaaa`), // another path
                    invoke(`arn:aws:execute-api:${REGION}:${ACCOUNT}:otherapi/$default/GET/v1/emails/x`), // another API
                ],
                functionPolicy,
            );
        });

        it(`a client with the invoke policy may send, read statuses and cancel on this API, nothing else [${DOCS.apiGatewayIam}]`, async () => {
            const client = `arn:aws:iam::${ACCOUNT}:role/shop-service`;
            const policy = managedPolicy("email-invoke");
            const api = one(d, "aws:apigatewayv2/api:Api", "email-http").state.executionArn as string;
            await expectAllowed(
                client,
                [policy],
                [
                    { action: "execute-api:Invoke", resource: `${api}/$default/POST/v1/emails` },
                    { action: "execute-api:Invoke", resource: `${api}/$default/GET/v1/emails/0190c5b2-aaaa` },
                    { action: "execute-api:Invoke", resource: `${api}/$default/DELETE/v1/emails/0190c5b2-aaaa` },
                ],
            );
            await expectDenied(
                client,
                [policy],
                [
                    { action: "execute-api:Invoke", resource: `${api}/$default/PUT/v1/emails/0190c5b2-aaaa` },
                    { action: "execute-api:Invoke", resource: `${api}/$default/DELETE/v1/emails` },
                    { action: "execute-api:Invoke", resource: `${api}/$default/GET/v1/emails` },
                    {
                        action: "execute-api:Invoke",
                        resource: `arn:aws:execute-api:${REGION}:${ACCOUNT}:otherapi/$default/GET/v1/emails/x`,
                    },
                    { action: "execute-api:ManageConnections", resource: `${api}/$default/GET/v1/emails/x` },
                ],
            );
        });

        it(`the API reads and moves statuses forward, the worker only moves them forward; neither scans nor deletes [${DOCS.dynamodbKms}]`, async () => {
            const status = one(d, "aws:dynamodb/table:Table", "email-status").state.arn as string;
            const email = keys.get("email")!;
            const api = { role: roleArn("email-api-role"), policy: rolePolicy("email-api-policy") };
            const worker = { role: roleArn("email-worker-role"), policy: rolePolicy("email-worker-policy") };
            const useKey = [
                { action: "kms:Decrypt", resource: email.arn, context: via("dynamodb") },
                { action: "kms:GenerateDataKey", resource: email.arn, context: via("dynamodb") },
            ];
            await expectAllowed(
                api.role,
                [api.policy],
                [{ action: "dynamodb:GetItem", resource: status }, { action: "dynamodb:UpdateItem", resource: status }, ...useKey],
            );
            await expectAllowed(
                worker.role,
                [worker.policy],
                [{ action: "dynamodb:UpdateItem", resource: status }, { action: "dynamodb:BatchGetItem", resource: status }, ...useKey],
            );
            const neighbours = ["dynamodb:Scan", "dynamodb:Query", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:DeleteTable"].map(
                (action) => ({ action, resource: status }),
            );
            await expectDenied(api.role, [api.policy], neighbours);
            await expectDenied(worker.role, [worker.policy], [...neighbours, { action: "dynamodb:GetItem", resource: status }]);
            await expectDenied(
                api.role,
                [api.policy],
                [{ action: "kms:Decrypt", resource: keys.get("events")!.arn, context: via("dynamodb") }],
            );
        });
    });

    describe("SES events reach the status function", () => {
        it(`EventBridge invokes the status function from its rule only; the function writes statuses and its DLQ, nothing else [${DOCS.eventBridgeLambda}; ${DOCS.lambdaResourcePolicy}]`, async () => {
            const permission = one(d, "aws:lambda/permission:Permission", "email-status-invoke");
            const fn = one(d, "aws:lambda/function:Function", "email-status");
            const rule = one(d, "aws:cloudwatch/eventRule:EventRule", "email-status-rule").state.arn as string;
            const functionPolicy: PolicyDocument = {
                Version: "2012-10-17",
                Statement: [
                    {
                        Effect: "Allow",
                        Principal: { Service: permission.inputs.principal },
                        Action: permission.inputs.action,
                        Resource: fn.state.arn,
                        Condition: { ArnLike: { "AWS:SourceArn": permission.inputs.sourceArn } },
                    },
                ],
            };
            const invoke = (sourceArn: string): AccessRequest => ({
                action: "lambda:InvokeFunction",
                resource: fn.state.arn,
                context: { "aws:SourceArn": sourceArn },
            });
            await expectAllowed("events.amazonaws.com", [], [invoke(rule)], functionPolicy);
            await expectDenied(
                "events.amazonaws.com",
                [],
                [
                    invoke(`arn:aws:events:${REGION}:${ACCOUNT}:rule/another-rule`),
                    invoke(`arn:aws:events:${REGION}:${OTHER_ACCOUNT}:rule/email-status-rule`),
                ],
                functionPolicy,
            );
            const role = roleArn("email-status-role");
            const policy = rolePolicy("email-status-policy");
            const status = one(d, "aws:dynamodb/table:Table", "email-status").state.arn as string;
            const dlq = queueArn("email-status-dlq");
            const email = keys.get("email")!;
            await expectAllowed(
                role,
                [policy],
                [
                    { action: "dynamodb:UpdateItem", resource: status },
                    { action: "dynamodb:PutItem", resource: status },
                    { action: "sqs:SendMessage", resource: dlq },
                    { action: "kms:GenerateDataKey", resource: email.arn, context: via("sqs") },
                    { action: "kms:Decrypt", resource: email.arn, context: via("dynamodb") },
                ],
            );
            await expectDenied(
                role,
                [policy],
                [
                    { action: "dynamodb:GetItem", resource: status },
                    { action: "dynamodb:DeleteItem", resource: status },
                    { action: "dynamodb:UpdateItem", resource: one(d, "aws:dynamodb/table:Table", "email-idempotency").state.arn },
                    { action: "sqs:SendMessage", resource: queueArn("email-queue") },
                    { action: "sqs:SendMessage", resource: dlq, context: { "aws:SecureTransport": "false" } },
                    { action: "kms:Decrypt", resource: email.arn, context: via("s3") },
                    { action: "kms:Decrypt", resource: keys.get("events")!.arn, context: via("dynamodb") },
                ],
            );
        });
    });

    describe("status changes reach the status bus, and consumers subscribe to it", () => {
        const CONSUMER = `arn:aws:iam::${ACCOUNT}:role/crm-team-role`;
        const busArn = () => d.outputs.emailStatusEventBusArn as string;
        const busContext = (arn: string, account = ACCOUNT) => ({
            "kms:EncryptionContext:aws:events:event-bus:arn": arn,
            "aws:SourceAccount": account,
        });

        it(`EventBridge may use the email key for the status bus only [${DOCS.eventBridgeKms}]`, async () => {
            const email = keys.get("email")!;
            expect(busArn(), "stack output emailStatusEventBusArn").to.match(/:event-bus\/event-ingestion-dev-email-status$/);
            await expectAllowed(
                "events.amazonaws.com",
                [],
                [
                    { action: "kms:GenerateDataKey", resource: email.arn, context: busContext(busArn()) },
                    { action: "kms:Decrypt", resource: email.arn, context: busContext(busArn()) },
                    { action: "kms:DescribeKey", resource: email.arn, context: { "aws:SourceAccount": ACCOUNT } },
                ],
            );
            await expectDenied(
                "events.amazonaws.com",
                [],
                [
                    {
                        action: "kms:Decrypt",
                        resource: email.arn,
                        context: busContext(`arn:aws:events:${REGION}:${ACCOUNT}:event-bus/another-bus`),
                    },
                    { action: "kms:Decrypt", resource: email.arn, context: busContext(busArn(), OTHER_ACCOUNT) },
                    { action: "kms:GenerateDataKey", resource: keys.get("events")!.arn, context: busContext(busArn()) },
                    { action: "kms:Decrypt", resource: email.arn, context: { "aws:SourceAccount": ACCOUNT } },
                ],
            );
        });

        it(`the notify function reads the status stream, publishes to the bus and parks failures in its DLQ, nothing else [${DOCS.dynamodbStreamsLambda}; ${DOCS.eventBridgePermissions}; ${DOCS.lambdaStreamOnFailure}]`, async () => {
            const role = roleArn("email-status-notify-role");
            const policy = rolePolicy("email-status-notify-policy");
            const statusTable = one(d, "aws:dynamodb/table:Table", "email-status");
            const stream = statusTable.state.streamArn as string;
            expect(stream, "the status table has a stream").to.be.a("string");
            const dlq = queueArn("email-notify-dlq");
            const email = keys.get("email")!;
            await expectAllowed(
                role,
                [policy],
                [
                    ...["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"].map((action) => ({
                        action,
                        resource: stream,
                    })),
                    { action: "dynamodb:ListStreams", resource: "*" },
                    { action: "events:PutEvents", resource: busArn() },
                    { action: "sqs:SendMessage", resource: dlq },
                    { action: "kms:Decrypt", resource: email.arn, context: via("dynamodb") },
                    { action: "kms:GenerateDataKey", resource: email.arn, context: via("sqs") },
                ],
            );
            await expectDenied(
                role,
                [policy],
                [
                    { action: "dynamodb:GetItem", resource: statusTable.state.arn },
                    { action: "dynamodb:GetRecords", resource: d.outputs.eventStreamArn as string },
                    { action: "events:PutEvents", resource: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default` },
                    { action: "events:PutRule", resource: `arn:aws:events:${REGION}:${ACCOUNT}:rule/event-ingestion-dev-email-status/x` },
                    { action: "sqs:SendMessage", resource: queueArn("email-status-dlq") },
                    { action: "sqs:SendMessage", resource: dlq, context: { "aws:SecureTransport": "false" } },
                    { action: "kms:Decrypt", resource: email.arn, context: via("s3") },
                    { action: "kms:Decrypt", resource: keys.get("events")!.arn, context: via("dynamodb") },
                ],
            );
        });

        it(`a consumer with emailStatusSubscribePolicyArn manages its own rules and targets on the status bus only [${DOCS.eventBridgePermissions}]`, async () => {
            const policy = managedPolicy("email-status-subscribe");
            expect(d.outputs.emailStatusSubscribePolicyArn, "stack output").to.equal(
                one(d, "aws:iam/policy:Policy", "email-status-subscribe").state.arn,
            );
            const busName = busArn().split(":event-bus/")[1];
            const rule = `arn:aws:events:${REGION}:${ACCOUNT}:rule/${busName}/crm-delivered`;
            await expectAllowed(
                CONSUMER,
                [policy],
                [
                    ...[
                        "events:PutRule",
                        "events:PutTargets",
                        "events:RemoveTargets",
                        "events:DeleteRule",
                        "events:DescribeRule",
                        "events:ListTargetsByRule",
                        "events:EnableRule",
                        "events:DisableRule",
                        "events:TagResource",
                    ].map((action) => ({ action, resource: rule })),
                    { action: "events:DescribeEventBus", resource: busArn() },
                ],
            );
            await expectDenied(
                CONSUMER,
                [policy],
                [
                    { action: "events:PutEvents", resource: busArn() },
                    { action: "events:DeleteEventBus", resource: busArn() },
                    { action: "events:PutRule", resource: `arn:aws:events:${REGION}:${ACCOUNT}:rule/crm-on-default-bus` },
                    { action: "events:PutRule", resource: `arn:aws:events:${REGION}:${ACCOUNT}:rule/another-bus/crm` },
                    { action: "events:PutRule", resource: `arn:aws:events:${REGION}:${OTHER_ACCOUNT}:rule/${busName}/crm` },
                    { action: "kms:Decrypt", resource: keys.get("email")!.arn, context: via("dynamodb") },
                ],
            );
        });
    });

    describe("the Sender reads the event stream or the table (exported policies)", () => {
        const SENDER = `arn:aws:iam::${ACCOUNT}:role/sender-team-role`;
        it(`a stream trigger reads the stream and decrypts through DynamoDB [${DOCS.dynamodbStreamsLambda}; ${DOCS.dynamodbKms}]`, async () => {
            const policy = managedPolicy("events-stream-read");
            const stream = d.outputs.eventStreamArn as string;
            const events = keys.get("events")!;
            await expectAllowed(
                SENDER,
                [policy],
                [
                    ...["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"].map((action) => ({
                        action,
                        resource: stream,
                    })),
                    { action: "dynamodb:ListStreams", resource: "*" },
                    { action: "kms:Decrypt", resource: events.arn, context: via("dynamodb") },
                ],
            );
            await expectDenied(
                SENDER,
                [policy],
                [
                    {
                        action: "dynamodb:GetRecords",
                        resource: `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/someone-elses/stream/2026-01-01T00:00:00.000`,
                    },
                    { action: "kms:Decrypt", resource: keys.get("email")!.arn, context: via("dynamodb") },
                    { action: "kms:Decrypt", resource: events.arn, context: via("sqs") },
                    { action: "kms:Decrypt", resource: events.arn, context: via("dynamodb", OTHER_ACCOUNT) },
                ],
            );
        });
        it(`a poller queries the table and decrypts through DynamoDB [${DOCS.dynamodbKms}; ${DOCS.kmsViaService}]`, async () => {
            const policy = managedPolicy("events-table-read");
            const table = d.outputs.eventTableArn as string;
            const events = keys.get("events")!;
            await expectAllowed(
                SENDER,
                [policy],
                [
                    { action: "dynamodb:Query", resource: table },
                    { action: "dynamodb:GetItem", resource: table },
                    { action: "kms:Decrypt", resource: events.arn, context: via("dynamodb") },
                ],
            );
            await expectDenied(
                SENDER,
                [policy],
                [
                    { action: "dynamodb:PutItem", resource: table },
                    { action: "dynamodb:Query", resource: one(d, "aws:dynamodb/table:Table", "email-idempotency").state.arn },
                    { action: "kms:Decrypt", resource: keys.get("email")!.arn, context: via("dynamodb") },
                ],
            );
        });
    });

    describe("producers send events", () => {
        it(`send to the event queue, encrypting through SQS with the events key [${DOCS.sqsKeyManagement}; ${DOCS.kmsViaService}]`, async () => {
            const producer = `arn:aws:iam::${ACCOUNT}:role/producer-role`;
            const policy = managedPolicy("events-producer");
            const events = keys.get("events")!;
            await expectAllowed(
                producer,
                [policy],
                [
                    { action: "sqs:SendMessage", resource: queueArn("events") },
                    { action: "kms:GenerateDataKey", resource: events.arn, context: via("sqs") },
                    { action: "kms:Decrypt", resource: events.arn, context: via("sqs") },
                ],
            );
            await expectDenied(
                producer,
                [policy],
                [
                    { action: "sqs:SendMessage", resource: queueArn("events-dlq") },
                    { action: "sqs:SendMessage", resource: queueArn("email-queue") },
                    { action: "sqs:SendMessage", resource: queueArn("events"), context: { "aws:SecureTransport": "false" } },
                    { action: "kms:GenerateDataKey", resource: keys.get("email")!.arn, context: via("sqs") },
                    { action: "kms:GenerateDataKey", resource: events.arn, context: via("sqs", OTHER_ACCOUNT) },
                ],
            );
        });
    });

    describe("the email worker keeps content in S3 and reads the SMTP secret", () => {
        it(`reads, writes and deletes offloaded content under its prefix, through S3 with the email key, over TLS only [${DOCS.s3SseKms}; ${DOCS.s3Tls}]`, async () => {
            const role = roleArn("email-worker-role");
            const policy = rolePolicy("email-worker-policy");
            const bucket = one(d, "aws:s3/bucket:Bucket", "email-content").state.arn as string;
            const bucketPolicy = policyOf(one(d, "aws:s3/bucketPolicy:BucketPolicy", "email-content-tls-only").inputs.policy);
            const email = keys.get("email")!;
            const object = `${bucket}/emails/0190c5b2-aaaa-7000-8000-000000000000.json`;
            await expectAllowed(
                role,
                [policy],
                ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"].map((action) => ({ action, resource: object })),
                bucketPolicy,
            );
            await expectAllowed(
                role,
                [policy],
                [
                    { action: "kms:GenerateDataKey", resource: email.arn, context: via("s3") },
                    { action: "kms:Decrypt", resource: email.arn, context: via("s3") },
                ],
            );
            await expectDenied(
                role,
                [policy],
                [
                    { action: "s3:GetObject", resource: `${bucket}/elsewhere/x.json` },
                    { action: "s3:GetObject", resource: object, context: { "aws:SecureTransport": "false" } },
                    { action: "s3:GetObject", resource: `arn:aws:s3:::someone-elses-bucket/emails/x.json` },
                ],
                bucketPolicy,
            );
            await expectDenied(
                role,
                [policy],
                [
                    { action: "kms:Decrypt", resource: keys.get("events")!.arn, context: via("s3") },
                    { action: "kms:Decrypt", resource: email.arn, context: via("sns") },
                ],
            );
        });

        it(`reads the SMTP secret and decrypts it through Secrets Manager with the email key [${DOCS.secretsKms}]`, async () => {
            const role = roleArn("email-worker-role");
            const policy = rolePolicy("email-worker-policy");
            const secret = one(d, "aws:secretsmanager/secret:Secret", "email-smtp");
            const email = keys.get("email")!;
            expect(secret.inputs.kmsKeyId).to.equal(email.arn);
            await expectAllowed(
                role,
                [policy],
                [
                    { action: "secretsmanager:GetSecretValue", resource: secret.state.arn },
                    { action: "kms:Decrypt", resource: email.arn, context: via("secretsmanager") },
                ],
            );
            await expectDenied(
                role,
                [policy],
                [
                    {
                        action: "secretsmanager:GetSecretValue",
                        resource: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:someone-elses-AbCdEf`,
                    },
                    { action: "secretsmanager:PutSecretValue", resource: secret.state.arn },
                    { action: "kms:Decrypt", resource: keys.get("events")!.arn, context: via("secretsmanager") },
                    { action: "kms:Decrypt", resource: email.arn, context: via("secretsmanager", OTHER_ACCOUNT) },
                ],
            );
            // The API function has no business with the secret.
            await expectDenied(
                roleArn("email-api-role"),
                [rolePolicy("email-api-policy")],
                [{ action: "secretsmanager:GetSecretValue", resource: secret.state.arn }],
            );
        });
    });
});
