/**
 * Pure parts of the email handlers: request validation (with bounded property
 * tests), error classification, the scheduler's expressions, the environment and
 * SMTP secret parsers.
 */
import { expect } from "chai";
import * as fc from "fast-check";
import { validateEmailRequest, parseSendAt } from "../../../handlers/email/request";
import { classifySesError } from "../../../handlers/email/providers/ses";
import { classifySmtpError, parseSmtpSettings } from "../../../handlers/email/providers/smtp";
import { isPermanent, isProviderUnavailable } from "../../../handlers/email/errors";
import { atExpression, eventBridgeScheduler, scheduleName } from "../../../handlers/email/scheduler";
import { emailApiFromEnvironment, emailWorkerFromEnvironment } from "../../../handlers/email/environment";
import { EMAIL_API_DEFAULTS, EMAIL_ENV } from "../../../contracts/email-service";
import { parseQueuedEmail } from "../../../handlers/email/message";
import { parseAtExpression, startFakeScheduler } from "../../../local/aws-stand-ins/email/fake-aws";
import { SchedulerClient } from "@aws-sdk/client-scheduler";
import { LOCAL_CREDENTIALS } from "../../../local/offline/emulators";
import { emailBody } from "../../support/email/pii";

const NOW = new Date("2030-01-01T00:00:00Z");

describe("email units", () => {
    describe("request validation", () => {
        it("accepts a minimal request and fills cc/bcc", () => {
            const result = validateEmailRequest(
                { from: "a@example.com", to: ["b@example.com"], subject: "s", text: "t" },
                EMAIL_API_DEFAULTS.limits,
                NOW,
            );
            expect(result.success).to.equal(true);
            if (result.success) expect(result.request).to.deep.include({ cc: [], bcc: [] });
        });

        it("never throws and always answers with field errors for arbitrary JSON (bounded property test)", () => {
            fc.assert(
                fc.property(fc.jsonValue(), (value) => {
                    const result = validateEmailRequest(value, EMAIL_API_DEFAULTS.limits, NOW);
                    if (!result.success) {
                        expect(result.errors.length).to.be.greaterThan(0);
                        for (const e of result.errors) expect(e.field).to.be.a("string").and.not.equal("");
                    }
                }),
                { numRuns: 300, seed: 42 },
            );
        });

        it("reports an error for each bad recipient, by index (bounded property test)", () => {
            fc.assert(
                fc.property(fc.array(fc.boolean(), { minLength: 1, maxLength: 20 }), (validity) => {
                    const to = validity.map((ok, i) => (ok ? `r${i}@example.com` : `not-an-address-${i}`));
                    const result = validateEmailRequest(emailBody({ to, cc: [], bcc: [] }), EMAIL_API_DEFAULTS.limits, NOW);
                    const bad = validity.flatMap((ok, i) => (ok ? [] : [`to[${i}]`]));
                    if (bad.length === 0) expect(result.success).to.equal(true);
                    else expect(result.success ? [] : result.errors.map((e) => e.field)).to.deep.equal(bad);
                }),
                { numRuns: 100, seed: 7 },
            );
        });

        it("parses sendAt as seconds or ISO-8601 with a zone, and rejects the rest with a reason", () => {
            expect((parseSendAt(1_900_000_000) as Date).toISOString()).to.equal("2030-03-17T17:46:40.000Z");
            expect((parseSendAt("2030-01-02T10:00:00+02:00") as Date).toISOString()).to.equal("2030-01-02T08:00:00.000Z");
            expect(parseSendAt(1_900_000_000_000)).to.match(/milliseconds/);
            expect(parseSendAt(1.5)).to.be.a("string");
            expect(parseSendAt("tomorrow")).to.be.a("string");
            expect(parseSendAt("2030-01-02")).to.be.a("string");
            expect(parseSendAt(true)).to.be.a("string");
        });

        it("rejects over-long addresses and subjects", () => {
            const result = validateEmailRequest(
                emailBody({ from: `${"a".repeat(250)}@example.com`, subject: "x".repeat(999) }),
                EMAIL_API_DEFAULTS.limits,
                NOW,
            );
            expect(result.success ? [] : result.errors.map((e) => e.field)).to.include.members(["from", "subject"]);
        });
    });

    describe("error classification", () => {
        const ses = (name: string, message = "") => classifySesError(Object.assign(new Error(message), { name }));
        it("SES: MessageRejected, refused senders and address BadRequests are permanent; pauses fail over; throttling is transient", () => {
            expect(ses("MessageRejected")).to.deep.include({ permanent: true, reason: "content-rejected" });
            // A refused sender is never failed over: SMTP would send as an identity SES does not let us use.
            const unverified = ses("MessageRejected", "Email address is not verified. The following identities failed the check");
            expect(unverified).to.deep.include({
                permanent: true,
                unavailable: false,
                reason: "sender-rejected",
                code: "ses:MessageRejected:unverified-identity",
            });
            expect(ses("MailFromDomainNotVerifiedException")).to.deep.include({
                permanent: true,
                reason: "sender-rejected",
            });
            expect(ses("BadRequestException", "Illegal address")).to.deep.include({
                permanent: true,
                reason: "invalid-recipient",
            });
            expect(ses("BadRequestException", "Missing final '@domain'")).to.deep.include({ permanent: true });
            for (const name of ["SendingPausedException", "AccountSuspendedException"]) {
                expect(isProviderUnavailable(ses(name)), name).to.equal(true);
            }
            for (const name of ["TooManyRequestsException", "LimitExceededException", "InternalFailure", "TimeoutError"])
                expect(isPermanent(ses(name)), name).to.equal(false);
        });

        it("SMTP: 5xx at RCPT → invalid recipient, 552/554 → content, 4xx → transient, no reply or auth → unavailable", () => {
            const smtp = (fields: Record<string, unknown>) =>
                classifySmtpError(Object.assign(new Error("550 <ann@example.com> unknown"), fields));
            expect(smtp({ code: "EENVELOPE", responseCode: 550, command: "RCPT TO" })).to.deep.include({
                permanent: true,
                reason: "invalid-recipient",
                code: "smtp:550",
            });
            expect(smtp({ code: "EMESSAGE", responseCode: 554, command: "DATA" })).to.deep.include({
                permanent: true,
                reason: "content-rejected",
            });
            expect(smtp({ code: "EMESSAGE", responseCode: 550, command: "DATA" })).to.deep.include({
                permanent: true,
                reason: "content-rejected",
            });
            expect(smtp({ code: "EENVELOPE", responseCode: 451 })).to.deep.include({ permanent: false, unavailable: false });
            expect(isProviderUnavailable(smtp({ code: "ECONNECTION" }))).to.equal(true);
            expect(isProviderUnavailable(smtp({ code: "EAUTH", responseCode: 535 }))).to.equal(true);
            // The message (which quotes the address) is never carried over.
            expect(smtp({ code: "EENVELOPE", responseCode: 550 }).message).to.not.include("ann@example.com");
        });
    });

    describe("scheduler", () => {
        it("writes at() in UTC, rounded up to the second, and names schedules per email", () => {
            expect(atExpression(new Date("2030-01-01T10:00:00.001Z"))).to.equal("at(2030-01-01T10:00:01)");
            expect(parseAtExpression(atExpression(new Date("2030-05-06T07:08:09Z")))!.toISOString()).to.equal("2030-05-06T07:08:09.000Z");
            expect(scheduleName("0f8fad5b-d9cb-469f-a165-70867728950e")).to.equal("email-0f8fad5b-d9cb-469f-a165-70867728950e");
            // A deferred retry gets its own deterministic name (a redelivery cannot park it twice), within the 64-character limit.
            expect(scheduleName("0f8fad5b-d9cb-469f-a165-70867728950e", 2)).to.equal("email-0f8fad5b-d9cb-469f-a165-70867728950e-r2");
            expect(scheduleName("x".repeat(80), 5))
                .to.have.length(64)
                .and.match(/-r5$/);
        });

        it("never schedules closer than the lead, and treats an existing schedule as done (real SDK client, fake endpoint)", async () => {
            const fake = await startFakeScheduler();
            try {
                const client = new SchedulerClient({
                    endpoint: fake.endpoint,
                    region: "us-east-1",
                    credentials: LOCAL_CREDENTIALS,
                    maxAttempts: 1,
                });
                const scheduler = eventBridgeScheduler({
                    client,
                    groupName: "g",
                    queueArn: "arn:aws:sqs:us-east-1:1:q.fifo",
                    roleArn: "arn:aws:iam::1:role/r",
                    deadLetterQueueArn: "arn:aws:sqs:us-east-1:1:schedule-dlq",
                    now: () => NOW,
                });
                const message = {
                    version: 1 as const,
                    id: "id-1",
                    lane: "t0-1",
                    acceptedAt: NOW.toISOString(),
                    contentRef: { bucket: "b", key: "emails/id-1.json", bytes: 1 },
                    released: true,
                };
                await scheduler.schedule(message, new Date(NOW.getTime() + 5_000));
                await scheduler.schedule(message, new Date(NOW.getTime() + 5_000)); // ConflictException → fine
                expect(fake.requests).to.have.length(2);
                expect(fake.requests[0].body.ScheduleExpression).to.equal("at(2030-01-01T00:01:00)");
                // Never silently lost: a release that fails is retried, then dead-lettered to a standard queue.
                expect(fake.requests[0].body.Target).to.deep.include({
                    DeadLetterConfig: { Arn: "arn:aws:sqs:us-east-1:1:schedule-dlq" },
                    RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
                });
            } finally {
                await fake.stop();
            }
        });
    });

    describe("environment and secrets", () => {
        it("the API factory names every missing or invalid variable at once", () => {
            expect(() => emailApiFromEnvironment({ [EMAIL_ENV.maxRecipients]: "many" })).to.throw(
                /EMAIL_QUEUE_URL is required[\s\S]*EMAIL_IDEMPOTENCY_TABLE_NAME is required[\s\S]*EMAIL_CONTENT_BUCKET is required[\s\S]*EMAIL_MAX_RECIPIENTS must be a positive integer/,
            );
        });

        it("the API factory refuses a malformed sender policy by variable name, never by value", () => {
            const base = {
                [EMAIL_ENV.queueUrl]: "q",
                [EMAIL_ENV.idempotencyTable]: "t",
                [EMAIL_ENV.contentBucket]: "b",
                [EMAIL_ENV.statusTable]: "s",
            };
            expect(() =>
                emailApiFromEnvironment({
                    ...base,
                    [EMAIL_ENV.sendingIdentities]: "example.com",
                    [EMAIL_ENV.allowedSenders]: '{"arn:aws:iam::1:role/a":"secret@example.com"}',
                }),
            ).to.throw(/EMAIL_SENDING_IDENTITIES must be JSON[\s\S]*EMAIL_ALLOWED_SENDERS has the wrong shape/);
            try {
                emailApiFromEnvironment({ ...base, [EMAIL_ENV.allowedSenders]: '{"arn:aws:iam::1:role/a":"secret@example.com"}' });
            } catch (error) {
                expect((error as Error).message).to.not.include("secret@example.com");
            }
        });

        it("the worker factory names every missing variable at once", () => {
            let message = "";
            try {
                emailWorkerFromEnvironment({});
            } catch (error) {
                message = (error as Error).message;
            }
            for (const name of [
                EMAIL_ENV.deadLetterQueueUrl,
                EMAIL_ENV.idempotencyTable,
                EMAIL_ENV.contentBucket,
                EMAIL_ENV.queueArn,
                EMAIL_ENV.scheduleGroup,
                EMAIL_ENV.schedulerRoleArn,
                EMAIL_ENV.scheduleDeadLetterQueueArn,
            ]) {
                expect(message).to.include(name);
            }
        });

        it("parses the SMTP secret with defaults and reports bad fields by name, never by value", () => {
            expect(parseSmtpSettings('{"host":"smtp.example.com"}')).to.deep.equal({
                host: "smtp.example.com",
                port: 587,
                secure: false,
                requireTLS: true,
            });
            const problems = parseSmtpSettings('{"host":"","port":"x","password":"hunter2"}') as string[];
            expect(problems.join(" ")).to.include("host").and.include("port").and.not.include("hunter2");
            expect(parseSmtpSettings("not json")).to.deep.equal(["secret is not valid JSON"]);
        });

        it("rejects queue messages that are not v1 email messages", () => {
            expect(parseQueuedEmail("{")).to.equal(undefined);
            expect(parseQueuedEmail(JSON.stringify({ version: 1, id: "x", lane: "l", acceptedAt: NOW.toISOString() }))).to.equal(undefined);
            const both = {
                version: 1,
                id: "x",
                lane: "l",
                acceptedAt: NOW.toISOString(),
                content: { from: "a", to: ["b"], cc: [], bcc: [], subject: "s" },
                contentRef: { bucket: "b", key: "k", bytes: 1 },
            };
            expect(parseQueuedEmail(JSON.stringify(both))).to.equal(undefined);
        });
    });
});
