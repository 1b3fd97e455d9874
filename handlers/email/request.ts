/**
 * Validation of `POST /v1/emails` bodies with valibot: every field error at once,
 * with paths such as `to[2]`, then the cross-field rules (a body is required,
 * recipient totals, how far ahead `sendAt` may be).
 *
 * Schemas are built inside functions, at run time, so that Pulumi's closure
 * serialization `require`s valibot instead of inlining schema objects.
 */
import v = require("valibot");
import { addressProblem } from "./address";
import type { EmailLimits, EmailRequest, FieldError } from "./types";
import { parseRfc3339DateTime } from "../shared/calendar";

/** Unix seconds beyond this are almost certainly milliseconds. */
const MAX_PLAUSIBLE_UNIX_SECONDS = 99_999_999_999;
/** The fields a request may have; any other key is reported by name. */
export const EMAIL_REQUEST_FIELDS = ["from", "to", "cc", "bcc", "subject", "text", "html", "sendAt"] as const;
const REQUIRED_FIELDS: readonly string[] = ["from", "to", "subject"];
const BLANK = "must not be blank (whitespace only)";

function addressSchema() {
    return v.pipe(
        v.string("must be a string"),
        v.trim(),
        v.rawCheck(({ dataset, addIssue }) => {
            if (!dataset.typed) return;
            const problem = addressProblem(dataset.value);
            if (problem) addIssue({ message: problem });
        }),
    );
}

/** A string that is not empty and not only whitespace (a blank subject or body is a client bug). */
function textSchema() {
    return v.pipe(
        v.string("must be a string"),
        v.nonEmpty("must not be empty"),
        // An empty string already has its error: one message per field.
        v.check((text) => text === "" || text.trim() !== "", BLANK),
    );
}

function recipientsSchema(limits: EmailLimits) {
    return v.pipe(
        v.array(addressSchema(), "must be an array of email addresses"),
        v.maxLength(limits.maxRecipients, `must have at most ${limits.maxRecipients} recipients`),
    );
}

/**
 * The valibot schema of a request body (field rules only). Unknown and missing keys are
 * reported by {@link validateEmailRequest}, one error each: valibot's strictObject stops at
 * the first unknown key and words a missing key as an unknown one.
 *
 * @example
 * v.safeParse(emailRequestSchema(EMAIL_API_DEFAULTS.limits), body);
 */
export function emailRequestSchema(limits: EmailLimits) {
    return v.object(
        {
            from: addressSchema(),
            to: v.pipe(recipientsSchema(limits), v.minLength(1, "must have at least one recipient")),
            cc: v.optional(recipientsSchema(limits), []),
            bcc: v.optional(recipientsSchema(limits), []),
            subject: v.pipe(
                textSchema(),
                v.maxLength(limits.maxSubjectLength, `must be at most ${limits.maxSubjectLength} characters`),
                v.regex(/^[^\r\n]*$/, "must be a single line"),
            ),
            text: v.optional(textSchema()),
            html: v.optional(textSchema()),
            sendAt: v.optional(v.unknown()),
        },
        "must be a JSON object",
    );
}

function pathOf(issue: v.BaseIssue<unknown>): string {
    let out = "";
    for (const item of issue.path ?? []) {
        const key = (item as { key: unknown }).key;
        out += typeof key === "number" ? `[${key}]` : out ? `.${String(key)}` : String(key);
    }
    return out || "body";
}

/**
 * Parses `sendAt` (unix seconds or ISO-8601 with a time zone) to a Date, or returns a message.
 *
 * @example
 * parseSendAt(1767225600); // Date (epoch seconds); a string answer is the field error
 */
export function parseSendAt(value: unknown): Date | string {
    if (typeof value === "number") {
        if (!Number.isInteger(value) || value < 0) return "must be a non-negative integer (unix seconds) or an ISO-8601 timestamp";
        if (value > MAX_PLAUSIBLE_UNIX_SECONDS) return "looks like milliseconds; use unix seconds";
        return new Date(value * 1000);
    }
    if (typeof value === "string") {
        // isoTimestamp fixes the accepted spelling; the shared calendar check refuses what Date would roll over (2026-02-31 -> 3 March).
        const iso = v.safeParse(v.pipe(v.string(), v.isoTimestamp()), value);
        const date = iso.success ? parseRfc3339DateTime(value) : undefined;
        if (date === undefined) return "must be a real ISO-8601 (RFC 3339) date and time with a time zone, e.g. 2030-01-01T09:00:00Z";
        return date;
    }
    return "must be unix seconds (number) or an ISO-8601 timestamp (string)";
}

/** The validated request, or every field error at once. */
export type ValidationResult = { success: true; request: EmailRequest } | { success: false; errors: FieldError[] };

/**
 * Validates a parsed JSON body and reports every problem at once.
 *
 * @example
 * const result = validateEmailRequest(JSON.parse(body), limits, new Date());
 * if (!result.success) return badRequest(result.errors);
 */
export function validateEmailRequest(input: unknown, limits: EmailLimits, now: Date): ValidationResult {
    if (input === null || typeof input !== "object" || Array.isArray(input)) {
        return { success: false, errors: [{ field: "body", message: "must be a JSON object" }] };
    }
    const errors: FieldError[] = [];
    const raw = input as Record<string, unknown>;
    const known: readonly string[] = EMAIL_REQUEST_FIELDS;
    const missing = REQUIRED_FIELDS.filter((field) => raw[field] === undefined);
    for (const field of missing) errors.push({ field, message: "is required" });
    const parsed = v.safeParse(emailRequestSchema(limits), input, { abortEarly: false });
    if (!parsed.success) {
        for (const issue of parsed.issues) {
            const field = pathOf(issue);
            if (!missing.includes(field)) errors.push({ field, message: issue.message });
        }
    }
    // Every unknown key, by name (a typo such as `bbc` must not silently drop recipients).
    for (const key of Object.keys(raw)) if (!known.includes(key)) errors.push({ field: key === "" ? '""' : key, message: "unknown field" });

    // Cross-field rules, checked on the raw input so that they add to the field errors.
    if (raw.text === undefined && raw.html === undefined) {
        errors.push({ field: "text", message: "text or html is required" });
    }
    const count = (list: unknown) => (Array.isArray(list) ? list.length : 0);
    const total = count(raw.to) + count(raw.cc) + count(raw.bcc);
    if (total > limits.maxRecipients) {
        errors.push({
            field: "recipients",
            message: `to, cc and bcc together must have at most ${limits.maxRecipients} recipients (got ${total})`,
        });
    }
    let sendAt: Date | undefined;
    if (raw.sendAt !== undefined) {
        const parsedSendAt = parseSendAt(raw.sendAt);
        if (typeof parsedSendAt === "string") {
            errors.push({ field: "sendAt", message: parsedSendAt });
        } else if (parsedSendAt.getTime() > now.getTime() + limits.maxScheduleAheadDays * 86_400_000) {
            errors.push({ field: "sendAt", message: `must be at most ${limits.maxScheduleAheadDays} days ahead` });
        } else {
            sendAt = parsedSendAt;
        }
    }

    if (errors.length > 0 || !parsed.success) {
        return { success: false, errors: dedupe(errors) };
    }
    const value = parsed.output;
    const request: EmailRequest = {
        from: value.from,
        to: value.to,
        cc: value.cc,
        bcc: value.bcc,
        subject: value.subject,
        ...(value.text !== undefined ? { text: value.text } : {}),
        ...(value.html !== undefined ? { html: value.html } : {}),
        ...(sendAt ? { sendAt } : {}),
    };
    return { success: true, request };
}

function dedupe(errors: FieldError[]): FieldError[] {
    const seen = new Set<string>();
    return errors.filter((error) => {
        const key = `${error.field}\u0000${error.message}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
    });
}
