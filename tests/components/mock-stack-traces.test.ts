/**
 * A deployment under mocks formats stack traces with V8's own formatter (Pulumi reads one per
 * resource, and mapping them through ts-node's source maps was a fifth of a deployment's CPU), and
 * gives the source-mapped one back when it ends, so an error the program throws still names the
 * TypeScript line.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { deployUnderMocks } from "../../local/offline/mock-deployment";

const PROGRAM = path.join(__dirname, "fixtures", "stack-trace-program");
const config = (fail: boolean) => ({ "aws:region": "us-east-1", "fixture:fail": fail });

describe("stack traces during a deployment under mocks", () => {
    it("the program runs under V8's formatter; the source-mapped one is back afterwards", async () => {
        const sourceMapped = Error.prepareStackTrace;
        expect(sourceMapped, "ts-node installs a formatter").to.be.a("function");
        const { outputs } = await deployUnderMocks({ stack: "dev", config: config(false), programPath: PROGRAM });
        expect(outputs.formatter).to.equal("undefined");
        expect(Error.prepareStackTrace).to.equal(sourceMapped);
    });

    it("an error the program throws keeps its message and names the TypeScript line; the formatter is back", async () => {
        const sourceMapped = Error.prepareStackTrace;
        const error = await deployUnderMocks({ stack: "dev", config: config(true), programPath: PROGRAM }).then(
            () => undefined,
            (e: Error) => e,
        );
        expect(error?.message).to.equal("the fixture program failed on purpose");
        const source = fs.readFileSync(`${PROGRAM}.ts`, "utf8").split("\n");
        const line = source.findIndex((text) => text.includes("throw new Error")) + 1;
        expect(error?.stack).to.include(`${PROGRAM}.ts:${line}:`);
        expect(Error.prepareStackTrace).to.equal(sourceMapped);
    });
});
