/**
 * Alarms say what to do: every CloudWatch alarm the program registers, in every
 * stack, links a section of docs/runbook.md from its description, the section
 * exists and says what the alarm means, what to check first and which commands
 * to run; no section describes an alarm that does not exist.
 *
 * AWS rule encoded: "Amazon CloudWatch API Reference, PutMetricAlarm":
 * AlarmDescription is 0-1024 characters.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import {
    alarmDescription,
    MAX_ALARM_DESCRIPTION_LENGTH,
    RUNBOOK_PATH,
    runbookAnchor,
    runbookAnchorOf,
} from "../../components/shared/alarm-runbook";
import { byType, sharedDeployment, type MockDeployment } from "../../local/offline/mock-deployment";

const ROOT = path.resolve(__dirname, "..", "..");
const METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const STACKS = fs
    .readdirSync(ROOT)
    .flatMap((file) => /^Pulumi\.(.+)\.yaml$/.exec(file)?.[1] ?? [])
    .sort();

/** Sections of the runbook: `<a id="anchor"></a>` followed by a `## ` heading, up to the next anchor. */
export function runbookSections(markdown: string): Map<string, string> {
    const sections = new Map<string, string>();
    const pattern = /<a id="([^"]+)"><\/a>\n## [^\n]+\n/g;
    const found = [...markdown.matchAll(pattern)];
    found.forEach((match, i) => {
        const end = i + 1 < found.length ? found[i + 1].index : markdown.length;
        if (sections.has(match[1])) throw new Error(`${RUNBOOK_PATH} has two sections with anchor "${match[1]}"`);
        sections.set(match[1], markdown.slice(match.index, end));
    });
    return sections;
}

const runbook = fs.readFileSync(path.join(ROOT, RUNBOOK_PATH), "utf8");
const sections = runbookSections(runbook);

describe("alarm runbook links (components/shared/alarm-runbook.ts)", () => {
    it("derives the anchor from the alarm name without the stack prefix", () => {
        expect(runbookAnchor("email", "dlq-messages")).to.equal("email-dlq-messages");
        expect(alarmDescription("Emails are stuck.", "email", "oldest-message-age")).to.equal(
            "Emails are stuck. Runbook: docs/runbook.md#email-oldest-message-age",
        );
        expect(runbookAnchorOf(alarmDescription("x", "events", "dead-letters"))).to.equal("events-dead-letters");
        expect(runbookAnchorOf("no link here")).to.equal(undefined);
        expect(runbookAnchorOf(undefined)).to.equal(undefined);
    });

    it("refuses anchors GitHub would not keep and descriptions CloudWatch would not accept", () => {
        expect(() => runbookAnchor("email", "DLQ messages")).to.throw(/lower-case letters, digits and single hyphens/);
        expect(() => runbookAnchor("email", "")).to.throw(/runbookAnchor/);
        expect(() => alarmDescription("x".repeat(MAX_ALARM_DESCRIPTION_LENGTH), "email", "dlq-messages")).to.throw(/1024/);
    });

    it("reads the runbook's sections", () => {
        expect(sections.size, `${RUNBOOK_PATH} sections`).to.be.greaterThan(5);
        expect(() => runbookSections('<a id="a"></a>\n## A\n<a id="a"></a>\n## B\n')).to.throw(/two sections/);
    });
});

for (const stack of STACKS) {
    describe(`alarms of stack ${stack} link their runbook section`, () => {
        let deployment: MockDeployment;
        let alarms: MockDeployment["resources"];
        before(async () => {
            deployment = await sharedDeployment({ stack });
            alarms = byType(deployment, METRIC_ALARM);
        });

        it("registers alarms (a test over no alarms proves nothing)", () => {
            expect(alarms.length).to.be.greaterThan(5);
        });

        it("every alarm's description ends with a runbook link whose anchor is the alarm's name without the stack prefix", () => {
            const problems: string[] = [];
            for (const alarm of alarms) {
                const description = alarm.inputs.alarmDescription as string | undefined;
                const anchor = runbookAnchorOf(description);
                if (!anchor) {
                    problems.push(
                        `${alarm.name}: alarmDescription ${JSON.stringify(description)} has no "Runbook: ${RUNBOOK_PATH}#<anchor>" (build alarms with runbookAlarm() from components/shared/runbook-alarm.ts)`,
                    );
                    continue;
                }
                // Alarm names are `<project>-<stack>/<anchor>` (components/shared/naming.ts alarmNamePrefix).
                if (!String(alarm.inputs.name).endsWith(`/${anchor}`) && alarm.inputs.name !== anchor) {
                    problems.push(`${alarm.name}: anchor "${anchor}" is not the end of its name "${alarm.inputs.name}"`);
                }
                if (description!.length > MAX_ALARM_DESCRIPTION_LENGTH)
                    problems.push(`${alarm.name}: description longer than ${MAX_ALARM_DESCRIPTION_LENGTH}`);
                if (!sections.has(anchor)) problems.push(`${alarm.name}: ${RUNBOOK_PATH} has no section <a id="${anchor}"></a>`);
            }
            expect(problems, problems.join("\n")).to.deep.equal([]);
        });

        it("every runbook section describes an alarm the stack has", () => {
            const linked = new Set(alarms.map((alarm) => runbookAnchorOf(alarm.inputs.alarmDescription)));
            const orphans = [...sections.keys()].filter((anchor) => !linked.has(anchor));
            expect(orphans, `sections in ${RUNBOOK_PATH} without an alarm`).to.deep.equal([]);
        });
    });
}

describe(`${RUNBOOK_PATH} sections say what to do`, () => {
    it("each has what it means, what to check first, and commands", () => {
        const problems: string[] = [];
        for (const [anchor, text] of sections) {
            for (const part of ["**What it means.**", "**Check first.**", "**Commands.**"])
                if (!text.includes(part)) problems.push(`${anchor}: no ${part}`);
            if (!/```sh\n[\s\S]*?(npm run (dlq|send) -- |aws [a-z0-9-]+ [a-z0-9-]+)[\s\S]*?```/.test(text))
                problems.push(`${anchor}: no command block`);
        }
        expect(problems, problems.join("\n")).to.deep.equal([]);
    });

    it("uses the DLQ and send tools only as they are specified", () => {
        // npm run dlq -- list [--system events|email] [--json] | show <id> | redrive [--reason CODE | --retries-exhausted] [--limit N] [--yes]
        // npm run send -- event|email <file|->; every tool takes --stack NAME.
        const problems: string[] = [];
        for (const line of runbook.split("\n")) {
            const dlq = /npm run dlq -- (\S+)(.*)$/.exec(line);
            if (dlq) {
                const [, command, rest] = dlq;
                const flags = [...rest.replace(/#.*$/, "").matchAll(/--[a-z-]+/g)].map((m) => m[0]);
                const allowed: Record<string, string[]> = {
                    list: ["--system", "--json", "--stack"],
                    show: ["--stack"],
                    redrive: ["--reason", "--retries-exhausted", "--limit", "--yes", "--stack"],
                };
                if (!allowed[command]) problems.push(`unknown dlq command: ${line.trim()}`);
                else
                    for (const flag of flags)
                        if (!allowed[command].includes(flag)) problems.push(`dlq ${command} has no ${flag}: ${line.trim()}`);
                if (/--reason/.test(rest) && /--retries-exhausted/.test(rest))
                    problems.push(`--reason and --retries-exhausted exclude each other: ${line.trim()}`);
                if (/--system (?!events\b|email\b)/.test(rest)) problems.push(`--system is events or email: ${line.trim()}`);
            }
            const send = /npm run send -- (\S+)(.*)$/.exec(line);
            if (send && !["event", "email"].includes(send[1])) problems.push(`unknown send command: ${line.trim()}`);
        }
        expect(problems, problems.join("\n")).to.deep.equal([]);
        expect(runbook)
            .to.match(/npm run dlq -- list/)
            .and.match(/npm run dlq -- show/)
            .and.match(/npm run dlq -- redrive/)
            .and.match(/npm run send -- /);
    });

    it("avoids AWS CLI v2-only commands and flags (aws is v1 on many machines)", () => {
        // v2 only: `aws logs tail`, `--cli-binary-format`, `aws sso`, `--no-cli-pager`.
        expect(runbook).not.to.match(/aws logs tail|--cli-binary-format|aws sso |--no-cli-pager/);
    });
});
