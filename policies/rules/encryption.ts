/**
 * Customer managed KMS encryption everywhere data rests: SQS (FIFO included), DynamoDB, SNS,
 * CloudWatch Logs, Lambda environment variables, S3 (SSE-KMS with a bucket key) and
 * Secrets Manager. AWS owned keys and `alias/aws/*` keys do not count (lib/kms.ts).
 */
import { resourcePolicy, stackPolicy, StackResource, T, BUCKET_TYPES, type ResourceProps } from "../lib/define";
import { customerManagedKeyProblem } from "../lib/kms";
import { isTrue, isUnknown, deferUntilKnown, toList } from "../lib/values";

const group = "encryption";

export const sqsEncryption = resourcePolicy({
    name: "sqs-customer-managed-kms",
    description: "SQS queues (standard and FIFO) are encrypted with a customer managed KMS key.",
    level: "mandatory",
    group,
    appliesTo: [T.sqsQueue],
    remediationSteps: "Set kmsMasterKeyId to the stack's EncryptionKey ARN (not alias/aws/sqs; sqsManagedSseEnabled does not count).",
    validate({ props, report }) {
        const problem = customerManagedKeyProblem(props.kmsMasterKeyId, "kmsMasterKeyId");
        if (problem)
            report(
                problem +
                    (isTrue(props.sqsManagedSseEnabled) ? " (sqsManagedSseEnabled uses an SQS-owned key, which does not count.)" : ""),
            );
    },
});

export const dynamodbEncryption = resourcePolicy({
    name: "dynamodb-customer-managed-kms",
    description: "DynamoDB tables (and their replicas) are encrypted with a customer managed KMS key.",
    level: "mandatory",
    group,
    appliesTo: [T.dynamoTable],
    remediationSteps: "Set serverSideEncryption: { enabled: true, kmsKeyArn: <customer managed key ARN> }.",
    validate({ props, report }) {
        const sse = props.serverSideEncryption;
        if (isUnknown(sse)) deferUntilKnown(sse);
        if (!sse || (!isTrue(sse.enabled) && !isUnknown(sse.enabled))) {
            report("serverSideEncryption is not enabled, so the table uses an AWS owned key; enable it with a customer managed kmsKeyArn.");
        } else {
            const problem = customerManagedKeyProblem(sse.kmsKeyArn, "serverSideEncryption.kmsKeyArn");
            if (problem) report(problem);
        }
        for (const [index, replica] of toList(props.replicas as ResourceProps[]).entries()) {
            if (isUnknown(replica)) continue;
            const problem = customerManagedKeyProblem(replica?.kmsKeyArn, `replicas[${index}].kmsKeyArn`);
            if (problem) report(problem);
        }
    },
});

export const snsEncryption = resourcePolicy({
    name: "sns-customer-managed-kms",
    description: "SNS topics are encrypted with a customer managed KMS key.",
    level: "mandatory",
    group,
    appliesTo: [T.snsTopic],
    remediationSteps: "Set kmsMasterKeyId to a customer managed key (not alias/aws/sns).",
    validate({ props, report }) {
        const problem = customerManagedKeyProblem(props.kmsMasterKeyId, "kmsMasterKeyId");
        if (problem) report(problem);
    },
});

export const eventBusEncryption = resourcePolicy({
    name: "eventbus-customer-managed-kms",
    description: "Custom EventBridge event buses are encrypted with a customer managed KMS key.",
    level: "mandatory",
    group,
    appliesTo: [T.eventBus],
    remediationSteps:
        "Set kmsKeyIdentifier to a customer managed key whose policy admits events.amazonaws.com for this bus (EncryptionKey eventBusNames).",
    validate({ props, report }) {
        // Without kmsKeyIdentifier EventBridge uses an AWS owned key (EventBridge User Guide, "KMS key options").
        const problem = customerManagedKeyProblem(props.kmsKeyIdentifier, "kmsKeyIdentifier");
        if (problem) report(problem);
    },
});

export const logGroupEncryption = resourcePolicy({
    name: "log-group-customer-managed-kms",
    description: "CloudWatch log groups are encrypted with a customer managed KMS key.",
    level: "mandatory",
    group,
    appliesTo: [T.logGroup],
    remediationSteps: "Set kmsKeyId to a customer managed key whose policy allows logs.<region>.amazonaws.com.",
    validate({ props, report }) {
        const problem = customerManagedKeyProblem(props.kmsKeyId, "kmsKeyId");
        if (problem) report(problem);
    },
});

export const lambdaEnvironmentEncryption = resourcePolicy({
    name: "lambda-environment-customer-managed-kms",
    description: "Lambda functions with environment variables encrypt them with a customer managed KMS key.",
    level: "mandatory",
    group,
    appliesTo: [T.lambdaFunction],
    remediationSteps: "Set kmsKeyArn on the function to a customer managed key.",
    validate({ props, report, args }) {
        const variables = props.environment?.variables;
        if (isUnknown(props.environment) || isUnknown(variables)) {
            // Unknown variables could still be present: the key must be set either way.
        } else if (!variables || Object.keys(variables).length === 0) {
            args.notApplicable("the function has no environment variables");
        }
        const problem = customerManagedKeyProblem(props.kmsKeyArn, "kmsKeyArn");
        if (problem) report(`${problem} Without it, environment variables are encrypted with the AWS managed key aws/lambda.`);
    },
});

export const secretEncryption = resourcePolicy({
    name: "secretsmanager-customer-managed-kms",
    description: "Secrets Manager secrets are encrypted with a customer managed KMS key.",
    level: "mandatory",
    group,
    appliesTo: [T.secret],
    remediationSteps: "Set kmsKeyId to a customer managed key (not alias/aws/secretsmanager), on every replica too.",
    validate({ props, report }) {
        const problem = customerManagedKeyProblem(props.kmsKeyId, "kmsKeyId");
        if (problem) report(problem);
        for (const [index, replica] of toList(props.replicas as ResourceProps[]).entries()) {
            if (isUnknown(replica)) continue;
            const replicaProblem = customerManagedKeyProblem(replica?.kmsKeyId, `replicas[${index}].kmsKeyId`);
            if (replicaProblem) report(replicaProblem);
        }
    },
});

interface SseRule {
    applyServerSideEncryptionByDefault?: { sseAlgorithm?: unknown; kmsMasterKeyId?: unknown };
    bucketKeyEnabled?: unknown;
}

function sseRuleProblems(rules: SseRule[], where: string): string[] {
    if (rules.length === 0) return [`${where} has no rule.`];
    const problems: string[] = [];
    for (const [index, rule] of rules.entries()) {
        if (isUnknown(rule)) continue;
        const by = rule?.applyServerSideEncryptionByDefault;
        const algorithm = by?.sseAlgorithm;
        const label = `${where} rule ${index}`;
        if (!isUnknown(algorithm) && algorithm !== "aws:kms" && algorithm !== "aws:kms:dsse") {
            problems.push(`${label} uses sseAlgorithm ${JSON.stringify(algorithm)}; use "aws:kms" with a customer managed key.`);
            continue;
        }
        const keyProblem = customerManagedKeyProblem(by?.kmsMasterKeyId, `${label} kmsMasterKeyId`);
        if (keyProblem) problems.push(keyProblem);
        if (!isTrue(rule.bucketKeyEnabled) && !isUnknown(rule.bucketKeyEnabled)) {
            problems.push(`${label} does not enable bucketKeyEnabled (S3 Bucket Keys cut KMS requests and cost).`);
        }
    }
    return problems;
}

export const s3Encryption = stackPolicy({
    name: "s3-customer-managed-kms",
    description: "S3 buckets use SSE-KMS with a customer managed key and an S3 Bucket Key.",
    level: "mandatory",
    group,
    appliesTo: [...BUCKET_TYPES, T.s3Encryption, T.s3EncryptionV2],
    remediationSteps:
        "Add aws.s3.BucketServerSideEncryptionConfiguration for the bucket with sseAlgorithm aws:kms, kmsMasterKeyId = customer managed key, bucketKeyEnabled = true.",
    validate({ ofType, referenced, report }) {
        const configs = ofType(T.s3Encryption, T.s3EncryptionV2);
        const configured = new Map<StackResource, StackResource[]>();
        for (const config of configs) {
            for (const problem of sseRuleProblems(toList(config.props.rules), "server-side encryption configuration"))
                report(problem, config);
            for (const bucket of referenced(config, "bucket", BUCKET_TYPES)) {
                configured.set(bucket, [...(configured.get(bucket) ?? []), config]);
            }
        }
        for (const bucket of ofType(...BUCKET_TYPES)) {
            const inline = bucket.props.serverSideEncryptionConfiguration;
            if (configured.has(bucket)) continue;
            if (inline && !isUnknown(inline)) {
                const rules = toList(inline.rules ?? inline.rule) as SseRule[];
                for (const problem of sseRuleProblems(rules, "serverSideEncryptionConfiguration")) report(problem, bucket);
                continue;
            }
            report(
                "has no server-side encryption configuration, so S3 uses SSE-S3 (an AWS owned key); add a BucketServerSideEncryptionConfiguration with a customer managed key.",
                bucket,
            );
        }
    },
});

export const encryptionPolicies = [
    sqsEncryption,
    dynamodbEncryption,
    snsEncryption,
    eventBusEncryption,
    logGroupEncryption,
    lambdaEnvironmentEncryption,
    s3Encryption,
    secretEncryption,
];
