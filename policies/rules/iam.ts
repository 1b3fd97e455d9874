/**
 * Least privilege IAM. Identity policies are read from every place a program can put one:
 * `aws.iam.Role.inlinePolicies`, `aws.iam.RolePolicy`, `aws.iam.Policy` (e.g. the exported
 * read policies), `aws.iam.UserPolicy`, `aws.iam.GroupPolicy`. Managed policy attachments are
 * read from `Role.managedPolicyArns` and the `*PolicyAttachment*` resources. Trust policies
 * are `Role.assumeRolePolicy`.
 *
 * Resource policies (queue/topic/bucket/key policies) are not identity policies: a KMS key
 * policy's `kms:*` for the account root is the documented default, and TLS denies use
 * `Principal: "*"`. tls.ts checks those.
 */
import { resourcePolicy, stackPolicy, ResourceContext, StackResource, T, type ResourceProps } from "../lib/define";
import {
    parsePolicyDocument,
    NormalizedStatement,
    isServiceWideAction,
    isPartialWildcardAction,
    isWildcardResource,
    principalEntries,
} from "../lib/iam-documents";
import { isUnscopableAction, LAMBDA_SERVICE_PRINCIPAL } from "../lib/catalog";
import { isUnknown, deferUntilKnown, toList, Unknown } from "../lib/values";

const group = "iam";

const IDENTITY_POLICY_TYPES = [T.iamRole, T.iamRolePolicy, T.iamPolicy, T.iamUserPolicy, T.iamGroupPolicy] as const;

interface LabeledDocument {
    label: string;
    document: unknown;
}

function identityDocuments(context: ResourceContext): LabeledDocument[] {
    const { type, props } = context;
    if (type === T.iamRole) {
        const inline = props.inlinePolicies;
        if (isUnknown(inline)) return [{ label: "inlinePolicies", document: inline }];
        return toList(inline as ResourceProps[]).map((p, index) => ({
            label: `inlinePolicies[${typeof p?.name === "string" ? JSON.stringify(p.name) : index}]`,
            document: isUnknown(p) ? p : p?.policy,
        }));
    }
    return [{ label: "policy", document: props.policy }];
}

/**
 * Runs `check` on every statement of every identity policy of the resource. Reports what is
 * known; if nothing was reported and part of a document was unknown, defers the policy to
 * `pulumi up` (see values.ts).
 */
function checkStatements(
    context: ResourceContext,
    check: (statement: NormalizedStatement, where: string, noteUnknown: (u: Unknown) => void) => string[],
): void {
    const documents = identityDocuments(context);
    if (context.type === T.iamRole && documents.length === 0) context.args.notApplicable("the role has no inline policies");
    let pending: Unknown | undefined;
    let reported = 0;
    for (const { label, document } of documents) {
        const parsed = parsePolicyDocument(document);
        if (parsed.kind === "unknown") {
            pending ??= parsed.unknown;
            continue;
        }
        if (parsed.kind === "absent") continue;
        if (parsed.kind === "invalid") {
            context.report(`${label} cannot be verified: ${parsed.reason}.`);
            reported++;
            continue;
        }
        for (const statement of parsed.statements) {
            for (const message of check(statement, `${label} ${statement.label}`, (u) => (pending ??= u))) {
                context.report(message);
                reported++;
            }
        }
    }
    if (pending && reported === 0) deferUntilKnown(pending);
}

export const noWildcardActions = resourcePolicy({
    name: "iam-no-wildcard-actions",
    description: 'IAM policies never allow "*" or a whole service ("sqs:*", "dynamodb:*").',
    level: "mandatory",
    group,
    appliesTo: IDENTITY_POLICY_TYPES,
    remediationSteps: "List the exact actions the code calls (e.g. dynamodb:PutItem, sqs:SendMessage).",
    validate(context) {
        checkStatements(context, (statement, where, noteUnknown) => {
            if (statement.effect !== "Allow") return [];
            const wild: string[] = [];
            for (const action of statement.actions) {
                if (isUnknown(action)) noteUnknown(action);
                else if (isServiceWideAction(action)) wild.push(action);
            }
            return wild.length ? [`${where} allows ${wild.map((a) => JSON.stringify(a)).join(", ")}.`] : [];
        });
    },
});

export const noWildcardResources = resourcePolicy({
    name: "iam-no-wildcard-resources",
    description: 'IAM policies never allow Resource "*", except for actions AWS cannot scope (documented list).',
    level: "mandatory",
    group,
    appliesTo: IDENTITY_POLICY_TYPES,
    remediationSteps:
        "Name the ARNs (queue, table, stream, key, log group). Put unscopable actions (lib/catalog.ts) in their own statement.",
    validate(context) {
        checkStatements(context, (statement, where, noteUnknown) => {
            if (statement.effect !== "Allow") return [];
            const wildcard = statement.resources.filter((r): r is string => !isUnknown(r) && isWildcardResource(r));
            if (wildcard.length === 0) return [];
            const scopable: string[] = [];
            for (const action of statement.actions) {
                if (isUnknown(action)) noteUnknown(action);
                else if (!isUnscopableAction(action)) scopable.push(action);
            }
            if (statement.actions.length === 0) scopable.push("NotAction (every other action)");
            return scopable.length
                ? [
                      `${where} allows ${scopable.map((a) => JSON.stringify(a)).join(", ")} on ${wildcard.map((r) => JSON.stringify(r)).join(", ")}; only actions AWS cannot scope may use a wildcard resource.`,
                  ]
                : [];
        });
    },
});

export const noNotActionOrNotResource = resourcePolicy({
    name: "iam-no-allow-with-not-action-or-not-resource",
    description: "IAM policies never combine Allow with NotAction or NotResource.",
    level: "mandatory",
    group,
    appliesTo: IDENTITY_POLICY_TYPES,
    remediationSteps: "Rewrite the statement as an Allow of explicit Action and Resource lists.",
    validate(context) {
        checkStatements(context, (statement, where) => {
            if (statement.effect !== "Allow") return [];
            const used = [statement.notActions.length ? "NotAction" : "", statement.notResources.length ? "NotResource" : ""].filter(
                Boolean,
            );
            return used.length ? [`${where} is an Allow with ${used.join(" and ")}, which grants everything not listed.`] : [];
        });
    },
});

export const noPartialWildcardActions = resourcePolicy({
    name: "iam-no-partial-wildcard-actions",
    description: 'IAM policies avoid wildcards inside action names ("dynamodb:Get*").',
    level: "advisory",
    group,
    appliesTo: IDENTITY_POLICY_TYPES,
    configSchema: {
        properties: {
            allowedPatterns: {
                type: "array",
                items: { type: "string" },
                default: [],
                description: 'Wildcard actions this stack accepts, e.g. ["logs:Describe*"].',
            },
        },
    },
    validate(context) {
        const allowed = new Set((context.config<{ allowedPatterns?: string[] }>().allowedPatterns ?? []).map((a) => a.toLowerCase()));
        checkStatements(context, (statement, where) => {
            if (statement.effect !== "Allow") return [];
            const partial = statement.actions.filter(
                (a): a is string => !isUnknown(a) && isPartialWildcardAction(a) && !allowed.has(a.toLowerCase()),
            );
            return partial.length ? [`${where} allows ${partial.map((a) => JSON.stringify(a)).join(", ")}; list the actions instead.`] : [];
        });
    },
});

/** SES sending actions: SES authorizes them against the sending identity (and the configuration set). */
const SES_SEND_ACTIONS = new Set([
    "ses:sendemail",
    "ses:sendrawemail",
    "ses:sendtemplatedemail",
    "ses:sendbulkemail",
    "ses:sendbulktemplatedemail",
]);

export const sesSendScopedToIdentities = resourcePolicy({
    name: "ses-send-scoped-to-identities",
    description:
        "IAM policies allow sending through SES only as named identities (no identity wildcard), so a role cannot send as any sender of the account.",
    level: "advisory",
    group,
    appliesTo: IDENTITY_POLICY_TYPES,
    remediationSteps:
        "Declare the sending identities (emailSesIdentities) and allow ses:SendEmail on their ARNs and the configuration set's ARN only.",
    validate(context) {
        checkStatements(context, (statement, where) => {
            if (statement.effect !== "Allow") return [];
            const sends = statement.actions.filter(
                (a): a is string => !isUnknown(a) && (SES_SEND_ACTIONS.has(a.toLowerCase()) || /^ses:(\*|send\*)$/i.test(a)),
            );
            if (sends.length === 0) return [];
            const open = statement.resources.filter(
                (r): r is string => !isUnknown(r) && (/^[*?]+$/.test(r.trim()) || /:identity\/[^:]*[*?]/.test(r)),
            );
            return open.length
                ? [
                      `${where} allows ${sends.map((a) => JSON.stringify(a)).join(", ")} as any identity (${open.map((r) => JSON.stringify(r)).join(", ")}); name the identities.`,
                  ]
                : [];
        });
    },
});

const AWS_MANAGED_POLICY = /^arn:aws[a-z-]*:iam::aws:policy\//i;

export const noAwsManagedPolicies = resourcePolicy({
    name: "iam-no-aws-managed-policies",
    description: "Roles, users and groups never get AWS managed policies (the *FullAccess family and its kind).",
    level: "mandatory",
    group,
    appliesTo: [
        T.iamRole,
        T.iamRolePolicyAttachment,
        T.iamUserPolicyAttachment,
        T.iamGroupPolicyAttachment,
        T.iamPolicyAttachment,
        T.iamRolePolicyAttachmentsExclusive,
    ],
    remediationSteps:
        "Replace the managed policy with an inline policy that lists the exact actions and ARNs (e.g. instead of AWSLambdaBasicExecutionRole, allow logs:CreateLogStream/PutLogEvents on the function's log group).",
    validate({ type, props, report, args }) {
        const arns: unknown[] =
            type === T.iamRole
                ? toList(props.managedPolicyArns)
                : type === T.iamRolePolicyAttachmentsExclusive
                  ? toList(props.policyArns)
                  : [props.policyArn];
        if (type === T.iamRole && arns.length === 0) args.notApplicable("the role has no managed policies");
        // A computed ARN is the ARN of a customer managed policy this stack creates:
        // AWS managed policies have fixed, known ARNs.
        const managed = arns.filter((arn): arn is string => typeof arn === "string" && AWS_MANAGED_POLICY.test(arn));
        for (const arn of managed) report(`attaches the AWS managed policy ${arn}.`);
    },
});

/**
 * Who is meant to assume a role, from what uses it: the function's `role`, a schedule's
 * `target.roleArn`, an integration's `credentialsArn`, ... A role used by several kinds of
 * resource may trust each of their services, and nothing else.
 */
const ROLE_USERS: { type: string; prop: string; roleOf(props: ResourceProps): unknown; principal: string }[] = [
    { type: T.lambdaFunction, prop: "role", roleOf: (p) => p.role, principal: LAMBDA_SERVICE_PRINCIPAL },
    { type: "aws:scheduler/schedule:Schedule", prop: "target", roleOf: (p) => p.target?.roleArn, principal: "scheduler.amazonaws.com" },
    {
        type: "aws:apigatewayv2/integration:Integration",
        prop: "credentialsArn",
        roleOf: (p) => p.credentialsArn,
        principal: "apigateway.amazonaws.com",
    },
    {
        type: "aws:apigateway/account:Account",
        prop: "cloudwatchRoleArn",
        roleOf: (p) => p.cloudwatchRoleArn,
        principal: "apigateway.amazonaws.com",
    },
    { type: "aws:sfn/stateMachine:StateMachine", prop: "roleArn", roleOf: (p) => p.roleArn, principal: "states.amazonaws.com" },
    { type: "aws:pipes/pipe:Pipe", prop: "roleArn", roleOf: (p) => p.roleArn, principal: "pipes.amazonaws.com" },
];

/**
 * Tag that marks a producer role (tenant isolation): its trust policy names the AWS principals
 * (account ids or IAM ARNs) that send events for its tenants, not a service.
 */
export const PRODUCER_ROLE_TAG = "event-ingestion:producer";
/** An exact account id or IAM role/user/root ARN: no wildcard, no "*". */
const EXACT_AWS_PRINCIPAL = /^(\d{12}|arn:aws[a-z-]*:iam::\d{12}:(root|role\/[\w+=,.@/-]+|user\/[\w+=,.@/-]+))$/;

/**
 * Trust policies: only service principals, only sts:AssumeRole/TagSession, and only the intended services.
 * A producer role (tagged {@link PRODUCER_ROLE_TAG}) may instead trust exact AWS principals, never "*" or a wildcard.
 */
export const trustPolicies = stackPolicy({
    name: "iam-trust-policy-service-principals",
    description:
        'Role trust policies name only the intended service principal (Lambda roles: lambda.amazonaws.com); producer roles name exact AWS accounts or IAM ARNs, never "*".',
    level: "mandatory",
    group,
    appliesTo: [T.iamRole],
    remediationSteps:
        'assumeRolePolicy: { Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }] } for a function role.',
    validate({ ofType, referenced, report, defer }) {
        const intended = new Map<StackResource, Set<string>>();
        for (const user of ROLE_USERS) {
            for (const resource of ofType(user.type)) {
                for (const role of referenced(resource, user.prop, [T.iamRole], user.roleOf(resource.props))) {
                    intended.set(role, (intended.get(role) ?? new Set()).add(user.principal));
                }
            }
        }
        for (const role of ofType(T.iamRole)) {
            const parsed = parsePolicyDocument(role.props.assumeRolePolicy);
            if (parsed.kind === "unknown") {
                defer(parsed.unknown);
                continue;
            }
            if (parsed.kind !== "document") {
                report(`assumeRolePolicy ${parsed.kind === "invalid" ? `is ${parsed.reason}` : "is missing"}.`, role);
                continue;
            }
            const services = new Set<string>();
            const producerRole = typeof role.props.tags?.[PRODUCER_ROLE_TAG] === "string";
            for (const statement of parsed.statements) {
                if (statement.notPrincipal !== undefined) report(`assumeRolePolicy ${statement.label} uses NotPrincipal.`, role);
                if (statement.effect !== "Allow") continue;
                for (const { type, value } of principalEntries(statement)) {
                    if (isUnknown(value)) {
                        defer(value);
                        continue;
                    }
                    if (producerRole && type.toLowerCase() === "aws") {
                        if (!EXACT_AWS_PRINCIPAL.test(value)) {
                            report(
                                `assumeRolePolicy ${statement.label} trusts AWS principal ${JSON.stringify(value)}; a producer role names exact account ids or IAM ARNs, no wildcard.`,
                                role,
                            );
                        }
                    } else if (type.toLowerCase() !== "service") {
                        report(
                            `assumeRolePolicy ${statement.label} trusts ${type === "*" ? '"*" (anyone)' : `${type} principal ${value}`}; only a service principal may assume it.`,
                            role,
                        );
                    } else if (!/^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$/i.test(value)) {
                        report(
                            `assumeRolePolicy ${statement.label} trusts service ${JSON.stringify(value)}, which is not a single named AWS service principal.`,
                            role,
                        );
                    } else {
                        services.add(value.toLowerCase());
                    }
                }
                if (principalEntries(statement).length === 0) report(`assumeRolePolicy ${statement.label} has no Principal.`, role);
                const badActions = statement.actions.filter(
                    (a) => !isUnknown(a) && !["sts:AssumeRole", "sts:TagSession"].some((ok) => a.trim().toLowerCase() === ok.toLowerCase()),
                );
                if (badActions.length || statement.notActions.length) {
                    report(
                        `assumeRolePolicy ${statement.label} allows ${[...badActions, ...statement.notActions].map((a) => JSON.stringify(String(a))).join(", ") || "NotAction"}; a service role needs only sts:AssumeRole.`,
                        role,
                    );
                }
            }
            const wanted = intended.get(role);
            if (wanted) {
                const others = [...services].filter((s) => !wanted.has(s));
                const users = [...wanted].join(" and ");
                if (others.length)
                    report(`is used by ${users} but also trusts ${others.join(", ")}; trust only the service that uses it.`, role);
                const missing = [...wanted].filter((s) => !services.has(s));
                if (missing.length) report(`is used by ${users} but does not trust ${missing.join(", ")}.`, role);
            }
        }
    },
});

export const iamPolicies = [
    noWildcardActions,
    noWildcardResources,
    noNotActionOrNotResource,
    noAwsManagedPolicies,
    trustPolicies,
    noPartialWildcardActions,
    sesSendScopedToIdentities,
];
