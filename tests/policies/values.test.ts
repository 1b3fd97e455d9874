import { expect } from "chai";
import * as path from "node:path";
import { deployUnderMocks } from "../../local/offline/mock-deployment";
import { UNKNOWN_SENTINELS, resolve, Unknown, isUnknown } from "../../policies/lib/values";
import { parsePolicyDocument } from "../../policies/lib/iam-documents";
import { classifyKeyReference } from "../../policies/lib/kms";
import { evaluatePack, fromMockedResources, unknown } from "../../policies/testing";
import { compliantStack, iamPolicy, pick, set, unset } from "./fixtures/resources";
import { evaluate, violatedPolicies } from "./helpers";

const sdkProxy = require("@pulumi/policy/proxy");

describe("policies: how values arrive", () => {
    it("uses the same unknown sentinels as @pulumi/policy", () => {
        expect(UNKNOWN_SENTINELS.string).to.equal(sdkProxy.unknownStringValue);
        expect(UNKNOWN_SENTINELS.boolean).to.equal(sdkProxy.unknownBooleanValue);
        expect(UNKNOWN_SENTINELS.number).to.equal(sdkProxy.unknownNumberValue);
        expect(UNKNOWN_SENTINELS.array).to.equal(sdkProxy.unknownArrayValue);
        expect(UNKNOWN_SENTINELS.object).to.equal(sdkProxy.unknownObjectValue);
        expect(UNKNOWN_SENTINELS.asset).to.equal(sdkProxy.unknownAssetValue);
        expect(UNKNOWN_SENTINELS.archive).to.equal(sdkProxy.unknownArchiveValue);
    });

    it("reads through the SDK's unknown-checking proxy without tripping it, marking unknowns", () => {
        const proxied = sdkProxy.unknownCheckingProxy({ a: { b: [1, unknown.string] }, c: unknown.object });
        expect(() => proxied.c).to.throw(/can't be known during preview/);
        const plain = resolve<any>(proxied);
        expect(plain.a.b[0]).to.equal(1);
        expect(plain.a.b[1]).to.be.instanceOf(Unknown);
        expect((plain.a.b[1] as Unknown).path).to.equal("a.b[1]");
        expect(isUnknown(plain.c) && plain.c.kind).to.equal("object");
    });

    it("parses every document shape into the same statements", () => {
        const statement = { Effect: "Allow", Action: "sqs:SendMessage", Resource: "arn:aws:sqs:us-east-1:1:q" };
        const shapes = [
            JSON.stringify({ Statement: statement }),
            { Statement: statement },
            { Statement: [statement] },
            JSON.stringify({ Statement: [{ ...statement, Action: ["sqs:SendMessage"] }] }),
        ];
        for (const shape of shapes) {
            const parsed = parsePolicyDocument(shape);
            expect(parsed.kind).to.equal("document");
            if (parsed.kind === "document") {
                expect(parsed.statements.map((s) => [s.effect, s.actions, s.resources])).to.deep.equal([
                    ["Allow", ["sqs:SendMessage"], ["arn:aws:sqs:us-east-1:1:q"]],
                ]);
            }
        }
        expect(parsePolicyDocument(new Unknown("string", "policy")).kind).to.equal("unknown");
        expect(parsePolicyDocument("[1]").kind).to.equal("invalid");
        expect(parsePolicyDocument({ Version: "2012-10-17" }).kind).to.equal("invalid");
    });

    it("classifies key references", () => {
        expect(classifyKeyReference(undefined)).to.equal("missing");
        expect(classifyKeyReference("")).to.equal("missing");
        expect(classifyKeyReference("alias/aws/sns")).to.equal("aws-managed");
        expect(classifyKeyReference("arn:aws-cn:kms:cn-north-1:1:alias/aws/sqs")).to.equal("aws-managed");
        expect(classifyKeyReference("alias/awsome")).to.equal("customer-managed");
        expect(classifyKeyReference("alias/team/aws/key")).to.equal("customer-managed");
        expect(classifyKeyReference(new Unknown("string", "k"))).to.equal("unknown");
    });

    describe("unknown values during preview", () => {
        it("a computed Resource is not a wildcard; a computed Action defers the rule instead of passing it", async () => {
            const computedResource = await evaluate([
                ...compliantStack(),
                iamPolicy("p", { Statement: { Effect: "Allow", Action: "sqs:SendMessage", Resource: unknown.string } }),
            ]);
            expect(computedResource.violations).to.deep.equal([]);
            expect(computedResource.deferred).to.deep.equal([]);
            const computedAction = await evaluate([
                ...compliantStack(),
                iamPolicy("p", { Statement: { Effect: "Allow", Action: [unknown.string], Resource: "*" } }),
            ]);
            expect(computedAction.violations).to.deep.equal([]);
            expect(computedAction.deferred.map((d) => d.policy).sort()).to.deep.equal([
                "iam-no-wildcard-actions",
                "iam-no-wildcard-resources",
            ]);
        });

        it("a wholly unknown document defers every statement rule; known violations elsewhere are still reported", async () => {
            const evaluation = await evaluate([...compliantStack(), iamPolicy("p", unknown.string)]);
            expect(evaluation.violations).to.deep.equal([]);
            expect(evaluation.deferred.map((d) => d.policy).sort()).to.deep.equal([
                "iam-no-allow-with-not-action-or-not-resource",
                "iam-no-partial-wildcard-actions",
                "iam-no-wildcard-actions",
                "iam-no-wildcard-resources",
                "ses-send-scoped-to-identities",
            ]);
            const stack = compliantStack();
            set(pick(stack, "event-processor-role"), "inlinePolicies", [
                { name: "computed", policy: unknown.string },
                { name: "known", policy: JSON.stringify({ Statement: { Effect: "Allow", Action: "*", Resource: "*" } }) },
            ]);
            expect(violatedPolicies(await evaluate(stack), "mandatory")).to.deep.equal([
                "iam-no-wildcard-actions",
                "iam-no-wildcard-resources",
            ]);
        });

        it("a stack policy still reports the resources it can judge when another one is unknown, then defers", async () => {
            const stack = compliantStack();
            set(pick(stack, "events", "aws:sqs/queue:Queue"), "redrivePolicy", unknown.string);
            unset(pick(stack, "email", "aws:sqs/queue:Queue"), "redrivePolicy");
            const evaluation = await evaluate(stack);
            expect(evaluation.violations.map((v) => [v.policy, v.resourceName])).to.deep.equal([["sqs-redrive-policy", "email"]]);
            expect(evaluation.deferred.map((d) => d.policy)).to.deep.equal(["sqs-redrive-policy"]);
            expect(evaluation.cells.get("sqs-redrive-policy")!.get("urn:pulumi:dev::event-ingestion::aws:sqs/queue:Queue::email")).to.equal(
                "violation",
            );
        });

        it("an unknown boolean defers (KMS rotation), it never passes silently", async () => {
            const stack = compliantStack();
            set(pick(stack, "key"), "enableKeyRotation", unknown.boolean);
            const evaluation = await evaluate(stack);
            expect(evaluation.violations).to.deep.equal([]);
            expect(evaluation.deferred.map((d) => d.policy)).to.deep.equal(["kms-key-rotation"]);
        });
    });

    describe("Output-derived documents from a real program under mocks", () => {
        for (const preview of [false, true]) {
            it(`are checked after the engine resolves them (${preview ? "preview" : "update"})`, async () => {
                const deployment = await deployUnderMocks({
                    stack: "dev",
                    programPath: path.join(__dirname, "fixtures", "output-derived-program"),
                    preview,
                });
                const byName = Object.fromEntries(deployment.resources.map((r) => [r.name, r]));
                expect(byName["json-stringify"].inputs.policy).to.be.a("string");
                const evaluation = await evaluatePack(fromMockedResources(deployment.resources), {
                    policies: (await import("../../policies/policies")).policies.filter((p) => p.kind === "resource"),
                });
                const byPolicy = (name: string) =>
                    evaluation.violations
                        .filter((v) => v.policy === name)
                        .map((v) => v.resourceName)
                        .sort();
                expect(byPolicy("iam-no-wildcard-actions")).to.deep.equal(["apply-stringify"]);
                expect(byPolicy("iam-no-wildcard-resources")).to.deep.equal(["object-document"]);
                expect(byPolicy("sqs-customer-managed-kms")).to.deep.equal([]);
            });
        }
    });
});
