import * as v from "valibot";
import type { ConfigIssue } from "./errors";

/**
 * A section of the stack config: the keys it owns (without namespace) and the
 * valibot schema that turns their raw values into typed, defaulted settings.
 * `Pulumi.yaml` declares the same keys (type, default, secret, description),
 * generated from this schema and the descriptions by `npm run generate`.
 */
export interface ConfigSection<T> {
    readonly keys: readonly string[];
    /** Each key's description, as `Pulumi.yaml` declares it (`pulumi config` and Pulumi Cloud show it). */
    readonly descriptions: Readonly<Record<string, string>>;
    readonly schema: v.GenericSchema<unknown, T>;
    /** Keys whose value must be a Pulumi secret (`pulumi config set --secret`); never printed. @default none */
    readonly secretKeys?: readonly string[];
}

/**
 * Pulumi hands config values over as strings; YAML numbers, booleans and lists
 * arrive JSON-encoded. Decode what is JSON, keep the rest as the string given.
 */
export function decodeConfigValue(raw: unknown): unknown {
    if (typeof raw !== "string") return raw;
    try {
        return JSON.parse(raw);
    } catch {
        return raw;
    }
}

/**
 * An optional setting without a default is declared in `Pulumi.yaml` with an empty
 * default (`""`, `[]`, `{}`): Pulumi requires every declared key that has no default.
 * The empty value therefore means "not set".
 */
export function isUnsetValue(value: unknown): boolean {
    if (value === "" || value === null) return true;
    if (Array.isArray(value)) return value.length === 0;
    return typeof value === "object" && value !== null && Object.keys(value).length === 0;
}

/** Validates one section; returns its value or every issue, each naming its key (`key.field` inside an object). */
export function parseSection<T>(
    namespace: string,
    section: ConfigSection<T>,
    raw: Readonly<Record<string, unknown>>,
): { value?: T; issues: ConfigIssue[] } {
    const input: Record<string, unknown> = {};
    for (const key of section.keys) {
        const value = raw[`${namespace}:${key}`];
        if (value === undefined) continue;
        const decoded = decodeConfigValue(value);
        if (!isUnsetValue(decoded)) input[key] = decoded;
    }
    const result = v.safeParse(section.schema, input, { abortEarly: false });
    if (result.success) return { value: result.output, issues: [] };
    const secret = new Set(section.secretKeys ?? []);
    const issues: ConfigIssue[] = [];
    const seen = new Set<string>();
    for (const issue of result.issues) {
        const path = issuePath(issue);
        const key = path.length > 0 ? path.join(".") : "(section)";
        const dedupe = `${key}\u0000${issue.message}`;
        if (seen.has(dedupe)) continue;
        seen.add(dedupe);
        const value = path.length > 0 ? valueAt(input, path) : input;
        issues.push({
            key: `${namespace}:${key}`,
            value,
            allowed: issue.message,
            ...(secret.has(String(path[0])) ? { secret: true } : {}),
        });
    }
    return { issues };
}

/** The issue's path as keys (array items by index); a nested object's field keeps its own name. */
function issuePath(issue: v.BaseIssue<unknown>): (string | number)[] {
    const keys: (string | number)[] = [];
    for (const item of issue.path ?? []) {
        if (typeof item.key === "string" || typeof item.key === "number") keys.push(item.key);
        else break;
    }
    // An array item's problem is reported on the list: the message names what every item must be.
    const firstIndex = keys.findIndex((k) => typeof k === "number");
    return firstIndex === -1 ? keys : keys.slice(0, firstIndex);
}

function valueAt(input: unknown, path: readonly (string | number)[]): unknown {
    let current: unknown = input;
    for (const key of path) {
        if (current === null || typeof current !== "object") return undefined;
        current = (current as Record<string | number, unknown>)[key];
    }
    return current;
}

/** An integer in [min, max], with one message naming the range. */
export function integerIn(min: number, max: number, unit = "") {
    const allowed = `must be an integer from ${min} to ${max}${unit ? ` (${unit})` : ""}`;
    return v.pipe(v.number(allowed), v.integer(allowed), v.minValue(min, allowed), v.maxValue(max, allowed));
}

/** One of the listed values. */
export function oneOf<const T extends readonly (string | number)[]>(options: T) {
    return v.picklist(options, `must be one of ${options.map((o) => JSON.stringify(o)).join(", ")}`);
}
