/**
 * Pulumi.localstack.yaml points the AWS provider at an emulator: an endpoint for
 * every AWS service the program touches, the skip flags, path-style S3 and test
 * credentials. The services are derived from what the program registers (and
 * the invokes it makes), so a new resource type without an endpoint fails here.
 */
import { expect } from "chai";
import { sharedDeployment, readStackConfig, type MockDeployment } from "../../local/offline/mock-deployment";

/** Endpoint key for a resource type: the provider module, except where AWS's service differs from Pulumi's module. */
function serviceOf(type: string): string {
    const [, moduleAndResource] = type.split(":");
    const [module, resource] = moduleAndResource.split("/");
    if (
        module === "cloudwatch" &&
        /^(logGroup|logStream|logSubscriptionFilter|logMetricFilter|logResourcePolicy|logDataProtectionPolicy)/.test(resource)
    )
        return "logs";
    // EventBridge rules and targets: the provider's endpoint key is `events` (`cloudwatchevents` is its deprecated alias).
    if (module === "cloudwatch" && /^event/.test(resource)) return "events";
    return module;
}

describe("Pulumi.localstack.yaml", () => {
    const config = readStackConfig("localstack");
    let deployment: MockDeployment;
    before(async () => {
        deployment = await sharedDeployment({ stack: "localstack" });
    });

    it("has an endpoint for every AWS service the program touches", () => {
        const endpoints = (config["aws:endpoints"] as Record<string, string>[])[0];
        const services = new Set(deployment.resources.filter((r) => r.type.startsWith("aws:")).map((r) => serviceOf(r.type)));
        // Invokes: getCallerIdentity (STS); getRegion/getPartition are local to the provider.
        services.add("sts");
        expect(services.size, "the program registers AWS resources").to.be.greaterThan(5);
        for (const expected of ["kms", "sqs", "dynamodb", "lambda", "iam", "logs", "cloudwatch", "sns", "sts"])
            expect([...services]).to.include(expected);
        const missing = [...services].filter((s) => !endpoints[s]);
        expect(missing, "services without an endpoint in Pulumi.localstack.yaml").to.deep.equal([]);
        for (const [service, url] of Object.entries(endpoints)) expect(url, service).to.match(/^http:\/\/(localhost|127\.0\.0\.1):\d+$/);
    });

    it("skips credential validation and account lookup, uses path-style S3 and test credentials only", () => {
        expect(config["aws:skipCredentialsValidation"]).to.equal(true);
        expect(config["aws:skipRequestingAccountId"]).to.equal(true);
        expect(config["aws:s3UsePathStyle"]).to.equal(true);
        expect(config["aws:accessKey"]).to.equal("test");
        expect(config["aws:secretKey"]).to.equal("test");
    });
});
