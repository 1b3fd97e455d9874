/**
 * The event envelope contract: the top-level fields every message body must have,
 * their limits, and the policy for anything else. valibot schemas are the single
 * source: the handler validates with them and scripts/generate-schemas.ts turns
 * them into the JSON Schemas producers use.
 *
 * Schemas are built inside functions (not at module load) so that the Lambda's
 * closure serializer emits `require("valibot")` instead of inlining schema objects.
 */
import {
    description,
    GenericSchema,
    literal,
    maxLength,
    minLength,
    pipe,
    regex,
    safeParse,
    strictObject,
    string,
    looseObject,
    title,
} from "valibot";
import { CLIENT_ID_PATTERN, type EventRejectionReason } from "../../contracts/event-pipeline";
import { calendarDateTime, RFC3339_TIMESTAMP_PATTERN } from "../shared/calendar";
import type { EventEnvelope, EventIdentity } from "./types";

/** The top-level fields of an event body, in documentation order. Any other field is rejected (`unknown_field`). */
export const ENVELOPE_FIELDS = ["clientId", "eventId", "type", "occurredAt", "data"] as const;

/** Max length of `clientId` and `eventId` (the SQS MessageGroupId limit). */
export const MAX_ID_LENGTH = 128;

/** eventId: printable ASCII without spaces (UUIDs, ULIDs, `order-42#v2` ...). */
export const EVENT_ID_PATTERN = /^[\x21-\x7e]{1,128}$/;
/** occurredAt: RFC 3339 profile of ISO-8601, timezone required (`Z` or `±hh:mm`), up to nanoseconds. */
export const OCCURRED_AT_PATTERN = RFC3339_TIMESTAMP_PATTERN;

/** Field-level schemas; messages never echo the received value (rejection details must not carry payload data). */
function envelopeEntries() {
    return {
        clientId: pipe(
            string("clientId must be a string"),
            minLength(1, "clientId must not be empty"),
            maxLength(MAX_ID_LENGTH, "clientId must be at most 128 characters"),
            regex(CLIENT_ID_PATTERN, "clientId may only contain A-Z a-z 0-9 . _ : -"),
            description("Tenant id, also the SQS MessageGroupId. 1-128 characters from A-Z a-z 0-9 . _ : -"),
        ),
        eventId: pipe(
            string("eventId must be a string"),
            minLength(1, "eventId must not be empty"),
            maxLength(MAX_ID_LENGTH, "eventId must be at most 128 characters"),
            regex(EVENT_ID_PATTERN, "eventId may only contain printable ASCII characters without spaces"),
            description("Producer-chosen id, unique per clientId. 1-128 printable ASCII characters, no spaces."),
        ),
        occurredAt: pipe(
            string("occurredAt must be a string"),
            regex(OCCURRED_AT_PATTERN, "occurredAt must be an ISO-8601 timestamp with a timezone, e.g. 2026-01-31T12:00:00Z"),
            calendarDateTime("occurredAt is not a real calendar date and time (RFC 3339)"),
            description("When the event happened: ISO-8601 (RFC 3339) with a timezone, e.g. 2026-01-31T12:00:00.000Z"),
        ),
    };
}

/**
 * The full JSON shape of one event type's body (envelope + that type's `data`), for JSON Schema generation.
 *
 * @example
 * toJsonSchema(eventBodySchema("order.placed", registry["order.placed"].data, "An order was placed."));
 */
export function eventBodySchema(typeName: string, dataSchema: GenericSchema, typeDescription: string) {
    return pipe(
        strictObject({
            ...envelopeEntries(),
            type: pipe(literal(typeName), description("The event type.")),
            data: pipe(dataSchema, description(typeDescription)),
        }),
        title(typeName),
        description(`An event of type ${typeName} as producers send it on the event queue. Unknown top-level fields are rejected.`),
    );
}

/** Envelope check result: either the typed envelope or a rejection with a payload-free detail. */
export type EnvelopeResult =
    | { readonly ok: true; readonly envelope: EventEnvelope }
    | { readonly ok: false; readonly reason: EventRejectionReason; readonly detail: string; readonly identity: EventIdentity };

/** Validates envelopes; build once per container. */
export type EnvelopeValidator = (body: unknown) => EnvelopeResult;

const SAFE_FIELD_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** Names unknown fields in a rejection detail without echoing anything odd a producer sent as a key. */
function describeFieldNames(names: readonly string[]): string {
    const shown = names.slice(0, 5).map((name) => (SAFE_FIELD_NAME.test(name) ? name : "<unprintable>"));
    return shown.join(", ") + (names.length > shown.length ? ` and ${names.length - shown.length} more` : "");
}

/** Reads whichever ids are individually valid, for logs on a rejected message. */
function identityOf(body: Record<string, unknown>): EventIdentity {
    const pick = (value: unknown, pattern: RegExp) => (typeof value === "string" && pattern.test(value) ? value : undefined);
    return {
        clientId: pick(body.clientId, CLIENT_ID_PATTERN),
        eventId: pick(body.eventId, EVENT_ID_PATTERN),
        type: pick(body.type, /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/),
    };
}

/**
 * Builds the envelope validator. Checks run cheapest first and the first failing
 * rule decides the reason code: not an object, unknown fields, missing fields,
 * empty fields, then each field's format.
 *
 * @example
 * const validate = createEnvelopeValidator();
 * const result = validate(JSON.parse(record.body));
 * if (!result.ok) console.log(result.reason, result.detail);
 */
export function createEnvelopeValidator(): EnvelopeValidator {
    const fieldsSchema = looseObject(envelopeEntries());
    const known = new Set<string>(ENVELOPE_FIELDS);
    return (body) => {
        if (typeof body !== "object" || body === null || Array.isArray(body)) {
            const kind = body === null ? "null" : Array.isArray(body) ? "an array" : `a ${typeof body}`;
            return { ok: false, reason: "body_not_object", detail: `body must be a JSON object, got ${kind}`, identity: {} };
        }
        const record = body as Record<string, unknown>;
        // Identity (for the log line) is only worked out for rejections; the happy path reads the envelope itself.
        const reject = (reason: EventRejectionReason, detail: string): EnvelopeResult => ({
            ok: false,
            reason,
            detail,
            identity: identityOf(record),
        });
        const unknown = Object.keys(record).filter((key) => !known.has(key));
        if (unknown.length > 0) return reject("unknown_field", `unknown top-level field(s): ${describeFieldNames(unknown)}`);
        const missing = ENVELOPE_FIELDS.filter((field) => record[field] === undefined || record[field] === null);
        if (missing.length > 0) return reject("missing_field", `missing field(s): ${missing.join(", ")}`);
        const empty = ENVELOPE_FIELDS.filter((field) => typeof record[field] === "string" && (record[field] as string).trim() === "");
        if (empty.length > 0) return reject("empty_field", `empty field(s): ${empty.join(", ")}`);
        const parsed = safeParse(fieldsSchema, record, { abortPipeEarly: true });
        const problems = parsed.success ? [] : parsed.issues.map((issue) => issue.message);
        if (typeof record.type !== "string") problems.push("type must be a string");
        if (typeof record.data !== "object" || Array.isArray(record.data)) problems.push("data must be a JSON object");
        if (problems.length > 0) return reject("invalid_field", problems.join("; "));
        return { ok: true, envelope: record as unknown as EventEnvelope };
    };
}
