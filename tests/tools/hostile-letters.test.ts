/**
 * `npm run dlq` on letters anyone could have sent: nothing in a message acts on the operator's
 * terminal, no nesting crashes `show`, and a large letter reaches the end of a pipe.
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import * as path from "node:path";
import { DeadLetter, describeLetter, SHOW_MAX_NESTING } from "../../tools/dead-letters";
import { redriveReport } from "../../tools/dlq";
import { jsonNestingDepth, terminalSafe, terminalSafeLines } from "../../tools/terminal";

const ROOT = path.resolve(__dirname, "..", "..");

function letter(overrides: Partial<DeadLetter> = {}): DeadLetter {
    return {
        system: "events",
        messageId: "m-1",
        receiptHandle: "r-1",
        reason: "invalid_data",
        body: "{}",
        messageAttributes: {},
        systemAttributes: {},
        ...overrides,
    };
}

/** Every character that can act on a terminal: C0 (ESC, CR, BEL, NUL), DEL, C1 (CSI), bidi, zero-width, separators, a lone surrogate, an astral format character. */
const HOSTILE = "\u001b[2J\r\u0007\u0000\u007f\u009b31m\u202e\u2066\u200f\u200b\ufeff\u2028\u2029\ud800\u{e0001}";

describe("npm run dlq on hostile letters", () => {
    it("shows every control, bidi and format character as a visible escape, and keeps JSON output valid", () => {
        const safe = terminalSafe(`a${HOSTILE}b`);
        expect(safe).to.not.match(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u);
        for (const escape of ["\\u001b", "\\u000d", "\\u0007", "\\u0000", "\\u007f", "\\u009b", "\\u202e", "\\u2066", "\\u200f", "\\u200b"])
            expect(safe).to.include(escape);
        expect(safe).to.include("\\ufeff\\u2028\\u2029\\ud800\\udb40\\udc01b");
        expect(terminalSafe("plain ASCII, accents é ü, CJK 漢字, emoji 🙂")).to.equal("plain ASCII, accents é ü, CJK 漢字, emoji 🙂");

        const shown = describeLetter(
            letter({
                body: JSON.stringify({ note: HOSTILE }),
                detail: `x${HOSTILE}`,
                messageAttributes: { [`k${HOSTILE}`]: { DataType: "String", StringValue: HOSTILE } },
            }),
        );
        const printed = terminalSafeLines(JSON.stringify(shown, null, 2));
        expect(printed.replace(/\n/g, "")).to.not.match(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/u);
        expect(JSON.parse(printed)).to.deep.equal(JSON.parse(JSON.stringify(shown)), "still the same JSON");
    });

    it("show prints a letter nested deeper than it can parse safely as text, instead of overflowing the stack", () => {
        const depth = 200_000;
        const body = "[".repeat(depth) + "]".repeat(depth);
        expect(jsonNestingDepth(body)).to.equal(depth);
        expect(jsonNestingDepth('{"a":[1,{"b":"]\\"["}]}')).to.equal(3);
        const shown = describeLetter(letter({ body }));
        expect(shown.body).to.equal(body);
        expect(shown.bodyNote).to.match(new RegExp(`nested deeper than ${SHOW_MAX_NESTING} levels`));
        expect(() => JSON.stringify(shown, null, 2)).to.not.throw();
        const shallow = describeLetter(letter({ body: JSON.stringify({ data: { a: [1] } }) }));
        expect(shallow.body).to.deep.equal({ data: { a: [1] } });
    });

    it("a tool's large output reaches the end of a slow pipe before the process exits", async function () {
        this.timeout(60_000);
        const size = 1 << 20;
        const script = `require("./tools/command-line").runAsMain(async (io) => { io.out("x".repeat(${size})); return 3; });`;
        const child = spawn(process.execPath, ["-r", path.join(ROOT, "scripts", "register-ts.js"), "-e", script], {
            cwd: ROOT,
            stdio: ["ignore", "pipe", "inherit"],
        });
        // A reader slower than the writer (a pager): nothing is read for a while.
        child.stdout.pause();
        setTimeout(() => child.stdout.resume(), 1500);
        let received = 0;
        child.stdout.on("data", (chunk: Buffer) => (received += chunk.length));
        const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
        expect(code).to.equal(3);
        expect(received).to.equal(size + 1);
    });

    it("a redrive that selects nothing says so, without the explanation of why redriving is safe", () => {
        const none = {
            system: "events" as const,
            method: "one-by-one" as const,
            selected: 0,
            moved: 0,
            failed: [],
            notDeleted: [],
            examined: 4,
        };
        const dry = redriveReport([{ ...none, dryRun: true }], false);
        expect(dry.at(-1)).to.equal("No message matches: nothing to move.");
        expect(dry.join("\n")).to.not.match(/Redrive is safe|--yes/);
        expect(redriveReport([{ ...none, dryRun: false }], true).join("\n")).to.not.match(/Redrive is safe/);
        const some = redriveReport([{ ...none, selected: 2, dryRun: true }], false);
        expect(some.join("\n"))
            .to.match(/would move 2 of 4/)
            .and.match(/Run again with --yes/)
            .and.match(/Redrive is safe to repeat/);
    });
});
