/**
 * The config a stack's program receives, computed from `Pulumi.yaml` and
 * `Pulumi.<stack>.yaml` the way the Pulumi CLI does it (stack values win; a declared
 * default or value fills what the stack does not set). Used wherever the program runs
 * without the CLI: mocks, `npm start`, the offline policy check.
 */
import { ConfigValidationError } from "./errors";

/** A stack's effective config and the keys that are secrets there. */
export interface StackFileConfig {
    /** Fully qualified key → value as written in YAML (secure values as `<secret>`). */
    readonly config: Record<string, unknown>;
    /** Keys given as `secure:` values in the stack file. */
    readonly secretKeys: string[];
}

/** Stands in for a `secure:` value, whose ciphertext only the CLI can read. */
export const SECURE_PLACEHOLDER = "<secret>";

function isMapping(value: unknown): value is Record<string, unknown> {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * Effective config of one stack. Throws {@link ConfigValidationError} when the stack file's
 * `config:` is not a mapping (a YAML list, `- key: value`, would otherwise lose every key).
 *
 * @example
 * stackFileConfig(YAML.parse(project), YAML.parse(stackFile), "Pulumi.dev.yaml").config["event-ingestion:batchSize"];
 */
export function stackFileConfig(projectDoc: unknown, stackDoc: unknown, stackFile: string): StackFileConfig {
    const project = isMapping(projectDoc) ? projectDoc : {};
    const projectName = String(project.name ?? "");
    const stackConfig = isMapping(stackDoc) ? stackDoc.config : undefined;
    if (stackConfig !== undefined && stackConfig !== null && !isMapping(stackConfig)) {
        throw new ConfigValidationError([
            {
                key: `${stackFile} config`,
                value: Array.isArray(stackConfig) ? `(a list of ${stackConfig.length})` : stackConfig,
                allowed: 'must be a mapping of "namespace:key: value" lines, not a list: remove the leading "- " of each line',
            },
        ]);
    }
    const config: Record<string, unknown> = {};
    const secretKeys: string[] = [];
    for (const [key, value] of Object.entries(stackConfig ?? {})) {
        const secure = isMapping(value) && "secure" in value;
        config[key] = secure ? SECURE_PLACEHOLDER : value;
        if (secure) secretKeys.push(key);
    }
    const declarations = isMapping(project.config) ? project.config : {};
    for (const [declared, declaration] of Object.entries(declarations)) {
        const key = declared.includes(":") ? declared : `${projectName}:${declared}`;
        if (key in config) continue;
        if (!isMapping(declaration)) {
            // Shorthand: a project key's default, another namespace's value.
            config[key] = declaration;
            continue;
        }
        if (declaration.default !== undefined) config[key] = declaration.default;
        else if (declaration.value !== undefined) config[key] = declaration.value;
    }
    return { config, secretKeys };
}
