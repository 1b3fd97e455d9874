/**
 * Turns a function's `code` archive from the mock deployment into files a local
 * execution environment can load: the code that ships, not the source it came from.
 *
 * Delegates to local/lambda-artifact.ts (the infrastructure engineer's shared
 * helper) when it offers `materializeArchive`/`materialiseArchive`; until then, or if
 * its API differs, it writes the archive itself (the `__index.js` text and the
 * node_modules entries) and builds a "runtime layer" directory that holds only what
 * the nodejs22.x runtime and the Powertools layer provide, so a package missing from
 * the archive fails locally exactly as it would in Lambda.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { FunctionSpec } from "./topology";

const ROOT = path.resolve(__dirname, "..");
/** Scopes the Lambda runtime (AWS SDK v3) and the Powertools layer provide. */
export const RUNTIME_PROVIDED_SCOPES = ["@aws-sdk", "@smithy", "@aws-crypto", "@aws-lambda-powertools", "@aws"] as const;

export interface MaterialisedFunction {
    /** directory holding `__index.js` and the archive's node_modules */
    dir: string;
    moduleFile: string;
    exportName: string;
    /** NODE_PATH entries standing in for the runtime and layers */
    nodePath: string[];
    /** how the artifact was written, for the READY line and docs */
    via: "local/lambda-artifact.ts" | "local/function-code.ts";
    cleanup(): void;
}

interface AssetLike {
    text?: Promise<string> | string;
    path?: Promise<string> | string;
    assets?: Promise<Record<string, AssetLike>> | Record<string, AssetLike>;
}

/** Writes a pulumi AssetArchive (as the mocks return it) under `dir`. */
export async function writeArchive(archive: AssetLike, dir: string): Promise<string[]> {
    const assets = await archive.assets;
    if (!assets) throw new Error("the function's code is not an AssetArchive (expected a CallbackFunction's archive)");
    const written: string[] = [];
    for (const [name, asset] of Object.entries(assets)) {
        const target = path.join(dir, name);
        fs.mkdirSync(path.dirname(target), { recursive: true });
        const text = await asset.text;
        const source = await asset.path;
        const nested = await asset.assets;
        if (typeof text === "string") fs.writeFileSync(target, text);
        else if (nested) written.push(...(await writeArchive(asset, target)));
        else if (typeof source === "string") fs.symlinkSync(path.resolve(ROOT, source), target);
        else throw new Error(`archive entry ${name} is neither text, a file nor an archive`);
        written.push(name);
    }
    return written;
}

/** A node_modules directory that holds only what the runtime and the Powertools layer provide. */
export function runtimeLayerDir(base: string): string {
    const layer = path.join(base, "runtime-provided", "node_modules");
    fs.mkdirSync(layer, { recursive: true });
    for (const scope of RUNTIME_PROVIDED_SCOPES) {
        const source = path.join(ROOT, "node_modules", scope);
        const target = path.join(layer, scope);
        if (fs.existsSync(source) && !fs.existsSync(target)) fs.symlinkSync(source, target);
    }
    return layer;
}

/**
 * @example
 * const code = await materialiseFunction(topology.functions[0]);
 * new LocalFunction({ name, moduleFile: code.moduleFile, exportName: code.exportName, nodePath: code.nodePath, environment });
 */
export async function materialiseFunction(spec: FunctionSpec, parentDir?: string): Promise<MaterialisedFunction> {
    const base = fs.mkdtempSync(path.join(parentDir ?? os.tmpdir(), `local-lambda-${spec.logicalName.replace(/[^A-Za-z0-9_-]/g, "_")}-`));
    const cleanup = () => fs.rmSync(base, { recursive: true, force: true });
    const [moduleName, exportName] = splitHandler(spec.handler);
    try {
        const shared = loadSharedHelper();
        if (shared) {
            const result = await shared(spec.code, path.join(base, "function"));
            const dir = typeof result === "string" ? result : (result?.dir ?? path.join(base, "function"));
            return { dir, moduleFile: path.join(dir, `${moduleName}.js`), exportName, nodePath: [runtimeLayerDir(base)], via: "local/lambda-artifact.ts", cleanup };
        }
        const dir = path.join(base, "function");
        fs.mkdirSync(dir, { recursive: true });
        await writeArchive(spec.code as AssetLike, dir);
        const moduleFile = path.join(dir, `${moduleName}.js`);
        if (!fs.existsSync(moduleFile)) throw new Error(`the archive of ${spec.logicalName} has no ${moduleName}.js (handler ${spec.handler})`);
        return { dir, moduleFile, exportName, nodePath: [runtimeLayerDir(base)], via: "local/function-code.ts", cleanup };
    } catch (error) {
        cleanup();
        throw error;
    }
}

function splitHandler(handler: string): [string, string] {
    const dot = handler.lastIndexOf(".");
    if (dot <= 0) throw new Error(`handler ${JSON.stringify(handler)} is not <file>.<export>`);
    return [handler.slice(0, dot), handler.slice(dot + 1)];
}

type SharedWriter = (archive: unknown, dir: string) => Promise<string | { dir?: string } | undefined>;

/** The shared helper's writer, if local/lambda-artifact.ts exists and exports one we recognise. */
function loadSharedHelper(): SharedWriter | undefined {
    const file = path.join(__dirname, "lambda-artifact.ts");
    if (!fs.existsSync(file)) return undefined;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const helper = require("./lambda-artifact") as Record<string, unknown>;
    const writer = helper.materializeArchive ?? helper.materialiseArchive ?? helper.writeArchive;
    return typeof writer === "function" ? (writer as SharedWriter) : undefined;
}
