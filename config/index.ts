/**
 * The stack config, typed and validated with valibot when the program starts.
 * Every problem is reported at once, each naming the key, the value given and
 * what is allowed; secret values are never printed. Sections live in their own
 * files; add yours to `configSections()` with a description per key, then run
 * `npm run generate` to declare its keys in `Pulumi.yaml` (tests/config/config-declarations.test.ts
 * checks the two agree).
 */
import * as pulumi from "@pulumi/pulumi";
import { closest, distance } from "fastest-levenshtein";
import * as v from "valibot";
import { EVENT_TYPE_NAMES } from "../contracts/event-pipeline";
import { ConfigValidationError, type ConfigIssue } from "./errors";
import { eventProcessorSection } from "./event-processor";
import { emailServiceSection } from "./email-service";
import { tagsSection } from "./tags";
import { decodeConfigValue, isUnsetValue, parseSection, type ConfigSection } from "./section";

export { ConfigValidationError, type ConfigIssue } from "./errors";
export type { EventProcessorConfig } from "./event-processor";
export type { EmailServiceConfig } from "./email-service";
export type { TagsConfig } from "./tags";

/** The project's config namespace (`Pulumi.yaml` name). */
export const CONFIG_NAMESPACE = "event-ingestion";

/** Config namespaces of the providers and engine the program uses: their keys are theirs to validate. */
export const FOREIGN_NAMESPACES = ["aws", "awsx", "pulumi"] as const;

/** Every config section, by the property it has in {@link StackConfig}. One line per section. */
export function configSections() {
    return {
        eventProcessor: eventProcessorSection(EVENT_TYPE_NAMES),
        emailService: emailServiceSection(),
        tags: tagsSection(),
    };
}

type Sections = ReturnType<typeof configSections>;
type SectionValue<S> = S extends ConfigSection<infer T> ? T : never;

/** The whole validated stack config. */
export type StackConfig = { region: string } & { [K in keyof Sections]: SectionValue<Sections[K]> };

/**
 * Settings the program no longer reads, with why: a stack that still sets one fails
 * with that reason instead of silently deploying something else than it says.
 */
export const RETIRED_KEYS: Readonly<Record<string, string>> = {
    powertoolsLayerVersion:
        "is retired: the Powertools layer is now resolved at deploy time from the public SSM parameter of the installed " +
        "@aws-lambda-powertools version (package.json pins it), so the layer always carries the version the tests ran; remove this key",
};

const REGION_ALLOWED = "must be an AWS region name such as us-east-1 or eu-west-1";
const regionSchema = v.pipe(v.string(REGION_ALLOWED), v.regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$/, REGION_ALLOWED));

/** Options of {@link parseStackConfig}. */
export interface ParseStackConfigOptions {
    /** Fully qualified keys Pulumi holds as secrets (`pulumi config set --secret`). @default none: any value of a secret key is refused */
    readonly secretKeys?: Iterable<string>;
    /** The stack being deployed. When given, stack-level rules apply (an alarm subscription outside emulators). @default undefined (section rules only) */
    readonly stack?: string;
}

/** Suggestions further than this (edits, case-insensitive) are noise. */
function closeEnough(typo: string, known: string): boolean {
    return distance(typo.toLowerCase(), known.toLowerCase()) <= Math.max(2, Math.floor(known.length / 4));
}

/** What to say about a key the program does not know: the closest known key, or where the list is. */
function unknownKeyAdvice(name: string, known: readonly string[]): string {
    const nearest = closest(name, [...known]);
    if (nearest && closeEnough(name, nearest)) return `is not a known setting; did you mean ${CONFIG_NAMESPACE}:${nearest}?`;
    return `is not a known setting (Pulumi.yaml declares all ${known.length}, each with its type, default and description)`;
}

/**
 * A key in another namespace that was meant for this project (`event_ingestion:batchSize`,
 * `eventingestion:batchSize`, `batchSize` under a provider's namespace): advice, or undefined.
 */
function misplacedKeyAdvice(key: string, known: readonly string[]): string | undefined {
    const colon = key.indexOf(":");
    const namespace = colon === -1 ? "" : key.slice(0, colon);
    const name = key.slice(colon + 1);
    if (namespace === CONFIG_NAMESPACE) return undefined;
    const nearest = closest(name, [...known]);
    const suggestion = nearest && closeEnough(name, nearest) ? `${CONFIG_NAMESPACE}:${nearest}` : undefined;
    if (colon === -1) {
        return `has no namespace; stack settings are namespace:key${suggestion ? ` (did you mean ${suggestion}?)` : ""}`;
    }
    const foreign = (FOREIGN_NAMESPACES as readonly string[]).includes(namespace);
    const nearProject = closeEnough(namespace, CONFIG_NAMESPACE);
    if (nearProject || (!foreign && suggestion)) {
        return `is in namespace "${namespace}", which is not this project's ("${CONFIG_NAMESPACE}"), so it would be ignored${suggestion ? `; did you mean ${suggestion}?` : ""}`;
    }
    return undefined;
}

/**
 * Validates a flat `{ "ns:key": value }` config map (values as Pulumi gives them: strings, JSON-encoded when not).
 * Pure: the tests call it directly.
 *
 * @example
 * parseStackConfig({ "aws:region": "eu-west-1", "event-ingestion:batchSize": "5" }).eventProcessor.batchSize; // 5
 */
export function parseStackConfig(raw: Readonly<Record<string, unknown>>, options: ParseStackConfigOptions = {}): StackConfig {
    const issues: ConfigIssue[] = [];
    const region = v.safeParse(regionSchema, raw["aws:region"]);
    if (!region.success) issues.push({ key: "aws:region", value: raw["aws:region"], allowed: REGION_ALLOWED });

    const secretKeys = new Set(options.secretKeys ?? []);
    const known: string[] = [];
    const values: Record<string, unknown> = {};
    for (const [name, section] of Object.entries(configSections()) as [string, ConfigSection<unknown>][]) {
        known.push(...section.keys);
        for (const key of section.secretKeys ?? []) {
            const qualified = `${CONFIG_NAMESPACE}:${key}`;
            const given = raw[qualified];
            if (given !== undefined && !isUnsetValue(given) && !secretKeys.has(qualified)) {
                issues.push({
                    key: qualified,
                    value: given,
                    secret: true,
                    allowed: `must be a secret: pulumi config set --secret ${key} <value>`,
                });
            }
        }
        const result = parseSection(CONFIG_NAMESPACE, section, raw);
        issues.push(...result.issues);
        values[name] = result.value;
    }
    for (const key of Object.keys(raw).sort()) {
        if (key.startsWith(`${CONFIG_NAMESPACE}:`)) {
            const short = key.slice(CONFIG_NAMESPACE.length + 1);
            const retired = Object.hasOwn(RETIRED_KEYS, short) ? RETIRED_KEYS[short] : undefined;
            if (retired !== undefined) issues.push({ key, value: decodeConfigValue(raw[key]), allowed: retired });
            else if (!known.includes(short)) issues.push({ key, value: raw[key], allowed: unknownKeyAdvice(short, known) });
            continue;
        }
        const advice = misplacedKeyAdvice(key, known);
        if (advice) issues.push({ key, value: raw[key], allowed: advice });
    }
    const alarms = alarmSubscriptionIssue(raw, options);
    if (alarms) issues.push(alarms);
    if (issues.length > 0) throw new ConfigValidationError(issues);
    return { region: region.output as string, ...values } as StackConfig;
}

/** Keys the Pulumi engine passed as secrets (`PULUMI_CONFIG_SECRET_KEYS`, read through the SDK's own accessor). */
function engineSecretKeys(config: Readonly<Record<string, string>>): string[] {
    const isConfigSecret = (pulumi.runtime as unknown as { isConfigSecret?: (key: string) => boolean }).isConfigSecret;
    return isConfigSecret ? Object.keys(config).filter((key) => isConfigSecret(key)) : [];
}

/** Reads and validates the running stack's config; throws {@link ConfigValidationError} listing every problem. */
export function loadStackConfig(): StackConfig {
    const raw = pulumi.runtime.allConfig();
    return parseStackConfig(raw, { secretKeys: engineSecretKeys(raw), stack: pulumi.getStack() });
}

/** The key that subscribes someone to the alarm topic. */
export const ALARM_SUBSCRIPTION_KEY = `${CONFIG_NAMESPACE}:alarmEmail`;

/**
 * A stack that deploys to AWS must notify someone: alarms without a subscription fire into
 * nothing. Only a stack whose AWS provider points at emulators (`aws:endpoints`, such as the
 * localstack stack) may go without one.
 */
function alarmSubscriptionIssue(raw: Readonly<Record<string, unknown>>, options: ParseStackConfigOptions): ConfigIssue | undefined {
    // Under the CLI an unset key arrives as its declared empty default (Pulumi.yaml).
    const given = raw[ALARM_SUBSCRIPTION_KEY];
    if (options.stack === undefined || (given !== undefined && !isUnsetValue(given))) return undefined;
    if (raw["aws:endpoints"] !== undefined) return undefined;
    return {
        key: ALARM_SUBSCRIPTION_KEY,
        value: undefined,
        allowed:
            `is required for stack "${options.stack}": its alarms would notify no one. Set the on-call address ` +
            `(pulumi config set ${ALARM_SUBSCRIPTION_KEY} oncall@example.com --stack ${options.stack}); ` +
            "only a stack whose AWS provider points at emulators (aws:endpoints) may leave it unset",
    };
}
