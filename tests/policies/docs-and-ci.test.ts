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
        for (const p of policies) expect(docs, p.name).to.match(new RegExp(`\\| \`${p.name}\` \\| ${p.enforcementLevel} \\| ${p.kind} \\|`));
        for (const action of Object.keys(UNSCOPABLE_ACTIONS)) expect(docs, action).to.include(`\`${action}\``);
    });

    it("the README section states the right counts", () => {
        const section = /<!-- section:policies -->([\s\S]*?)<!-- \/section:policies -->/.exec(read("README.md"))![1];
        const mandatory = policies.filter((p) => p.enforcementLevel === "mandatory").length;
        expect(section).to.include(`${policies.length}\npolicies, ${mandatory} mandatory and ${policies.length - mandatory} advisory`);
    });

    it("the preview workflow tests, then previews every stack with the pack and its per-stack config", () => {
        const workflow = YAML.parse(read(".github/workflows/preview.yml"));
        const testRuns = workflow.jobs.test.steps.map((s: any) => s.run).filter(Boolean);
        expect(testRuns).to.include.members(["npm ci --no-audit --no-fund", "npm test", "npm run policy"]);

        const preview = workflow.jobs.preview;
        expect(preview.needs).to.equal("test");
        const stacks = fs.readdirSync(ROOT).map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1]).filter(Boolean).sort();
        expect([...preview.strategy.matrix.stack].sort()).to.deep.equal(stacks);
        for (const stack of stacks) expect(fs.existsSync(path.join(ROOT, "policies", "config", `${stack}.json`)), `policies/config/${stack}.json`).to.equal(true);

        expect(preview.steps.some((s: any) => s.run?.startsWith("npm ci") && s["working-directory"] === "policies"), "npm ci in policies/").to.equal(true);
        const action = preview.steps.find((s: any) => String(s.uses).startsWith("pulumi/actions@"));
        expect(action.with.command).to.equal("preview");
        expect(action.with.policyPacks).to.equal("policies");
        expect(action.with.policyPackConfigs).to.equal("policies/config/${{ matrix.stack }}.json");
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
