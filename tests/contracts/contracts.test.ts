/**
 * The contract modules' own invariants: each value is defined once there, so what is
 * checked here is that the values are usable by every side that imports them.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import * as email from "../../contracts/email-service";
import * as events from "../../contracts/event-pipeline";

const CONTRACTS = path.resolve(__dirname, "..", "..", "contracts");
const ENVIRONMENT_NAME = /^[A-Z][A-Z0-9_]*$/;

describe("contracts", () => {
    it("import nothing, so infrastructure, handlers, local tools and the Lambda archives can all depend on them", () => {
        for (const file of fs.readdirSync(CONTRACTS)) {
            const source = fs.readFileSync(path.join(CONTRACTS, file), "utf8");
            expect(source, file).not.to.match(/^\s*import\b|\brequire\(/m);
        }
    });

    it("name distinct, valid environment variables, none shared between the two systems", () => {
        const eventNames = Object.values(events.EVENT_PROCESSOR_ENV);
        const emailNames = Object.values(email.EMAIL_ENV);
        for (const name of [...eventNames, ...emailNames]) expect(name).to.match(ENVIRONMENT_NAME);
        expect(new Set(eventNames).size).to.equal(eventNames.length);
        expect(new Set(emailNames).size).to.equal(emailNames.length);
        expect(eventNames.filter((name) => (emailNames as readonly string[]).includes(name))).to.deep.equal([]);
        expect(emailNames.every((name) => name.startsWith("EMAIL_"))).to.equal(true);
    });

    it("give each system reason codes in one shape: code -> one-sentence meaning, codes in the system's own spelling", () => {
        const eventCodes = [...events.EVENT_REJECTION_REASON_CODES, ...events.EVENT_TRANSIENT_REASON_CODES];
        for (const code of eventCodes) expect(code).to.match(/^[a-z]+(_[a-z]+)*$/);
        for (const code of email.EMAIL_REJECTION_REASON_CODES) expect(code).to.match(/^[a-z]+(-[a-z]+)*$/);
        expect(new Set(eventCodes).size).to.equal(eventCodes.length);
        const meanings = [
            ...Object.values(events.EVENT_REJECTION_REASONS),
            ...Object.values(events.EVENT_TRANSIENT_REASONS),
            ...Object.values(email.EMAIL_REJECTION_REASONS),
        ];
        for (const meaning of meanings) expect(meaning).to.match(/^[A-Za-z].*\.$/);
        expect(email.EMAIL_REJECTION_REASON_CODES).to.deep.equal([
            "invalid-recipient",
            "content-rejected",
            "sender-rejected",
            "request-rejected",
            "malformed-message",
            "content-missing",
            "retries-exhausted",
        ]);
    });

    it("put the reason and the detail in the same DLQ attributes in both systems", () => {
        expect(events.EVENT_DEAD_LETTER_ATTRIBUTES).to.deep.include(email.EMAIL_DEAD_LETTER_ATTRIBUTES);
        expect(email.EMAIL_DEAD_LETTER_ATTRIBUTES).to.deep.equal({ reason: "rejectionReason", detail: "rejectionDetail" });
    });

    it("reserve enough DLQ bytes for the event processor's reason and sender-claim attributes at their longest", () => {
        const longestCode = Math.max(...events.EVENT_REJECTION_REASON_CODES.map((code) => code.length));
        const attributeBytes =
            Object.values(events.EVENT_DEAD_LETTER_ATTRIBUTES).reduce((sum, name) => sum + name.length + "String".length, 0) +
            longestCode +
            events.EVENT_DEAD_LETTER_MAX_DETAIL_BYTES +
            events.EVENT_DEAD_LETTER_MAX_SOURCE_ID_BYTES +
            // A letter on a stack with producers also names its first sender (sender claim).
            Object.values(events.EVENT_SENDER_CLAIM_ATTRIBUTES).reduce((sum, name) => sum + name.length + "String".length, 0) +
            events.EVENT_SENDER_CLAIM_MAX_SENDER_BYTES +
            events.EVENT_SENDER_CLAIM_MAX_BYTES;
        expect(attributeBytes).to.be.at.most(events.EVENT_DEAD_LETTER_RESERVED_BYTES);
    });

    it("keep S3 keys and schedule names of an email id inside what IAM scopes and AWS allows", () => {
        expect(email.EMAIL_CONTENT_PREFIX).to.match(/^[a-z]+\/$/);
        expect(email.EMAIL_SCHEDULE_NAME_PREFIX).to.match(/^[a-z]+-$/);
        // A UUID and the longest deferral suffix fit EventBridge Scheduler's 64-character names.
        expect(`${email.EMAIL_SCHEDULE_NAME_PREFIX}${"0".repeat(36)}-r99`.length).to.be.at.most(64);
    });

    it("keep the API's default limits inside what SES, SQS and Lambda accept", () => {
        const { limits } = email.EMAIL_API_DEFAULTS;
        expect(limits.maxRecipients).to.be.at.most(50);
        expect(limits.maxRequestBytes * (4 / 3)).to.be.below(6 * 1024 * 1024);
        expect(email.EMAIL_API_DEFAULTS.largeBodyThresholdBytes).to.be.below(1024 * 1024);
        expect(Object.values(email.EMAIL_SERVICE_NAMES)).to.not.include(events.EVENT_PROCESSOR_SERVICE_NAME);
    });
});
