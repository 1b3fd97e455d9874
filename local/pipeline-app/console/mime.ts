/**
 * Just enough MIME to show a received email in the local console: the text and
 * HTML parts of a (possibly nested multipart) RFC 5322 message, with
 * quoted-printable and base64 transfer encodings decoded.
 */

export interface EmailBodies {
    text?: string;
    html?: string;
}

function splitHead(raw: string): { head: Record<string, string>; body: string } {
    const match = /\r?\n\r?\n/.exec(raw);
    const headText = match ? raw.slice(0, match.index) : raw;
    const body = match ? raw.slice(match.index + match[0].length) : "";
    const head: Record<string, string> = {};
    for (const line of headText.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
        const colon = line.indexOf(":");
        if (colon > 0) head[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    return { head, body };
}

function parameter(header: string, name: string): string | undefined {
    const match = new RegExp(`;\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]*))`, "i").exec(header);
    return match ? (match[1] ?? match[2]) : undefined;
}

function decode(body: string, encoding: string | undefined, charset: string | undefined): string {
    const enc = (encoding ?? "7bit").toLowerCase();
    let bytes: Buffer;
    if (enc === "base64") bytes = Buffer.from(body.replace(/\s+/g, ""), "base64");
    else if (enc === "quoted-printable") {
        const unfolded = body.replace(/=\r?\n/g, "");
        bytes = Buffer.from(
            unfolded.replace(/=([0-9A-Fa-f]{2})/g, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
            "latin1",
        );
    } else bytes = Buffer.from(body, "utf8");
    return /^(us-ascii|utf-?8)?$/i.test(charset ?? "") ? bytes.toString("utf8") : bytes.toString("latin1");
}

/**
 * @example
 * const { text, html } = emailBodies(sinkMessage.raw);
 */
export function emailBodies(raw: string, depth = 0): EmailBodies {
    const { head, body } = splitHead(raw);
    const type = head["content-type"] ?? "text/plain";
    const mediaType = type.split(";")[0].trim().toLowerCase();
    if (mediaType.startsWith("multipart/") && depth < 5) {
        const boundary = parameter(type, "boundary");
        if (!boundary) return {};
        const found: EmailBodies = {};
        const parts = body.split(new RegExp(`\\r?\\n?--${boundary.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?:--)?[ \\t]*\\r?\\n?`));
        for (const part of parts.slice(1)) {
            if (part.trim() === "") continue;
            const inner = emailBodies(part, depth + 1);
            found.text ??= inner.text;
            found.html ??= inner.html;
        }
        return found;
    }
    if (/attachment/i.test(head["content-disposition"] ?? "")) return {};
    const decoded = decode(body, head["content-transfer-encoding"], parameter(type, "charset"));
    if (mediaType === "text/html") return { html: decoded };
    if (mediaType === "text/plain") return { text: decoded.replace(/\r?\n$/, "") };
    return {};
}
