#!/usr/bin/env node
// Lints every GitHub Actions workflow (part of `npm test`): the schema check of
// @action-validator/core (SchemaStore's workflow schema, offline, in WebAssembly) plus
// this project's rules: every action pinned to a full commit SHA (GitHub, "Security
// hardening for GitHub Actions": pinning to a SHA is the only immutable reference) with
// its tag in a comment, and every job with its own `permissions`.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const YAML = require("yaml");
const { validateWorkflow } = require("@action-validator/core");

const WORKFLOW_DIR = path.resolve(__dirname, "..", ".github", "workflows");

/** Flattens action-validator's nested oneOf states into "path: detail" lines. */
function describe(errors, out = []) {
    for (const error of errors) {
        if (error.states) for (const state of error.states) describe(state.errors, out);
        else out.push(`${error.path ?? (error.location ? `line ${error.location.line}` : "")}: ${error.detail ?? error.title}`);
    }
    return out;
}

/** Every problem with one workflow's text; empty when it is fine. */
function lintWorkflow(source) {
    const state = validateWorkflow(source);
    const problems = describe(state.errors).map((p) => `schema ${p}`);
    if (problems.length > 0) return [...new Set(problems)];
    const doc = YAML.parse(source);
    const lines = source.split("\n");
    for (const [jobId, job] of Object.entries(doc.jobs ?? {})) {
        if (job.permissions === undefined) problems.push(`jobs.${jobId}: no permissions block (each job gets exactly what it needs)`);
        for (const [index, step] of (job.steps ?? []).entries()) {
            const uses = step.uses;
            if (typeof uses !== "string" || uses.startsWith("./") || uses.startsWith("docker://")) continue;
            const ref = uses.split("@")[1] ?? "";
            if (!/^[0-9a-f]{40}$/.test(ref)) problems.push(`jobs.${jobId}.steps[${index}]: ${uses} is not pinned to a full commit SHA`);
            else if (!lines.some((line) => line.includes(uses) && /#\s*v?\d/.test(line)))
                problems.push(`jobs.${jobId}.steps[${index}]: ${uses} has no "# vX.Y.Z" comment naming the tag`);
        }
    }
    return problems;
}

module.exports = { lintWorkflow, WORKFLOW_DIR };

if (require.main === module) {
    const dir = process.argv[2] ? path.resolve(process.argv[2]) : WORKFLOW_DIR;
    const files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
    let failed = 0;
    for (const file of files) {
        const problems = lintWorkflow(fs.readFileSync(path.join(dir, file), "utf8"));
        if (problems.length > 0) {
            failed++;
            console.error(`${path.relative(process.cwd(), path.join(dir, file))}:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        }
    }
    if (files.length === 0) console.error(`no workflow in ${dir}`);
    console.log(`workflows: ${files.length - failed}/${files.length} valid`);
    process.exit(failed > 0 || files.length === 0 ? 1 : 0);
}
