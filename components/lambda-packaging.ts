/**
 * What goes into a CallbackFunction's archive. `pulumi.runtime.computeCodePaths`
 * walks every package in package.json `dependencies`, whether the function uses it
 * or not; this computes the exclusions so the archive holds only what the function
 * needs and the runtime/layer do not provide. Pure except for reading package.json.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { CodePathOptions } from "@pulumi/pulumi/runtime";

const PACKAGE_JSON = path.resolve(__dirname, "..", "package.json");

/** Packages the nodejs22.x runtime provides (AWS SDK for JavaScript v3 and its Smithy core). */
export const RUNTIME_PROVIDED_PACKAGE_PREFIXES = ["@aws-sdk/", "@smithy/", "@aws-crypto/"] as const;
/** Packages AWS's public Powertools for AWS Lambda (TypeScript) layer provides. */
export const LAYER_PROVIDED_PACKAGE_PREFIXES = ["@aws-lambda-powertools/"] as const;

/** True when the Lambda runtime or the Powertools layer already provides the package. */
export function isProvidedAtRuntime(packageName: string): boolean {
    return [...RUNTIME_PROVIDED_PACKAGE_PREFIXES, ...LAYER_PROVIDED_PACKAGE_PREFIXES].some((prefix) => packageName.startsWith(prefix));
}

/**
 * The names in package.json `dependencies` and `optionalDependencies`: computeCodePaths
 * normalizes the manifest (normalize-package-data), which folds optional dependencies
 * into `dependencies`, so the per-platform Node binaries would otherwise ship.
 */
export function runtimeDependencyNames(packageJsonPath: string = PACKAGE_JSON): string[] {
    const manifest = JSON.parse(fs.readFileSync(packageJsonPath, "utf8")) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
    return [...new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.optionalDependencies ?? {})])].sort();
}

/**
 * `codePathOptions` for a CallbackFunction that ships exactly `shippedPackages`
 * (plus their own dependencies): every other package.json dependency is excluded,
 * including the AWS SDK (runtime) and Powertools (layer).
 *
 * @example
 * new aws.lambda.CallbackFunction("fn", { codePathOptions: lambdaCodePathOptions(["valibot"]), ... });
 */
export function lambdaCodePathOptions(shippedPackages: readonly string[], packageJsonPath: string = PACKAGE_JSON): CodePathOptions {
    const dependencies = runtimeDependencyNames(packageJsonPath);
    const problems: string[] = [];
    for (const name of shippedPackages) {
        if (!dependencies.includes(name)) problems.push(`"${name}" is not in package.json dependencies, so it cannot ship in a Lambda archive`);
        if (isProvidedAtRuntime(name)) problems.push(`"${name}" is provided by the Lambda runtime or the Powertools layer; do not ship it`);
    }
    if (problems.length > 0) throw new Error(`lambdaCodePathOptions: ${problems.join("; ")}`);
    return { extraExcludePackages: dependencies.filter((name) => !shippedPackages.includes(name)) };
}
