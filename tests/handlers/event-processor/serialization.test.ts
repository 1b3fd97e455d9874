/**
 * Early guard for the code that ships: the Lambda's callbackFactory, serialized by
 * Pulumi's closure serializer, written to a directory outside the repo and run in
 * a fresh Node 22 process (AWS SDK and Powertools resolved through NODE_PATH, as
 * the runtime and layer provide them) against the emulators.
 * The infrastructure engineer's artifact test covers the full mock-deployment archive.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { LOCAL_CREDENTIALS } from "../../../local/offline/emulators";
import { eventProcessorFromEnvironment } from "../../../handlers/event-processor";
import { sqsEvent, validEvent } from "../../support/factories/events";
import { Harness, REGION, startHarness } from "./harness";

const ROOT = path.resolve(__dirname, "..", "..", "..");

/** Runs the serialized module in a child process: builds the handler via the factory, invokes it once, prints the response. */
function invokeSerialized(
    dir: string,
    env: Record<string, string>,
    event: unknown,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const driver = `
        const report = (e) => JSON.stringify({ thrown: String(e), isError: e instanceof Error, name: e && e.name, message: e && e.message });
        let handler;
        // The factory runs when the module loads (as in Lambda's init phase).
        try { handler = require(${JSON.stringify(path.join(dir, "index.js"))}).handler; } catch (e) { console.log(report(e)); process.exit(0); }
        handler(${JSON.stringify(event)}, {}).then((r) => console.log(JSON.stringify({ response: r })), (e) => console.log(report(e)));
    `;
    return new Promise((resolve) => {
        const child = spawn(process.execPath, ["-e", driver], { cwd: dir, env: { PATH: process.env.PATH ?? "", ...env } });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (c) => (stdout += c));
        child.stderr.on("data", (c) => (stderr += c));
        child.on("exit", (code) => resolve({ code, stdout, stderr }));
    });
}

describe("event processor serialized with pulumi.runtime.serializeFunction", function () {
    this.timeout(120_000);
    let h: Harness;
    let dir: string;
    let text: string;
    before(async () => {
        const serialized = await pulumi.runtime.serializeFunction(eventProcessorFromEnvironment, { isFactoryFunction: true });
        text = serialized.text;
        expect(serialized.exportName).to.equal("handler");
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "event-processor-artifact-"));
        fs.writeFileSync(path.join(dir, "index.js"), text);
        h = await startHarness();
    });
    after(async () => {
        await h?.stop();
        if (dir) fs.rmSync(dir, { recursive: true, force: true });
    });

    it("requires its libraries instead of inlining them, and stays small", () => {
        for (const library of ["valibot", "@aws-lambda-powertools/logger", "@aws-lambda-powertools/metrics"]) {
            expect(text).to.include(`require("${library}")`);
        }
        expect(text).to.match(/require\("@aws-sdk\/client-dynamodb[^"]*"\)/);
        expect(text).to.match(/require\("@aws-sdk\/client-sqs[^"]*"\)/);
        expect(text).not.to.include("ISO_TIMESTAMP_REGEX"); // valibot internals
        expect(text).not.to.include("@pulumi/pulumi");
        expect(text.length).to.be.below(100_000);
    });

    function lambdaEnv(extra: Record<string, string>): Record<string, string> {
        return {
            NODE_PATH: path.join(ROOT, "node_modules"),
            AWS_REGION: REGION,
            AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
            AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
            AWS_ENDPOINT_URL_DYNAMODB: h.dynamo.endpoint,
            AWS_ENDPOINT_URL_SQS: h.sqsEmulator.endpoint,
            POWERTOOLS_SERVICE_NAME: "event-processor",
            POWERTOOLS_METRICS_NAMESPACE: "EventIngestion",
            ...extra,
        };
    }

    it("builds a working handler from the environment and processes a batch against the emulators", async () => {
        const tableName = await h.createTable();
        const deadLetterQueueUrl = await h.createQueue();
        const good = validEvent();
        const bad = { ...validEvent(), type: "order.exploded" };
        const { customerId: _dropped, ...incomplete } = validEvent().data as Record<string, unknown>;
        const missingField = { ...validEvent(), data: incomplete };
        const event = sqsEvent([good, bad, validEvent({ type: "payment.captured" }), missingField]);
        const result = await invokeSerialized(
            dir,
            lambdaEnv({
                EVENT_TABLE_NAME: tableName,
                DEAD_LETTER_QUEUE_URL: deadLetterQueueUrl,
                EVENT_RETENTION_DAYS: "7",
                ENABLED_EVENT_TYPES: "order.placed,user.signed_up",
            }),
            event,
        );
        const last = JSON.parse(result.stdout.trim().split("\n").at(-1)!);
        expect(last, result.stderr).to.deep.equal({ response: { batchItemFailures: [] } });
        const items = await h.scan(tableName);
        expect(items.map((i) => i.eventId.S)).to.deep.equal([good.eventId]);
        expect(items[0].expiresAt.N).to.match(/^\d+$/);
        const letters = await h.drain(deadLetterQueueUrl);
        expect(letters.map((l) => l.reason).sort()).to.deep.equal(["invalid_data", "type_disabled", "unknown_type"]);
        expect(letters.find((l) => l.reason === "invalid_data")!.detail).to.equal("data.customerId is required");
        // Structured log lines went to stdout/stderr; none carries the data payload.
        expect(result.stdout + result.stderr).not.to.include(good.data.customerId as string);
    });

    it("fails fast with one error naming every bad environment variable", async () => {
        const result = await invokeSerialized(
            dir,
            lambdaEnv({ EVENT_RETENTION_DAYS: "soon", ENABLED_EVENT_TYPES: "order.placed,nope.never" }),
            { Records: [] },
        );
        const output = result.stdout + result.stderr;
        for (const variable of ["EVENT_TABLE_NAME", "DEAD_LETTER_QUEUE_URL", "EVENT_RETENTION_DAYS", "ENABLED_EVENT_TYPES", "nope.never"])
            expect(output).to.include(variable);
        expect(output).to.include("EventProcessorConfigurationError");
        // The Lambda runtime reports errorType/errorMessage from a real Error; a serialized
        // `class extends Error` would arrive as an opaque object without its message.
        const thrown = JSON.parse(result.stdout.trim().split("\n").pop()!);
        expect(thrown).to.include({ isError: true, name: "EventProcessorConfigurationError" });
        for (const variable of ["EVENT_TABLE_NAME", "DEAD_LETTER_QUEUE_URL", "EVENT_RETENTION_DAYS"])
            expect(thrown.message).to.include(variable);
    });
});
