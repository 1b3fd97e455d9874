/**
 * Module boundaries: what two rooms share lives in contracts/, so infrastructure (components/,
 * config/) never reaches into the Lambda code (handlers/), and no module imports itself through
 * others. A cycle makes load order decide what a module sees (an import is `undefined` while
 * its module is still loading) and ties the modules on it into one unit of change.
 *
 * The graph is read with TypeScript's own `preProcessFile` (every `import`, `export … from`,
 * `import x = require()`, `require()` and `import()`), the parser the project already ships.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";

const ROOT = path.resolve(__dirname, "..", "..");
const SKIPPED_DIRECTORIES = new Set(["node_modules", ".git", ".local", "schemas"]);

/** Every TypeScript source of the project, absolute paths. */
function projectSources(dir = ROOT): string[] {
    const out: string[] = [];
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        if (SKIPPED_DIRECTORIES.has(entry.name)) continue;
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) out.push(...projectSources(full));
        else if (/\.[cm]?ts$/.test(entry.name) && !entry.name.endsWith(".d.ts")) out.push(full);
    }
    return out;
}

/** Module → the project modules it imports (relative specifiers resolved like Node and ts-node do). */
export function importGraph(sources: Record<string, string>): Map<string, string[]> {
    const known = new Set(Object.keys(sources));
    const resolve = (from: string, specifier: string): string | undefined => {
        if (!specifier.startsWith(".")) return undefined;
        const base = path.resolve(path.dirname(from), specifier);
        return [`${base}.ts`, path.join(base, "index.ts"), base].find((candidate) => known.has(candidate));
    };
    const graph = new Map<string, string[]>();
    for (const [file, text] of Object.entries(sources)) {
        const { importedFiles } = ts.preProcessFile(text, true, true);
        graph.set(file, [...new Set(importedFiles.map((i) => resolve(file, i.fileName)).filter((f): f is string => f !== undefined))]);
    }
    return graph;
}

/** The import cycles of a graph: its strongly connected components of more than one module (or a self-import). */
export function importCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
    let next = 0;
    const index = new Map<string, number>();
    const low = new Map<string, number>();
    const stack: string[] = [];
    const onStack = new Set<string>();
    const cycles: string[][] = [];
    // Tarjan's algorithm, iterative so a deep import chain cannot overflow the call stack.
    for (const start of graph.keys()) {
        if (index.has(start)) continue;
        const work: { node: string; edge: number }[] = [{ node: start, edge: 0 }];
        index.set(start, next);
        low.set(start, next++);
        stack.push(start);
        onStack.add(start);
        while (work.length > 0) {
            const frame = work[work.length - 1];
            const edges = graph.get(frame.node) ?? [];
            if (frame.edge < edges.length) {
                const target = edges[frame.edge++];
                if (!index.has(target)) {
                    index.set(target, next);
                    low.set(target, next++);
                    stack.push(target);
                    onStack.add(target);
                    work.push({ node: target, edge: 0 });
                } else if (onStack.has(target)) low.set(frame.node, Math.min(low.get(frame.node)!, index.get(target)!));
                continue;
            }
            work.pop();
            if (work.length > 0) {
                const parent = work[work.length - 1].node;
                low.set(parent, Math.min(low.get(parent)!, low.get(frame.node)!));
            }
            if (low.get(frame.node) === index.get(frame.node)) {
                const component: string[] = [];
                let member: string;
                do {
                    member = stack.pop()!;
                    onStack.delete(member);
                    component.push(member);
                } while (member !== frame.node);
                if (component.length > 1 || edges.includes(frame.node)) cycles.push(component.sort());
            }
        }
    }
    return cycles;
}

describe("module boundaries: shared types in contracts/, no import cycles", () => {
    const files = projectSources();
    const sources = Object.fromEntries(files.map((file) => [file, fs.readFileSync(file, "utf8")]));
    const graph = importGraph(sources);
    const relative = (file: string) => path.relative(ROOT, file);

    it("reads the whole project", () => {
        expect(files.length).to.be.greaterThan(150);
        expect(graph.get(path.join(ROOT, "program.ts"))!.map(relative)).to.include("config/index.ts");
    });

    it("components/ and config/ import nothing from handlers/ (what they share is in contracts/)", () => {
        const crossings: string[] = [];
        for (const [file, imports] of graph) {
            const from = relative(file);
            if (!/^(components|config)\//.test(from)) continue;
            for (const target of imports) if (relative(target).startsWith("handlers/")) crossings.push(`${from} -> ${relative(target)}`);
        }
        expect(crossings).to.deep.equal([]);
    });

    it("no module imports itself through others", () => {
        expect(importCycles(graph).map((cycle) => cycle.map(relative))).to.deep.equal([]);
    });

    it("the cycle check finds a cycle, of two modules and through a chain", () => {
        const at = (name: string) => path.join(ROOT, "fixture", `${name}.ts`);
        const pair = importGraph({
            [at("a")]: 'import { b } from "./b";\nexport const a = 1;',
            [at("b")]: 'import type { A } from "./a";\nexport const b = 2;',
            [at("c")]: 'import { a } from "./a";',
        });
        expect(importCycles(pair).map((cycle) => cycle.map(relative))).to.deep.equal([["fixture/a.ts", "fixture/b.ts"]]);
        const chain = importGraph({
            [at("x")]: 'export * from "./y";',
            [at("y")]: 'const z = require("./z");',
            [at("z")]: 'import x = require("./x");',
        });
        expect(importCycles(chain)).to.have.length(1);
        expect(importCycles(chain)[0].map(relative)).to.deep.equal(["fixture/x.ts", "fixture/y.ts", "fixture/z.ts"]);
    });
});
