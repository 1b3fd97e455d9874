/**
 * Test PII: every address, subject and body the email tests send is built from
 * these, and the no-PII tests assert that none of them (nor their distinctive
 * parts) ever appears in a captured log line.
 */
export const PII = {
    from: "sender.pii-fixture@example.com",
    to: "alice.pii-fixture@example.org",
    cc: "bob.pii-fixture@example.net",
    bcc: "carol.pii-fixture@example.com",
    subject: "Your PII-FIXTURE subject zanzibar",
    text: "Hello Alice, your PII-FIXTURE code is quokka-7781.",
    html: "<p>Hello Alice, your <b>PII-FIXTURE</b> code is quokka-7781.</p>",
};

/** Strings that must never appear in any log line. */
export const PII_NEEDLES: readonly string[] = [
    PII.from,
    PII.to,
    PII.cc,
    PII.bcc,
    "pii-fixture@",
    PII.subject,
    "zanzibar",
    "quokka-7781",
    "Hello Alice",
];

/** A valid request body; override fields per test. */
export function emailBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        from: PII.from,
        to: [PII.to],
        cc: [PII.cc],
        bcc: [PII.bcc],
        subject: PII.subject,
        text: PII.text,
        html: PII.html,
        ...overrides,
    };
}
