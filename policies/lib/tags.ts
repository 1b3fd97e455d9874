/**
 * Owner and cost-allocation tags: the keys every taggable resource must carry and the
 * resource types that take `tags`. The program tags from stack config
 * (components/shared/tagging.ts); the pack's `required-tags` rule enforces it. One list for
 * both, checked against @pulumi/aws's own Args types by tests/components/tagging.test.ts.
 * AWS: "Tagging best practices" (AWS Whitepaper), "Using AWS cost allocation tags" (Billing User Guide).
 */

/** Tag keys: `owner` (who answers for it) and `cost-center` (activate it as a cost allocation tag). */
export const REQUIRED_TAG_KEYS = { owner: "owner", costCenter: "cost-center" } as const;

/** Resource types the program (and its examples) create whose Args take `tags`. */
export const TAGGABLE_TYPES = [
    "aws:apigatewayv2/api:Api",
    "aws:apigatewayv2/stage:Stage",
    "aws:cloudwatch/eventBus:EventBus",
    "aws:cloudwatch/eventRule:EventRule",
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:cloudwatch/metricAlarm:MetricAlarm",
    "aws:dynamodb/table:Table",
    "aws:iam/policy:Policy",
    "aws:iam/role:Role",
    "aws:kms/key:Key",
    "aws:lambda/eventSourceMapping:EventSourceMapping",
    "aws:lambda/function:Function",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketV2:BucketV2",
    "aws:scheduler/scheduleGroup:ScheduleGroup",
    "aws:secretsmanager/secret:Secret",
    "aws:sesv2/configurationSet:ConfigurationSet",
    "aws:sesv2/emailIdentity:EmailIdentity",
    "aws:sns/topic:Topic",
    "aws:sqs/queue:Queue",
] as const;
