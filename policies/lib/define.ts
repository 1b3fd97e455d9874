/**
 * Small builders around `@pulumi/policy`'s policy types, so every rule reads the same way:
 * - props arrive resolved (plain data, unknowns as `Unknown` markers; see values.ts);
 * - each policy declares the resource types it `appliesTo` (used for fast filtering and for
 *   the policy × resource table of `npm run policy`);
 * - the enforcement level is a fixed property of the rule: "mandatory" rules cannot be
 *   relaxed by pack config (enforcement.ts), "advisory" rules can.
 */
import type {
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
    PolicyConfigSchema,
} from "@pulumi/policy";
import { deferUntilKnown, isUnknown, resolve, toList, Unknown } from "./values";

/** A resource's properties as the engine sends them: the policy SDK's own type for them. */
export type ResourceProps = PolicyResource["props"];

export type GuardrailLevel = "mandatory" | "advisory";

interface GuardrailMetadata {
    enforcementLevel: GuardrailLevel;
    /** resource types the rule looks at */
    appliesTo: readonly string[];
    /** `docs/policies.md` anchor-friendly rule group, e.g. "encryption" */
    group: string;
}

export type GuardrailResourcePolicy = ResourceValidationPolicy & GuardrailMetadata & { kind: "resource" };
export type GuardrailStackPolicy = StackValidationPolicy & GuardrailMetadata & { kind: "stack" };
export type GuardrailPolicy = GuardrailResourcePolicy | GuardrailStackPolicy;

interface CommonDefinition {
    name: string;
    description: string;
    level: GuardrailLevel;
    group: string;
    appliesTo: readonly string[];
    severity?: "low" | "medium" | "high" | "critical";
    remediationSteps?: string;
    /** advisory rules only: per-stack settings */
    configSchema?: PolicyConfigSchema;
}

/** The fields `@pulumi/policy` and our tooling read, the same for resource and stack policies. */
function policyMetadata(definition: CommonDefinition) {
    return {
        name: definition.name,
        description: definition.description,
        enforcementLevel: definition.level,
        group: definition.group,
        appliesTo: definition.appliesTo,
        severity: definition.severity ?? (definition.level === "mandatory" ? "high" : "low"),
        remediationSteps: definition.remediationSteps,
        configSchema: definition.configSchema,
    };
}

export interface ResourceContext {
    type: string;
    name: string;
    urn: string;
    /** inputs, resolved */
    props: ResourceProps;
    args: ResourceValidationArgs;
    report(message: string): void;
    /**
     * Notes a value this rule cannot judge until it is known. The rule goes on checking what it
     * can; when it returns, the first deferred value is raised as the SDK's UnknownValueError
     * (after any violations already reported), so preview shows "can't run during preview".
     */
    defer(value: Unknown): void;
    /** the policy's config (advisory rules) */
    config<T extends object>(): T;
}

export function resourcePolicy(definition: CommonDefinition & { validate(context: ResourceContext): void }): GuardrailResourcePolicy {
    const types = new Set(definition.appliesTo);
    const validateResource = (args: ResourceValidationArgs, reportViolation: ReportViolation): void => {
        if (!types.has(args.type)) {
            args.notApplicable(`applies to ${definition.appliesTo.join(", ")}`);
        }
        let pending: Unknown | undefined;
        definition.validate({
            type: args.type,
            name: args.name,
            urn: args.urn,
            props: resolve<ResourceProps>(args.props),
            args,
            report: (message) => reportViolation(message),
            defer: (value) => void (pending ??= value),
            config: <T extends object>() => args.getConfig<T>(),
        });
        if (pending) deferUntilKnown(pending);
    };
    return {
        kind: "resource",
        ...policyMetadata(definition),
        validateResource,
    };
}

/** A stack resource with resolved props (outputs). */
export interface StackResource {
    type: string;
    name: string;
    urn: string;
    props: ResourceProps;
    source: PolicyResource;
}

export interface StackContext {
    resources: StackResource[];
    ofType(...types: string[]): StackResource[];
    /**
     * The resources (of `types`) that `owner.props[prop]` refers to: by value (ARN, name, URL,
     * id), else through the engine's property dependencies (which also work while the value is
     * unknown during preview).
     */
    referenced(owner: StackResource, prop: string, types: readonly string[], value?: unknown): StackResource[];
    /** The resources of `types` whose ARN/name/URL/id equals `value`. */
    byIdentifier(value: unknown, types: readonly string[]): StackResource[];
    report(message: string, resource?: StackResource): void;
    /** See {@link ResourceContext.defer}: keep checking the other resources, defer at the end. */
    defer(value: Unknown): void;
    config<T extends object>(): T;
    args: StackValidationArgs;
}

/** Every way another resource's property can name this one. */
export function identifiersOf(resource: { type: string; props: ResourceProps }): string[] {
    const p = resource.props;
    const ids = [p.arn, p.id, p.name, p.url, p.bucket, p.keyId, p.qualifiedArn, p.dashboardName, p.streamArn].filter(
        (v): v is string => typeof v === "string" && v !== "",
    );
    return [...new Set(ids)];
}

/** Lambda `functionName` may be a name, ARN, or qualified ARN (`...:function:f:alias`). */
function normalizeLambdaReference(value: string): string[] {
    const match = /^(arn:[^:]+:lambda:[^:]+:[^:]+:function:[^:]+)(:[^:]+)?$/.exec(value);
    return match ? [value, match[1]] : [value];
}

export function stackPolicy(definition: CommonDefinition & { validate(context: StackContext): void }): GuardrailStackPolicy {
    const types = new Set(definition.appliesTo);
    const validateStack = (args: StackValidationArgs, reportViolation: ReportViolation): void => {
        const all: StackResource[] = args.resources.map((source) => ({
            type: source.type,
            name: source.name,
            urn: source.urn,
            props: resolve<ResourceProps>(source.props),
            source,
        }));
        if (!all.some((r) => types.has(r.type))) {
            args.notApplicable(`no ${definition.appliesTo.join(", ")} in the stack`);
        }
        const bySource = new Map(all.map((r) => [r.source, r]));
        const byIdentifier = (value: unknown, wanted: readonly string[]): StackResource[] => {
            if (typeof value !== "string" || value === "") return [];
            const candidates = normalizeLambdaReference(value);
            return all.filter((r) => wanted.includes(r.type) && identifiersOf(r).some((id) => candidates.includes(id)));
        };
        let pending: Unknown | undefined;
        definition.validate({
            defer: (value) => void (pending ??= value),
            resources: all,
            ofType: (...wanted) => all.filter((r) => wanted.includes(r.type)),
            byIdentifier,
            referenced(owner, prop, wanted, value = owner.props[prop]) {
                const found = new Set<StackResource>();
                for (const v of toList(value as unknown[])) {
                    if (!isUnknown(v)) for (const r of byIdentifier(v, wanted)) found.add(r);
                }
                if (found.size === 0) {
                    for (const dep of owner.source.propertyDependencies?.[prop] ?? []) {
                        const r = bySource.get(dep) ?? all.find((x) => x.urn === dep.urn);
                        if (r && wanted.includes(r.type)) found.add(r);
                    }
                }
                return [...found];
            },
            report: (message, resource) =>
                reportViolation(resource ? `${resource.name} (${resource.type}): ${message}` : message, resource?.urn),
            config: <T extends object>() => args.getConfig<T>(),
            args,
        });
        if (pending) deferUntilKnown(pending);
    };
    return {
        kind: "stack",
        ...policyMetadata(definition),
        validateStack,
    };
}

/** Resource type tokens the pack knows (one place, so a typo is a compile error). */
export const T = {
    kmsKey: "aws:kms/key:Key",
    kmsAlias: "aws:kms/alias:Alias",
    sqsQueue: "aws:sqs/queue:Queue",
    sqsQueuePolicy: "aws:sqs/queuePolicy:QueuePolicy",
    sqsRedrivePolicy: "aws:sqs/redrivePolicy:RedrivePolicy",
    sqsRedriveAllowPolicy: "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy",
    snsTopic: "aws:sns/topic:Topic",
    snsTopicPolicy: "aws:sns/topicPolicy:TopicPolicy",
    eventBus: "aws:cloudwatch/eventBus:EventBus",
    dynamoTable: "aws:dynamodb/table:Table",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
    metricAlarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
    lambdaFunction: "aws:lambda/function:Function",
    lambdaFunctionUrl: "aws:lambda/functionUrl:FunctionUrl",
    lambdaPermission: "aws:lambda/permission:Permission",
    eventSourceMapping: "aws:lambda/eventSourceMapping:EventSourceMapping",
    s3Bucket: "aws:s3/bucket:Bucket",
    s3BucketV2: "aws:s3/bucketV2:BucketV2",
    s3BucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
    s3Encryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    s3EncryptionV2: "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
    secret: "aws:secretsmanager/secret:Secret",
    iamRole: "aws:iam/role:Role",
    iamRolePolicy: "aws:iam/rolePolicy:RolePolicy",
    iamPolicy: "aws:iam/policy:Policy",
    iamUserPolicy: "aws:iam/userPolicy:UserPolicy",
    iamGroupPolicy: "aws:iam/groupPolicy:GroupPolicy",
    iamRolePolicyAttachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    iamUserPolicyAttachment: "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    iamGroupPolicyAttachment: "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
    iamPolicyAttachment: "aws:iam/policyAttachment:PolicyAttachment",
    iamRolePolicyAttachmentsExclusive: "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
    apiV2Api: "aws:apigatewayv2/api:Api",
    apiV2Route: "aws:apigatewayv2/route:Route",
    apiV2Stage: "aws:apigatewayv2/stage:Stage",
    restMethod: "aws:apigateway/method:Method",
    restStage: "aws:apigateway/stage:Stage",
    restMethodSettings: "aws:apigateway/methodSettings:MethodSettings",
} as const;

export const BUCKET_TYPES = [T.s3Bucket, T.s3BucketV2] as const;
