import { expect } from "chai";
import { DescribeTableCommand, DescribeTimeToLiveCommand } from "@aws-sdk/client-dynamodb";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { execFile, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";
import { deadLetters } from "../../../local/pipeline-app/accounting";
import { runDemo, sendMessages, settleAccounting } from "../../../local/pipeline-app/demo";
import { LocalPipeline, startLocalPipeline } from "../../../local/pipeline-app/pipeline";
import { generateSampleTraffic, REASONS_NOT_SENT } from "../../../local/pipeline-app/sample-traffic";
import { EVENT_REJECTION_REASON_CODES } from "../../../contracts/event-pipeline";
import { listeningAddresses } from "../../support/sockets";
import { until } from "../../support/until";

const run = promisify(execFile);

/** The AWS CLI v1 (pip) speaks SQS's JSON protocol, which fauxqs needs; v2.9 from Debian does not. */
function awsCliV1(): string | undefined {
    const result = spawnSync("aws", ["--version"], { encoding: "utf8" });
    if (result.error || result.status !== 0) return undefined;
    const version = `${result.stdout}${result.stderr}`.trim();
    return /^aws-cli\/1\./.test(version) ? version : undefined;
}

describe("local pipeline end to end (stack localstack, real SDK and CLI clients)", function () {
    this.timeout(120_000);
    let pipeline: LocalPipeline;
    const logs: string[] = [];

    before(async () => {
        pipeline = await startLocalPipeline({ stack: "localstack", log: (l) => logs.push(l), functionLogs: () => undefined });
    });
    after(async () => {
        const ports = pipeline ? [pipeline.context.emulators.sqs.port, pipeline.context.emulators.dynamodb.port] : [];
        const pids = pipeline?.pids() ?? [];
        await pipeline?.stop();
        for (const port of ports) expect(listeningAddresses(port), `port ${port} after stop`).to.deep.equal([]);
        for (const pid of pids) expect(() => process.kill(pid, 0), `pid ${pid} after stop`).to.throw(/ESRCH/);
    });

    it("creates the queues and the table with the settings of the stack's own resources", async () => {
        const { deployment } = pipeline.context;
        const { sqs, dynamodb } = pipeline.context.clients;
        const deployedQueue = deployment.resources.find(
            (r) => r.type === "aws:sqs/queue:Queue" && r.state.url === deployment.outputs.eventQueueUrl,
        )!;
        const attributes = (
            await sqs.send(new GetQueueAttributesCommand({ QueueUrl: pipeline.ready.eventQueueUrl, AttributeNames: ["All"] }))
        ).Attributes!;
        expect(Number(attributes.VisibilityTimeout)).to.equal(deployedQueue.inputs.visibilityTimeoutSeconds);
        expect(Number(attributes.MessageRetentionPeriod)).to.equal(deployedQueue.inputs.messageRetentionSeconds);
        expect(Number(attributes.MaximumMessageSize)).to.equal(deployedQueue.inputs.maxMessageSize);
        const redrive = JSON.parse(attributes.RedrivePolicy!);
        expect(redrive.maxReceiveCount).to.equal(JSON.parse(deployedQueue.inputs.redrivePolicy).maxReceiveCount);
        expect(redrive.deadLetterTargetArn).to.equal(pipeline.ready.deadLetterQueueArn);

        const deployedTable = deployment.resources.find(
            (r) => r.type === "aws:dynamodb/table:Table" && r.state.name === deployment.outputs.eventTableName,
        )!;
        const table = (await dynamodb.send(new DescribeTableCommand({ TableName: pipeline.ready.eventTableName }))).Table!;
        expect(table.TableName).to.equal(deployment.outputs.eventTableName);
        expect(table.KeySchema).to.deep.equal([
            { AttributeName: deployedTable.inputs.hashKey, KeyType: "HASH" },
            { AttributeName: deployedTable.inputs.rangeKey, KeyType: "RANGE" },
        ]);
        expect(table.StreamSpecification).to.deep.equal({ StreamEnabled: true, StreamViewType: deployedTable.inputs.streamViewType });
        expect(table.LatestStreamArn).to.equal(pipeline.ready.eventStreamArn);
        const ttl = (await dynamodb.send(new DescribeTimeToLiveCommand({ TableName: table.TableName }))).TimeToLiveDescription;
        if (deployedTable.inputs.ttl?.enabled) expect(ttl?.AttributeName).to.equal(deployedTable.inputs.ttl.attributeName);
        else expect(ttl?.TimeToLiveStatus).to.equal("DISABLED");
    });

    it("runs the processor from the function's serialized archive, with the function's environment", async () => {
        const processor = pipeline.eventProcessor!;
        const deployed = pipeline.context.deployment.resources.find(
            (r) => r.type === "aws:lambda/function:Function" && r.state.name === processor.functionSpec.name,
        )!;
        const assets = await deployed.inputs.code.assets;
        const shipped = fs.readFileSync(processor.code.moduleFile, "utf8");
        expect(shipped).to.equal(await assets["__index.js"].text);
        expect(path.basename(processor.code.moduleFile)).to.equal("__index.js");
        // Runtime-provided packages do not ship; the local "runtime layer" provides them, as Lambda does.
        expect(fs.existsSync(path.join(processor.code.archiveDir, "node_modules", "@aws-sdk"))).to.equal(false);
        for (const [name, value] of Object.entries<string>(deployed.inputs.environment.variables)) {
            expect(processor.environment, name).to.have.property(name);
            if (!/^https?:|^arn:/.test(value)) expect(processor.environment[name], name).to.equal(value);
        }
        expect(processor.environment.EVENT_TABLE_NAME).to.equal(pipeline.ready.eventTableName);
        expect(processor.environment.DEAD_LETTER_QUEUE_URL).to.equal(pipeline.ready.deadLetterQueueUrl);
        expect(processor.environment.AWS_ENDPOINT_URL_DYNAMODB).to.equal(pipeline.ready.dynamodbEndpoint);
        expect(processor.environment.AWS_ENDPOINT_URL_SQS).to.equal(pipeline.ready.sqsEndpoint);
        expect(processor.fn.pids().length).to.be.greaterThan(0);
    });

    it("accounts for every sample event: valid ones stored and streamed once, invalid ones in the DLQ with their reason", async () => {
        const summary = await runDemo(pipeline, { clients: 3, eventsPerClient: 8, timeoutSeconds: 60 });
        expect(summary.unaccounted).to.deep.equal([]);
        expect(summary.accounted).to.equal(true);
        expect(summary.persisted).to.equal(24);
        expect(summary.deliveredThroughStream).to.equal(24);
        expect(summary.latencyMs.samples).to.equal(24);
        // every rejection reason a producer can cause was exercised
        const causable = EVENT_REJECTION_REASON_CODES.filter((r) => !(r in REASONS_NOT_SENT) && r !== "type_disabled");
        expect(Object.keys(summary.rejected).sort()).to.deep.equal([...causable].sort());
        const letters = await deadLetters(pipeline.ready.sqsEndpoint, pipeline.ready.deadLetterQueueUrl.split("/").pop()!);
        expect(letters.every((l) => l.reason && l.detail)).to.equal(true);
    });

    it("a batch with a poison message still stores its other events on the first delivery", async () => {
        const sample = generateSampleTraffic({ clients: 1, eventsPerClient: 9, seed: 7 }).filter((m) => m.expect.kind === "persisted");
        const poison = {
            label: "poison",
            body: "{{{ not json at all",
            messageGroupId: "acme-retail",
            phase: 1 as const,
            expect: { kind: "rejected" as const, reason: "body_not_json" },
        };
        const receiveCounts: number[] = [];
        const record = (i: { receiveCounts: number[] }) => receiveCounts.push(...i.receiveCounts);
        pipeline.eventProcessor!.poller.on("invoke", record);
        const sent = await sendMessages(pipeline, [poison, ...sample]);
        const summary = await settleAccounting(pipeline, sent, { deadline: Date.now() + 30_000 });
        expect(summary.unaccounted).to.deep.equal([]);
        expect(summary.persisted).to.equal(9);
        pipeline.eventProcessor!.poller.off("invoke", record);
        // Settled on the first delivery: no message (the poison included) was received twice.
        expect(receiveCounts).to.have.length(10);
        expect(receiveCounts.every((n) => n === 1)).to.equal(true);
    });

    const cli = awsCliV1();
    (cli ? it : it.skip)(
        `takes events from the AWS CLI and shows them to it (${cli ?? "skipped: no AWS CLI v1 on the PATH; fauxqs needs v1's JSON protocol"})`,
        async () => {
            const env = { ...process.env, ...pipeline.ready.environment, AWS_PAGER: "" };
            const body = JSON.stringify({
                clientId: "cli-tenant",
                eventId: "cli-evt-1",
                type: "user.signed_up",
                occurredAt: "2026-11-21T10:00:00Z",
                data: { userId: "usr-cli", plan: "free", signupChannel: "api", marketingOptIn: false },
            });
            const sent = await run(
                "aws",
                [
                    "sqs",
                    "send-message",
                    "--endpoint-url",
                    pipeline.ready.sqsEndpoint,
                    "--queue-url",
                    pipeline.ready.eventQueueUrl,
                    "--message-body",
                    body,
                    "--message-group-id",
                    "cli-tenant",
                    "--output",
                    "json",
                ],
                { env },
            );
            expect(JSON.parse(sent.stdout).MessageId).to.be.a("string");
            const key = JSON.stringify({ clientId: { S: "cli-tenant" }, eventId: { S: "cli-evt-1" } });
            type StoredItem = { type: { S: string }; data: { M: { plan: { S: string } } } };
            const item = await until<StoredItem>(
                "the AWS CLI to read the stored event",
                async () => {
                    const got = await run(
                        "aws",
                        [
                            "dynamodb",
                            "get-item",
                            "--endpoint-url",
                            pipeline.ready.dynamodbEndpoint,
                            "--table-name",
                            pipeline.ready.eventTableName,
                            "--key",
                            key,
                            "--output",
                            "json",
                        ],
                        { env },
                    );
                    return got.stdout.trim() ? JSON.parse(got.stdout).Item : undefined;
                },
                { timeoutMs: 20_000, intervalMs: 250 },
            );
            expect(item.type.S).to.equal("user.signed_up");
            expect(item.data.M.plan.S).to.equal("free");
            // The table's stream delivers after the write is readable: wait for it rather than check once.
            await until(
                "the table's stream to deliver the event to the sender",
                () => pipeline.sender!.delivered.some((d) => d.clientId === "cli-tenant" && d.eventId === "cli-evt-1"),
                { timeoutMs: 20_000 },
            );
        },
    );
});
