/**
 * The address grammar of the email API: one check for `from`, `to`, `cc` and `bcc`.
 *
 * Accepted: an RFC 5321 §4.1.2 `Mailbox` whose local part is a `Dot-string` (atoms of
 * RFC 5322 `atext`: letters, digits and ``!#$%&'*+-/=?^_`{|}~``, joined by single dots)
 * and whose domain is a DNS name of LDH labels (RFC 5321 §4.1.2 `Domain`, RFC 5890 for
 * IDNs in their ASCII `xn--` form), within the size limits of RFC 5321 §4.5.3.1.
 *
 * Refused, on purpose:
 * - quoted local parts (`"ann smith"@example.com`) and address literals (`ann@[192.0.2.1]`):
 *   legal in SMTP, but refused or unroutable at SES and most relays, and a quoted string
 *   is where header and SMTP-command smuggling hides;
 * - non-ASCII (SMTPUTF8, RFC 6531): SES accepts 7-bit ASCII addresses only; an IDN domain
 *   must be sent in its Punycode form (`ann@xn--bcher-kva.de`);
 * - display names (`Ann <ann@example.com>`): the API takes addresses, not name-addr;
 * - a domain without a dot (`ann@localhost`) and an all-numeric TLD (RFC 3696 §2).
 *
 * CR, LF, spaces and every other control character are outside both grammars, so a
 * valid address can never inject a header or an SMTP command.
 */

/** RFC 5321 §4.5.3.1.1: the local part is at most 64 octets. */
export const MAX_LOCAL_PART_OCTETS = 64;
/** RFC 5321 §4.5.3.1.2 (255 octets on the wire, RFC 1035 §2.3.4): 253 in text form. */
export const MAX_DOMAIN_OCTETS = 253;
/** RFC 1035 §2.3.4: a DNS label is at most 63 octets. */
export const MAX_LABEL_OCTETS = 63;
/** RFC 5321 §4.5.3.1.3: a path is at most 256 octets including `<` and `>`: 254 for the address. */
export const MAX_ADDRESS_OCTETS = 254;

const ATOM = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+$/;
const LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;
const PREFIX = "must be a valid email address";

/** True when `text` has a space, a C0 control character (CR, LF, NUL…) or DEL. */
function hasSpaceOrControl(text: string): boolean {
    for (let index = 0; index < text.length; index++) {
        const code = text.charCodeAt(index);
        if (code <= 0x20 || code === 0x7f) return true;
    }
    return false;
}

/** True when `text` has a character outside ASCII. */
function hasNonAscii(text: string): boolean {
    for (let index = 0; index < text.length; index++) if (text.charCodeAt(index) > 0x7f) return true;
    return false;
}

/**
 * Why `address` is not an address the service can send to or from, or `undefined`
 * when it is. The answer names the rule, never the address (it is PII).
 *
 * @example
 * addressProblem("o'brien@example.com"); // undefined
 * addressProblem("ann@localhost");        // "must be a valid email address: the domain needs at least one dot"
 */
export function addressProblem(address: string): string | undefined {
    const why = (reason: string) => `${PREFIX}: ${reason}`;
    if (address === "") return "must not be empty";
    // Anything outside printable ASCII: control characters (CR/LF) and non-ASCII (SMTPUTF8).
    if (/[^\x21-\x7e]/.test(address)) {
        const at = address.lastIndexOf("@");
        if (hasSpaceOrControl(address)) {
            if (/[<>]/.test(address)) return why("a bare address without a display name, e.g. ann@example.com");
            return why(
                at >= 0 && hasSpaceOrControl(address.slice(at + 1))
                    ? "the domain contains a space or control character"
                    : "the local part contains a space or control character",
            );
        }
        return at >= 0 && hasNonAscii(address.slice(at + 1))
            ? why("the domain must be in ASCII (Punycode) form, e.g. xn--bcher-kva.de")
            : why("only ASCII characters are accepted (SES does not support SMTPUTF8 local parts)");
    }
    const at = address.lastIndexOf("@");
    if (at < 0) return why("an address needs an @");
    const local = address.slice(0, at);
    const domain = address.slice(at + 1);
    if (local.startsWith('"')) return why("quoted local parts are not accepted");
    if (/[<>]/.test(address)) return why("a bare address without a display name, e.g. ann@example.com");
    if (local === "") return why("the local part before @ is empty");
    if (!local.split(".").every((atom) => ATOM.test(atom))) {
        return why(
            "the local part must be dot-separated atoms of letters, digits and !#$%&'*+-/=?^_`{|}~ (no leading, trailing or double dots)",
        );
    }
    if (local.length > MAX_LOCAL_PART_OCTETS)
        return why(`the local part is longer than ${MAX_LOCAL_PART_OCTETS} octets (RFC 5321 §4.5.3.1.1)`);
    if (domain === "") return why("the domain after @ is empty");
    if (domain.startsWith("[")) return why("address literals such as [192.0.2.1] are not accepted; use a domain name");
    if (domain.length > MAX_DOMAIN_OCTETS) return why(`the domain is longer than ${MAX_DOMAIN_OCTETS} octets (RFC 5321 §4.5.3.1.2)`);
    const labels = domain.split(".");
    if (labels.length < 2) return why("the domain needs at least one dot");
    for (const label of labels) {
        if (label.length > MAX_LABEL_OCTETS) return why(`a domain label is longer than ${MAX_LABEL_OCTETS} octets (RFC 1035 §2.3.4)`);
        if (!LABEL.test(label))
            return why("each domain label must be letters, digits and inner hyphens (no empty label, no leading or trailing hyphen)");
    }
    if (/^\d+$/.test(labels[labels.length - 1])) return why("the top-level domain must not be all-numeric");
    if (address.length > MAX_ADDRESS_OCTETS) return why(`the address is longer than ${MAX_ADDRESS_OCTETS} octets (RFC 5321 §4.5.3.1.3)`);
    return undefined;
}
