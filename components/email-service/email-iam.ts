/**
 * The email service's IAM and resource policy documents, as pure functions of
 * ARNs (least privilege in one reviewable place, like iam-documents.ts).
 */
import {
    denyInsecureTransport,
    STREAM_LIST_ACTIONS,
    STREAM_READ_ACTIONS,
    queueSenderPolicy,
    viaService,
    XRAY_WRITE_ACTIONS,
    type AwsScope,
    type PolicyDocument,
    type PolicyStatement,
} from "../shared/iam-documents";
import { EMAIL_CONTENT_PREFIX, EMAIL_SCHEDULE_NAME_PREFIX } from "../../contracts/email-service";

function doc(...statements: PolicyStatement[]): PolicyDocument {
    return { Version: "2012-10-17", Statement: statements };
}

export interface EmailPolicyCommon {
    scope: AwsScope;
    keyArn: string;
    logGroupArn: string;
}

function logsAndTraces(options: EmailPolicyCommon): PolicyStatement[] {
    return [
        {
            Sid: "WriteOwnLogs",
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
            Resource: `${options.logGroupArn}:log-stream:*`,
        },
        { Sid: "SendTraces", Effect: "Allow", Action: [...XRAY_WRITE_ACTIONS], Resource: "*" },
    ];
}

function useKeyVia(options: EmailPolicyCommon, actions: string[], services: string[]): PolicyStatement {
    return {
        Sid: "UseKeyThroughServices",
        Effect: "Allow",
        Action: actions,
        Resource: options.keyArn,
        Condition: { StringEquals: { "kms:ViaService": services.map((service) => viaService(service, options.scope)) } },
    };
}

/**
 * API function: enqueue, keep idempotency keys, write offloaded content, record and read statuses, and
 * delete a cancelled email's schedule in the service's group. DeleteSchedule passes no role, so no
 * `iam:PassRole` (Service Authorization Reference, "Actions, resources, and condition keys for Amazon
 * EventBridge Scheduler": DeleteSchedule authorizes `scheduler:DeleteSchedule` alone, CreateSchedule also
 * `iam:PassRole`).
 */
export function emailApiPolicy(
    options: EmailPolicyCommon & {
        queueArn: string;
        tableArn: string;
        bucketArn: string;
        statusTableArn: string;
        /** The schedule group of `sendAt` schedules; omit for an API that cancels no schedule. */
        scheduleGroupName?: string;
    },
): PolicyDocument {
    const { scope } = options;
    return doc(
        { Sid: "EnqueueEmails", Effect: "Allow", Action: "sqs:SendMessage", Resource: options.queueArn },
        {
            Sid: "IdempotencyKeys",
            Effect: "Allow",
            Action: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
            Resource: options.tableArn,
        },
        { Sid: "EmailStatuses", Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:UpdateItem"], Resource: options.statusTableArn },
        { Sid: "OffloadLargeContent", Effect: "Allow", Action: "s3:PutObject", Resource: `${options.bucketArn}/${EMAIL_CONTENT_PREFIX}*` },
        ...(options.scheduleGroupName
            ? [
                  {
                      Sid: "DeleteCancelledSchedules",
                      Effect: "Allow" as const,
                      Action: "scheduler:DeleteSchedule",
                      Resource: scheduleArns(scope, options.scheduleGroupName),
                  },
              ]
            : []),
        useKeyVia(options, ["kms:Decrypt", "kms:GenerateDataKey"], ["sqs", "dynamodb", "s3"]),
        ...logsAndTraces(options),
    );
}

/** Worker function: consume, dead-letter, ledger, content, SMTP secret, SES, schedules. */
export function emailWorkerPolicy(
    options: EmailPolicyCommon & {
        queueArn: string;
        deadLetterQueueArn: string;
        tableArn: string;
        statusTableArn: string;
        bucketArn: string;
        secretArn: string;
        sesIdentityArns: string[];
        sesConfigurationSetArn?: string;
        scheduleGroupName: string;
        schedulerRoleArn: string;
    },
): PolicyDocument {
    const { scope } = options;
    return doc(
        {
            Sid: "ConsumeEmailQueue",
            Effect: "Allow",
            Action: ["sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"],
            Resource: options.queueArn,
        },
        { Sid: "RejectToDeadLetterQueue", Effect: "Allow", Action: "sqs:SendMessage", Resource: options.deadLetterQueueArn },
        { Sid: "DeliveryLedger", Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:PutItem"], Resource: options.tableArn },
        { Sid: "RecordEmailStatuses", Effect: "Allow", Action: "dynamodb:UpdateItem", Resource: options.statusTableArn },
        // Before each send: are any of the recipients suppressed (`suppressed#<hash>` items)?
        { Sid: "CheckSuppressions", Effect: "Allow", Action: "dynamodb:BatchGetItem", Resource: options.statusTableArn },
        {
            Sid: "OffloadedContent",
            Effect: "Allow",
            Action: ["s3:DeleteObject", "s3:GetObject", "s3:PutObject"],
            Resource: `${options.bucketArn}/${EMAIL_CONTENT_PREFIX}*`,
        },
        { Sid: "ReadSmtpSecret", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: options.secretArn },
        {
            Sid: "SendThroughSes",
            Effect: "Allow",
            Action: ["ses:SendEmail"],
            Resource: [...options.sesIdentityArns, ...(options.sesConfigurationSetArn ? [options.sesConfigurationSetArn] : [])],
        },
        {
            Sid: "ScheduleFutureEmails",
            Effect: "Allow",
            Action: "scheduler:CreateSchedule",
            Resource: scheduleArns(scope, options.scheduleGroupName),
        },
        {
            Sid: "PassSchedulerRole",
            Effect: "Allow",
            Action: "iam:PassRole",
            Resource: options.schedulerRoleArn,
            Condition: { StringEquals: { "iam:PassedToService": "scheduler.amazonaws.com" } },
        },
        useKeyVia(options, ["kms:Decrypt", "kms:GenerateDataKey"], ["sqs", "dynamodb", "s3", "secretsmanager"]),
        ...logsAndTraces(options),
    );
}

/** Status function: move statuses forward from SES events; send an event it could not record to its DLQ. */
export function emailStatusFunctionPolicy(
    options: EmailPolicyCommon & { statusTableArn: string; deadLetterQueueArn: string },
): PolicyDocument {
    return doc(
        { Sid: "RecordEmailStatuses", Effect: "Allow", Action: "dynamodb:UpdateItem", Resource: options.statusTableArn },
        // Permanent bounces and complaints: `suppressed#<hash>` items (conditional PutItem).
        { Sid: "SuppressAddresses", Effect: "Allow", Action: "dynamodb:PutItem", Resource: options.statusTableArn },
        { Sid: "DeadLetterUnrecordedEvents", Effect: "Allow", Action: "sqs:SendMessage", Resource: options.deadLetterQueueArn },
        useKeyVia(options, ["kms:Decrypt", "kms:GenerateDataKey"], ["sqs", "dynamodb"]),
        ...logsAndTraces(options),
    );
}

/**
 * Notify function: read the status table's stream (the event source mapping polls it with the function's
 * role: DescribeStream, GetRecords, GetShardIterator, ListStreams; Lambda Developer Guide, "Using AWS
 * Lambda with Amazon DynamoDB", execution role permissions), put status changes on the status bus (a
 * producer needs `events:PutEvents` on the bus ARN; EventBridge itself uses the bus's key, through the key
 * policy), and park the coordinates of records it gave up on in its DLQ (the mapping's on-failure
 * destination is sent with the function's role).
 */
export function emailStatusNotifierPolicy(
    options: EmailPolicyCommon & { statusStreamArn: string; eventBusArn: string; deadLetterQueueArn: string },
): PolicyDocument {
    return doc(
        { Sid: "ReadStatusStream", Effect: "Allow", Action: [...STREAM_READ_ACTIONS], Resource: options.statusStreamArn },
        { Sid: "ListStreams", Effect: "Allow", Action: [...STREAM_LIST_ACTIONS], Resource: "*" },
        { Sid: "PublishStatusChanges", Effect: "Allow", Action: "events:PutEvents", Resource: options.eventBusArn },
        { Sid: "DeadLetterUnpublishedRecords", Effect: "Allow", Action: "sqs:SendMessage", Resource: options.deadLetterQueueArn },
        useKeyVia(options, ["kms:Decrypt", "kms:GenerateDataKey"], ["sqs", "dynamodb"]),
        ...logsAndTraces(options),
    );
}

/** EventBridge actions on a bus's rules that a subscriber needs to create, inspect, pause and remove its own rule and targets. */
export const STATUS_SUBSCRIBER_RULE_ACTIONS = [
    "events:DeleteRule",
    "events:DescribeRule",
    "events:DisableRule",
    "events:EnableRule",
    "events:ListTargetsByRule",
    "events:PutRule",
    "events:PutTargets",
    "events:RemoveTargets",
    "events:TagResource",
] as const;

/**
 * For status-change consumers (stack output `emailStatusSubscribePolicyArn`): rules and their targets on the
 * status bus only (a rule on a custom bus is `rule/<bus name>/<rule name>`, Service Authorization Reference,
 * Amazon EventBridge, resource types), and DescribeEventBus on it. Not PutEvents: a consumer cannot forge a
 * status change. A target that needs a role (another bus, Step Functions) also needs `iam:PassRole` on it,
 * which is the consumer's own grant.
 */
export function emailStatusSubscribePolicy(eventBusArn: string): PolicyDocument {
    const [prefix, busName] = eventBusArn.split(":event-bus/");
    return doc(
        {
            Sid: "ManageRulesOnStatusBus",
            Effect: "Allow",
            Action: [...STATUS_SUBSCRIBER_RULE_ACTIONS],
            Resource: `${prefix}:rule/${busName}/*`,
        },
        { Sid: "DescribeStatusBus", Effect: "Allow", Action: "events:DescribeEventBus", Resource: eventBusArn },
    );
}

/**
 * The EventBridge pattern of the SES events of one configuration set: `source` aws.ses, the given
 * detail types, and `mail.tags."ses:configuration-set"` (SES tags every event with its configuration set).
 */
export function sesEventPattern(configurationSetName: string, detailTypes: readonly string[]): Record<string, unknown> {
    return {
        source: ["aws.ses"],
        "detail-type": [...detailTypes],
        detail: { mail: { tags: { "ses:configuration-set": [configurationSetName] } } },
    };
}

/** The ARNs of the email schedules (`email-*`) of a schedule group. */
function scheduleArns(scope: AwsScope, scheduleGroupName: string): string {
    return `arn:${scope.partition}:scheduler:${scope.region}:${scope.accountId}:schedule/${scheduleGroupName}/${EMAIL_SCHEDULE_NAME_PREFIX}*`;
}

/** The ARN of a schedule group: what EventBridge Scheduler sets `aws:SourceArn` to when it assumes a schedule's role. */
export function scheduleGroupArn(scope: AwsScope, scheduleGroupName: string): string {
    return `arn:${scope.partition}:scheduler:${scope.region}:${scope.accountId}:schedule-group/${scheduleGroupName}`;
}

/**
 * Trust policy of the role EventBridge Scheduler assumes: only for schedules of this
 * account in this schedule group. Scheduler sets `aws:SourceArn` to the schedule GROUP's
 * ARN (EventBridge Scheduler User Guide, "Confused deputy prevention"), so the condition
 * names the group exactly; an ARN of a schedule or a name prefix would never match and
 * every due schedule would fail to assume the role.
 */
export function schedulerAssumeRolePolicy(scope: AwsScope, scheduleGroupName: string): PolicyDocument {
    return doc({
        Sid: "SchedulerAssumesRole",
        Effect: "Allow",
        Principal: { Service: "scheduler.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: {
            StringEquals: { "aws:SourceAccount": scope.accountId, "aws:SourceArn": scheduleGroupArn(scope, scheduleGroupName) },
        },
    });
}

/**
 * What a due schedule does: put the released email back on the queue. EventBridge Scheduler also
 * delivers a schedule's dead-letter event with the schedule's execution role ("Configuring a
 * dead-letter queue for EventBridge Scheduler": the execution role needs `sqs:SendMessage` on the
 * DLQ), so the role may send to the schedule DLQ too, through the same key.
 */
export function schedulerTargetPolicy(
    scope: AwsScope,
    queueArn: string,
    keyArn: string,
    scheduleDeadLetterQueueArn: string,
): PolicyDocument {
    const release = queueSenderPolicy(scope, queueArn, keyArn, "ReleaseDueEmails");
    const [send, ...rest] = release.Statement;
    return doc(
        send,
        { Sid: "DeadLetterUndeliveredSchedules", Effect: "Allow", Action: "sqs:SendMessage", Resource: scheduleDeadLetterQueueArn },
        ...rest,
    );
}

/**
 * For API clients: call `POST /v1/emails`, `GET` and `DELETE /v1/emails/{id}` with SigV4 (the route ARNs; a
 * path parameter is `*` in the resource, "Control access to an HTTP API with IAM authorization").
 */
export function emailInvokePolicy(sendRouteArn: string, ...otherRouteArns: string[]): PolicyDocument {
    return doc(
        { Sid: "SendEmails", Effect: "Allow", Action: "execute-api:Invoke", Resource: sendRouteArn },
        ...(otherRouteArns.length > 0
            ? [{ Sid: "FollowEmails", Effect: "Allow" as const, Action: "execute-api:Invoke", Resource: otherRouteArns }]
            : []),
    );
}

/** The content bucket's policy: TLS only (default encryption with the key is set on the bucket itself). */
export function emailBucketPolicy(bucketArn: string): PolicyDocument {
    return doc(denyInsecureTransport("s3", [bucketArn, `${bucketArn}/*`]));
}
