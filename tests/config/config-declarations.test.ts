/**
 * `Pulumi.yaml` declares every setting with the type, default and secrecy the valibot
 * sections define (config/declarations.ts derives them), so `pulumi config`, Pulumi Cloud
 * and the CLI's own checks agree with the program. Both sides are derived, so a section
 * that gains a key fails here until Pulumi.yaml declares it.
 * Pulumi docs: "Pulumi project file reference" (config options, template options).
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { CONFIG_NAMESPACE, parseStackConfig } from "../../config";
import { projectConfigDeclarations, type ConfigDeclaration } from "../../config/declarations";
import { DEFAULTS, EMAIL_SERVICE_DEFAULTS } from "../../components/shared/defaults";
import {
    defaultSettingsTable,
    emailConfigurationTable,
    GENERATED_FILES,
    pulumiYamlConfigBlock,
    REGENERATE_COMMAND,
    staleGeneratedFiles,
} from "../../scripts/generate-config-docs";

const ROOT = path.resolve(__dirname, "..", "..");
const project = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));

/** The project-namespaced entries of a `config:` block, by unqualified key. */
function projectEntries(config: Record<string, any>): Record<string, any> {
    const out: Record<string, any> = {};
    for (const [key, value] of Object.entries(config ?? {})) {
        if (!key.includes(":")) out[key] = value;
        else if (key.startsWith(`${CONFIG_NAMESPACE}:`)) out[key.slice(CONFIG_NAMESPACE.length + 1)] = value;
    }
    return out;
}

/** Every disagreement between a `config:` block and the derived declarations. */
function disagreements(config: Record<string, any>, derived: Record<string, ConfigDeclaration>): string[] {
    const declared = projectEntries(config);
    const problems: string[] = [];
    for (const key of Object.keys(derived))
        if (!(key in declared)) problems.push(`${key}: in the valibot sections, not declared in Pulumi.yaml`);
    for (const key of Object.keys(declared))
        if (!(key in derived)) problems.push(`${key}: declared in Pulumi.yaml, unknown to the valibot sections`);
    for (const [key, want] of Object.entries(derived)) {
        const got = declared[key];
        if (!got || typeof got !== "object") continue;
        if (typeof got.description !== "string" || got.description.trim().length < 10) problems.push(`${key}: needs a description`);
        for (const field of ["type", "items", "default", "secret"] as const) {
            if (JSON.stringify(got[field]) !== JSON.stringify(want[field]))
                problems.push(
                    `${key}.${field}: Pulumi.yaml has ${JSON.stringify(got[field])}, the section implies ${JSON.stringify(want[field])}`,
                );
        }
    }
    return problems;
}

/** A default as the CLI hands it to the program: primitives as text, lists and objects as JSON. */
function asCliGivesIt(value: unknown): string {
    return value !== null && typeof value === "object" ? JSON.stringify(value) : String(value);
}

describe("Pulumi.yaml declares every setting the program validates", () => {
    const derived = projectConfigDeclarations();

    it("type, default, secret and a description for every key, and no other key", () => {
        expect(Object.keys(derived).length).to.be.greaterThan(40);
        expect(disagreements(project.config, derived)).to.deep.equal([]);
    });

    it("the agreement check fails when the file and the sections disagree", () => {
        const tampered = structuredClone(project.config);
        tampered.batchSize.default = 7;
        delete tampered.logLevel;
        tampered.emailSmtpPassword.secret = false;
        tampered.bogusKey = { type: "string", description: "not in any section", default: "" };
        const problems = disagreements(tampered, derived);
        expect(problems).to.include("batchSize.default: Pulumi.yaml has 7, the section implies 100");
        expect(problems).to.include("logLevel: in the valibot sections, not declared in Pulumi.yaml");
        expect(problems).to.include("bogusKey: declared in Pulumi.yaml, unknown to the valibot sections");
        expect(problems.some((p) => p.startsWith("emailSmtpPassword.secret"))).to.equal(true);
    });

    it("follows the CLI's rules: typed defaults match their type, arrays have items, no typed secret has a default, every key has a default", () => {
        const matches = (type: string, value: unknown): boolean =>
            type === "string"
                ? typeof value === "string"
                : type === "integer"
                  ? Number.isInteger(value)
                  : type === "boolean"
                    ? typeof value === "boolean"
                    : Array.isArray(value);
        for (const [key, d] of Object.entries<any>(projectEntries(project.config))) {
            if (d.type) expect(["string", "integer", "boolean", "array"], key).to.include(d.type);
            if (d.type === "array") expect(d.items?.type, `${key}.items`).to.be.oneOf(["string", "integer", "boolean"]);
            if (d.type && d.default !== undefined) expect(matches(d.type, d.default), `${key} default is a ${d.type}`).to.equal(true);
            if (d.type && d.secret)
                expect(d.default, `${key}: a typed secret's default would fail "must be encrypted"`).to.equal(undefined);
            // Without a default the CLI demands the key of every stack ("Stack 'x' is missing configuration value").
            expect(d.default, `${key} has a default`).to.not.equal(undefined);
        }
    });

    it("the program with every declared default (as the CLI passes them) equals the program with none", () => {
        const withDefaults: Record<string, string> = { "aws:region": "eu-west-1" };
        for (const [key, d] of Object.entries<any>(projectEntries(project.config)))
            withDefaults[`${CONFIG_NAMESPACE}:${key}`] = asCliGivesIt(d.default);
        const plain = (value: unknown) => JSON.parse(JSON.stringify(value)); // an unset optional setting may be present as undefined
        expect(plain(parseStackConfig(withDefaults))).to.deep.equal(plain(parseStackConfig({ "aws:region": "eu-west-1" })));
    });

    it("the template asks a new stack for its region, owner and cost centre, all declared settings", () => {
        const template = project.template;
        expect(template.description).to.be.a("string").with.length.greaterThan(20);
        expect(Object.keys(template.config)).to.include.members([
            "aws:region",
            `${CONFIG_NAMESPACE}:owner`,
            `${CONFIG_NAMESPACE}:costCenter`,
        ]);
        const declared = projectEntries(project.config);
        for (const [key, entry] of Object.entries<any>(template.config)) {
            expect(entry.description, key).to.be.a("string");
            if (key.startsWith(`${CONFIG_NAMESPACE}:`)) expect(declared, key).to.have.property(key.slice(CONFIG_NAMESPACE.length + 1));
        }
        // The CLI's schema: only description, default, secret per template key.
        for (const entry of Object.values<any>(template.config))
            expect(Object.keys(entry).every((k) => ["description", "default", "secret"].includes(k))).to.equal(true);
        expect(project.config["pulumi:tags"].value["pulumi:template"]).to.equal(project.name);
    });
});

describe("defaults are written once (components/shared/defaults.ts); Pulumi.yaml and the docs' tables are generated from them", () => {
    it(`Pulumi.yaml, README.md and docs/email-service.md are what \`${REGENERATE_COMMAND}\` writes`, () => {
        const stale = staleGeneratedFiles();
        expect(stale, `stale: ${stale.join(", ")}; run \`${REGENERATE_COMMAND}\` and commit the result`).to.deep.equal([]);
    });

    it("a hand edit of a generated default is detected, in each generated file", () => {
        const edits: Record<string, [string, string]> = {
            "Pulumi.yaml": ["    default: 262144\n", "    default: 131072\n"],
            "README.md": [`| ${DEFAULTS.processorMemoryMb} MB / ${DEFAULTS.processorTimeoutSeconds} s |`, "| 512 MB / 30 s |"],
            "docs/email-service.md": [`| ${EMAIL_SERVICE_DEFAULTS.worker.memorySizeMb} / 60 |`, "| 1024 / 60 |"],
        };
        for (const { file, render } of GENERATED_FILES) {
            const committed = fs.readFileSync(path.join(ROOT, file), "utf8");
            const [from, to] = edits[file];
            expect(committed, file).to.include(from);
            const edited = committed.replace(from, to);
            expect(render(edited), file).to.not.equal(edited);
            expect(render(edited), `${file}: regenerating restores it`).to.equal(committed);
        }
    });

    it("the generated values follow defaults.ts: the tables and Pulumi.yaml print each default", () => {
        const block = YAML.parse(pulumiYamlConfigBlock(project.name)).config;
        expect(block.processorMemoryMb.default).to.equal(DEFAULTS.processorMemoryMb);
        expect(block.emailWorkerMemoryMb.default).to.equal(EMAIL_SERVICE_DEFAULTS.worker.memorySizeMb);
        expect(block.emailSmtp.description).to.include(`port: ${EMAIL_SERVICE_DEFAULTS.smtp.port}`);
        expect(defaultSettingsTable()).to.include(
            `| ${DEFAULTS.batchSize} / ${DEFAULTS.maxBatchingWindowSeconds} s / ${DEFAULTS.maxConcurrency}:`,
        );
        const w = EMAIL_SERVICE_DEFAULTS.worker;
        expect(emailConfigurationTable()).to.include(
            `| \`emailWorkerMemoryMb\` / \`emailWorkerTimeoutSeconds\` | ${w.memorySizeMb} / ${w.timeoutSeconds} |`,
        );
    });
});
