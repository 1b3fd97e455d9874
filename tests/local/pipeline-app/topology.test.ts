import { expect } from "chai";
import { deriveVisibilityTimeoutSeconds } from "../../../components/shared/defaults";
import { sharedDeployment, MockDeployment, MockedResource } from "../../../local/offline/mock-deployment";
import { createTableInput, rewriteValue } from "../../../local/pipeline-app/provision";
import { locateEventProcessor } from "../../../local/pipeline-app/services/event-processor";
import { localTopology, queuesInCreationOrder, TopologyError } from "../../../local/pipeline-app/topology";
import { eventPipelineDeployment } from "../../components/programs";

function resource(type: string, name: string, inputs: MockedResource["inputs"], state: MockedResource["state"] = {}): MockedResource {
    return { type, name, id: name, inputs, state: { ...inputs, ...state } };
}
function deployment(resources: MockedResource[]): MockDeployment {
    return { project: "p", stack: "s", region: "us-east-1", resources, registrations: [], invokes: [], outputs: {} };
}
const queue = (name: string, redrive?: { target: string; max: number }) =>
    resource(
        "aws:sqs/queue:Queue",
        name,
        {
            visibilityTimeoutSeconds: 30,
            ...(redrive ? { redrivePolicy: JSON.stringify({ deadLetterTargetArn: redrive.target, maxReceiveCount: redrive.max }) } : {}),
        },
        { name, arn: `arn:aws:sqs:us-east-1:1:${name}`, url: `https://sqs/1/${name}` },
    );

describe("local topology: the emulators' settings come from the stack's resources", function () {
    this.timeout(180_000);

    it("reads the localstack stack: queue attributes, redrive, table keys, stream, TTL, mapping", async () => {
        const d = await sharedDeployment({ stack: "localstack" });
        const t = localTopology(d);
        const { functionSpec, mapping } = locateEventProcessor({
            topology: t,
            resources: {
                queues: t.queues.map((spec) => ({ spec, url: spec.deployedUrl, arn: spec.deployedArn })),
                tables: t.tables.map((spec) => ({ spec, name: spec.name, arn: spec.deployedArn })),
                rewrites: new Map(),
            },
        });
        const source = t.queues.find((q) => q.deployedUrl === d.outputs.eventQueueUrl)!;
        expect(Number(source.attributes.VisibilityTimeout)).to.equal(
            deriveVisibilityTimeoutSeconds(functionSpec.timeoutSeconds, mapping.maximumBatchingWindowInSeconds),
        );
        expect(source.redrive?.deadLetterTargetArn).to.equal(d.outputs.deadLetterQueueArn);
        expect(mapping.reportBatchItemFailures).to.equal(true);
        const table = t.tables.find((x) => x.name === d.outputs.eventTableName)!;
        expect(createTableInput(table).KeySchema).to.deep.equal([
            { AttributeName: "clientId", KeyType: "HASH" },
            { AttributeName: "eventId", KeyType: "RANGE" },
        ]);
        expect(table.stream?.viewType).to.equal("NEW_IMAGE");
        // The arrival index, declared with keySchemas, is created as declared.
        const input = createTableInput(table);
        expect(input.GlobalSecondaryIndexes).to.deep.equal([
            {
                IndexName: "byArrival",
                KeySchema: [
                    { AttributeName: "clientId", KeyType: "HASH" },
                    { AttributeName: "receivedAt", KeyType: "RANGE" },
                ],
                Projection: { ProjectionType: "KEYS_ONLY", NonKeyAttributes: undefined },
            },
        ]);
        expect(input.AttributeDefinitions).to.deep.include({ AttributeName: "receivedAt", AttributeType: "S" });
        expect(t.notEmulated.join())
            .to.match(/SSE-KMS/)
            .and.match(/IAM/);
    });

    // Under another config, the event pipeline alone (tests/components/programs.ts): these settings are its own.
    it("follows the stack config: change it and the local settings change with it (one source of truth)", async () => {
        const t = localTopology(
            await eventPipelineDeployment({
                stack: "localstack",
                configOverrides: {
                    "event-ingestion:maxReceiveCount": 7,
                    "event-ingestion:batchSize": 3,
                    "event-ingestion:processorTimeoutSeconds": 4,
                    "event-ingestion:maxBatchingWindowSeconds": 2,
                    "event-ingestion:eventRetentionDays": 30,
                },
            }),
        );
        const mapping = t.eventSourceMappings.find((m) =>
            t.queues.some((q) => q.deployedArn === m.eventSourceArn && q.redrive?.maxReceiveCount === 7),
        )!;
        expect(mapping).to.not.equal(undefined);
        expect(mapping).to.include({ batchSize: 3, maximumBatchingWindowInSeconds: 2 });
        const source = t.queues.find((q) => q.deployedArn === mapping.eventSourceArn)!;
        expect(source.attributes.VisibilityTimeout).to.equal(String(deriveVisibilityTimeoutSeconds(4, 2)));
        const processor = t.functions.find((f) => f.name === mapping.functionName || f.deployedArn === mapping.functionName)!;
        expect(processor.timeoutSeconds).to.equal(4);
        expect(processor.environment.EVENT_RETENTION_DAYS).to.equal("30");
        expect(t.tables.some((x) => x.ttlAttribute === "expiresAt")).to.equal(true);
    });

    it("reads the stack's producers: each role's unique id and the tenants PRODUCER_TENANTS grants it; each function's role id", async () => {
        const t = localTopology(
            await eventPipelineDeployment({
                stack: "localstack",
                configOverrides: {
                    "event-ingestion:producers": {
                        orders: { tenants: ["acme", "globex"], principals: ["111122223333"] },
                        billing: { tenants: ["initech"], principals: ["444455556666"] },
                    },
                },
            }),
        );
        const byName = new Map(t.producers.map((producer) => [producer.name, producer]));
        expect([...byName.keys()].sort()).to.deep.equal(["billing", "orders"]);
        expect(byName.get("orders")!.tenants).to.deep.equal(["acme", "globex"]);
        expect(byName.get("billing")!.tenants).to.deep.equal(["initech"]);
        const processor = t.functions.find((fn) => fn.environment.PRODUCER_TENANTS)!;
        expect(JSON.parse(processor.environment.PRODUCER_TENANTS)).to.deep.equal({
            [byName.get("orders")!.roleUniqueId]: ["acme", "globex"],
            [byName.get("billing")!.roleUniqueId]: ["initech"],
        });
        expect(processor.roleUniqueId).to.match(/^AROA[A-Z0-9]+$/);
        expect(localTopology(await sharedDeployment({ stack: "localstack" })).producers).to.deep.equal([]);
    });

    it("names every problem that keeps a deployment from running locally", () => {
        const bad = deployment([
            queue("orphan", { target: "arn:aws:sqs:us-east-1:1:missing", max: 3 }),
            resource("aws:sqs/queue:Queue", "garbled", { redrivePolicy: "{not json" }, { name: "garbled", arn: "arn:g", url: "u:g" }),
            resource("aws:lambda/eventSourceMapping:EventSourceMapping", "esm", { eventSourceArn: "arn:x", functionName: "nobody" }),
        ]);
        const error = (() => {
            try {
                localTopology(bad);
            } catch (e) {
                return e as Error;
            }
            return undefined;
        })();
        expect(error).to.be.instanceOf(TopologyError);
        expect(error!.message).to.match(/dead-letter target arn:aws:sqs:us-east-1:1:missing is not a queue of this stack/);
        expect(error!.message).to.match(/redrive policy is not JSON/);
        expect(error!.message).to.match(/function nobody is not in this stack/);
    });

    it("creates dead-letter queues before the queues that redrive to them, and refuses a cycle", () => {
        const dlq = queue("dlq");
        const source = queue("source", { target: dlq.state.arn, max: 5 });
        const ordered = queuesInCreationOrder(localTopology(deployment([source, dlq])).queues).map((q) => q.name);
        expect(ordered).to.deep.equal(["dlq", "source"]);
        const a = queue("a", { target: "arn:aws:sqs:us-east-1:1:b", max: 1 });
        const b = queue("b", { target: "arn:aws:sqs:us-east-1:1:a", max: 1 });
        expect(() => queuesInCreationOrder(localTopology(deployment([a, b])).queues)).to.throw(TopologyError, /redrive cycle/);
    });

    it("rewrites deployed identifiers to local ones, longest first", () => {
        const rewrites = new Map([
            ["arn:aws:dynamodb:r:1:table/events", "arn:local:table/events"],
            ["arn:aws:dynamodb:r:1:table/events/stream/2026", "arn:local:table/events/stream/x"],
        ]);
        expect(rewriteValue("arn:aws:dynamodb:r:1:table/events/stream/2026", rewrites)).to.equal("arn:local:table/events/stream/x");
        expect(rewriteValue("plain", rewrites)).to.equal("plain");
    });
});
