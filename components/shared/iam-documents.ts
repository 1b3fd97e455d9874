/**
 * Every IAM, key, queue and topic policy document the program creates, as pure
 * functions of ARNs. Components render them with `pulumi.all(...).apply(...)`;
 * tests evaluate the rendered JSON of the registered resources with an IAM
 * simulator. Least privilege lives here, in one reviewable place.
 */

export type Effect = "Allow" | "Deny";
export type ConditionBlock = Record<string, Record<string, string | string[]>>;

export interface PolicyStatement {
    Sid?: string;
    Effect: Effect;
    Principal?: "*" | { AWS?: string | string[]; Service?: string | string[] };
    Action: string | string[];
    /** Absent only in trust policies. */
    Resource?: string | string[];
    Condition?: ConditionBlock;
}

export interface PolicyDocument {
    Version: "2012-10-17";
    Statement: PolicyStatement[];
}

/** Where a document applies: partition, region and account, never hard-coded. */
export interface AwsScope {
    partition: string;
    region: string;
    accountId: string;
}

/** Services that may use an {@link EncryptionKey}. */
export type KeyService = "sqs" | "dynamodb" | "sns" | "logs" | "lambda" | "cloudwatch" | "s3" | "secretsmanager" | "events";

/** Services that call KMS on behalf of a principal of this account (kms:ViaService). */
const VIA_SERVICES: readonly KeyService[] = ["sqs", "dynamodb", "sns", "lambda", "s3", "secretsmanager"];

export function viaService(service: string, scope: AwsScope): string {
    return `${service}.${scope.region}.amazonaws.com`;
}

function doc(...statements: PolicyStatement[]): PolicyDocument {
    return { Version: "2012-10-17", Statement: statements };
}

/** Actions that run a key's life cycle; granted to the account, never to a workload. */
export const KEY_ADMIN_ACTIONS = [
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListAliases",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListKeyRotations",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:RotateKeyOnDemand",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
] as const;

/** Cryptographic use of a key. */
export const KEY_USE_ACTIONS = [
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
] as const;

export interface KeyPolicyOptions {
    scope: AwsScope;
    /** Services allowed to use the key. */
    services: readonly KeyService[];
    /** `log-group:` ARN pattern CloudWatch Logs may encrypt for, e.g. `arn:aws:logs:eu-west-1:1234:log-group:/event-ingestion/dev/*`. */
    logGroupArnPattern: string;
    /**
     * SNS topics encrypted with the key that CloudWatch alarms publish to. With `cloudwatch` among the
     * services, CloudWatch may use the key only for these topics. @default none (no CloudWatch statement)
     */
    alarmTopicArns?: readonly string[];
    /**
     * Custom EventBridge buses encrypted with the key. With `events` among the services, EventBridge may use
     * the key only for these buses. @default none (no EventBridge statement)
     */
    eventBusArns?: readonly string[];
}

/**
 * The key policy: the account administers the key (so IAM, not the key policy,
 * decides who may manage it); principals of this account may use it only
 * through the listed services (kms:ViaService); service principals (CloudWatch
 * Logs, CloudWatch alarms, DynamoDB) only for this account's resources.
 */
export function keyPolicy(options: KeyPolicyOptions): PolicyDocument {
    const { scope, services } = options;
    const root = `arn:${scope.partition}:iam::${scope.accountId}:root`;
    const via = services.filter((service) => VIA_SERVICES.includes(service)).map((service) => viaService(service, scope));
    const statements: PolicyStatement[] = [
        { Sid: "AccountAdministersKey", Effect: "Allow", Principal: { AWS: root }, Action: [...KEY_ADMIN_ACTIONS], Resource: "*" },
    ];
    if (via.length > 0) {
        statements.push(
            {
                Sid: "AccountUsesKeyThroughServices",
                Effect: "Allow",
                Principal: { AWS: root },
                Action: [...KEY_USE_ACTIONS],
                Resource: "*",
                Condition: { StringEquals: { "kms:CallerAccount": scope.accountId, "kms:ViaService": via } },
            },
            {
                // DynamoDB tables, Lambda environments and SQS need grants the service creates and retires itself.
                Sid: "ServicesCreateGrantsForAwsResources",
                Effect: "Allow",
                Principal: { AWS: root },
                Action: ["kms:CreateGrant", "kms:RetireGrant"],
                Resource: "*",
                Condition: {
                    StringEquals: { "kms:CallerAccount": scope.accountId, "kms:ViaService": via },
                    Bool: { "kms:GrantIsForAWSResource": "true" },
                },
            },
        );
    }
    if (services.includes("dynamodb")) {
        statements.push({
            Sid: "DynamoDbDescribesKey",
            Effect: "Allow",
            Principal: { Service: "dynamodb.amazonaws.com" },
            Action: ["kms:DescribeKey"],
            Resource: "*",
            Condition: { StringEquals: { "aws:SourceAccount": scope.accountId } },
        });
    }
    if (services.includes("logs")) {
        statements.push({
            Sid: "CloudWatchLogsEncryptsThisStacksLogGroups",
            Effect: "Allow",
            Principal: { Service: `logs.${scope.region}.amazonaws.com` },
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
            Condition: { ArnLike: { "kms:EncryptionContext:aws:logs:arn": options.logGroupArnPattern } },
        });
    }
    if (services.includes("cloudwatch") && options.alarmTopicArns && options.alarmTopicArns.length > 0) {
        statements.push({
            // CloudWatch cannot publish to an encrypted SNS topic without these (Amazon SNS Developer Guide, "Key
            // management" > "Enable compatibility between event sources from AWS services and encrypted topics").
            // SNS encrypts each topic's messages with the encryption context aws:sns:topicArn = the topic's ARN
            // ("Data encryption" > "Encryption at rest"), so the key serves CloudWatch for our alarm topics only;
            // which alarms may publish is the topic policy's rule (aws:SourceArn, aws:SourceAccount: alarmTopicPolicy).
            Sid: "CloudWatchAlarmsPublishToEncryptedTopics",
            Effect: "Allow",
            Principal: { Service: "cloudwatch.amazonaws.com" },
            Action: ["kms:Decrypt", "kms:GenerateDataKey"],
            Resource: "*",
            Condition: { StringEquals: { "kms:EncryptionContext:aws:sns:topicArn": [...options.alarmTopicArns] } },
        });
    }
    if (services.includes("events") && options.eventBusArns && options.eventBusArns.length > 0) {
        // EventBridge encrypts a bus's events, rules and targets with the key and decrypts them to match
        // patterns, as events.amazonaws.com, with the encryption context aws:events:event-bus:arn = the bus's
        // ARN (EventBridge User Guide, "Authorizing EventBridge to use a customer managed key", "Event bus
        // encryption context"); DescribeKey checks the key when the bus is created or updated.
        statements.push(
            {
                Sid: "EventBridgeEncryptsTheseBuses",
                Effect: "Allow",
                Principal: { Service: "events.amazonaws.com" },
                Action: ["kms:Decrypt", "kms:GenerateDataKey"],
                Resource: "*",
                Condition: {
                    StringEquals: {
                        "aws:SourceAccount": scope.accountId,
                        "kms:EncryptionContext:aws:events:event-bus:arn": [...options.eventBusArns],
                    },
                },
            },
            {
                Sid: "EventBridgeDescribesKey",
                Effect: "Allow",
                Principal: { Service: "events.amazonaws.com" },
                Action: "kms:DescribeKey",
                Resource: "*",
                Condition: { StringEquals: { "aws:SourceAccount": scope.accountId } },
            },
        );
    }
    return doc(...statements);
}

/** Denies every request to the resources that does not use TLS. */
export function denyInsecureTransport(service: string, resources: string[]): PolicyStatement {
    return {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: `${service}:*`,
        Resource: resources,
        Condition: { Bool: { "aws:SecureTransport": "false" } },
    };
}

/** A queue's resource policy: TLS only. */
export function queuePolicy(queueArn: string): PolicyDocument {
    return doc(denyInsecureTransport("sqs", [queueArn]));
}

/** An alarm topic's policy: TLS only; CloudWatch alarms of this account and stack may publish. */
export function alarmTopicPolicy(topicArn: string, scope: AwsScope, alarmArnPattern: string): PolicyDocument {
    return doc(denyInsecureTransport("sns", [topicArn]), {
        Sid: "CloudWatchAlarmsPublish",
        Effect: "Allow",
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Action: "sns:Publish",
        Resource: topicArn,
        Condition: {
            StringEquals: { "aws:SourceAccount": scope.accountId },
            ArnLike: { "aws:SourceArn": alarmArnPattern },
        },
    });
}

/** The trust policy of a Lambda execution role: only the Lambda service assumes it. */
export function lambdaAssumeRolePolicy(): PolicyDocument {
    return doc({ Sid: "LambdaAssumesRole", Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" });
}

/**
 * Trust policy of a producer role: only the configured principals (account ids or IAM ARNs) may assume it,
 * and, when given, only with the agreed `sts:ExternalId` ("IAM roles: access to AWS accounts owned by third parties").
 */
export function producerTrustPolicy(principals: readonly string[], externalId?: string): PolicyDocument {
    return doc({
        Sid: "ConfiguredPrincipalsAssumeRole",
        Effect: "Allow",
        Principal: { AWS: [...principals] },
        Action: "sts:AssumeRole",
        ...(externalId ? { Condition: { StringEquals: { "sts:ExternalId": externalId } } } : {}),
    });
}

export interface ProcessorPolicyOptions {
    scope: AwsScope;
    queueArn: string;
    deadLetterQueueArn: string;
    tableArn: string;
    keyArn: string;
    logGroupArn: string;
    /** The sender-claim HMAC key, on a stack with producers: the processor signs rejects and verifies redriven letters. */
    senderClaimKeyArn?: string;
}

/** What the processor does with the sender-claim key: sign each reject's first sender, verify a redriven letter's claim. */
export const SENDER_CLAIM_PROCESSOR_ACTIONS = ["kms:GenerateMac", "kms:VerifyMac"] as const;
/** What the redrive operator does with it: sign a letter SQS moved (retries exhausted) for its own SenderId. */
export const SENDER_CLAIM_OPERATOR_ACTIONS = ["kms:GenerateMac"] as const;

/**
 * The sender-claim key's policy: the account administers the key, and principals of this account may
 * GenerateMac/VerifyMac with it only where an IAM policy also allows it (the processor's role and the
 * redrive operator policy). No producer policy names the key, so no producer can mint a claim.
 */
export function senderClaimKeyPolicy(scope: AwsScope): PolicyDocument {
    const root = `arn:${scope.partition}:iam::${scope.accountId}:root`;
    return doc(
        { Sid: "AccountAdministersKey", Effect: "Allow", Principal: { AWS: root }, Action: [...KEY_ADMIN_ACTIONS], Resource: "*" },
        {
            Sid: "AccountUsesKeyWhereIamAllows",
            Effect: "Allow",
            Principal: { AWS: root },
            Action: [...SENDER_CLAIM_PROCESSOR_ACTIONS],
            Resource: "*",
            Condition: { StringEquals: { "kms:CallerAccount": scope.accountId } },
        },
    );
}

/**
 * The redrive operator policy (attach it to whoever runs `npm run dlq -- redrive` on a stack with producers):
 * kms:GenerateMac on the sender-claim key, so the tool can sign a letter SQS moved for the producer that sent
 * it. It lets its holder name any producer as a letter's first sender, so it is an operator's, never a producer's.
 */
export function redriveOperatorPolicy(senderClaimKeyArn: string): PolicyDocument {
    return doc({ Sid: "SignRedrivenLetters", Effect: "Allow", Action: [...SENDER_CLAIM_OPERATOR_ACTIONS], Resource: senderClaimKeyArn });
}

/** Actions the event source mapping needs on the source queue. */
export const QUEUE_CONSUMER_ACTIONS = ["sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"] as const;
/**
 * Actions the processor performs on its table: a conditional PutItem per event,
 * and a GetItem of the stored content hash when DynamoDB does not return the old item.
 */
export const PROCESSOR_TABLE_ACTIONS = ["dynamodb:GetItem", "dynamodb:PutItem"] as const;
/** X-Ray's write actions support no resource-level permissions, so they are the one `Resource: "*"`. */
export const XRAY_WRITE_ACTIONS = ["xray:PutTelemetryRecords", "xray:PutTraceSegments"] as const;

/**
 * The event processor's inline policy: consume its queue, write rejected
 * events to its DLQ, put items into its table, use its key only through SQS and
 * DynamoDB, write to its own log group, send traces; with producers, sign and
 * verify sender claims with the claim key.
 */
export function processorPolicy(options: ProcessorPolicyOptions): PolicyDocument {
    return doc(
        { Sid: "ConsumeEventQueue", Effect: "Allow", Action: [...QUEUE_CONSUMER_ACTIONS], Resource: options.queueArn },
        { Sid: "RejectToDeadLetterQueue", Effect: "Allow", Action: "sqs:SendMessage", Resource: options.deadLetterQueueArn },
        { Sid: "StoreEvents", Effect: "Allow", Action: [...PROCESSOR_TABLE_ACTIONS], Resource: options.tableArn },
        {
            Sid: "UseKeyThroughSqsAndDynamoDb",
            Effect: "Allow",
            Action: ["kms:Decrypt", "kms:GenerateDataKey"],
            Resource: options.keyArn,
            Condition: { StringEquals: { "kms:ViaService": [viaService("sqs", options.scope), viaService("dynamodb", options.scope)] } },
        },
        {
            Sid: "WriteOwnLogs",
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
            Resource: `${options.logGroupArn}:log-stream:*`,
        },
        { Sid: "SendTraces", Effect: "Allow", Action: [...XRAY_WRITE_ACTIONS], Resource: "*" },
        ...(options.senderClaimKeyArn
            ? [
                  {
                      Sid: "SignAndVerifySenderClaims",
                      Effect: "Allow" as const,
                      Action: [...SENDER_CLAIM_PROCESSOR_ACTIONS],
                      Resource: options.senderClaimKeyArn,
                  },
              ]
            : []),
    );
}

/** For producers: send to the event queue, with the KMS calls SSE-KMS makes on their behalf. */
export function producerPolicy(scope: AwsScope, queueArn: string, keyArn: string): PolicyDocument {
    return queueSenderPolicy(scope, queueArn, keyArn, "SendEvents");
}

/**
 * Send to one SSE-KMS queue: `sqs:SendMessage` on it, and the KMS calls SQS makes on the
 * sender's behalf, only through SQS. `sendSid` names the send statement for its reader.
 */
export function queueSenderPolicy(scope: AwsScope, queueArn: string, keyArn: string, sendSid: string): PolicyDocument {
    return doc(
        { Sid: sendSid, Effect: "Allow", Action: "sqs:SendMessage", Resource: queueArn },
        {
            Sid: "EncryptThroughSqs",
            Effect: "Allow",
            Action: ["kms:Decrypt", "kms:GenerateDataKey"],
            Resource: keyArn,
            Condition: { StringEquals: { "kms:ViaService": viaService("sqs", scope) } },
        },
    );
}

/** Stream actions a consumer of the table's stream needs on the stream (a Lambda trigger or a stream client). */
export const STREAM_READ_ACTIONS = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"] as const;
/** `dynamodb:ListStreams` supports no resource-level permissions: granted on "*" or not at all (it lists stream ARNs only). */
export const STREAM_LIST_ACTIONS = ["dynamodb:ListStreams"] as const;

/** For the Sender's stream trigger: read the table's stream, decrypt through DynamoDB. */
export function streamReadPolicy(scope: AwsScope, streamArn: string, keyArn: string): PolicyDocument {
    return doc(
        { Sid: "ReadEventStream", Effect: "Allow", Action: [...STREAM_READ_ACTIONS], Resource: streamArn },
        { Sid: "ListStreams", Effect: "Allow", Action: [...STREAM_LIST_ACTIONS], Resource: "*" },
        {
            Sid: "DecryptThroughDynamoDb",
            Effect: "Allow",
            Action: "kms:Decrypt",
            Resource: keyArn,
            Condition: { StringEquals: { "kms:ViaService": viaService("dynamodb", scope) } },
        },
    );
}

/**
 * For the Sender's polling option: Query and GetItem on the table, Query on the arrival index when the
 * stack has one (`indexArn`: an index is a resource of its own, `<table ARN>/index/<name>`, and a grant
 * on the table does not cover it), decrypt through DynamoDB.
 */
export function tableReadPolicy(scope: AwsScope, tableArn: string, keyArn: string, indexArn?: string): PolicyDocument {
    return doc(
        { Sid: "QueryEvents", Effect: "Allow", Action: ["dynamodb:GetItem", "dynamodb:Query"], Resource: tableArn },
        ...(indexArn ? [{ Sid: "QueryArrivalIndex", Effect: "Allow" as const, Action: "dynamodb:Query", Resource: indexArn }] : []),
        {
            Sid: "DecryptThroughDynamoDb",
            Effect: "Allow",
            Action: "kms:Decrypt",
            Resource: keyArn,
            Condition: { StringEquals: { "kms:ViaService": viaService("dynamodb", scope) } },
        },
    );
}
