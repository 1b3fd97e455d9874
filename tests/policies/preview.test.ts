/**
 * The real program as `pulumi preview` of a brand-new stack shows it to the pack: computed
 * ARNs/URLs/ids unknown (tests/policies/fixtures/preview.ts). No false violations; key
 * references pass silently; what cannot be judged yet is deferred (the engine's advisory
 * "can't run during preview"), never passed.
 */
import { expect } from "chai";
import { deployedStack } from "./deployments";
import { evaluatePack, fromMockedResources, unknown } from "../../policies/testing";
import { readPackConfig } from "../../scripts/policy-check";
import { simulateFreshPreview } from "./fixtures/preview";

describe("policies: the real program during preview of a new stack (unknown values)", function () {
    this.timeout(120_000);

    for (const stack of ["dev", "localstack"]) {
        it(`stack ${stack}: no violations, key references accepted, the rest deferred to pulumi up`, async () => {
            const deployment = await deployedStack(stack);
            const preview = simulateFreshPreview(fromMockedResources(deployment.resources));
            const queue = preview.find((r) => r.type === "aws:sqs/queue:Queue")!;
            expect(queue.inputs.kmsMasterKeyId, "the simulation makes key ARNs unknown").to.equal(unknown.string);

            const evaluation = await evaluatePack(preview, { stack, config: readPackConfig(stack) });
            expect(evaluation.violations.map((v) => `${v.policy} ${v.resourceName}: ${v.message}`)).to.deep.equal([]);
            const deferred = new Set(evaluation.deferred.map((d) => d.policy));
            for (const policy of [
                "sqs-customer-managed-kms",
                "sns-customer-managed-kms",
                "dynamodb-customer-managed-kms",
                "log-group-customer-managed-kms",
                "kms-key-rotation",
                "lambda-tracing-active",
                "sqs-event-source-reports-batch-item-failures",
            ]) {
                expect(deferred.has(policy), `${policy} must decide during preview`).to.equal(false);
            }
            console.log(`      deferred on ${stack}: ${[...deferred].sort().join(", ") || "nothing"}`);
        });
    }
});
