import { expect } from "chai";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import * as net from "node:net";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { compileLoopbackLauncher, EmulatorStartError, LOCAL_CREDENTIALS, startDynamoDbLocal } from "../../../local/offline/emulators";
import { listeningAddresses } from "../../support/sockets";

describe("DynamoDB Local on loopback only", () => {
    it("listens on 127.0.0.1 and nowhere else, answers a client, and frees its port on stop", async () => {
        const dynamo = await startDynamoDbLocal();
        try {
            expect(dynamo.bindAddress).to.equal("127.0.0.1");
            expect(listeningAddresses(dynamo.port)).to.deep.equal(["127.0.0.1"]);
            const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: "us-east-1", credentials: LOCAL_CREDENTIALS });
            expect((await client.send(new ListTablesCommand({}))).TableNames).to.deep.equal([]);
            client.destroy();
        } finally {
            await dynamo.stop();
        }
        expect(listeningAddresses(dynamo.port)).to.deep.equal([]);
        expect(dynamo.process.exitCode ?? dynamo.process.signalCode).to.not.equal(null);
    });

    it("answers only requests with one Host naming its loopback address, like every other local listener (DNS rebinding)", async () => {
        const dynamo = await startDynamoDbLocal();
        const raw = (hosts: string[]) =>
            new Promise<string>((resolve, reject) => {
                const body = "{}";
                const socket = net.connect(dynamo.port, "127.0.0.1", () =>
                    socket.write(
                        "POST / HTTP/1.1\r\n" +
                            hosts.map((host) => `Host: ${host}\r\n`).join("") +
                            "Content-Type: application/x-amz-json-1.0\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\n" +
                            `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
                    ),
                );
                let answer = "";
                socket.on("data", (chunk) => (answer += chunk.toString()));
                socket.on("end", () => resolve(answer));
                socket.on("error", reject);
            });
        const status = (answer: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
        try {
            for (const hosts of [
                [`attacker.example:${dynamo.port}`],
                ["127.0.0.1"],
                [`127.0.0.1:${dynamo.port + 1}`],
                [`127.0.0.1:${dynamo.port}`, "attacker.example"],
            ]) {
                const answer = await raw(hosts);
                expect(status(answer), hosts.join(", ")).to.be.oneOf([400, 403]);
                expect(answer, hosts.join(", ")).to.not.match(/TableNames|MissingAuthenticationToken|UnrecognizedClient/);
            }
            expect(status(await raw([`attacker.example:${dynamo.port}`]))).to.equal(403);
            // Its own names reach DynamoDB Local (which then asks for a signature: this request has none).
            for (const host of [`127.0.0.1:${dynamo.port}`, `LOCALHOST:${dynamo.port}`])
                expect(status(await raw([host])), host).to.not.equal(403);
        } finally {
            await dynamo.stop();
        }
    });

    it("compiles its launcher with a Java runtime alone (no javac on the PATH) through the jdk.compiler module", function () {
        const modules = spawnSync("java", ["--list-modules"], { encoding: "utf8" }).stdout ?? "";
        if (!/^jdk\.compiler@/m.test(modules)) this.skip(); // this Java runtime image has no compiler module
        const java = fs.realpathSync(spawnSync("sh", ["-c", "command -v java"], { encoding: "utf8" }).stdout.trim());
        const bin = fs.mkdtempSync(path.join(os.tmpdir(), "java-only-"));
        const out = fs.mkdtempSync(path.join(os.tmpdir(), "launcher-"));
        try {
            fs.symlinkSync(java, path.join(bin, "java"));
            const result = compileLoopbackLauncher(out, { ...process.env, PATH: bin });
            expect(result).to.deep.equal({ ok: true, via: "jdk.compiler" });
            expect(fs.existsSync(path.join(out, "LoopbackDynamoDbLocal.class"))).to.equal(true);
        } finally {
            fs.rmSync(bin, { recursive: true, force: true });
            fs.rmSync(out, { recursive: true, force: true });
        }
    });

    it("refuses a port someone else holds on any interface, with a clear error", async () => {
        const squatter = net.createServer();
        await new Promise<void>((resolve) => squatter.listen(0, "127.0.0.1", resolve));
        const port = (squatter.address() as net.AddressInfo).port;
        try {
            const error = await startDynamoDbLocal({ port }).then(
                () => undefined,
                (e: unknown) => e,
            );
            expect(error).to.be.instanceOf(EmulatorStartError);
            expect((error as Error).message).to.match(/already in use/);
        } finally {
            squatter.close();
        }
    });
});
