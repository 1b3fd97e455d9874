/**
 * The test runner (scripts/test.js): `npm test` runs every test file exactly once, each file sits
 * in the tier that matches what it starts, and the tier rules name files that exist.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

type Tier = "e2e" | "integration" | "unit";
const runner = require("../../scripts/test.js") as {
    TIERS: Tier[];
    TIER_RULES: Record<"e2e" | "integration", string[]>;
    CHECKS: string[];
    testFiles(root?: string): string[];
    tierOf(file: string): Tier;
    filesOf(tiers: Tier[], root?: string): string[];
    parseArguments(argv: string[]): { tiers: Tier[]; checks: boolean; mochaArgs: string[] };
    testEnvironment(environment?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
    run(command: string, args: string[], options?: { niceness?: number; stdio?: unknown }): Promise<{ code: number; output: string }>;
    CHECK_NICENESS: number;
};

const ROOT = path.resolve(__dirname, "..", "..");

/** What a test file starts, read from its text: the local pipeline, or an emulator (directly or through a harness). */
const STARTS_PIPELINE = /startLocalPipeline|pipeline-app", "main\.ts"|npm", "run", "--silent", "local"|\["start", "--"/;
const STARTS_EMULATOR =
    /startDynamoDbLocal|startFauxqs|startLocalKms|startEmailStack|startHarness|sharedEmulators|prepareArtifact|LocalFunction\b/;

describe("test runner: tiers", () => {
    it("gives every test file under tests/ exactly one tier, and npm test runs them all once", () => {
        const all = runner.testFiles();
        expect(all.length).to.be.greaterThan(60);
        expect(all.every((file) => file.startsWith("tests/") && file.endsWith(".test.ts"))).to.equal(true);
        const byTier = runner.TIERS.map((tier) => runner.filesOf([tier]));
        expect(byTier.flat().sort()).to.deep.equal(all);
        expect(runner.filesOf(runner.TIERS).slice().sort()).to.deep.equal(all);
        expect(new Set(runner.filesOf(runner.TIERS)).size).to.equal(all.length);
        for (const files of byTier) expect(files.length).to.be.greaterThan(0);
    });

    it("puts a file in the tier of what it starts: the pipeline is e2e, an emulator integration, neither unit", () => {
        const misplaced: string[] = [];
        const self = path.relative(ROOT, __filename).split(path.sep).join("/"); // names the patterns, starts nothing
        for (const file of runner.testFiles().filter((file) => file !== self)) {
            const text = fs.readFileSync(path.join(ROOT, file), "utf8");
            const expected: Tier = STARTS_PIPELINE.test(text) ? "e2e" : STARTS_EMULATOR.test(text) ? "integration" : "unit";
            if (runner.tierOf(file) !== expected) misplaced.push(`${file}: ${runner.tierOf(file)}, starts what ${expected} tests start`);
        }
        expect(misplaced).to.deep.equal([]);
    });

    it("names only files and folders that exist in its rules", () => {
        const stale = Object.values(runner.TIER_RULES)
            .flat()
            .filter((rule) => !fs.existsSync(path.join(ROOT, rule)));
        expect(stale).to.deep.equal([]);
    });

    it("classifies by path: *.e2e.test.ts anywhere, listed files and folders, unit otherwise", () => {
        expect(runner.tierOf("tests/anywhere/new.e2e.test.ts")).to.equal("e2e");
        expect(runner.tierOf("tests/local/offline/new.test.ts")).to.equal("integration");
        expect(runner.tierOf("tests/local/offline-extra/new.test.ts")).to.equal("unit");
        expect(runner.tierOf("tests/components/new.test.ts")).to.equal("unit");
    });

    it("orders e2e files first, then integration, then unit, and finds files in nested folders", () => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "test-runner-"));
        try {
            for (const [file, bytes] of [
                ["tests/local/pipeline-app/a.e2e.test.ts", 10],
                ["tests/local/offline/b.test.ts", 10],
                ["tests/c/small.test.ts", 10],
                ["tests/c/d/large.test.ts", 100],
                ["tests/support/helper.ts", 10],
            ] as const) {
                fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
                fs.writeFileSync(path.join(root, file), "x".repeat(bytes));
            }
            expect(runner.filesOf(runner.TIERS, root)).to.deep.equal([
                "tests/local/pipeline-app/a.e2e.test.ts",
                "tests/local/offline/b.test.ts",
                "tests/c/d/large.test.ts",
                "tests/c/small.test.ts",
            ]);
        } finally {
            fs.rmSync(root, { recursive: true, force: true });
        }
    });
});

describe("test runner: arguments", () => {
    it("runs every tier and the checks with no argument, one tier without the checks, and passes what follows -- to mocha", () => {
        expect(runner.parseArguments([])).to.deep.equal({ tiers: runner.TIERS, checks: true, mochaArgs: [] });
        expect(runner.parseArguments(["unit", "--", "--grep", "x"])).to.deep.equal({
            tiers: ["unit"],
            checks: false,
            mochaArgs: ["--grep", "x"],
        });
        expect(runner.CHECKS).to.deep.equal(["typecheck", "lint", "lint:workflows"]);
    });

    it("names an unknown tier and the tiers there are", () => {
        expect(() => runner.parseArguments(["units"])).to.throw('unknown tier "units"; tiers: e2e, integration, unit');
    });
});

describe("test runner: environment", () => {
    it("gives every process it starts Node's compile cache under .local/cache, unless the caller chose one", () => {
        const { NODE_COMPILE_CACHE: _ignored, ...callers } = process.env;
        const environment = runner.testEnvironment(callers);
        expect(environment.NODE_COMPILE_CACHE).to.equal(path.join(ROOT, ".local", "cache", "node-compile"));
        expect(runner.testEnvironment({ ...callers, NODE_COMPILE_CACHE: "/elsewhere" }).NODE_COMPILE_CACHE).to.equal("/elsewhere");
        // The Node 22 the tests run on takes the variable (module.getCompileCacheDir, Node 22.8+).
        const child = spawnSync(process.execPath, ["-p", "require('node:module').getCompileCacheDir()"], {
            env: environment,
            encoding: "utf8",
        });
        expect(child.stdout.trim(), child.stderr).to.match(new RegExp(`^${environment.NODE_COMPILE_CACHE}`));
    });
});

describe("test runner: checks", () => {
    it("runs the checks at a lower priority than the tests, so they take only the CPU the tests leave", async () => {
        const own = os.getPriority();
        const expected = Math.min(19, own + runner.CHECK_NICENESS);
        expect(expected, "a lower priority than the runner's").to.be.greaterThan(own);
        // The child waits (5 s at most) until its priority is no longer the runner's, then prints it.
        const script = `const os = require("node:os"); const until = Date.now() + 5000;
            while (os.getPriority() === ${own} && Date.now() < until) {}
            console.log(os.getPriority());`;
        const child = await runner.run(process.execPath, ["-e", script], {
            stdio: ["ignore", "pipe", "pipe"],
            niceness: runner.CHECK_NICENESS,
        });
        expect(child.code, child.output).to.equal(0);
        expect(Number(child.output.trim())).to.equal(expected);
    });
});
