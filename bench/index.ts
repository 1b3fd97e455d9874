/**
 * `npm run bench [-- --mode handler,artifact] [--json] [--<mode option> value ...]`
 *
 * A tiny registry: every `bench/<name>.ts` (except this file) that exports
 * `run(options)` is a mode named `<name>`. No edit here is needed to add one.
 * A mode module exports:
 *   - `run(options): Promise<figures>`   figures: a flat-ish JSON object, field names unique across modes
 *   - `format(figures): string[]`        optional, human-readable lines (default: one line per field)
 *   - `description: string`              optional, for --help
 *   - `options: Record<flag, BenchOption>` optional, flags the mode accepts (`--events 5000` -> options.events)
 * A flag goes to every selected mode that declares it (`--events` feeds handler and end-to-end alike).
 * `--json` prints ONE object merging every selected mode's figures (plus `modes`);
 * progress goes to stderr so stdout stays parseable.
 */
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { readCommandLine } from "../tools/command-line";

/** A flag a mode accepts. `parse` throws an Error with a clear message on a bad value. */
export interface BenchOption {
    readonly description: string;
    /** Shown in --help. */
    readonly defaultValue: string;
    parse(raw: string): unknown;
}

/** What a bench module exports. */
export interface BenchModule {
    run(options: Record<string, unknown>): Promise<object>;
    format?(figures: never): string[];
    description?: string;
    options?: Readonly<Record<string, BenchOption>>;
}

/** Raised for bad command lines; printed without a stack trace, exit code 2. */
export class BenchUsageError extends Error {}

/** Parses a positive integer flag value, within bounds. */
export function integerOption(description: string, defaultValue: number, min: number, max: number): BenchOption {
    return {
        description: `${description} (${min}-${max})`,
        defaultValue: String(defaultValue),
        parse(raw) {
            const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
            if (!Number.isSafeInteger(value) || value < min || value > max)
                throw new Error(`must be a whole number from ${min} to ${max}, got "${raw}"`);
            return value;
        },
    };
}

/** Mode names available: one per bench/*.ts file besides this one. */
export function availableModes(dir = __dirname): string[] {
    return fs
        .readdirSync(dir)
        .filter((file) => file.endsWith(".ts") && !file.endsWith(".d.ts") && file !== "index.ts")
        .map((file) => file.slice(0, -".ts".length))
        .sort();
}

function loadMode(name: string, dir = __dirname): BenchModule {
    const mod = createRequire(__filename)(path.join(dir, name)) as Partial<BenchModule>;
    if (typeof mod.run !== "function") throw new BenchUsageError(`bench/${name}.ts does not export run(options); it is not a bench mode`);
    return mod as BenchModule;
}

export interface BenchCommand {
    modes: string[];
    json: boolean;
    help: boolean;
    /** Raw flag values by flag name (without --). */
    flags: Map<string, string>;
}

/** Parses argv into a command; throws {@link BenchUsageError} on anything it does not understand. */
export function parseArgs(argv: readonly string[], known = availableModes()): BenchCommand {
    const command: BenchCommand = { modes: [], json: false, help: false, flags: new Map() };
    // Modes declare their own flags, so every flag but --json and --help takes a value.
    const items = readCommandLine(argv, {
        valueFlags: ["mode"],
        booleanFlags: ["json", "help"],
        short: { h: "help" },
        undeclaredTakeValues: true,
    });
    for (const item of items) {
        if (item.kind === "argument" || (!item.rawName.startsWith("--") && item.raw !== "-h"))
            throw new BenchUsageError(`unexpected argument "${item.raw}"`);
        if (item.name === "json" && item.value === undefined) command.json = true;
        else if (item.name === "help" && item.value === undefined) command.help = true;
        else if (item.value === undefined) throw new BenchUsageError(`--${item.name} needs a value`);
        else if (item.name === "mode")
            command.modes.push(
                ...item.value
                    .split(",")
                    .map((mode) => mode.trim())
                    .filter(Boolean),
            );
        else if (command.flags.has(item.name)) throw new BenchUsageError(`--${item.name} given twice`);
        else command.flags.set(item.name, item.value);
    }
    const unknownModes = command.modes.filter((m) => !known.includes(m));
    if (unknownModes.length > 0) throw new BenchUsageError(`unknown mode(s): ${unknownModes.join(", ")} (available: ${known.join(", ")})`);
    if (command.modes.length === 0) command.modes = [...known];
    command.modes = [...new Set(command.modes)];
    return command;
}

/** Names of the modes (selected or not) that declare `flag`. */
export type FlagOwners = (flag: string) => string[];

/**
 * Gives each selected mode its parsed options; every flag must belong to some selected mode.
 * `owners` finds the modes declaring a flag no selected mode claims, so the error can say
 * which mode to select. @default the modes in `modules`
 */
export function resolveOptions(
    command: BenchCommand,
    modules: Readonly<Record<string, BenchModule>>,
    owners: FlagOwners = (flag) =>
        Object.entries(modules)
            .filter(([, m]) => m.options && flag in m.options)
            .map(([name]) => name),
): Record<string, Record<string, unknown>> {
    const perMode: Record<string, Record<string, unknown>> = {};
    const claimed = new Set<string>();
    const problems: string[] = [];
    for (const mode of command.modes) {
        perMode[mode] = {};
        for (const [flag, spec] of Object.entries(modules[mode].options ?? {})) {
            const raw = command.flags.get(flag);
            if (raw === undefined) continue;
            claimed.add(flag);
            try {
                perMode[mode][flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())] = spec.parse(raw);
            } catch (error) {
                problems.push(`--${flag}: ${(error as Error).message}`);
            }
        }
    }
    for (const flag of command.flags.keys()) {
        if (!claimed.has(flag)) {
            const declaring = owners(flag);
            problems.push(
                declaring.length > 0
                    ? `--${flag} belongs to mode(s) ${declaring.join(", ")}, which are not selected (add --mode ${declaring[0]})`
                    : `unknown flag --${flag} (flags of the selected modes: ${[...new Set(command.modes.flatMap((m) => Object.keys(modules[m].options ?? {}).map((f) => `--${f}`)))].join(", ") || "none"})`,
            );
        }
    }
    if (problems.length > 0) throw new BenchUsageError(problems.join("\n"));
    return perMode;
}

/** Merges figures of several modes into one object; a field two modes both produce is an error, never a silent overwrite. */
export function mergeFigures(results: readonly { mode: string; figures: object }[]): Record<string, unknown> {
    const merged: Record<string, unknown> = { modes: results.map((r) => r.mode) };
    const owner = new Map<string, string>();
    for (const { mode, figures } of results) {
        for (const [field, value] of Object.entries(figures)) {
            if (field in merged)
                throw new Error(`bench modes ${owner.get(field) ?? "index"} and ${mode} both report "${field}"; rename one`);
            owner.set(field, mode);
            merged[field] = value;
        }
    }
    return merged;
}

function usage(modules: Readonly<Record<string, BenchModule>>): string {
    const lines = ["usage: npm run bench -- [--mode <name>[,<name>...]] [--json] [--<option> <value> ...]", "", "modes (default: all):"];
    for (const [name, mod] of Object.entries(modules)) {
        lines.push(`  ${name}${mod.description ? `: ${mod.description}` : ""}`);
        for (const [flag, spec] of Object.entries(mod.options ?? {}))
            lines.push(`      --${flag} <value>  ${spec.description} [default ${spec.defaultValue}]`);
    }
    return lines.join("\n");
}

async function main(argv: readonly string[]): Promise<number> {
    let command: BenchCommand;
    let modules: Record<string, BenchModule>;
    let options: Record<string, Record<string, unknown>>;
    try {
        command = parseArgs(argv);
        const toLoad = command.help ? availableModes() : command.modes;
        modules = Object.fromEntries(toLoad.map((name) => [name, loadMode(name)]));
        if (command.help) {
            console.log(usage(modules));
            return 0;
        }
        // Only the selected modes are loaded; a flag none of them declares is looked up in every mode.
        options = resolveOptions(command, modules, (flag) =>
            availableModes().filter((name) => flag in ((modules[name] ?? loadMode(name)).options ?? {})),
        );
    } catch (error) {
        if (!(error instanceof BenchUsageError)) throw error;
        console.error(`error: ${error.message}\nRun \`npm run bench -- --help\` for usage.`);
        return 2;
    }
    const results: { mode: string; figures: object }[] = [];
    for (const mode of command.modes) {
        console.error(`== bench ${mode}`);
        const figures = await modules[mode].run(options[mode]);
        results.push({ mode, figures });
        if (!command.json) {
            const lines = modules[mode].format
                ? modules[mode].format!(figures as never)
                : Object.entries(figures).map(([k, v]) => `${k}: ${JSON.stringify(v)}`);
            console.log(lines.join("\n"));
        }
    }
    if (command.json) console.log(JSON.stringify(mergeFigures(results)));
    else mergeFigures(results); // same collision check in both output forms
    return 0;
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => (process.exitCode = code),
        (error) => {
            console.error(error);
            process.exitCode = 1;
        },
    );
}
