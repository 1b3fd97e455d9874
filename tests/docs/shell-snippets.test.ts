/**
 * Every `sh` block of the README and docs/ is code a reader pastes into a shell, so each is run by
 * this test: all are parsed by bash (`bash -n`), their npm scripts must exist and their flags be ones
 * the tools accept; none may define a function named after a shell builtin (a `local()` breaks nvm
 * and completion) or set AWS_REGION without AWS_DEFAULT_REGION (AWS CLI v1 reads only the latter),
 * or use GNU-only `date -d` (macOS has BSD date). Blocks that need a deployed stack or the Pulumi CLI
 * stop there; the runbook's local block runs against a started local pipeline.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { LocalOptionsError, parseLocalOptions } from "../../local/pipeline-app/options";
import { LocalPipeline, startLocalPipeline } from "../../local/pipeline-app/pipeline";
import { DLQ_OPTIONS } from "../../tools/dlq";
import { SEND_OPTIONS } from "../../tools/send";

const ROOT = path.resolve(__dirname, "..", "..");

interface Block {
    file: string;
    line: number;
    code: string;
}

/** The ```sh blocks of a Markdown file, with the line each starts on. */
export function shellBlocks(file: string): Block[] {
    const lines = fs.readFileSync(path.join(ROOT, file), "utf8").split("\n");
    const blocks: Block[] = [];
    for (let i = 0; i < lines.length; i++) {
        if (!/^```(sh|bash|shell)\s*$/.test(lines[i])) continue;
        const start = i + 1;
        while (i + 1 < lines.length && !/^```\s*$/.test(lines[i + 1])) i++;
        blocks.push({ file, line: start + 1, code: lines.slice(start, i + 1).join("\n") });
        i++;
    }
    return blocks;
}

const DOCS = [
    "README.md",
    ...fs
        .readdirSync(path.join(ROOT, "docs"))
        .filter((f) => f.endsWith(".md"))
        .map((f) => `docs/${f}`),
];
const EXTRA = ["examples/sender/README.md"].filter((file) => fs.existsSync(path.join(ROOT, file)));
const BLOCKS = [...DOCS, ...EXTRA].flatMap(shellBlocks);

/** `<id>`, `<trace id>`, `'<password>'`: a reader's value, which bash would read as a redirection. */
const withValues = (code: string) => code.replace(/<[^<>\n]+>/g, "PLACEHOLDER");

/** Logical lines (continuations joined), comments dropped (a `#` after a blank, outside quotes). */
function commandLines(code: string): string[] {
    return code
        .replace(/\\\n/g, " ")
        .split("\n")
        .map((line) => {
            let quote = "";
            for (let i = 0; i < line.length; i++) {
                const character = line[i];
                if (quote) {
                    if (character === quote) quote = "";
                } else if (character === "'" || character === '"') quote = character;
                else if (character === "#" && (i === 0 || /\s/.test(line[i - 1]))) return line.slice(0, i);
            }
            return line;
        })
        .filter((line) => line.trim() !== "");
}

const where = (block: Block) => `${block.file}:${block.line}`;

/** The bash builtins and keywords (a function with one of these names shadows it). */
const BUILTINS = new Set(spawnSync("bash", ["-c", "compgen -b; compgen -k"], { encoding: "utf8" }).stdout.split("\n").filter(Boolean));

describe("shell snippets in the README and docs/", () => {
    it("finds the blocks (README, docs/, examples/sender/README.md)", () => {
        expect(BLOCKS.length).to.be.greaterThan(20);
        expect(BLOCKS.some((block) => block.file === "docs/runbook.md")).to.equal(true);
        expect(BUILTINS.has("local")).to.equal(true);
    });

    it("every block parses in bash (reader-supplied <values> filled in)", () => {
        const problems = BLOCKS.flatMap((block) => {
            const result = spawnSync("bash", ["-n"], { input: withValues(block.code), encoding: "utf8" });
            return result.status === 0 ? [] : [`${where(block)}: ${result.stderr.trim()}`];
        });
        expect(problems, problems.join("\n")).to.deep.equal([]);
    });

    it("no block defines a function named after a shell builtin, sets AWS_REGION alone, or uses GNU-only date -d", () => {
        const problems: string[] = [];
        for (const block of BLOCKS) {
            for (const match of block.code.matchAll(/^\s*(?:function\s+)?([A-Za-z_][\w-]*)\s*\(\)\s*\{/gm))
                if (BUILTINS.has(match[1])) problems.push(`${where(block)}: function ${match[1]}() shadows the shell builtin`);
            if (/\bAWS_REGION=/.test(block.code) && !/\bAWS_DEFAULT_REGION\b/.test(block.code))
                problems.push(`${where(block)}: sets AWS_REGION without AWS_DEFAULT_REGION (AWS CLI v1 reads only the latter)`);
            if (/\bdate\b[^\n|;)]*\s-d\b/.test(block.code)) problems.push(`${where(block)}: date -d is GNU-only (macOS has BSD date)`);
        }
        expect(problems, problems.join("\n")).to.deep.equal([]);
    });

    it("every npm command names a script package.json has, with flags its tool accepts", () => {
        const scripts = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts as Record<string, string>;
        const problems: string[] = [];
        let checked = 0;
        for (const block of BLOCKS) {
            for (const line of commandLines(withValues(block.code))) {
                // `[--system events|email]`: an optional flag and its alternatives; the first alternative stands for them.
                const plain = line.replace(/\[([^\]]*)\]/g, (_, inner: string) => inner.replace(/(\S+?)\|\S+/g, "$1"));
                for (const match of plain.matchAll(
                    /\bnpm\s+(start|test|ci|run(?:-script)?\s+(?:(?:-s|--silent)\s+)?([\w:-]+))([^;&|)<>]*)/g,
                )) {
                    checked++;
                    const script = match[2] ?? match[1];
                    const builtin = ["ci", "test", "start"].includes(match[1]);
                    if (!builtin && !(script in scripts)) {
                        problems.push(`${where(block)}: npm run ${script}: package.json has no such script`);
                        continue;
                    }
                    const rest = match[3].trim();
                    const args =
                        rest.startsWith("--") && /^--(\s|$)/.test(rest)
                            ? rest
                                  .replace(/^--\s*/, "")
                                  .split(/\s+/)
                                  .filter(Boolean)
                            : [];
                    const strip = (arg: string) => arg.replace(/^["']|["']$/g, "");
                    try {
                        if (script === "dlq")
                            parseArgs({ args: args.map(strip), options: DLQ_OPTIONS, allowPositionals: true, strict: true });
                        if (script === "send")
                            parseArgs({ args: args.map(strip), options: SEND_OPTIONS, allowPositionals: true, strict: true });
                        if (script === "start" || script === "local") parseLocalOptions(script, args.map(strip), {});
                    } catch (error) {
                        const detail = error instanceof LocalOptionsError ? error.problems.join("; ") : (error as Error).message;
                        problems.push(`${where(block)}: npm run ${script} -- ${args.join(" ")}: ${detail}`);
                    }
                }
            }
        }
        expect(checked).to.be.greaterThan(20);
        expect(problems, problems.join("\n")).to.deep.equal([]);
    });

    describe("the runbook's local block, against a started local pipeline", function () {
        this.timeout(180_000);
        let pipeline: LocalPipeline;
        let dir: string;
        before(async () => {
            pipeline = await startLocalPipeline({ stack: "localstack", functionLogs: () => undefined });
            dir = fs.mkdtempSync(path.join(os.tmpdir(), "runbook-local-"));
            fs.writeFileSync(path.join(dir, "pipeline.json"), JSON.stringify(pipeline.ready));
        });
        after(async () => {
            await pipeline?.stop();
            if (dir) fs.rmSync(dir, { recursive: true, force: true });
        });

        it("sets the names and both region variables, keeps bash's `local`, and its aws command answers", () => {
            const block = shellBlocks("docs/runbook.md").find((candidate) => /^# Local\b/.test(candidate.code));
            expect(block, "the runbook's block that starts with `# Local`").to.not.equal(undefined);
            const cliVersion = spawnSync("aws", ["--version"], { encoding: "utf8" });
            const cliV1 = !cliVersion.error && /^aws-cli\/1\./.test(`${cliVersion.stdout}${cliVersion.stderr}`);
            // fauxqs speaks SQS's JSON protocol, which AWS CLI v1 and current v2 use; without one the aws line is recorded, not run.
            const stub = cliV1 ? "" : 'aws() { printf "aws %s\\n" "$*" > aws-called.txt; }\n';
            const script = `set -euo pipefail\n${stub}${block!.code}\nprintf 'local=%s\\nregion=%s/%s\\nqueue=%s\\n' "$(type -t local)" "$AWS_DEFAULT_REGION" "$AWS_REGION" "$QUEUE"\n`;
            const result = spawnSync("bash", ["-c", script], {
                cwd: dir,
                encoding: "utf8",
                env: { PATH: process.env.PATH, HOME: process.env.HOME, LOCAL_PIPELINE_FILE: path.join(dir, "pipeline.json") },
                timeout: 60_000,
            });
            expect(result.status, result.stderr).to.equal(0);
            expect(result.stdout).to.include("local=builtin");
            expect(result.stdout).to.include(`region=${pipeline.ready.region}/${pipeline.ready.region}`);
            expect(result.stdout).to.include(`queue=${pipeline.ready.eventQueueUrl}`);
            if (cliV1) expect(result.stdout).to.match(/"ApproximateNumberOfMessages": "0"/);
            else
                expect(fs.readFileSync(path.join(dir, "aws-called.txt"), "utf8")).to.include(
                    `--queue-url ${pipeline.ready.deadLetterQueueUrl}`,
                );
        });
    });
});
