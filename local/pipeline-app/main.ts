/**
 * Entry point of `npm start` (demo traffic + summary) and `npm run local`
 * (pipeline until SIGINT/SIGTERM). Usage: `local/pipeline-app/main.ts <start|local> [flags]`.
 *
 * Exit codes: 0 success; 1 the pipeline failed (an emulator could not start or
 * crashed, the demo could not account for every event); 2 bad flags or
 * environment; 130/143 stopped by SIGINT/SIGTERM (`npm run local` exits 0 on them,
 * since stopping is how it is meant to end).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { acquireLocalLock, LocalLock } from "./local-lock";
import type { LocalConsole } from "./console/server";
import type { DemoReport } from "./services/types";
import { availableStacks, LocalMode, LocalOptions, LocalOptionsError, parseLocalOptions, usage } from "./options";
import type { LocalPipeline } from "./pipeline";

/**
 * The modules that build and run the pipeline (the AWS SDK, the emulators, the Pulumi program). They load once
 * the flags are good, so a bad flag or `--help` is answered without loading (and transpiling) all of them.
 */
function loadPipelineModules() {
    return Promise.all([
        import("../../tools/target"),
        import("./pipeline"),
        import("./console/server"),
        import("./demo"),
        import("./accounting"),
    ]);
}
type PipelineModules = Awaited<ReturnType<typeof loadPipelineModules>>;

/** The line `npm run local` prints when ready; tools wait for it. */
export const READY_PREFIX = "LOCAL_PIPELINE_READY";

async function main(argv: string[]): Promise<number> {
    const mode = argv[0] as LocalMode;
    if (mode !== "start" && mode !== "local") {
        process.stderr.write("usage: local/pipeline-app/main.ts <start|local> [flags]\n");
        return 2;
    }
    let options: LocalOptions;
    try {
        options = parseLocalOptions(mode, argv.slice(1), process.env);
    } catch (error) {
        if (error instanceof LocalOptionsError) {
            process.stderr.write(`error: ${error.message}\n`);
            return 2;
        }
        throw error;
    }
    if (options.help) {
        process.stdout.write(usage(mode) + "\n");
        return 0;
    }
    const stacks = availableStacks();
    if (options.stack !== undefined && !stacks.includes(options.stack)) {
        process.stderr.write(
            `error: Invalid options:\n  - no stack "${options.stack}" (no Pulumi.${options.stack}.yaml); stacks: ${stacks.join(", ")}\n`,
        );
        return 2;
    }
    const modules = await loadPipelineModules();
    const [{ localPipelineFile }] = modules;
    // One `npm run local` per READY file: a second one would take over the file the tools and the first one use.
    let lock: LocalLock | undefined;
    if (mode === "local") {
        const taken = acquireLocalLock(localPipelineFile(process.env));
        if ("runningPid" in taken) {
            process.stderr.write(`error: ${taken.message}\n`);
            return 2;
        }
        lock = taken;
    }
    try {
        return await run(mode, options, modules);
    } finally {
        lock?.release();
    }
}

async function run(mode: LocalMode, options: LocalOptions, modules: PipelineModules): Promise<number> {
    const [{ localPipelineFile }, { startLocalPipeline }, { startConsole }, { runDemo }, { formatSummary, formatTable }] = modules;
    const log = (line: string) => {
        // Once a signal stops the run, only the pipeline's own lines: the services' last requests race their stop.
        if (options.progress && (!signalled || line.startsWith("[pipeline]"))) process.stderr.write(line + "\n");
    };

    let pipeline: LocalPipeline | undefined;
    let localConsole: LocalConsole | undefined;
    let readyFile: string | undefined;
    let stopping: Promise<void> | undefined;
    let exitCode: number | undefined;
    const stop = (code: number) => {
        exitCode ??= code;
        stopping ??= (async () => {
            try {
                if (readyFile) removeReadyFile(readyFile);
                await localConsole?.stop();
                await pipeline?.stop();
            } catch (error) {
                process.stderr.write(`error while stopping: ${(error as Error).message}\n`);
            }
        })();
        return stopping;
    };
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    let startAborted = false;
    let signalled = false;
    const abortStart = new AbortController();
    /** After a signal, what fails is what the stop took away (sockets, emulators): exit with the signal's code, quietly. */

    const failed = (error: unknown): number => {
        if (!signalled) process.stderr.write(`error: ${(error as Error).message}\n`);
        return exitCode ?? 1;
    };
    const onSignal = (signal: NodeJS.Signals) => {
        // Ctrl-C reaches both npm's wrapper (which forwards it) and us: handle the first, ignore repeats,
        // so a second signal can never cut the cleanup short and orphan an emulator.
        if (signalled) return;
        signalled = true;
        log(`[pipeline] ${signal}: stopping everything`);
        startAborted = !pipeline;
        if (startAborted) abortStart.abort();
        void stop(mode === "local" ? 0 : signal === "SIGINT" ? 130 : 143).then(finish);
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    process.on("SIGHUP", onSignal);

    const started = Date.now();
    try {
        pipeline = await startLocalPipeline({
            stack: options.stack,
            sqsPort: options.sqsPort,
            dynamodbPort: options.dynamodbPort,
            signal: abortStart.signal,
            log,
            functionLogs: options.verbose ? (name, text) => process.stderr.write(`[${name}] ${text}`) : undefined,
            onFatal: (error) => {
                if (signalled) return;
                process.stderr.write(`error: ${error.message}\n`);
                void stop(1).then(finish);
            },
        });
    } catch (error) {
        if (startAborted) return exitCode ?? 1;
        return failed(error);
    }
    if (startAborted || exitCode !== undefined) {
        // A signal or a fatal error arrived while starting: stop what the start created.
        await pipeline.stop();
        return exitCode ?? 1;
    }
    log(
        `[pipeline] ready in ${((Date.now() - started) / 1000).toFixed(1)} s (stack ${pipeline.ready.stack}, region ${pipeline.ready.region})`,
    );

    if (mode === "local") {
        try {
            localConsole = await startConsole(pipeline, { log, port: options.consolePort });
        } catch (error) {
            if (!signalled) process.stderr.write(`error: the local console could not start: ${(error as Error).message}\n`);
            await stop(1);
            return exitCode ?? 1;
        }
        const ready = { ...pipeline.ready, consoleUrl: localConsole.url };
        // The tools (`npm run dlq`, `npm run send`) find the running pipeline here; removed on stop.
        readyFile = localPipelineFile(process.env);
        fs.mkdirSync(path.dirname(readyFile), { recursive: true });
        fs.writeFileSync(readyFile, JSON.stringify(ready, null, 2) + "\n", { mode: 0o600 });
        log(`[pipeline] console ${localConsole.url}; READY JSON in ${path.relative(process.cwd(), readyFile) || readyFile}`);
        process.stdout.write(`${READY_PREFIX} ${JSON.stringify(ready)}\n`);
        pipeline.eventProcessor?.poller.on(
            "batch",
            (batch: { size: number; deleted: number; failed: number; outcome: string; error?: string }) =>
                log(
                    `[event-source] batch of ${batch.size}: ${batch.deleted} done, ${batch.failed} back to the queue (${batch.outcome}${batch.error ? `: ${batch.error}` : ""})`,
                ),
        );
        if (pipeline.sender) {
            pipeline.sender.deliveries.on("delivery", (delivery: { clientId: string; eventId: string; eventName: string }) =>
                log(`[sender] ${delivery.eventName} ${delivery.clientId}/${delivery.eventId}`),
            );
        }
        await finished;
        return exitCode ?? 0;
    }

    try {
        const summary = await Promise.race([
            runDemo(pipeline, {
                clients: options.clients,
                eventsPerClient: options.eventsPerClient,
                timeoutSeconds: options.timeoutSeconds,
                progress: log,
            }),
            finished.then(() => undefined),
        ]);
        if (!summary) return exitCode ?? 1;
        // Other services' demos (e.g. the email service), each reported in its own table.
        const reports: Array<DemoReport & { service: string }> = [];
        for (const service of pipeline.services) {
            if (!service.demo || exitCode !== undefined) continue;
            const report = await Promise.race([
                service.demo({ deadline: Date.now() + options.timeoutSeconds * 1000, progress: log }),
                finished.then(() => undefined),
            ]);
            if (!report) return exitCode ?? 1;
            reports.push({ service: service.name, ...report });
        }
        if (exitCode !== undefined) return exitCode;
        const elapsed = (Date.now() - started) / 1000;
        if (options.json) {
            process.stdout.write(JSON.stringify({ ...summary, elapsedSeconds: elapsed, services: reports }, null, 2) + "\n");
        } else {
            process.stdout.write(
                `\nEvent processor, end to end on embedded emulators (stack ${pipeline.ready.stack}, ${elapsed.toFixed(1)} s)\n`,
            );
            process.stdout.write(formatSummary(summary) + "\n");
            for (const report of reports) process.stdout.write(`\n${report.title}\n${formatTable(report.rows)}\n`);
            if (pipeline.ready.notEmulated.length)
                process.stdout.write(`Not emulated locally: ${pipeline.ready.notEmulated.join("; ")}.\n`);
            process.stdout.write(
                "The API, inbox and emulator addresses printed above served this run only and are closed now; " +
                    "`npm run local` keeps a pipeline running (with the local console) for `npm run send` and `npm run dlq`.\n",
            );
        }
        if (!summary.accounted) {
            process.stderr.write(
                `error: not every event is accounted for:\n${summary.unaccounted.map((problem) => `  - ${problem}`).join("\n")}\n`,
            );
        }
        for (const report of reports)
            if (!report.accounted) process.stderr.write(`error: ${report.service}: ${report.unaccounted.join("; ")}\n`);
        const allAccounted = summary.accounted && reports.every((report) => report.accounted);
        await stop(allAccounted ? 0 : 1);
        return exitCode ?? 1;
    } catch (error) {
        const code = failed(error);
        await stop(1);
        return exitCode ?? code;
    }
}

/** Removes the READY file if it is still this process's (a newer pipeline may have replaced it). */
function removeReadyFile(file: string): void {
    try {
        const owner = JSON.parse(fs.readFileSync(file, "utf8")).pid;
        if (owner === process.pid) fs.rmSync(file, { force: true });
    } catch {
        // Already gone or unreadable: nothing of ours to remove.
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => process.exit(code),
        (error) => {
            process.stderr.write(`error: ${(error as Error).stack ?? error}\n`);
            process.exit(1);
        },
    );
}
