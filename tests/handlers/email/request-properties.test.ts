/**
 * Property-based hostile-input suite for `POST /v1/emails` (fast-check, fixed seeds):
 * requests are generated field by field at and around every documented limit (address
 * local part 64 / label 63 / domain 253 / path 254 octets, RFC 5321 §4.5.3.1; subject
 * 998 characters, RFC 5322 §2.1.1; 50 recipients, the SES quota; blank and multi-line
 * values; injection characters; unknown keys), each with the answer the docs promise.
 * For every request: valid → 202 and exactly one SendMessage carrying the request;
 * invalid → 400 naming every bad field and nothing queued; and no address, subject or
 * body in any log line written meanwhile.
 */
import { expect } from "chai";
import * as fc from "fast-check";
import { EMAIL_API_DEFAULTS } from "../../../contracts/email-service";
import { createEmailApi } from "../../../handlers/email/api";
import { validateEmailRequest } from "../../../handlers/email/request";
import type { EmailApiEvent } from "../../../handlers/email/http";
import { capturedLines, captureLogsInThisSuite, linesContaining } from "../../support/email/logs";
import { recordingQueue } from "../../support/email/queue";

const LIMIT = EMAIL_API_DEFAULTS.limits.maxRecipients;
const ATEXT = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~".split("");
const LDH = "abcdefghijklmnopqrstuvwxyz0123456789".split("");

/** A value and whether the API must accept it. */
type Case<T> = { value: T; valid: boolean };

const atom = (min: number, max: number) => fc.array(fc.constantFrom(...ATEXT), { minLength: min, maxLength: max }).map((c) => c.join(""));
const label = (min: number, max: number) =>
    fc
        .tuple(
            fc.constantFrom(...LDH),
            fc.array(fc.constantFrom(...LDH, "-"), { minLength: Math.max(0, min - 2), maxLength: Math.max(0, max - 2) }),
            fc.constantFrom(...LDH),
        )
        .map(([a, mid, z]) => (max === 1 ? a : `${a}${mid.join("")}${z}`));
/** A local part of 1-64 octets (dot-atoms), biased to the 64 limit. */
const localPart = fc.oneof(
    atom(1, 20),
    fc.tuple(atom(1, 31), atom(1, 32)).map(([a, b]) => `${a}.${b}`),
    atom(64, 64),
);
const domain = fc.oneof(
    fc.tuple(label(1, 20), fc.constantFrom("com", "io", "de", "xn--p1ai", "co.uk")).map(([l, tld]) => `${l}.${tld}`),
    fc.tuple(label(63, 63), label(1, 10)).map(([a, b]) => `${a}.${b}.org`),
    fc.constant("xn--bcher-kva.de"),
    fc.constant("my--domain.example.com"),
);
const validAddress = fc
    .tuple(localPart, domain)
    .map(([l, d]) => `${l}@${d}`)
    .filter((a) => a.length <= 254);
const invalidAddress = fc.oneof(
    fc.tuple(atom(65, 70), domain).map(([l, d]) => `${l}@${d}`), // local part > 64
    fc.tuple(atom(1, 10), label(64, 64)).map(([l, d]) => `${l}@${d}.com`), // label > 63
    fc.tuple(atom(1, 10), fc.array(label(60, 63), { minLength: 5, maxLength: 5 })).map(([l, ls]) => `${l}@${ls.join(".")}.com`), // domain > 253
    fc.tuple(atom(64, 64), label(63, 63), label(63, 63), label(60, 60)).map(([l, a, b, c]) => `${l}@${a}.${b}.${c}.com`), // path > 254
    fc.tuple(atom(1, 10), domain).map(([l, d]) => `.${l}@${d}`),
    fc.tuple(atom(1, 10), atom(1, 10), domain).map(([a, b, d]) => `${a}..${b}@${d}`),
    fc.tuple(atom(1, 10), domain, fc.constantFrom("\r\n", "\n", "\r", " ", "\t", "\u0000")).map(([l, d, c]) => `${l}${c}@${d}`),
    fc.tuple(atom(1, 10), domain).map(([l, d]) => `${l}@${d}\r\nBcc: victim@${d}`),
    fc.tuple(atom(1, 10), domain).map(([l, d]) => `"${l}"@${d}`),
    fc.tuple(atom(1, 10), domain).map(([l, d]) => `${l}\u00e9@${d}`),
    fc.tuple(atom(1, 10), label(1, 10)).map(([l, d]) => `${l}@${d}`), // no dot
    fc.tuple(atom(1, 10), label(1, 10)).map(([l, d]) => `${l}@-${d}.com`),
    fc.tuple(atom(1, 10), domain).map(([l, d]) => `${l}@[192.0.2.1]${d.length > 1000 ? d : ""}`),
    atom(1, 20), // no @
    fc.constant(""),
);
const address: fc.Arbitrary<Case<string>> = fc.oneof(
    { weight: 4, arbitrary: validAddress.map((value) => ({ value, valid: true })) },
    { weight: 1, arbitrary: invalidAddress.map((value) => ({ value, valid: false })) },
);

const printable = fc.string({
    unit: fc.oneof(
        fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789 .,!?-".split("")),
        fc.constantFrom("\u00e9", "\u00fc", "\u4e2d", "\ud83d\ude00"),
    ),
    minLength: 1,
    maxLength: 40,
});
const subject: fc.Arbitrary<Case<string>> = fc.oneof(
    printable.filter((s) => s.trim() !== "").map((value) => ({ value, valid: true })),
    fc.constantFrom(997, 998).map((n) => ({ value: "s".repeat(n), valid: true })),
    fc.constant({ value: `${"word ".repeat(199)}end`, valid: true }),
    fc.constant({ value: "s".repeat(999), valid: false }),
    fc.constant({ value: "", valid: false }),
    fc.constantFrom(" ", "\t \u00a0", "   ").map((value) => ({ value, valid: false })),
    printable.map((s) => ({ value: `x${s}\r\nBcc: victim@example.com`, valid: false })),
);
/** A body part: absent, valid, or blank. */
const bodyPart: fc.Arbitrary<Case<string> | undefined> = fc.oneof(
    fc.constant(undefined),
    printable.filter((s) => s.trim() !== "").map((value) => ({ value: `body ${value}`, valid: true })),
    fc.constantFrom("", " ", "\n\t").map((value) => ({ value, valid: false })),
);
const unknownKeys = fc
    .uniqueArray(fc.oneof(fc.stringMatching(/^[a-zA-Z_]{1,10}$/), fc.constantFrom("", "replyTo", "headers", "attachments", "bbc")), {
        maxLength: 3,
    })
    .map((keys) => keys.filter((k) => k !== "__proto__" && !["from", "to", "cc", "bcc", "subject", "text", "html", "sendAt"].includes(k)));

const validOnly = <T>(arbitrary: fc.Arbitrary<Case<T>>) => arbitrary.filter((c) => c.valid);

/** Any mix of valid and invalid fields, or (half the time) only valid ones, so both answers are exercised. */
function requestOf(valid: boolean) {
    const addr = valid ? validOnly(address) : address;
    const part = valid
        ? fc.oneof(
              bodyPart.filter((p) => p !== undefined && p.valid),
              fc.constant(undefined),
          )
        : bodyPart;
    return fc
        .record({
            from: addr,
            to: valid
                ? fc.array(addr, { minLength: 1, maxLength: 3 })
                : fc.oneof(
                      { weight: 5, arbitrary: fc.array(addr, { minLength: 1, maxLength: 3 }) },
                      { weight: 1, arbitrary: fc.constant([] as Case<string>[]) },
                  ),
            cc: fc.option(fc.array(addr, { maxLength: 2 }), { nil: undefined }),
            /** Extra valid bcc recipients so the total lands at, just under or just over the limit. */
            fillTo: fc.option(valid ? fc.constantFrom(LIMIT - 1, LIMIT) : fc.constantFrom(LIMIT - 1, LIMIT, LIMIT + 1), { nil: undefined }),
            subject: valid ? validOnly(subject) : subject,
            text: part,
            html: part,
            unknown: valid ? fc.constant([] as string[]) : unknownKeys,
        })
        .filter((r) => !valid || r.text !== undefined || r.html !== undefined);
}
const request = fc.oneof(requestOf(true), requestOf(false));

type Generated = typeof request extends fc.Arbitrary<infer T> ? T : never;

/** The body to send, and the fields the API must name (the model of the documented rules). */
function model(g: Generated): { body: Record<string, unknown>; badFields: Set<string>; needles: string[] } {
    const bad = new Set<string>();
    const body: Record<string, unknown> = {};
    body.from = g.from.value;
    if (!g.from.valid) bad.add("from");
    body.to = g.to.map((a) => a.value);
    g.to.forEach((a, i) => !a.valid && bad.add(`to[${i}]`));
    if (g.to.length === 0) bad.add("to");
    const cc = g.cc ?? [];
    if (g.cc !== undefined) body.cc = g.cc.map((a) => a.value);
    cc.forEach((a, i) => !a.valid && bad.add(`cc[${i}]`));
    const fill = g.fillTo === undefined ? 0 : Math.max(0, g.fillTo - g.to.length - cc.length);
    if (fill > 0) body.bcc = Array.from({ length: fill }, (_, i) => `filler${i}@example.com`);
    if (g.to.length + cc.length + fill > LIMIT) bad.add("recipients");
    if (fill > LIMIT) bad.add("bcc");
    body.subject = g.subject.value;
    if (!g.subject.valid) bad.add("subject");
    if (g.text !== undefined) body.text = g.text.value;
    if (g.html !== undefined) body.html = g.html.value;
    if (g.text && !g.text.valid) bad.add("text");
    if (g.html && !g.html.valid) bad.add("html");
    if (g.text === undefined && g.html === undefined) bad.add("text");
    for (const key of g.unknown) {
        body[key] = "x";
        bad.add(key === "" ? '""' : key);
    }
    const needles = [g.from, ...g.to, ...cc].map((a) => a.value).filter((v) => v.length >= 8);
    for (const part of [g.subject, g.text, g.html]) if (part && part.value.trim().length >= 8) needles.push(part.value.trim());
    return { body, badFields: bad, needles };
}

function event(body: unknown): EmailApiEvent {
    return {
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        isBase64Encoded: false,
        requestContext: { http: { method: "POST" }, requestId: "prop" },
    } as unknown as EmailApiEvent;
}

describe("email request properties (fast-check, at and around every limit)", function () {
    this.timeout(300_000);
    captureLogsInThisSuite();

    it("valid → 202 and queued exactly once; invalid → 400 naming every bad field, nothing queued; no PII in any log line", async () => {
        let accepted = 0;
        let refused = 0;
        await fc.assert(
            fc.asyncProperty(request, async (generated) => {
                const { body, badFields, needles } = model(generated);
                const queue = recordingQueue();
                let n = 0;
                const api = createEmailApi({
                    sqs: queue.client,
                    queueUrl: "q",
                    s3: {} as never,
                    contentBucket: "b",
                    newId: () => `id-${++n}`,
                });
                const before = capturedLines().length;
                const result = await api(event(body));
                const answer = JSON.parse(result.body ?? "{}") as { id?: string; errors?: Array<{ field: string; message: string }> };
                if (badFields.size === 0) {
                    expect(result.statusCode, JSON.stringify(answer.errors)).to.equal(202);
                    expect(queue.sent).to.have.length(1);
                    expect(queue.sent[0].MessageDeduplicationId).to.equal(answer.id);
                    const content = JSON.parse(String(queue.sent[0].MessageBody)).content;
                    expect(content).to.deep.include({ from: body.from, to: body.to, subject: body.subject });
                    accepted++;
                } else {
                    expect(result.statusCode).to.equal(400);
                    expect(new Set(answer.errors!.map((e) => e.field))).to.deep.equal(badFields);
                    for (const e of answer.errors!) expect(e.message).to.be.a("string").and.not.equal("");
                    expect(queue.sent).to.have.length(0);
                    refused++;
                }
                const lines = capturedLines().slice(before);
                expect(linesContaining(lines, needles), "PII in a log line").to.deep.equal([]);
            }),
            { numRuns: 250, seed: 20261201 },
        );
        // The generators reach both answers often enough to mean something.
        expect(accepted).to.be.greaterThan(25);
        expect(refused).to.be.greaterThan(25);
    });

    it("every address at and around the RFC 5321 limits is judged the same in from, to, cc and bcc", async () => {
        await fc.assert(
            fc.asyncProperty(address, async (candidate) => {
                const queue = recordingQueue();
                const api = createEmailApi({ sqs: queue.client, queueUrl: "q", s3: {} as never, contentBucket: "b" });
                const result = await api(
                    event({
                        from: candidate.value,
                        to: [candidate.value],
                        cc: [candidate.value],
                        bcc: [candidate.value],
                        subject: "s",
                        text: "t",
                    }),
                );
                if (candidate.valid) expect(result.statusCode).to.equal(202);
                else {
                    const fields = (JSON.parse(result.body!) as { errors: Array<{ field: string }> }).errors.map((e) => e.field);
                    expect(fields).to.deep.equal(["from", "to[0]", "cc[0]", "bcc[0]"]);
                }
            }),
            { numRuns: 300, seed: 5321 },
        );
    });
    it("every invalid recipient among many, in to, cc and bcc, is named by its position (none hides behind another)", () => {
        const list = fc.array(address, { minLength: 1, maxLength: LIMIT });
        fc.assert(
            fc.property(list, list, list, (to, cc, bcc) => {
                const result = validateEmailRequest(
                    {
                        from: "sender@example.com",
                        to: to.map((a) => a.value),
                        cc: cc.map((a) => a.value),
                        bcc: bcc.map((a) => a.value),
                        subject: "s",
                        text: "t",
                    },
                    EMAIL_API_DEFAULTS.limits,
                    new Date(),
                );
                const invalid = Object.entries({ to, cc, bcc }).flatMap(([field, addresses]) =>
                    addresses.flatMap((a, i) => (a.valid ? [] : [`${field}[${i}]`])),
                );
                const named = new Set(result.success ? [] : result.errors.map((e) => e.field));
                expect(invalid.filter((field) => !named.has(field))).to.deep.equal([]);
                for (const field of named) if (/\[\d+\]$/.test(field)) expect(invalid, field).to.include(field);
            }),
            { numRuns: 200, seed: 20261207 },
        );
    });
});
