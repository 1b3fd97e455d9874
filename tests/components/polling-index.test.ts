/**
 * The arrival index (stack setting `eventPollingIndex`) under mocks: turning it on changes the
 * deployed table in place and adds no resource, and its key attribute is one the handler writes,
 * with the declared type, on every item.
 *
 * AWS rules this follows:
 * - Amazon DynamoDB Developer Guide, "Managing Global Secondary Indexes in DynamoDB" (GSI.OnlineOps):
 *   a global secondary index can be added to an existing table with UpdateTable; DynamoDB backfills it
 *   from the stored items while the table stays available.
 * - Same guide, "Improving data access with secondary indexes": an index key attribute must be a scalar
 *   of the declared type wherever an item has it; items without it are left out of the index (sparse).
 * - The Terraform AWS provider's `aws_dynamodb_table` (which `aws.dynamodb.Table` wraps) replaces a table
 *   only when a force-new argument changes (`name`, `hash_key`, `range_key`, `local_secondary_index`,
 *   `restore_*`, `import_table`); `attribute` and `global_secondary_index` are updated in place.
 *   `aws_iam_policy` replaces a policy when its `name`, `name_prefix`, `path` or `description` changes.
 */
import { expect } from "chai";
import { deployUnderMocks, type MockDeployment, type MockedResource } from "../../local/offline/mock-deployment";
import { EVENT_ARRIVAL_INDEX, EVENT_POLLING_LAG_MARGIN_SECONDS, EVENT_RECEIVED_AT_ATTRIBUTE } from "../../contracts/event-pipeline";
import { DEFAULTS } from "../../components/shared/defaults";
import { buildItem } from "../../handlers/event-processor/item";
import { exampleEvents } from "../support/factories/events";
import { one } from "./helpers";

/** Arguments whose change makes the provider replace the resource instead of updating it. */
const TABLE_FORCE_NEW = [
    "name",
    "hashKey",
    "rangeKey",
    "localSecondaryIndexes",
    "restoreSourceName",
    "restoreSourceTableArn",
    "restoreDateTime",
    "restoreToLatestTime",
    "importTable",
];
const POLICY_FORCE_NEW = ["name", "namePrefix", "path", "description"];

const WITH_INDEX = { "event-ingestion:eventPollingIndex": true };

function table(deployment: MockDeployment): MockedResource {
    return one(deployment, "aws:dynamodb/table:Table", "events");
}

describe("arrival index for polling (eventPollingIndex, mocks)", function () {
    this.timeout(120_000);
    let off: MockDeployment;
    let on: MockDeployment;
    before(async () => {
        off = await deployUnderMocks({ stack: "dev" });
        on = await deployUnderMocks({ stack: "dev", configOverrides: WITH_INDEX });
    });

    it("is off by default: no index, no index output, the table as it was", () => {
        expect(DEFAULTS.eventPollingIndex).to.equal(false);
        expect(table(off).inputs.globalSecondaryIndexes).to.equal(undefined);
        expect(table(off).inputs.attributes).to.deep.equal([
            { name: "clientId", type: "S" },
            { name: "eventId", type: "S" },
        ]);
        // An undefined export is not a stack output: StackReference.requireOutput fails on it.
        expect(off.outputs.eventPollingIndexName).to.equal(undefined);
        expect(off.outputs.eventPollingLagSeconds).to.equal(undefined);
    });

    it("declares a KEYS_ONLY index on clientId (HASH) and receivedAt (RANGE), both declared as strings", () => {
        const inputs = table(on).inputs;
        expect(inputs.globalSecondaryIndexes).to.deep.equal([
            {
                name: EVENT_ARRIVAL_INDEX.name,
                keySchemas: [
                    { attributeName: "clientId", keyType: "HASH" },
                    { attributeName: EVENT_RECEIVED_AT_ATTRIBUTE, keyType: "RANGE" },
                ],
                projectionType: "KEYS_ONLY",
            },
        ]);
        const declared = new Map(inputs.attributes.map((a: { name: string; type: string }) => [a.name, a.type]));
        for (const key of inputs.globalSecondaryIndexes[0].keySchemas)
            expect(declared.get(key.attributeName), key.attributeName).to.equal("S");
    });

    it("is an in-place update of the deployed table: same URN, same force-new arguments, only attributes and the index added", () => {
        const before = table(off);
        const after = table(on);
        const tableUrn = (d: MockDeployment) =>
            d.registrations.filter((r) => r.type === "aws:dynamodb/table:Table" && r.name === "events").map((r) => r.urn);
        expect(tableUrn(on)).to.deep.equal(tableUrn(off)).and.to.have.length(1);
        for (const key of TABLE_FORCE_NEW) expect(after.inputs[key], key).to.deep.equal(before.inputs[key]);
        const { attributes: attributesAfter, globalSecondaryIndexes, ...restAfter } = after.inputs;
        const { attributes: attributesBefore, ...restBefore } = before.inputs;
        expect(restAfter).to.deep.equal(restBefore);
        expect(attributesAfter).to.deep.equal([...attributesBefore, { name: EVENT_RECEIVED_AT_ATTRIBUTE, type: "S" }]);
        expect(globalSecondaryIndexes).to.have.length(1);
    });

    it("adds and removes no resource, and changes no other resource than the table and the table read policy", () => {
        const urns = (d: MockDeployment) => d.registrations.map((r) => r.urn).sort();
        expect(urns(on)).to.deep.equal(urns(off));
        // Type and logical name identify a resource here (the URN test above shows the same registrations).
        const twinOf = (resource: MockedResource) => off.resources.filter((r) => r.type === resource.type && r.name === resource.name);
        const changed = on.resources
            .filter((resource) => {
                const twins = twinOf(resource);
                expect(twins, `${resource.type}::${resource.name}`).to.have.length(1);
                return JSON.stringify(resource.inputs) !== JSON.stringify(twins[0].inputs);
            })
            .map((r) => `${r.type}::${r.name}`);
        expect(changed).to.deep.equal(["aws:dynamodb/table:Table::events", "aws:iam/policy:Policy::events-table-read"]);
    });

    it("updates the table read policy in place: the same force-new arguments, only the document grows", () => {
        const before = one(off, "aws:iam/policy:Policy", "events-table-read");
        const after = one(on, "aws:iam/policy:Policy", "events-table-read");
        for (const key of POLICY_FORCE_NEW) expect(after.inputs[key], key).to.deep.equal(before.inputs[key]);
        const statements = JSON.parse(after.inputs.policy).Statement;
        expect(statements.slice(0, 1)).to.deep.equal(JSON.parse(before.inputs.policy).Statement.slice(0, 1));
        expect(statements[1]).to.deep.equal({
            Sid: "QueryArrivalIndex",
            Effect: "Allow",
            Action: "dynamodb:Query",
            Resource: `${on.outputs.eventTableArn}/index/${EVENT_ARRIVAL_INDEX.name}`,
        });
    });

    it("exports the index name and the lag a poller re-reads (processor timeout + margin)", () => {
        expect(on.outputs.eventPollingIndexName).to.equal(EVENT_ARRIVAL_INDEX.name);
        const timeout = one(on, "aws:lambda/function:Function", "event-processor").inputs.timeout;
        expect(on.outputs.eventPollingLagSeconds).to.equal(timeout + EVENT_POLLING_LAG_MARGIN_SECONDS);
    });

    it("has its sort key on every item the handler writes, as a fixed-width UTC string whose text order is time order", () => {
        const stamps = [new Date("2026-01-31T23:59:59.999Z"), new Date("2026-02-01T00:00:00.000Z"), new Date("2026-02-01T00:00:00.001Z")];
        const written = stamps.flatMap((receivedAt) =>
            Object.values(exampleEvents()).map((event) => {
                const built = buildItem(event, event.data as Record<string, unknown>, { receivedAt });
                if (!built.ok) throw new Error(built.detail);
                return built.item[EVENT_RECEIVED_AT_ATTRIBUTE];
            }),
        );
        for (const value of written) expect(Object.keys(value)).to.deep.equal(["S"]);
        const texts = written.map((value) => value.S);
        expect([...texts].sort()).to.deep.equal(texts);
        expect(new Set(texts.map((text) => text.length))).to.deep.equal(new Set([24]));
    });
});
