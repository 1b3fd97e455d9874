/**
 * IAM policy documents in every shape a Pulumi program can hand them to AWS:
 * - a JSON string (`JSON.stringify`, `pulumi.jsonStringify`, `getPolicyDocument(...).json`,
 *   an Output-derived string: by the time a policy sees it, it is a string or unknown);
 * - an object (`aws.iam.PolicyDocument`);
 * - `Statement` as one object or an array;
 * - `Action`/`NotAction`/`Resource`/`NotResource` as a string or an array;
 * - `Principal` as `"*"` or `{ Service | AWS | Federated | CanonicalUser: string | string[] }`.
 */
import { isUnknown, toList, Unknown } from "./values";

export type Effect = "Allow" | "Deny";

export interface NormalizedStatement {
    sid?: string;
    effect: Effect;
    /** `Action` entries; an Unknown entry stays Unknown */
    actions: (string | Unknown)[];
    notActions: (string | Unknown)[];
    resources: (string | Unknown)[];
    notResources: (string | Unknown)[];
    /** `"*"` for a bare wildcard principal */
    principal?: "*" | Record<string, (string | Unknown)[]> | Unknown;
    notPrincipal?: unknown;
    condition?: Record<string, Record<string, unknown>>;
    /** where it came from, for messages: `Statement[1]` or `Statement[Sid]` */
    label: string;
}

export type ParsedDocument =
    | { kind: "document"; statements: NormalizedStatement[] }
    | { kind: "unknown"; unknown: Unknown }
    | { kind: "absent" }
    | { kind: "invalid"; reason: string };

function normalizeEffect(value: unknown): Effect | undefined {
    if (typeof value !== "string") return undefined;
    const lower = value.toLowerCase();
    return lower === "allow" ? "Allow" : lower === "deny" ? "Deny" : undefined;
}

function stringList(value: unknown): (string | Unknown)[] {
    if (isUnknown(value)) return [value];
    return toList(value as unknown[]).map((item) => (isUnknown(item) ? item : String(item)));
}

function normalizePrincipal(value: unknown): NormalizedStatement["principal"] {
    if (value === undefined || value === null) return undefined;
    if (isUnknown(value)) return value;
    if (value === "*") return "*";
    if (typeof value === "string") return { AWS: [value] };
    const out: Record<string, (string | Unknown)[]> = {};
    for (const [key, items] of Object.entries(value as Record<string, unknown>)) out[key] = stringList(items);
    return out;
}

/** Parses a policy document from any supported shape. */
export function parsePolicyDocument(value: unknown): ParsedDocument {
    if (value === undefined || value === null || value === "") return { kind: "absent" };
    if (isUnknown(value)) return { kind: "unknown", unknown: value };
    let doc: unknown = value;
    if (typeof value === "string") {
        try {
            doc = JSON.parse(value);
        } catch (error) {
            return { kind: "invalid", reason: `not valid JSON (${(error as Error).message})` };
        }
    }
    if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
        return { kind: "invalid", reason: "a policy document must be a JSON object" };
    }
    const rawStatements = (doc as Record<string, unknown>).Statement;
    if (isUnknown(rawStatements)) return { kind: "unknown", unknown: rawStatements };
    if (rawStatements === undefined) return { kind: "invalid", reason: "it has no Statement" };
    const statements: NormalizedStatement[] = [];
    const list = toList(rawStatements as unknown[]);
    for (let index = 0; index < list.length; index++) {
        const raw = list[index];
        if (isUnknown(raw)) return { kind: "unknown", unknown: raw };
        if (raw === null || typeof raw !== "object") {
            return { kind: "invalid", reason: `Statement[${index}] is not an object` };
        }
        const s = raw as Record<string, unknown>;
        const effect = normalizeEffect(s.Effect);
        const sid = typeof s.Sid === "string" ? s.Sid : undefined;
        const label = sid ? `Statement[${JSON.stringify(sid)}]` : `Statement[${index}]`;
        if (isUnknown(s.Effect)) return { kind: "unknown", unknown: s.Effect };
        if (!effect) return { kind: "invalid", reason: `${label} has Effect ${JSON.stringify(s.Effect)} (expected "Allow" or "Deny")` };
        statements.push({
            sid,
            effect,
            actions: stringList(s.Action),
            notActions: stringList(s.NotAction),
            resources: stringList(s.Resource),
            notResources: stringList(s.NotResource),
            principal: normalizePrincipal(s.Principal),
            notPrincipal: s.NotPrincipal,
            condition: s.Condition as NormalizedStatement["condition"],
            label,
        });
    }
    return { kind: "document", statements };
}

/**
 * `*`, a whole service (`sqs:*`, `dynamodb:**`), or a wildcard in the service part (`s*:*`,
 * `*:GetObject`). Case-insensitive, like IAM.
 */
export function isServiceWideAction(action: string): boolean {
    const a = action.trim();
    if (/^[*?]+$/.test(a)) return true;
    const colon = a.indexOf(":");
    if (colon < 0) return /[*?]/.test(a);
    const service = a.slice(0, colon);
    const name = a.slice(colon + 1);
    return /[*?]/.test(service) || /^[*?]*\*[*?]*$/.test(name);
}

/** A wildcard inside an action name (`dynamodb:Get*`, `s3:*Object`) that is not service-wide. */
export function isPartialWildcardAction(action: string): boolean {
    return /[*?]/.test(action) && !isServiceWideAction(action);
}

/**
 * `*`, or an ARN that names no particular resource: a wildcard partition/service/malformed short
 * ARN (`arn:*`, `arn:aws:*:...`), a resource part that is only wildcards
 * (`arn:aws:sqs:us-east-1:123456789012:*`), or every resource of a type (`...:table/*`,
 * `...:function:*`, `...:secret:*`). A wildcard *inside* a resource (`log-group:/x:log-stream:*`,
 * `table/events/stream/*`) is scoped and allowed.
 */
export function isWildcardResource(resource: string): boolean {
    const r = resource.trim();
    if (/^[*?]+$/.test(r)) return true;
    if (!/^arn:/i.test(r)) return false;
    const parts = r.split(":");
    if (parts.length < 6) return /[*?]/.test(r);
    const [, partition, service] = parts;
    if (/[*?]/.test(partition) || /[*?]/.test(service)) return true;
    const resourcePart = parts.slice(5).join(":");
    const typeWildcard = /^([A-Za-z-]+)[/:][*?]+$/.exec(resourcePart);
    return /^[*?]+$/.test(resourcePart) || (!!typeWildcard && RESOURCE_TYPE_PREFIXES.has(typeWildcard[1].toLowerCase()));
}

/**
 * ARN resource-type prefixes after which a bare `*` means "every resource of that type". Only
 * these: in S3 (`bucket/*`) or execute-api (`apiId/*`) ARNs the first segment is a name, not a type.
 */
const RESOURCE_TYPE_PREFIXES = new Set([
    "table",
    "function",
    "secret",
    "key",
    "alias",
    "log-group",
    "role",
    "policy",
    "user",
    "group",
    "layer",
    "statemachine",
    "schedule",
    "event-bus",
    "rule",
    "stream",
    "parameter",
    "instance",
]);

/** Does an IAM pattern (action or ARN, with `*`/`?` wildcards, case-insensitive) match `value`? */
export function wildcardMatches(pattern: string, action: string): boolean {
    const regex = new RegExp(
        "^" +
            pattern
                .trim()
                .replace(/[.+^${}()|[\]\\]/g, "\\$&")
                .replace(/\*/g, ".*")
                .replace(/\?/g, ".") +
            "$",
        "i",
    );
    return regex.test(action.trim());
}

/** Looks up a condition value case-insensitively: `conditionValues(s, "Bool", "aws:SecureTransport")`. */
export function conditionValues(statement: NormalizedStatement, operator: string, key: string): unknown[] {
    const condition = statement.condition;
    if (!condition || typeof condition !== "object" || isUnknown(condition)) return [];
    const values: unknown[] = [];
    for (const [op, block] of Object.entries(condition)) {
        if (op.toLowerCase() !== operator.toLowerCase() || !block || typeof block !== "object") continue;
        for (const [k, v] of Object.entries(block)) {
            if (k.toLowerCase() === key.toLowerCase()) values.push(...toList(v as unknown[]));
        }
    }
    return values;
}

/** Principals of a statement as `{ type, value }` pairs; `*` is `{ type: "*", value: "*" }`. */
export function principalEntries(statement: NormalizedStatement): { type: string; value: string | Unknown }[] {
    const principal = statement.principal;
    if (principal === undefined) return [];
    if (principal === "*") return [{ type: "*", value: "*" }];
    if (isUnknown(principal)) return [{ type: "unknown", value: principal }];
    return Object.entries(principal).flatMap(([type, values]) => values.map((value) => ({ type, value })));
}

/** `*` or `{ AWS: "*" }`: everyone. */
export function isEveryonePrincipal(statement: NormalizedStatement): boolean {
    const entries = principalEntries(statement);
    return entries.some((e) => e.type === "*" || (e.type.toLowerCase() === "aws" && e.value === "*"));
}
