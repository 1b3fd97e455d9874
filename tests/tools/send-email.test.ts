/**
 * `npm run send -- email|status|cancel` against a stand-in API: every request is signed
 * (SigV4, execute-api) with the access key AWS_ACCESS_KEY_ID (default: the pipeline's) and
 * the local secret the READY file announces; `cancel` is a signed DELETE of /v1/emails/ID;
 * `status` prints a timeline in which nothing the API sent acts on the terminal.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { runSend } from "../../tools/send";
import { LOCAL_PIPELINE_FILE_VARIABLE } from "../../tools/target";
import { verifyLocalSignature } from "../../local/aws-stand-ins/email/sigv4-identity";

type Seen = { method: string; url: string; headers: http.IncomingHttpHeaders; body: Buffer };

describe("npm run send: email --json, status, cancel (signed like the local API requires)", () => {
    const SECRET = "pipeline-secret";
    let server: http.Server;
    let dir: string;
    let env: NodeJS.ProcessEnv;
    const seen: Seen[] = [];
    let answer: (request: Seen) => { status: number; body: unknown } = () => ({ status: 404, body: { message: "Not Found" } });

    before(async () => {
        server = http.createServer((req, res) => {
            const chunks: Buffer[] = [];
            req.on("data", (chunk: Buffer) => chunks.push(chunk));
            req.on("end", () => {
                const request = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks) };
                seen.push(request);
                const reply = answer(request);
                res.writeHead(reply.status, { "content-type": "application/json" });
                res.end(JSON.stringify(reply.body));
            });
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "send-email-"));
        const file = path.join(dir, "pipeline.json");
        const port = (server.address() as { port: number }).port;
        fs.writeFileSync(
            file,
            JSON.stringify({
                pid: process.pid,
                stack: "dev",
                region: "us-east-1",
                sqsEndpoint: "http://127.0.0.1:1",
                credentials: { accessKeyId: "pipeline-key", secretAccessKey: SECRET },
                emailApiUrl: `http://127.0.0.1:${port}/v1/emails`,
            }),
        );
        env = { [LOCAL_PIPELINE_FILE_VARIABLE]: file };
    });
    after(async () => {
        await new Promise<void>((resolve) => server.close(() => resolve()));
        fs.rmSync(dir, { recursive: true, force: true });
    });
    beforeEach(() => (seen.length = 0));

    const capture = () => {
        const out: string[] = [];
        const err: string[] = [];
        return { out, err, io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t), stdin: async () => "{}" } };
    };
    const signer = async (request: Seen) =>
        verifyLocalSignature(
            { method: request.method, url: request.url, headers: request.headers, body: request.body },
            { secretAccessKey: SECRET },
        );

    it("cancel ID sends a DELETE of /v1/emails/ID signed as AWS_ACCESS_KEY_ID, and prints the answer", async () => {
        answer = () => ({ status: 200, body: { id: "abc-1", status: "cancelled" } });
        const c = capture();
        expect(await runSend(["cancel", "abc-1"], c.io, { ...env, AWS_ACCESS_KEY_ID: "someone-else" }), c.err.join("\n")).to.equal(0);
        expect(seen.map((request) => `${request.method} ${request.url}`)).to.deep.equal(["DELETE /v1/emails/abc-1"]);
        const check = await signer(seen[0]);
        expect(check.ok && check.iam.accessKey).to.equal("someone-else");
        expect(c.out.join("\n")).to.match(/^HTTP 200\n[\s\S]*"cancelled"/);

        answer = () => ({ status: 404, body: { message: "Not Found" } });
        const missing = capture();
        expect(await runSend(["cancel", "abc-1"], missing.io, env)).to.equal(1);
        expect(missing.err.join("\n")).to.match(/^HTTP 404/);
        expect((await signer(seen[1])).ok && seen[1].method).to.equal("DELETE");
    });

    it("refuses a malformed id (exit 2, before any request) and an option that does not apply", async () => {
        for (const argv of [["cancel", "../x"], ["status", "a b"], ["cancel"], ["status", "a", "b"], ["cancel", "a", "--json"]]) {
            const c = capture();
            expect(await runSend(argv, c.io, env), argv.join(" ")).to.equal(2);
        }
        expect(seen).to.deep.equal([]);
    });

    it("status prints a readable timeline (escaped), --json the API's answer; signed with the pipeline's key by default", async () => {
        const body = {
            id: "abc-2",
            status: "bounced",
            updatedAt: "2026-01-01T00:00:02.000Z",
            history: [
                { status: "accepted", at: "2026-01-01T00:00:00.000Z" },
                { status: "sent", at: "2026-01-01T00:00:01.000Z", provider: "ses", providerMessageId: "m-1\u001b[2J" },
                { status: "bounced", at: "2026-01-01T00:00:02.000Z", bounceType: "Permanent" },
            ],
        };
        answer = () => ({ status: 200, body });
        const text = capture();
        expect(await runSend(["status", "abc-2"], text.io, env)).to.equal(0);
        const lines = text.out.join("\n").split("\n");
        expect(lines[0]).to.equal("email abc-2: bounced (since 2026-01-01T00:00:02.000Z)");
        expect(lines[2]).to.match(/^ {2}2026-01-01T00:00:01.000Z {2}sent +provider=ses providerMessageId=m-1/);
        expect(text.out.join("\n")).to.not.include("\u001b");
        const check = await signer(seen[0]);
        expect(check.ok && check.iam.accessKey).to.equal("pipeline-key");
        expect(`${seen[0].method} ${seen[0].url}`).to.equal("GET /v1/emails/abc-2");

        const json = capture();
        expect(await runSend(["status", "abc-2", "--json"], json.io, env)).to.equal(0);
        expect(JSON.parse(json.out.join("\n"))).to.deep.equal(body);
    });

    it("email FILE --json prints { id, status }: the POST's id and the status a signed GET reads", async () => {
        answer = (request) =>
            request.method === "POST"
                ? { status: 202, body: { id: "abc-3" } }
                : { status: 200, body: { id: "abc-3", status: "queued", history: [] } };
        const file = path.join(dir, "email.json");
        fs.writeFileSync(file, JSON.stringify({ from: "a@example.com", to: ["b@example.org"], subject: "s", text: "t" }));
        const c = capture();
        expect(await runSend(["email", file, "--json"], c.io, env), c.err.join("\n")).to.equal(0);
        expect(JSON.parse(c.out.join("\n"))).to.deep.equal({ id: "abc-3", status: "queued" });
        expect(seen.map((request) => `${request.method} ${request.url}`)).to.deep.equal(["POST /v1/emails", "GET /v1/emails/abc-3"]);
        for (const request of seen) expect((await signer(request)).ok).to.equal(true);
    });
});
