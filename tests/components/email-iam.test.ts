/**
 * The policy pack (CrossGuard rules, in-process harness) on the email service's
 * resources as the program declares them, and two negative checks proving the
 * pack would notice if the email service regressed.
 */
import { expect } from "chai";
import { sharedDeployment, type MockDeployment } from "../../local/offline/mock-deployment";
import { evaluatePack, fromMockedResources } from "../../policies/testing";

const EMAIL = /^email(-|$)/;

describe("policy pack on the email service (dev stack, mocks)", function () {
    this.timeout(120_000);
    let deployment: MockDeployment;
    before(async () => {
        deployment = await sharedDeployment({ stack: "dev" });
    });

    it("evaluates every email resource and finds no mandatory or advisory violation", async () => {
        const evaluation = await evaluatePack(fromMockedResources(deployment.resources), { stack: "dev" });
        const emailResources = evaluation.resources.filter((r) => EMAIL.test(r.name));
        expect(emailResources.length).to.be.greaterThan(30);
        const onEmail = evaluation.violations.filter((v) => v.resourceName && EMAIL.test(v.resourceName));
        expect(onEmail, JSON.stringify(onEmail, null, 2)).to.deep.equal([]);
        // The rules really looked at them (not "not applicable" everywhere).
        const checked = new Set<string>();
        for (const [, cells] of evaluation.cells)
            for (const [urn, status] of cells) if (status === "pass" && /::email/.test(urn)) checked.add(urn);
        expect(checked.size).to.be.greaterThan(20);
    });

    it("would fail a route without authorization (emailApiAuthorization NONE)", async () => {
        const open = await sharedDeployment({ stack: "dev", configOverrides: { "event-ingestion:emailApiAuthorization": "NONE" } });
        const evaluation = await evaluatePack(fromMockedResources(open.resources), { stack: "dev" });
        expect(evaluation.mandatory.map((v) => `${v.policy} ${v.resourceName}`)).to.include.members([
            "apigateway-route-authorization email-http-send",
            "apigateway-route-authorization email-http-status",
        ]);
    });

    it("checks the status table like every table: it would fail without its customer-managed key or PITR", async () => {
        const tampered = deployment.resources.map((r) =>
            r.name === "email-status"
                ? { ...r, inputs: { ...r.inputs, serverSideEncryption: { enabled: false }, pointInTimeRecovery: { enabled: false } } }
                : r,
        );
        const evaluation = await evaluatePack(fromMockedResources(tampered), { stack: "dev" });
        const onStatus = evaluation.mandatory.filter((v) => v.resourceName === "email-status").map((v) => v.policy);
        expect(onStatus.length, JSON.stringify(onStatus)).to.be.greaterThanOrEqual(2);
    });

    it("would fail if the content bucket lost its customer-managed key", async () => {
        const tampered = deployment.resources.map((r) =>
            r.name === "email-content-encryption"
                ? {
                      ...r,
                      inputs: {
                          ...r.inputs,
                          rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
                      },
                  }
                : r,
        );
        const evaluation = await evaluatePack(fromMockedResources(tampered), { stack: "dev" });
        expect(evaluation.mandatory.map((v) => v.policy)).to.include("s3-customer-managed-kms");
    });

    it("checks the status bus and its stream mapping: it would fail a bus without the customer-managed key", async () => {
        const bus = deployment.resources.find((r) => r.type === "aws:cloudwatch/eventBus:EventBus" && r.name === "email-status-bus");
        expect(bus, "the dev stack has the email status bus").to.not.equal(undefined);
        const clean = await evaluatePack(fromMockedResources(deployment.resources), { stack: "dev" });
        const onBus = [...clean.cells.entries()].filter(([, cells]) =>
            [...cells].some(([urn, status]) => urn.endsWith("::email-status-bus") && status === "pass"),
        );
        expect(onBus.map(([policy]) => policy)).to.include.members(["eventbus-customer-managed-kms", "required-tags"]);
        const tampered = deployment.resources.map((r) => (r === bus ? { ...r, inputs: { ...r.inputs, kmsKeyIdentifier: undefined } } : r));
        const evaluation = await evaluatePack(fromMockedResources(tampered), { stack: "dev" });
        expect(evaluation.mandatory.map((v) => `${v.policy} ${v.resourceName}`)).to.include(
            "eventbus-customer-managed-kms email-status-bus",
        );
    });
});
