/**
 * examples/sender under mocks: it reads the event-ingestion outputs through a
 * StackReference (mocked with the real stack's mocked outputs) and attaches its
 * Lambda to the stream with the exported read policy.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { evaluatePack, fromMockedResources } from "../../policies/testing";
import { deployUnderMocks, type MockDeployment } from "../../local/offline/mock-deployment";
import { all, one } from "./helpers";
import { deliverNewEvents } from "../../examples/sender/deliver";

const SENDER = path.resolve(__dirname, "..", "..", "examples", "sender", "index");
const REFERENCE = "acme/event-ingestion/dev";

describe("examples/sender (mocks)", () => {
    let ingestion: MockDeployment;
    let sender: MockDeployment;
    before(async () => {
        ingestion = await deployUnderMocks({ stack: "dev" });
        sender = await deployUnderMocks({
            programPath: SENDER,
            config: {
                "aws:region": "us-east-1",
                "sender:eventIngestionStack": REFERENCE,
                "sender:owner": "sender-team",
                "sender:costCenter": "cc-1234",
            },
            stackReferences: { [REFERENCE]: ingestion.outputs },
        });
    });

    it("consumes exactly the producing stack's stream, from its Lambda, with partial batch responses", () => {
        const esm = one(sender, "aws:lambda/eventSourceMapping:EventSourceMapping");
        expect(esm.inputs.eventSourceArn).to.equal(ingestion.outputs.eventStreamArn);
        expect(esm.inputs.functionName).to.equal(one(sender, "aws:lambda/function:Function", "sender").state.arn);
        expect(esm.inputs.functionResponseTypes).to.deep.equal(["ReportBatchItemFailures"]);
        expect(esm.inputs.startingPosition).to.equal("LATEST");
        expect(esm.inputs.destinationConfig.onFailure.destinationArn).to.equal(one(sender, "aws:sqs/queue:Queue").state.arn);
        expect(sender.outputs.consumedStreamArn).to.equal(ingestion.outputs.eventStreamArn);
    });

    it("grants its role the exported stream read policy, by ARN from the StackReference", () => {
        const role = one(sender, "aws:iam/role:Role", "sender");
        const attachments = all(sender, "aws:iam/rolePolicyAttachment:RolePolicyAttachment");
        expect(attachments.map((a) => [a.inputs.role, a.inputs.policyArn])).to.deep.equal([
            [role.state.name, ingestion.outputs.streamReadPolicyArn],
        ]);
        expect(one(sender, "aws:lambda/function:Function", "sender").inputs.role).to.equal(role.state.arn);
    });

    it("passes this project's policy pack (every mandatory and advisory rule)", async () => {
        const evaluation = await evaluatePack(fromMockedResources(sender.resources), { stack: "dev", project: "sender" });
        expect(evaluation.violations.map((v) => `${v.policy}: ${v.message.split("\n").pop()}`)).to.deep.equal([]);
        expect(all(sender, "aws:kms/key:Key")).to.have.length(1);
    });

    it("is a self-contained package: its own package.json and lockfile, the same provider versions as this project", () => {
        const dir = path.resolve(__dirname, "..", "..", "examples", "sender");
        const pkg = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
        const lock = JSON.parse(fs.readFileSync(path.join(dir, "package-lock.json"), "utf8"));
        const root = JSON.parse(fs.readFileSync(path.resolve(dir, "..", "..", "package.json"), "utf8"));
        expect(lock.packages[""].dependencies).to.deep.equal(pkg.dependencies);
        const rootVersion = (name: string) => root.dependencies[name] ?? root.devDependencies[name];
        for (const name of ["@pulumi/pulumi", "@pulumi/aws", "typescript", "ts-node"])
            expect(pkg.dependencies[name] ?? pkg.devDependencies?.[name], name).to.equal(rootVersion(name));
        expect(pkg.main).to.equal("index.ts");
        // Everything the program imports is declared (no reliance on the parent's node_modules).
        const imports = ["index.ts", "deliver.ts", "poll.ts"].flatMap((f) =>
            [...fs.readFileSync(path.join(dir, f), "utf8").matchAll(/from "([^".][^"]*)"/g)].map((m) => m[1]),
        );
        const declared = { ...pkg.dependencies, ...pkg.devDependencies };
        for (const name of imports.filter((n) => !n.startsWith("node:")))
            expect(declared, name).to.have.property(name === "aws-lambda" ? "@types/aws-lambda" : name);
    });

    it("deploys no poller unless sender:pollTenants is set", () => {
        expect(all(sender, "aws:lambda/function:Function").map((f) => f.name)).to.deep.equal(["sender"]);
        expect(all(sender, "aws:dynamodb/table:Table")).to.deep.equal([]);
        expect(sender.outputs.senderPollerFunctionName).to.equal(undefined);
    });

    it("ships a Lambda with an explicit runtime and no packages", async () => {
        const fn = one(sender, "aws:lambda/function:Function", "sender");
        expect(fn.inputs).to.deep.include({ runtime: "nodejs22.x", memorySize: 256, timeout: 30 });
        expect(Object.keys(await fn.inputs.code.assets)).to.deep.equal(["__index.js"]);
    });

    describe("with sender:pollTenants (the producing stack has eventPollingIndex on)", () => {
        let indexed: MockDeployment;
        let polling: MockDeployment;
        before(async () => {
            indexed = await deployUnderMocks({ stack: "dev", configOverrides: { "event-ingestion:eventPollingIndex": true } });
            polling = await deployUnderMocks({
                programPath: SENDER,
                config: {
                    "aws:region": "us-east-1",
                    "sender:eventIngestionStack": REFERENCE,
                    "sender:owner": "sender-team",
                    "sender:costCenter": "cc-1234",
                    "sender:pollTenants": JSON.stringify(["acme-retail", "globex"]),
                },
                stackReferences: { [REFERENCE]: indexed.outputs },
            });
        });

        it("polls the producing stack's table through its arrival index, with its lag, from the outputs", () => {
            const poller = one(polling, "aws:lambda/function:Function", "sender-poller");
            expect(poller.inputs.environment.variables).to.deep.include({
                EVENT_TABLE_NAME: indexed.outputs.eventTableName,
                EVENT_POLLING_INDEX_NAME: indexed.outputs.eventPollingIndexName,
                EVENT_POLLING_LAG_SECONDS: String(indexed.outputs.eventPollingLagSeconds),
                CURSOR_TABLE_NAME: one(polling, "aws:dynamodb/table:Table", "sender-cursors").state.name,
                POLL_TENANTS: "acme-retail,globex",
            });
            // Two polls at once from one cursor would deliver twice.
            expect(poller.inputs.reservedConcurrentExecutions).to.equal(1);
            expect(Object.keys(poller.inputs)).to.include("kmsKeyArn");
        });

        it("attaches the exported table read policy to the poller's own role, and runs it every minute", () => {
            const role = one(polling, "aws:iam/role:Role", "sender-poller");
            const attachment = one(polling, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "sender-poller-table-read");
            expect([attachment.inputs.role, attachment.inputs.policyArn]).to.deep.equal([
                role.state.name,
                indexed.outputs.tableReadPolicyArn,
            ]);
            const rule = one(polling, "aws:cloudwatch/eventRule:EventRule", "sender-poll-schedule");
            expect(rule.inputs.scheduleExpression).to.equal("rate(1 minute)");
            const poller = one(polling, "aws:lambda/function:Function", "sender-poller");
            expect(one(polling, "aws:cloudwatch/eventTarget:EventTarget", "sender-poll-schedule").inputs.arn).to.equal(poller.state.arn);
            expect(one(polling, "aws:lambda/permission:Permission", "sender-poll-schedule").inputs).to.deep.include({
                principal: "events.amazonaws.com",
                sourceArn: rule.state.arn,
            });
        });

        it("passes this project's policy pack with the poller, its cursor table and its alarm", async () => {
            const evaluation = await evaluatePack(fromMockedResources(polling.resources), { stack: "dev", project: "sender" });
            expect(evaluation.violations.map((v) => `${v.policy}: ${v.message.split("\n").pop()}`)).to.deep.equal([]);
            expect(all(polling, "aws:cloudwatch/metricAlarm:MetricAlarm").map((a) => a.name)).to.include("sender-poller-errors");
        });
    });

    it("delivers INSERT records only and reports no failures when delivery succeeds", async () => {
        const record = (eventName: "INSERT" | "REMOVE", sequence: string) => ({
            eventName,
            dynamodb: {
                SequenceNumber: sequence,
                NewImage:
                    eventName === "INSERT"
                        ? { clientId: { S: "tenant-a" }, eventId: { S: sequence }, type: { S: "order.placed" } }
                        : undefined,
            },
        });
        const logged: string[] = [];
        const original = console.log;
        console.log = (line: string) => logged.push(line);
        try {
            const response = await deliverNewEvents({
                Records: [record("INSERT", "1"), record("REMOVE", "2"), record("INSERT", "3")],
            } as never);
            expect(response).to.deep.equal({ batchItemFailures: [] });
        } finally {
            console.log = original;
        }
        expect(logged.map((l) => JSON.parse(l).eventId)).to.deep.equal(["1", "3"]);
    });
});
