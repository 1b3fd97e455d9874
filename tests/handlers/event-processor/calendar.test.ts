/**
 * Real calendar dates and times, everywhere: the shared module (handlers/shared/calendar.ts)
 * agrees with ajv-formats' `date`, `date-time` and `time` (the formats the published JSON
 * Schemas declare), and every date/date-time field of the contract and the email API's
 * `sendAt` go through it. RFC 3339 §5.6 (grammar) and §5.7 (restrictions, leap seconds).
 */
import { expect } from "chai";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import fc from "fast-check";
import * as fs from "node:fs";
import * as path from "node:path";
import { safeParse } from "valibot";
import { createEnvelopeValidator, createEventTypeRegistry, EVENT_TYPE_NAMES } from "../../../handlers/event-processor";
import { isRfc3339Date, isRfc3339DateTime, isRfc3339Time, parseRfc3339DateTime } from "../../../handlers/shared/calendar";
import { parseSendAt, validateEmailRequest } from "../../../handlers/email/request";
import { EMAIL_API_DEFAULTS } from "../../../contracts/email-service";
import { SCHEMAS_DIR } from "../../../scripts/generate-schemas";
import { validEvent } from "../../support/factories/events";

const ajv = new Ajv({ strict: true });
addFormats(ajv);
const ajvDate = ajv.compile({ type: "string", format: "date" });
const ajvDateTime = ajv.compile({ type: "string", format: "date-time" });
const ajvTime = ajv.compile({ type: "string", format: "time" });

const pad = (n: number, width = 2) => String(n).padStart(width, "0");
/** Digits at and around every field's limits (0, 1, 12/13, 28-32, 23/24, 59/60/61, 99). */
const field = fc.constantFrom(0, 1, 2, 9, 10, 11, 12, 13, 23, 24, 28, 29, 30, 31, 32, 45, 59, 60, 61, 99);
const year = fc.constantFrom(1900, 1999, 2000, 2024, 2025, 2026, 2100, 9999, 0);
const zone = fc.constantFrom("Z", "z", "+00:00", "-05:00", "+01:00", "+23:59", "+24:00", "-00:01", "+05:60", "", "+0100", "+01");
const fraction = fc.constantFrom("", ".5", ".123456789", ".0000000001");
const dateText = fc.tuple(year, field, field).map(([y, m, d]) => `${pad(y, 4)}-${pad(m)}-${pad(d)}`);
const timeText = fc.tuple(field, field, field, fraction, zone).map(([h, m, s, f, z]) => `${pad(h)}:${pad(m)}:${pad(s)}${f}${z}`);

describe("calendar dates and times (shared by the event contract and the email API)", () => {
    it("refuses the impossible values that used to be stored or rolled over", () => {
        expect(isRfc3339Date("2026-02-31")).to.equal(false);
        expect(isRfc3339Date("2026-02-29")).to.equal(false);
        expect(isRfc3339Date("2024-02-29")).to.equal(true);
        expect(isRfc3339Date("1900-02-29")).to.equal(false);
        expect(isRfc3339Date("2000-02-29")).to.equal(true);
        expect(isRfc3339DateTime("2026-13-45T25:61:99Z")).to.equal(false);
        expect(isRfc3339DateTime("2026-02-31T00:00:00Z")).to.equal(false);
        expect(isRfc3339Time("12:34:60Z")).to.equal(false);
        expect(isRfc3339Time("12:34:56")).to.equal(false); // a zone is required
    });

    it("leap second policy: 23:59:60 UTC only (after the offset), as an instant the next second", () => {
        expect(isRfc3339Time("23:59:60Z")).to.equal(true);
        expect(isRfc3339Time("00:59:60+01:00")).to.equal(true);
        expect(isRfc3339Time("18:59:60-05:00")).to.equal(true);
        expect(isRfc3339Time("23:59:60+01:00")).to.equal(false);
        expect(parseRfc3339DateTime("2016-12-31T23:59:60Z")?.toISOString()).to.equal("2017-01-01T00:00:00.000Z");
        expect(parseRfc3339DateTime("2030-01-02T10:00:00+0200")?.toISOString()).to.equal("2030-01-02T08:00:00.000Z");
        expect(parseRfc3339DateTime("2026-02-31T00:00:00Z")).to.equal(undefined);
    });

    it("agrees with ajv-formats `date`, `time` and `date-time` around every limit (fast-check)", () => {
        fc.assert(
            fc.property(dateText, timeText, fc.constantFrom("T", "t", " ", "_"), (date, time, separator) => {
                expect(isRfc3339Date(date), date).to.equal(ajvDate(date));
                // One corner where ajv-formats is looser than RFC 3339 §5.6 and we are not: its leap-second branch takes
                // hour 24 or minute 60 when the offset brings them to 23:59 UTC (24:59:00+01:00). The schemas' patterns exclude it too.
                const outOfRange = Number(time.slice(0, 2)) > 23 || Number(time.slice(3, 5)) > 59;
                expect(isRfc3339Time(time), time).to.equal(ajvTime(time) && !outOfRange);
                const dateTime = `${date}${separator}${time}`;
                expect(isRfc3339DateTime(dateTime), dateTime).to.equal(ajvDateTime(dateTime) && !outOfRange);
                if (isRfc3339DateTime(dateTime)) expect(parseRfc3339DateTime(dateTime), dateTime).to.be.instanceOf(Date);
            }),
            { numRuns: 3000, seed: 12 },
        );
    });

    describe("the event contract", () => {
        const envelope = createEnvelopeValidator();
        const registry = createEventTypeRegistry();

        it("rejects an occurredAt that is not a real date and time (invalid_field, naming occurredAt)", () => {
            for (const occurredAt of [
                "2026-02-31T00:00:00Z",
                "2026-02-29T12:00:00Z",
                "2026-01-31T12:34:60Z",
                "2026-04-31T23:59:59+02:00",
            ]) {
                const result = envelope(validEvent({ occurredAt }));
                expect(result.ok, occurredAt).to.equal(false);
                if (!result.ok) {
                    expect(result.reason).to.equal("invalid_field");
                    expect(result.detail).to.match(/occurredAt/);
                }
            }
            expect(envelope(validEvent({ occurredAt: "2016-12-31T23:59:60Z" })).ok).to.equal(true);
        });

        it("rejects impossible dates in every date / date-time field of every event type", () => {
            const shipment = validEvent({ type: "shipment.dispatched" });
            const badShipment = safeParse(registry["shipment.dispatched"].data, { ...shipment.data, estimatedDeliveryDate: "2026-02-31" });
            expect(badShipment.success).to.equal(false);
            const subscription = validEvent({ type: "subscription.cancelled" });
            for (const effectiveAt of ["2026-13-45T25:61:99Z", "2026-02-31T00:00:00Z", "2026-01-01T12:34:60Z"]) {
                expect(
                    safeParse(registry["subscription.cancelled"].data, { ...subscription.data, effectiveAt }).success,
                    effectiveAt,
                ).to.equal(false);
            }
            expect(safeParse(registry["subscription.cancelled"].data, subscription.data).success).to.equal(true);
        });

        it("the published JSON Schemas declare the same formats and reject the same values", () => {
            for (const type of EVENT_TYPE_NAMES) {
                const schema = JSON.parse(fs.readFileSync(path.join(SCHEMAS_DIR, `${type}.schema.json`), "utf8"));
                expect(schema.properties.occurredAt.format, type).to.equal("date-time");
                const validate = ajv.compile(schema);
                expect(validate(validEvent({ type, occurredAt: "2026-02-31T00:00:00Z" })), type).to.equal(false);
            }
            const shipment = JSON.parse(fs.readFileSync(path.join(SCHEMAS_DIR, "shipment.dispatched.schema.json"), "utf8"));
            expect(shipment.properties.data.properties.estimatedDeliveryDate.format).to.equal("date");
            const subscription = JSON.parse(fs.readFileSync(path.join(SCHEMAS_DIR, "subscription.cancelled.schema.json"), "utf8"));
            expect(subscription.properties.data.properties.effectiveAt.format).to.equal("date-time");
        });
    });

    describe("the email API's sendAt", () => {
        it("is a 400 naming sendAt for 2026-02-31T00:00:00Z (Date would roll it over to 3 March)", () => {
            expect(parseSendAt("2026-02-31T00:00:00Z")).to.be.a("string");
            const result = validateEmailRequest(
                { from: "a@example.com", to: ["b@example.com"], subject: "s", text: "t", sendAt: "2026-02-31T00:00:00Z" },
                EMAIL_API_DEFAULTS.limits,
                new Date("2026-02-20T00:00:00Z"),
            );
            expect(result.success).to.equal(false);
            if (!result.success) expect(result.errors.map((e) => e.field)).to.deep.equal(["sendAt"]);
            expect((parseSendAt("2026-02-28T00:00:00Z") as Date).toISOString()).to.equal("2026-02-28T00:00:00.000Z");
        });
    });
});
