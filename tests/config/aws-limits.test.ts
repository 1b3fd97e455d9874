/**
 * Config that AWS would refuse at deploy time, or read differently than meant, fails the
 * preview: every problem at once, each naming the key, the value and the AWS rule. The size
 * estimates config uses are proven never short by deploying the largest accepted config under
 * mocks and measuring what Lambda and IAM would measure.
 */
import { expect } from "chai";
import { ConfigValidationError, parseStackConfig } from "../../config";
import { EMAIL_CONFIG_ENVIRONMENT_BUDGET_BYTES } from "../../config/email-service";
import {
    IAM_INLINE_POLICY_MAX_CHARACTERS_PER_ROLE,
    IAM_ROLE_TRUST_POLICY_MAX_CHARACTERS,
    iamPolicyCharacters,
    LAMBDA_ENVIRONMENT_FIXED_RESERVE_BYTES,
    LAMBDA_ENVIRONMENT_MAX_BYTES,
    lambdaEnvironmentBytes,
} from "../../components/shared/aws-quotas";
import { EMAIL_ENV } from "../../contracts/email-service";
import { EVENT_PROCESSOR_ENV } from "../../contracts/event-pipeline";
import { readStackConfig, sharedDeployment } from "../../local/offline/mock-deployment";
import { componentArgs } from "../../config/component-args";
import { emailServiceDeployment } from "../components/programs";

/** The AWS pages the rules follow (titles as AWS publishes them). */
const DOCS = {
    lambdaQuotas: "AWS Lambda Developer Guide: Lambda quotas (function environment variables: 4 KB in aggregate)",
    iamQuotas: "IAM User Guide: IAM and AWS STS quotas (role policy size 10,240 characters; role trust policy length 2,048)",
    iamResource: "IAM User Guide: IAM JSON policy elements: Resource (wildcards * and ? within any ARN segment)",
    iamIdentifiers:
        "IAM User Guide: IAM identifiers (assumed-role session ARNs: arn:aws:sts::<account>:assumed-role/<role-name>/<session>)",
} as const;

const REGION = { "aws:region": "us-east-1" };
const NS = "event-ingestion";

function issuesOf(raw: Record<string, unknown>): ConfigValidationError {
    const asGiven = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
    try {
        parseStackConfig(asGiven);
    } catch (error) {
        expect(error).to.be.instanceOf(ConfigValidationError);
        return error as ConfigValidationError;
    }
    throw new Error("expected a ConfigValidationError");
}
/** The component arguments the program builds from a stack config (config/component-args.ts). */
const argsOf = (raw: Record<string, unknown>) =>
    componentArgs(
        parseStackConfig(Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]))),
    );
const accepts = (raw: Record<string, unknown>) => {
    try {
        parseStackConfig(Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])));
        return true;
    } catch (error) {
        if (error instanceof ConfigValidationError) return false;
        throw error;
    }
};

const identity = (i: number) => `team-${String(i).padStart(3, "0")}.mail.example.com`;
const caller = (i: number) => `arn:aws:iam::111122223333:role/email-caller-${String(i).padStart(3, "0")}`;
const longPathRole = (i: number) => `arn:aws:iam::111122223333:role/${"platform/ingestion/".repeat(4)}producer-${i}`;

/** The largest `count` for which `build(count)` is accepted. */
function largestAccepted(build: (count: number) => Record<string, unknown>): number {
    let count = 1;
    while (accepts(build(count + 1))) count++;
    return count;
}

describe("config: what AWS would refuse or read as a wildcard fails the preview", function () {
    this.timeout(120_000);

    it(`a producer's trust policy longer than IAM's role trust policy quota, naming the producer and the limit [${DOCS.iamQuotas}]`, () => {
        const producers = (count: number) => ({
            orders: { tenants: ["acme"], principals: Array.from({ length: count }, (_, i) => longPathRole(i)) },
        });
        const error = issuesOf({ ...REGION, [`${NS}:producers`]: producers(20) });
        const issue = error.issues.find((i) => i.key === `${NS}:producers`)!;
        expect(issue.allowed).to.include("orders.principals").and.include(`IAM allows ${IAM_ROLE_TRUST_POLICY_MAX_CHARACTERS}`);
        expect(accepts({ ...REGION, [`${NS}:producers`]: producers(2) })).to.equal(true);
    });

    it(`an SES identity with * or ? (an IAM wildcard in ses:SendEmail's resource), each named [${DOCS.iamResource}]`, () => {
        const error = issuesOf({
            ...REGION,
            [`${NS}:emailSesIdentities`]: ["*@example.com", "shop?@example.com", "example.com"],
            [`${NS}:emailSenders`]: { [caller(1)]: ["*@example.com"] },
        });
        const messages = error.issues.map((i) => `${i.key}: ${i.allowed}`);
        expect(messages.filter((m) => m.startsWith(`${NS}:emailSesIdentities: "*@example.com" contains "*"`))).to.have.length(1);
        expect(messages.filter((m) => m.startsWith(`${NS}:emailSesIdentities: "shop?@example.com" contains "?"`))).to.have.length(1);
        expect(messages.some((m) => m.startsWith(`${NS}:emailSenders: ${caller(1)}: "*@example.com" contains "*"`))).to.equal(true);
        expect(messages.join("\n")).to.not.include('"example.com" contains');
    });

    it(`an emailSenders key for a role with a path, which an assumed-role session ARN never carries [${DOCS.iamIdentifiers}]`, () => {
        const withPath = "arn:aws:iam::111122223333:role/service-role/billing";
        const error = issuesOf({
            ...REGION,
            [`${NS}:emailSesIdentities`]: ["example.com"],
            [`${NS}:emailSenders`]: { [withPath]: ["example.com"], [caller(1)]: ["example.com"] },
        });
        expect(error.issues).to.have.length(1);
        expect(error.issues[0].key).to.equal(`${NS}:emailSenders`);
        expect(error.issues[0].allowed)
            .to.include(withPath)
            .and.include("arn:aws:sts::111122223333:assumed-role/billing/<session>")
            .and.include("use arn:aws:iam::111122223333:role/billing");
        // a user's ARN keeps its path when it signs: accepted
        expect(
            accepts({
                ...REGION,
                [`${NS}:emailSesIdentities`]: ["example.com"],
                [`${NS}:emailSenders`]: { "arn:aws:iam::111122223333:user/ops/billing": ["example.com"] },
            }),
        ).to.equal(true);
    });

    it(`EMAIL_ALLOWED_SENDERS and EMAIL_SENDING_IDENTITIES past the API's environment budget, on the key that grows [${DOCS.lambdaQuotas}]`, () => {
        const senders = (count: number) => Object.fromEntries(Array.from({ length: count }, (_, i) => [caller(i), ["example.com"]]));
        const bySenders = issuesOf({ ...REGION, [`${NS}:emailSesIdentities`]: ["example.com"], [`${NS}:emailSenders`]: senders(60) });
        expect(bySenders.issues.map((i) => i.key)).to.deep.equal([`${NS}:emailSenders`]);
        expect(bySenders.issues[0].allowed)
            .to.include("EMAIL_ALLOWED_SENDERS")
            .and.include(`may take ${EMAIL_CONFIG_ENVIRONMENT_BUDGET_BYTES}`)
            .and.include(`${LAMBDA_ENVIRONMENT_MAX_BYTES} bytes`);
        // without callers, the identities alone: reported on them (with the worker's policy size, which they also pass)
        const identities = Array.from({ length: 160 }, (_, i) => identity(i));
        const byIdentities = issuesOf({ ...REGION, [`${NS}:emailSesIdentities`]: identities });
        const keys = byIdentities.issues.map((i) => i.key);
        expect(keys.every((k) => k === `${NS}:emailSesIdentities`)).to.equal(true);
        expect(byIdentities.issues.map((i) => i.allowed).join("\n")).to.include("EMAIL_SENDING_IDENTITIES");
    });

    it(`SES identities past the worker's inline policy quota (one ses:SendEmail resource each), naming the limit [${DOCS.iamQuotas}]`, () => {
        const identities = Array.from({ length: 140 }, (_, i) => identity(i));
        const error = issuesOf({ ...REGION, [`${NS}:emailSesIdentities`]: identities });
        expect(error.issues.map((i) => i.allowed).join("\n"))
            .to.include("140 identities make the email worker's inline policy")
            .and.include(`IAM allows ${IAM_INLINE_POLICY_MAX_CHARACTERS_PER_ROLE} per role`);
    });

    describe("the estimates are never short: the largest accepted config, deployed under mocks, fits every quota", () => {
        it(`the email API's environment and the worker's policy at the largest accepted config; every function's own variables within the reserve [${DOCS.lambdaQuotas}; ${DOCS.iamQuotas}]`, async () => {
            const identityCount = largestAccepted((count) => ({
                ...REGION,
                [`${NS}:emailSesIdentities`]: Array.from({ length: count }, (_, i) => identity(i)),
            }));
            const identities = Array.from({ length: identityCount }, (_, i) => identity(i));
            const callerCount = largestAccepted((count) => ({
                ...REGION,
                [`${NS}:emailSesIdentities`]: identities.slice(0, 2),
                [`${NS}:emailSenders`]: Object.fromEntries(Array.from({ length: count }, (_, i) => [caller(i), identities.slice(0, 2)])),
            }));
            expect(identityCount, "identities accepted").to.be.greaterThan(50);
            expect(callerCount, "callers accepted").to.be.greaterThan(20);
            for (const config of [
                { [`${NS}:emailSesIdentities`]: identities },
                {
                    [`${NS}:emailSesIdentities`]: identities.slice(0, 2),
                    [`${NS}:emailSenders`]: Object.fromEntries(
                        Array.from({ length: callerCount }, (_, i) => [caller(i), identities.slice(0, 2)]),
                    ),
                },
            ]) {
                // The email service alone (tests/components/programs.ts): these settings are the email service's own.
                const d = await emailServiceDeployment({ stack: "dev", configOverrides: { ...config } });
                const fn = (name: string) => d.resources.find((r) => r.type === "aws:lambda/function:Function" && r.name === name)!;
                const api = fn("email-api").inputs.environment.variables as Record<string, string>;
                expect(api[EMAIL_ENV.sendingIdentities], "the identities reached the environment").to.be.a("string");
                expect(lambdaEnvironmentBytes(api), "email API environment").to.be.at.most(LAMBDA_ENVIRONMENT_MAX_BYTES);
                const workerPolicy = d.resources.find(
                    (r) => r.type === "aws:iam/rolePolicy:RolePolicy" && r.name === "email-worker-policy",
                )!;
                expect(iamPolicyCharacters(JSON.parse(workerPolicy.inputs.policy)), "email worker policy").to.be.at.most(
                    IAM_INLINE_POLICY_MAX_CHARACTERS_PER_ROLE,
                );
                // What config does not drive fits the reserve the budgets leave, in every function.
                const configDriven: string[] = [EMAIL_ENV.sendingIdentities, EMAIL_ENV.allowedSenders, EVENT_PROCESSOR_ENV.producerTenants];
                const functions = d.resources.filter((r) => r.type === "aws:lambda/function:Function");
                expect(functions.length).to.be.greaterThan(2);
                for (const each of functions) {
                    const variables = { ...(each.inputs.environment?.variables ?? {}) } as Record<string, string>;
                    for (const name of configDriven) delete variables[name];
                    expect(lambdaEnvironmentBytes(variables), each.name).to.be.at.most(LAMBDA_ENVIRONMENT_FIXED_RESERVE_BYTES);
                }
                // The rest of the program is built from the other component arguments (program.ts), which these
                // settings leave as the dev stack has them: its functions are the dev stack's, checked below.
                const { email: _email, ...rest } = argsOf({ ...readStackConfig("dev"), ...config });
                const { email: _devEmail, ...devRest } = argsOf(readStackConfig("dev"));
                expect(rest, "the event pipeline's and the shared arguments").to.deep.equal(devRest);
            }
            // What config does not drive fits the reserve in every function of the whole program (the event processor too).
            const dev = await sharedDeployment({ stack: "dev" });
            const configDriven: string[] = [EMAIL_ENV.sendingIdentities, EMAIL_ENV.allowedSenders, EVENT_PROCESSOR_ENV.producerTenants];
            const functions = dev.resources.filter((r) => r.type === "aws:lambda/function:Function");
            expect(functions.map((f) => f.name)).to.include("event-processor");
            for (const each of functions) {
                const variables = { ...(each.inputs.environment?.variables ?? {}) } as Record<string, string>;
                for (const name of configDriven) delete variables[name];
                expect(lambdaEnvironmentBytes(variables), each.name).to.be.at.most(LAMBDA_ENVIRONMENT_FIXED_RESERVE_BYTES);
            }
        });
    });
});
