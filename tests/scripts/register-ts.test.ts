/**
 * The transpile cache (scripts/register-ts.js): what it serves is ts-node's own output, byte for
 * byte; a changed source or compiler option is transpiled again; a damaged entry or a folder it
 * cannot write never fails a run; and a second process uses what the first one kept.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { create, type CreateOptions, type Service } from "ts-node";

const ROOT = path.resolve(__dirname, "..", "..");
const REGISTER = path.join(ROOT, "scripts", "register-ts.js");
const { installTranspileCache, cacheDirectory } = require("../../scripts/register-ts.js") as {
    installTranspileCache(service: Service, options?: { dir?: string; root?: string }): Service;
    cacheDirectory(env?: Record<string, string | undefined>): string;
};

/** A fresh ts-node service as `ts-node/register/transpile-only` makes it, without its require hook. */
const plainService = (options: CreateOptions = {}) => create({ transpileOnly: true, ...options });

/** A fresh service with the cache over `dir`, and the list of files its own ts-node transpiled. */
function cachedService(dir: string, root: string, options: CreateOptions = {}) {
    const service = plainService(options);
    const transpiled: string[] = [];
    const compile = service.compile.bind(service);
    service.compile = (code, fileName, lineOffset) => {
        transpiled.push(fileName);
        return compile(code, fileName, lineOffset);
    };
    installTranspileCache(service, { dir, root });
    return { service, transpiled };
}

describe("the transpile cache (scripts/register-ts.js)", function () {
    this.timeout(60_000);
    let tmp: string;
    let dir: string;
    let root: string;

    beforeEach(() => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "transpile-cache-"));
        dir = path.join(tmp, "cache");
        root = path.join(tmp, "repo");
        fs.mkdirSync(root);
    });
    afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

    it("keeps its entries in .local/cache/transpile/, which git ignores", () => {
        expect(cacheDirectory({})).to.equal(path.join(ROOT, ".local", "cache", "transpile"));
        expect(fs.readFileSync(path.join(ROOT, ".gitignore"), "utf8").split("\n")).to.include(".local/");
    });

    it("serves ts-node's own output for a project file, from a new service reading the kept entry", () => {
        const file = path.join(ROOT, "index.ts"); // the Pulumi program, whose functions' text the archives hold
        const code = fs.readFileSync(file, "utf8");
        const expected = plainService().compile(code, file);

        const first = cachedService(dir, ROOT);
        expect(first.service.compile(code, file)).to.equal(expected);
        expect(first.transpiled).to.deep.equal([file]);
        expect(fs.readdirSync(dir)).to.have.length(1);

        const second = cachedService(dir, ROOT);
        expect(second.service.compile(code, file)).to.equal(expected);
        expect(second.transpiled, "read from the kept entry").to.deep.equal([]);
    });

    it("transpiles a changed source again, and replaces the file's entry", () => {
        const file = path.join(root, "module.ts");
        const before = "export const answer: number = 41;\n";
        const after = "export const answer: number = 42;\n";
        cachedService(dir, root).service.compile(before, file);

        const changed = cachedService(dir, root);
        expect(changed.service.compile(after, file)).to.equal(plainService().compile(after, file));
        expect(changed.transpiled).to.deep.equal([file]);
        expect(fs.readdirSync(dir), "one entry per file").to.have.length(1);

        const again = cachedService(dir, root);
        expect(again.service.compile(after, file)).to.include("42");
        expect(again.transpiled).to.deep.equal([]);
    });

    it("transpiles again under other compiler options", () => {
        const file = path.join(root, "module.ts");
        const code = "export const pick = (a?: { b?: number }) => a?.b ?? 0;\n";
        cachedService(dir, root).service.compile(code, file);

        const es2017 = { compilerOptions: { target: "ES2017" } };
        const other = cachedService(dir, root, es2017);
        const output = other.service.compile(code, file);
        expect(other.transpiled).to.deep.equal([file]);
        expect(output).to.equal(plainService(es2017).compile(code, file));
        expect(output, "ES2017 has no ?? and the entry for ES2022 has it").to.not.include("??");
    });

    it("transpiles again when an entry is damaged or cut short, and replaces it", () => {
        const file = path.join(root, "module.ts");
        const code = "export const answer: number = 42;\n";
        const expected = plainService().compile(code, file);
        cachedService(dir, root).service.compile(code, file);
        const [entry] = fs.readdirSync(dir).map((name) => path.join(dir, name));
        const whole = fs.readFileSync(entry, "utf8");

        for (const damaged of [whole.slice(0, whole.length - 10), whole.replace("42", "43"), "not an entry", ""]) {
            fs.writeFileSync(entry, damaged);
            const next = cachedService(dir, root);
            expect(next.service.compile(code, file)).to.equal(expected);
            expect(next.transpiled, JSON.stringify(damaged.slice(0, 40))).to.deep.equal([file]);
            expect(fs.readFileSync(entry, "utf8")).to.equal(whole);
        }
    });

    it("transpiles as usual when the folder cannot be written", () => {
        const file = path.join(root, "module.ts");
        const code = "export const answer: number = 42;\n";
        fs.writeFileSync(path.join(tmp, "a-file"), "");
        const blocked = cachedService(path.join(tmp, "a-file", "cache"), root);
        expect(blocked.service.compile(code, file)).to.equal(plainService().compile(code, file));
        expect(blocked.transpiled).to.deep.equal([file]);
    });

    it("a second process uses what the first one kept, and its stack traces still name the TypeScript lines", () => {
        const fixture = path.join(__dirname, "fixtures", "throws.ts");
        const throwLine =
            fs
                .readFileSync(fixture, "utf8")
                .split("\n")
                .findIndex((line) => line.includes("throw new Error")) + 1;
        // Loaded before the cache: counts the files ts-node itself transpiles under it.
        const counter = path.join(tmp, "count-transpiles.js");
        fs.writeFileSync(
            counter,
            `require(require.resolve("ts-node/register/transpile-only", { paths: [${JSON.stringify(ROOT)}] }));
            const service = process[Symbol.for("ts-node.register.instance")];
            const compile = service.compile.bind(service);
            globalThis.transpiled = [];
            service.compile = (code, fileName, lineOffset) => (globalThis.transpiled.push(fileName), compile(code, fileName, lineOffset));`,
        );
        const script = `try { require(${JSON.stringify(fixture)}).fail(); } catch (error) { console.log(JSON.stringify({ stack: error.stack, transpiled: globalThis.transpiled })); }`;
        const run = () => {
            const child = spawnSync(process.execPath, ["-r", counter, "-r", REGISTER, "-e", script], {
                cwd: ROOT,
                env: { ...process.env, TRANSPILE_CACHE_DIR: dir },
                encoding: "utf8",
            });
            expect(child.status, child.stderr).to.equal(0);
            return JSON.parse(child.stdout.trim().split("\n").pop() ?? "{}") as { stack: string; transpiled: string[] };
        };

        const first = run();
        expect(first.transpiled).to.deep.equal([fixture]);
        expect(first.stack).to.include(`${fixture}:${throwLine}:`);
        expect(fs.readdirSync(dir)).to.have.length(1);

        const second = run();
        expect(second.transpiled, "served from the first process's entry").to.deep.equal([]);
        expect(second.stack).to.include(`${fixture}:${throwLine}:`);
    });
});
