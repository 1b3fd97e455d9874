/**
 * examples/sender is copied out and deployed on its own, so its README must name every setting
 * its stack file holds (what to edit before `pulumi up`).
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

const SENDER = path.resolve(__dirname, "..", "..", "examples", "sender");

describe("examples/sender/README.md", () => {
    it("names every key of the example's stack config and the program's required settings", () => {
        const readme = fs.readFileSync(path.join(SENDER, "README.md"), "utf8");
        const keys = Object.keys(parse(fs.readFileSync(path.join(SENDER, "Pulumi.dev.yaml"), "utf8")).config as Record<string, unknown>);
        expect(keys).to.include("sender:eventIngestionStack");
        for (const key of keys) expect(readme, key).to.include(key);
        const required = [...fs.readFileSync(path.join(SENDER, "index.ts"), "utf8").matchAll(/config\.require\("(\w+)"\)/g)].map(
            (m) => m[1],
        );
        expect(required.length).to.be.greaterThan(0);
        for (const name of required) expect(readme, name).to.include(`sender:${name}`);
    });
});
