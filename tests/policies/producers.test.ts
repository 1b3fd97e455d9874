/**
 * The policy pack on a stack with producers configured (tenant isolation): the producer roles trust
 * exact AWS principals from config, which the trust-policy rule allows only for roles tagged as
 * producer roles, and never as "*" or a wildcard.
 */
import { expect } from "chai";
import { sharedDeployment, type MockDeployment } from "../../local/offline/mock-deployment";
import { evaluatePack, fromMockedResources } from "../../policies/testing";
import { readPackConfig } from "../../scripts/policy-check";
import { clone, set } from "./fixtures/resources";

const PRODUCERS = {
    alpha: { tenants: ["tenant-a"], principals: ["arn:aws:iam::111122223333:role/alpha-app"] },
    beta: { tenants: ["tenant-b"], principals: ["444455556666"], externalId: "beta-external-id" },
};

describe("policies: a stack with producer roles", function () {
    this.timeout(120_000);
    let deployment: MockDeployment;
    before(async () => {
        deployment = await sharedDeployment({ stack: "dev", configOverrides: { "event-ingestion:producers": PRODUCERS } });
    });
    const evaluate = (resources: ReturnType<typeof fromMockedResources>) =>
        evaluatePack(resources, { stack: "dev", project: deployment.project, config: readPackConfig("dev") });

    it("passes every policy with zero violations", async () => {
        const evaluation = await evaluate(fromMockedResources(deployment.resources));
        expect(evaluation.violations.map((v) => `${v.policy} ${v.resourceName ?? ""}: ${v.message}`)).to.deep.equal([]);
        expect(evaluation.deferred).to.deep.equal([]);
    });

    it("still refuses a producer role that trusts anyone or a wildcard, and a service role that trusts an account", async () => {
        const resources = clone(fromMockedResources(deployment.resources));
        const alpha = resources.find((r) => r.type === "aws:iam/role:Role" && r.name === "events-producer-alpha")!;
        const trust = JSON.parse(alpha.inputs!.assumeRolePolicy as string);
        trust.Statement[0].Principal = { AWS: ["*", "arn:aws:iam::*:role/x"] };
        set(alpha, "assumeRolePolicy", JSON.stringify(trust));
        const processorRole = resources.find((r) => r.type === "aws:iam/role:Role" && r.name === "event-processor-role")!;
        const processorTrust = JSON.parse(processorRole.inputs!.assumeRolePolicy as string);
        processorTrust.Statement[0].Principal = { AWS: "111122223333" };
        set(processorRole, "assumeRolePolicy", JSON.stringify(processorTrust));
        const messages = (await evaluate(resources)).violations
            .filter((v) => v.policy === "iam-trust-policy-service-principals")
            .map((v) => `${v.resourceName}: ${v.message}`);
        expect(messages.some((m) => m.startsWith("events-producer-alpha") && m.includes('"*"'))).to.equal(true);
        expect(messages.some((m) => m.startsWith("events-producer-alpha") && m.includes("arn:aws:iam::*:role/x"))).to.equal(true);
        expect(messages.some((m) => m.startsWith("event-processor-role") && m.includes("111122223333"))).to.equal(true);
    });
});
