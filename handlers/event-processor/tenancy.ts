/**
 * Tenant isolation: which producer may write which tenant's events.
 *
 * SQS tells the consumer who sent each message: the `SenderId` system attribute is
 * the IAM user id for a user and `<role unique id>:<session name>` for an assumed role
 * (SQS API Reference, "ReceiveMessage", MessageSystemAttributeNames). Lambda's SQS
 * event records carry it as `attributes.SenderId` ("Using Lambda with Amazon SQS",
 * example event). SQS has no IAM condition key on MessageGroupId or the body
 * ("Actions, resources, and condition keys for Amazon SQS"), so no policy can tie a
 * producer to its tenants: the processor does, per message, against the map the stack
 * builds from each producer role's unique id (`PRODUCER_TENANTS`).
 *
 * Two rules, each with its own reason code:
 *  - `message_group_mismatch`: a MessageGroupId that is present and differs from the body's
 *    clientId. A missing group is no violation: AWS's standard-queue example record in "Using
 *    Lambda with Amazon SQS" has no MessageGroupId (only the FIFO example does), so Lambda may not
 *    forward it, and the sender check alone decides;
 *  - `sender_not_allowed`: producers are configured and the sender's principal id is
 *    not a producer of the body's clientId.
 * With no producers configured (open mode, single-tenant stacks) only the first rule applies.
 *
 * The sender is the message's own SenderId, except for a redriven dead letter whose verified
 * sender claim names its first sender (sender-claim.ts); the processor decides which.
 */

import type { EventRejectionReason } from "../../contracts/event-pipeline";

/** Producer principal id (role unique id `AROA...` or user id `AIDA...`) -> tenants it may write. */
export type ProducerTenants = ReadonlyMap<string, ReadonlySet<string>>;

/** AWS unique ids of IAM roles and users: a 4-letter prefix (AROA, AIDA) and upper-case letters/digits (21 characters today). */
export const PRINCIPAL_ID_PATTERN = /^A[A-Z0-9]{6,127}$/;

/**
 * The principal part of a SenderId.
 *
 * @example
 * senderPrincipalId("AROAEXAMPLE:session"); // "AROAEXAMPLE"
 */
export function senderPrincipalId(senderId: string): string {
    const colon = senderId.indexOf(":");
    return colon < 0 ? senderId : senderId.slice(0, colon);
}

/**
 * Parses `PRODUCER_TENANTS` (`{"<principal id>": ["tenant", ...], ...}`); returns the map or the problems.
 *
 * @example
 * parseProducerTenants('{"AROAEXAMPLE1234567890":["acme","globex"]}'); // { ok: true, tenants: Map { ... } }
 */
export function parseProducerTenants(
    text: string,
    clientIdPattern: RegExp,
): { ok: true; tenants: ProducerTenants } | { ok: false; problems: string[] } {
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch {
        return { ok: false, problems: ['is not JSON; expected {"<role unique id>": ["clientId", ...]}'] };
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        return { ok: false, problems: ["must be a JSON object mapping producer role unique ids to lists of clientIds"] };
    }
    const problems: string[] = [];
    const tenants = new Map<string, ReadonlySet<string>>();
    for (const [principal, list] of Object.entries(parsed)) {
        if (!PRINCIPAL_ID_PATTERN.test(principal))
            problems.push(`key "${principal.slice(0, 40)}" is not an IAM unique id (AROA.../AIDA...)`);
        if (
            !Array.isArray(list) ||
            list.length === 0 ||
            !list.every((tenant) => typeof tenant === "string" && clientIdPattern.test(tenant))
        ) {
            problems.push(`${PRINCIPAL_ID_PATTERN.test(principal) ? principal : "an entry"} must list at least one valid clientId`);
            continue;
        }
        tenants.set(principal, new Set(list as string[]));
    }
    if (tenants.size === 0 && problems.length === 0) problems.push("names no producer; leave it unset for open mode");
    return problems.length > 0 ? { ok: false, problems } : { ok: true, tenants };
}

/** A tenancy violation: the reason code and a payload-free detail. */
export interface TenancyViolation {
    readonly reason: Extract<EventRejectionReason, "message_group_mismatch" | "sender_not_allowed">;
    readonly detail: string;
}

/**
 * Checks one message's sender and group against the body's clientId.
 * `producers` undefined = open mode. `firstSender`: the principal id of a verified sender claim
 * (a redriven dead letter), judged instead of the message's own SenderId.
 *
 * @example
 * checkTenancy({ MessageGroupId: "acme", SenderId: "AROAEXAMPLE:s" }, "acme", producers); // undefined (allowed)
 * checkTenancy({ SenderId: "AROAEXAMPLE:s" }, "acme", producers); // undefined: no group, the sender decides
 */
export function checkTenancy(
    attributes: Readonly<Record<string, string | undefined>> | undefined,
    clientId: string,
    producers: ProducerTenants | undefined,
    firstSender?: string,
): TenancyViolation | undefined {
    const groupId = attributes?.MessageGroupId;
    if (groupId !== undefined && groupId !== clientId) {
        return {
            reason: "message_group_mismatch",
            detail: "MessageGroupId differs from the body's clientId; send with MessageGroupId = clientId",
        };
    }
    if (producers === undefined) return undefined;
    const senderId = firstSender ?? attributes?.SenderId;
    if (typeof senderId !== "string" || senderId === "") {
        return { reason: "sender_not_allowed", detail: "SQS reported no SenderId, so the producer cannot be checked" };
    }
    const principal = senderPrincipalId(senderId);
    if (producers.get(principal)?.has(clientId)) return undefined;
    // The principal id is AWS-generated (never payload); the session name after ':' is the caller's, so it is left out.
    const shown = PRINCIPAL_ID_PATTERN.test(principal) ? principal : "an unrecognised sender";
    const first = firstSender === undefined ? "" : " (the first sender, from the dead letter's verified claim)";
    return producers.has(principal)
        ? { reason: "sender_not_allowed", detail: `producer ${shown}${first} is not allowed to write this clientId` }
        : { reason: "sender_not_allowed", detail: `${shown}${first} is not a configured producer` };
}
