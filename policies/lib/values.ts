/**
 * How property values reach a policy, and how we read them safely.
 *
 * The Pulumi engine sends a resource's inputs (resource policies) or outputs (stack
 * policies) as plain JSON. Values that are not known yet (during `pulumi preview`, an
 * input computed from a resource that does not exist yet) arrive as *sentinel strings*,
 * and `@pulumi/policy` wraps `props` in a Proxy that throws `UnknownValueError` the moment
 * a policy reads one. The engine turns that error into an advisory "can't run policy
 * during preview" diagnostic.
 *
 * We do not want a whole policy to give up because one field deep inside a document is
 * unknown, so {@link resolve} reads the proxy's target and returns a plain deep copy in
 * which every unknown value is replaced by an {@link Unknown} marker. Each rule then decides
 * explicitly what an unknown means for it (see docs/policies.md, "Unknown values"):
 * - a computed KMS key reference is compliant (it can only be the output of a key or alias
 *   this stack creates; AWS managed keys cannot be created by a program);
 * - a computed `Resource` element of an IAM statement is not `*`;
 * - anything a rule cannot decide without the value is *deferred* with {@link deferUntilKnown},
 *   which throws the SDK's own `UnknownValueError`: preview shows an advisory diagnostic
 *   and `pulumi up` re-runs the policy with the known value before the resource is created.
 */

/** Sentinels of the Pulumi engine protocol (the same strings `@pulumi/policy/proxy` exports). */
export const UNKNOWN_SENTINELS = {
    boolean: "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",
    number: "3eeb2bf0-c639-47a8-9e75-3b44932eb421",
    string: "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
    array: "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",
    asset: "030794c1-ac77-496b-92df-f27374a8bd58",
    archive: "e48ece36-62e2-4504-bad9-02848725956a",
    object: "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",
} as const;

export type UnknownKind = keyof typeof UNKNOWN_SENTINELS;

const SENTINEL_KIND = new Map<string, UnknownKind>(
    (Object.entries(UNKNOWN_SENTINELS) as [UnknownKind, string][]).map(([kind, sentinel]) => [sentinel, kind]),
);

/** A value that is not known yet (preview). */
export class Unknown {
    constructor(
        readonly kind: UnknownKind,
        readonly path: string,
    ) {}
    toString(): string {
        return `<unknown ${this.kind} at ${this.path || "."}>`;
    }
}

export function isUnknown(value: unknown): value is Unknown {
    return value instanceof Unknown;
}

// `@pulumi/policy/proxy` exposes the proxy's target under this key.
const PROXY_TARGET_KEY = "__getSpecialProxyTarget";

function unwrapProxy(value: unknown): unknown {
    if (value === null || typeof value !== "object") return value;
    try {
        const target = (value as Record<string, unknown>)[PROXY_TARGET_KEY];
        return target === undefined ? value : target;
    } catch {
        return value;
    }
}

/**
 * A plain deep copy of `value` with every unknown sentinel replaced by an {@link Unknown}.
 * Accepts `@pulumi/policy`'s unknown-checking proxies and plain objects alike.
 */
export function resolve<T = unknown>(value: unknown, path = ""): T {
    const raw = unwrapProxy(value);
    if (typeof raw === "string") {
        const kind = SENTINEL_KIND.get(raw);
        return (kind ? new Unknown(kind, path) : raw) as T;
    }
    if (raw === null || typeof raw !== "object") return raw as T;
    if (raw instanceof Unknown) return raw as T;
    if (Array.isArray(raw)) return raw.map((item, index) => resolve(item, `${path}[${index}]`)) as T;
    // Assets/archives (Lambda code) are opaque to every rule: keep them by reference.
    const proto = Object.getPrototypeOf(raw);
    if (proto !== Object.prototype && proto !== null) return raw as T;
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(raw as Record<string, unknown>)) {
        copy[key] = resolve(item, path ? `${path}.${key}` : key);
    }
    return copy as T;
}

interface UnknownValueErrorConstructor {
    new (sentinel: string, props: string[]): Error;
}

function unknownValueErrorClass(): UnknownValueErrorConstructor {
    // Internal to @pulumi/policy, but it is the class the engine's analyzer checks with
    // `instanceof` to turn an error into "can't run policy during preview". Resolved at call
    // time from the same copy of @pulumi/policy the pack runs with.
    return (require("@pulumi/policy/proxy") as { UnknownValueError: UnknownValueErrorConstructor }).UnknownValueError;
}

/**
 * Gives up on this policy for this resource until the value is known: throws the SDK's
 * `UnknownValueError`, which the engine reports as an advisory "can't run during preview"
 * diagnostic. `pulumi up` analyzes the resource again with known inputs before creating it.
 */
export function deferUntilKnown(value: Unknown): never {
    throw new (unknownValueErrorClass())(UNKNOWN_SENTINELS[value.kind], value.path.split(".").filter(Boolean));
}

/** True when `error` is the SDK's UnknownValueError (thrown by its proxy or by {@link deferUntilKnown}). */
export function isUnknownValueError(error: unknown): boolean {
    return error instanceof unknownValueErrorClass();
}

/** `value` as a string, `undefined` when absent; unknowns pass through. */
export function asString(value: unknown): string | Unknown | undefined {
    if (value === undefined || value === null) return undefined;
    if (isUnknown(value)) return value;
    return typeof value === "string" ? value : String(value);
}

/** Booleans as the engine may send them (`true`, `"true"`). */
export function isTrue(value: unknown): boolean {
    return value === true || value === "true";
}

/** A number from a number or numeric string; `undefined` when absent or not numeric. */
export function asNumber(value: unknown): number | undefined {
    if (typeof value === "number") return value;
    if (typeof value === "string" && value.trim() !== "" && !Number.isNaN(Number(value))) return Number(value);
    return undefined;
}

/** Scalar-or-list fields (`Action`, `Resource`, `Principal.Service`, ...) as a list. */
export function toList<T>(value: T | T[] | undefined | null): T[] {
    if (value === undefined || value === null) return [];
    return Array.isArray(value) ? value : [value];
}

/** Deep-searches `value` for the first Unknown marker. */
export function firstUnknown(value: unknown): Unknown | undefined {
    if (isUnknown(value)) return value;
    if (Array.isArray(value)) {
        for (const item of value) {
            const found = firstUnknown(item);
            if (found) return found;
        }
    } else if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
        for (const item of Object.values(value)) {
            const found = firstUnknown(item);
            if (found) return found;
        }
    }
    return undefined;
}
