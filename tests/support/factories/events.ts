/**
 * Test-input factories for the event processor: valid events built from the
 * committed examples (examples/events/*.json), SQS records/events around them,
 * and one body per validation rejection reason. Tests never hand-write envelopes.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { SQSEvent, SQSRecord } from "aws-lambda";
import { looseObject } from "valibot";
import { createEventTypeRegistry } from "../../../handlers/event-processor/event-types";
import type { EventTypeRegistry } from "../../../handlers/event-processor/types";

/** A body as producers send it (mutable, for tests to bend). */
export interface EventBody {
    clientId: string;
    eventId: string;
    type: string;
    occurredAt: string;
    data: Record<string, unknown>;
    [extra: string]: unknown;
}

export const EXAMPLES_DIR = path.resolve(__dirname, "..", "..", "..", "examples", "events");

/** Every committed example, keyed by its type (file name `<type>.json`). */
export function exampleEvents(): Record<string, EventBody> {
    if (!cachedExamples) {
        cachedExamples = {};
        for (const file of fs
            .readdirSync(EXAMPLES_DIR)
            .filter((f) => f.endsWith(".json"))
            .sort()) {
            cachedExamples[file.slice(0, -".json".length)] = JSON.parse(fs.readFileSync(path.join(EXAMPLES_DIR, file), "utf8"));
        }
    }
    return structuredClone(cachedExamples);
}
let cachedExamples: Record<string, EventBody> | undefined;

let sequence = 0;
/** A unique suffix per call (ids never collide across tests sharing a table). */
export function uniqueId(prefix = "evt"): string {
    sequence += 1;
    return `${prefix}-${process.pid}-${Date.now().toString(36)}-${sequence}`;
}

/**
 * A valid event of `type` (default `order.placed`), from its example, with a fresh eventId.
 *
 * @example
 * const body = validEvent({ type: "payment.captured", clientId: "tenant-b" });
 */
export function validEvent(overrides: Partial<EventBody> = {}): EventBody {
    const examples = exampleEvents();
    // Types without an example (test-only ones) start from order.placed's envelope; pass their data.
    const example = examples[overrides.type ?? "order.placed"] ?? examples["order.placed"];
    return { ...example, eventId: uniqueId(), ...overrides };
}

/** The SQS record Lambda would hand over for `body` (an object is JSON-encoded). */
export function sqsRecord(body: unknown, overrides: { messageId?: string; messageGroupId?: string } = {}): SQSRecord {
    const text = typeof body === "string" ? body : JSON.stringify(body);
    const groupId =
        overrides.messageGroupId ??
        (typeof body === "object" && body !== null && typeof (body as EventBody).clientId === "string"
            ? (body as EventBody).clientId
            : undefined);
    return {
        messageId: overrides.messageId ?? uniqueId("msg"),
        receiptHandle: uniqueId("rh"),
        body: text,
        attributes: {
            ApproximateReceiveCount: "1",
            SentTimestamp: String(Date.now()),
            SenderId: "AIDAEXAMPLE",
            ApproximateFirstReceiveTimestamp: String(Date.now()),
            ...(groupId ? { MessageGroupId: groupId } : {}),
        },
        messageAttributes: {},
        md5OfBody: "",
        eventSource: "aws:sqs",
        eventSourceARN: "arn:aws:sqs:eu-west-1:123456789012:events",
        awsRegion: "eu-west-1",
    };
}

/** An SQS event around the given bodies or records. */
export function sqsEvent(items: readonly (SQSRecord | unknown)[]): SQSEvent {
    return {
        Records: items.map((item) =>
            typeof item === "object" && item !== null && "receiptHandle" in item && "eventSource" in item
                ? (item as SQSRecord)
                : sqsRecord(item),
        ),
    };
}

/** A type with a permissive schema, to reach the storage checks (size, numbers, keys) behind a schema that lets anything through. */
export const FREEFORM_TYPE = "test.freeform";

/** The shipped registry plus {@link FREEFORM_TYPE}. */
export function testEventTypes(): EventTypeRegistry {
    return { ...createEventTypeRegistry(), [FREEFORM_TYPE]: { description: "Anything (tests only).", data: looseObject({}) } };
}

/** `depth` nested objects ending in a string: `{"n":{"n":...{"n":"leaf"}}}`. */
export function nested(depth: number): Record<string, unknown> {
    let value: unknown = "leaf";
    for (let i = 0; i < depth; i++) value = { n: value };
    return value as Record<string, unknown>;
}

/**
 * One body per rejection reason that validation decides (the store-side ones,
 * conflicting_duplicate and store_rejected_item, need state and are built in tests).
 * `type_disabled` assumes a processor with `payment.captured` disabled; the storage ones use {@link FREEFORM_TYPE}.
 */
export function rejectedBodies(): Record<string, string> {
    const without = (field: string) => {
        const body: Record<string, unknown> = validEvent();
        delete body[field];
        return JSON.stringify(body);
    };
    return {
        body_not_json: '{"clientId": "acme", ',
        body_not_object: "[1, 2, 3]",
        unknown_field: JSON.stringify({ ...validEvent(), priority: "high" }),
        missing_field: without("occurredAt"),
        empty_field: JSON.stringify(validEvent({ clientId: "  " })),
        invalid_field: JSON.stringify(validEvent({ occurredAt: "2026-01-31T12:00:00" })),
        unknown_type: JSON.stringify(validEvent({ type: "order.exploded" })),
        type_disabled: JSON.stringify(validEvent({ type: "payment.captured" })),
        invalid_data: JSON.stringify(validEvent({ data: { ...validEvent().data, totalAmount: "59.97" } })),
        nesting_too_deep: JSON.stringify(validEvent({ type: FREEFORM_TYPE, data: nested(40) })),
        unstorable_value: JSON.stringify(validEvent({ type: FREEFORM_TYPE, data: { reading: 1e200 } })),
        item_too_large: JSON.stringify(validEvent({ type: FREEFORM_TYPE, data: { blob: "x".repeat(410 * 1024) } })),
    };
}
