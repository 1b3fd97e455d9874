/**
 * Command lines of the project's entry points, read with `node:util` `parseArgs`.
 *
 * Two styles share it. The operator tools (`npm run dlq`, `npm run send`) parse
 * strictly and stop at the first mistake ({@link parseToolArgs}, {@link runTool},
 * {@link runAsMain}). `npm start` / `npm run local`, `npm run bench` and
 * `npm run policy` report every mistake at once, so they read the command line
 * leniently ({@link readCommandLine}) and judge each item themselves.
 */
import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { unknownOptionMessage } from "./suggest";
import { TargetError, type ToolTarget } from "./target";

/** One item of a command line, in order: a flag (with its value, if it takes one) or a bare argument. */
export type CommandLineItem =
    | {
          kind: "flag";
          /** Long name, without dashes (a declared short alias resolves to it). */
          name: string;
          /** The flag as typed, without an inline value: `--sqs-port`, `-h`. */
          rawName: string;
          /** The whole argument as typed: `--sqs-port=4566`. */
          raw: string;
          /** Its value; undefined for a flag that takes none, or one whose value is missing. */
          value: string | undefined;
      }
    | { kind: "argument"; raw: string };

export interface CommandLineSpec {
    /** Long flags that take a value (`--flag value` or `--flag=value`). */
    valueFlags?: readonly string[];
    /** Long flags that take none. */
    booleanFlags?: readonly string[];
    /** One-letter aliases, e.g. `{ h: "help" }`. */
    short?: Readonly<Record<string, string>>;
    /** Whether an undeclared long flag takes a value (a registry whose flags are not known up front). @default false */
    undeclaredTakeValues?: boolean;
    /**
     * Whether a declared value flag takes the next argument even when it looks like a flag
     * (`--stack --program` gives `--stack` the value `--program`, for the caller to refuse).
     * @default false: the next `--flag` is read as a flag and the value is missing
     */
    valuesMayLookLikeFlags?: boolean;
}

/**
 * Reads `argv` into flags and arguments without failing: every item comes back, so the
 * caller can report all problems in one go (strict `parseArgs` throws at the first).
 * A flag that takes a value and is followed by another `--flag`, or by nothing, gets
 * `value: undefined`, and that next `--flag` is still read as a flag. A bare `--` is
 * an argument like any other, and flags after it are still flags.
 *
 * @example
 * readCommandLine(["--sqs-port", "4566", "--json"], { valueFlags: ["sqs-port"], booleanFlags: ["json"] });
 * // [{ kind: "flag", name: "sqs-port", rawName: "--sqs-port", raw: "--sqs-port", value: "4566" }, { kind: "flag", name: "json", … }]
 */
export function readCommandLine(argv: readonly string[], spec: CommandLineSpec): CommandLineItem[] {
    const options: ParseArgsOptionsConfig = {};
    for (const name of spec.valueFlags ?? []) options[name] = { type: "string" };
    for (const name of spec.booleanFlags ?? []) options[name] = { type: "boolean" };
    for (const [letter, name] of Object.entries(spec.short ?? {}))
        options[name] = { type: options[name]?.type ?? "boolean", short: letter };
    const items: CommandLineItem[] = [];
    let offset = 0;
    while (offset < argv.length) {
        const args = argv.slice(offset);
        const { tokens } = parseArgs({ args: [...args], options, strict: false, allowPositionals: true, tokens: true });
        let restartAt: number | undefined;
        const read = new Set<number>();
        for (const token of tokens) {
            // A short group (`-abc`) is one argument: the first of its tokens stands for it.
            if (read.has(token.index)) continue;
            read.add(token.index);
            const raw = args[token.index];
            if (token.kind === "positional") {
                items.push({ kind: "argument", raw });
                continue;
            }
            if (token.kind === "option-terminator") {
                // parseArgs reads everything after `--` as arguments; these command lines do not.
                items.push({ kind: "argument", raw });
                restartAt = token.index + 1;
                break;
            }
            const declared = Object.hasOwn(options, token.name) ? options[token.name] : undefined;
            const takesValue = declared ? declared.type === "string" : spec.undeclaredTakeValues === true && token.rawName.startsWith("--");
            const flag = { kind: "flag" as const, name: token.name, rawName: token.rawName, raw };
            if (!takesValue || token.inlineValue) {
                items.push({ ...flag, value: token.value });
                continue;
            }
            // A declared flag got the next argument from parseArgs; an undeclared one did not, so it is read here.
            const next = declared ? token.value : args[token.index + 1];
            if (next === undefined || (next.startsWith("--") && !(declared && spec.valuesMayLookLikeFlags))) {
                items.push({ ...flag, value: undefined });
                if (declared && next !== undefined) {
                    // parseArgs took the next flag as this one's value: read again from that flag.
                    restartAt = token.index + 1;
                    break;
                }
                continue;
            }
            if (!declared) read.add(token.index + 1);
            items.push({ ...flag, value: next });
        }
        if (restartAt === undefined) break;
        offset += restartAt;
    }
    return items;
}

/** A command-line mistake: printed with the tool's usage, exit code 2. */
export class UsageError extends Error {}

/** Where a tool writes (tests pass collectors). */
export interface ToolIo {
    out(text: string): void;
    err(text: string): void;
}

/**
 * Strict `parseArgs` for an operator tool: on a mistake, prints it with the usage and
 * returns undefined (the caller exits 2).
 *
 * @example
 * const parsed = parseToolArgs(argv, { stack: { type: "string" } }, USAGE, io);
 * if (!parsed) return 2;
 */
export function parseToolArgs<T extends ParseArgsOptionsConfig>(argv: readonly string[], options: T, usage: string, io: ToolIo) {
    // parseArgs' own text for an unknown option advises `-- "--flag"`, which npm swallows: name the closest option instead.
    const unknown = unknownOption(argv, options);
    if (unknown) {
        io.err(`error: ${unknown}\n\n${usage}`);
        return undefined;
    }
    try {
        return parseArgs({ args: [...argv], allowPositionals: true, options });
    } catch (error) {
        io.err(`error: ${(error as Error).message}\n\n${usage}`);
        return undefined;
    }
}

/** The first option in `argv` that `options` does not declare, as a sentence with the closest declared one; else undefined. */
function unknownOption(argv: readonly string[], options: ParseArgsOptionsConfig): string | undefined {
    const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
    const shorts = new Set(Object.values(options).map((option) => option.short));
    for (const token of tokens) {
        if (token.kind === "option-terminator") return undefined;
        if (token.kind !== "option") continue;
        const declared = token.rawName.startsWith("--") ? Object.hasOwn(options, token.name) : shorts.has(token.rawName.slice(1));
        if (!declared) return unknownOptionMessage(argv[token.index], Object.keys(options));
    }
    return undefined;
}

/**
 * Runs a tool's command and turns what it throws into an exit code: a {@link UsageError}
 * is printed with the usage (2), a {@link TargetError} alone (2), anything else as
 * `name: message` (1). The target the command opened is closed either way.
 *
 * @example
 * return runTool(USAGE, io, async (open) => {
 *     const target = open(resolveTarget(values.stack, env));
 *     return list(target);
 * });
 */
export async function runTool(
    usage: string,
    io: ToolIo,
    command: (open: (target: ToolTarget) => ToolTarget) => Promise<number>,
): Promise<number> {
    let opened: ToolTarget | undefined;
    try {
        return await command((target) => (opened = target));
    } catch (error) {
        if (error instanceof UsageError) {
            io.err(`error: ${error.message}\n\n${usage}`);
            return 2;
        }
        if (error instanceof TargetError) {
            io.err(`error: ${error.message}`);
            return 2;
        }
        io.err(`error: ${(error as Error).name}: ${(error as Error).message}`);
        return 1;
    } finally {
        opened?.close();
    }
}

/**
 * Runs a tool as the process's main module: stdout/stderr lines, its code as the exit code,
 * an unexpected failure's stack on stderr with code 1.
 *
 * @example
 * if (require.main === module) runAsMain((io) => runDlq(process.argv.slice(2), io));
 */
export function runAsMain(run: (io: ToolIo) => Promise<number>): void {
    run({ out: (text) => process.stdout.write(text + "\n"), err: (text) => process.stderr.write(text + "\n") }).then(
        (code) => exitWhenWritten(code),
        (error) => {
            process.stderr.write(`error: ${(error as Error).stack ?? error}\n`);
            exitWhenWritten(1);
        },
    );
}

/**
 * Exits once stdout and stderr have handed everything to the OS. Writes to a pipe are asynchronous
 * in Node, so `process.exit` right after a large write (a 1 MB letter piped to `less`) would cut it
 * short; a write's callback runs after every earlier write to that stream.
 */
function exitWhenWritten(code: number): void {
    let pending = 2;
    const done = () => {
        if (--pending === 0) process.exit(code);
    };
    // A reader that went away (`| head`) is not a failure of the tool.
    process.stdout.once("error", () => process.exit(code));
    process.stdout.write("", done);
    process.stderr.write("", done);
}
