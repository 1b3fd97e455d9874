/**
 * The stack config, typed and validated with valibot when the program starts.
 * Every problem is reported at once, each naming the key, the value given and
 * what is allowed. Sections live in their own files; add yours to `sections()`.
 */
import * as pulumi from "@pulumi/pulumi";
import * as v from "valibot";
import { EVENT_TYPE_NAMES } from "../handlers/event-processor";
import { ConfigValidationError, type ConfigIssue } from "./errors";
import { eventProcessorSection } from "./event-processor";
import { emailServiceSection } from "./email-service";
import { decodeConfigValue, parseSection, type ConfigSection } from "./section";

export { ConfigValidationError, type ConfigIssue } from "./errors";
export type { EventProcessorConfig } from "./event-processor";
export type { EmailServiceConfig } from "./email-service";

/** The project's config namespace (`Pulumi.yaml` name). */
export const CONFIG_NAMESPACE = "event-ingestion";

/** Every config section, by the property it has in {@link StackConfig}. One line per section. */
function sections() {
    return {
        eventProcessor: eventProcessorSection(EVENT_TYPE_NAMES),
        emailService: emailServiceSection(),
    };
}

type Sections = ReturnType<typeof sections>;
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

/**
 * Validates a flat `{ "ns:key": value }` config map (values as Pulumi gives them: strings, JSON-encoded when not).
 * Pure: the tests call it directly.
 *
 * @example
 * parseStackConfig({ "aws:region": "eu-west-1", "event-ingestion:batchSize": "5" }).eventProcessor.batchSize; // 5
 */
export function parseStackConfig(raw: Readonly<Record<string, unknown>>, context: StackConfigContext = {}): StackConfig {
    const issues: ConfigIssue[] = [];
    const region = v.safeParse(regionSchema, raw["aws:region"]);
    if (!region.success) issues.push({ key: "aws:region", value: raw["aws:region"], allowed: REGION_ALLOWED });

    const all = sections();
    const known = new Set<string>();
    const values: Record<string, unknown> = {};
    for (const [name, section] of Object.entries(all) as [string, ConfigSection<unknown>][]) {
        for (const key of section.keys) known.add(`${CONFIG_NAMESPACE}:${key}`);
        const result = parseSection(CONFIG_NAMESPACE, section, raw);
        issues.push(...result.issues);
        values[name] = result.value;
    }
    for (const key of Object.keys(raw).sort()) {
        const short = key.slice(CONFIG_NAMESPACE.length + 1);
        const retired = Object.hasOwn(RETIRED_KEYS, short) ? RETIRED_KEYS[short] : undefined;
        if (key.startsWith(`${CONFIG_NAMESPACE}:`) && retired !== undefined) {
            issues.push({ key, value: decodeConfigValue(raw[key]), allowed: retired });
        } else if (key.startsWith(`${CONFIG_NAMESPACE}:`) && !known.has(key)) {
            issues.push({ key, value: raw[key], allowed: `is not a known setting; known settings: ${[...known].map((k) => k.slice(CONFIG_NAMESPACE.length + 1)).sort().join(", ")}` });
        }
    }
    const alarms = alarmSubscriptionIssue(raw, context);
    if (alarms) issues.push(alarms);
    if (issues.length > 0) throw new ConfigValidationError(issues);
    return { region: region.output as string, ...values } as StackConfig;
}

/** Reads and validates the running stack's config; throws {@link ConfigValidationError} listing every problem. */
export function loadStackConfig(): StackConfig {
    return parseStackConfig(pulumi.runtime.allConfig(), { stack: pulumi.getStack() });
}

/** What {@link parseStackConfig} knows about the stack beyond its config map. */
export interface StackConfigContext {
    /** The stack being deployed. When given, stack-level rules apply (an alarm subscription outside emulators). @default undefined (section rules only) */
    stack?: string;
}

/** The key that subscribes someone to the alarm topic. */
export const ALARM_SUBSCRIPTION_KEY = `${CONFIG_NAMESPACE}:alarmEmail`;

/**
 * A stack that deploys to AWS must notify someone: alarms without a subscription fire into
 * nothing. Only a stack whose AWS provider points at emulators (`aws:endpoints`, such as the
 * localstack stack) may go without one.
 */
function alarmSubscriptionIssue(raw: Readonly<Record<string, unknown>>, context: StackConfigContext): ConfigIssue | undefined {
    if (context.stack === undefined || raw[ALARM_SUBSCRIPTION_KEY] !== undefined) return undefined;
    if (raw["aws:endpoints"] !== undefined) return undefined;
    return {
        key: ALARM_SUBSCRIPTION_KEY,
        value: undefined,
        allowed:
            `is required for stack "${context.stack}": its alarms would notify no one. Set the on-call address ` +
            `(pulumi config set ${ALARM_SUBSCRIPTION_KEY} oncall@example.com --stack ${context.stack}); ` +
            "only a stack whose AWS provider points at emulators (aws:endpoints) may leave it unset",
    };
}
