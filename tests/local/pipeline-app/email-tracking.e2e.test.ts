/**
 * Following an email on the local pipeline, as on AWS: the local SES answers the mailbox
 * simulator's addresses (SES Developer Guide, "Using the mailbox simulator") and publishes
 * SES's event records to the default bus, whose rule runs the shipped status function; the
 * local API authorizes by SigV4 as API Gateway's IAM authorization does, so each access key
 * is its own principal. One pipeline start for the file; every wait is on a condition.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { startLocalPipeline, type LocalPipeline } from "../../../local/pipeline-app/pipeline";
import { emailLocalService } from "../../../local/pipeline-app/services/email-service";
import { localSignedFetch } from "../../../local/aws-stand-ins/email/sigv4-identity";
import { runSend } from "../../../tools/send";
import { LOCAL_PIPELINE_FILE_VARIABLE } from "../../../tools/target";
import { linesContaining } from "../../support/email/logs";
import { PII, PII_NEEDLES } from "../../support/email/pii";
import { until } from "../../support/until";

type StatusBody = { id: string; status: string; history: Array<Record<string, string> & { status: string }> };

const SIMULATOR = (scenario: string, label: string) => `${scenario}+${label}@simulator.amazonses.com`;
const SETTLE = { timeoutMs: 30_000, intervalMs: 200 };

describe("email tracking on the local pipeline (mailbox simulator, SES events, SigV4 principals)", function () {
    this.timeout(180_000);
    let pipeline: LocalPipeline;
    let dir: string;
    let env: NodeJS.ProcessEnv;
    const functionLogs: string[] = [];

    const as = (accessKeyId: string) => ({ accessKeyId, secretAccessKey: pipeline.ready.credentials.secretAccessKey });
    const api = () => String(pipeline.ready.emailApiUrl);

    async function send(to: string, principal = "shop", extra: Record<string, unknown> = {}): Promise<string> {
        const body = JSON.stringify({ from: PII.from, to: [to], subject: PII.subject, text: PII.text, ...extra });
        const response = await localSignedFetch(
            api(),
            { method: "POST", headers: { "content-type": "application/json" }, body },
            as(principal),
            pipeline.ready.region,
        );
        expect(response.status, await response.clone().text()).to.equal(202);
        return ((await response.json()) as { id: string }).id;
    }
    async function read(id: string, principal = "shop"): Promise<{ code: number; body: StatusBody }> {
        const response = await localSignedFetch(`${api()}/${id}`, { method: "GET" }, as(principal), pipeline.ready.region);
        return { code: response.status, body: (await response.json()) as StatusBody };
    }
    async function reaches(id: string, status: string, principal = "shop"): Promise<StatusBody> {
        return until(
            `email ${id} reads ${status}`,
            async () => {
                const { code, body } = await read(id, principal);
                return code === 200 && body.status === status ? body : undefined;
            },
            SETTLE,
        );
    }

    before(async () => {
        pipeline = await startLocalPipeline({
            stack: "dev",
            services: [emailLocalService()],
            functionLogs: (_name, text) => functionLogs.push(text),
        });
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "email-tracking-"));
        const file = path.join(dir, "pipeline.json");
        fs.writeFileSync(file, JSON.stringify({ ...pipeline.ready, pid: process.pid }));
        env = { ...process.env, [LOCAL_PIPELINE_FILE_VARIABLE]: file };
        delete env.AWS_ACCESS_KEY_ID;
    });
    after(async () => {
        await pipeline?.stop();
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("an email to success@simulator.amazonses.com reaches delivered, after sent (SES's message id)", async () => {
        const id = await send(SIMULATOR("success", "a"));
        const status = await reaches(id, "delivered");
        const statuses = status.history.map((entry) => entry.status);
        expect(statuses).to.include.members(["accepted", "queued", "sent", "delivered"]);
        const sent = status.history.find((entry) => entry.status === "sent")!;
        const delivered = status.history.find((entry) => entry.status === "delivered")!;
        expect(delivered.providerMessageId)
            .to.equal(sent.providerMessageId)
            .and.match(/^fake-ses-/);
    });

    it("bounce@ reads bounced (a permanent bounce), and the inbox never sees it", async () => {
        const id = await send(SIMULATOR("bounce", "b"));
        const status = await reaches(id, "bounced");
        expect(status.history.find((entry) => entry.status === "bounced")).to.include({
            bounceType: "Permanent",
            bounceSubType: "General",
        });
        const inbox = (await (await fetch(String(pipeline.ready.mailInboxUrl))).json()) as Array<{ emailId?: string }>;
        expect(inbox.some((mail) => mail.emailId === id)).to.equal(false);
    });

    it("a recipient the local mail server refuses ends bounced, not sent-and-gone", async () => {
        // The sink refuses local parts starting with `reject` (550 5.1.1).
        const id = await send("reject-nobody@example.org");
        const status = await reaches(id, "bounced");
        expect(status.history.find((entry) => entry.status === "bounced")).to.include({ bounceType: "Permanent" });
    });

    it("complaint@ reads complained, and the next email to that address ends suppressed", async () => {
        const address = SIMULATOR("complaint", "c");
        const first = await send(address);
        await reaches(first, "complained");
        const second = await send(address);
        const status = await reaches(second, "suppressed");
        expect(status.history.map((entry) => entry.status)).to.not.include("sent");
    });

    it("another principal's GET is the same 404 as an unknown id; an unsigned or badly signed request is API Gateway's 403", async () => {
        const id = await send(SIMULATOR("success", "d"), "owner-key");
        expect((await read(id, "owner-key")).code).to.equal(200);
        const other = await read(id, "someone-else");
        const unknown = await read("00000000-0000-4000-8000-000000000000", "someone-else");
        expect(other.code).to.equal(404);
        expect(other.body).to.deep.equal(unknown.body);
        const unsigned = await fetch(`${api()}/${id}`);
        expect(unsigned.status).to.equal(403);
        expect(await unsigned.json()).to.deep.equal({ message: "Missing Authentication Token" });
        const forged = await localSignedFetch(
            `${api()}/${id}`,
            { method: "GET" },
            { accessKeyId: "owner-key", secretAccessKey: "not-the-local-secret" },
            pipeline.ready.region,
        );
        expect(forged.status).to.equal(403);
        expect(forged.headers.get("x-amzn-errortype")).to.equal("InvalidSignatureException");
    });

    it("npm run send: email examples/emails/welcome.json --json prints { id, status }; status prints the timeline; another access key gets a 404", async () => {
        const capture = () => {
            const out: string[] = [];
            const err: string[] = [];
            return { out, err, io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t), stdin: async () => "" } };
        };
        // The sample the README names: to success@simulator.amazonses.com.
        const file = path.resolve(__dirname, "../../../examples/emails/welcome.json");
        const sent = capture();
        expect(await runSend(["email", file, "--json"], sent.io, env), sent.err.join("\n")).to.equal(0);
        const answer = JSON.parse(sent.out.join("\n")) as { id: string; status: string };
        expect(answer.status).to.be.oneOf(["accepted", "queued", "sent", "delivered"]);
        // The tool signs as the pipeline's own access key when AWS_ACCESS_KEY_ID is not set.
        await reaches(answer.id, "delivered", pipeline.ready.credentials.accessKeyId);

        const timeline = capture();
        expect(await runSend(["status", answer.id], timeline.io, env), timeline.err.join("\n")).to.equal(0);
        expect(timeline.out.join("\n"))
            .to.match(new RegExp(`^email ${answer.id}: delivered`))
            .and.match(/\n {2}\S+ +sent +.*provider=ses/);
        const json = capture();
        expect(await runSend(["status", answer.id, "--json"], json.io, env)).to.equal(0);
        expect(JSON.parse(json.out.join("\n"))).to.include({ id: answer.id, status: "delivered" });

        const stranger = capture();
        expect(await runSend(["status", answer.id], stranger.io, { ...env, AWS_ACCESS_KEY_ID: "someone-else" })).to.equal(1);
        expect(stranger.err.join("\n")).to.match(/^HTTP 404/);
    });

    it("writes no PII into any function log (the status function's included)", async () => {
        await until("the status function's log", () => functionLogs.some((text) => text.includes("email status from ses")), SETTLE);
        const lines = functionLogs
            .join("")
            .split("\n")
            .filter((line) => line.trim());
        expect(linesContaining(lines, PII_NEEDLES)).to.deep.equal([]);
    });
});
