/**
 * Owner and cost-allocation tags on every taggable resource, from stack config.
 * "Taggable" is what @pulumi/aws says: the resource's Args interface has `tags`.
 * AWS: "Tagging best practices" (AWS Whitepaper), "Using AWS cost allocation tags".
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { sharedDeployment, type MockDeployment } from "../../local/offline/mock-deployment";
import { REQUIRED_TAG_KEYS, TAGGABLE_TYPES } from "../../policies/lib/tags";
import { withStackTags } from "../../components/shared/tagging";

const AWS_DIR = path.dirname(require.resolve("@pulumi/aws/package.json"));

/** Whether @pulumi/aws's Args interface for the type has a `tags` input (read from its .d.ts). */
function argsHaveTags(type: string): boolean {
    const [, module, resource] = /^aws:([^/]+)\/([^:]+):/.exec(type) ?? [];
    const source = fs.readFileSync(path.join(AWS_DIR, module, `${resource}.d.ts`), "utf8");
    const args = /export interface \w+Args \{([\s\S]*?)\n\}/.exec(source);
    return !!args && /\n {4}tags\?:/.test(args[1]);
}

describe("tags: owner and cost centre on every taggable resource", () => {
    let dev: MockDeployment;
    before(async () => {
        dev = await sharedDeployment({
            stack: "dev",
            configOverrides: { "event-ingestion:owner": "payments-team", "event-ingestion:costCenter": "cc-1234" },
        });
    });

    it("the taggable list is exactly the program's types whose Args take tags", () => {
        const deployedAws = [...new Set(dev.resources.map((r) => r.type).filter((t) => t.startsWith("aws:")))];
        for (const type of deployedAws)
            expect(TAGGABLE_TYPES.includes(type as never), `${type} (Args ${argsHaveTags(type) ? "has" : "has no"} tags)`).to.equal(
                argsHaveTags(type),
            );
        for (const type of TAGGABLE_TYPES) expect(argsHaveTags(type), type).to.equal(true);
    });

    it("every taggable resource, children of components included, carries the stack's tags", () => {
        const taggable = dev.resources.filter((r) => (TAGGABLE_TYPES as readonly string[]).includes(r.type));
        expect(taggable.length).to.be.greaterThan(20);
        const untagged = taggable.filter(
            (r) =>
                r.inputs.tags?.[REQUIRED_TAG_KEYS.owner] !== "payments-team" || r.inputs.tags?.[REQUIRED_TAG_KEYS.costCenter] !== "cc-1234",
        );
        expect(untagged.map((r) => `${r.type} ${r.name}`)).to.deep.equal([]);
        // CallbackFunction's own children (its role and function) are covered too.
        expect(taggable.some((r) => r.type === "aws:iam/role:Role")).to.equal(true);
    });

    it("keeps a component's own tags and leaves non-taggable types alone", () => {
        const stack = { owner: "a", "cost-center": "b" };
        expect(withStackTags("aws:sqs/queue:Queue", { tags: { purpose: "events", owner: "x" } }, stack)).to.deep.equal({
            tags: { purpose: "events", owner: "a", "cost-center": "b" },
        });
        expect(withStackTags("aws:sqs/queuePolicy:QueuePolicy", { policy: "{}" }, stack)).to.equal(undefined);
        expect(withStackTags("aws:sqs/queue:Queue", {}, {})).to.equal(undefined);
    });

    it("no owner configured: nothing is tagged (and the pack's required-tags rule blocks the deploy)", async () => {
        const untagged = await sharedDeployment({
            stack: "dev",
            configOverrides: { "event-ingestion:owner": "", "event-ingestion:costCenter": "" },
        });
        expect(untagged.resources.filter((r) => r.inputs.tags?.[REQUIRED_TAG_KEYS.owner]).length).to.equal(0);
    });
});
