/**
 * What goes into a CallbackFunction's archive. `pulumi.runtime.computeCodePaths`
 * walks every package in package.json `dependencies`, whether the function uses it
 * or not, and ships each one whole (type declarations, ESM builds, docs). This
 * excludes every package and instead lists, file by file, what `require()` of the
 * shipped packages can load: their CommonJS entry and the files it requires,
 * transitively, plus package.json and license files. Valibot, for one, is 1.9 MB
 * installed and 0.2 MB of runtime code. Pure except for reading node_modules.
 */
import * as fs from "node:fs";
import { builtinModules } from "node:module";
import * as path from "node:path";
import type { CodePathOptions } from "@pulumi/pulumi/runtime";

const ROOT = path.resolve(__dirname, "..", "..");
const PACKAGE_JSON = path.join(ROOT, "package.json");

/**
 * Packages the nodejs22.x runtime provides in /var/runtime/node_modules: the AWS SDK for
 * JavaScript v3 (every client) and its Smithy core ("Building Lambda functions with Node.js",
 * Runtime-included SDK versions). The runtime's SDK version is the one its release bundles,
 * not the one package-lock.json installs.
 */
export const RUNTIME_PROVIDED_PACKAGE_PREFIXES = ["@aws-sdk/", "@smithy/", "@aws-crypto/"] as const;
/**
 * Packages AWS's public Powertools for AWS Lambda (TypeScript) layer provides in
 * /opt/nodejs/node_modules: Powertools itself (and its own dependencies). Layers from
 * version 50 on carry no AWS SDK client: the SDK comes from the runtime.
 */
export const LAYER_PROVIDED_PACKAGE_PREFIXES = ["@aws-lambda-powertools/"] as const;

/** True when the nodejs22.x runtime provides the package. */
export function isProvidedByRuntime(packageName: string): boolean {
    return RUNTIME_PROVIDED_PACKAGE_PREFIXES.some((prefix) => packageName.startsWith(prefix));
}

/** True when the Powertools layer provides the package. */
export function isProvidedByLayer(packageName: string): boolean {
    return LAYER_PROVIDED_PACKAGE_PREFIXES.some((prefix) => packageName.startsWith(prefix));
}

/** True when the Lambda runtime or the Powertools layer already provides the package. */
export function isProvidedAtRuntime(packageName: string): boolean {
    return isProvidedByRuntime(packageName) || isProvidedByLayer(packageName);
}

/**
 * The names in package.json `dependencies` and `optionalDependencies`: computeCodePaths
 * normalizes the manifest (normalize-package-data), which folds optional dependencies
 * into `dependencies`, so the per-platform Node binaries would otherwise ship.
 */
export function runtimeDependencyNames(packageJsonPath: string = PACKAGE_JSON): string[] {
    const manifest = JSON.parse(fs.readFileSync(packageJsonPath, "utf8")) as {
        dependencies?: Record<string, string>;
        optionalDependencies?: Record<string, string>;
    };
    return [...new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.optionalDependencies ?? {})])].sort();
}

const LICENSE_FILE = /^(licen[cs]e|notice|copying)(\.[a-z]+)?$/i;
const RESOLVE_SUFFIXES = ["", ".js", ".cjs", ".json", "/index.js", "/index.cjs", "/index.json"];
const STATIC_REQUIRE = /\brequire\(\s*(["'])([^"'\n]+)\1\s*\)/g;

function isBuiltin(specifier: string): boolean {
    return specifier.startsWith("node:") || builtinModules.includes(specifier.split("/")[0]);
}

function packageNameOf(specifier: string): string {
    const parts = specifier.split("/");
    return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

function resolveFile(candidate: string): string | undefined {
    for (const suffix of RESOLVE_SUFFIXES) {
        const file = candidate + suffix;
        if (fs.existsSync(file) && fs.statSync(file).isFile()) return file;
    }
    return undefined;
}

/** The file `require(name)` loads: the `require` condition of `exports["."]`, else `main`, else index.js. */
function requireEntry(packageDir: string): string {
    const manifest = JSON.parse(fs.readFileSync(path.join(packageDir, "package.json"), "utf8")) as { main?: string; exports?: unknown };
    let target: unknown = manifest.exports;
    if (target && typeof target === "object" && "." in (target as object)) target = (target as Record<string, unknown>)["."];
    for (let depth = 0; target && typeof target === "object" && depth < 4; depth++) {
        const conditions = target as Record<string, unknown>;
        target = conditions.require ?? conditions.node ?? conditions.default;
    }
    const entry = typeof target === "string" ? target : (manifest.main ?? "index.js");
    const file = resolveFile(path.join(packageDir, entry));
    if (!file) throw new Error(`cannot find the CommonJS entry "${entry}" of ${packageDir}`);
    return file;
}

/**
 * Every file a CommonJS `require(packageName)` can load, as paths relative to the
 * project directory (`node_modules/<name>/...`): the package's require entry and
 * every file reachable from it through static `require("...")` calls, the same for
 * the packages it requires (unless the runtime or layer provides them), plus each
 * package's package.json (and any nested one that sets a directory's module type)
 * and license files. A dynamic require would be missed: the
 * artifact tests run the shipped files, so such a miss fails a test, not a deployment.
 *
 * @example
 * runtimeFiles("valibot"); // ["node_modules/valibot/LICENSE.md", "node_modules/valibot/dist/index.cjs", "node_modules/valibot/package.json"]
 */
export function runtimeFiles(packageName: string, root: string = ROOT): string[] {
    const files = new Set<string>();
    const packages = new Set<string>();
    const addPackage = (name: string, fromDir: string): string => {
        let dir = fromDir;
        let packageDir: string | undefined;
        for (;;) {
            const candidate = path.join(dir, "node_modules", name);
            if (fs.existsSync(path.join(candidate, "package.json"))) {
                packageDir = candidate;
                break;
            }
            if (dir === root || dir === path.dirname(dir)) break;
            dir = path.dirname(dir);
        }
        if (!packageDir)
            throw new Error(`runtimeFiles: "${name}" is required (from ${path.relative(root, fromDir) || "."}) but not installed`);
        if (!packages.has(packageDir)) {
            packages.add(packageDir);
            files.add(path.join(packageDir, "package.json"));
            for (const entry of fs.readdirSync(packageDir)) if (LICENSE_FILE.test(entry)) files.add(path.join(packageDir, entry));
        }
        return packageDir;
    };
    // A package.json between a file and its package root (e.g. dist/cjs/package.json with "type": "commonjs")
    // decides how Node loads the file: it ships too.
    const addScopeManifests = (file: string) => {
        for (let dir = path.dirname(file); [...packages].some((p) => dir.startsWith(p + path.sep)); dir = path.dirname(dir)) {
            const manifest = path.join(dir, "package.json");
            if (fs.existsSync(manifest)) files.add(manifest);
        }
    };
    const queue = [requireEntry(addPackage(packageName, root))];
    while (queue.length > 0) {
        const file = queue.pop()!;
        if (files.has(file) && !file.endsWith("package.json")) continue;
        files.add(file);
        addScopeManifests(file);
        if (!/\.c?js$/.test(file)) continue;
        for (const [, , specifier] of fs.readFileSync(file, "utf8").matchAll(STATIC_REQUIRE)) {
            if (isBuiltin(specifier)) continue;
            if (specifier.startsWith(".")) {
                const resolved = resolveFile(path.resolve(path.dirname(file), specifier));
                if (!resolved) throw new Error(`runtimeFiles: ${path.relative(root, file)} requires "${specifier}", which does not exist`);
                if (!files.has(resolved)) queue.push(resolved);
                continue;
            }
            const name = packageNameOf(specifier);
            if (isProvidedAtRuntime(name)) continue;
            const packageDir = addPackage(name, path.dirname(file));
            const resolved =
                specifier === name ? requireEntry(packageDir) : resolveFile(path.join(packageDir, specifier.slice(name.length + 1)));
            if (!resolved) throw new Error(`runtimeFiles: ${path.relative(root, file)} requires "${specifier}", which does not resolve`);
            if (!files.has(resolved)) queue.push(resolved);
        }
    }
    return [...files].map((file) => path.relative(root, file).split(path.sep).join("/")).sort();
}

function checkShippable(caller: string, shippedPackages: readonly string[], packageJsonPath: string): string[] {
    const dependencies = runtimeDependencyNames(packageJsonPath);
    const problems: string[] = [];
    for (const name of shippedPackages) {
        if (!dependencies.includes(name))
            problems.push(`"${name}" is not in package.json dependencies, so it cannot ship in a Lambda archive`);
        if (isProvidedAtRuntime(name)) problems.push(`"${name}" is provided by the Lambda runtime or the Powertools layer; do not ship it`);
    }
    if (problems.length > 0) throw new Error(`${caller}: ${problems.join("; ")}`);
    return dependencies;
}

/**
 * `codePathOptions` for a CallbackFunction that ships exactly the runtime files of
 * `shippedPackages` (see {@link runtimeFiles}): every package.json dependency is
 * excluded from Pulumi's package walk, including the AWS SDK (runtime) and
 * Powertools (layer), and the files are listed one by one.
 *
 * @example
 * new aws.lambda.CallbackFunction("fn", { codePathOptions: lambdaCodePathOptions(["valibot"]), ... });
 */
export function lambdaCodePathOptions(shippedPackages: readonly string[], packageJsonPath: string = PACKAGE_JSON): CodePathOptions {
    const dependencies = checkShippable("lambdaCodePathOptions", shippedPackages, packageJsonPath);
    const root = path.dirname(packageJsonPath);
    return {
        extraExcludePackages: dependencies,
        extraIncludePaths: [...new Set(shippedPackages.flatMap((name) => runtimeFiles(name, root)))].sort(),
    };
}

/**
 * The archive of a Node.js Lambda layer holding the runtime files of `packages`
 * (`nodejs/node_modules/<name>/...`, the path Lambda puts on NODE_PATH: "Packaging
 * your layer content", AWS Lambda Developer Guide), as archive path -> source path.
 *
 * @example
 * const files = layerFiles(["nodemailer"]); // { "nodejs/node_modules/nodemailer/package.json": "node_modules/nodemailer/package.json", ... }
 */
export function layerFiles(packages: readonly string[], packageJsonPath: string = PACKAGE_JSON): Record<string, string> {
    checkShippable("layerFiles", packages, packageJsonPath);
    const root = path.dirname(packageJsonPath);
    const files = [...new Set(packages.flatMap((name) => runtimeFiles(name, root)))].sort();
    return Object.fromEntries(files.map((file) => [`nodejs/${file}`, file]));
}
