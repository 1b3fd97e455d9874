import { expect } from "chai";
import { unknown } from "../../policies/testing";
import { UNSCOPABLE_ACTIONS } from "../../policies/lib/catalog";
import { compliantStack, pick, set, resource, iamPolicy, role, assumeRole, ACCOUNT, lambdaFunction } from "./fixtures/resources";
import { evaluate, expectOnly, expectClean, violatedPolicies } from "./helpers";

const TABLE_ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/events";

/** The compliant stack plus one identity policy document (JSON string or object). */
async function withPolicy(document: unknown) {
    return evaluate([...compliantStack(), iamPolicy("under-test", document)]);
}

describe("policies: least privilege IAM", () => {
    describe("iam-no-wildcard-actions", () => {
        const cases: [string, unknown][] = [
            [
                "a service-wide action in a single-object Statement with a string Action",
                { Version: "2012-10-17", Statement: { Effect: "Allow", Action: "dynamodb:*", Resource: TABLE_ARN } },
            ],
            ['"*" as a JSON string document', JSON.stringify({ Statement: [{ Effect: "Allow", Action: ["*"], Resource: TABLE_ARN }] })],
            [
                "mixed case sqs:* inside an action array",
                { Statement: [{ Effect: "Allow", Action: ["sqs:SendMessage", "SQS:*"], Resource: TABLE_ARN }] },
            ],
            ['lowercase "allow" effect', { Statement: [{ Effect: "allow", Action: "kms:*", Resource: TABLE_ARN }] }],
        ];
        for (const [label, document] of cases) {
            it(`flags ${label}`, async () => {
                expectOnly(await withPolicy(document), "iam-no-wildcard-actions");
            });
        }

        for (const action of ["s*:*", "*:*", "sqs:**", "*:SendMessage", "dynamodb:?*"]) {
            it(`flags the service-wide pattern ${action}`, async () => {
                expectOnly(
                    await withPolicy({ Statement: { Effect: "Allow", Action: action, Resource: TABLE_ARN } }),
                    "iam-no-wildcard-actions",
                );
            });
        }

        it("ignores wildcards in Deny statements", async () => {
            expectClean(
                await withPolicy({
                    Statement: [{ Effect: "Deny", Action: "*", Resource: "*", Condition: { Bool: { "aws:SecureTransport": "false" } } }],
                }),
            );
        });

        it("finds the wildcard in a role's inline policy and in a RolePolicy", async () => {
            const stack = compliantStack();
            set(pick(stack, "event-processor-role"), "inlinePolicies", [
                {
                    name: "ok",
                    policy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: "sqs:SendMessage", Resource: TABLE_ARN }] }),
                },
                { name: "bad", policy: JSON.stringify({ Statement: [{ Effect: "Allow", Action: "dynamodb:*", Resource: TABLE_ARN }] }) },
            ]);
            const [message] = expectOnly(await evaluate(stack), "iam-no-wildcard-actions");
            expect(message).to.include('inlinePolicies["bad"]');

            const other = compliantStack();
            set(
                pick(other, "event-processor-role-policy"),
                "policy",
                JSON.stringify({ Statement: { Effect: "Allow", Action: "dynamodb:*", Resource: TABLE_ARN } }),
            );
            expectOnly(await evaluate(other), "iam-no-wildcard-actions");
        });
    });

    describe("iam-no-wildcard-resources", () => {
        it('flags Resource "*" for a scopable action', async () => {
            const [message] = expectOnly(
                await withPolicy({ Statement: { Effect: "Allow", Action: "sqs:SendMessage", Resource: "*" } }),
                "iam-no-wildcard-resources",
            );
            expect(message).to.include("sqs:SendMessage");
        });

        it("flags an ARN whose resource part is only *", async () => {
            expectOnly(
                await withPolicy({
                    Statement: { Effect: "Allow", Action: "sqs:SendMessage", Resource: `arn:aws:sqs:us-east-1:${ACCOUNT}:*` },
                }),
                "iam-no-wildcard-resources",
            );
        });

        it("allows every documented unscopable action on *, alone or together", async () => {
            expectClean(await withPolicy({ Statement: [{ Effect: "Allow", Action: Object.keys(UNSCOPABLE_ACTIONS), Resource: "*" }] }));
            for (const action of Object.keys(UNSCOPABLE_ACTIONS)) {
                expectClean(await withPolicy(JSON.stringify({ Statement: { Effect: "Allow", Action: action, Resource: "*" } })));
            }
        });

        it("flags a scopable action smuggled into an unscopable statement", async () => {
            const [message] = expectOnly(
                await withPolicy({
                    Statement: [{ Effect: "Allow", Action: ["xray:PutTraceSegments", "dynamodb:PutItem"], Resource: ["*"] }],
                }),
                "iam-no-wildcard-resources",
            );
            expect(message).to.include("dynamodb:PutItem").and.not.include("xray:PutTraceSegments");
        });

        for (const resource of [
            `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/*`,
            `arn:aws:lambda:us-east-1:${ACCOUNT}:function:*`,
            "arn:*",
            `arn:aws:*:us-east-1:${ACCOUNT}:x`,
            "arn:aws:sqs:*:*:*",
        ]) {
            it(`flags every-resource-of-a-kind ${resource}`, async () => {
                expectOnly(
                    await withPolicy({ Statement: { Effect: "Allow", Action: "dynamodb:GetItem", Resource: resource } }),
                    "iam-no-wildcard-resources",
                );
            });
        }

        it("does not confuse a wildcard inside a resource with a wildcard resource", async () => {
            expectClean(
                await withPolicy({
                    Statement: {
                        Effect: "Allow",
                        Action: "dynamodb:GetRecords",
                        Resource: `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/events/stream/*`,
                    },
                }),
            );
            expectClean(
                await withPolicy({ Statement: { Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::email-content/*" } }),
            );
            expectClean(
                await withPolicy({
                    Statement: {
                        Effect: "Allow",
                        Action: "execute-api:Invoke",
                        Resource: `arn:aws:execute-api:us-east-1:${ACCOUNT}:a1b2c3/*`,
                    },
                }),
            );
        });

        it("does not confuse a log-stream wildcard inside an ARN with a wildcard resource", async () => {
            expectClean(
                await withPolicy({
                    Statement: [
                        {
                            Effect: "Allow",
                            Action: "logs:PutLogEvents",
                            Resource: `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/x:log-stream:*`,
                        },
                    ],
                }),
            );
        });
    });

    it("iam-no-allow-with-not-action-or-not-resource flags NotAction and NotResource in Allow only", async () => {
        expectOnly(
            await withPolicy({ Statement: { Effect: "Allow", NotAction: "iam:CreateUser", Resource: TABLE_ARN } }),
            "iam-no-allow-with-not-action-or-not-resource",
        );
        expectOnly(
            await withPolicy({ Statement: { Effect: "Allow", Action: "dynamodb:GetItem", NotResource: TABLE_ARN } }),
            "iam-no-allow-with-not-action-or-not-resource",
        );
        expectClean(await withPolicy({ Statement: [{ Effect: "Deny", NotAction: "dynamodb:GetItem", Resource: TABLE_ARN }] }));
    });

    it("reports a document that is not valid JSON instead of passing it", async () => {
        const evaluation = await withPolicy('{"Statement": [');
        expect(violatedPolicies(evaluation)).to.include("iam-no-wildcard-actions");
        expect(evaluation.violations[0].message).to.match(/not valid JSON/);
    });

    describe("iam-no-aws-managed-policies", () => {
        for (const arn of [
            "arn:aws:iam::aws:policy/AmazonSQSFullAccess",
            "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
            "arn:aws-us-gov:iam::aws:policy/AdministratorAccess",
        ]) {
            it(`flags ${arn} as a RolePolicyAttachment and in managedPolicyArns`, async () => {
                const attachment = resource("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "attach", {
                    role: "event-processor-role",
                    policyArn: arn,
                });
                expectOnly(await evaluate([...compliantStack(), attachment]), "iam-no-aws-managed-policies");
                const stack = compliantStack();
                set(pick(stack, "event-processor-role"), "managedPolicyArns", [arn]);
                expectOnly(await evaluate(stack), "iam-no-aws-managed-policies");
            });
        }

        it("accepts a customer managed policy (known or computed ARN)", async () => {
            const known = resource("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "attach", {
                role: "r",
                policyArn: `arn:aws:iam::${ACCOUNT}:policy/events-table-read`,
            });
            const computed = resource("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "attach2", {
                role: "r",
                policyArn: unknown.string,
            });
            expectClean(await evaluate([...compliantStack(), known, computed]));
        });
    });

    describe("iam-trust-policy-service-principals", () => {
        const trust = (statement: unknown) => JSON.stringify({ Version: "2012-10-17", Statement: statement });
        const cases: [string, string][] = [
            ["anyone", trust({ Effect: "Allow", Principal: "*", Action: "sts:AssumeRole" })],
            [
                "an account root",
                trust([
                    { Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" },
                    { Effect: "Allow", Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: "sts:AssumeRole" },
                ]),
            ],
            [
                "a second service on a Lambda role",
                trust({ Effect: "Allow", Principal: { Service: ["lambda.amazonaws.com", "ec2.amazonaws.com"] }, Action: "sts:AssumeRole" }),
            ],
            ["the wrong service on a Lambda role", assumeRole("ec2.amazonaws.com")],
            ["a wildcard service", trust({ Effect: "Allow", Principal: { Service: "*" }, Action: "sts:AssumeRole" })],
            [
                "a federated principal",
                trust({
                    Effect: "Allow",
                    Principal: { Federated: "cognito-identity.amazonaws.com" },
                    Action: "sts:AssumeRoleWithWebIdentity",
                }),
            ],
            ["sts:* as the action", trust({ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:*" })],
        ];
        for (const [label, document] of cases) {
            it(`flags a trust policy naming ${label}`, async () => {
                const stack = compliantStack();
                set(pick(stack, "event-processor-role"), "assumeRolePolicy", document);
                expectOnly(await evaluate(stack), "iam-trust-policy-service-principals");
            });
        }

        it("accepts another service principal on a role no Lambda uses, and an object-shaped trust policy", async () => {
            const apiRole = role("api-gateway-logs", {
                assumeRolePolicy: {
                    Version: "2012-10-17",
                    Statement: { Effect: "Allow", Principal: { Service: "apigateway.amazonaws.com" }, Action: ["sts:AssumeRole"] },
                },
            });
            expectClean(await evaluate([...compliantStack(), apiRole]));
        });

        it("knows a Lambda role by the function's role ARN (not by its name)", async () => {
            const r = role("misnamed", { assumeRolePolicy: assumeRole("states.amazonaws.com") });
            expectClean(await evaluate([...compliantStack(), r]));
            const stack = [...compliantStack(), r];
            const fn = pick(stack, "event-processor", "aws:lambda/function:Function");
            set(fn, "role", r.outputs!.arn);
            expect(violatedPolicies(await evaluate(stack))).to.deep.equal(["iam-trust-policy-service-principals"]);
        });
    });

    describe("iam-trust-policy-service-principals: intent from every kind of user", () => {
        const schedulerRole = () => role("email-scheduler-role", { assumeRolePolicy: assumeRole("scheduler.amazonaws.com") });
        const schedule = (roleArn: string) =>
            resource("aws:scheduler/schedule:Schedule", "retry", {
                flexibleTimeWindow: { mode: "OFF" },
                scheduleExpression: "at(2026-01-01T00:00:00)",
                target: { arn: "arn:aws:sqs:us-east-1:123456789012:email.fifo", roleArn },
            });

        it("accepts a scheduler role that trusts scheduler.amazonaws.com", async () => {
            const r = schedulerRole();
            expectClean(await evaluate([...compliantStack(), r, schedule(r.outputs!.arn)]));
        });

        it("flags a schedule's role that trusts Lambda instead of EventBridge Scheduler", async () => {
            const r = role("email-scheduler-role");
            const [message] = expectOnly(
                await evaluate([...compliantStack(), r, schedule(r.outputs!.arn)]),
                "iam-trust-policy-service-principals",
            );
            expect(message).to.include("scheduler.amazonaws.com");
        });

        it("finds the role through the property dependency when the ARN is unknown (preview)", async () => {
            const r = role("email-scheduler-role");
            const s = schedule(unknown.string);
            s.propertyDependencies = { target: ["email-scheduler-role"] };
            expectOnly(await evaluate([...compliantStack(), r, s]), "iam-trust-policy-service-principals");
        });
    });

    describe("iam-no-partial-wildcard-actions (advisory, configurable)", () => {
        const doc = { Statement: { Effect: "Allow", Action: ["logs:Describe*", "dynamodb:Get*"], Resource: TABLE_ARN } };

        it("reports partial wildcards as advisory", async () => {
            const evaluation = await withPolicy(doc);
            expect(evaluation.mandatory).to.deep.equal([]);
            expect(violatedPolicies(evaluation, "advisory")).to.deep.equal(["iam-no-partial-wildcard-actions"]);
        });

        it("accepts the patterns a stack allows in its pack config, and can be disabled per stack", async () => {
            const allowed = await evaluate([...compliantStack(), iamPolicy("p", doc)], {
                config: { "iam-no-partial-wildcard-actions": { allowedPatterns: ["logs:Describe*"] } },
            });
            expect(allowed.advisory.map((v) => v.message).join())
                .to.include("dynamodb:Get*")
                .and.not.include("logs:Describe*");
            const disabled = await evaluate([...compliantStack(), iamPolicy("p", doc)], {
                config: { "iam-no-partial-wildcard-actions": "disabled" },
            });
            expectClean(disabled);
        });
    });

    it("reads a function's role through ARN even when its execution role is reused by a second function", async () => {
        const stack = compliantStack();
        const second = lambdaFunction("event-processor-2", pick(stack, "event-processor-role"));
        stack.push(second);
        // The extra function lacks an alarm and a log group, and nothing else:
        expect(violatedPolicies(await evaluate(stack))).to.deep.equal(["lambda-errors-alarm", "log-group-retention"]);
    });
});
