/**
 * Real calendar dates and times, one implementation for every handler: the event
 * envelope's `occurredAt`, every `date`/`date-time`/`time` field of the event types,
 * and the email API's `sendAt`.
 *
 * Semantics are those of the JSON Schema formats `date`, `date-time` and `time` as
 * ajv-formats checks them (RFC 3339 §5.6 full-date / full-time / date-time), so a
 * value the handler accepts is exactly a value the published JSON Schemas in
 * schemas/ accept, and the other way round:
 *  - the day must exist in its month (`2026-02-31`, `2026-02-29` and `2026-13-01` are refused);
 *  - hours 00-23, minutes 00-59, seconds 00-59, a time zone (`Z` or `±hh:mm`) is required;
 *  - leap seconds: second `60` is accepted only when the instant is 23:59:60 UTC (after
 *    applying the offset), as RFC 3339 §5.7 and ajv-formats allow; `12:34:60Z` is refused.
 *    Events store the text as sent; turned into an instant ({@link parseRfc3339DateTime}),
 *    a leap second is the first instant of the next second, because POSIX time (and
 *    JavaScript's Date) has no leap seconds.
 *
 * Pure functions and regular expressions only: the Lambda closure serializer copies
 * them into each function's archive.
 */
import { check } from "valibot";

/**
 * The timestamp spelling the event contract asks for (a profile of RFC 3339: `T`, `Z` or `±hh:mm`, up to
 * nanoseconds, hours 00-23, minutes 00-59). Published as the JSON Schema `pattern` next to `format: date-time`.
 */
export const RFC3339_TIMESTAMP_PATTERN =
    /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):([0-5]\d):([0-5]\d|60)(\.\d{1,9})?(Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;

const FULL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
// ajv-formats' time grammar: optional fraction, `z`/`Z` or an offset with optional colon and minutes.
const FULL_TIME = /^(\d\d):(\d\d):(\d\d)(\.\d+)?(z|([+-])(\d\d)(?::?(\d\d))?)?$/i;
const DATE_TIME_SEPARATOR = /t|\s/i;

/** Days in a month of the proleptic Gregorian calendar. */
export function daysInMonth(year: number, month: number): number {
    if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
    return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * An RFC 3339 full-date naming a day that exists (JSON Schema `format: date`).
 *
 * @example
 * isRfc3339Date("2024-02-29"); // true
 * isRfc3339Date("2026-02-31"); // false
 */
export function isRfc3339Date(value: string): boolean {
    const match = FULL_DATE.exec(value);
    if (!match) return false;
    const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
    return month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month);
}

/**
 * An RFC 3339 full-time with a time zone (JSON Schema `format: time`), leap second only at 23:59:60 UTC.
 *
 * @example
 * isRfc3339Time("12:34:56Z");      // true
 * isRfc3339Time("12:34:60Z");      // false
 * isRfc3339Time("23:59:60Z");      // true (a leap second)
 * isRfc3339Time("00:59:60+01:00"); // true (23:59:60 UTC)
 */
export function isRfc3339Time(value: string): boolean {
    const match = FULL_TIME.exec(value);
    if (!match || match[5] === undefined) return false;
    const [hour, minute, second] = [Number(match[1]), Number(match[2]), Number(match[3])];
    const sign = match[6] === "-" ? -1 : 1;
    const offsetHours = Number(match[7] ?? 0);
    const offsetMinutes = Number(match[8] ?? 0);
    if (offsetHours > 23 || offsetMinutes > 59) return false;
    if (hour <= 23 && minute <= 59 && second <= 59) return true;
    if (second !== 60 || hour > 23 || minute > 59) return false;
    const utcMinute = minute - offsetMinutes * sign;
    const utcHour = hour - offsetHours * sign - (utcMinute < 0 ? 1 : 0);
    return (utcHour === 23 || utcHour === -1) && (utcMinute === 59 || utcMinute === -1);
}

/**
 * An RFC 3339 date-time with a time zone (JSON Schema `format: date-time`): a real date and a real time.
 *
 * @example
 * isRfc3339DateTime("2026-01-31T12:00:00Z");   // true
 * isRfc3339DateTime("2026-02-31T00:00:00Z");   // false
 * isRfc3339DateTime("2026-13-45T25:61:99Z");   // false
 */
export function isRfc3339DateTime(value: string): boolean {
    const parts = value.split(DATE_TIME_SEPARATOR);
    return parts.length === 2 && isRfc3339Date(parts[0]) && isRfc3339Time(parts[1]);
}

/**
 * The instant an RFC 3339 date-time names, or `undefined` when it is not a real one.
 * A leap second (`23:59:60Z`) is the first instant of the next second.
 *
 * @example
 * parseRfc3339DateTime("2026-02-31T00:00:00Z"); // undefined (Date would roll over to 3 March)
 * parseRfc3339DateTime("2016-12-31T23:59:60Z")?.toISOString(); // "2017-01-01T00:00:00.000Z"
 */
export function parseRfc3339DateTime(value: string): Date | undefined {
    if (!isRfc3339DateTime(value)) return undefined;
    const [datePart, timePart] = value.split(DATE_TIME_SEPARATOR);
    const leap = timePart.slice(6, 8) === "60";
    const normalized = `${datePart}T${leap ? `${timePart.slice(0, 6)}59${timePart.slice(8)}` : timePart}`.toUpperCase();
    // Date.parse wants `±hh:mm`; ajv also allows `±hhmm` and `±hh`.
    const withOffset = normalized.replace(
        /([+-])(\d\d)(\d\d)?$/,
        (_, sign: string, hh: string, mm?: string) => `${sign}${hh}:${mm ?? "00"}`,
    );
    const millis = Date.parse(withOffset);
    if (Number.isNaN(millis)) return undefined;
    // A leap second is 23:59:59 + 1 s; any fraction of it collapses onto the next second's start.
    return new Date(leap ? Math.floor(millis / 1000) * 1000 + 1000 : millis);
}

/** valibot action: the string is a real RFC 3339 full-date. generate-schemas turns it into `format: date`. */
export function calendarDate(message = "must be a real calendar date (YYYY-MM-DD)") {
    return check<string, string>(isRfc3339Date, message);
}

/** valibot action: the string is a real RFC 3339 date-time with a zone. generate-schemas turns it into `format: date-time`. */
export function calendarDateTime(message = "must be a real calendar date and time with a time zone (RFC 3339)") {
    return check<string, string>(isRfc3339DateTime, message);
}

/** valibot action: the string is a real RFC 3339 full-time with a zone. generate-schemas turns it into `format: time`. */
export function calendarTime(message = "must be a real time of day with a time zone (RFC 3339)") {
    return check<string, string>(isRfc3339Time, message);
}

/** The JSON Schema `format` each calendar check stands for (used by scripts/generate-schemas.ts). */
export const CALENDAR_FORMATS: ReadonlyMap<(value: string) => boolean, "date" | "date-time" | "time"> = new Map([
    [isRfc3339Date, "date"],
    [isRfc3339DateTime, "date-time"],
    [isRfc3339Time, "time"],
] as const);
