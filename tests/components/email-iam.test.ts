/**
 * The policy pack (CrossGuard rules, in-process harness) on the email service's
 * resources as the program declares them, and two negative checks proving the
 * pack would notice if the email service regressed.
 */
import { expect } from "chai";
import { sharedDeployment, MOCK_ACCOUNT_ID, type MockDeployment } from "../../local/offline/mock-deployment";
import { evaluatePack, fromMockedResources } from "../../policies/testing";
import type { PolicyDocument } from "../../components/shared/iam-documents";
import { decide, type AccessRequest } from "../support/iam";
import { one, policyOf } from "./helpers";
import { emailServiceDeployment } from "./programs";

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
        // The email service alone (./programs): the setting is its own.
        const open = await emailServiceDeployment({ stack: "dev", configOverrides: { "event-ingestion:emailApiAuthorization": "NONE" } });
        const evaluation = await evaluatePack(fromMockedResources(open.resources), { stack: "dev" });
        expect(evaluation.mandatory.map((v) => `${v.policy} ${v.resourceName}`)).to.include.members([
            "apigateway-route-authorization email-http-send",
            "apigateway-route-authorization email-http-status",
            "apigateway-route-authorization email-http-cancel",
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

/**
 * `DELETE /v1/emails/{id}` deletes the cancelled email's schedule with the API function's role, simulated both
 * ways on the deployed policies. The schedule ARN format and the actions each operation authorizes are the
 * Service Authorization Reference's ("Actions, resources, and condition keys for Amazon EventBridge Scheduler":
 * `schedule/<group>/<name>`; DeleteSchedule authorizes `scheduler:DeleteSchedule` alone, CreateSchedule also
 * `iam:PassRole`); the request is the EventBridge Scheduler API Reference's "DeleteSchedule".
 */
describe("IAM: cancelling a scheduled email (dev stack, mocks, IAM simulator)", function () {
    this.timeout(120_000);
    const REGION = "us-east-1";
    let deployment: MockDeployment;
    let role: string;
    let policy: PolicyDocument;
    let group: string;
    const schedule = (name: string, groupName = group, account = MOCK_ACCOUNT_ID, region = REGION) =>
        `arn:aws:scheduler:${region}:${account}:schedule/${groupName}/${name}`;
    const decisions = async (requests: AccessRequest[]) =>
        Promise.all(
            requests.map(
                async (request) =>
                    `${request.action} ${request.resource} -> ${await decide({ principal: role, identityPolicies: [policy] }, request)}`,
            ),
        );

    before(async () => {
        deployment = await sharedDeployment({ stack: "dev" });
        role = one(deployment, "aws:iam/role:Role", "email-api-role").state.arn as string;
        policy = policyOf(one(deployment, "aws:iam/rolePolicy:RolePolicy", "email-api-policy").inputs.policy);
        group = one(deployment, "aws:scheduler/scheduleGroup:ScheduleGroup", "email-schedules").inputs.name as string;
    });

    it("API Gateway invokes the API function from the DELETE /v1/emails/{id} route of this API only [Amazon API Gateway Developer Guide: Create AWS Lambda proxy integrations for HTTP APIs]", async () => {
        const permission = one(deployment, "aws:lambda/permission:Permission", "email-http-invoke-cancel");
        const fn = one(deployment, "aws:lambda/function:Function", "email-api");
        expect(permission.inputs.function).to.equal(fn.state.name);
        const functionPolicy: PolicyDocument = {
            Version: "2012-10-17",
            Statement: [
                {
                    Effect: "Allow",
                    Principal: { Service: permission.inputs.principal },
                    Action: permission.inputs.action,
                    Resource: fn.state.arn,
                    Condition: { ArnLike: { "AWS:SourceArn": permission.inputs.sourceArn } },
                },
            ],
        };
        const api = one(deployment, "aws:apigatewayv2/api:Api", "email-http").state.executionArn as string;
        const invoke = async (sourceArn: string) =>
            decide(
                { principal: "apigateway.amazonaws.com", identityPolicies: [], resourcePolicy: functionPolicy },
                { action: "lambda:InvokeFunction", resource: fn.state.arn, context: { "aws:SourceArn": sourceArn } },
            );
        expect(await invoke(`${api}/$default/DELETE/v1/emails/0190c5b2-aaaa`)).to.equal("Allowed");
        for (const other of [
            `${api}/$default/PUT/v1/emails/0190c5b2-aaaa`,
            `${api}/$default/DELETE/v1/emails`,
            `arn:aws:execute-api:${REGION}:${MOCK_ACCOUNT_ID}:otherapi/$default/DELETE/v1/emails/x`,
        ])
            expect(await invoke(other), other).to.not.equal("Allowed");
    });

    it("the API function may delete an email's schedule in the service's group", async () => {
        const allowed = [{ action: "scheduler:DeleteSchedule", resource: schedule("email-0190c5b2-aaaa") }];
        expect(await decisions(allowed)).to.deep.equal(allowed.map((r) => `${r.action} ${r.resource} -> Allowed`));
    });

    it("and nothing near it: other groups, other schedules, other accounts and regions, other actions, no PassRole", async () => {
        const schedulerRole = one(deployment, "aws:iam/role:Role", "email-scheduler-role").state.arn as string;
        const denied: AccessRequest[] = [
            { action: "scheduler:DeleteSchedule", resource: schedule("email-0190c5b2-aaaa", "default") },
            { action: "scheduler:DeleteSchedule", resource: schedule("email-0190c5b2-aaaa", "other-team-schedules") },
            { action: "scheduler:DeleteSchedule", resource: schedule("nightly-report") },
            { action: "scheduler:DeleteSchedule", resource: schedule("email-0190c5b2-aaaa", group, "999999999999") },
            { action: "scheduler:DeleteSchedule", resource: schedule("email-0190c5b2-aaaa", group, MOCK_ACCOUNT_ID, "eu-west-1") },
            { action: "scheduler:CreateSchedule", resource: schedule("email-0190c5b2-aaaa") },
            { action: "scheduler:UpdateSchedule", resource: schedule("email-0190c5b2-aaaa") },
            { action: "scheduler:GetSchedule", resource: schedule("email-0190c5b2-aaaa") },
            {
                action: "scheduler:DeleteScheduleGroup",
                resource: `arn:aws:scheduler:${REGION}:${MOCK_ACCOUNT_ID}:schedule-group/${group}`,
            },
            { action: "iam:PassRole", resource: schedulerRole, context: { "iam:PassedToService": "scheduler.amazonaws.com" } },
        ];
        expect(await decisions(denied)).to.deep.equal(denied.map((r) => `${r.action} ${r.resource} -> ImplicitlyDenied`));
    });
});
