/**
 * The `rejectionDetail` of an `invalid_data` rejection is read by people (producers, `npm run dlq -- show`,
 * the console): a missing field says it is required, an extra one that it is not allowed, and no
 * detail ever echoes a value the producer sent.
 */
import { expect } from "chai";
import { safeParse } from "valibot";
import { createEventTypeRegistry } from "../../../handlers/event-processor/event-types";
import { describeIssues } from "../../../handlers/event-processor/processor";

const registry = createEventTypeRegistry();

function detail(type: string, data: unknown): string {
    const result = safeParse(registry[type].data, data);
    expect(result.success, "the data must fail its schema").to.equal(false);
    return describeIssues(result.issues!);
}

describe("event processor: invalid_data details a person can read", () => {
    it("a missing field reads `data.<field> is required`, a nested one with its path", () => {
        expect(detail("user.signed_up", { userId: "u1", signupChannel: "web", marketingOptIn: false })).to.equal("data.plan is required");
        const order = { orderId: "o1", customerId: "c1", currency: "EUR", totalAmount: 100, lines: [{ quantity: 1, unitPrice: 100 }] };
        expect(detail("order.placed", order)).to.equal("data.lines[0].sku is required");
    });

    it("an unknown field reads `data.<field> is not allowed`; a wrong value keeps what was expected, never what was sent", () => {
        const text = detail("user.signed_up", {
            userId: "u1",
            plan: "SECRET-PLAN",
            signupChannel: "web",
            marketingOptIn: false,
            favouriteColour: "SECRET-COLOUR",
        });
        expect(text)
            .to.match(/^data\.plan: expected \(/)
            .and.include("data.favouriteColour is not allowed");
        expect(text).to.not.include("SECRET");
    });
});
