/**
 * Amazon SQS fair queues, as "How Amazon SQS fair queues work" (Amazon SQS Developer
 * Guide) describes them, in pure functions the local SQS stand-in
 * (local/aws-stand-ins/sqs-stand-in.mjs) applies to its standard queues:
 *
 * - a tenant is a MessageGroupId; a message without one is a tenant of its own;
 * - a tenant is noisy when it holds more than 10% of the queue's in-flight messages
 *   and at least 30 of its own are in flight (the concurrency-share rule);
 * - quiet tenants' messages are delivered first; noisy tenants get what is left,
 *   the one with the fewest in flight first; nothing is dropped or throttled;
 * - a tenant stops being noisy when its backlog is drained or it sent nothing for
 *   5 minutes;
 * - the five CloudWatch metrics of fair queues ("Available CloudWatch metrics for
 *   Amazon SQS"): ApproximateNumberOfNoisyGroups and the quiet groups' visible,
 *   in-flight, delayed counts and oldest age.
 *
 * Not modelled: the processing-time-share rule (a tenant using >10% of recent consumer
 * time); AWS calls its thresholds approximate, these are exact.
 *
 * No imports: the stand-in runs this file with Node's type stripping, tests through ts-node.
 */

/** The documented thresholds. */
export const FAIR_QUEUE_RULES = {
    /** more than this share of all in-flight messages */
    minInFlightShare: 0.1,
    /** and at least this many of the tenant's own in flight */
    minInFlight: 30,
    /** a noisy tenant that sent nothing for this long is quiet again */
    quietAfterMs: 5 * 60_000,
} as const;

export type FairQueueRules = { readonly minInFlightShare: number; readonly minInFlight: number; readonly quietAfterMs: number };

/** One tenant's messages: in flight (received, not deleted) and waiting (visible or delayed). */
export interface GroupLoad {
    readonly inFlight: number;
    readonly backlog: number;
}

/** What a queue remembers between receives. */
export interface FairnessState {
    /** noisy groups, in the order they were detected */
    readonly noisy: Set<string>;
    /** group -> when it last sent (epoch ms) */
    readonly lastSentAt: Map<string, number>;
}

/**
 * @example
 * const state = newFairnessState();
 */
export function newFairnessState(): FairnessState {
    return { noisy: new Set(), lastSentAt: new Map() };
}

/**
 * Re-evaluates which groups are noisy: groups whose backlog is drained or that have been
 * silent for `quietAfterMs` are quiet again; groups over both concurrency thresholds
 * (with something still waiting) become noisy. Mutates and returns `state.noisy`.
 *
 * @example
 * detectNoisyGroups(state, new Map([["flood", { inFlight: 40, backlog: 500 }], ["acme", { inFlight: 2, backlog: 0 }]]), Date.now());
 * // Set { "flood" }
 */
export function detectNoisyGroups(
    state: FairnessState,
    loads: ReadonlyMap<string, GroupLoad>,
    now: number,
    rules: FairQueueRules = FAIR_QUEUE_RULES,
): ReadonlySet<string> {
    for (const group of [...state.noisy]) {
        const load = loads.get(group);
        const silentFor = now - (state.lastSentAt.get(group) ?? -Infinity);
        if (!load || load.backlog === 0 || silentFor >= rules.quietAfterMs) state.noisy.delete(group);
    }
    let totalInFlight = 0;
    for (const load of loads.values()) totalInFlight += load.inFlight;
    for (const [group, load] of loads) {
        if (load.backlog > 0 && load.inFlight >= rules.minInFlight && load.inFlight > rules.minInFlightShare * totalInFlight) {
            state.noisy.add(group);
        }
    }
    return state.noisy;
}

/**
 * Which waiting messages to deliver next, as indexes into `groups` (the waiting messages'
 * MessageGroupIds, oldest first; `undefined` = no group, a tenant of its own): every
 * quiet message first, oldest first; then, while room is left, the oldest message of the
 * noisy group with the fewest in flight (counting what this receive already took).
 *
 * @example
 * fairDeliveryOrder(["flood", "flood", "acme"], 2, new Set(["flood"]), new Map([["flood", 40]])); // [2, 0]
 */
export function fairDeliveryOrder(
    groups: ReadonlyArray<string | undefined>,
    count: number,
    noisy: ReadonlySet<string>,
    inFlight: ReadonlyMap<string, number>,
): number[] {
    const chosen: number[] = [];
    const noisyWaiting = new Map<string, number[]>();
    for (let index = 0; index < groups.length; index++) {
        const group = groups[index];
        if (group !== undefined && noisy.has(group)) {
            const waiting = noisyWaiting.get(group) ?? [];
            if (waiting.length < count) waiting.push(index);
            noisyWaiting.set(group, waiting);
        } else if (chosen.length < count) {
            chosen.push(index);
        }
    }
    const taken = new Map<string, number>();
    while (chosen.length < count) {
        let best: string | undefined;
        let bestLoad = Infinity;
        for (const [group, waiting] of noisyWaiting) {
            if (waiting.length === 0) continue;
            const load = (inFlight.get(group) ?? 0) + (taken.get(group) ?? 0);
            // Ties go to the group whose next message is older.
            if (load < bestLoad || (load === bestLoad && waiting[0] < noisyWaiting.get(best!)![0])) {
                best = group;
                bestLoad = load;
            }
        }
        if (best === undefined) break;
        chosen.push(noisyWaiting.get(best)!.shift()!);
        taken.set(best, (taken.get(best) ?? 0) + 1);
    }
    return chosen;
}

/** A message as the metrics need it. */
export interface MessageView {
    readonly group?: string;
    /** epoch ms */
    readonly sentTimestamp: number;
    readonly receiveCount: number;
}

/** The fair-queue metrics SQS publishes to CloudWatch (namespace AWS/SQS), by their CloudWatch names. */
export interface FairQueueMetrics {
    ApproximateNumberOfNoisyGroups: number;
    ApproximateNumberOfMessagesVisibleInQuietGroups: number;
    ApproximateNumberOfMessagesNotVisibleInQuietGroups: number;
    ApproximateNumberOfMessagesDelayedInQuietGroups: number;
    /** seconds; 0 when quiet groups hold no message */
    ApproximateAgeOfOldestMessageInQuietGroups: number;
}

/**
 * The five metrics for one queue. The oldest age follows ApproximateAgeOfOldestMessage:
 * visible and in-flight messages, leaving out messages received 3 times or more
 * (SQS excludes such "poison pill" messages from the age).
 *
 * @example
 * fairQueueMetrics({ visible, inFlight, delayed }, new Set(["flood"]), Date.now()).ApproximateNumberOfNoisyGroups; // 1
 */
export function fairQueueMetrics(
    messages: { visible: readonly MessageView[]; inFlight: readonly MessageView[]; delayed: readonly MessageView[] },
    noisy: ReadonlySet<string>,
    now: number,
): FairQueueMetrics {
    const quiet = (message: MessageView) => message.group === undefined || !noisy.has(message.group);
    const visible = messages.visible.filter(quiet);
    const inFlight = messages.inFlight.filter(quiet);
    let oldest = now;
    for (const message of [...visible, ...inFlight]) {
        if (message.receiveCount < 3 && message.sentTimestamp < oldest) oldest = message.sentTimestamp;
    }
    return {
        ApproximateNumberOfNoisyGroups: noisy.size,
        ApproximateNumberOfMessagesVisibleInQuietGroups: visible.length,
        ApproximateNumberOfMessagesNotVisibleInQuietGroups: inFlight.length,
        ApproximateNumberOfMessagesDelayedInQuietGroups: messages.delayed.filter(quiet).length,
        ApproximateAgeOfOldestMessageInQuietGroups: Math.max(0, Math.floor((now - oldest) / 1000)),
    };
}
