/**
 * examples/sender under mocks: it reads the event-ingestion outputs through a
 * StackReference (mocked with the real stack's mocked outputs) and attaches its
 * Lambda to the stream with the exported read policy.
 */
import { expect } from "chai";
import * as path from "node:path";
import { deployUnderMocks, type MockDeployment } from "../../local/mock-deployment";
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
            config: { "aws:region": "us-east-1", "sender:eventIngestionStack": REFERENCE },
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
        expect(attachments.map((a) => [a.inputs.role, a.inputs.policyArn])).to.deep.equal([[role.state.name, ingestion.outputs.streamReadPolicyArn]]);
        expect(one(sender, "aws:lambda/function:Function", "sender").inputs.role).to.equal(role.state.arn);
    });

    it("ships a Lambda with an explicit runtime and no packages", async () => {
        const fn = one(sender, "aws:lambda/function:Function", "sender");
        expect(fn.inputs).to.deep.include({ runtime: "nodejs22.x", memorySize: 256, timeout: 30 });
        expect(Object.keys(await fn.inputs.code.assets)).to.deep.equal(["__index.js"]);
    });

    it("delivers INSERT records only and reports no failures when delivery succeeds", async () => {
        const record = (eventName: "INSERT" | "REMOVE", sequence: string) => ({
            eventName,
            dynamodb: { SequenceNumber: sequence, NewImage: eventName === "INSERT" ? { clientId: { S: "tenant-a" }, eventId: { S: sequence }, type: { S: "order.placed" } } : undefined },
        });
        const logged: string[] = [];
        const original = console.log;
        console.log = (line: string) => logged.push(line);
        try {
            const response = await deliverNewEvents({ Records: [record("INSERT", "1"), record("REMOVE", "2"), record("INSERT", "3")] } as never);
            expect(response).to.deep.equal({ batchItemFailures: [] });
        } finally {
            console.log = original;
        }
        expect(logged.map((l) => JSON.parse(l).eventId)).to.deep.equal(["1", "3"]);
    });
});
