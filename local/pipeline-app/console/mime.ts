/**
 * The text and HTML bodies of a received email, for the local console, parsed with
 * postal-mime (RFC 2045-2047 and 5322: nested multiparts, quoted-printable and base64,
 * any charset TextDecoder knows, encoded words). Attachments are left out: the console
 * shows bodies only.
 */
import PostalMime from "postal-mime";

export interface EmailBodies {
    text?: string;
    html?: string;
}

/**
 * @example
 * const { text, html } = await emailBodies(sinkMessage.raw);
 */
export async function emailBodies(raw: string): Promise<EmailBodies> {
    const { text, html } = await PostalMime.parse(raw);
    return {
        // The body's line break before the MIME boundary (or the end) is not part of the text.
        ...(text !== undefined ? { text: text.replace(/\r?\n$/, "") } : {}),
        ...(html !== undefined ? { html } : {}),
    };
}
