/**
 * The shared blocks' escape hatches (`queueArgs`, `functionArgs`, `roleArgs`, `logGroupArgs`): a native
 * argument merged over the secure defaults lands on the resource, and the policy pack checks the result
 * as it checks everything else, so an override that weakens a secured setting fails the preview.
 * Each case deploys EncryptedQueue and ServiceFunction alone (tests/policies/fixtures/escape-hatch-program.ts)
 * and compares the pack's findings with the same program without an override.
 */
import { expect } from "chai";
import * as path from "node:path";
import { deployUnderMocks, type MockDeployment } from "../../local/offline/mock-deployment";
import { evaluatePack, fromMockedResources } from "../../policies/testing";
import { QUEUE_ROLE_TAG } from "../../components/shared/encrypted-queue";
import { ENCRYPTED_QUEUE_DEFAULTS, SERVICE_FUNCTION_DEFAULTS } from "../../components/shared/defaults";
import type { OVERRIDES } from "./fixtures/escape-hatch-program";
import { violatedPolicies } from "./helpers";

const PROGRAM = path.join(__dirname, "fixtures", "escape-hatch-program");

async function deploy(override: keyof typeof OVERRIDES): Promise<MockDeployment> {
    return deployUnderMocks({ stack: "dev", config: { "aws:region": "us-east-1", "fixture:override": override }, programPath: PROGRAM });
}

async function policiesViolated(deployment: MockDeployment): Promise<string[]> {
    return violatedPolicies(await evaluatePack(fromMockedResources(deployment.resources), { stack: "dev", project: deployment.project }));
}

function inputsOf(deployment: MockDeployment, type: string, name: string): Record<string, any> {
    const found = deployment.resources.find((r) => r.type === type && r.name === name);
    if (!found) throw new Error(`${type} ${name} not registered`);
    return found.inputs;
}

describe("policies: escape hatches on the shared blocks are checked like everything else", function () {
    this.timeout(120_000);
    let baseline: MockDeployment;
    let baselineViolations: string[];
    before(async () => {
        baseline = await deploy("none");
        baselineViolations = await policiesViolated(baseline);
    });

    /** Policies the override adds to what the block alone already reports (a lone block has no alarms, no tags). */
    const added = async (deployment: MockDeployment) => (await policiesViolated(deployment)).filter((p) => !baselineViolations.includes(p));

    it("the blocks alone keep the secured settings the overrides below break, and apply their own defaults", () => {
        for (const rule of ["sqs-customer-managed-kms", "lambda-tracing-active", "iam-no-aws-managed-policies"])
            expect(baselineViolations, rule).to.not.include(rule);
        const fn = inputsOf(baseline, "aws:lambda/function:Function", "orders-consumer");
        expect(fn).to.deep.include({
            memorySize: SERVICE_FUNCTION_DEFAULTS.memorySizeMb,
            timeout: SERVICE_FUNCTION_DEFAULTS.timeoutSeconds,
        });
        const queue = inputsOf(baseline, "aws:sqs/queue:Queue", "orders");
        expect(queue).to.deep.include({
            kmsDataKeyReusePeriodSeconds: ENCRYPTED_QUEUE_DEFAULTS.kmsDataKeyReusePeriodSeconds,
            maxMessageSize: ENCRYPTED_QUEUE_DEFAULTS.maxMessageSize,
            messageRetentionSeconds: ENCRYPTED_QUEUE_DEFAULTS.messageRetentionSeconds,
        });
    });

    it("a harmless queueArgs lands on the queue, over the defaults, and the pack finds nothing new", async () => {
        const deployment = await deploy("queue-harmless");
        const queue = inputsOf(deployment, "aws:sqs/queue:Queue", "orders");
        expect(queue.delaySeconds).to.equal(5);
        expect(queue.tags).to.deep.include({ team: "orders", [QUEUE_ROLE_TAG]: "source" });
        expect(queue.kmsMasterKeyId, "the secure default stays")
            .to.be.a("string")
            .and.match(/^arn:aws:kms:/);
        expect(inputsOf(baseline, "aws:sqs/queue:Queue", "orders").delaySeconds).to.equal(undefined);
        expect(await added(deployment)).to.deep.equal([]);
    });

    it("a queueArgs that swaps the customer-managed key for SQS's own is caught (sqs-customer-managed-kms)", async () => {
        const deployment = await deploy("queue-aws-managed-key");
        expect(inputsOf(deployment, "aws:sqs/queue:Queue", "orders").sqsManagedSseEnabled).to.equal(true);
        expect(await added(deployment)).to.deep.equal(["sqs-customer-managed-kms"]);
    });

    it("a harmless functionArgs and logGroupArgs land, and the pack finds nothing new", async () => {
        const deployment = await deploy("function-harmless");
        const fn = inputsOf(deployment, "aws:lambda/function:Function", "orders-consumer");
        expect(fn.reservedConcurrentExecutions).to.equal(5);
        expect(fn.tracingConfig).to.deep.equal({ mode: "Active" });
        expect(inputsOf(deployment, "aws:cloudwatch/logGroup:LogGroup", "orders-consumer-logs").tags).to.deep.include({ team: "orders" });
        expect(await added(deployment)).to.deep.equal([]);
    });

    it("a functionArgs that turns X-Ray off is caught (lambda-tracing-active)", async () => {
        const deployment = await deploy("function-tracing-off");
        expect(inputsOf(deployment, "aws:lambda/function:Function", "orders-consumer").tracingConfig).to.deep.equal({
            mode: "PassThrough",
        });
        expect(await added(deployment)).to.deep.equal(["lambda-tracing-active"]);
    });

    it("a roleArgs that attaches an AWS managed policy is caught (iam-no-aws-managed-policies)", async () => {
        const deployment = await deploy("role-managed-policy");
        expect(await added(deployment)).to.deep.equal(["iam-no-aws-managed-policies"]);
    });
});
