/**
 * Turns a function's `code` archive from the mock deployment into files a local
 * execution environment can load: the code that ships, not the source it came
 * from. The archive and the "runtime + layer" directory (the layer's Powertools and
 * the runtime's AWS SDK v3 in separate paths, and nothing else) are written by local/test-kit/lambda-artifact.ts, the helper the
 * infrastructure tests and benches use too, so the pipeline runs the same bytes.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createRuntimeLayerDir, lambdaNodePath, writeArchive, writeStackLayers } from "../test-kit/lambda-artifact";
import type { FunctionSpec } from "./topology";

export interface MaterialisedFunction {
    /** directory holding `__index.js` and the archive's node_modules (Lambda's /var/task) */
    dir: string;
    moduleFile: string;
    exportName: string;
    /** NODE_PATH entries standing in for the Powertools layer (/opt/nodejs/node_modules) and the runtime's SDK (/var/runtime/node_modules) */
    nodePath: string[];
    cleanup(): void;
}

/** Splits a Lambda handler setting (`__index.handler`) into file and export. */
export function splitHandler(handler: string): [string, string] {
    const dot = handler.lastIndexOf(".");
    if (dot <= 0 || dot === handler.length - 1) throw new Error(`handler ${JSON.stringify(handler)} is not <file>.<export>`);
    return [handler.slice(0, dot), handler.slice(dot + 1)];
}

/**
 * @example
 * const code = await materialiseFunction(topology.functions[0]);
 * new LocalFunction({ name, moduleFile: code.moduleFile, exportName: code.exportName, nodePath: code.nodePath, environment });
 */
export async function materialiseFunction(spec: FunctionSpec, parentDir?: string): Promise<MaterialisedFunction> {
    const base = fs.mkdtempSync(path.join(parentDir ?? os.tmpdir(), `local-lambda-${spec.logicalName.replace(/[^A-Za-z0-9_-]/g, "_")}-`));
    const cleanup = () => fs.rmSync(base, { recursive: true, force: true });
    try {
        const [moduleName, exportName] = splitHandler(spec.handler);
        const dir = await writeArchive(spec.code, path.join(base, "task"));
        const layer = createRuntimeLayerDir(path.join(base, "opt"));
        await writeStackLayers(spec.layerCodes ?? [], layer);
        const moduleFile = path.join(dir, `${moduleName}.js`);
        if (!fs.existsSync(moduleFile))
            throw new Error(`the archive of ${spec.logicalName} has no ${moduleName}.js (handler ${spec.handler})`);
        return { dir, moduleFile, exportName, nodePath: lambdaNodePath(layer), cleanup };
    } catch (error) {
        cleanup();
        throw error;
    }
}
