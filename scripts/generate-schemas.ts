/**
 * Generates one JSON Schema per registered event type (envelope + that type's
 * `data`) into schemas/, for producers in any language, from the same valibot
 * schemas the handler validates with.
 *
 *   npm run schemas            # (re)write schemas/*.schema.json
 *   npm run schemas -- --check # exit 1 if the committed files are stale (CI, tests)
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { toJsonSchema } from "@valibot/to-json-schema";
import { readCommandLine, type CommandLineItem } from "../tools/command-line";
import { eventBodySchema } from "../handlers/event-processor/envelope";
import { createEventTypeRegistry } from "../handlers/event-processor/event-types";
import { CALENDAR_FORMATS } from "../handlers/shared/calendar";

export const SCHEMAS_DIR = path.resolve(__dirname, "..", "schemas");

/** File name -> file content for every registered type. Pure: the test compares it with the committed files. */
export function renderSchemas(): Record<string, string> {
    const files: Record<string, string> = {};
    for (const [type, definition] of Object.entries(createEventTypeRegistry())) {
        // errorMode "throw": a schema feature JSON Schema cannot express must fail the build, not vanish silently.
        const schema = toJsonSchema(eventBodySchema(type, definition.data, definition.description), {
            errorMode: "throw",
            // The shared calendar checks are exactly JSON Schema's date / date-time / time formats (ajv-formats semantics).
            overrideAction: ({ valibotAction, jsonSchema }) => {
                const format =
                    valibotAction.type === "check"
                        ? CALENDAR_FORMATS.get((valibotAction as unknown as { requirement: (value: string) => boolean }).requirement)
                        : undefined;
                return format ? { ...jsonSchema, format } : undefined;
            },
        });
        const { $schema, ...rest } = schema;
        const document = { $schema, $id: `https://event-ingestion.example/schemas/${type}.schema.json`, ...rest };
        files[`${type}.schema.json`] = `${JSON.stringify(document, null, 2)}\n`;
    }
    return files;
}

/** Names of files in schemas/ that differ from what the registry generates (missing, stale or orphaned). */
export function staleSchemaFiles(dir = SCHEMAS_DIR): string[] {
    const expected = renderSchemas();
    const present = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith(".schema.json")) : [];
    const stale = Object.entries(expected)
        .filter(([file, content]) => !fs.existsSync(path.join(dir, file)) || fs.readFileSync(path.join(dir, file), "utf8") !== content)
        .map(([file]) => file);
    const orphaned = present.filter((file) => !(file in expected));
    return [...stale, ...orphaned].sort();
}

function main(argv: readonly string[]): number {
    const items = readCommandLine(argv, { booleanFlags: ["check"] });
    const isCheck = (item: CommandLineItem) => item.kind === "flag" && item.name === "check" && item.raw === "--check";
    const unknown = items.filter((item) => !isCheck(item)).map((item) => item.raw);
    if (unknown.length > 0) {
        console.error(`error: unknown argument(s): ${unknown.join(" ")}\nusage: npm run schemas [-- --check]`);
        return 2;
    }
    if (items.some(isCheck)) {
        const stale = staleSchemaFiles();
        if (stale.length > 0) {
            console.error(`schemas/ is stale: ${stale.join(", ")}\nRun \`npm run schemas\` and commit the result.`);
            return 1;
        }
        console.log("schemas/ is up to date.");
        return 0;
    }
    fs.mkdirSync(SCHEMAS_DIR, { recursive: true });
    const files = renderSchemas();
    for (const file of fs.readdirSync(SCHEMAS_DIR).filter((f) => f.endsWith(".schema.json") && !(f in files)))
        fs.rmSync(path.join(SCHEMAS_DIR, file));
    for (const [file, content] of Object.entries(files)) fs.writeFileSync(path.join(SCHEMAS_DIR, file), content);
    console.log(`wrote ${Object.keys(files).length} schemas to ${path.relative(process.cwd(), SCHEMAS_DIR) || "."}/`);
    return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
