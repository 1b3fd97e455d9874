import * as v from "valibot";
import type { ConfigIssue } from "./errors";

/**
 * A section of the stack config: the keys it owns (without namespace) and the
 * valibot schema that turns their raw values into typed, defaulted settings.
 */
export interface ConfigSection<T> {
    readonly keys: readonly string[];
    readonly schema: v.GenericSchema<unknown, T>;
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

/** Validates one section; returns its value or every issue, each naming its key. */
export function parseSection<T>(namespace: string, section: ConfigSection<T>, raw: Readonly<Record<string, unknown>>): { value?: T; issues: ConfigIssue[] } {
    const input: Record<string, unknown> = {};
    for (const key of section.keys) {
        const value = raw[`${namespace}:${key}`];
        if (value !== undefined) input[key] = decodeConfigValue(value);
    }
    const result = v.safeParse(section.schema, input, { abortEarly: false });
    if (result.success) return { value: result.output, issues: [] };
    const issues: ConfigIssue[] = [];
    const seen = new Set<string>();
    for (const issue of result.issues) {
        const top = issue.path?.[0]?.key;
        const key = typeof top === "string" ? top : "(section)";
        const message = `${key}\u0000${issue.message}`;
        if (seen.has(message)) continue;
        seen.add(message);
        issues.push({ key: `${namespace}:${key}`, value: typeof top === "string" ? input[top] : input, allowed: issue.message });
    }
    return { issues };
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
