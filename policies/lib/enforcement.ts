/**
 * Mandatory rules cannot be relaxed; advisory rules can, per stack.
 *
 * `@pulumi/policy` lets pack config override any policy's enforcement level (a policy's
 * `configSchema` may not even mention `enforcementLevel`; the SDK refuses to start if it does),
 * so `{ "iam-no-wildcard-actions": "disabled" }` in a `--policy-pack-config` file or a Pulumi
 * Cloud policy group would silently switch a mandatory rule off. We close that hole in two
 * places that share {@link packConfigProblems}:
 * - the pack (policies/index.ts) installs {@link installConfigurationGuard}, which wraps the
 *   analyzer's `Configure` RPC: a config that lowers or disables a mandatory rule, sets options
 *   on it, names an unknown policy, or gives an advisory rule options its schema does not
 *   declare is rejected, and `pulumi preview`/`up` fails with the list of problems;
 * - the offline runner (`npm run policy`) and the test harness validate the per-stack config
 *   files (policies/config/<stack>.json) with the same function before evaluating.
 */
import { createRequire } from "node:module";
import type { EnforcementLevel } from "@pulumi/policy";
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import type { GuardrailPolicy } from "./define";

export type PolicyConfigValue = EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>);
export type PackConfig = Record<string, PolicyConfigValue>;

const LEVELS: readonly string[] = ["advisory", "mandatory", "remediate", "disabled"];

function typeMatches(schema: PolicyConfigJSONSchema, value: unknown): boolean {
    const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
    if (types.length === 0) return true;
    return types.some((t) => {
        switch (t) {
            case "array":
                return (
                    Array.isArray(value) &&
                    (typeof schema.items !== "object" ||
                        Array.isArray(schema.items) ||
                        value.every((v) => typeMatches(schema.items as PolicyConfigJSONSchema, v)))
                );
            case "integer":
                return Number.isInteger(value);
            case "null":
                return value === null;
            case "object":
                return value !== null && typeof value === "object" && !Array.isArray(value);
            default:
                return typeof value === t;
        }
    });
}

/** Every problem with a pack config (empty when it is acceptable). */
export function packConfigProblems(config: unknown, policies: readonly GuardrailPolicy[]): string[] {
    if (config === undefined || config === null) return [];
    if (typeof config !== "object" || Array.isArray(config))
        return ["policy pack config must be a JSON object of policy name -> level or settings."];
    const byName = new Map(policies.map((p) => [p.name, p]));
    const problems: string[] = [];
    for (const [name, value] of Object.entries(config as Record<string, unknown>)) {
        const level = typeof value === "string" ? value : (value as { enforcementLevel?: unknown } | null)?.enforcementLevel;
        const settings = value !== null && typeof value === "object" ? Object.entries(value).filter(([k]) => k !== "enforcementLevel") : [];
        if (level !== undefined && !LEVELS.includes(String(level))) {
            problems.push(`${name}: unknown enforcement level ${JSON.stringify(level)} (expected one of ${LEVELS.join(", ")}).`);
            continue;
        }
        if (typeof value !== "string" && (value === null || typeof value !== "object" || Array.isArray(value))) {
            problems.push(`${name}: expected an enforcement level or an object of settings.`);
            continue;
        }
        if (name === "all") {
            if (level !== undefined && level !== "mandatory") {
                const mandatory = policies.filter((p) => p.enforcementLevel === "mandatory").map((p) => p.name);
                problems.push(
                    `all: "${level}" would relax the mandatory policies (${mandatory.join(", ")}); set levels per advisory policy instead.`,
                );
            }
            if (settings.length) problems.push(`all: only an enforcement level may be set for all policies.`);
            continue;
        }
        const policy = byName.get(name);
        if (!policy) {
            problems.push(`${name}: no such policy in this pack (policies: ${[...byName.keys()].join(", ")}).`);
            continue;
        }
        if (policy.enforcementLevel === "mandatory") {
            if (level !== undefined && level !== "mandatory") problems.push(`${name}: is mandatory and cannot be set to "${level}".`);
            if (settings.length) problems.push(`${name}: is mandatory and takes no settings (got ${settings.map(([k]) => k).join(", ")}).`);
            continue;
        }
        const properties = policy.configSchema?.properties ?? {};
        for (const [key, setting] of settings) {
            const schema = properties[key];
            if (!schema)
                problems.push(
                    `${name}: unknown setting "${key}"${Object.keys(properties).length ? ` (settings: ${Object.keys(properties).join(", ")})` : " (it takes none)"}.`,
                );
            else if (!typeMatches(schema, setting))
                problems.push(`${name}.${key}: expected ${JSON.stringify(schema.type)}, got ${JSON.stringify(setting)}.`);
        }
    }
    return problems;
}

export class PackConfigError extends Error {
    constructor(readonly problems: string[]) {
        super(`Invalid policy pack config:\n  - ${problems.join("\n  - ")}`);
        this.name = "PackConfigError";
    }
}

export function assertPackConfig(config: unknown, policies: readonly GuardrailPolicy[]): void {
    const problems = packConfigProblems(config, policies);
    if (problems.length) throw new PackConfigError(problems);
}

/**
 * The effective enforcement level of each policy under `config`, with the SDK's precedence
 * (policy entry > `all` > the policy's own level).
 */
export function effectiveLevels(config: PackConfig | undefined, policies: readonly GuardrailPolicy[]): Map<string, EnforcementLevel> {
    const levelOf = (value: PolicyConfigValue | undefined): EnforcementLevel | undefined =>
        typeof value === "string" ? value : value?.enforcementLevel;
    const all = levelOf(config?.all);
    return new Map(policies.map((p) => [p.name, levelOf(config?.[p.name]) ?? all ?? p.enforcementLevel]));
}

interface ConfigureCall {
    request: {
        getPolicyconfigMap(): {
            entries(): Iterable<
                [string, { getEnforcementlevel(): number; getProperties(): { toJavaScript(): Record<string, unknown> } | undefined }]
            >;
        };
    };
}
type ConfigureHandler = (call: ConfigureCall, callback: (error: unknown, response?: unknown) => void) => unknown;

/** Reads a `ConfigureAnalyzerRequest` into a {@link PackConfig}. */
export function configFromConfigureRequest(call: ConfigureCall): PackConfig {
    const { convertEnforcementLevel } = require("@pulumi/policy/protoutil") as { convertEnforcementLevel(level: number): EnforcementLevel };
    const config: PackConfig = {};
    for (const [name, value] of call.request.getPolicyconfigMap().entries()) {
        config[name] = {
            ...(value.getProperties()?.toJavaScript() ?? {}),
            enforcementLevel: convertEnforcementLevel(value.getEnforcementlevel()),
        };
    }
    return config;
}

/** Wraps the analyzer's `Configure` RPC so that it rejects configs that relax mandatory rules. */
export function guardConfigure(configure: ConfigureHandler, policies: readonly GuardrailPolicy[]): ConfigureHandler {
    return (call, callback) => {
        let problems: string[];
        try {
            problems = packConfigProblems(configFromConfigureRequest(call), policies);
        } catch (error) {
            problems = [`could not read the policy pack config: ${(error as Error).message}`];
        }
        if (problems.length) {
            const message = new PackConfigError(problems).message;
            callback(Object.assign(new Error(message), { code: 3 /* INVALID_ARGUMENT */, details: message }));
            return;
        }
        return configure(call, callback);
    };
}

/**
 * Installs {@link guardConfigure} around the analyzer service that `new PolicyPack(...)` is about
 * to register. Returns a check that the guard was actually installed (call it after constructing
 * the pack: if a future @pulumi/policy registers its service differently, the pack refuses to
 * run rather than run unguarded).
 */
export function installConfigurationGuard(policies: readonly GuardrailPolicy[]): () => void {
    // The grpc-js copy @pulumi/policy itself loads, which may not be the one the repository root resolves.
    const requireFromPolicySdk = createRequire(require.resolve("@pulumi/policy/package.json"));
    const grpc = requireFromPolicySdk("@grpc/grpc-js") as {
        Server: { prototype: { addService(service: unknown, implementation: Record<string, unknown>): void } };
    };
    const prototype = grpc.Server.prototype;
    const original = prototype.addService;
    let installed = false;
    prototype.addService = function (this: unknown, service: unknown, implementation: Record<string, unknown>) {
        if (implementation && typeof implementation.configure === "function" && typeof implementation.analyze === "function") {
            implementation = { ...implementation, configure: guardConfigure(implementation.configure as ConfigureHandler, policies) };
            installed = true;
        }
        return original.call(this, service, implementation);
    };
    return () => {
        prototype.addService = original;
        if (!installed) {
            console.error("error: the policy pack could not guard its Configure RPC; refusing to run with relaxable mandatory policies.");
            process.exit(1);
        }
    };
}
