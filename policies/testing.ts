/**
 * An in-process harness for the pack: builds `ResourceValidationArgs` / `StackValidationArgs`
 * from plain objects (or from a mock deployment's registered resources) and runs every policy
 * the way `@pulumi/policy`'s analyzer server does — same enforcement-level precedence, same
 * unknown-checking proxy around props, same treatment of `notApplicable` and of
 * `UnknownValueError` — without constructing a PolicyPack (which would start a gRPC server;
 * only one may exist per process).
 *
 * @example
 * const result = await evaluatePack([
 *     { type: "aws:sqs/queue:Queue", name: "events", inputs: { kmsMasterKeyId: "alias/aws/sqs" } },
 * ]);
 * result.mandatory.map((v) => v.policy); // ["sqs-customer-managed-kms", ...]
 */
import type { EnforcementLevel, PolicyResource, ResourceValidationArgs, StackValidationArgs } from "@pulumi/policy";
import { policies as packPolicies } from "./policies";
import type { GuardrailPolicy, ResourceProps } from "./lib/define";
import { assertPackConfig, effectiveLevels, PackConfig } from "./lib/enforcement";
import { isUnknownValueError, UNKNOWN_SENTINELS } from "./lib/values";

/** A resource as plain data. */
export interface PlainResource {
    type: string;
    name: string;
    /** what resource policies see (the engine sends inputs to `analyze`) */
    inputs: ResourceProps;
    /** what stack policies see (the engine sends outputs to `analyzeStack`); defaults to `inputs` */
    outputs?: ResourceProps;
    /** defaults to `urn:pulumi:<stack>::<project>::<type>::<name>` */
    urn?: string;
    /** name or URN of the parent resource */
    parent?: string;
    /** URNs, `type::name`, or (when unique) names of resources this one depends on */
    dependencies?: string[];
    /** property -> URNs, `type::name`, or (when unique) names of the resources that property's value came from */
    propertyDependencies?: Record<string, string[]>;
    /** resource options the engine passes to resource policies */
    ignoreChanges?: string[];
}

/** Unknown values as the engine sends them during preview (`unknown.string`, ...). */
export const unknown = UNKNOWN_SENTINELS;

export interface Violation {
    policy: string;
    enforcementLevel: EnforcementLevel;
    message: string;
    urn?: string;
    resourceName?: string;
    resourceType?: string;
}

export type CellStatus = "pass" | "violation" | "not-applicable" | "deferred" | "disabled";

export interface Evaluation {
    /** every violation, mandatory and advisory */
    violations: Violation[];
    mandatory: Violation[];
    advisory: Violation[];
    /** policies that could not run because a value is unknown (the engine's advisory "can't run during preview") */
    deferred: { policy: string; urn?: string; message: string }[];
    /** policy name -> resource URN -> outcome, for result tables */
    cells: Map<string, Map<string, CellStatus>>;
    /** the URNs evaluated, in order, with names and types */
    resources: { urn: string; name: string; type: string }[];
    levels: Map<string, EnforcementLevel>;
}

export interface EvaluateOptions {
    /** @default the pack's policies */
    policies?: readonly GuardrailPolicy[];
    /** pack config (as in policies/config/<stack>.json); rejected like the pack rejects it */
    config?: PackConfig;
    /** @default "dev" */
    stack?: string;
    /** @default "event-ingestion" */
    project?: string;
}

class NotApplicable extends Error {}

function pulumiTypeOf(resourceClass: unknown): string | undefined {
    const t = (resourceClass as { __pulumiType?: unknown } | undefined)?.__pulumiType;
    return typeof t === "string" && t ? t : undefined;
}

function proxy<T extends object>(value: T): T {
    // The SDK's own proxy: reading an unknown sentinel throws UnknownValueError.
    return (require("@pulumi/policy/proxy") as { unknownCheckingProxy<U>(v: U): U }).unknownCheckingProxy(value);
}

/** Like the engine's wire format: `undefined` properties do not exist. */
function wire<T>(value: T): T;
function wire(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : wire(v)));
    if (value === null || typeof value !== "object" || Object.getPrototypeOf(value) !== Object.prototype) return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = wire(v);
    return out;
}

const frozenEmptyMap: ReadonlyMap<string, string> = new Map();

function baseOptions(parent?: string, ignoreChanges: string[] = []) {
    return {
        protect: false,
        ignoreChanges,
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
        ...(parent ? { parent } : {}),
    };
}

/** ResourceValidationArgs for one resource, as the analyzer builds them. */
export function resourceValidationArgs(
    resource: PlainResource & { urn: string },
    config: Record<string, unknown> = {},
): ResourceValidationArgs {
    const props = proxy(wire(resource.inputs ?? {}));
    return {
        type: resource.type,
        name: resource.name,
        urn: resource.urn,
        props,
        opts: baseOptions(resource.parent, resource.ignoreChanges),
        stackTags: frozenEmptyMap,
        isType: (resourceClass) => pulumiTypeOf(resourceClass) === resource.type,
        asType: ((resourceClass: unknown) =>
            pulumiTypeOf(resourceClass) === resource.type ? props : undefined) as ResourceValidationArgs["asType"],
        getConfig: <T extends object>() => config as T,
        notApplicable: (reason?: string): never => {
            throw new NotApplicable(reason);
        },
    };
}

/** StackValidationArgs for a set of resources, as the analyzer builds them (outputs, dependencies resolved). */
export function stackValidationArgs(
    resources: (PlainResource & { urn: string })[],
    config: Record<string, unknown> = {},
): StackValidationArgs {
    const byKey = new Map<string, PolicyResource>();
    const nameCounts = new Map<string, number>();
    for (const r of resources) nameCounts.set(r.name, (nameCounts.get(r.name) ?? 0) + 1);
    const policyResources: PolicyResource[] = resources.map((r) => {
        const props = proxy(wire(r.outputs ?? r.inputs ?? {}));
        const pr: PolicyResource = {
            type: r.type,
            name: r.name,
            urn: r.urn,
            props,
            opts: baseOptions(),
            dependencies: [],
            propertyDependencies: {},
            isType: (resourceClass) => pulumiTypeOf(resourceClass) === r.type,
            asType: ((resourceClass: unknown) => (pulumiTypeOf(resourceClass) === r.type ? props : undefined)) as PolicyResource["asType"],
        };
        byKey.set(r.urn, pr);
        byKey.set(`${r.type}::${r.name}`, pr);
        // A bare name identifies a resource only when no other resource shares it.
        if (nameCounts.get(r.name) === 1) byKey.set(r.name, pr);
        return pr;
    });
    const lookup = (keys: string[] | undefined) => (keys ?? []).map((k) => byKey.get(k)).filter((x): x is PolicyResource => !!x);
    resources.forEach((r, index) => {
        const pr = policyResources[index];
        pr.dependencies = lookup(r.dependencies);
        pr.propertyDependencies = Object.fromEntries(Object.entries(r.propertyDependencies ?? {}).map(([k, v]) => [k, lookup(v)]));
        if (r.parent) pr.parent = byKey.get(r.parent);
    });
    return {
        resources: policyResources,
        stackTags: frozenEmptyMap,
        getConfig: <T extends object>() => config as T,
        notApplicable: (reason?: string): never => {
            throw new NotApplicable(reason);
        },
    };
}

function settingsOf(config: PackConfig | undefined, name: string): Record<string, unknown> {
    const value = config?.[name];
    if (!value || typeof value === "string") return {};
    const { enforcementLevel: _ignored, ...rest } = value;
    return rest;
}

/** Evaluates every policy against `resources` (resource policies per resource, then stack policies). */
export async function evaluatePack(resources: PlainResource[], options: EvaluateOptions = {}): Promise<Evaluation> {
    const policies = options.policies ?? packPolicies;
    assertPackConfig(options.config, policies);
    const stack = options.stack ?? "dev";
    const project = options.project ?? "event-ingestion";
    const withUrns = resources.map((r) => ({ ...r, urn: r.urn ?? `urn:pulumi:${stack}::${project}::${r.type}::${r.name}` }));
    const byUrn = new Map(withUrns.map((r) => [r.urn, r]));
    const levels = effectiveLevels(options.config, policies);
    const result: Evaluation = {
        violations: [],
        mandatory: [],
        advisory: [],
        deferred: [],
        cells: new Map(),
        resources: withUrns.map(({ urn, name, type }) => ({ urn, name, type })),
        levels,
    };

    const record = (policy: GuardrailPolicy, level: EnforcementLevel, message: string, urn?: string) => {
        const r = urn ? byUrn.get(urn) : undefined;
        const violation: Violation = {
            policy: policy.name,
            enforcementLevel: level,
            message,
            urn,
            resourceName: r?.name,
            resourceType: r?.type,
        };
        result.violations.push(violation);
        (level === "mandatory" ? result.mandatory : result.advisory).push(violation);
    };

    for (const policy of policies) {
        const level = levels.get(policy.name)!;
        const cells = new Map<string, CellStatus>();
        result.cells.set(policy.name, cells);
        if (level === "disabled") {
            for (const r of withUrns) if (policy.appliesTo.includes(r.type)) cells.set(r.urn, "disabled");
            continue;
        }
        const reportedLevel: EnforcementLevel = level === "remediate" ? "mandatory" : level;
        const config = settingsOf(options.config, policy.name);
        if (policy.kind === "resource") {
            const validations = Array.isArray(policy.validateResource) ? policy.validateResource : [policy.validateResource!];
            for (const r of withUrns) {
                if (!policy.appliesTo.includes(r.type)) continue;
                let status = "pass" as CellStatus;
                for (const validation of validations) {
                    try {
                        await validation(resourceValidationArgs(r, config), (message) => {
                            status = "violation";
                            record(policy, reportedLevel, `${policy.description}\n${message}`, r.urn);
                        });
                    } catch (error) {
                        if (error instanceof NotApplicable) status = status === "violation" ? status : "not-applicable";
                        else if (isUnknownValueError(error)) {
                            status = status === "violation" ? status : "deferred";
                            result.deferred.push({ policy: policy.name, urn: r.urn, message: (error as Error).message });
                        } else throw new Error(`policy ${policy.name} failed on ${r.urn}: ${(error as Error).stack ?? error}`);
                    }
                }
                cells.set(r.urn, status);
            }
        } else {
            const violatingUrns = new Set<string>();
            let outcome: CellStatus = "pass";
            try {
                await policy.validateStack(stackValidationArgs(withUrns, config), (message, urn) => {
                    if (urn) violatingUrns.add(urn);
                    record(policy, reportedLevel, `${policy.description}\n${message}`, urn);
                });
            } catch (error) {
                if (error instanceof NotApplicable) outcome = "not-applicable";
                else if (isUnknownValueError(error)) {
                    outcome = "deferred";
                    result.deferred.push({ policy: policy.name, message: (error as Error).message });
                } else throw new Error(`policy ${policy.name} failed: ${(error as Error).stack ?? error}`);
            }
            for (const r of withUrns) {
                if (!policy.appliesTo.includes(r.type)) continue;
                cells.set(r.urn, violatingUrns.has(r.urn) ? "violation" : outcome);
            }
        }
    }
    return result;
}

/** A resource registered under mocks (local/offline/mock-deployment.ts `MockedResource`). */
export interface MockedResourceLike {
    type: string;
    name: string;
    inputs: ResourceProps;
    state?: ResourceProps;
    parent?: string;
}

/**
 * Plain resources from a mock deployment: inputs for resource policies, the mocked state
 * (inputs plus computed ARNs, URLs, names) for stack policies. Component resources are kept
 * (no policy applies to them).
 */
export function fromMockedResources(resources: readonly MockedResourceLike[]): PlainResource[] {
    const seen = new Map<string, number>();
    return resources.map((r) => {
        // Logical names are unique per type and parent; disambiguate for URNs in the harness.
        const key = `${r.type}::${r.name}`;
        const count = (seen.get(key) ?? 0) + 1;
        seen.set(key, count);
        // Providers echo their inputs in their outputs; the mocks' generic `arn` for types they do
        // not model (e.g. TopicPolicy, whose `arn` input is the topic's ARN) must not replace them.
        return {
            type: r.type,
            name: count === 1 ? r.name : `${r.name}#${count}`,
            inputs: r.inputs,
            outputs: { ...(r.state ?? {}), ...r.inputs },
            parent: r.parent,
        };
    });
}
