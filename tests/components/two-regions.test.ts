/**
 * Two stacks of the program in two regions of one account must not collide:
 * account-global names (IAM, dashboards) differ, nothing carries a hard-coded
 * region or account, and every ARN points at its own region.
 */
import { expect } from "chai";
import { sharedDeployment, MOCK_ACCOUNT_ID, readStackConfig, type MockDeployment } from "../../local/offline/mock-deployment";
import { strings } from "./helpers";

/** Resource types whose names are unique per account, not per region. */
const GLOBAL_TYPES = [
    "aws:iam/role:Role",
    "aws:iam/policy:Policy",
    "aws:cloudwatch/dashboard:Dashboard",
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketV2:BucketV2",
];

/** The physical name AWS would see. */
function physicalName(resource: { type: string; inputs: Record<string, any>; state: Record<string, any> }): string {
    return (
        resource.inputs.name ??
        resource.inputs.dashboardName ??
        resource.inputs.bucket ??
        resource.state.name ??
        resource.state.dashboardName ??
        resource.state.bucket
    );
}

describe("two stacks in two regions of one account (mocks)", () => {
    let east: MockDeployment;
    let west: MockDeployment;
    before(async () => {
        const dev = readStackConfig("dev");
        // The same stack name in both regions is the hardest case: only the region tells them apart.
        east = await sharedDeployment({ stack: "dev", config: { ...dev, "aws:region": "us-east-1" } });
        west = await sharedDeployment({ stack: "dev", config: { ...dev, "aws:region": "eu-west-1" } });
    });

    it("registers the same resources in both", () => {
        const shape = (d: MockDeployment) => d.resources.map((r) => `${r.type}::${r.name}`).sort();
        expect(shape(west)).to.deep.equal(shape(east));
    });

    it("gives account-global resources distinct names (explicit names carry the region; others are autonamed)", () => {
        for (const type of GLOBAL_TYPES) {
            const eastNames = east.resources.filter((r) => r.type === type).map(physicalName);
            const westNames = west.resources.filter((r) => r.type === type).map(physicalName);
            const clash = eastNames.filter((n) => westNames.includes(n));
            expect(clash, `${type} names used in both regions`).to.deep.equal([]);
        }
        for (const d of [east, west]) {
            for (const r of d.resources.filter((x) => GLOBAL_TYPES.includes(x.type))) {
                const explicit = r.inputs.name ?? r.inputs.dashboardName ?? r.inputs.bucket;
                if (explicit !== undefined) expect(explicit, `${r.type} ${r.name}`).to.include(d.region);
            }
        }
    });

    it("never hard-codes the other region, and uses only the account the provider reports", () => {
        for (const [d, other] of [
            [east, "eu-west-1"],
            [west, "us-east-1"],
        ] as const) {
            const text = strings(d.resources.map((r) => r.inputs));
            expect(
                text.filter((s) => s.includes(other)),
                `${d.region} inputs mentioning ${other}`,
            ).to.deep.equal([]);
            const accounts = new Set(text.flatMap((s) => [...s.matchAll(/arn:aws:[a-z0-9-]*:[a-z0-9-]*:(\d{12}):/g)].map((m) => m[1])));
            // 094274105915 is AWS's public Powertools layer account.
            expect([...accounts].filter((a) => a !== MOCK_ACCOUNT_ID && a !== "094274105915")).to.deep.equal([]);
        }
    });

    it("points every output ARN and URL at its own region", () => {
        for (const d of [east, west]) {
            for (const [name, value] of Object.entries(d.outputs)) {
                if (typeof value !== "string" || !/^(arn:|https:)/.test(value) || /iam::/.test(value)) continue;
                expect(value, name).to.include(d.region);
            }
            expect(d.outputs.kmsKeyArn).to.not.equal(d === east ? west.outputs.kmsKeyArn : east.outputs.kmsKeyArn);
        }
    });
});
