/**
 * The email service on the local pipeline: the shipped API and worker artifacts on
 * the emulators, a real HTTP client against the loopback API, mail checked through
 * the sink's inspection API, SES failover, a scheduled email released by the local
 * scheduler, and no PII in any function log.
 */
import { expect } from "chai";
import { startLocalPipeline, type LocalPipeline } from "../../../local/pipeline-app/pipeline";
import { emailLocalService, type RunningEmailService } from "../../../local/pipeline-app/services/email-service";
import { emailStatusNotifyService, type RunningStatusNotifications } from "../../../local/pipeline-app/services/email-status-notify";
import { linesContaining } from "../../support/email/logs";
import { emailBody, PII, PII_NEEDLES } from "../../support/email/pii";
import { until } from "../../support/until";
import { localSignedFetch } from "../../../local/aws-stand-ins/email/sigv4-identity";

type InboxEntry = { id: string; emailId?: string; subject?: string; envelope: { to: string[] } };

describe("email service on the local pipeline", function () {
    this.timeout(180_000);
    let pipeline: LocalPipeline;
    let email: RunningEmailService;
    const functionLogs: string[] = [];

    async function inbox(): Promise<InboxEntry[]> {
        return (await (await fetch(pipeline.ready.mailInboxUrl as string)).json()) as InboxEntry[];
    }
    async function waitForMail(emailId: string, timeoutMs = 30_000): Promise<InboxEntry> {
        return until(`email ${emailId} in the inbox`, async () => (await inbox()).find((m) => m.emailId === emailId), {
            timeoutMs,
            intervalMs: 250,
        });
    }
    /** The local API requires SigV4 as deployed: sign as the pipeline's own access key. */
    function signed(url: string, init: { method: string; headers?: Record<string, string>; body?: string } = { method: "GET" }) {
        return localSignedFetch(url, init, pipeline.ready.credentials, pipeline.ready.region);
    }
    async function send(body: Record<string, unknown>): Promise<string> {
        const response = await signed(pipeline.ready.emailApiUrl as string, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(body),
        });
        expect(response.status).to.equal(202);
        return ((await response.json()) as { id: string }).id;
    }

    before(async () => {
        pipeline = await startLocalPipeline({
            stack: "dev",
            // Only the email service: it needs nothing from the event processor.
            services: [emailLocalService(), emailStatusNotifyService()],
            functionLogs: (_name, text) => functionLogs.push(text),
        });
        email = pipeline.services.find((s) => s.name === "email") as RunningEmailService;
    });
    after(async () => {
        await pipeline?.stop();
    });

    it("adds emailApiUrl and mailInboxUrl to the READY fields, on loopback", () => {
        expect(pipeline.ready.emailApiUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+\/v1\/emails$/);
        expect(pipeline.ready.mailInboxUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+\/messages$/);
    });

    it("accepts a SigV4-signed request and delivers it through (local) SES into the inbox", async () => {
        const id = await send(emailBody());
        const mail = await waitForMail(id);
        expect(mail.subject).to.equal(PII.subject);
        expect(mail.envelope.to.sort()).to.deep.equal([PII.to, PII.cc, PII.bcc].sort());
        const detail = (await (await fetch(`${email.sink.inboxUrl}/messages/${mail.id}`)).json()) as { headers: Record<string, string> };
        expect(detail.headers["x-local-provider"]).to.equal("ses");
    });

    it("GET /v1/emails/{id} follows the email to sent, then delivered (SES's DELIVERY event); an unknown id is 404", async () => {
        const id = await send(emailBody());
        await waitForMail(id);
        const url = `${pipeline.ready.emailApiUrl as string}/${id}`;
        const status = await until(`email ${id} reads delivered`, async () => {
            const body = (await (await signed(url)).json()) as {
                status: string;
                history: { status: string; providerMessageId?: string }[];
            };
            return body.status === "delivered" ? body : undefined;
        });
        expect(status.history.map((entry) => entry.status)).to.deep.equal(["accepted", "queued", "sent", "delivered"]);
        expect(email.ses.requests.map((request) => request.messageId)).to.include(status.history[2].providerMessageId);
        const unknown = await signed(`${pipeline.ready.emailApiUrl as string}/00000000-0000-4000-8000-000000000000`);
        expect(unknown.status).to.equal(404);
        // The deployed routes only: cancelling a delivered email is a 409 naming its status; another method is not routed.
        const cancel = await signed(url, { method: "DELETE" });
        expect(cancel.status).to.equal(409);
        expect(((await cancel.json()) as { status: string }).status).to.equal("delivered");
        expect((await fetch(url, { method: "PUT" })).status).to.equal(404);
    });

    it("DELETE /v1/emails/{id} cancels a scheduled email: its schedule is deleted, it reads cancelled and is never sent", async () => {
        const id = await send(emailBody({ sendAt: new Date(Date.now() + 600_000).toISOString() }));
        const name = `email-${id}`;
        // Cancel once the worker created the schedule, so the cancel's DeleteSchedule has one to delete.
        const created = await until(`schedule ${name} created`, () =>
            email.scheduler.requests.find((r) => r.method === "POST" && r.path === `/schedules/${name}`),
        );
        const url = `${pipeline.ready.emailApiUrl as string}/${id}`;
        // Another principal (another access key, signed as locally required) cannot cancel it: the GET's 404.
        const credentials = pipeline.ready.credentials as { secretAccessKey: string };
        const stranger = await localSignedFetch(
            url,
            { method: "DELETE" },
            { ...credentials, accessKeyId: "someone-else" },
            pipeline.ready.region,
        );
        expect(stranger.status).to.equal(404);
        const response = await signed(url, { method: "DELETE" });
        expect(response.status).to.equal(200);
        const body = (await response.json()) as { status: string; history: { status: string }[] };
        expect(body.status).to.equal("cancelled");
        expect(body.history.map((entry) => entry.status)).to.deep.equal(["accepted", "scheduled", "cancelled"]);
        const group = String(created.body.GroupName);
        expect(email.scheduler.requests.filter((r) => r.method === "DELETE" && r.path === `/schedules/${name}`)).to.have.length(1);
        expect(await email.scheduler.fireNow(name, group), "no schedule is left to fire").to.equal(false);
        expect(((await (await signed(url)).json()) as { status: string }).status).to.equal("cancelled");
        expect(email.ses.requests.map((request) => request.EmailTags?.find((tag) => tag.Name === "emailId")?.Value)).to.not.include(id);
        expect((await inbox()).some((m) => m.emailId === id)).to.equal(false);
    });

    it("publishes each status change of an email to the local status bus, in order, with its owner and no PII", async () => {
        const notifications = pipeline.services.find((s) => s.name === "email-status-notify") as RunningStatusNotifications;
        expect(pipeline.ready.emailStatusBusName).to.equal("event-ingestion-dev-email-status");
        const id = await send(emailBody());
        // The local SES reports a DELIVERY for a recipient the inbox took, as SES does: delivered is the last change.
        const events = await until(`email ${id} delivered on the status bus`, async () => {
            const mine = notifications.bus.events.filter((event) => event.detail.emailId === id);
            return mine.some((event) => event.detail.status === "delivered") ? mine : undefined;
        });
        // In order, each change naming the one before it. `sent` is the worker's write and DELIVERY the status
        // function's; should the event win that race, the status never goes back to `sent` and the bus never shows it.
        const statuses = events.map((event) => event.detail.status);
        expect(statuses.filter((status) => status !== "sent")).to.deep.equal(["accepted", "queued", "delivered"]);
        expect(statuses).to.deep.equal(["accepted", "queued", "sent", "delivered"].filter((status) => statuses.includes(status)));
        expect(events.map((event) => event.detail.previousStatus)).to.deep.equal([undefined, ...statuses.slice(0, -1)]);
        expect(new Set(events.map((event) => event.detail.owner)).size).to.equal(1);
        for (const needle of PII_NEEDLES) expect(JSON.stringify(events)).to.not.include(needle);
    });

    it("answers 400 with every field error", async () => {
        const response = await signed(pipeline.ready.emailApiUrl as string, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: '{"to":[]}',
        });
        expect(response.status).to.equal(400);
        const fields = ((await response.json()) as { errors: { field: string }[] }).errors.map((e) => e.field);
        expect(fields).to.include.members(["from", "to", "subject", "text"]);
    });

    it("fails over to SMTP (Secrets Manager settings) when SES is down", async () => {
        await email.ses.setMode("down");
        try {
            const id = await send(emailBody());
            const mail = await waitForMail(id);
            const detail = (await (await fetch(`${email.sink.inboxUrl}/messages/${mail.id}`)).json()) as {
                headers: Record<string, string>;
            };
            expect(detail.headers["x-local-provider"]).to.equal(undefined);
        } finally {
            await email.ses.setMode("up");
        }
    });

    it("holds a future sendAt in the scheduler and delivers it at its time", async () => {
        const sendAt = new Date(Date.now() + 4_000);
        const id = await send(emailBody({ sendAt: sendAt.toISOString() }));
        await new Promise((r) => setTimeout(r, 1_500));
        expect((await inbox()).some((m) => m.emailId === id)).to.equal(false);
        const mail = await waitForMail(id, 30_000);
        expect(mail.emailId).to.equal(id);
        expect(Date.now()).to.be.at.least(sendAt.getTime());
    });

    it("npm start's email demo accounts for every email: SES, SMTP failover, idempotent retry, 400, DLQ, scheduled", async () => {
        email.sink.clear();
        const report = await email.demo!({ deadline: Date.now() + 60_000, progress: () => undefined });
        expect(report.unaccounted).to.deep.equal([]);
        expect(report.accounted).to.equal(true);
        expect(Object.fromEntries(report.rows)).to.deep.include({
            "delivered through SES": "5/5",
            "delivered through SMTP failover (SES down)": "1/1",
            "refused recipient → DLQ (invalid-recipient)": "1",
            "scheduled email delivered at/after sendAt": "yes",
        });
    });

    it("writes no PII into any function log", () => {
        const lines = functionLogs
            .join("")
            .split("\n")
            .filter((l) => l.trim());
        expect(lines.some((l) => l.includes('"email sent"'))).to.equal(true);
        expect(linesContaining(lines, PII_NEEDLES)).to.deep.equal([]);
    });
});
