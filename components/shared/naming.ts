/**
 * Every explicit physical name the program gives a resource, from project and stack,
 * in one pure place. Pulumi accepts any stack name of up to 100 characters from
 * `[A-Za-z0-9_.-]`; AWS's name rules differ per resource type, so each name here keeps
 * the plain stack name where the type accepts it (so existing stacks keep their names
 * and resources) and uses {@link stackSlug} only where it would not. Autonamed resources
 * (roles, policies, queues, tables, topics, buckets, functions) are named by Pulumi from
 * their logical names and are not built here.
 */
import * as crypto from "node:crypto";

/** What Pulumi accepts as a stack name. */
export const STACK_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,100}$/;
/** The longest {@link stackSlug}. */
export const STACK_SLUG_MAX_LENGTH = 32;
/** Hex digits of the stack name's SHA-256 a changed slug ends with (keeps slugs of different stacks apart). */
const SLUG_HASH_LENGTH = 8;

/** A stack name that is already a slug: letters and digits in hyphen-separated runs (no `.`, `_`, `--`, edge hyphens). */
const PLAIN_SLUG = /^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$/;

/**
 * A form of the stack name that is valid in every AWS name this program builds: letters,
 * digits and single hyphens, at most `maxLength` characters. A stack name already of
 * that form and length is returned as it is; any other becomes its sanitised, truncated
 * form plus `-` and 8 hex digits of its SHA-256, so two stacks never share a slug (a
 * sanitised `prod.eu` and `prod-eu` differ by their hash).
 *
 * @example
 * stackSlug("dev"); // "dev"
 * stackSlug("prod.eu-west-1"); // "prod-eu-west-1-<8 hex>"
 */
export function stackSlug(stack: string, maxLength: number = STACK_SLUG_MAX_LENGTH): string {
    if (!STACK_NAME_PATTERN.test(stack))
        throw new RangeError(`stack name ${JSON.stringify(stack)} is not a Pulumi stack name ([A-Za-z0-9_.-], 1 to 100 characters)`);
    if (maxLength < SLUG_HASH_LENGTH) throw new RangeError(`a stack slug needs at least ${SLUG_HASH_LENGTH} characters, got ${maxLength}`);
    if (PLAIN_SLUG.test(stack) && stack.length <= maxLength) return stack;
    const hash = crypto.createHash("sha256").update(stack).digest("hex").slice(0, SLUG_HASH_LENGTH);
    const base = stack
        .replace(/[^A-Za-z0-9]+/g, "-")
        .slice(0, Math.max(0, maxLength - SLUG_HASH_LENGTH - 1))
        .replace(/^-+|-+$/g, "");
    return base ? `${base}-${hash}` : hash;
}

/** The stack as it appears in names whose type accepts `[A-Za-z0-9_-]` (KMS aliases, dashboards): as it is, or its slug when it holds a dot. */
function stackSegment(stack: string): string {
    return /^[A-Za-z0-9_-]+$/.test(stack) ? stack : stackSlug(stack);
}

/**
 * A KMS alias name: `alias/<project>/<stack>/<name>` (AWS KMS API, CreateAlias: `^alias/[a-zA-Z0-9/_-]+$`, at most 256).
 *
 * @example
 * kmsAliasName("event-ingestion", "dev", "events"); // "alias/event-ingestion/dev/events"
 */
export function kmsAliasName(project: string, stack: string, name: string): string {
    return `alias/${project}/${stackSegment(stack)}/${name}`;
}

/**
 * A name for a resource whose name is global to the account (dashboards): qualified by
 * project, stack and region so two stacks in two regions never collide (CloudWatch
 * PutDashboard: `[A-Za-z0-9_-]`, at most 255).
 *
 * @example
 * globalName("event-ingestion", "prod", "ap-south-1", "events"); // "event-ingestion-prod-ap-south-1-events"
 */
export function globalName(project: string, stack: string, region: string, suffix: string): string {
    return `${project}-${stackSegment(stack)}-${region}-${suffix}`;
}

/**
 * An EventBridge Scheduler schedule group name: `<project>-<stack>-<name>`
 * (CreateScheduleGroup: `^[0-9a-zA-Z-_.]+$`, 1 to 64). The stack's slug, shortened to
 * fit, replaces the stack name only when the plain name would be longer than 64.
 *
 * @example
 * scheduleGroupName("event-ingestion", "dev", "email-schedules"); // "event-ingestion-dev-email-schedules"
 */
export function scheduleGroupName(project: string, stack: string, name: string): string {
    const plain = `${project}-${stack}-${name}`;
    if (plain.length <= SCHEDULE_GROUP_NAME_MAX_LENGTH) return plain;
    return `${project}-${stackSlug(stack, SCHEDULE_GROUP_NAME_MAX_LENGTH - project.length - name.length - 2)}-${name}`;
}
export const SCHEDULE_GROUP_NAME_MAX_LENGTH = 64;

/**
 * The prefix of every log group of the stack: `/<project>/<stack>/` (CloudWatch Logs
 * CreateLogGroup: `[\.\-_/#A-Za-z0-9]+`, at most 512, which every stack name fits).
 * The key policy lets CloudWatch Logs encrypt only log groups under it.
 */
export function logGroupNamePrefix(project: string, stack: string): string {
    return `/${project}/${stack}/`;
}

/**
 * The prefix of every alarm name of the stack, `<project>-<stack>/`. The key and topic
 * policies admit alarms by this prefix, so it must not be a prefix of another stack's
 * alarm names: `/` cannot occur in a stack name, so the alarms of stack `dev-2`
 * (`event-ingestion-dev-2/…`) never match `event-ingestion-dev/*`. A hyphen would not do
 * (`event-ingestion-dev-*` matches `event-ingestion-dev-2-…`). Alarm names take any
 * printable characters, at most 255 (CloudWatch PutMetricAlarm).
 *
 * @example
 * alarmNamePrefix("event-ingestion", "dev"); // "event-ingestion-dev/"
 */
export function alarmNamePrefix(project: string, stack: string): string {
    return `${project}-${stack}/`;
}

/**
 * A name of at most `maxLength` characters from `[A-Za-z0-9_-]`: `<project>-<stack>-<name>`,
 * with the stack's slug, shortened to fit, in place of a stack name that holds a dot or
 * would make the name too long.
 */
function boundedName(project: string, stack: string, name: string, maxLength: number): string {
    const plain = `${project}-${stack}-${name}`;
    if (/^[A-Za-z0-9_-]+$/.test(plain) && plain.length <= maxLength) return plain;
    return `${project}-${stackSlug(stack, Math.min(STACK_SLUG_MAX_LENGTH, maxLength - project.length - name.length - 2))}-${name}`;
}

/** SES configuration set names: letters, digits, `_` and `-`, at most 64 (SESv2 CreateConfigurationSet). */
export const SES_CONFIGURATION_SET_NAME_MAX_LENGTH = 64;

/**
 * An SES configuration set name (SESv2 CreateConfigurationSet: `[A-Za-z0-9_-]`, 1 to 64).
 *
 * @example
 * sesConfigurationSetName("event-ingestion", "dev", "email"); // "event-ingestion-dev-email"
 */
export function sesConfigurationSetName(project: string, stack: string, name: string): string {
    return boundedName(project, stack, name, SES_CONFIGURATION_SET_NAME_MAX_LENGTH);
}

/** Lambda layer names: letters, digits, `_` and `-`, at most 140 (Lambda PublishLayerVersion, LayerName). */
export const LAMBDA_LAYER_NAME_MAX_LENGTH = 140;

/**
 * A Lambda layer name (PublishLayerVersion: `[a-zA-Z0-9-_]+`, 1 to 140).
 *
 * @example
 * lambdaLayerName("event-ingestion", "dev", "email-smtp"); // "event-ingestion-dev-email-smtp"
 */
export function lambdaLayerName(project: string, stack: string, name: string): string {
    return boundedName(project, stack, name, LAMBDA_LAYER_NAME_MAX_LENGTH);
}

/** EventBridge event bus names: letters, digits, `.`, `_`, `-` and `/`, at most 256 (CreateEventBus, Name). */
export const EVENT_BUS_NAME_MAX_LENGTH = 256;

/**
 * A custom EventBridge bus name, unique per stack in the account and region (CreateEventBus:
 * `[/\.\-_A-Za-z0-9]+`, 1 to 256; `default` is the account's own bus).
 *
 * @example
 * eventBusName("event-ingestion", "dev", "email-status"); // "event-ingestion-dev-email-status"
 */
export function eventBusName(project: string, stack: string, name: string): string {
    return boundedName(project, stack, name, EVENT_BUS_NAME_MAX_LENGTH);
}
