#!/usr/bin/env node
// `npm run preview|up|destroy [-- <pulumi flags>]`: Pulumi with this project's guardrails.
// preview and up always run the CrossGuard pack in policies/ with the stack's own pack
// config (policies/config/<stack>.json), so a deploy from a laptop is held to the same 32
// rules as CI. `pulumi destroy` accepts no policy pack (the CLI has no such flag; policies
// judge what is created or updated), so destroy only insists on an explicit stack.
"use strict";
const { spawn, spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
const POLICY_PACK_DIR = "policies";
const COMMANDS = ["preview", "up", "destroy"];
const POLICY_COMMANDS = new Set(["preview", "up"]);
/** Packages the Pulumi CLI compiles the TypeScript program with (package.json devDependencies). */
const TYPESCRIPT_TOOLCHAIN = ["ts-node", "typescript"];

/** The stack named by `--stack x`, `--stack=x`, `-s x` among the flags, else undefined. */
function stackFromArgs(args) {
    for (let i = 0; i < args.length; i++) {
        const arg = args[i];
        if (arg === "--stack" || arg === "-s") return args[i + 1];
        if (arg.startsWith("--stack=")) return arg.slice("--stack=".length);
    }
    return undefined;
}

/**
 * The `pulumi` argv for one command, or `{ error }` saying what to do. Pure apart from `exists`.
 * The stack comes from the flags, else `PULUMI_STACK`, else the currently selected stack.
 */
function buildPulumiArgs({ command, args = [], env = {}, selectedStack, root = ROOT, exists = fs.existsSync }) {
    if (!COMMANDS.includes(command)) return { error: `unknown command "${command}"; use one of ${COMMANDS.join(", ")}` };
    const fromArgs = stackFromArgs(args);
    const stack = fromArgs ?? env.PULUMI_STACK ?? (command === "destroy" ? undefined : selectedStack);
    if (!stack) {
        return {
            error: `name the stack: npm run ${command} -- --stack <name>${command === "destroy" ? " (destroy never picks the selected stack for you)" : ""}`,
        };
    }
    const stackArgs = fromArgs ? [] : ["--stack", stack];
    if (!POLICY_COMMANDS.has(command)) return { stack, argv: [command, ...stackArgs, ...args] };
    // Pulumi compiles index.ts with the project's own ts-node and typescript (devDependencies, so they never reach a
    // Lambda archive); without them it falls back to the TypeScript 3.8 it vendors, too old for this program.
    const missingToolchain = TYPESCRIPT_TOOLCHAIN.filter((name) => !exists(path.join(root, "node_modules", name, "package.json")));
    if (missingToolchain.length > 0) {
        return {
            error: `${missingToolchain.join(" and ")} ${missingToolchain.length === 1 ? "is" : "are"} not installed: pulumi compiles the program with them (devDependencies). Run npm ci, without --omit=dev`,
        };
    }
    const shortName = stack.split("/").pop();
    const packConfig = path.posix.join(POLICY_PACK_DIR, "config", `${shortName}.json`);
    if (!exists(path.join(root, packConfig))) {
        return {
            error: `${packConfig} is missing: every stack needs its policy pack config (copy policies/config/dev.json; it may only relax advisory rules)`,
        };
    }
    if (!exists(path.join(root, POLICY_PACK_DIR, "node_modules", "@pulumi", "policy"))) {
        return { error: `the policy pack's dependencies are not installed: run (cd ${POLICY_PACK_DIR} && npm ci)` };
    }
    return { stack, argv: [command, ...stackArgs, "--policy-pack", POLICY_PACK_DIR, "--policy-pack-config", packConfig, ...args] };
}

/** What to say when the `pulumi` executable cannot be started. */
const PULUMI_MISSING =
    "the Pulumi CLI (`pulumi`) is not on PATH. Install it (https://www.pulumi.com/docs/iac/download-install/; CI pins the version in .github/workflows/preview.yml), then run again.";

function selectedStack() {
    const result = spawnSync("pulumi", ["stack", "--show-name"], { cwd: ROOT, encoding: "utf8" });
    if (result.error) return { missing: true };
    return { name: result.status === 0 ? result.stdout.trim() || undefined : undefined };
}

module.exports = { buildPulumiArgs, stackFromArgs, PULUMI_MISSING };

if (require.main === module) {
    const [command, ...args] = process.argv.slice(2);
    const needsSelected = COMMANDS.includes(command) && !stackFromArgs(args) && !process.env.PULUMI_STACK && command !== "destroy";
    const selected = needsSelected ? selectedStack() : {};
    if (selected.missing) {
        console.error(`error: ${PULUMI_MISSING}`);
        process.exit(2);
    }
    const built = buildPulumiArgs({ command, args, env: process.env, selectedStack: selected.name });
    if (built.error) {
        console.error(`error: ${built.error}`);
        process.exit(2);
    }
    console.error(`> pulumi ${built.argv.join(" ")}`);
    const child = spawn("pulumi", built.argv, { cwd: ROOT, stdio: "inherit" });
    child.on("error", (error) => {
        console.error(error.code === "ENOENT" ? `error: ${PULUMI_MISSING}` : `error: could not start pulumi: ${error.message}`);
        process.exit(2);
    });
    for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
    child.on("exit", (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
}
