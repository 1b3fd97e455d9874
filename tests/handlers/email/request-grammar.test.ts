/**
 * What the email API accepts and refuses, byte for byte: the address grammar
 * (RFC 5321 §4.1.2 Mailbox, limits of §4.5.3.1), the declared charset of the body,
 * every field error at once, blank fields, and header lines of at most 998
 * characters (RFC 5322 §2.1.1) on both delivery paths. Pure handler calls with a
 * recording queue; the HTTP and emulator behaviour is in api.test.ts.
 */
import { expect } from "chai";
import * as nodemailer from "nodemailer";
import { EMAIL_API_DEFAULTS } from "../../../contracts/email-service";
import { createEmailApi } from "../../../handlers/email/api";
import { addressProblem } from "../../../handlers/email/address";
import type { EmailApiEvent } from "../../../handlers/email/http";
import { validateEmailRequest } from "../../../handlers/email/request";
import { headerSafeSubject, smtpMailOptions } from "../../../handlers/email/mime";
import { captureLogsInThisSuite } from "../../support/email/logs";
import { emailBody } from "../../support/email/pii";
import { recordingQueue } from "../../support/email/queue";

const NOW = new Date("2030-01-01T00:00:00Z");

function fieldsOf(input: unknown): string[] {
    const result = validateEmailRequest(input, EMAIL_API_DEFAULTS.limits, NOW);
    return result.success ? [] : result.errors.map((e) => e.field);
}

function apiEvent(body: string | Buffer, contentType = "application/json", base64 = false): EmailApiEvent {
    // Bytes that are not a UTF-8 string reach the Lambda base64-encoded (isBase64Encoded), as from API Gateway.
    const encoded = typeof body !== "string" || base64;
    return {
        headers: { "content-type": contentType },
        body: typeof body === "string" ? (base64 ? Buffer.from(body, "utf8").toString("base64") : body) : body.toString("base64"),
        isBase64Encoded: encoded,
        requestContext: { http: { method: "POST" }, requestId: "r-1" },
    } as unknown as EmailApiEvent;
}

describe("email request grammar", () => {
    captureLogsInThisSuite();

    describe("addresses (RFC 5321 Mailbox, the same check for from, to, cc and bcc)", () => {
        const valid = [
            "o'brien@example.com",
            "a&b=c@example.com",
            "ann@my--domain.example.com",
            "ann@xn--bcher-kva.de",
            "ann@example.xn--p1ai",
            "first.last+tag@sub.example.co.uk",
            "!#$%&'*+-/=?^_`{|}~@example.com",
            "x@a.io",
            `${"l".repeat(64)}@example.com`,
            `ann@${"d".repeat(63)}.example.com`,
        ];
        const invalid: Array<[string, RegExp]> = [
            ["plain", /@/],
            ["@example.com", /local part/],
            ["ann@", /domain/],
            [".ann@example.com", /local part/],
            ["ann.@example.com", /local part/],
            ["a..nn@example.com", /local part/],
            ['"quoted"@example.com', /quoted/],
            ["ann smith@example.com", /local part/],
            ["ann@example.com\r\nBcc: x@example.com", /local part|domain/],
            ["ann\n@example.com", /local part/],
            ["ann@localhost", /dot/],
            ["ann@-example.com", /label/],
            ["ann@example-.com", /label/],
            ["ann@exa_mple.com", /label/],
            ["ann@example..com", /label/],
            ["ann@[192.0.2.1]", /address literal/],
            ["ann@example.123", /numeric/],
            ["Ann <ann@example.com>", /display name|local part/],
            ["ann@b\u00fccher.de", /ASCII|Punycode/],
            ["\u00e4nn@example.com", /ASCII/],
            [`${"l".repeat(65)}@example.com`, /64 octets.*RFC 5321 §4\.5\.3\.1\.1/],
            [`ann@${"d".repeat(64)}.example.com`, /63 octets/],
            [`ann@${Array.from({ length: 64 }, () => "abc").join(".")}.com`, /253|254/],
        ];

        for (const address of valid) {
            it(`accepts ${JSON.stringify(address)}`, () => {
                expect(addressProblem(address)).to.equal(undefined);
                expect(fieldsOf(emailBody({ from: address, to: [address], cc: [address], bcc: [address] }))).to.deep.equal([]);
            });
        }
        for (const [address, reason] of invalid) {
            it(`refuses ${JSON.stringify(address)} and says why`, () => {
                expect(addressProblem(address)).to.match(reason);
                const result = validateEmailRequest(
                    emailBody({ from: address, to: [address], cc: [address], bcc: [address] }),
                    EMAIL_API_DEFAULTS.limits,
                    NOW,
                );
                expect(result.success).to.equal(false);
                if (!result.success) {
                    expect(result.errors.map((e) => e.field)).to.deep.equal(["from", "to[0]", "cc[0]", "bcc[0]"]);
                    // The message names the rule, never the value (it is PII).
                    for (const e of result.errors)
                        expect(e.message)
                            .to.match(/^must be a valid email address/)
                            .and.not.include(address);
                }
            });
        }

        it("the whole path is at most 254 octets (RFC 5321 §4.5.3.1.3)", () => {
            const domain = `${"d".repeat(60)}.${"e".repeat(60)}.${"f".repeat(60)}.${"g".repeat(50)}.com`;
            expect(addressProblem(`${"l".repeat(64)}@${domain}`)).to.match(/254/);
            expect(addressProblem(`${"l".repeat(10)}@${domain}`)).to.equal(undefined);
        });
    });

    describe("every field error at once", () => {
        it("names each unknown field, not only the first", () => {
            const result = validateEmailRequest(
                emailBody({ replyTo: "x@example.com", headers: {}, attachments: [] }),
                EMAIL_API_DEFAULTS.limits,
                NOW,
            );
            expect(result.success).to.equal(false);
            if (!result.success) {
                expect(result.errors).to.deep.include.members([
                    { field: "replyTo", message: "unknown field" },
                    { field: "headers", message: "unknown field" },
                    { field: "attachments", message: "unknown field" },
                ]);
            }
        });

        it("reports a missing required field as missing", () => {
            const result = validateEmailRequest({ text: "hello" }, EMAIL_API_DEFAULTS.limits, NOW);
            expect(result.success).to.equal(false);
            if (!result.success) {
                expect(result.errors).to.deep.include.members([
                    { field: "from", message: "is required" },
                    { field: "to", message: "is required" },
                    { field: "subject", message: "is required" },
                ]);
                expect(JSON.stringify(result.errors)).to.not.match(/undefined/);
            }
        });
    });

    describe("blank fields", () => {
        for (const field of ["subject", "text", "html"]) {
            it(`refuses a whitespace-only ${field} with a 400 naming it`, () => {
                const result = validateEmailRequest(emailBody({ [field]: " \t \u00a0 " }), EMAIL_API_DEFAULTS.limits, NOW);
                expect(result.success).to.equal(false);
                if (!result.success) expect(result.errors).to.deep.equal([{ field, message: "must not be blank (whitespace only)" }]);
            });
        }
    });

    describe("charset of the request body", () => {
        const body = emailBody({ subject: "Caf\u00e9 cr\u00e8me", text: "Gr\u00fc\u00dfe" });
        async function call(event: EmailApiEvent) {
            const queue = recordingQueue();
            const api = createEmailApi({
                sqs: queue.client,
                queueUrl: "q",
                s3: {} as never,
                contentBucket: "b",
                now: () => NOW,
                newId: () => "id-1",
            });
            const result = await api(event);
            return { result, queue, json: JSON.parse(result.body ?? "{}") as { error?: string; message?: string; errors?: unknown[] } };
        }
        const queued = (sent: Array<Record<string, unknown>>) => JSON.parse(String(sent[0].MessageBody)).content;

        it("decodes a body declared charset=iso-8859-1 (and its aliases) to the same text", async () => {
            for (const charset of ["iso-8859-1", "ISO-8859-1", "latin1", '"iso-8859-1"', "windows-1252"]) {
                const { result, queue } = await call(
                    apiEvent(Buffer.from(JSON.stringify(body), "latin1"), `application/json; charset=${charset}`),
                );
                expect(result.statusCode, charset).to.equal(202);
                expect(queued(queue.sent)).to.deep.include({ subject: "Caf\u00e9 cr\u00e8me", text: "Gr\u00fc\u00dfe" });
            }
        });

        it("decodes UTF-8 whether or not API Gateway base64-encoded the body", async () => {
            for (const base64 of [false, true]) {
                const { result, queue } = await call(apiEvent(JSON.stringify(body), "application/json; charset=utf-8", base64));
                expect(result.statusCode).to.equal(202);
                expect(queued(queue.sent)).to.deep.include({ subject: "Caf\u00e9 cr\u00e8me" });
            }
            const latin1Base64 = { ...apiEvent(""), headers: { "content-type": "application/json; charset=iso-8859-1" } } as EmailApiEvent;
            latin1Base64.body = Buffer.from(JSON.stringify(body), "latin1").toString("base64");
            latin1Base64.isBase64Encoded = true;
            const { result, queue } = await call(latin1Base64);
            expect(result.statusCode).to.equal(202);
            expect(queued(queue.sent)).to.deep.include({ text: "Gr\u00fc\u00dfe" });
        });

        it("refuses invalid UTF-8 with 400 instead of delivering U+FFFD", async () => {
            const bytes = Buffer.concat([
                Buffer.from(JSON.stringify(body).slice(0, -2), "utf8"),
                Buffer.from([0xc3, 0x28]),
                Buffer.from('"}'),
            ]);
            const event = { ...apiEvent(""), body: bytes.toString("base64"), isBase64Encoded: true } as EmailApiEvent;
            const { result, queue, json } = await call(event);
            expect(result.statusCode).to.equal(400);
            expect(json.errors).to.deep.equal([{ field: "body", message: "must be valid UTF-8 (or declare its charset)" }]);
            expect(queue.sent).to.have.length(0);
        });

        it("refuses a charset it does not know with 415 naming it", async () => {
            const { result, queue, json } = await call(apiEvent(JSON.stringify(body), "application/json; charset=x-klingon"));
            expect(result.statusCode).to.equal(415);
            expect(json.error).to.equal("UnsupportedMediaType");
            expect(json.message).to.include('"x-klingon"').and.include("utf-8");
            expect(queue.sent).to.have.length(0);
        });
    });

    describe("header lines of at most 998 characters (RFC 5322 §2.1.1)", () => {
        const subjects = [
            "a".repeat(998),
            `${"b".repeat(500)} ${"c".repeat(497)}`,
            "\u00e9".repeat(998),
            "Short and sweet",
            `${"word ".repeat(199)}end`,
        ];

        it("the SMTP path: no line of the built message exceeds 998 (or 78 for the subject), and the subject decodes back exactly", async () => {
            const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: "windows" });
            for (const subject of subjects) {
                const content = { from: "a@example.com", to: ["b@example.com"], cc: [], bcc: [], subject, text: "hi" };
                const info = await transport.sendMail(smtpMailOptions(content, "id-1"));
                const raw = (info.message as Buffer).toString("utf8");
                const head = raw.slice(0, raw.indexOf("\r\n\r\n"));
                for (const line of raw.split("\r\n")) expect(line.length, `line of ${subject.slice(0, 20)}…`).to.be.at.most(998);
                const subjectLines = head
                    .split("\r\n")
                    .filter(
                        (line, i, all) =>
                            line.startsWith("Subject:") || (/^[ \t]/.test(line) && all.slice(0, i).some((l) => l.startsWith("Subject:"))),
                    );
                for (const line of subjectLines) expect(line.length).to.be.at.most(78);
                const unfolded = /^Subject: (.*)$/m.exec(head.replace(/\r\n[ \t]/g, " "))![1];
                expect(decodeWords(unfolded)).to.equal(subject);
            }
        });

        it("the SES path: the subject has a fold point at least every 76 characters and decodes back exactly", () => {
            for (const subject of subjects) {
                const safe = headerSafeSubject(subject);
                expect(safe).to.not.match(/[\r\n]/);
                for (const word of safe.split(" ")) expect(word.length).to.be.at.most(76);
                expect(decodeWords(safe)).to.equal(subject);
            }
            expect(headerSafeSubject("Short and sweet")).to.equal("Short and sweet");
        });
    });
});

/** RFC 2047 decoding (adjacent encoded words joined, §6.2), for assertions only. */
function decodeWords(value: string): string {
    return value.replace(/\?=\s+=\?/g, "?==?").replace(/=\?UTF-8\?([BQ])\?([^?]*)\?=/gi, (_m, enc: string, text: string) =>
        enc.toUpperCase() === "B"
            ? Buffer.from(text, "base64").toString("utf8")
            : Buffer.from(
                  text.replace(/_/g, " ").replace(/=([0-9A-F]{2})/gi, (_x, h: string) => String.fromCharCode(parseInt(h, 16))),
                  "latin1",
              ).toString("utf8"),
    );
}
