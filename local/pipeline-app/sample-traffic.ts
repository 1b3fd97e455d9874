/**
 * Realistic multi-tenant demo traffic for the event queue: valid events of every
 * registered type from several tenants, exact duplicates (a producer retrying), a
 * conflicting duplicate (same ids, different content), and one invalid event for
 * every rejection reason that a producer can cause through the queue. Each message
 * carries what it should end as, so the run can prove every event is accounted for.
 *
 * Deterministic for a given seed, so a failing run can be replayed.
 */
import { EVENT_TYPE_NAMES } from "../../handlers/event-processor/event-types";

/** What a message should end as. */
export type Expectation =
    | { kind: "persisted"; clientId: string; eventId: string }
    | { kind: "duplicate"; clientId: string; eventId: string }
    | { kind: "rejected"; reason: string };

export interface SampleMessage {
    /** Stable name for progress and failures, e.g. `valid/acme/order.placed/3`. */
    label: string;
    body: string;
    /** The tenant (fair queues: MessageGroupId = clientId). */
    messageGroupId: string;
    /**
     * 1: originals and invalid events; 2: duplicates, sent once phase 1 is stored, so
     * "which copy is the duplicate" is well defined.
     */
    phase: 1 | 2;
    expect: Expectation;
}

export interface SampleOptions {
    clients?: number;
    eventsPerClient?: number;
    /** Event types enabled in the stack (ENABLED_EVENT_TYPES); undefined = all registered. */
    enabledTypes?: readonly string[];
    seed?: number;
}

/** Rejection reasons a producer cannot cause through a queue message, and why. */
export const REASONS_NOT_SENT: Readonly<Record<string, string>> = {
    item_too_large: "needs a stored item over 400 KB; the queue's message size limit is lower",
    store_rejected_item: "DynamoDB refusing a well-formed item cannot be provoked from a message",
    sender_not_allowed:
        "needs producers in the stack config and a sender outside them; the demo stack runs in open mode (tests/local/pipeline-app/tenancy.e2e.test.ts runs a stack with producers)",
};

const TENANTS = ["acme-retail", "globex", "initech", "umbrella-health", "stark-industries", "wayne-logistics", "hooli", "soylent"];

function rng(seed: number): () => number {
    // mulberry32
    let state = seed >>> 0;
    return () => {
        state = (state + 0x6d2b79f5) >>> 0;
        let mixed = state;
        mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
        mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
        return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
    };
}

/** A valid `data` object for each shipped event type. */
export function sampleData(type: string, index: number, random: () => number): Record<string, unknown> {
    const id = (prefix: string) => `${prefix}-${index}-${Math.floor(random() * 1e6)}`;
    switch (type) {
        case "order.placed": {
            const quantity = 1 + Math.floor(random() * 3);
            const unitPrice = 500 + Math.floor(random() * 5000);
            return {
                orderId: id("ord"),
                customerId: id("cus"),
                currency: "EUR",
                totalAmount: quantity * unitPrice,
                lines: [{ sku: id("sku"), quantity, unitPrice }],
            };
        }
        case "payment.captured":
            return {
                paymentId: id("pay"),
                orderId: id("ord"),
                amount: 100 + Math.floor(random() * 10_000),
                currency: "USD",
                method: (["card", "bank_transfer", "wallet"] as const)[index % 3],
            };
        case "shipment.dispatched":
            return {
                shipmentId: id("shp"),
                orderId: id("ord"),
                carrier: "dhl",
                trackingNumber: id("trk"),
                destinationCountry: "DE",
                estimatedDeliveryDate: "2026-12-01",
            };
        case "subscription.cancelled":
            return { subscriptionId: id("sub"), plan: "business", cancelledBy: "customer", effectiveAt: "2026-12-31T23:59:59Z" };
        case "user.signed_up":
            return { userId: id("usr"), plan: "starter", signupChannel: "web", marketingOptIn: index % 2 === 0 };
        default:
            throw new Error(`no sample data for event type ${type}; add one to local/pipeline-app/sample-traffic.ts`);
    }
}

/**
 * @example
 * const messages = generateSampleTraffic({ clients: 4, eventsPerClient: 20 });
 * messages.filter((m) => m.expect.kind === "rejected").map((m) => m.expect);
 */
export function generateSampleTraffic(options: SampleOptions = {}): SampleMessage[] {
    const random = rng(options.seed ?? 20260101);
    const clients = TENANTS.concat(Array.from({ length: 50 }, (_, index) => `tenant-${index + 1}`)).slice(0, options.clients ?? 4);
    const perClient = options.eventsPerClient ?? 20;
    const enabled = options.enabledTypes && options.enabledTypes.length > 0 ? options.enabledTypes : EVENT_TYPE_NAMES;
    const disabled = EVENT_TYPE_NAMES.filter((type) => !enabled.includes(type));
    const runId = Math.floor(random() * 36 ** 6).toString(36);
    const messages: SampleMessage[] = [];
    const originals: Array<{ clientId: string; body: Record<string, unknown> }> = [];
    const base = Date.UTC(2026, 10, 21, 9, 0, 0);

    for (const clientId of clients) {
        for (let n = 0; n < perClient; n++) {
            const type = enabled[(n + clients.indexOf(clientId)) % enabled.length];
            const body = {
                clientId,
                eventId: `evt-${runId}-${clientId}-${n}`,
                type,
                occurredAt: new Date(base + n * 1000).toISOString(),
                data: sampleData(type, n, random),
            };
            originals.push({ clientId, body });
            messages.push({
                label: `valid/${clientId}/${type}/${n}`,
                body: JSON.stringify(body),
                messageGroupId: clientId,
                phase: 1,
                expect: { kind: "persisted", clientId, eventId: body.eventId },
            });
        }
    }

    // Producers retry: exact copies of about one event in ten (at least one).
    const duplicateCount = Math.max(1, Math.round(originals.length / 10));
    for (let i = 0; i < duplicateCount; i++) {
        const original = originals[Math.floor((i * originals.length) / duplicateCount)];
        const eventId = String(original.body.eventId);
        messages.push({
            label: `duplicate/${original.clientId}/${eventId}`,
            body: JSON.stringify(original.body),
            messageGroupId: original.clientId,
            phase: 2,
            expect: { kind: "duplicate", clientId: original.clientId, eventId },
        });
    }

    // One invalid event per reason a producer can cause.
    const first = originals[0].body;
    const tenant = String(first.clientId);
    const valid = (overrides: Record<string, unknown>, index: number) => ({ ...first, eventId: `bad-${runId}-${index}`, ...overrides });
    const nested: Record<string, unknown> = {};
    let cursor = nested;
    for (let depth = 0; depth < 40; depth++) cursor = (cursor.child = {}) as Record<string, unknown>;
    const invalid: Array<[string, string]> = [
        ["body_not_json", '{"clientId": "acme-retail", "eventId": "truncated'],
        ["body_not_object", JSON.stringify([first])],
        ["unknown_field", JSON.stringify(valid({ priority: "high" }, 1))],
        ["missing_field", JSON.stringify((({ occurredAt: _omit, ...rest }) => rest)(valid({}, 2) as Record<string, unknown>))],
        ["empty_field", JSON.stringify(valid({ eventId: "   " }, 3))],
        ["invalid_field", JSON.stringify(valid({ occurredAt: "yesterday at noon" }, 4))],
        ["unknown_type", JSON.stringify(valid({ type: "order.teleported" }, 5))],
        [
            "invalid_data",
            JSON.stringify(
                valid(
                    { type: "order.placed", data: { orderId: "o-1", customerId: "c-1", currency: "euro", totalAmount: -5, lines: [] } },
                    6,
                ),
            ),
        ],
        [
            "nesting_too_deep",
            JSON.stringify(
                valid({ type: "user.signed_up", data: { ...sampleData("user.signed_up", 7, random), referrerId: undefined, nested } }, 7),
            ),
        ],
        [
            "unstorable_value",
            JSON.stringify(
                valid({ type: "user.signed_up", data: { ...sampleData("user.signed_up", 8, random), userId: "usr-\ud800" } }, 8),
            ),
        ],
    ];
    if (disabled.length > 0) {
        invalid.push(["type_disabled", JSON.stringify(valid({ type: disabled[0], data: sampleData(disabled[0], 9, random) }, 9))]);
    }
    for (const [reason, body] of invalid) {
        messages.push({ label: `invalid/${reason}`, body, messageGroupId: tenant, phase: 1, expect: { kind: "rejected", reason } });
    }
    // A producer sending under another tenant's group (the local SQS keeps MessageGroupId, as fair queues do).
    messages.push({
        label: "invalid/message_group_mismatch",
        body: JSON.stringify(valid({}, 10)),
        messageGroupId: `${tenant}-other`,
        phase: 1,
        expect: { kind: "rejected", reason: "message_group_mismatch" },
    });
    // Same ids as a stored event, different content: the stored one is kept.
    const target = originals[originals.length - 1].body;
    messages.push({
        label: `invalid/conflicting_duplicate`,
        body: JSON.stringify({ ...target, occurredAt: new Date(base - 86_400_000).toISOString() }),
        messageGroupId: String(target.clientId),
        phase: 2,
        expect: { kind: "rejected", reason: "conflicting_duplicate" },
    });

    // Interleave tenants within phase 1 so fair-queue grouping is exercised.
    const phase1 = messages.filter((message) => message.phase === 1);
    for (let i = phase1.length - 1; i > 0; i--) {
        const pick = Math.floor(random() * (i + 1));
        [phase1[i], phase1[pick]] = [phase1[pick], phase1[i]];
    }
    return [...phase1, ...messages.filter((message) => message.phase === 2)];
}
