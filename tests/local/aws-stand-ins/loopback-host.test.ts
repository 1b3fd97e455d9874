/**
 * DNS rebinding: every local HTTP listener answers only requests whose `Host` is the
 * loopback address and port it bound. A browser tricked into resolving an attacker's
 * name to 127.0.0.1 sends that name in `Host` and gets 403, so a web page cannot read
 * the local inbox or post to the local API.
 */
import { expect } from "chai";
import * as http from "node:http";
import { serveHttpApi } from "../../../local/aws-stand-ins/email/http-api";
import { startMailSink } from "../../../local/aws-stand-ins/email/mail-sink";
import { startFakeSes } from "../../../local/aws-stand-ins/email/fake-ses";
import { startFakeScheduler } from "../../../local/aws-stand-ins/email/fake-aws";
import { startFauxqs } from "../../../local/offline/emulators";
import { isLoopbackHost } from "../../../local/aws-stand-ins/loopback-host";

function request(url: string, host: string | undefined, method = "GET"): Promise<number> {
    const target = new URL(url);
    return new Promise((resolve, reject) => {
        const headers: Record<string, string> = {};
        if (host !== undefined) headers.host = host;
        const req = http.request(
            {
                host: "127.0.0.1",
                port: target.port,
                path: target.pathname,
                method,
                headers,
                setHost: host === undefined ? false : undefined,
            },
            (res) => {
                res.resume();
                res.on("end", () => resolve(res.statusCode ?? 0));
            },
        );
        req.on("error", reject);
        req.end();
    });
}

describe("local listeners refuse foreign Host headers (DNS rebinding)", function () {
    this.timeout(120_000);

    it("the rule: only 127.0.0.1:<port> and localhost:<port>", () => {
        expect(isLoopbackHost("127.0.0.1:8080", 8080)).to.equal(true);
        expect(isLoopbackHost("LOCALHOST:8080", 8080)).to.equal(true);
        for (const host of ["evil.example:8080", "127.0.0.1:8081", "127.0.0.1", "localhost.evil.example:8080", "", undefined]) {
            expect(isLoopbackHost(host, 8080), String(host)).to.equal(false);
        }
    });

    it("the email API, the mail sink's inbox, the SES and Scheduler stand-ins and the SQS/S3 emulator", async () => {
        const api = await serveHttpApi(async () => ({ statusCode: 202, body: "{}" }));
        const sink = await startMailSink();
        const ses = await startFakeSes();
        const scheduler = await startFakeScheduler();
        const fauxqs = await startFauxqs();
        try {
            const listeners: Array<[string, string, string]> = [
                ["email API", `${api.url}/v1/emails`, "POST"],
                ["mail sink inbox", `${sink.inboxUrl}/messages`, "GET"],
                ["SES stand-in", `${ses.endpoint}/v2/email/outbound-emails`, "GET"],
                ["Scheduler stand-in", `${scheduler.endpoint}/schedules`, "GET"],
                ["fauxqs", `${fauxqs.endpoint}/`, "GET"],
            ];
            for (const [name, url, method] of listeners) {
                const port = new URL(url).port;
                expect(await request(url, `rebind.attacker.example:${port}`, method), name).to.equal(403);
                expect(await request(url, `127.0.0.1:${Number(port) + 1}`, method), `${name}, wrong port`).to.equal(403);
                expect(await request(url, `127.0.0.1:${port}`, method), `${name}, loopback`).to.not.equal(403);
                expect(await request(url, `localhost:${port}`, method), `${name}, localhost`).to.not.equal(403);
            }
        } finally {
            await Promise.all([api.stop(), sink.stop(), ses.stop(), scheduler.stop(), fauxqs.stop()]);
        }
    });
});
