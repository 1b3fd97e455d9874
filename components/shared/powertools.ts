/**
 * Powertools for AWS Lambda (TypeScript): the version this program is tested with
 * is the version the functions run. One source: the installed packages (package.json
 * pins every `@aws-lambda-powertools/*` at one exact version). The layer is resolved
 * at deploy time from Powertools' public SSM parameter for that version (Powertools
 * docs, "Lambda layers" > "Lookup Layer ARN via AWS SSM Parameter Store"), never from
 * a layer number typed by hand (`powertoolsLayerArn` in aws-scope.ts reads it).
 * Pure except for reading the installed package's manifest, so local code imports it too.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** The package scope every Powertools utility is published under. */
export const POWERTOOLS_PACKAGE_SCOPE = "@aws-lambda-powertools/";
/** The package whose installed version is the program's Powertools version (every utility depends on it). */
export const POWERTOOLS_VERSION_PACKAGE = "@aws-lambda-powertools/commons";
/** Prefix of Powertools' public SSM parameters, one per release (`<prefix><version>` = layer version ARN). */
export const POWERTOOLS_LAYER_PARAMETER_PREFIX = "/aws/service/powertools/typescript/generic/all/";

const ROOT = path.resolve(__dirname, "..", "..");

/**
 * The installed Powertools version, from `@aws-lambda-powertools/commons/package.json`.
 *
 * @example
 * installedPowertoolsVersion(); // "2.35.0"
 */
export function installedPowertoolsVersion(root: string = ROOT): string {
    const manifest = path.join(root, "node_modules", ...POWERTOOLS_VERSION_PACKAGE.split("/"), "package.json");
    const { version } = JSON.parse(fs.readFileSync(manifest, "utf8")) as { version?: string };
    if (!version || !/^\d+\.\d+\.\d+$/.test(version))
        throw new Error(`${manifest} has no release version (found ${JSON.stringify(version)})`);
    return version;
}

/**
 * The name of the public SSM parameter whose value is the ARN of the Powertools
 * layer that carries exactly `version`, in the region the parameter is read in.
 *
 * @example
 * powertoolsLayerParameterName("2.35.0"); // "/aws/service/powertools/typescript/generic/all/2.35.0"
 */
export function powertoolsLayerParameterName(version: string = installedPowertoolsVersion()): string {
    return `${POWERTOOLS_LAYER_PARAMETER_PREFIX}${version}`;
}
