/**
 * The local console in headless Chromium or Chrome (found by tests/support/chromium.ts, driven by playwright-core):
 * it shows the pipeline's state, redrives a DLQ group from the page, renders email HTML
 * sandboxed, and refuses foreign Host headers (DNS rebinding) and cross-origin posts (CSRF).
 *
 * CONSOLE_SCREENSHOT=docs/local-console.png writes the README's screenshot.
 */
import { expect } from "chai";
import { localSignedFetch } from "../../../../local/aws-stand-ins/email/sigv4-identity";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import * as http from "node:http";
import * as net from "node:net";
import { chromium, Browser } from "playwright-core";
import { LocalPipeline, startLocalPipeline } from "../../../../local/pipeline-app/pipeline";
import { escapeHtml, LocalConsole, startConsole } from "../../../../local/pipeline-app/console/server";
import type { RunningEmailService } from "../../../../local/pipeline-app/services/email-service";
import { findChromium } from "../../../support/chromium";
import { until } from "../../../support/until";

function request(
    url: string,
    options: { method?: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
    return new Promise((resolve, reject) => {
        const req = http.request(url, { method: options.method ?? "GET", headers: options.headers }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c) => chunks.push(c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers }));
        });
        req.on("error", reject);
        req.end(options.body);
    });
}

/** Each probe reloads a page: poll less often than in-process checks. */
const POLL = { intervalMs: 300 };

describe("local console (headless Chromium)", function () {
    this.timeout(240_000);
    let pipeline: LocalPipeline;
    let localConsole: LocalConsole;
    let browser: Browser;
    const emailHtml = `<p id="greeting">Hello <b>Ada</b></p><script>document.title = "pwned"; parent.document.title = "pwned"</script>`;

    before(async function () {
        const executablePath = findChromium(); // throws, saying how to install one, before anything starts
        pipeline = await startLocalPipeline({ stack: "localstack", functionLogs: () => undefined });
        localConsole = await startConsole(pipeline);
        // Root in a container has no user namespace for Chromium's sandbox.
        browser = await chromium.launch({ executablePath, args: process.getuid?.() === 0 ? ["--no-sandbox"] : [] });

        const sqs = pipeline.context.clients.sqs;
        const event = (n: number, extra: Record<string, unknown> = {}) => ({
            clientId: n % 2 ? "tenant-odd" : "tenant-even",
            eventId: `evt-${n}`,
            type: "user.signed_up",
            occurredAt: "2026-01-31T12:00:00Z",
            data: { userId: `u${n}`, plan: "free", signupChannel: "web", marketingOptIn: false },
            ...extra,
        });
        const bodies = [
            event(1),
            event(2),
            event(3),
            event(4, { data: { userId: "<img src=x onerror=alert(1)>" } }),
            event(5, { type: "<script>x</script>.happened" }),
        ];
        for (const body of bodies)
            await sqs.send(
                new SendMessageCommand({
                    QueueUrl: pipeline.ready.eventQueueUrl,
                    MessageBody: JSON.stringify(body),
                    MessageGroupId: body.clientId,
                }),
            );
        const answer = await localSignedFetch(
            String(pipeline.ready.emailApiUrl),
            {
                method: "POST",
                headers: { "content-type": "application/json" },
                body: JSON.stringify({
                    from: "shop@example.com",
                    to: ["ada@example.org"],
                    subject: "Welcome <Ada>",
                    html: emailHtml,
                    text: "Hello Ada",
                }),
            },
            pipeline.ready.credentials,
            pipeline.ready.region,
        );
        expect(answer.status).to.equal(202);
        const email = pipeline.services.find((s) => s.name === "email") as RunningEmailService;
        await email.sink.waitFor(1, 30_000);
        await until(
            "3 stored events and 2 DLQ messages",
            async () => {
                const page = await request(localConsole.url, { headers: { host: new URL(localConsole.url).host } });
                return /evt-3/.test(page.body) && /invalid_data/.test(page.body) && /unknown_type|invalid_field/.test(page.body);
            },
            POLL,
        );
    });
    after(async () => {
        await browser?.close();
        await localConsole?.stop();
        await pipeline?.stop();
    });

    it("shows queues, the DLQ by reason, stored events per tenant, stream deliveries and the rendered inbox", async () => {
        const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
        const dialogs: string[] = [];
        page.on("dialog", (d) => {
            dialogs.push(d.message());
            void d.dismiss();
        });
        await page.goto(localConsole.url);
        expect(await page.title()).to.equal("Local console · localstack");
        const queues = await page.textContent("#queues");
        expect(queues)
            .to.match(/events queue/)
            .and.match(/events DLQ/)
            .and.match(/email queue/)
            .and.match(/email DLQ/)
            .and.match(/email schedule DLQ/)
            .and.match(/email-status DLQ/)
            .and.match(/email-status-notify DLQ/);
        // Every queue of the stack has its role.
        const roles = await page.locator("#queues tr td:nth-child(2)").allTextContents();
        expect(roles).to.have.length(pipeline.context.topology.queues.length).and.to.have.length(7);
        expect(roles.filter((role) => role.trim() === "")).to.deep.equal([]);
        const dlq = (await page.textContent("#dlq"))!;
        expect(dlq).to.match(/invalid_data/);
        expect(dlq).to.match(/Redrive 1/);
        const events = (await page.textContent("#events"))!;
        expect(events)
            .to.match(/tenant-odd\s*2 stored/)
            .and.match(/tenant-even\s*1 stored/);
        await until(
            "stream deliveries",
            async () => {
                await page.reload();
                return /INSERT\s*tenant-odd\s*evt-1/.test((await page.textContent("#deliveries"))!);
            },
            POLL,
        );

        // The email: subject escaped as text, HTML rendered in a sandboxed iframe whose script never runs.
        await page.locator("#inbox details summary").first().click();
        expect(await page.textContent("#inbox summary")).to.include("Welcome <Ada>");
        const frame = page.locator("#inbox iframe");
        expect(await frame.getAttribute("sandbox")).to.equal("");
        const inner = page.frameLocator("#inbox iframe");
        expect(await inner.locator("#greeting").textContent()).to.equal("Hello Ada");
        expect(await page.title()).to.not.equal("pwned");
        expect(dialogs).to.deep.equal([]);
        // Its status timeline, from the status table: accepted → queued → sent → delivered (SES's DELIVERY event).
        const emailId = (await page.locator("#inbox details code").first().textContent())!;
        await until(
            "the email's timeline to reach delivered",
            async () => {
                await page.reload();
                return /delivered/.test(
                    (await page.locator(`#email-statuses details:has(code:text-is("${emailId}"))`).textContent()) ?? "",
                );
            },
            POLL,
        );
        const timeline = await page.locator(`#email-statuses details:has(code:text-is("${emailId}")) ol li strong`).allTextContents();
        expect(timeline).to.deep.equal(["accepted", "queued", "sent", "delivered"]);
        if (process.env.CONSOLE_SCREENSHOT) {
            await inner.locator("#greeting").waitFor({ state: "visible" });
            await page.waitForTimeout(500);
            await page.screenshot({ path: process.env.CONSOLE_SCREENSHOT, fullPage: true });
        }
        await page.close();
    });

    it("redrives a DLQ group from the page: the notice says what moved, and an unfixed rejection comes back", async () => {
        const page = await browser.newPage();
        await page.goto(localConsole.url);
        await page.getByRole("button", { name: "redrive events invalid_data" }).click();
        await page.waitForURL(/notice=/);
        expect(await page.textContent("[role=status]"))
            .to.match(/Redrove 1 of 1 events message\(s\) \(invalid_data\)/)
            .and.match(/at most once/);
        // Nothing was fixed: the processor rejects it again, with the same reason.
        await until(
            "the rejection to come back",
            async () => {
                await page.goto(localConsole.url);
                return /invalid_data/.test((await page.textContent("#dlq"))!);
            },
            POLL,
        );
        await page.close();
    });

    it("escapes what producers control", async () => {
        const page = await request(localConsole.url, { headers: { host: new URL(localConsole.url).host } });
        expect(page.status).to.equal(200);
        expect(page.body).to.not.include("<script>x</script>");
        expect(page.body).to.not.include("<img src=x");
        expect(page.headers["content-security-policy"]).to.match(/default-src 'none'/);
        expect(escapeHtml(`<a href="x" onclick='y'>&`)).to.equal("&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;");
    });

    it("refuses a Host that is not its own loopback host:port (DNS rebinding), saying which address to use", async () => {
        const port = new URL(localConsole.url).port;
        for (const host of [`attacker.example:${port}`, "127.0.0.1", "localhost", `127.0.0.1:${Number(port) + 1}`]) {
            const answer = await request(localConsole.url, { headers: { host } });
            expect(answer.status, host).to.equal(421);
            expect(answer.body).to.not.match(/invalid_data|tenant-odd/);
            expect(answer.body, host).to.include(`http://127.0.0.1:${port}/`);
        }
    });

    it("answers at http://localhost:PORT/ too, and a redrive posted from that origin is its own", async () => {
        const port = new URL(localConsole.url).port;
        const page = await browser.newPage();
        const response = await page.goto(`http://localhost:${port}/`);
        expect(response!.status()).to.equal(200);
        expect(await page.title()).to.equal("Local console · localstack");
        await page.close();
        const form = { "content-type": "application/x-www-form-urlencoded", host: `localhost:${port}` };
        const fromLocalhost = await request(`${localConsole.url}redrive`, {
            method: "POST",
            headers: { ...form, origin: `http://localhost:${port}` },
            body: "system=events&reason=no_such_reason",
        });
        expect(fromLocalhost.status).to.equal(303);
        const crossed = await request(`${localConsole.url}redrive`, {
            method: "POST",
            headers: { ...form, origin: `http://127.0.0.1:${port}` },
            body: "system=events&reason=no_such_reason",
        });
        expect(crossed.status, "127.0.0.1 and localhost are different origins").to.equal(403);
    });

    it("refuses two Host headers, an absolute-form target naming another host, a malformed target and an oversized form", async () => {
        const { host, port } = new URL(localConsole.url);
        const raw = (text: string) =>
            new Promise<string>((resolve, reject) => {
                const socket = net.connect(Number(port), "127.0.0.1", () => socket.write(text)); // Connection: close ends it
                let answer = "";
                socket.on("data", (chunk) => (answer += chunk.toString()));
                socket.on("end", () => resolve(answer));
                socket.on("error", reject);
            });
        const status = (answer: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
        const twoHosts = await raw(`GET / HTTP/1.1\r\nHost: ${host}\r\nHost: attacker.example\r\nConnection: close\r\n\r\n`);
        expect(status(twoHosts), twoHosts).to.equal(400);
        const absolute = await raw(`GET http://attacker.example/ HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
        expect(status(absolute), absolute).to.equal(421);
        expect(absolute).to.not.match(/tenant-odd/);
        const ownAbsolute = await raw(`GET http://${host}/ HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
        expect(status(ownAbsolute), "RFC 9112 §3.2.2: a server accepts absolute-form naming itself").to.equal(200);
        for (const target of ["//attacker.example/", "http://[/", "*"]) {
            const malformed = await raw(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
            expect(status(malformed), target).to.be.oneOf([400, 421]);
            expect(malformed, target).to.not.match(/tenant-odd/);
        }
        const origin = `http://${host}`;
        const big = await request(`${localConsole.url}redrive`, {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded", host, origin },
            body: `system=events&reason=${"x".repeat(10_000)}`,
        });
        expect(big.status).to.equal(413);
    });

    it("refuses a redrive POST that is not from its own origin (CSRF)", async () => {
        const host = new URL(localConsole.url).host;
        const form = { "content-type": "application/x-www-form-urlencoded", host };
        const body = "system=events&reason=invalid_data";
        const cross = await request(`${localConsole.url}redrive`, {
            method: "POST",
            headers: { ...form, origin: "http://attacker.example" },
            body,
        });
        expect(cross.status).to.equal(403);
        const none = await request(`${localConsole.url}redrive`, { method: "POST", headers: form, body });
        expect(none.status).to.equal(403);
        const foreignReferer = await request(`${localConsole.url}redrive`, {
            method: "POST",
            headers: { ...form, referer: "http://attacker.example/x" },
            body,
        });
        expect(foreignReferer.status).to.equal(403);
        // And a real cross-site form in Chromium: served from another origin, it posts to the console and is refused.
        const attacker = http.createServer((_req, res) => {
            res.writeHead(200, { "content-type": "text/html" });
            res.end(
                `<form method="post" action="${localConsole.url}redrive"><input name="system" value="events"><input name="reason" value="invalid_data"><button>go</button></form>`,
            );
        });
        await new Promise<void>((r) => attacker.listen(0, "127.0.0.1", r));
        try {
            const page = await browser.newPage();
            await page.goto(`http://localhost:${(attacker.address() as { port: number }).port}/`);
            const [response] = await Promise.all([page.waitForResponse((r) => r.url().endsWith("/redrive")), page.click("button")]);
            expect(response.status()).to.equal(403);
            await page.close();
        } finally {
            await new Promise<void>((r) => attacker.close(() => r()));
        }
    });
});
