/**
 * Property: the IAM verdict does not depend on how a document is written down. The same
 * statements, encoded as a JSON string or an object, with `Statement` as one object or an array,
 * `Action`/`Resource` as a string or an array, in any letter case for Effect and actions, get
 * the same verdict — and that verdict matches a direct oracle.
 */
import { expect } from "chai";
import fc from "fast-check";
import { evaluatePack } from "../../policies/testing";
import { noWildcardActions, noWildcardResources } from "../../policies/rules/iam";

const ACTIONS = [
    "sqs:SendMessage",
    "dynamodb:PutItem",
    "xray:PutTraceSegments",
    "cloudwatch:PutMetricData",
    "sqs:*",
    "dynamodb:*",
    "*",
    "kms:Decrypt",
];
const RESOURCES = [
    "*",
    "arn:aws:sqs:us-east-1:123456789012:events",
    "arn:aws:dynamodb:us-east-1:123456789012:table/events",
    "arn:aws:sqs:us-east-1:123456789012:*",
];

const statement = fc.record({
    effect: fc.constantFrom("Allow", "Deny"),
    actions: fc.uniqueArray(fc.constantFrom(...ACTIONS), { minLength: 1, maxLength: 3 }),
    resources: fc.uniqueArray(fc.constantFrom(...RESOURCES), { minLength: 1, maxLength: 2 }),
});

const encoding = fc.record({
    json: fc.boolean(),
    singleStatement: fc.boolean(),
    scalarAction: fc.boolean(),
    scalarResource: fc.boolean(),
    upperEffect: fc.boolean(),
    upperActions: fc.boolean(),
});

type Statement = { effect: string; actions: string[]; resources: string[] };

type Encoding = {
    json: boolean;
    singleStatement: boolean;
    scalarAction: boolean;
    scalarResource: boolean;
    upperEffect: boolean;
    upperActions: boolean;
};

function encode(statements: Statement[], e: Encoding): unknown {
    const out = statements.map((s) => {
        const actions = e.upperActions ? s.actions.map((a) => a.toUpperCase()) : s.actions;
        return {
            Effect: e.upperEffect ? s.effect.toUpperCase() : s.effect,
            Action: e.scalarAction && actions.length === 1 ? actions[0] : actions,
            Resource: e.scalarResource && s.resources.length === 1 ? s.resources[0] : s.resources,
        };
    });
    const doc = { Version: "2012-10-17", Statement: e.singleStatement && out.length === 1 ? out[0] : out };
    return e.json ? JSON.stringify(doc) : doc;
}

const UNSCOPABLE = new Set(["xray:puttracesegments", "cloudwatch:putmetricdata"]);
const serviceWide = (a: string) => a === "*" || a.endsWith(":*");
const wildResource = (r: string) => r === "*" || r.endsWith(":*");

describe("policies: IAM verdicts are independent of document shape (property)", () => {
    it("matches the oracle for every encoding (200 runs)", async () => {
        await fc.assert(
            fc.asyncProperty(fc.array(statement, { minLength: 1, maxLength: 3 }), encoding, async (statements, e) => {
                const evaluation = await evaluatePack(
                    [{ type: "aws:iam/policy:Policy", name: "p", inputs: { policy: encode(statements, e) } }],
                    {
                        policies: [noWildcardActions, noWildcardResources],
                    },
                );
                const allows = statements.filter((s) => s.effect === "Allow");
                const expectWildAction = allows.some((s) => s.actions.some(serviceWide));
                const expectWildResource = allows.some(
                    (s) => s.resources.some(wildResource) && s.actions.some((a) => !UNSCOPABLE.has(a.toLowerCase())),
                );
                const reported = new Set(evaluation.violations.map((v) => v.policy));
                expect(reported.has("iam-no-wildcard-actions"), "wildcard action").to.equal(expectWildAction);
                expect(reported.has("iam-no-wildcard-resources"), "wildcard resource").to.equal(expectWildResource);
            }),
            { numRuns: 200, seed: 20261121 },
        );
    });
});
