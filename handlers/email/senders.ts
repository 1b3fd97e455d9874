/**
 * Who may send as whom. The stack declares its SES sending identities (domains and
 * addresses) and, per API caller (the SigV4 principal the API sees, see `tenantOf`),
 * the `from` addresses and domains that caller may use. One tenant cannot send as
 * another: a `from` outside the caller's list is a 400 naming the field `from`,
 * before anything is queued.
 *
 * An entry with `@` is one address; an entry without is a domain and covers every
 * address at exactly that domain (list subdomains separately). Case-insensitive.
 */

import { senderCovered } from "../../contracts/email-service";

/** The sender policy the API enforces; both parts are optional (see docs/email-service.md "Senders"). */
export interface SenderPolicy {
    /** The stack's SES identities: every `from` must be covered by one. @default any (no identities declared) */
    sendingIdentities?: readonly string[];
    /** Caller principal ARN → the addresses and domains it may use. @default every caller may use every identity */
    allowedSenders?: Readonly<Record<string, readonly string[]>>;
}

/** Whether entries cover an address: the contract's rule, shared with stack config. */
export { senderCovered };

/**
 * The message of the `from` field error for `from` sent by `caller`, or `undefined` when allowed.
 * Messages never quote the address or the caller (the client knows both).
 *
 * @example
 * senderError("shop@example.com", caller, policy); // undefined when the caller may send as shop@example.com
 */
export function senderError(from: string, caller: string, policy: SenderPolicy): string | undefined {
    if (policy.sendingIdentities && !senderCovered(from, policy.sendingIdentities)) {
        return "must be an address or domain of this service's SES sending identities";
    }
    if (policy.allowedSenders) {
        const allowed = Object.prototype.hasOwnProperty.call(policy.allowedSenders, caller) ? policy.allowedSenders[caller] : [];
        if (!senderCovered(from, allowed)) return "is not a sender this caller may use (emailSenders)";
    }
    return undefined;
}
