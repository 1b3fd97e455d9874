// Loads ts-node in transpile-only mode (exactly what `-r ts-node/register/transpile-only` does) and
// keeps what it transpiles, on disk and in memory, so that a process transpiles only the files no
// earlier process transpiled with the same TypeScript, ts-node, compiler options and source text.
// Every process that runs the project's TypeScript loads it: `node -r ./scripts/register-ts.js`
// (npm scripts, test spawns), `.mocharc.json` (mocha and its workers).
//
// Plain JavaScript: it runs before anything can be transpiled, and costs nothing to transpile itself.
//
// The kept output is ts-node's own, byte for byte (the Lambda archives are serialized from the
// transpiled functions' text): an entry is used only when its file's key (TypeScript and ts-node
// versions, the effective compiler options and ts-node options, the file name, the line offset)
// and the SHA-256 of the source text match, and the SHA-256 of the output is that of the output
// written. Anything else (absent, cut short, another source) transpiles again and replaces the entry.
//
// Entries live in `.local/cache/transpile/` (git-ignored; TRANSPILE_CACHE_DIR elsewhere), one per
// file and key, so an edited file replaces its entry instead of adding one. Files outside the
// repository (fixtures in temporary folders, each new) are transpiled every time and never kept.
"use strict";
const crypto = require("node:crypto");
const path = require("node:path");
const url = require("node:url");
// Taken now: a mock deployment's recording (local/offline/deployment-cache.ts) wraps `fs` to see
// what the program reads; the cache's own files are not the program's inputs.
const { readFileSync, writeFileSync, renameSync, mkdirSync, unlinkSync } = require("node:fs");

const ROOT = path.resolve(__dirname, "..");
/** Bumped when an entry's layout changes, so older entries are never read as current. */
const FORMAT = 1;
const SERVICE = Symbol.for("ts-node.register.instance");
const INSTALLED = Symbol.for("event-ingestion.transpile-cache");

/** The folder the cache uses, from the environment. */
function cacheDirectory(env = process.env) {
    return env.TRANSPILE_CACHE_DIR ? path.resolve(env.TRANSPILE_CACHE_DIR) : path.join(ROOT, ".local", "cache", "transpile");
}

const sha256 = (text) => crypto.createHash("sha256").update(text).digest("hex");

/**
 * Wraps `service.compile` (a ts-node service, transpile-only) with the memory and disk cache, and
 * teaches source-map-support the outputs it returns without ts-node (ts-node remembers only the
 * outputs it compiled, for stack traces).
 *
 * @example
 * installTranspileCache(require("ts-node").create({ transpileOnly: true }), { dir: "/tmp/cache" });
 */
function installTranspileCache(service, options = {}) {
    const dir = options.dir ?? cacheDirectory();
    const root = options.root ?? ROOT;
    const compile = service.compile.bind(service);
    // Everything that decides ts-node's output besides the file and its text.
    const settings = JSON.stringify({
        format: FORMAT,
        typescript: service.ts.version,
        tsNode: require("ts-node").VERSION,
        compilerOptions: service.config.options,
        tsNodeOptions: service.options,
    });
    const known = new Map(); // `${lineOffset}:${fileName}` → { code, output }: module reloads in one process
    const served = new Map(); // file name → the output last returned, for stack traces
    let writable = true;

    const entryFile = (fileName, lineOffset) => path.join(dir, `${sha256(`${settings}\n${lineOffset}\n${fileName}`)}.js`);

    const readEntry = (file, sourceHash) => {
        let text;
        try {
            text = readFileSync(file, "utf8");
        } catch {
            return undefined;
        }
        const newline = text.indexOf("\n");
        if (newline === -1) return undefined;
        let header;
        try {
            header = JSON.parse(text.slice(0, newline));
        } catch {
            return undefined;
        }
        const output = text.slice(newline + 1);
        if (!header || header.source !== sourceHash || header.output !== sha256(output)) return undefined;
        return output;
    };

    const writeEntry = (file, sourceHash, output) => {
        if (!writable) return;
        const partial = `${file}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`;
        try {
            mkdirSync(dir, { recursive: true });
            writeFileSync(partial, `${JSON.stringify({ source: sourceHash, output: sha256(output) })}\n${output}`);
            // Renamed into place: a process reading concurrently sees the old entry or the new one, never half of one.
            renameSync(partial, file);
        } catch {
            // A read-only checkout still runs; it only transpiles every time.
            writable = false;
            try {
                unlinkSync(partial);
            } catch {
                // never written
            }
        }
    };

    service.compile = function cachedCompile(code, fileName, lineOffset = 0) {
        const memo = `${lineOffset}:${fileName}`;
        const remembered = known.get(memo);
        if (remembered?.code === code) return serve(fileName, remembered.output);
        const inside = fileName.startsWith(root + path.sep) && !fileName.split(/[\\/]/).includes("node_modules");
        let output;
        if (inside) {
            const file = entryFile(fileName, lineOffset);
            const sourceHash = sha256(code);
            output = readEntry(file, sourceHash);
            if (output === undefined) {
                output = compile(code, fileName, lineOffset);
                writeEntry(file, sourceHash, output);
            }
        } else {
            output = compile(code, fileName, lineOffset);
        }
        known.set(memo, { code, output });
        return serve(fileName, output);
    };

    function serve(fileName, output) {
        served.set(fileName.replace(/\\/g, "/"), output);
        return output;
    }

    // Consulted before ts-node's own lookup (source-map-support asks the newest handler first).
    const sourceMapSupport = require(require.resolve("@cspotcode/source-map-support", { paths: [require.resolve("ts-node")] }));
    sourceMapSupport.install({
        retrieveFile(pathOrUrl) {
            let file = pathOrUrl;
            if (file.startsWith("file://")) {
                try {
                    file = url.fileURLToPath(file);
                } catch {
                    return "";
                }
            }
            return served.get(file.replace(/\\/g, "/")) ?? "";
        },
    });
    return service;
}

module.exports = { installTranspileCache, cacheDirectory };

// Loaded with `-r` (or mocha's `require`): register ts-node and cache it, once per process.
if (!process[INSTALLED]) {
    require("ts-node/register/transpile-only");
    const service = process[SERVICE];
    if (service) {
        installTranspileCache(service);
        process[INSTALLED] = true;
    }
}
