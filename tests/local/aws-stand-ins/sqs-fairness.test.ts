/**
 * The fair-queue rules of the local SQS, as "How Amazon SQS fair queues work" (Amazon SQS
 * Developer Guide) states them, and the five fair-queue metrics of "Available CloudWatch
 * metrics for Amazon SQS". Pure functions, an injected clock: no timing.
 */
import { expect } from "chai";
import {
    detectNoisyGroups,
    fairDeliveryOrder,
    fairQueueMetrics,
    FAIR_QUEUE_RULES,
    newFairnessState,
    type GroupLoad,
} from "../../../local/aws-stand-ins/sqs-fairness";

const loads = (entries: Record<string, [inFlight: number, backlog: number]>) =>
    new Map<string, GroupLoad>(Object.entries(entries).map(([group, [inFlight, backlog]]) => [group, { inFlight, backlog }]));

describe("fair queues: noisy-group detection (concurrency share)", () => {
    const now = 1_000_000;

    it("flags a group with more than 10% of the in-flight messages and at least 30 of its own", () => {
        const state = newFairnessState();
        state.lastSentAt.set("flood", now);
        expect([...detectNoisyGroups(state, loads({ flood: [30, 100], acme: [5, 0], globex: [5, 1] }), now)]).to.deep.equal(["flood"]);
    });

    it("does not flag 29 in flight however large the share, nor a 10% share however many", () => {
        expect(detectNoisyGroups(newFairnessState(), loads({ flood: [29, 1000] }), now).size).to.equal(0);
        // 30 of 300 is exactly 10%: not more than 10%.
        const even = loads(Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`g${i}`, [30, 5] as [number, number]])));
        expect(detectNoisyGroups(newFairnessState(), even, now).size).to.equal(0);
    });

    it("keeps a noisy group noisy while its backlog lasts, even below the thresholds, and releases it when the backlog is drained", () => {
        const state = newFairnessState();
        state.lastSentAt.set("flood", now);
        detectNoisyGroups(state, loads({ flood: [40, 500] }), now);
        expect([...detectNoisyGroups(state, loads({ flood: [3, 200], acme: [10, 0] }), now + 1000)]).to.deep.equal(["flood"]);
        expect(detectNoisyGroups(state, loads({ flood: [3, 0] }), now + 2000).size).to.equal(0);
    });

    it("releases a noisy group that sent nothing for 5 minutes", () => {
        const state = newFairnessState();
        state.lastSentAt.set("flood", now);
        detectNoisyGroups(state, loads({ flood: [40, 500] }), now);
        expect(detectNoisyGroups(state, loads({ flood: [20, 400] }), now + FAIR_QUEUE_RULES.quietAfterMs - 1).size).to.equal(1);
        expect(detectNoisyGroups(state, loads({ flood: [20, 400] }), now + FAIR_QUEUE_RULES.quietAfterMs).size).to.equal(0);
    });
});

describe("fair queues: delivery order", () => {
    it("delivers every quiet message first, oldest first, then the noisy group's", () => {
        const waiting = ["flood", "flood", "acme", "flood", undefined, "globex", "flood"];
        expect(fairDeliveryOrder(waiting, 5, new Set(["flood"]), new Map([["flood", 40]]))).to.deep.equal([2, 4, 5, 0, 1]);
    });

    it("without noisy groups keeps arrival order", () => {
        expect(fairDeliveryOrder(["a", "b", "a", "c"], 3, new Set(), new Map())).to.deep.equal([0, 1, 2]);
    });

    it("among noisy groups serves the one with the fewest in flight first, counting what this receive takes", () => {
        const waiting = ["big", "big", "big", "small", "small", "small"];
        const inFlight = new Map([
            ["big", 50],
            ["small", 48],
        ]);
        // small: 48, 49 -> then both at 50 (tie: the older waiting message, big's at index 0), then small at 50 vs big at 51.
        expect(fairDeliveryOrder(waiting, 5, new Set(["big", "small"]), inFlight)).to.deep.equal([3, 4, 0, 5, 1]);
    });

    it("never drops a message: a full receive of a noisy-only queue takes the noisy messages in order", () => {
        expect(fairDeliveryOrder(["flood", "flood", "flood"], 10, new Set(["flood"]), new Map([["flood", 99]]))).to.deep.equal([0, 1, 2]);
    });
});

describe("fair queues: the five CloudWatch metrics", () => {
    const now = 100_000;
    const message = (group: string | undefined, ageSeconds: number, receiveCount = 0) => ({
        group,
        sentTimestamp: now - ageSeconds * 1000,
        receiveCount,
    });

    it("counts quiet groups' visible, in-flight and delayed messages and their oldest age, noisy groups apart", () => {
        const metrics = fairQueueMetrics(
            {
                visible: [message("flood", 60), message("acme", 7), message(undefined, 3)],
                inFlight: [message("flood", 50), message("globex", 9), message("acme", 20, 3)],
                delayed: [message("acme", 1), message("flood", 1)],
            },
            new Set(["flood"]),
            now,
        );
        expect(metrics).to.deep.equal({
            ApproximateNumberOfNoisyGroups: 1,
            ApproximateNumberOfMessagesVisibleInQuietGroups: 2,
            ApproximateNumberOfMessagesNotVisibleInQuietGroups: 2,
            ApproximateNumberOfMessagesDelayedInQuietGroups: 1,
            // globex's 9 s: flood's are noisy, acme's 20 s message was received 3 times (left out, as SQS does).
            ApproximateAgeOfOldestMessageInQuietGroups: 9,
        });
    });

    it("is all zero for an empty queue", () => {
        expect(Object.values(fairQueueMetrics({ visible: [], inFlight: [], delayed: [] }, new Set(), now))).to.deep.equal([0, 0, 0, 0, 0]);
    });
});
