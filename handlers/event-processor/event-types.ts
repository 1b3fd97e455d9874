/**
 * The event-type registry: each type name maps to a valibot schema for its `data`.
 *
 * THE TYPES BELOW ARE EXAMPLES TO EXTEND. They show realistic, strict payloads for
 * a commerce-style tenant (money in integer minor units, ISO codes, bounded
 * strings, closed enums). Replace or add your own; see docs/event-contract.md,
 * "Adding an event type". Stack config restricts which registered types a
 * deployment accepts (ENABLED_EVENT_TYPES).
 *
 * Schemas are built inside functions, not at module load, so the Lambda's
 * closure serializer `require`s valibot instead of inlining schema objects.
 */
import {
    array,
    boolean,
    integer,
    maxLength,
    maxValue,
    minLength,
    minValue,
    number,
    optional,
    picklist,
    pipe,
    regex,
    strictObject,
    string,
} from "valibot";
import { calendarDate, calendarDateTime, RFC3339_TIMESTAMP_PATTERN } from "../shared/calendar";
import { eventProcessorConfigurationError } from "./errors";
import { EVENT_TYPE_NAMES as REGISTERED_TYPE_NAMES, type EventTypeName } from "../../contracts/event-pipeline";
import type { EventTypeDefinition, EventTypeRegistry } from "./types";

/** Type names: lower-case dotted words, `<entity>.<past-tense verb>`. */
export const EVENT_TYPE_NAME_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

const identifier = () => pipe(string(), minLength(1), maxLength(128));
const currency = () => pipe(string(), regex(/^[A-Z]{3}$/)); // ISO 4217
const minorUnits = () => pipe(number(), integer(), minValue(0), maxValue(Number.MAX_SAFE_INTEGER));
const plan = () => picklist(["free", "starter", "business", "enterprise"]);

/**
 * Builds the shipped registry of example event types.
 *
 * @example
 * const registry = createEventTypeRegistry();
 * registry["order.placed"].data; // valibot schema for an order's data
 */
export function createEventTypeRegistry(): EventTypeRegistry {
    // Exactly the contract's names: a missing or an extra type fails to compile.
    const types: Record<EventTypeName, EventTypeDefinition> = {
        "order.placed": {
            description: "A customer placed an order. Amounts are integers in the currency's minor unit (cents).",
            data: strictObject({
                orderId: identifier(),
                customerId: identifier(),
                currency: currency(),
                totalAmount: minorUnits(),
                lines: pipe(
                    array(
                        strictObject({
                            sku: identifier(),
                            quantity: pipe(number(), integer(), minValue(1), maxValue(10_000)),
                            unitPrice: minorUnits(),
                        }),
                    ),
                    minLength(1),
                    maxLength(500),
                ),
            }),
        },
        "payment.captured": {
            description: "A payment for an order was captured. amount is an integer in the currency's minor unit.",
            data: strictObject({
                paymentId: identifier(),
                orderId: identifier(),
                amount: pipe(minorUnits(), minValue(1)),
                currency: currency(),
                method: picklist(["card", "bank_transfer", "wallet"]),
            }),
        },
        "shipment.dispatched": {
            description: "A shipment left the warehouse. destinationCountry is an ISO 3166-1 alpha-2 code.",
            data: strictObject({
                shipmentId: identifier(),
                orderId: identifier(),
                carrier: identifier(),
                trackingNumber: optional(identifier()),
                destinationCountry: pipe(string(), regex(/^[A-Z]{2}$/)),
                estimatedDeliveryDate: optional(pipe(string(), calendarDate())),
            }),
        },
        "subscription.cancelled": {
            description: "A subscription was cancelled; it ends at effectiveAt.",
            data: strictObject({
                subscriptionId: identifier(),
                plan: plan(),
                cancelledBy: picklist(["customer", "tenant_admin", "system"]),
                effectiveAt: pipe(string(), regex(RFC3339_TIMESTAMP_PATTERN), calendarDateTime()),
                feedback: optional(pipe(string(), maxLength(1000))),
            }),
        },
        "user.signed_up": {
            description: "A user created an account in the tenant's product. Carries ids only, no personal data.",
            data: strictObject({
                userId: identifier(),
                plan: plan(),
                signupChannel: picklist(["web", "mobile", "api", "partner"]),
                marketingOptIn: boolean(),
                referrerId: optional(identifier()),
            }),
        },
    };
    return types;
}

/** Names of the registered (shipped) event types, from the contract (contracts/event-pipeline.ts). */
export const EVENT_TYPE_NAMES: readonly string[] = REGISTERED_TYPE_NAMES;

/**
 * Narrows a registry to the enabled types. `undefined` or an empty list enables all.
 * Throws {@link EventProcessorConfigurationError} naming every unknown type, so a typo
 * in stack config fails the deploy instead of rejecting a tenant's events.
 *
 * @example
 * enabledEventTypes(createEventTypeRegistry(), ["order.placed"]); // { "order.placed": ... }
 */
export function enabledEventTypes(registry: EventTypeRegistry, enabled?: readonly string[]): Map<string, EventTypeDefinition> {
    const problems = Object.keys(registry)
        .filter((name) => !EVENT_TYPE_NAME_PATTERN.test(name))
        .map((name) => `event type name "${name}" must match ${EVENT_TYPE_NAME_PATTERN}`);
    const unknown = (enabled ?? []).filter((name) => !Object.hasOwn(registry, name));
    if (unknown.length > 0) {
        problems.push(`enabled event type(s) not in the registry: ${unknown.join(", ")} (registered: ${Object.keys(registry).join(", ")})`);
    }
    if (problems.length > 0) throw eventProcessorConfigurationError(problems);
    const names = enabled && enabled.length > 0 ? enabled : Object.keys(registry);
    return new Map(names.map((name) => [name, registry[name]]));
}
