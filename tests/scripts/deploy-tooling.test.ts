/**
 * Guardrails on every deploy and a CI gate that is itself checked:
 * - `npm run preview|up|destroy` (scripts/pulumi.js) build the Pulumi command line with the
 *   policy pack and the stack's pack config; no Pulumi CLI is needed to test that;
 * - `npm test` (scripts/test.js) lints the workflows (scripts/lint-workflows.js, @action-validator/core), and a
 *   broken workflow fails it.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..", "..");
const testRunner = require("../../scripts/test.js") as { CHECKS: string[] };
const deploy = require("../../scripts/pulumi.js") as {
    buildPulumiArgs(options: {
        command: string;
        args?: string[];
        env?: Record<string, string>;
        selectedStack?: string;
        root?: string;
        exists?: (p: string) => boolean;
    }): { argv?: string[]; stack?: string; error?: string };
    PULUMI_MISSING: string;
};
const lint = require("../../scripts/lint-workflows.js") as { lintWorkflow(source: string): string[]; WORKFLOW_DIR: string };

const everything = () => true;

describe("deploy scripts: the policy pack on every preview and up", () => {
    it("package.json runs preview, up and destroy through scripts/pulumi.js", () => {
        const scripts = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts;
        for (const command of ["preview", "up", "destroy"]) expect(scripts[command]).to.equal(`node scripts/pulumi.js ${command}`);
    });

    it("preview and up: the pack and the stack's pack config, whichever way the stack is named", () => {
        expect(deploy.buildPulumiArgs({ command: "up", selectedStack: "dev", exists: everything }).argv).to.deep.equal([
            "up",
            "--stack",
            "dev",
            "--policy-pack",
            "policies",
            "--policy-pack-config",
            "policies/config/dev.json",
        ]);
        expect(
            deploy.buildPulumiArgs({ command: "preview", args: ["--stack", "my-org/localstack", "--diff"], exists: everything }).argv,
        ).to.deep.equal([
            "preview",
            "--policy-pack",
            "policies",
            "--policy-pack-config",
            "policies/config/localstack.json",
            "--stack",
            "my-org/localstack",
            "--diff",
        ]);
        expect(deploy.buildPulumiArgs({ command: "preview", args: ["-s", "dev"], exists: everything }).stack).to.equal("dev");
        expect(deploy.buildPulumiArgs({ command: "up", args: ["--stack=dev", "--yes"], exists: everything }).argv)
            .to.include("--yes")
            .and.include("policies/config/dev.json");
        expect(
            deploy.buildPulumiArgs({ command: "up", env: { PULUMI_STACK: "dev" }, selectedStack: "other", exists: everything }).stack,
        ).to.equal("dev");
    });

    it("every stack file has the pack config these commands use", () => {
        for (const stack of fs
            .readdirSync(ROOT)
            .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
            .filter(Boolean) as string[]) {
            const built = deploy.buildPulumiArgs({
                command: "up",
                selectedStack: stack,
                exists: (p) => p.includes(`${path.sep}node_modules${path.sep}`) || fs.existsSync(p),
            });
            expect(built.error, stack).to.equal(undefined);
        }
    });

    it("refuses with what to do: no stack, no pack config, pack not installed, unknown command", () => {
        expect(deploy.buildPulumiArgs({ command: "up", exists: everything }).error).to.include("npm run up -- --stack <name>");
        expect(deploy.buildPulumiArgs({ command: "up", selectedStack: "prod", exists: (p) => !p.endsWith("prod.json") }).error).to.include(
            "policies/config/prod.json is missing",
        );
        expect(
            deploy.buildPulumiArgs({
                command: "up",
                selectedStack: "dev",
                exists: (p) => !p.includes(path.join("policies", "node_modules")),
            }).error,
        ).to.include("(cd policies && npm ci)");
        expect(deploy.buildPulumiArgs({ command: "refresh", selectedStack: "dev", exists: everything }).error).to.include(
            "unknown command",
        );
    });

    it("preview and up refuse without the program's TypeScript toolchain (npm ci --omit=dev leaves Pulumi its vendored TypeScript 3.8)", () => {
        const withoutDev = (p: string) => !/node_modules[\\/](ts-node|typescript)[\\/]/.test(p);
        for (const command of ["preview", "up"]) {
            const built = deploy.buildPulumiArgs({ command, selectedStack: "dev", exists: withoutDev });
            expect(built.error, command).to.include("ts-node and typescript are not installed").and.include("--omit=dev");
        }
        // destroy does not run the program
        expect(deploy.buildPulumiArgs({ command: "destroy", args: ["--stack", "dev"], exists: withoutDev }).error).to.equal(undefined);
    });

    it("destroy: no policy flags (the CLI has none for destroy) and never the implicitly selected stack", () => {
        expect(deploy.buildPulumiArgs({ command: "destroy", selectedStack: "dev", exists: everything }).error).to.include(
            "destroy never picks the selected stack",
        );
        expect(deploy.buildPulumiArgs({ command: "destroy", args: ["--stack", "dev"], exists: everything }).argv).to.deep.equal([
            "destroy",
            "--stack",
            "dev",
        ]);
    });

    it("a clear error, exit 2, when the Pulumi CLI is not installed", () => {
        const emptyPath = fs.mkdtempSync(path.join(os.tmpdir(), "no-pulumi-"));
        try {
            const run = spawnSync(process.execPath, [path.join(ROOT, "scripts", "pulumi.js"), "preview"], {
                cwd: ROOT,
                encoding: "utf8",
                env: { PATH: emptyPath },
            });
            expect(run.status).to.equal(2);
            expect(run.stderr).to.include(deploy.PULUMI_MISSING);
        } finally {
            fs.rmSync(emptyPath, { recursive: true, force: true });
        }
    });
});

describe("workflow lint: a broken workflow fails npm test", () => {
    const workflow = fs.readFileSync(path.join(lint.WORKFLOW_DIR, "preview.yml"), "utf8");

    it("npm test runs the lint, and the repository's workflows pass it", () => {
        expect(JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts.test).to.equal("node scripts/test.js");
        expect(testRunner.CHECKS).to.include("lint:workflows");
        expect(lint.lintWorkflow(workflow)).to.deep.equal([]);
    });

    it("flags a schema error, an unpinned action, a missing tag comment and a job without permissions", () => {
        expect(lint.lintWorkflow(workflow.replace("runs-on: ubuntu-latest", "runs_on: ubuntu-latest")).join("\n")).to.include("schema");
        expect(lint.lintWorkflow(workflow.replace(/actions\/checkout@[0-9a-f]{40}/, "actions/checkout@v4")).join("\n")).to.include(
            "actions/checkout@v4 is not pinned to a full commit SHA",
        );
        expect(lint.lintWorkflow(workflow.replace(/(pulumi\/actions@[0-9a-f]{40}) # v[\d.]+/, "$1")).join("\n")).to.include(
            'has no "# vX.Y.Z" comment',
        );
        expect(
            lint.lintWorkflow(workflow.replace("    permissions:\n      contents: read\n    steps:", "    steps:")).join("\n"),
        ).to.include("jobs.test: no permissions block");
    });

    it("the command exits 1 on a directory holding a broken copy", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "workflows-"));
        try {
            fs.writeFileSync(path.join(dir, "broken.yml"), workflow.replace("jobs:", "jobz:"));
            const run = spawnSync(process.execPath, [path.join(ROOT, "scripts", "lint-workflows.js"), dir], {
                cwd: ROOT,
                encoding: "utf8",
            });
            expect(run.status).to.equal(1);
            expect(run.stderr).to.include("broken.yml");
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
