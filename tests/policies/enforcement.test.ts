import { expect } from "chai";
import { policies } from "../../policies/policies";
import { packConfigProblems, effectiveLevels, guardConfigure, PackConfigError } from "../../policies/lib/enforcement";
import { evaluate } from "./helpers";
import { compliantStack, pick, unset } from "./fixtures/resources";
import * as fs from "node:fs";
import * as path from "node:path";

const analyzerproto = require("@pulumi/pulumi/proto/analyzer_pb");
const structproto = require("google-protobuf/google/protobuf/struct_pb");

const advisory = policies.filter((p) => p.enforcementLevel === "advisory");

describe("policies: enforcement levels and pack config", () => {
    it("has unique names, a description, a level and the types it looks at for every policy", () => {
        expect(new Set(policies.map((p) => p.name)).size).to.equal(policies.length);
        for (const p of policies) {
            expect(p.description, p.name).to.have.length.greaterThan(10);
            expect(["mandatory", "advisory"], p.name).to.include(p.enforcementLevel);
            expect(p.appliesTo.length, p.name).to.be.greaterThan(0);
        }
        expect(advisory.map((p) => p.name).sort()).to.deep.equal([
            "dynamodb-deletion-protection",
            "iam-no-partial-wildcard-actions",
            "ses-send-scoped-to-identities",
        ]);
    });

    it("rejects every attempt to relax a mandatory policy, listing all problems at once", () => {
        const config = {
            "iam-no-wildcard-actions": "disabled",
            "sqs-customer-managed-kms": { enforcementLevel: "advisory" },
            "kms-key-rotation": { anything: true },
            all: "advisory",
            "no-such-policy": "mandatory",
            "dynamodb-deletion-protection": { enforcementLevel: "sometimes" },
            "iam-no-partial-wildcard-actions": { allowedPatterns: "logs:*", other: 1 },
        };
        const problems = packConfigProblems(config, policies);
        expect(problems).to.have.length(8);
        expect(problems.join("\n"))
            .to.include('iam-no-wildcard-actions: is mandatory and cannot be set to "disabled"')
            .and.include('sqs-customer-managed-kms: is mandatory and cannot be set to "advisory"')
            .and.include("kms-key-rotation: is mandatory and takes no settings")
            .and.include('all: "advisory" would relax the mandatory policies')
            .and.include("no-such-policy: no such policy")
            .and.include('unknown enforcement level "sometimes"')
            .and.include('iam-no-partial-wildcard-actions.allowedPatterns: expected "array"')
            .and.include('unknown setting "other"');
    });

    it("accepts relaxing advisory policies, tightening them, and restating mandatory levels", () => {
        expect(packConfigProblems({ "dynamodb-deletion-protection": "disabled" }, policies)).to.deep.equal([]);
        expect(
            packConfigProblems(
                {
                    all: "mandatory",
                    "iam-no-partial-wildcard-actions": { enforcementLevel: "advisory", allowedPatterns: ["logs:Describe*"] },
                },
                policies,
            ),
        ).to.deep.equal([]);
        expect(packConfigProblems({ "iam-no-wildcard-actions": "mandatory" }, policies)).to.deep.equal([]);
        expect(packConfigProblems(undefined, policies)).to.deep.equal([]);
        expect(packConfigProblems("disabled", policies)).to.have.length(1);
    });

    it("applies the SDK's precedence: policy entry, then all, then the policy's own level", () => {
        const levels = effectiveLevels({ all: "mandatory", "dynamodb-deletion-protection": "disabled" }, policies);
        expect(levels.get("dynamodb-deletion-protection")).to.equal("disabled");
        expect(levels.get("iam-no-partial-wildcard-actions")).to.equal("mandatory");
        expect(levels.get("kms-key-rotation")).to.equal("mandatory");
    });

    it("the harness refuses a config that relaxes a mandatory policy (so the violation cannot be hidden)", async () => {
        const stack = compliantStack();
        unset(pick(stack, "events", "aws:sqs/queue:Queue"), "kmsMasterKeyId");
        let error: unknown;
        try {
            await evaluate(stack, { config: { "sqs-customer-managed-kms": "disabled" } });
        } catch (e) {
            error = e;
        }
        expect(error).to.be.instanceOf(PackConfigError);
        expect((error as Error).message).to.include("sqs-customer-managed-kms: is mandatory");
    });

    it("upgrading an advisory policy to mandatory makes its violation mandatory", async () => {
        const stack = compliantStack();
        unset(pick(stack, "events", "aws:dynamodb/table:Table"), "deletionProtectionEnabled");
        const evaluation = await evaluate(stack, { config: { "dynamodb-deletion-protection": "mandatory" } });
        expect(evaluation.mandatory.map((v) => v.policy)).to.deep.equal(["dynamodb-deletion-protection"]);
    });

    it("the per-stack config files in policies/config are valid", () => {
        const dir = path.resolve(__dirname, "../../policies/config");
        const files = fs.readdirSync(dir).filter((f) => f.endsWith(".json"));
        expect(files).to.include.members(["dev.json", "localstack.json"]);
        for (const file of files) {
            expect(packConfigProblems(JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")), policies), file).to.deep.equal([]);
        }
    });

    describe("the Configure RPC guard", () => {
        function request(entries: Record<string, { level: string; properties?: Record<string, unknown> }>) {
            const req = new analyzerproto.ConfigureAnalyzerRequest();
            for (const [name, { level, properties }] of Object.entries(entries)) {
                const config = new analyzerproto.PolicyConfig();
                config.setEnforcementlevel(analyzerproto.EnforcementLevel[level.toUpperCase()]);
                if (properties) config.setProperties(structproto.Struct.fromJavaScript(properties));
                req.getPolicyconfigMap().set(name, config);
            }
            return { request: req };
        }

        function run(entries: Parameters<typeof request>[0]) {
            let forwarded = false;
            let result: { error: unknown } | undefined;
            const handler = guardConfigure((_call, callback) => {
                forwarded = true;
                callback(null, "ok");
            }, policies);
            handler(request(entries), (error) => (result = { error }));
            return { forwarded, error: result?.error as (Error & { code?: number }) | null };
        }

        it("rejects a request that disables a mandatory policy, without forwarding it", () => {
            const { forwarded, error } = run({
                "iam-no-wildcard-actions": { level: "disabled" },
                "kms-key-rotation": { level: "mandatory" },
            });
            expect(forwarded).to.equal(false);
            expect(error?.code).to.equal(3);
            expect(error?.message).to.include('iam-no-wildcard-actions: is mandatory and cannot be set to "disabled"');
        });

        it("forwards a request that relaxes only advisory policies", () => {
            const { forwarded, error } = run({
                "dynamodb-deletion-protection": { level: "disabled" },
                "iam-no-partial-wildcard-actions": { level: "advisory", properties: { allowedPatterns: ["logs:Describe*"] } },
                "kms-key-rotation": { level: "mandatory" },
            });
            expect(error).to.equal(null);
            expect(forwarded).to.equal(true);
        });
    });
});
