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
import mimeFuncs = require("nodemailer/lib/mime-funcs");
import type { EmailContent } from "./types";

/** RFC 5322 §2.1.1's recommended line length, less `Subject: ` and a fold's leading space. */
const LONGEST_UNFOLDABLE_RUN = 78 - "Subject: ".length;
/** Length of one encoded-word, within RFC 2047 §2's 75. */
const ENCODED_WORD_LENGTH = 64;

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
    return mimeFuncs.encodeWord(subject, "B", ENCODED_WORD_LENGTH);
}

/**
 * nodemailer's message options for an email: the subject, when it needs encoded-words, as a
 * prepared header folded between them (nodemailer folds every other header itself).
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
