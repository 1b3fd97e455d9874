/**
 * What the email API loads before its first request. Every cold start pays for what the
 * init requires, and clients wait on the API: S3 serves only bodies above the offload
 * threshold, so its SDK (about a third of the API's init, `npm run bench -- --mode email-api`)
 * loads when the first such body comes. The shipped archive is only loaded here, in one
 * fresh process: nothing is invoked and no emulator is started.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createEmailApi } from "../../../handlers/email/api";
import { disabledTracer } from "../../../handlers/tracing";
import type { EmailApiEvent } from "../../../handlers/email/http";
import { createRuntimeLayerDir, functionResource, invokeArtifact, writeArchive } from "../../../local/offline/lambda-artifact";
import { sharedDeployment } from "../../../local/offline/mock-deployment";
import { captureLogsInThisSuite } from "../../support/email/logs";
import { recordingQueue } from "../../support/email/queue";

/** A preload that reports, at exit, which AWS SDK clients the process loaded. */
const SDK_PROBE = `process.on("exit", () => process.stderr.write("SDK_CLIENTS " + JSON.stringify([...new Set(Object.keys(require.cache).map((f) => (f.match(/@aws-sdk[\\\\/](client-[a-z0-9-]+)/) || [])[1]).filter(Boolean))].sort()) + "\\n"));`;

function post(body: unknown): EmailApiEvent {
    return {
        version: "2.0",
        routeKey: "POST /v1/emails",
        rawPath: "/v1/emails",
        rawQueryString: "",
        headers: { "content-type": "application/json" },
        requestContext: { http: { method: "POST", path: "/v1/emails" }, requestId: "init-test" },
        body: JSON.stringify(body),
        isBase64Encoded: false,
    } as unknown as EmailApiEvent;
}

describe("email API init: only what every request needs", function () {
    this.timeout(120_000);
    captureLogsInThisSuite();

    it("the shipped archive's init loads the SQS and DynamoDB clients, not S3", async () => {
        const deployment = await sharedDeployment({ stack: "dev" });
        const fn = functionResource(deployment, "email-api");
        const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "email-api-init-"));
        try {
            const archiveDir = await writeArchive(fn.inputs.code, path.join(scratch, "task"));
            const layerDir = createRuntimeLayerDir(path.join(scratch, "opt"));
            const probe = path.join(scratch, "probe.cjs");
            fs.writeFileSync(probe, SDK_PROBE);
            const init = await invokeArtifact({
                archiveDir,
                layerDir,
                environment: {
                    ...(fn.inputs.environment.variables as Record<string, string>),
                    AWS_REGION: deployment.region,
                    AWS_ACCESS_KEY_ID: "init-test",
                    AWS_SECRET_ACCESS_KEY: "init-test",
                    NODE_OPTIONS: `--require ${probe}`,
                },
                functionName: "email-api",
            });
            expect(init.error, init.stderr).to.equal(undefined);
            const loaded = JSON.parse(/SDK_CLIENTS (.*)/.exec(init.stderr)?.[1] ?? "null") as string[] | null;
            expect(loaded, init.stderr).to.deep.equal(["client-dynamodb", "client-sqs"]);
        } finally {
            fs.rmSync(scratch, { recursive: true, force: true });
        }
    });

    it("builds the S3 client on the first body above the threshold, once, traced, and never for small bodies", async () => {
        const queue = recordingQueue();
        const puts: string[] = [];
        const client = { send: async (command: { input: { Key: string } }) => void puts.push(command.input.Key) };
        let built = 0;
        const captured: unknown[] = [];
        const api = createEmailApi({
            sqs: queue.client,
            queueUrl: "q",
            s3: () => {
                built++;
                return client as never;
            },
            contentBucket: "b",
            largeBodyThresholdBytes: 1024,
            tracer: { ...disabledTracer(), captureAWSv3Client: <T>(c: T): T => (captured.push(c), c) },
        });
        expect(captured).to.deep.equal([queue.client]);
        const email = (text: string) => ({ from: "a@example.com", to: ["b@example.org"], subject: "s", text });
        expect((await api(post(email("small")))).statusCode).to.equal(202);
        expect(built).to.equal(0);
        for (let i = 0; i < 2; i++) expect((await api(post(email("x".repeat(4096))))).statusCode).to.equal(202);
        expect(built).to.equal(1);
        expect(captured).to.deep.equal([queue.client, client]);
        expect(puts).to.have.length(2);
        expect(queue.sent).to.have.length(3);
    });
});
