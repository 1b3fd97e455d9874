/**
 * The local console's fair-queue section, rendered from a snapshot: the five metrics SQS
 * publishes for fair queues ("Available CloudWatch metrics for Amazon SQS") with their
 * values, and the noisy groups escaped (a MessageGroupId is whatever a producer sent).
 */
import { expect } from "chai";
import { ConsoleSnapshot, renderConsole } from "../../../../local/pipeline-app/console/server";

const empty: ConsoleSnapshot = { queues: [], fairQueues: [], deadLetters: [], tenants: [], itemsRead: 0, deliveries: [], inbox: [] };

describe("local console: fair-queue metrics", () => {
    it("shows each of the five fair-queue metrics of the event queue with its value, and the noisy groups escaped", () => {
        const html = renderConsole(
            {
                ...empty,
                fairQueues: [
                    {
                        name: "events-abc",
                        role: "events queue",
                        noisyGroups: ["flood<script>alert(1)</script>"],
                        metrics: {
                            ApproximateNumberOfNoisyGroups: 1,
                            ApproximateNumberOfMessagesVisibleInQuietGroups: 12,
                            ApproximateNumberOfMessagesNotVisibleInQuietGroups: 34,
                            ApproximateNumberOfMessagesDelayedInQuietGroups: 5,
                            ApproximateAgeOfOldestMessageInQuietGroups: 75,
                        },
                    },
                ],
            },
            { stack: "localstack" },
        );
        const section = /<section id="fair-queues">([\s\S]*?)<\/section>/.exec(html)![1];
        const value = (metric: string) => new RegExp(`<code>${metric}</code></td><td class="n">([^<]*)</td>`).exec(section)?.[1];
        expect(value("ApproximateNumberOfNoisyGroups")).to.equal("1");
        expect(value("ApproximateNumberOfMessagesVisibleInQuietGroups")).to.equal("12");
        expect(value("ApproximateNumberOfMessagesNotVisibleInQuietGroups")).to.equal("34");
        expect(value("ApproximateNumberOfMessagesDelayedInQuietGroups")).to.equal("5");
        expect(value("ApproximateAgeOfOldestMessageInQuietGroups")).to.equal("1m 15s");
        expect(section).to.include("<code>flood&lt;script&gt;alert(1)&lt;/script&gt;</code>");
        expect(html).to.not.include("<script>");
    });

    it("says when there is no standard source queue, and 'none' when no group is noisy", () => {
        expect(renderConsole(empty, { stack: "s" })).to.match(/<section id="fair-queues">.*No standard source queue/);
        const quiet = renderConsole(
            {
                ...empty,
                fairQueues: [
                    {
                        name: "events",
                        role: "events queue",
                        noisyGroups: [],
                        metrics: {
                            ApproximateNumberOfNoisyGroups: 0,
                            ApproximateNumberOfMessagesVisibleInQuietGroups: 0,
                            ApproximateNumberOfMessagesNotVisibleInQuietGroups: 0,
                            ApproximateNumberOfMessagesDelayedInQuietGroups: 0,
                            ApproximateAgeOfOldestMessageInQuietGroups: 0,
                        },
                    },
                ],
            },
            { stack: "s" },
        );
        expect(quiet).to.match(/Noisy groups: none/);
    });

    it("shows each email's status timeline, every value escaped", () => {
        const html = renderConsole(
            {
                ...empty,
                statuses: [
                    {
                        id: "e-1",
                        status: "bounced",
                        updatedAt: "2026-01-01T00:00:02.000Z",
                        history: [
                            { at: "2026-01-01T00:00:00.000Z", status: "accepted", details: "" },
                            { at: "2026-01-01T00:00:01.000Z", status: "sent", details: "provider=ses providerMessageId=<b>m</b>" },
                            { at: "2026-01-01T00:00:02.000Z", status: "bounced", details: "bounceType=Permanent" },
                        ],
                    },
                ],
            },
            { stack: "s" },
        );
        const section = /<section id="email-statuses">([\s\S]*?)<\/section>/.exec(html)![1];
        expect(section).to.include("<code>e-1</code> · <strong>bounced</strong>");
        expect([...section.matchAll(/<li><time>[^<]*<\/time> <strong>([^<]*)<\/strong>/g)].map((m) => m[1])).to.deep.equal([
            "accepted",
            "sent",
            "bounced",
        ]);
        expect(section).to.include("providerMessageId=&lt;b&gt;m&lt;/b&gt;").and.not.include("<b>m</b>");
        expect(renderConsole(empty, { stack: "s" })).to.match(/<section id="email-statuses">.*No email accepted yet/);
    });
});
