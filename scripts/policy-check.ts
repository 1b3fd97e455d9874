/**
 * `npm run policy`: evaluates the whole policy pack against the program's resources, for each
 * stack, offline. The program runs under Pulumi mocks (local/offline/mock-deployment.ts) with the
 * stack's own config; the pack runs in-process (policies/testing.ts). No CLI, no credentials.
 *
 * Prints a policy x resource table per stack and exits non-zero on any mandatory violation
 * (or on an invalid per-stack pack config, policies/config/<stack>.json).
 *
 * Usage: npm run policy [-- --stack dev --stack localstack] [--program path/to/program.ts]
 *   --stack    a stack with a Pulumi.<stack>.yaml (repeatable; default: dev and localstack)
 *   --program  evaluate another entry point than index.ts (e.g. a branch of the program)
 * Exit status: 0 clean (advisory findings allowed), 1 mandatory violation, 2 bad usage/config.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { readCommandLine } from "../tools/command-line";
import { sharedDeployment } from "../local/offline/mock-deployment";
import { policies } from "../policies/policies";
import { evaluatePack, fromMockedResources, Evaluation, CellStatus } from "../policies/testing";
import type { PackConfig } from "../policies/lib/enforcement";

const ROOT = path.resolve(__dirname, "..");
const DEFAULT_STACKS = ["dev", "localstack"];

interface Options {
    stacks: string[];
    programPath?: string;
}

export function parseArguments(argv: string[]): Options {
    const stacks: string[] = [];
    let programPath: string | undefined;
    const errors: string[] = [];
    for (const item of readCommandLine(argv, {
        valueFlags: ["stack", "program"],
        booleanFlags: ["help"],
        short: { s: "stack", h: "help" },
        valuesMayLookLikeFlags: true,
    })) {
        // Accepted spellings: `--stack NAME`, `-s NAME`, `--stack=NAME`, `--program PATH`, `--help`, `-h`.
        const separate = item.kind === "flag" && item.raw === item.rawName;
        if (item.kind === "flag" && item.name === "stack" && (separate || item.raw.startsWith("--stack="))) {
            if (!separate) stacks.push(item.value ?? "");
            else if (!item.value || item.value.startsWith("-")) errors.push(`${item.rawName} needs a stack name`);
            else stacks.push(item.value);
        } else if (item.kind === "flag" && item.name === "program" && separate) {
            if (!item.value || item.value.startsWith("-")) errors.push("--program needs a path");
            else programPath = path.resolve(item.value);
        } else if (item.kind === "flag" && item.name === "help" && separate) {
            console.log("usage: npm run policy [-- --stack <name> ...] [--program <path>]");
            process.exit(0);
        } else errors.push(`unknown argument ${JSON.stringify(item.raw)}`);
    }
    for (const stack of stacks) {
        if (!fs.existsSync(path.join(ROOT, `Pulumi.${stack}.yaml`))) errors.push(`no stack file Pulumi.${stack}.yaml for --stack ${stack}`);
    }
    if (programPath && !["", ".ts", ".js"].some((ext) => fs.existsSync(programPath + ext)))
        errors.push(`--program ${programPath} does not exist`);
    if (errors.length) throw new Error(errors.join("; "));
    return { stacks: stacks.length ? stacks : DEFAULT_STACKS, programPath: programPath?.replace(/\.(ts|js)$/, "") };
}

/** The per-stack pack config (the same file CI passes with --policy-pack-config). */
export function readPackConfig(stack: string): PackConfig | undefined {
    const file = path.join(ROOT, "policies", "config", `${stack}.json`);
    if (!fs.existsSync(file)) return undefined;
    try {
        return JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (error) {
        throw new Error(`${path.relative(ROOT, file)} is not valid JSON: ${(error as Error).message}`);
    }
}

const SYMBOL: Record<CellStatus, string> = { pass: "ok", violation: "FAIL", "not-applicable": "-", deferred: "?", disabled: "off" };

/** Widest line `npm run policy` prints (a terminal's or a CI log's width). */
export const TABLE_MAX_COLUMNS = 120;

/**
 * The policy x resource table, one block per resource type: the type's line names the policies
 * (numbered, with a legend) that look at it, and each resource of the type gets a row under it.
 * A type is looked at by a handful of the policies, so a block stays narrow however many
 * policies the pack has (one table with a column per policy was 244 columns wide).
 */
export function renderTable(evaluation: Evaluation): string {
    const resources = evaluation.resources.filter((r) => [...evaluation.cells.values()].some((cells) => cells.has(r.urn)));
    const lines: string[] = ["Policies:"];
    policies.forEach((p, i) =>
        lines.push(`  P${String(i + 1).padEnd(3)} ${p.name} (${evaluation.levels.get(p.name) ?? p.enforcementLevel})`),
    );
    const shortType = (type: string) => type.replace(/^aws:/, "").replace(/:[^:]+$/, "");
    const types = [...new Set(resources.map((r) => r.type))];
    const labelWidth = Math.max(8, ...types.map((t) => shortType(t).length), ...resources.map((r) => r.name.length + 2)) + 2;
    const cellWidth = Math.max(5, `P${policies.length}`.length + 1);
    for (const type of types) {
        const ofType = resources.filter((r) => r.type === type);
        const looking = policies
            .map((policy, index) => ({ policy, number: index + 1 }))
            .filter(({ policy }) => ofType.some((r) => evaluation.cells.get(policy.name)?.has(r.urn)));
        lines.push("");
        lines.push(shortType(type).padEnd(labelWidth) + looking.map(({ number }) => `P${number}`.padStart(cellWidth)).join(""));
        for (const r of ofType) {
            const row = looking.map(({ policy }) => {
                const status = evaluation.cells.get(policy.name)?.get(r.urn);
                if (!status) return ".".padStart(cellWidth);
                const level = evaluation.levels.get(policy.name) ?? policy.enforcementLevel;
                return (status === "violation" && level !== "mandatory" ? "warn" : SYMBOL[status]).padStart(cellWidth);
            });
            lines.push(`  ${r.name}`.padEnd(labelWidth) + row.join(""));
        }
    }
    lines.push("");
    lines.push("ok = compliant, FAIL = mandatory violation, warn = advisory violation, - = not applicable,");
    lines.push("? = deferred (unknown value), off = disabled, . = the policy does not look at this resource");
    return lines.join("\n");
}

/** A GitHub Actions workflow command, so CI shows each violation as an annotation. */
export function githubAnnotation(stack: string, v: Evaluation["violations"][number]): string {
    const escapeData = (text: string) => text.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
    const escapeProperty = (text: string) => escapeData(text).replace(/:/g, "%3A").replace(/,/g, "%2C");
    const title = escapeProperty(`${v.policy} (${stack})`);
    const message = escapeData(`${v.resourceName ? `${v.resourceName} (${v.resourceType}): ` : ""}${v.message}`);
    return `::${v.enforcementLevel === "mandatory" ? "error" : "warning"} title=${title}::${message}`;
}

export async function main(argv = process.argv.slice(2)): Promise<number> {
    const options = parseArguments(argv);
    let failed = false;
    for (const stack of options.stacks) {
        const config = readPackConfig(stack);
        const deployment = await sharedDeployment({ stack, programPath: options.programPath });
        const evaluation = await evaluatePack(fromMockedResources(deployment.resources), { stack, project: deployment.project, config });
        console.log(
            `\n=== stack ${stack} (${deployment.region}): ${deployment.resources.length} resources, ${policies.length} policies ===\n`,
        );
        console.log(renderTable(evaluation));
        for (const v of evaluation.violations) {
            console.log(
                `\n[${v.enforcementLevel}] ${v.policy}${v.resourceName ? ` — ${v.resourceName} (${v.resourceType})` : ""}\n  ${v.message.replace(/\n/g, "\n  ")}`,
            );
            if (process.env.GITHUB_ACTIONS === "true") console.log(githubAnnotation(stack, v));
        }
        for (const d of evaluation.deferred) console.log(`\n[deferred] ${d.policy}${d.urn ? ` — ${d.urn}` : ""}: ${d.message}`);
        console.log(
            `\nstack ${stack}: ${evaluation.mandatory.length} mandatory violation(s), ${evaluation.advisory.length} advisory, ${evaluation.deferred.length} deferred.`,
        );
        if (evaluation.mandatory.length > 0) failed = true;
    }
    return failed ? 1 : 0;
}

if (require.main === module) {
    main().then(
        (code) => process.exit(code),
        (error) => {
            console.error(`policy-check: ${error instanceof Error ? error.message : error}`);
            process.exit(2);
        },
    );
}
