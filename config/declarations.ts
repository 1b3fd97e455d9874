/**
 * `Pulumi.yaml` declares every setting (type, default, secret, description) so that
 * `pulumi config`, Pulumi Cloud and reviewers know them, and the CLI checks types and
 * secrecy before the program runs. This module derives those declarations from the
 * valibot sections, the single source of the rules; `npm run generate`
 * (scripts/generate-config-docs.ts) writes them into `Pulumi.yaml` with each section's
 * descriptions, and the config-declarations test fails when the file and the sections disagree.
 *
 * Rules of the Pulumi CLI that shape the derivation ("Pulumi project file reference",
 * `config` options; pulumi/pulumi sdk/go/common/workspace/project.go and config.go):
 * - a declared key without `default` must be set by every stack, so an optional setting
 *   without a default is declared with the empty value of its type (`""`, `[]`), which
 *   the sections read as "not set";
 * - `type` is one of string, integer, boolean, array (with `items`): an object or map
 *   setting is declared without a type;
 * - a typed `secret: true` key must be encrypted in every stack, and a default is never
 *   encrypted: an optional secret is declared without a type and the program enforces
 *   that it is a secret.
 */
import { configSections } from "./index";
import type { ConfigSection } from "./section";

/** Pulumi's project config types. */
export type PulumiConfigType = "string" | "integer" | "boolean" | "array";

/** One `config:` entry of `Pulumi.yaml` (description aside, which lives only there). */
export interface ConfigDeclaration {
    type?: PulumiConfigType;
    items?: { type: PulumiConfigType };
    default?: unknown;
    secret?: boolean;
}

type AnySchema = {
    type: string;
    pipe?: readonly { type: string; kind?: string }[];
    options?: readonly unknown[];
    item?: AnySchema;
    wrapped?: AnySchema;
    default?: unknown;
};

/** Whether a number schema (possibly piped into another pipe) requires an integer. */
function isInteger(schema: AnySchema): boolean {
    return (schema.pipe ?? []).some(
        (item) => item.type === "integer" || (item !== schema && item.kind === "schema" && isInteger(item as AnySchema)),
    );
}

/** The Pulumi type of a (non-optional) valibot schema; undefined for an object. */
export function pulumiTypeOf(schema: AnySchema): Pick<ConfigDeclaration, "type" | "items"> {
    switch (schema.type) {
        case "string":
            return { type: "string" };
        case "boolean":
            return { type: "boolean" };
        case "number":
            if (!isInteger(schema)) throw new Error("a number setting must be an integer: Pulumi has no float config type");
            return { type: "integer" };
        case "picklist":
            return { type: schema.options!.every((option) => typeof option === "number") ? "integer" : "string" };
        case "array": {
            const items = pulumiTypeOf(schema.item!);
            if (!items.type || items.type === "array") throw new Error("a list setting must hold strings, integers or booleans");
            return { type: "array", items: { type: items.type } };
        }
        // Maps and structured values validated by their own checks (`producers`, `emailSenders`).
        case "record":
        case "unknown":
        case "object":
        case "object_with_rest":
        case "strict_object":
        case "loose_object":
            return {};
        default:
            throw new Error(`no Pulumi config type for a valibot ${schema.type} schema`);
    }
}

/** The empty value a type is declared with when the setting has no default (read back as "not set"). */
function unsetValueOf(declaration: Pick<ConfigDeclaration, "type">): unknown {
    switch (declaration.type) {
        case "string":
            return "";
        case "array":
            return [];
        case "integer":
            return 0;
        case undefined:
            return {};
        default:
            throw new Error(`an optional ${declaration.type} setting needs a default`);
    }
}

/** The section's object schema (the first item when cross-field rules pipe it). */
function entriesOf(section: ConfigSection<unknown>): Record<string, AnySchema> {
    const schema = section.schema as unknown as {
        entries?: Record<string, AnySchema>;
        pipe?: readonly { entries?: Record<string, AnySchema> }[];
    };
    const entries = schema.entries ?? schema.pipe?.[0]?.entries;
    if (!entries) throw new Error("a config section's schema must be an object (optionally piped)");
    return entries;
}

/** Declarations of one section's keys, by unqualified key. */
export function declarationsOf(section: ConfigSection<unknown>): Record<string, ConfigDeclaration> {
    const entries = entriesOf(section);
    const secret = new Set(section.secretKeys ?? []);
    const out: Record<string, ConfigDeclaration> = {};
    for (const key of section.keys) {
        const entry = entries[key];
        const optional = entry.type === "optional";
        const inner = optional ? entry.wrapped! : entry;
        const typed = pulumiTypeOf(inner);
        if (secret.has(key)) {
            // Untyped: see the module comment (a typed secret cannot be optional).
            out[key] = optional ? { default: "", secret: true } : { ...typed, secret: true };
            continue;
        }
        if (!optional) {
            out[key] = typed;
            continue;
        }
        const fallback =
            entry.default !== undefined
                ? typeof entry.default === "function"
                    ? (entry.default as () => unknown)()
                    : entry.default
                : unsetValueOf(typed);
        out[key] = { ...typed, default: Array.isArray(fallback) ? [...fallback] : fallback };
    }
    return out;
}

/** Every key's declaration, as `Pulumi.yaml` must hold it (unqualified keys, the project's namespace). */
export function projectConfigDeclarations(): Record<string, ConfigDeclaration> {
    const out: Record<string, ConfigDeclaration> = {};
    for (const section of Object.values(configSections()) as ConfigSection<unknown>[]) Object.assign(out, declarationsOf(section));
    return out;
}
