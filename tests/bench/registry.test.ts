/**
 * The bench registry's command line (bench/index.ts): modes are discovered, flags
 * are routed to the modes that declare them, and every mistake is a clear error.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { availableModes, BenchModule, BenchUsageError, integerOption, mergeFigures, parseArgs, resolveOptions } from "../../bench/index";

const fakeModules: Record<string, BenchModule> = {
    handler: {
        run: async () => ({}),
        options: { events: integerOption("events", 10_000, 10, 1_000_000), "batch-size": integerOption("batch", 10, 1, 10) },
    },
    artifact: { run: async () => ({}) },
};
const known = Object.keys(fakeModules);
const ROOT = path.resolve(__dirname, "..", "..");

describe("bench registry", () => {
    it("discovers every bench/<name>.ts except index as a mode", () => {
        expect(availableModes()).to.include("handler");
        expect(availableModes()).not.to.include("index");
    });

    it("selects all modes by default, or the ones named (comma list or repeated)", () => {
        expect(parseArgs([], known).modes).to.deep.equal(known);
        expect(parseArgs(["--mode", "handler"], known).modes).to.deep.equal(["handler"]);
        expect(parseArgs(["--mode=artifact,handler", "--mode", "handler", "--json"], known)).to.deep.include({
            modes: ["artifact", "handler"],
            json: true,
        });
    });

    it("routes flags to the modes declaring them, camelCased and parsed", () => {
        const command = parseArgs(["--events", "500", "--batch-size=5"], known);
        expect(resolveOptions(command, fakeModules)).to.deep.equal({ handler: { events: 500, batchSize: 5 }, artifact: {} });
    });

    it("rejects unknown modes, unknown flags, bad values and flags of unselected modes with clear messages", () => {
        const fails = (argv: string[]) => {
            try {
                resolveOptions(parseArgs(argv, known), fakeModules);
            } catch (error) {
                expect(error).to.be.instanceOf(BenchUsageError);
                return (error as Error).message;
            }
            throw new Error(`accepted ${argv.join(" ")}`);
        };
        expect(fails(["--mode", "warp"])).to.match(/unknown mode\(s\): warp \(available: handler, artifact\)/);
        expect(fails(["--frobnicate", "1"])).to.match(/unknown flag --frobnicate/);
        expect(fails(["--events", "ten"])).to.match(/--events: must be a whole number from 10 to 1000000, got "ten"/);
        expect(fails(["--events", "5"])).to.match(/--events/);
        expect(fails(["--events"])).to.match(/--events needs a value/);
        expect(fails(["--events", "1", "--events", "2"])).to.match(/given twice/);
        expect(fails(["--mode", "artifact", "--events", "100"])).to.match(/--events belongs to mode\(s\) handler, which are not selected/);
        expect(fails(["stray"])).to.match(/unexpected argument "stray"/);
    });

    it("names the mode a flag belongs to even when that mode is not loaded (the real command line)", () => {
        const run = spawnSync(
            process.execPath,
            [
                "-r",
                path.join(ROOT, "scripts", "register-ts.js"),
                path.join(ROOT, "bench", "index.ts"),
                "--mode",
                "handler",
                "--cold-starts",
                "2",
            ],
            {
                cwd: ROOT,
                encoding: "utf8",
                timeout: 120_000,
            },
        );
        expect(run.status, run.stderr).to.equal(2);
        expect(run.stderr).to.match(/--cold-starts belongs to mode\(s\) artifact, email-api, which are not selected/);
        expect(run.stderr).to.not.match(/unknown flag/);
    });

    it("registers the fairness mode with its bounded flags (a run stays short: at most 60 s per scenario)", async () => {
        expect(availableModes()).to.include("fairness");
        const fairness = (await import("../../bench/fairness")) as BenchModule;
        const command = parseArgs(["--mode", "fairness", "--seconds", "5", "--flood-factor", "3"], ["fairness"]);
        expect(resolveOptions(command, { fairness })).to.deep.equal({ fairness: { seconds: 5, floodFactor: 3 } });
        expect(() => resolveOptions(parseArgs(["--mode", "fairness", "--seconds", "600"], ["fairness"]), { fairness })).to.throw(
            BenchUsageError,
            /--seconds: must be a whole number from 3 to 60/,
        );
    });

    it("registers the email-api mode: load (requests, concurrency) and cold starts, bounded; --cold-starts also feeds artifact", async () => {
        expect(availableModes()).to.include("email-api");
        const emailApi = (await import("../../bench/email-api")) as BenchModule;
        const artifact = (await import("../../bench/artifact")) as BenchModule;
        const modules = { "email-api": emailApi, artifact };
        const command = parseArgs(
            ["--mode", "email-api", "--requests", "50", "--concurrency", "8", "--cold-starts", "3"],
            Object.keys(modules),
        );
        expect(resolveOptions(command, modules)).to.deep.equal({ "email-api": { requests: 50, concurrency: 8, coldStarts: 3 } });
        expect(
            resolveOptions(parseArgs(["--mode", "email-api,artifact", "--cold-starts", "2"], Object.keys(modules)), modules),
        ).to.deep.equal({ "email-api": { coldStarts: 2 }, artifact: { coldStarts: 2 } });
        for (const [flag, value, message] of [
            ["--requests", "5", /--requests: must be a whole number from 10 to 10000/],
            ["--concurrency", "0", /--concurrency: must be a whole number from 1 to 64/],
            ["--cold-starts", "99", /--cold-starts: must be a whole number from 1 to 50/],
        ] as const)
            expect(() => resolveOptions(parseArgs(["--mode", "email-api", flag, value], Object.keys(modules)), modules)).to.throw(
                BenchUsageError,
                message,
            );
        expect(() => resolveOptions(parseArgs(["--mode", "artifact", "--requests", "50"], Object.keys(modules)), modules)).to.throw(
            BenchUsageError,
            /--requests belongs to mode\(s\) email-api, which are not selected \(add --mode email-api\)/,
        );
    });

    it("merges every mode's figures into one object and refuses a field two modes both report", () => {
        expect(
            mergeFigures([
                { mode: "handler", figures: { eventsPerSecond: 1 } },
                { mode: "artifact", figures: { zippedBytes: 2 } },
            ]),
        ).to.deep.equal({
            modes: ["handler", "artifact"],
            eventsPerSecond: 1,
            zippedBytes: 2,
        });
        expect(() =>
            mergeFigures([
                { mode: "a", figures: { x: 1 } },
                { mode: "b", figures: { x: 2 } },
            ]),
        ).to.throw(/a and b both report "x"/);
    });
});
