/**
 * The real program: every stack, deployed under mocks with its own config, passes the whole
 * pack with zero violations (mandatory or advisory) and nothing deferred — and the pass is
 * not vacuous: every policy that has something to look at in the program did look at it.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { deployedStack } from "./deployments";
import { policies } from "../../policies/policies";
import { evaluatePack, fromMockedResources } from "../../policies/testing";
import { readPackConfig, main, renderTable, TABLE_MAX_COLUMNS } from "../../scripts/policy-check";

const STACKS = ["dev", "localstack"];
const ROOT = path.resolve(__dirname, "../..");

describe("policies: the real program", function () {
    this.timeout(120_000);

    for (const stack of STACKS) {
        it(`stack ${stack} passes every policy with zero violations`, async () => {
            const deployment = await deployedStack(stack);
            const resources = fromMockedResources(deployment.resources);
            const evaluation = await evaluatePack(resources, { stack, project: deployment.project, config: readPackConfig(stack) });
            expect(evaluation.violations.map((v) => `${v.policy} ${v.resourceName ?? ""}: ${v.message}`)).to.deep.equal([]);
            expect(evaluation.deferred).to.deep.equal([]);

            expect(evaluation.cells.get("sqs-customer-managed-kms")!.size, "both queues checked").to.be.greaterThanOrEqual(2);
            // Not vacuous: the program has the resources the core rules look at...
            const types = new Set(resources.map((r) => r.type));
            for (const type of [
                "aws:kms/key:Key",
                "aws:sqs/queue:Queue",
                "aws:dynamodb/table:Table",
                "aws:lambda/function:Function",
                "aws:iam/role:Role",
                "aws:cloudwatch/logGroup:LogGroup",
                "aws:cloudwatch/metricAlarm:MetricAlarm",
                "aws:lambda/eventSourceMapping:EventSourceMapping",
                "aws:sns/topic:Topic",
            ]) {
                expect(types.has(type), `the program registers a ${type}`).to.equal(true);
            }
            // ...and every enabled policy whose types are present evaluated at least one of them.
            for (const policy of policies) {
                if (!policy.appliesTo.some((t) => types.has(t))) continue;
                const statuses = [...(evaluation.cells.get(policy.name)?.values() ?? [])];
                if (evaluation.levels.get(policy.name) === "disabled") {
                    expect(
                        statuses.every((s) => s === "disabled"),
                        policy.name,
                    ).to.equal(true);
                    continue;
                }
                expect(statuses.length, `${policy.name} on stack ${stack}`).to.be.greaterThan(0);
                expect(
                    statuses.every((s) => s === "pass" || s === "not-applicable"),
                    `${policy.name} on stack ${stack}: ${statuses}`,
                ).to.equal(true);
            }
        });
    }

    it("npm run policy's main() evaluates both stacks and exits 0 on the real program", async () => {
        const lines: string[] = [];
        const original = console.log;
        console.log = (...args: unknown[]) => void lines.push(args.join(" "));
        let code: number;
        try {
            code = await main([]);
        } finally {
            console.log = original;
        }
        expect(code).to.equal(0);
        const output = lines.join("\n");
        expect(output)
            .to.match(/=== stack dev /)
            .and.match(/=== stack localstack /);
        expect(output).to.include("stack dev: 0 mandatory violation(s)");
        for (const policy of policies) expect(output).to.include(policy.name);
        const wide = output.split("\n").filter((line) => line.length > TABLE_MAX_COLUMNS);
        expect(wide, `lines wider than ${TABLE_MAX_COLUMNS} columns`).to.deep.equal([]);
        expect(TABLE_MAX_COLUMNS).to.equal(120);
    });

    it("npm run policy exits 1 on a mandatory violation and 2 on bad usage, with a clear message", () => {
        const run = (...args: string[]) =>
            spawnSync(process.execPath, ["-r", path.join(ROOT, "scripts", "register-ts.js"), "scripts/policy-check.ts", ...args], {
                cwd: ROOT,
                encoding: "utf8",
                timeout: 110_000,
                env: { ...process.env, GITHUB_ACTIONS: "true" },
            });
        const violating = run("--stack", "dev", "--program", "tests/policies/fixtures/output-derived-program.ts");
        expect(violating.status, violating.stderr).to.equal(1);
        expect(violating.stdout).to.match(/^iam\/policy\s[^\n]*\n(?: {2}\S+[^\n]*\n)*? {2}apply-stringify\s[^\n]*FAIL/m);
        expect(violating.stdout).to.include("[mandatory] iam-no-wildcard-actions — apply-stringify");
        // In GitHub Actions, each violation is also an annotation on the run.
        expect(violating.stdout).to.match(
            /^::error title=iam-no-wildcard-actions \(dev\)::apply-stringify \(aws:iam\/policy:Policy\): .*%0A/m,
        );
        const bad = run("--stack", "prod", "--program", "nowhere.ts", "--colour");
        expect(bad.status).to.equal(2);
        expect(bad.stderr)
            .to.include("no stack file Pulumi.prod.yaml")
            .and.include("does not exist")
            .and.include('unknown argument "--colour"');
    });

    it("the result table marks a mandatory violation FAIL and an advisory one warn", async () => {
        const evaluation = await evaluatePack([
            {
                type: "aws:dynamodb/table:Table",
                name: "t",
                inputs: {
                    serverSideEncryption: { enabled: true, kmsKeyArn: "alias/aws/dynamodb" },
                    pointInTimeRecovery: { enabled: true },
                },
            },
        ]);
        const table = renderTable(evaluation).split("\n");
        // One block per type: the type's line numbers the policies that look at it; the resource's row is under it.
        const header = table
            .find((l) => l.startsWith("dynamodb/table "))!
            .trim()
            .split(/\s+/);
        const row = table
            .find((l) => l.startsWith("  t "))!
            .trim()
            .split(/\s+/);
        const cell = (policy: string) => {
            const legend = table.find((l) => l.includes(` ${policy} (`))!;
            return row[header.indexOf(legend.trim().split(/\s+/)[0])];
        };
        expect(cell("dynamodb-customer-managed-kms")).to.equal("FAIL");
        expect(cell("dynamodb-deletion-protection")).to.equal("warn");
        expect(cell("dynamodb-point-in-time-recovery")).to.equal("ok");
        expect(cell("sqs-customer-managed-kms"), "a policy that does not look at tables has no column").to.equal(undefined);
    });
});
