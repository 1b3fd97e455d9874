/**
 * Header-safe forms of the message's header values, shared by the SES and SMTP paths.
 *
 * RFC 5322 §2.1.1: a header line is at most 998 characters (78 recommended). A header
 * is folded at whitespace, so a subject with a long run of non-whitespace (the API
 * accepts up to 998 characters) cannot be folded as is: nodemailer moves it to its own
 * continuation line, 999 characters long. Such a subject is written as RFC 2047
 * encoded-words (each at most 75 characters, §2), which may be folded between any two
 * of them and decode back to exactly the same text (§6.2: whitespace between adjacent
 * encoded-words is ignored).
 */
import type { EmailContent } from "./types";

/** RFC 5322 §2.1.1's recommended line length, less `Subject: ` and a fold's leading space. */
const LONGEST_UNFOLDABLE_RUN = 78 - "Subject: ".length;
/** Length of one encoded-word, within RFC 2047 §2's 75. */
const ENCODED_WORD_LENGTH = 64;
const ENCODED_WORD_OPEN = "=?UTF-8?B?";
const ENCODED_WORD_CLOSE = "?=";
/** UTF-8 bytes per encoded-word: whole base64 quanta (3 bytes -> 4 characters) that fit. */
const BYTES_PER_ENCODED_WORD = Math.floor((ENCODED_WORD_LENGTH - ENCODED_WORD_OPEN.length - ENCODED_WORD_CLOSE.length) / 4) * 3;

/**
 * `text` as RFC 2047 "B" encoded-words separated by spaces. Each word holds whole
 * characters (§5: an encoded-word must not split a character), so each decodes alone.
 * Written here rather than taken from nodemailer: the worker loads nodemailer only on
 * the SMTP failover path (it ships in a layer), while both paths need this.
 */
function encodedWords(text: string): string {
    const words: string[] = [];
    let chunk: Buffer[] = [];
    let size = 0;
    const flush = () => {
        if (size === 0) return;
        words.push(`${ENCODED_WORD_OPEN}${Buffer.concat(chunk).toString("base64")}${ENCODED_WORD_CLOSE}`);
        chunk = [];
        size = 0;
    };
    for (const character of text) {
        const bytes = Buffer.from(character, "utf8");
        if (size + bytes.length > BYTES_PER_ENCODED_WORD) flush();
        chunk.push(bytes);
        size += bytes.length;
    }
    flush();
    return words.join(" ");
}

/** True when the subject has a run of non-whitespace that no fold can bring under 78 characters. */
export function needsEncodedWords(subject: string): boolean {
    return subject.split(/[ \t]+/).some((word) => word.length > LONGEST_UNFOLDABLE_RUN);
}

/**
 * The subject as a header value with a fold point (a space) at least every 76 characters:
 * unchanged when it already has them, otherwise RFC 2047 encoded-words separated by spaces.
 *
 * @example
 * headerSafeSubject("Your order");      // "Your order"
 * headerSafeSubject("x".repeat(998));   // "=?UTF-8?B?eHh4…?= =?UTF-8?B?…?= …"
 */
export function headerSafeSubject(subject: string): string {
    if (!needsEncodedWords(subject)) return subject;
    return encodedWords(subject);
}

/**
 * nodemailer's message options for an email: the subject, when it needs encoded-words, as a
 * prepared header folded between them (nodemailer folds every other header itself).
 *
 * @example
 * await transport.sendMail(smtpMailOptions(content, emailId));
 */
export function smtpMailOptions(email: EmailContent, emailId: string) {
    const encode = needsEncodedWords(email.subject);
    return {
        from: email.from,
        to: email.to,
        cc: email.cc,
        bcc: email.bcc,
        ...(encode ? {} : { subject: email.subject }),
        text: email.text,
        html: email.html,
        headers: {
            "X-Email-Id": emailId,
            ...(encode ? { Subject: { prepared: true, value: headerSafeSubject(email.subject).split(" ").join("\r\n ") } } : {}),
        },
    };
}
