import { expect } from "chai";
import { EVENT_REJECTION_REASON_CODES } from "../../../contracts/event-pipeline";
import { EVENT_TYPE_NAMES } from "../../../handlers/event-processor/event-types";
import { generateSampleTraffic, REASONS_NOT_SENT } from "../../../local/pipeline-app/sample-traffic";

describe("demo traffic", () => {
    it("is deterministic for a seed and different across seeds", () => {
        expect(generateSampleTraffic({ seed: 5 })).to.deep.equal(generateSampleTraffic({ seed: 5 }));
        expect(generateSampleTraffic({ seed: 5 })[0].body).to.not.equal(generateSampleTraffic({ seed: 6 })[0].body);
    });

    it("covers every tenant and every registered type, with tenant = MessageGroupId", () => {
        const messages = generateSampleTraffic({ clients: 3, eventsPerClient: 10 });
        const valid = messages.filter((m) => m.expect.kind === "persisted");
        expect(valid).to.have.length(30);
        expect(new Set(valid.map((m) => m.messageGroupId)).size).to.equal(3);
        expect(new Set(valid.map((m) => JSON.parse(m.body).type))).to.deep.equal(new Set(EVENT_TYPE_NAMES));
        for (const m of valid) expect(JSON.parse(m.body).clientId).to.equal(m.messageGroupId);
        const ids = valid.map((m) => `${JSON.parse(m.body).clientId}/${JSON.parse(m.body).eventId}`);
        expect(new Set(ids).size).to.equal(ids.length);
    });

    it("sends one invalid event per rejection reason a producer can cause, and duplicates only after the originals", () => {
        const messages = generateSampleTraffic({ clients: 2, eventsPerClient: 10 });
        const reasons = messages.filter((m) => m.expect.kind === "rejected").map((m) => (m.expect as { reason: string }).reason);
        const causable = EVENT_REJECTION_REASON_CODES.filter((r) => !(r in REASONS_NOT_SENT) && r !== "type_disabled");
        expect([...reasons].sort()).to.deep.equal([...causable].sort());
        const duplicates = messages.filter((m) => m.expect.kind === "duplicate");
        expect(duplicates.length).to.equal(2);
        const firstPhase2 = messages.findIndex((m) => m.phase === 2);
        expect(messages.slice(firstPhase2).every((m) => m.phase === 2)).to.equal(true);
        for (const d of duplicates) expect(messages.some((m) => m.phase === 1 && m.body === d.body)).to.equal(true);
    });

    it("adds type_disabled when the stack enables only some types, and uses only enabled types for valid events", () => {
        const enabled = EVENT_TYPE_NAMES.slice(0, 2);
        const messages = generateSampleTraffic({ clients: 1, eventsPerClient: 6, enabledTypes: enabled });
        expect(messages.some((m) => m.expect.kind === "rejected" && m.expect.reason === "type_disabled")).to.equal(true);
        for (const m of messages.filter((x) => x.expect.kind === "persisted")) expect(enabled).to.include(JSON.parse(m.body).type);
    });

    it("names why the reasons it does not send cannot be caused through the queue", () => {
        for (const reason of Object.keys(REASONS_NOT_SENT)) expect(EVENT_REJECTION_REASON_CODES).to.include(reason);
    });
});
