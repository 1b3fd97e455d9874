/**
 * `npm run dlq -- <list|show|redrive> [options]`: inspect and redrive the dead-letter
 * queues of the event processor and the email service, on the running local pipeline
 * (`.local/pipeline.json`) or a deployed stack (`--stack NAME`).
 *
 * Exit codes: 0 done; 1 a message could not be moved or AWS refused a call; 2 bad usage
 * or no target.
 */
import { parseToolArgs, runAsMain, runTool, UsageError, type ToolIo } from "./command-line";
import {
    DeadLetter,
    DeadLetterGroup,
    describeLetter,
    groupDeadLetters,
    REDRIVE_IS_SAFE,
    RedriveResult,
    redriveDeadLetters,
    RETRIES_EXHAUSTED,
    scanDeadLetters,
} from "./dead-letters";
import { resolveTarget, SYSTEMS, SystemName, SystemQueues, TargetError, ToolTarget } from "./target";

export const DLQ_USAGE = `Usage: npm run dlq -- <command> [options]

Commands:
  list [--system events|email] [--json]    DLQ messages grouped by reason, with counts, oldest age and a sample id
  show <messageId>                         one message and its attributes (email: never recipients, subject or body)
  redrive [--reason CODE | --retries-exhausted] [--limit N] [--system S] [--yes]
                                           move messages back to their source queue; without --yes, a dry run

Options:
  --stack NAME   a deployed stack (reads \`pulumi stack output --json\`; standard AWS credentials)
                 default: the running \`npm run local\` (.local/pipeline.json)
  --help         this text`;

type Io = ToolIo;

function systemsOf(target: ToolTarget, only: string | undefined): SystemQueues[] {
    if (only !== undefined && !(SYSTEMS as readonly string[]).includes(only)) {
        throw new UsageError(`--system must be one of ${SYSTEMS.join(", ")}, got ${JSON.stringify(only)}`);
    }
    const chosen = SYSTEMS.filter((s) => only === undefined || s === only)
        .map((s) => target.systems[s])
        .filter((q): q is SystemQueues => q !== undefined);
    if (chosen.length === 0) throw new TargetError(`${target.name} has no ${only ?? "event or email"} dead-letter queue.`);
    return chosen;
}

/** `1234` → `20m 34s`. */
export function formatAge(seconds: number): string {
    if (seconds < 60) return `${seconds}s`;
    if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
    if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`;
    return `${Math.floor(seconds / 86_400)}d ${Math.floor((seconds % 86_400) / 3600)}h`;
}

function table(rows: string[][]): string {
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    return rows
        .map((r) =>
            r
                .map((cell, i) => cell.padEnd(widths[i]))
                .join("  ")
                .trimEnd(),
        )
        .join("\n");
}

async function list(target: ToolTarget, systems: SystemQueues[], json: boolean, io: Io): Promise<number> {
    const groups: DeadLetterGroup[] = [];
    const totals: Array<{ system: SystemName; approximateTotal: number; inspected: number }> = [];
    for (const queues of systems) {
        const scan = await scanDeadLetters(target.sqs, queues, { holdSeconds: 30 });
        try {
            groups.push(...groupDeadLetters(scan.letters));
            totals.push({ system: queues.system, approximateTotal: scan.approximateTotal, inspected: scan.letters.length });
        } finally {
            await scan.release();
        }
    }
    if (json) {
        io.out(JSON.stringify({ target: target.name, groups, queues: totals }, null, 2));
        return 0;
    }
    io.out(`Dead-letter queues of ${target.name}`);
    for (const total of totals) {
        const mine = groups.filter((g) => g.system === total.system);
        io.out(
            `\n${total.system}: ${total.inspected} message(s)${total.approximateTotal > total.inspected ? ` inspected of about ${total.approximateTotal}` : ""}`,
        );
        if (mine.length === 0) continue;
        io.out(
            table([
                ["REASON", "COUNT", "OLDEST", "SAMPLE ID"],
                ...mine.map((g) => [g.reason, String(g.count), formatAge(g.oldestAgeSeconds), g.sampleId]),
            ]),
        );
    }
    if (groups.length) {
        io.out(
            `\nNext: \`npm run dlq -- show <id>\`; after fixing the cause, \`npm run dlq -- redrive --reason <CODE>\` (or --retries-exhausted).`,
        );
    }
    return 0;
}

async function show(target: ToolTarget, systems: SystemQueues[], id: string, io: Io): Promise<number> {
    for (const queues of systems) {
        const scan = await scanDeadLetters(target.sqs, queues, { holdSeconds: 30 });
        try {
            const found: DeadLetter | undefined = scan.letters.find(
                (l) => l.messageId === id || l.messageAttributes.sourceMessageId?.StringValue === id,
            );
            if (found) {
                io.out(JSON.stringify(describeLetter(found), null, 2));
                return 0;
            }
        } finally {
            await scan.release();
        }
    }
    io.err(
        `error: no message ${JSON.stringify(id)} in the dead-letter queue(s) of ${target.name}. \`npm run dlq -- list\` shows sample ids.`,
    );
    return 1;
}

function describeSelection(values: { reason?: string; "retries-exhausted"?: boolean; limit?: string }): string {
    const what = values.reason
        ? `messages rejected as ${values.reason}`
        : values["retries-exhausted"]
          ? `messages whose retries ran out (${RETRIES_EXHAUSTED})`
          : "all messages";
    return values.limit ? `${what}, at most ${values.limit} per queue` : what;
}

/** Checks redrive's options (before any AWS call); returns the limit. */
function redriveLimit(values: { reason?: string; "retries-exhausted"?: boolean; limit?: string }): number | undefined {
    if (values.reason !== undefined && values["retries-exhausted"])
        throw new UsageError("--reason and --retries-exhausted exclude each other");
    if (values.limit === undefined) return undefined;
    if (!/^\d+$/.test(values.limit) || Number(values.limit) < 1)
        throw new UsageError(`--limit must be a whole number of at least 1, got ${JSON.stringify(values.limit)}`);
    return Number(values.limit);
}

async function redrive(
    target: ToolTarget,
    systems: SystemQueues[],
    values: { reason?: string; "retries-exhausted"?: boolean; limit?: string; yes?: boolean },
    io: Io,
): Promise<number> {
    const limit = redriveLimit(values);
    const execute = values.yes === true;
    // fauxqs (the local SQS) does not implement StartMessageMoveTask: locally a whole-DLQ redrive moves messages one by one.
    const useMoveTask = target.kind === "stack";
    io.out(`${execute ? "Redriving" : "Dry run: would redrive"} ${describeSelection(values)} on ${target.name}.`);
    if (!useMoveTask && values.reason === undefined && !values["retries-exhausted"] && limit === undefined) {
        io.out("(The local SQS emulator has no StartMessageMoveTask: messages move one by one, send first, then delete.)");
    }
    const results: RedriveResult[] = [];
    for (const queues of systems) {
        results.push(
            await redriveDeadLetters(
                target.sqs,
                queues,
                { reason: values.reason, retriesExhausted: values["retries-exhausted"], limit },
                { execute, useMoveTask, senderClaimKey: target.senderClaimKey },
            ),
        );
    }
    const whole = values.reason === undefined && !values["retries-exhausted"] && limit === undefined;
    if (useMoveTask && whole && target.senderClaimKey && results.some((r) => r.system === "events" && r.method === "one-by-one")) {
        io.out(
            "(Stack with producers: some event letters carry no sender claim (SQS moved them), so they move one by one, each signed for its own SenderId.)",
        );
    }
    for (const r of results) {
        const how = r.method === "move-task" ? "SQS StartMessageMoveTask (whole DLQ)" : "one by one (send, then delete)";
        if (r.dryRun) {
            io.out(`  ${r.system}: would move ${r.selected} of ${r.examined} message(s) ${how}`);
            continue;
        }
        io.out(
            `  ${r.system}: moved ${r.moved} of ${r.selected} selected (${r.examined} examined) ${how}${r.taskHandle ? `; task ${r.taskHandle}` : ""}`,
        );
        for (const f of r.failed) io.out(`    not moved (still in the DLQ): ${f.messageId}: ${f.error}`);
        for (const f of r.notDeleted) io.out(`    sent but not deleted (a copy stays in the DLQ): ${f.messageId}: ${f.error}`);
    }
    if (!execute) io.out("Nothing was moved. Run again with --yes to move them.");
    io.out(REDRIVE_IS_SAFE);
    return results.some((r) => r.failed.length > 0) ? 1 : 0;
}

/**
 * Runs the CLI. Returns the exit code.
 *
 * @example
 * await runDlq(["list", "--json"], { out: console.log, err: console.error });
 */
export async function runDlq(argv: string[], io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
    const parsed = parseToolArgs(
        argv,
        {
            stack: { type: "string" },
            system: { type: "string" },
            json: { type: "boolean" },
            reason: { type: "string" },
            "retries-exhausted": { type: "boolean" },
            limit: { type: "string" },
            yes: { type: "boolean" },
            help: { type: "boolean", short: "h" },
        },
        DLQ_USAGE,
        io,
    );
    if (!parsed) return 2;
    const { values, positionals } = parsed;
    if (values.help || positionals.length === 0) {
        (values.help ? io.out : io.err)(DLQ_USAGE);
        return values.help ? 0 : 2;
    }
    const [command, ...rest] = positionals;
    return runTool(DLQ_USAGE, io, async (open) => {
        const expected = command === "show" ? 1 : 0;
        if (!["list", "show", "redrive"].includes(command)) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
        if (rest.length !== expected)
            throw new UsageError(
                command === "show" ? "show needs exactly one message id" : `${command} takes no arguments, got ${rest.join(" ")}`,
            );
        const onlyFor: Record<string, string[]> = {
            json: ["list"],
            reason: ["redrive"],
            "retries-exhausted": ["redrive"],
            limit: ["redrive"],
            yes: ["redrive"],
        };
        for (const [option, commands] of Object.entries(onlyFor)) {
            if ((values as Record<string, unknown>)[option] !== undefined && !commands.includes(command))
                throw new UsageError(`--${option} applies to ${commands.join(", ")} only`);
        }
        if (command === "redrive") redriveLimit(values);
        if (values.system !== undefined && !(SYSTEMS as readonly string[]).includes(values.system)) {
            throw new UsageError(`--system must be one of ${SYSTEMS.join(", ")}, got ${JSON.stringify(values.system)}`);
        }
        const target = open(resolveTarget(values.stack, env));
        const systems = systemsOf(target, values.system);
        if (command === "list") return await list(target, systems, values.json === true, io);
        if (command === "show") return await show(target, systems, rest[0], io);
        return await redrive(target, systems, values, io);
    });
}

if (require.main === module) runAsMain((io) => runDlq(process.argv.slice(2), io));
