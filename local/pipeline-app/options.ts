/**
 * Command-line flags and environment variables of `npm start` / `npm run local`.
 * Every problem is collected before one {@link LocalOptionsError} is thrown, so a
 * developer fixes all of them in one go.
 */

import * as fs from "node:fs";
import * as path from "node:path";
import { readCommandLine } from "../../tools/command-line";
import { unknownOptionMessage } from "../../tools/suggest";

const ROOT = path.resolve(__dirname, "..", "..");

/** Stacks with a `Pulumi.<stack>.yaml` in the repo. */
export function availableStacks(): string[] {
    return fs
        .readdirSync(ROOT)
        .map((file) => /^Pulumi\.(.+)\.yaml$/.exec(file)?.[1])
        .filter((stack): stack is string => Boolean(stack));
}

/** Which of the two commands is running. */
export type LocalMode = "start" | "local";

export interface LocalOptions {
    mode: LocalMode;
    /** Pulumi stack whose config the pipeline is built from. @default "localstack" when Pulumi.localstack.yaml exists, else "dev" */
    stack?: string;
    /** fauxqs (SQS) port. @default a free port */
    sqsPort?: number;
    /** DynamoDB Local port. @default a free port */
    dynamodbPort?: number;
    /** The local console's port (`local` only). @default a free port */
    consolePort?: number;
    /** Number of valid events per tenant in the demo traffic (`start` only). @default 20 */
    eventsPerClient: number;
    /** Number of demo tenants (`start` only). @default 4 */
    clients: number;
    /** Give up waiting for the demo traffic to be accounted for after this many seconds (`start` only). @default 45 */
    timeoutSeconds: number;
    /** Print the summary as JSON instead of a table (`start` only). @default false */
    json: boolean;
    /** Print progress lines. @default true */
    progress: boolean;
    /** Stream functions' own logs to stderr instead of .local/logs. @default false */
    verbose: boolean;
    help: boolean;
}

/** Raised for bad flags or environment variables; `problems` lists each one. */
export class LocalOptionsError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(`Invalid options:\n${problems.map((problem) => `  - ${problem}`).join("\n")}\nRun with --help for usage.`);
        this.name = "LocalOptionsError";
    }
}

/** The environment variables each flag falls back to. */
export const OPTION_ENVIRONMENT = {
    stack: "LOCAL_STACK",
    sqsPort: "LOCAL_SQS_PORT",
    dynamodbPort: "LOCAL_DYNAMODB_PORT",
    consolePort: "LOCAL_CONSOLE_PORT",
} as const;

/** Every flag either command knows (the other command's flags are refused by name, not as unknown). */
const FLAGS = new Set([
    "stack",
    "sqs-port",
    "dynamodb-port",
    "console-port",
    "clients",
    "events-per-client",
    "timeout",
    "help",
    "verbose",
    "quiet",
    "json",
]);

/**
 * The `--help` text of one command.
 *
 * @example
 * process.stdout.write(usage("local") + "\n");
 */
export function usage(mode: LocalMode): string {
    const common = [
        "  --stack <name>          Pulumi stack config to build from (env LOCAL_STACK; default: localstack, else dev)",
        "  --sqs-port <port>       fauxqs (SQS) port on 127.0.0.1 (env LOCAL_SQS_PORT; default: a free port)",
        "  --dynamodb-port <port>  DynamoDB Local port on 127.0.0.1 (env LOCAL_DYNAMODB_PORT; default: a free port)",
        "  --quiet                 no progress lines",
        "  --verbose               stream the functions' own logs to stderr (default: .local/logs/<function>.log)",
        "  --help                  this text",
    ];
    if (mode === "local") {
        return [
            "Usage: npm run local -- [options]",
            "Runs the pipeline on embedded emulators until SIGINT/SIGTERM, with the local console at consoleUrl.",
            "Its READY JSON goes to .local/pipeline.json (env LOCAL_PIPELINE_FILE) for `npm run dlq` and `npm run send`.",
            "",
            ...common,
            "  --console-port <port>   the local console's port on 127.0.0.1 (env LOCAL_CONSOLE_PORT; default: a free port)",
        ].join("\n");
    }
    return [
        "Usage: npm start -- [options]",
        "Runs the whole pipeline on embedded emulators with demo traffic, prints a summary, exits 0 when every event is accounted for.",
        "",
        ...common,
        "  --clients <n>           demo tenants (default 4, 1..50)",
        "  --events-per-client <n> valid events per tenant (default 20, 1..1000)",
        "  --timeout <seconds>     give up after this long (default 45, 5..600)",
        "  --json                  print the summary as JSON",
    ].join("\n");
}

/**
 * Parses argv (without `node script`) and env.
 *
 * @example
 * parseLocalOptions("local", ["--sqs-port", "4566"], process.env)
 */
export function parseLocalOptions(mode: LocalMode, argv: readonly string[], env: NodeJS.ProcessEnv = {}): LocalOptions {
    const problems: string[] = [];
    const options: LocalOptions = {
        mode,
        eventsPerClient: 20,
        clients: 4,
        timeoutSeconds: 45,
        json: false,
        progress: true,
        verbose: false,
        help: false,
    };
    const startOnly = new Set(["clients", "events-per-client", "timeout", "json"]);
    const localOnly = new Set(["console-port"]);
    const seen = new Map<string, string>();
    const items = readCommandLine(argv, {
        valueFlags: ["stack", "sqs-port", "dynamodb-port", "console-port", "clients", "events-per-client", "timeout"],
        booleanFlags: ["help", "verbose", "quiet", "json"],
        short: { h: "help" },
    });
    for (const item of items) {
        if (item.kind === "argument" || !FLAGS.has(item.name)) {
            problems.push(
                item.kind === "argument" ? `unknown option ${JSON.stringify(item.raw)}` : unknownOptionMessage(item.raw, [...FLAGS]),
            );
            continue;
        }
        const flag = `--${item.name}`;
        if (item.name === "help") options.help = true;
        else if (item.name === "verbose") options.verbose = true;
        else if (item.name === "quiet") options.progress = false;
        else if (item.name === "json") {
            if (mode !== "start") problems.push("--json applies to `npm start` only");
            options.json = true;
        } else {
            if (mode !== "start" && startOnly.has(item.name)) problems.push(`${flag} applies to \`npm start\` only`);
            if (mode !== "local" && localOnly.has(item.name)) problems.push(`${flag} applies to \`npm run local\` only`);
            if (item.value === undefined) problems.push(`${flag} needs a value`);
            else seen.set(flag, item.value);
        }
    }

    const stack = seen.get("--stack") ?? env[OPTION_ENVIRONMENT.stack];
    if (stack !== undefined) {
        if (!/^[A-Za-z0-9_.-]+$/.test(stack))
            problems.push(`stack name ${JSON.stringify(stack)} may only hold letters, digits, '.', '_' and '-'`);
        else options.stack = stack;
    }
    options.sqsPort = port("--sqs-port", seen.get("--sqs-port"), OPTION_ENVIRONMENT.sqsPort, env, problems);
    options.dynamodbPort = port("--dynamodb-port", seen.get("--dynamodb-port"), OPTION_ENVIRONMENT.dynamodbPort, env, problems);
    if (mode === "local")
        options.consolePort = port("--console-port", seen.get("--console-port"), OPTION_ENVIRONMENT.consolePort, env, problems);
    const ports: Array<[string, number | undefined]> = [
        ["SQS", options.sqsPort],
        ["DynamoDB Local", options.dynamodbPort],
        ["the console", options.consolePort],
    ];
    for (const [index, [name, value]] of ports.entries()) {
        const other = ports.slice(index + 1).find(([, otherValue]) => value !== undefined && otherValue === value);
        if (other) problems.push(`${name} and ${other[0]} cannot share port ${value}`);
    }
    options.clients = integer("--clients", seen.get("--clients"), 1, 50, problems) ?? options.clients;
    options.eventsPerClient = integer("--events-per-client", seen.get("--events-per-client"), 1, 1000, problems) ?? options.eventsPerClient;
    options.timeoutSeconds = integer("--timeout", seen.get("--timeout"), 5, 600, problems) ?? options.timeoutSeconds;

    if (problems.length > 0 && !options.help) throw new LocalOptionsError(problems);
    return options;
}

function port(flag: string, fromFlag: string | undefined, envName: string, env: NodeJS.ProcessEnv, problems: string[]): number | undefined {
    const raw = fromFlag ?? (env[envName] === "" ? undefined : env[envName]);
    if (raw === undefined) return undefined;
    const source = fromFlag !== undefined ? flag : `${envName} (environment)`;
    if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 65535) {
        problems.push(`${source} must be a port number from 1 to 65535, got ${JSON.stringify(raw)}`);
        return undefined;
    }
    return Number(raw);
}

function integer(flag: string, raw: string | undefined, min: number, max: number, problems: string[]): number | undefined {
    if (raw === undefined) return undefined;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
        problems.push(`${flag} must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
        return undefined;
    }
    return Number(raw);
}
