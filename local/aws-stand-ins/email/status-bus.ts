/**
 * A local stand-in for the email status bus: what the notify function's `PutEvents` would put
 * on the custom EventBridge bus, kept in order, and handed to local subscribers whose rule
 * pattern matches, as EventBridge rules do. With the DynamoDB Local stream reader in front
 * (local/aws-stand-ins/stream-reader.ts) it reproduces the deployed path: status table
 * stream → notify handler → bus → a consumer's rule.
 *
 * The pattern matcher covers what the consumer contract uses (docs/email-service.md): exact
 * values in arrays, nested `detail` fields, `prefix`, `anything-but` (a value or a list) and
 * `exists` (EventBridge User Guide, "Content filtering in Amazon EventBridge event patterns").
 * Anything else in a pattern is refused loudly, so a test never passes on a pattern that
 * EventBridge would read differently.
 */
import type { PutEventsRequestEntry } from "@aws-sdk/client-eventbridge";
import type { StatusEventPublisher } from "../../../handlers/email/status-notify";

/** An event as a rule's target receives it (the fields the contract uses). */
export interface BusEvent {
    id: string;
    source: string;
    "detail-type": string;
    time: string;
    account: string;
    region: string;
    resources: string[];
    detail: Record<string, unknown>;
}

type Pattern = Record<string, unknown>;

/** PutEvents' limit on one entry (EventBridge API Reference, "PutEvents": 256 KB for the whole request). */
const MAX_ENTRY_BYTES = 262_144;

function matchesValue(rule: unknown, value: unknown, present: boolean): boolean {
    if (rule !== null && typeof rule === "object") {
        const [operator, operand] = Object.entries(rule as Record<string, unknown>)[0] ?? [];
        if (operator === "exists") return operand === present;
        if (!present) return false;
        if (operator === "prefix") return typeof value === "string" && value.startsWith(String(operand));
        if (operator === "anything-but") {
            const excluded = Array.isArray(operand) ? operand : [operand];
            return !excluded.includes(value);
        }
        throw new Error(`status bus stand-in: pattern operator ${JSON.stringify(operator)} is not supported`);
    }
    return present && rule === value;
}

/** True when `event` matches `pattern` (every field of the pattern: one of its values; nested objects recurse). */
export function matchesPattern(pattern: Pattern, event: Record<string, unknown>): boolean {
    return Object.entries(pattern).every(([field, rule]) => {
        const present = Object.prototype.hasOwnProperty.call(event, field) && event[field] !== undefined;
        const value = event[field];
        if (Array.isArray(rule)) {
            if (Array.isArray(value)) return value.some((item) => rule.some((r) => matchesValue(r, item, true)));
            return rule.some((r) => matchesValue(r, value, present));
        }
        if (rule !== null && typeof rule === "object") {
            if (!present || value === null || typeof value !== "object") return false;
            return matchesPattern(rule as Pattern, value as Record<string, unknown>);
        }
        throw new Error(`status bus stand-in: pattern field ${field} must be an array or an object`);
    });
}

/**
 * The local status bus.
 *
 * @example
 * const bus = new LocalStatusBus("email-status");
 * bus.subscribe({ source: ["event-ingestion.email"], detail: { owner: [owner] } }, (event) => seen.push(event));
 * const notify = createEmailStatusNotifier({ eventBusName: bus.name, publish: bus.publish });
 */
export class LocalStatusBus {
    /** Every event put on the bus, in order. */
    readonly events: BusEvent[] = [];
    private readonly subscriptions: { pattern: Pattern; deliver: (event: BusEvent) => void }[] = [];
    private sequence = 0;

    constructor(
        readonly name: string,
        private readonly options: { account?: string; region?: string } = {},
    ) {}

    /** A rule with one target: `deliver` gets every later event that matches `pattern`. Returns the unsubscribe. */
    subscribe(pattern: Pattern, deliver: (event: BusEvent) => void): () => void {
        const subscription = { pattern, deliver };
        this.subscriptions.push(subscription);
        return () => void this.subscriptions.splice(this.subscriptions.indexOf(subscription), 1);
    }

    /** PutEvents: entries for another bus, without a source, detail-type or JSON object detail, or too large are refused, as EventBridge does per entry. */
    readonly publish: StatusEventPublisher = async (entries: PutEventsRequestEntry[]) => {
        for (const [index, entry] of entries.entries()) {
            const detail = this.detailOf(entry);
            if (!detail || (entry.EventBusName !== this.name && !entry.EventBusName?.endsWith(`:event-bus/${this.name}`))) return index;
            const event: BusEvent = {
                id: `local-${++this.sequence}`,
                source: entry.Source!,
                "detail-type": entry.DetailType!,
                time: (entry.Time ?? new Date()).toISOString(),
                account: this.options.account ?? "000000000000",
                region: this.options.region ?? "us-east-1",
                resources: entry.Resources ?? [],
                detail,
            };
            this.events.push(event);
            for (const subscription of [...this.subscriptions])
                if (matchesPattern(subscription.pattern, event as unknown as Record<string, unknown>)) subscription.deliver(event);
        }
        return -1;
    };

    private detailOf(entry: PutEventsRequestEntry): Record<string, unknown> | undefined {
        if (!entry.Source || !entry.DetailType || !entry.Detail) return undefined;
        if (Buffer.byteLength(entry.Detail) > MAX_ENTRY_BYTES) return undefined;
        try {
            const detail = JSON.parse(entry.Detail) as unknown;
            return detail !== null && typeof detail === "object" && !Array.isArray(detail)
                ? (detail as Record<string, unknown>)
                : undefined;
        } catch {
            return undefined;
        }
    }
}
