/**
 * The committed JSON Schemas (schemas/) are what producers in other languages
 * validate against: they must be current, and agree with the handler on the
 * committed examples and on typical mistakes.
 */
import { expect } from "chai";
import Ajv, { ValidateFunction } from "ajv";
import addFormats from "ajv-formats";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { EVENT_TYPE_NAMES, createEnvelopeValidator } from "../../../handlers/event-processor";
import { renderSchemas, SCHEMAS_DIR, staleSchemaFiles } from "../../../scripts/generate-schemas";
import { exampleEvents, validEvent } from "../../support/factories/events";

describe("generated JSON Schemas", () => {
    it("are up to date with the registry (run `npm run schemas` if this fails)", () => {
        expect(staleSchemaFiles()).to.deep.equal([]);
        expect(Object.keys(renderSchemas()).sort()).to.deep.equal(EVENT_TYPE_NAMES.map((t) => `${t}.schema.json`).sort());
    });

    it("detects stale, missing and orphaned files", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "schemas-"));
        try {
            const files = renderSchemas();
            for (const [file, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, file), content);
            expect(staleSchemaFiles(dir)).to.deep.equal([]);
            const [first, second] = Object.keys(files);
            fs.writeFileSync(path.join(dir, first), files[first].replace('"maxLength": 128', '"maxLength": 64'));
            fs.rmSync(path.join(dir, second));
            fs.writeFileSync(path.join(dir, "retired.type.schema.json"), "{}");
            expect(staleSchemaFiles(dir)).to.deep.equal([first, second, "retired.type.schema.json"].sort());
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    describe("agree with the handler", () => {
        let validators: Record<string, ValidateFunction>;
        const envelope = createEnvelopeValidator();
        before(() => {
            const ajv = new Ajv({ allErrors: true, strict: true });
            addFormats(ajv);
            validators = Object.fromEntries(
                EVENT_TYPE_NAMES.map((type) => [
                    type,
                    ajv.compile(JSON.parse(fs.readFileSync(path.join(SCHEMAS_DIR, `${type}.schema.json`), "utf8"))),
                ]),
            );
        });

        it("accept every committed example", () => {
            for (const [type, body] of Object.entries(exampleEvents())) {
                expect(validators[type](body), `${type}: ${JSON.stringify(validators[type].errors)}`).to.equal(true);
            }
        });

        it("reject what the handler rejects: unknown fields, missing fields, bad ids, no timezone, wrong data", () => {
            for (const type of EVENT_TYPE_NAMES) {
                const base = validEvent({ type });
                const { data, ...withoutData } = base;
                const mistakes: Record<string, unknown> = {
                    unknownField: { ...base, priority: "high" },
                    missingData: withoutData,
                    badClientId: { ...base, clientId: "acme retail" },
                    longEventId: { ...base, eventId: "x".repeat(129) },
                    noTimezone: { ...base, occurredAt: "2026-01-31T12:00:00" },
                    wrongType: { ...base, type: "order.exploded" },
                    extraDataField: { ...base, data: { ...data, unexpected: true } },
                };
                for (const [name, body] of Object.entries(mistakes)) {
                    expect(validators[type](body), `${type} ${name}`).to.equal(false);
                }
                expect(envelope(mistakes.badClientId).ok).to.equal(false);
                expect(envelope(mistakes.noTimezone).ok).to.equal(false);
            }
        });
    });
});
