/**
 * The account's default EventBridge bus, locally, for the rules the stack declares
 * (`aws:cloudwatch/eventRule:EventRule` + `EventTarget`): an event put on the bus goes to
 * the targets of every rule whose pattern matches it. Patterns match as EventBridge's
 * "Event patterns" page describes: every field named in the pattern must be in the event;
 * an array of values matches when the event's value (or one element of an event array)
 * equals one of them; nested objects match field by field. Only the content filters the
 * stack uses are supported (`prefix`, `exists`, `anything-but` of values); another filter
 * never matches, so a pattern we do not understand delivers nothing rather than everything.
 */

/** A rule of the bus: its name, pattern and the targets that receive matching events. */
export interface BusRule {
    name: string;
    pattern: Record<string, unknown>;
    targets: Array<(event: Record<string, unknown>) => Promise<void>>;
}

export interface LocalEventBus {
    /** Puts one event (PutEvents' entry, already enveloped); resolves with how many targets received it. */
    put(event: Record<string, unknown>): Promise<number>;
}

function isObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

function matchesValue(candidate: unknown, values: unknown[], present: boolean): boolean {
    return values.some((expected) => {
        if (!isObject(expected)) return present && candidate === expected;
        if ("exists" in expected) return expected.exists === present;
        if (!present) return false;
        if ("prefix" in expected) return typeof candidate === "string" && candidate.startsWith(String(expected.prefix));
        if ("anything-but" in expected) {
            const excluded = Array.isArray(expected["anything-but"]) ? expected["anything-but"] : [expected["anything-but"]];
            return !excluded.includes(candidate);
        }
        return false;
    });
}

/**
 * Whether `event` matches the EventBridge `pattern`.
 *
 * @example
 * matchesEventPattern({ source: ["aws.ses"], detail: { mail: { tags: { "ses:configuration-set": ["set"] } } } }, event);
 */
export function matchesEventPattern(pattern: Record<string, unknown>, event: unknown): boolean {
    if (!isObject(event)) return false;
    return Object.entries(pattern).every(([field, expected]) => {
        const present = field in event && event[field] !== undefined;
        const value = event[field];
        if (Array.isArray(expected)) {
            const candidates = Array.isArray(value) ? value : [value];
            if (Array.isArray(value) && value.length === 0) return matchesValue(undefined, expected, false);
            return candidates.some((candidate) => matchesValue(candidate, expected, present));
        }
        if (isObject(expected)) return matchesEventPattern(expected, value);
        return false;
    });
}

/**
 * @example
 * const bus = localEventBus([{ name: "email-status-rule", pattern, targets: [(event) => deliverToStatusFunction(event)] }]);
 * await bus.put(sesEventBridgeEvent("DELIVERY", record));
 */
export function localEventBus(rules: readonly BusRule[]): LocalEventBus {
    return {
        async put(event) {
            let delivered = 0;
            for (const rule of rules) {
                if (!matchesEventPattern(rule.pattern, event)) continue;
                for (const target of rule.targets) {
                    await target(event);
                    delivered++;
                }
            }
            return delivered;
        },
    };
}

/** What a failed invocation reports (LocalFunction's `invoke` outcome). */
export type InvokeOutcome = { ok: true } | { ok: false; error: { errorType: string } };

/**
 * A rule target that invokes a function as Lambda's asynchronous invocation does: the first
 * attempt and two retries (Lambda's default `MaximumRetryAttempts`), then the event goes to the
 * function's dead-letter queue (`deadLetterConfig`) with the error. Locally the retries do not
 * wait the minutes Lambda waits between them.
 *
 * @example
 * const target = asyncInvocation((event) => fn.invoke(event), (event, errorType) => sendToDlq(event, errorType));
 */
export function asyncInvocation(
    invoke: (event: Record<string, unknown>) => Promise<InvokeOutcome>,
    deadLetter: (event: Record<string, unknown>, errorType: string) => Promise<void>,
    attempts = 3,
): (event: Record<string, unknown>) => Promise<void> {
    return async (event) => {
        let errorType = "Unhandled";
        for (let attempt = 0; attempt < attempts; attempt++) {
            const outcome = await invoke(event);
            if (outcome.ok) return;
            errorType = outcome.error.errorType || errorType;
        }
        await deadLetter(event, errorType);
    };
}
