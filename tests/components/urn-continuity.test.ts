/**
 * A deployed stack upgrades in place: every URN that today's deployed program
 * registers (tests/components/fixtures/urns.<stack>.json) must be claimed by
 * the new program, as its own URN or through `aliases`. Otherwise `pulumi up`
 * deletes the old resource and creates a new one: a new queue, table or key.
 * Pulumi docs, "Resource options: aliases". Fixtures and registrations both
 * hold URNs in the engine's form (see local/offline/mock-deployment.ts).
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { sharedDeployment, projectName, type RegisteredUrn } from "../../local/offline/mock-deployment";
import { claimedUrns, composeUrn, urnContinuity } from "../support/urns";

const FIXTURES = path.join(__dirname, "fixtures");
const PROJECT = projectName();

/** Components that grouped, through `aliases`, resources the deployed program registered under another parent. */
const GROUPING_COMPONENT_TYPES: readonly string[] = [
    "event-ingestion:events:EventPipeline",
    "event-ingestion:compute:ServiceFunction",
    "event-ingestion:email:EmailHttpApi",
    "event-ingestion:email:EmailScheduler",
    "event-ingestion:email:EmailContentBucket",
    "event-ingestion:email:EmailSesIdentities",
];

function baseline(stack: string): string[] {
    return JSON.parse(fs.readFileSync(path.join(FIXTURES, `urns.${stack}.json`), "utf8"));
}

/** `registration` and everything registered under it. */
function subtree(registrations: readonly RegisteredUrn[], root: RegisteredUrn): RegisteredUrn[] {
    const inside = new Set([root.urn]);
    // Parents register before their children.
    for (const registration of registrations) if (registration.parent && inside.has(registration.parent)) inside.add(registration.urn);
    return registrations.filter((registration) => inside.has(registration.urn));
}

describe("URN continuity with deployed stacks (mocks)", () => {
    for (const stack of ["dev", "localstack"]) {
        describe(`stack ${stack}`, () => {
            let registrations: RegisteredUrn[];
            before(async () => {
                registrations = (await sharedDeployment({ stack })).registrations;
            });

            it("claims every URN of the deployed program, none of them twice", () => {
                const old = baseline(stack);
                expect(old.length).to.be.greaterThan(50);
                expect(urnContinuity(old, registrations, stack, PROJECT)).to.deep.equal({ unclaimed: [], ambiguous: [] });
            });

            it("records URNs as the engine composes them: a child's type qualified with its parent's whole type chain", () => {
                // The email queue is an EncryptedQueue inside EmailService: two components deep, where the
                // mock monitor's own URN (`EncryptedQueue$Queue`) and the engine's differ.
                const queue = registrations.find((r) => r.type === "aws:sqs/queue:Queue" && r.name === "email-queue");
                expect(queue?.urn).to.equal(
                    `urn:pulumi:${stack}::${PROJECT}::event-ingestion:email:EmailService$event-ingestion:messaging:EncryptedQueue$aws:sqs/queue:Queue::email-queue`,
                );
                expect(baseline(stack)).to.include(queue!.urn);
                const root = registrations.find((r) => r.type === "pulumi:pulumi:Stack");
                const service = registrations.find((r) => r.type === "event-ingestion:email:EmailService");
                expect(service?.parent).to.equal(root?.urn);
                expect(service?.urn).to.equal(`urn:pulumi:${stack}::${PROJECT}::event-ingestion:email:EmailService::email`);
            });

            it("keeps the deployed URNs of resources grouped under EventPipeline, ServiceFunction and the email blocks", () => {
                const old = new Set(baseline(stack));
                const claims = claimedUrns(registrations, stack, PROJECT);
                const grouped = registrations
                    .filter((r) => GROUPING_COMPONENT_TYPES.includes(r.type))
                    .flatMap((component) => subtree(registrations, component).slice(1));
                // Resources added after the recording (the schedule dead-letter queue, the SES identities) have no
                // deployed URN to keep; a deployed one is known by its type and logical name, which are unique here.
                const deployed = grouped.filter((r) => [...old].some((urn) => urn.endsWith(`${r.type}::${r.name}`)));
                expect(deployed.length).to.be.greaterThan(30);
                const lost = deployed.filter((r) => ![...claims.get(r.urn)!].some((urn) => old.has(urn))).map((r) => r.urn);
                expect(lost).to.deep.equal([]);
            });

            it("would catch a component whose type token changed without an alias, with all its children", () => {
                const key = registrations.find((r) => r.type === "event-ingestion:security:EncryptionKey" && r.name === "events");
                expect(key, "the events EncryptionKey component").to.not.equal(undefined);
                const movedType = "event-ingestion:kms:EncryptionKey";
                const movedUrn = composeUrn(stack, PROJECT, movedType, key!.name, key!.parent);
                const moved = registrations.map((r) => {
                    if (r.urn === key!.urn) return { ...r, type: movedType, urn: movedUrn };
                    if (r.parent === key!.urn) return { ...r, parent: movedUrn, urn: composeUrn(stack, PROJECT, r.type, r.name, movedUrn) };
                    return r;
                });
                const { unclaimed } = urnContinuity(baseline(stack), moved, stack, PROJECT);
                // Children the deployed stack already has (a resource added since, such as the key's KeyPolicy, is new, not moved).
                const deployed = new Set(baseline(stack));
                const children = registrations.filter((r) => r.parent === key!.urn && deployed.has(r.urn)).length;
                expect(children).to.be.greaterThan(0);
                expect(unclaimed).to.include(key!.urn);
                expect(unclaimed).to.have.length(1 + children);

                // The fix: one alias on the component; its children inherit it.
                const aliased = moved.map((r) => (r.urn === movedUrn ? { ...r, aliases: [{ spec: { type: key!.type } }] } : r));
                expect(urnContinuity(baseline(stack), aliased, stack, PROJECT).unclaimed).to.deep.equal([]);
            });

            it("would catch a resource renamed without an alias", () => {
                const table = registrations.find((r) => r.type === "aws:dynamodb/table:Table")!;
                const renamed = registrations.map((r) =>
                    r === table ? { ...r, name: "events-v2", urn: composeUrn(stack, PROJECT, r.type, "events-v2", r.parent) } : r,
                );
                expect(urnContinuity(baseline(stack), renamed, stack, PROJECT).unclaimed).to.deep.equal([table.urn]);
            });
        });
    }
});

describe("alias resolution (engine rules)", () => {
    const stack = "dev";
    const root = `urn:pulumi:dev::${PROJECT}::pulumi:pulumi:Stack::${PROJECT}-dev`;
    const component = (name: string, aliases: RegisteredUrn["aliases"] = []): RegisteredUrn => ({
        urn: composeUrn(stack, PROJECT, "pkg:mod:Comp", name, root),
        type: "pkg:mod:Comp",
        name,
        custom: false,
        parent: root,
        aliases,
    });

    it("composes child URNs from the parent's qualified type", () => {
        const parent = component("a");
        expect(composeUrn(stack, PROJECT, "aws:sqs/queue:Queue", "q", parent.urn)).to.equal(
            `urn:pulumi:dev::${PROJECT}::pkg:mod:Comp$aws:sqs/queue:Queue::q`,
        );
        // Two components deep: the whole chain of the parent, as the engine writes it.
        const inner = composeUrn(stack, PROJECT, "pkg:mod:Inner", "i", parent.urn);
        expect(composeUrn(stack, PROJECT, "aws:sqs/queue:Queue", "q", inner)).to.equal(
            `urn:pulumi:dev::${PROJECT}::pkg:mod:Comp$pkg:mod:Inner$aws:sqs/queue:Queue::q`,
        );
    });

    it("gives a child every alias of its parent, and resolves noParent and explicit URNs", () => {
        const parent = component("c", [{ spec: { type: "pkg:old:Comp" } }]);
        const child: RegisteredUrn = {
            urn: composeUrn(stack, PROJECT, "aws:sqs/queue:Queue", "q", parent.urn),
            type: "aws:sqs/queue:Queue",
            name: "q",
            custom: true,
            parent: parent.urn,
            aliases: [{ spec: { noParent: true } }, { urn: "urn:pulumi:dev::x::aws:sqs/queue:Queue::legacy" }],
        };
        const claims = claimedUrns([parent, child], stack, PROJECT).get(child.urn)!;
        expect([...claims].sort()).to.deep.equal(
            [
                child.urn,
                `urn:pulumi:dev::${PROJECT}::pkg:old:Comp$aws:sqs/queue:Queue::q`,
                composeUrn(stack, PROJECT, "aws:sqs/queue:Queue", "q"),
                "urn:pulumi:dev::x::aws:sqs/queue:Queue::legacy",
            ].sort(),
        );
    });

    it("reports an old URN claimed by two resources as ambiguous", () => {
        const a = component("a", [{ spec: { name: "old" } }]);
        const b = component("b", [{ spec: { name: "old" } }]);
        const old = component("old").urn;
        expect(urnContinuity([old], [a, b], stack, PROJECT)).to.deep.equal({ unclaimed: [], ambiguous: [old] });
    });
});
