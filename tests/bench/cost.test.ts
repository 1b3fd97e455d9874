/**
 * The bench's cost model (bench/support/pricing.ts): the floor is one write unit
 * plus the event's share of the SQS send, receive and delete; every line item
 * moves with the count or setting it is priced from. Prices are us-east-1 list
 * prices from "Amazon DynamoDB pricing for on-demand capacity", "Amazon SQS
 * pricing", "AWS Lambda pricing", "Amazon CloudWatch pricing" and "AWS X-Ray pricing".
 */
import { expect } from "chai";
import {
    MeasuredCounts,
    MODEL_ASSUMPTIONS,
    priceArrivalIndex,
    priceMillionEvents,
    PRICES,
    StackCostSettings,
} from "../../bench/support/pricing";

const stack: StackCostSettings = {
    memoryMb: 256,
    architecture: "arm64",
    batchSize: 10,
    queueFifo: false,
    kmsDataKeyReusePeriodSeconds: 300,
    logRetentionDays: 14,
    tracingActive: true,
};
const counts: MeasuredCounts = {
    dynamodbRequestsPerEvent: 1,
    writeUnitsPerEvent: 1,
    readUnitsPerEvent: 0,
    sqsRequestsPerEvent: 0,
    logBytesPerEvent: 0,
    emfBytesPerEvent: 0,
    cpuMicrosPerEvent: 0,
};
const line = (breakdown: ReturnType<typeof priceMillionEvents>, item: string) =>
    breakdown.lines.find((l) => l.item === item)!.usdPerMillion;

describe("bench cost model", () => {
    it("puts the floor at one write unit plus 0.3 SQS requests per event ($0.745 per million, standard queue, batches of 10)", () => {
        const priced = priceMillionEvents(counts, stack);
        expect(priced.floorPerMillionUsd).to.be.closeTo(0.625 + 0.3 * 0.4, 1e-9);
        expect(priced.costPerMillionUsd).to.be.greaterThan(priced.floorPerMillionUsd);
        expect(priced.costRatio).to.be.closeTo(priced.costPerMillionUsd / priced.floorPerMillionUsd, 1e-12);
        expect(priced.costPerMillionUsd).to.be.closeTo(
            priced.lines.reduce((sum, l) => sum + l.usdPerMillion, 0),
            1e-12,
        );
    });

    it("prices log bytes at the ingestion price per GB, and a second write unit at the write price", () => {
        const base = priceMillionEvents(counts, stack);
        const chatty = priceMillionEvents({ ...counts, logBytesPerEvent: 600 }, stack);
        expect(line(chatty, "CloudWatch Logs ingestion: application logs")).to.be.closeTo(((600 * 1e6) / 1024 ** 3) * 0.5, 1e-9);
        expect(chatty.costPerMillionUsd - base.costPerMillionUsd).to.be.greaterThan(0.27); // the per-event INFO line this model exists to catch
        const large = priceMillionEvents({ ...counts, writeUnitsPerEvent: 2 }, stack);
        expect(line(large, "DynamoDB write units above one per event")).to.be.closeTo(0.625, 1e-9);
        expect(large.floorPerMillionUsd).to.equal(base.floorPerMillionUsd);
    });

    it("follows the stack's settings: FIFO price, batch size, architecture, tracing", () => {
        expect(priceMillionEvents(counts, { ...stack, queueFifo: true }).floorPerMillionUsd).to.be.closeTo(0.625 + 0.3 * 0.5, 1e-9);
        expect(line(priceMillionEvents(counts, { ...stack, batchSize: 1 }), "Lambda requests")).to.be.closeTo(0.2, 1e-9);
        const cpu = { ...counts, cpuMicrosPerEvent: 500 };
        expect(line(priceMillionEvents(cpu, { ...stack, architecture: "x86_64" }), "Lambda duration")).to.be.greaterThan(
            line(priceMillionEvents(cpu, stack), "Lambda duration"),
        );
        expect(line(priceMillionEvents(counts, { ...stack, tracingActive: false }), "X-Ray traces")).to.equal(0);
        expect(line(priceMillionEvents(counts, stack), "X-Ray traces")).to.be.closeTo(
            1e5 * MODEL_ASSUMPTIONS.xraySampledFraction * PRICES.xrayTraceRecorded.usd,
            1e-12,
        );
    });

    it("prices the arrival index as its measured write units plus a month of its entries (entry + 100 bytes of DynamoDB overhead)", () => {
        const [writes, storage] = priceArrivalIndex({ indexWriteUnitsPerEvent: 1, indexEntryAttributeBytes: 70 });
        expect(writes.usdPerMillion).to.be.closeTo(0.625, 1e-9);
        expect(storage.usdPerMillion).to.be.closeTo(((170 * 1e6) / 1024 ** 3) * 0.25, 1e-9);
        expect([writes.floor, storage.floor]).to.deep.equal([false, false]);
        const [twoUnits] = priceArrivalIndex({ indexWriteUnitsPerEvent: 2, indexEntryAttributeBytes: 70 });
        expect(twoUnits.usdPerMillion).to.be.closeTo(1.25, 1e-9);
    });

    it("names a source page for every price", () => {
        for (const price of Object.values(PRICES)) expect(price.source).to.match(/pricing.*https:\/\/aws\.amazon\.com\/[a-z]+\/pricing\//);
    });
});
