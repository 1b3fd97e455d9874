#!/usr/bin/env node
// Runs the test suite in tiers, on Node 22, with mocha's parallel mode.
//
//   node scripts/test.js                  every tier, with the checks (typecheck, lint, format, workflow lint) beside them: `npm test`
//   node scripts/test.js unit             pure code, single components and the program under mocks, config, policies
//   node scripts/test.js integration      handlers and shipped archives on the emulators (DynamoDB Local, fauxqs)
//   node scripts/test.js e2e              whatever starts the local pipeline
//   node scripts/test.js unit -- --grep X  what follows `--` goes to mocha
//
// A file's tier comes from its path (TIER_RULES); every other test file is a unit test, so no file
// is left out of `npm test`. tests/scripts/test-runner.test.ts checks the rules against what the
// files start. The checks run beside the tests (they share nothing) and their results are printed
// after mocha's summary; the exit status is non-zero when any check or any test failed.
"use strict";
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
const TIERS = ["e2e", "integration", "unit"];

/**
 * Paths (relative to the repository, `/`-separated) of the files that are not unit tests: a path
 * ending in `/` names a folder, `*.e2e.test.ts` anywhere is e2e.
 */
const TIER_RULES = {
    e2e: [
        "tests/local/pipeline-app/main.test.ts",
        "tests/local/pipeline-app/fault-injection.test.ts",
        "tests/local/pipeline-app/email-service.test.ts",
        "tests/docs/shell-snippets.test.ts",
    ],
    integration: [
        "tests/components/artifact.test.ts",
        "tests/handlers/email/api.test.ts",
        "tests/handlers/email/cancel.test.ts",
        "tests/handlers/email/artifact.test.ts",
        "tests/handlers/email/worker.test.ts",
        "tests/handlers/email/ses-events.test.ts",
        "tests/handlers/email/status.test.ts",
        "tests/handlers/email/suppression.test.ts",
        "tests/handlers/event-processor/handler.test.ts",
        "tests/handlers/event-processor/properties.test.ts",
        "tests/handlers/event-processor/serialization.test.ts",
        "tests/components/log-level-metrics.test.ts",
        "tests/handlers/event-processor/redrive.test.ts",
        "tests/local/aws-stand-ins/dynamodb-loopback.test.ts",
        "tests/local/aws-stand-ins/event-source-poller.test.ts",
        "tests/local/aws-stand-ins/kms-hmac.test.ts",
        "tests/local/aws-stand-ins/lambda-runtime/",
        "tests/local/aws-stand-ins/loopback-host.test.ts",
        "tests/local/aws-stand-ins/sqs-stand-in.test.ts",
        "tests/local/aws-stand-ins/stream-reader.test.ts",
        "tests/local/aws-stand-ins/status-bus.test.ts",
        "tests/local/offline/",
    ],
};

/** The checks `npm test` runs beside the tests: npm scripts of package.json. */
const CHECKS = ["typecheck", "lint", "lint:workflows"];

/** Every test file under tests/, relative and `/`-separated, sorted. */
function testFiles(root = ROOT) {
    return fs
        .readdirSync(path.join(root, "tests"), { recursive: true })
        .map((file) => `tests/${String(file).split(path.sep).join("/")}`)
        .filter((file) => file.endsWith(".test.ts") && !file.split("/").includes("node_modules"))
        .sort();
}

/** The tier of one test file. */
function tierOf(file) {
    if (file.endsWith(".e2e.test.ts")) return "e2e";
    for (const tier of ["e2e", "integration"]) {
        if (TIER_RULES[tier].some((rule) => (rule.endsWith("/") ? file.startsWith(rule) : file === rule))) return tier;
    }
    return "unit";
}

/**
 * The files of the given tiers, in the order mocha should hand them to its workers: the slower
 * tiers first (e2e, integration, unit), and within a tier the larger files first, so that no long
 * file starts last while the other worker sits idle.
 */
function filesOf(tiers, root = ROOT) {
    const size = (file) => fs.statSync(path.join(root, file)).size;
    return testFiles(root)
        .filter((file) => tiers.includes(tierOf(file)))
        .sort((a, b) => TIERS.indexOf(tierOf(a)) - TIERS.indexOf(tierOf(b)) || size(b) - size(a) || (a < b ? -1 : 1));
}

/**
 * Mocha workers: `TEST_JOBS`, else one per CPU. Each e2e file starts a pipeline (two emulators and
 * several execution environments); with more workers than CPUs, three such starts at once on two
 * loaded cores outlasted the before() hooks' timeouts.
 */
function jobs() {
    const fromEnvironment = Number(process.env.TEST_JOBS);
    if (Number.isInteger(fromEnvironment) && fromEnvironment > 0) return fromEnvironment;
    return Math.max(2, typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length);
}

/**
 * The environment of every process the run starts: Node's on-disk compile cache (V8 code of each
 * module, Node 22.1+, `NODE_COMPILE_CACHE`) in .local/cache, so the dozens of Node processes the
 * suite spawns (workers, pipelines, execution environments, tools) compile each module once; an
 * older Node ignores the variable. A cache entry is checked against the module's source before use.
 */
function testEnvironment(environment = process.env) {
    return { NODE_COMPILE_CACHE: path.join(ROOT, ".local", "cache", "node-compile"), ...environment };
}

/**
 * Niceness of the checks, over the runner's own: they share nothing with the tests and finish well within the tests' time,
 * so they take the CPU the tests leave idle (waits in the e2e files) instead of slowing them down.
 */
const CHECK_NICENESS = 10;

function run(command, args, { niceness, ...options } = {}) {
    const started = Date.now();
    const child = spawn(command, args, { cwd: ROOT, env: testEnvironment(), ...options });
    // Before the child has started anything of its own (npm, then the check), so what it starts inherits it.
    if (niceness !== undefined && child.pid !== undefined) {
        try {
            os.setPriority(child.pid, Math.min(19, os.getPriority() + niceness));
        } catch {
            // A platform that refuses only costs the tests some CPU.
        }
    }
    let output = "";
    child.stdout?.on("data", (chunk) => (output += chunk));
    child.stderr?.on("data", (chunk) => (output += chunk));
    return new Promise((resolve) => {
        child.once("error", (error) => resolve({ code: 1, output: `${output}${error.message}\n`, seconds: 0 }));
        child.once("close", (code, signal) =>
            resolve({ code: code ?? 1, signal, output, seconds: Math.round((Date.now() - started) / 1000) }),
        );
    });
}

function npmScript(script) {
    const npm = process.env.npm_execpath;
    const options = { stdio: ["ignore", "pipe", "pipe"], niceness: CHECK_NICENESS };
    return npm ? run(process.execPath, [npm, "run", "--silent", script], options) : run("npm", ["run", "--silent", script], options);
}

function parseArguments(argv) {
    const split = argv.indexOf("--");
    const own = split === -1 ? argv : argv.slice(0, split);
    const mochaArgs = split === -1 ? [] : argv.slice(split + 1);
    const unknown = own.filter((arg) => !TIERS.includes(arg));
    if (unknown.length > 0)
        throw new Error(`unknown tier ${unknown.map((arg) => JSON.stringify(arg)).join(", ")}; tiers: ${TIERS.join(", ")}`);
    return { tiers: own.length > 0 ? own : TIERS, checks: own.length === 0, mochaArgs };
}

async function main(argv = process.argv.slice(2)) {
    let options;
    try {
        options = parseArguments(argv);
    } catch (error) {
        console.error(error.message);
        return 2;
    }
    const files = filesOf(options.tiers);
    const workers = Math.min(jobs(), files.length);
    const checks = options.checks ? Promise.all(CHECKS.map(async (name) => ({ name, ...(await npmScript(name)) }))) : Promise.resolve([]);
    if (options.checks) console.log(`checks (${CHECKS.join(", ")}) run beside the tests; their results follow the test summary`);
    console.log(`tiers: ${options.tiers.join(", ")}; ${files.length} test files on ${workers} mocha worker(s)`);

    const parallel = workers > 1 ? ["--parallel", "--jobs", String(workers)] : [];
    const mocha = await run(
        process.execPath,
        [
            path.join(ROOT, "scripts", "node22.js"),
            path.join(ROOT, "node_modules", "mocha", "bin", "mocha.js"),
            ...parallel,
            ...options.mochaArgs,
            ...files,
        ],
        { stdio: "inherit" },
    );

    const failed = mocha.code === 0 ? [] : [`tests (mocha exited ${mocha.signal ?? mocha.code})`];
    for (const check of await checks) {
        if (check.code === 0) {
            console.log(`check ${check.name}: passed (${check.seconds} s)`);
        } else {
            console.log(`\ncheck ${check.name}: FAILED (exit ${check.signal ?? check.code})\n${check.output.trimEnd()}\n`);
            failed.push(`check ${check.name}`);
        }
    }
    const scope = `${options.tiers.join(", ")} tests${options.checks ? ` and ${CHECKS.join(", ")}` : ""}`;
    console.log(failed.length === 0 ? `passed: ${scope} (tests took ${mocha.seconds} s)` : `FAILED: ${failed.join(", ")}`);
    return failed.length === 0 ? 0 : 1;
}

module.exports = { TIERS, TIER_RULES, CHECKS, testFiles, tierOf, filesOf, parseArguments, testEnvironment, run, CHECK_NICENESS };

if (require.main === module) {
    main().then((code) => (process.exitCode = code));
}
