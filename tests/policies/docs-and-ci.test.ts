import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { policies } from "../../policies/policies";
import { UNSCOPABLE_ACTIONS } from "../../policies/lib/catalog";

const ROOT = path.resolve(__dirname, "../..");
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");

describe("policies: docs and CI stay in step with the pack", () => {
    it("docs/policies.md documents every policy with its level, and every unscopable action", () => {
        const docs = read("docs/policies.md");
        for (const p of policies)
            expect(docs, p.name).to.match(new RegExp(`\\| \`${p.name}\` \\| ${p.enforcementLevel} \\| ${p.kind} \\|`));
        for (const action of Object.keys(UNSCOPABLE_ACTIONS)) expect(docs, action).to.include(`\`${action}\``);
    });

    it("the README section states the right counts", () => {
        const section = /<!-- section:policies -->([\s\S]*?)<!-- \/section:policies -->/.exec(read("README.md"))![1];
        const mandatory = policies.filter((p) => p.enforcementLevel === "mandatory").length;
        expect(section).to.include(`${policies.length}\npolicies, ${mandatory} mandatory and ${policies.length - mandatory} advisory`);
    });

    it("the preview workflow tests every stack offline, then previews each AWS stack with the pack and its per-stack config", () => {
        const workflow = YAML.parse(read(".github/workflows/preview.yml"));
        const testRuns = workflow.jobs.test.steps.map((s: any) => s.run).filter(Boolean);
        expect(testRuns).to.include.members(["npm ci --no-audit --no-fund", "npm test", "npm run policy"]);

        const preview = workflow.jobs.preview;
        expect(preview.needs).to.equal("test");
        const stacks = fs
            .readdirSync(ROOT)
            .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
            .filter(Boolean)
            .sort() as string[];
        // The localstack stack is proven offline (`npm run policy` covers every stack); the others preview against AWS.
        const previewed = preview.strategy.matrix.include.map((entry: any) => entry.stack).sort();
        expect(previewed).to.deep.equal(stacks.filter((s) => s !== "localstack"));
        for (const entry of preview.strategy.matrix.include) {
            const stackFile = YAML.parse(read(`Pulumi.${entry.stack}.yaml`));
            expect(entry.region, `matrix region of ${entry.stack}`).to.equal(stackFile.config["aws:region"]);
        }
        for (const stack of stacks)
            expect(fs.existsSync(path.join(ROOT, "policies", "config", `${stack}.json`)), `policies/config/${stack}.json`).to.equal(true);

        expect(
            preview.steps.some((s: any) => s.run?.startsWith("npm ci") && s["working-directory"] === "policies"),
            "npm ci in policies/",
        ).to.equal(true);
        const action = preview.steps.find((s: any) => String(s.uses).startsWith("pulumi/actions@"));
        expect(action.with.command).to.equal("preview");
        expect(action.with.policyPacks).to.equal("policies");
        expect(action.with.policyPackConfigs).to.equal("policies/config/${{ matrix.stack }}.json");
        expect(action.with["pulumi-version"], "the Pulumi CLI version is pinned").to.match(/^\d+\.\d+\.\d+$/);
    });

    it("the workflow grants each job only what it needs, uses OIDC, and skips credentialed steps on fork pull requests", () => {
        const workflow = YAML.parse(read(".github/workflows/preview.yml"));
        expect(workflow.permissions, "nothing at the top level").to.deep.equal({});
        expect(workflow.jobs.test.permissions).to.deep.equal({ contents: "read" });
        expect(workflow.jobs.preview.permissions).to.deep.equal({ contents: "read", "id-token": "write", "pull-requests": "write" });
        expect(workflow.jobs.preview.if).to.include("github.event.pull_request.head.repo.full_name == github.repository");
        const steps = workflow.jobs.preview.steps;
        const aws = steps.find((s: any) => String(s.uses).startsWith("aws-actions/configure-aws-credentials@"));
        expect(aws.with["role-to-assume"]).to.equal("${{ vars.AWS_PREVIEW_ROLE_ARN }}");
        expect(steps.some((s: any) => String(s.uses).startsWith("pulumi/auth-actions@"))).to.equal(true);
        // No static tokens: the Pulumi token comes from OIDC, AWS keys never appear.
        const text = read(".github/workflows/preview.yml");
        expect(text).to.not.include("secrets.PULUMI_ACCESS_TOKEN");
        expect(text).to.not.match(/AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY)/);
        // AWS credentials come before Pulumi, so a self-managed s3:// backend can be reached.
        expect(steps.indexOf(aws)).to.be.lessThan(steps.findIndex((s: any) => String(s.uses).startsWith("pulumi/actions@")));
    });

    it("the pack directory is a complete policy pack", () => {
        const pkg = JSON.parse(read("policies/package.json"));
        expect(pkg.version, "PolicyPack reads its version from package.json").to.match(/^\d+\.\d+\.\d+$/);
        expect(Object.keys(pkg.dependencies)).to.include.members(["@pulumi/policy", "@pulumi/pulumi"]);
        const lock = JSON.parse(read("policies/package-lock.json"));
        expect(lock.packages[""].dependencies).to.deep.equal(pkg.dependencies);
        expect(YAML.parse(read("policies/PulumiPolicy.yaml")).runtime).to.equal("nodejs");
        const index = read("policies/index.ts");
        expect(index.match(/new PolicyPack\(/g)).to.have.length(1);
    });
});
