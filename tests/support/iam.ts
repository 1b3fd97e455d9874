/**
 * IAM policy simulation for the tests, with `@cloud-copilot/iam-simulate`:
 * evaluates identity policies (and, when given, the resource's own policy, such as
 * a KMS key policy or an SQS queue policy) for one request, the way AWS would.
 * A request the simulator cannot evaluate (an unknown action, a resource ARN of the
 * wrong type, an invalid policy) fails loudly instead of reading as "denied".
 */
import { createRequire } from "node:module";
import { runSimulation, type Simulation } from "@cloud-copilot/iam-simulate";
import type { PolicyDocument } from "../../components/shared/iam-documents";
import { MOCK_ACCOUNT_ID } from "../../local/offline/mock-deployment";

export type Decision = "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied";

export interface AccessRequest {
    /** e.g. `dynamodb:PutItem` */
    action: string;
    /** The resource ARN the request targets. */
    resource: string;
    /** Request context, e.g. `{ "kms:ViaService": "sqs.us-east-1.amazonaws.com" }`. `aws:SecureTransport` defaults to "true". */
    context?: Record<string, string | string[]>;
}

export interface AccessSubject {
    /** Who asks: a role ARN, or a service principal such as `logs.us-east-1.amazonaws.com`. */
    principal: string;
    /** Policies attached to the principal (empty for a service principal). */
    identityPolicies: readonly (PolicyDocument | string)[];
    /** The target's resource policy (key policy, queue policy, topic policy), if it has one. */
    resourcePolicy?: PolicyDocument | string;
}

const ENCRYPTION_CONTEXT_KEY = /^kms:EncryptionContext:.+/i;

function parse(policy: PolicyDocument | string): Record<string, unknown> {
    return (typeof policy === "string" ? JSON.parse(policy) : policy) as Record<string, unknown>;
}

/** The account an ARN belongs to (the 5th field), or the mock account for account-less ARNs. */
function accountOf(arn: string): string {
    const account = arn.split(":")[4];
    return account && /^\d{12}$/.test(account) ? account : MOCK_ACCOUNT_ID;
}

/**
 * Evaluates one request and returns AWS's decision.
 *
 * @example
 * await decide({ principal: roleArn, identityPolicies: [policy] }, { action: "sqs:SendMessage", resource: dlqArn }); // "Allowed"
 */
export async function decide(subject: AccessSubject, request: AccessRequest): Promise<Decision> {
    const simulation: Simulation = {
        identityPolicies: subject.identityPolicies.map((policy, i) => ({ name: `policy-${i}`, policy: parse(policy) })),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: subject.resourcePolicy ? parse(subject.resourcePolicy) : undefined,
        request: {
            principal: subject.principal,
            action: request.action,
            resource: { resource: request.resource, accountId: accountOf(request.resource) },
            contextVariables: { "aws:SecureTransport": "true", ...(request.context ?? {}) },
        },
    } as Simulation;
    const result = await runSimulation(simulation, {});
    if (result.resultType === "error") {
        throw new Error(
            `IAM simulation of ${request.action} on ${request.resource} could not run: ${JSON.stringify(result.errors, null, 2)}`,
        );
    }
    const ignored = result.resultType === "single" ? (result.result.ignoredContextKeys ?? []) : [];
    const unsupported = ignored.filter((key) => !ENCRYPTION_CONTEXT_KEY.test(key));
    if (unsupported.length > 0) {
        throw new Error(
            `IAM simulation of ${request.action}: context keys ${unsupported.join(", ")} do not apply to this action; fix the test request`,
        );
    }
    if (ignored.length > 0) {
        // The simulator's validation only recognises variable context keys separated by "/"
        // (aws:PrincipalTag/x), not KMS's "kms:EncryptionContext:<key>". The inputs passed
        // validation above; evaluate them again without the context-key filter.
        return evaluateValidated(simulation);
    }
    return result.overallResult as Decision;
}

/** Evaluates many requests; returns the ones whose decision differs from `expected`, for one readable assertion. */
export async function mismatches(
    subject: AccessSubject,
    requests: readonly AccessRequest[],
    expected: "allowed" | "denied",
): Promise<string[]> {
    const wrong: string[] = [];
    for (const request of requests) {
        const decision = await decide(subject, request);
        const ok = expected === "allowed" ? decision === "Allowed" : decision !== "Allowed";
        if (!ok)
            wrong.push(
                `${request.action} on ${request.resource}${request.context ? ` ${JSON.stringify(request.context)}` : ""} -> ${decision}`,
            );
    }
    return wrong;
}

/**
 * The simulator's core evaluation for inputs that already passed `runSimulation`'s
 * validation. (Its own `runUnsafeSimulation` loads the resource policy without the
 * metadata its analysis reads, so it cannot take a key policy.)
 */
function evaluateValidated(simulation: Simulation): Decision {
    // The simulator's internal modules (no typings), and the policy loader it uses itself.
    const fromSimulator = createRequire(require.resolve("@cloud-copilot/iam-simulate"));
    const { authorize } = fromSimulator("./core_engine/CoreSimulatorEngine.js");
    const { AwsRequestImpl } = fromSimulator("./request/request.js");
    const { RequestContextImpl } = fromSimulator("./requestContext.js");
    const { DiscoveryContextKeyConstraints } = fromSimulator("./context_keys/discoveryContextKeyConstraints.js");
    const { loadPolicy } = fromSimulator("@cloud-copilot/iam-policy");
    const request = simulation.request as {
        principal: string;
        action: string;
        resource: { resource: string; accountId: string };
        contextVariables: Record<string, string | string[]>;
    };
    const analysis = authorize({
        request: new AwsRequestImpl(request.principal, request.resource, request.action, new RequestContextImpl(request.contextVariables)),
        sessionPolicy: undefined,
        identityPolicies: simulation.identityPolicies.map((p) => loadPolicy(p.policy, { name: p.name })),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: simulation.resourcePolicy ? loadPolicy(simulation.resourcePolicy, { name: "resource-policy" }) : undefined,
        permissionBoundaries: undefined,
        vpcEndpointPolicies: undefined,
        simulationParameters: { simulationMode: "Strict", discoveryContextKeyConstraints: new DiscoveryContextKeyConstraints([]) },
        serviceSettings: { s3: { blockPublicAccess: undefined } },
    });
    return analysis.result as Decision;
}
