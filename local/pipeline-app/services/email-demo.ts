/**
 * The email service's part of `npm start`: sample traffic through the loopback
 * API (the shipped API and worker artifacts), then an account of where every
 * email ended up — the inbox (through SES or, with SES down, the SMTP failover),
 * the DLQ with its reason, or a later delivery at its `sendAt`.
 */
import { ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { DemoReport } from "./types";
import type { FakeSes } from "../../aws-stand-ins/email/fake-ses";
import type { MailSink } from "../../aws-stand-ins/email/mail-sink";
import { EMAIL_DEAD_LETTER_ATTRIBUTES } from "../../../contracts/email-service";
import { localSignedFetch } from "../../aws-stand-ins/email/sigv4-identity";

export interface EmailDemoTarget {
    apiUrl: string;
    /** The local API requires SigV4: the demo signs as this principal, with the local secret. */
    credentials: { accessKeyId: string; secretAccessKey: string };
    region: string;
    sink: MailSink;
    ses: FakeSes;
    sqs: SQSClient;
    deadLetterQueueUrl: string;
}

type Accepted = { status: number; id?: string; replayed?: boolean; errors?: number };

async function post(target: EmailDemoTarget, body: unknown, headers: Record<string, string> = {}): Promise<Accepted> {
    const response = await localSignedFetch(
        target.apiUrl,
        { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) },
        target.credentials,
        target.region,
    );
    const json = (await response.json()) as { id?: string; errors?: unknown[] };
    return {
        status: response.status,
        id: json.id,
        replayed: response.headers.get("idempotent-replayed") === "true",
        errors: json.errors?.length,
    };
}

function email(index: number, extra: Record<string, unknown> = {}) {
    return {
        from: "shop@example.com",
        to: [`customer${index}@example.org`],
        subject: `Order ${index} confirmed`,
        text: `Thank you for order ${index}.`,
        ...extra,
    };
}

/**
 * @example
 * const report = await runEmailDemo({ apiUrl, sink, ses, sqs, deadLetterQueueUrl }, { deadline: Date.now() + 60_000, progress: console.error });
 */
export async function runEmailDemo(
    target: EmailDemoTarget,
    options: { deadline: number; progress(line: string): void; emails?: number },
): Promise<DemoReport> {
    const { apiUrl, sink, ses } = target;
    const count = options.emails ?? 5;
    const unaccounted: string[] = [];
    const viaSes: string[] = [];
    const viaSmtp: string[] = [];

    options.progress(
        `[email demo] sending ${count} emails, a retry with the same Idempotency-Key, an invalid request, a scheduled email, and (SES down) a failover and a rejected recipient`,
    );
    for (let n = 1; n <= count; n++) {
        const result = await post(target, email(n), n === 1 ? { "idempotency-key": "demo-order-1" } : {});
        if (result.status === 202 && result.id) viaSes.push(result.id);
        else unaccounted.push(`email ${n} answered ${result.status}`);
    }
    const replay = await post(target, email(1), { "idempotency-key": "demo-order-1" });
    if (replay.status !== 202 || replay.id !== viaSes[0] || !replay.replayed)
        unaccounted.push("the Idempotency-Key retry did not return the first id");
    const invalid = await post(target, { from: "not-an-address", to: [] });
    if (invalid.status !== 400 || !invalid.errors || invalid.errors < 3)
        unaccounted.push(`the invalid request answered ${invalid.status} with ${invalid.errors ?? 0} field errors`);
    const sendAt = new Date(Date.now() + 3_000);
    const scheduled = await post(target, email(99, { sendAt: sendAt.toISOString() }));
    if (scheduled.status !== 202) unaccounted.push(`the scheduled email answered ${scheduled.status}`);

    const inboxHas = (id: string) => sink.messages().some((mail) => mail.emailId === id);
    const waitFor = async (ids: string[]) => {
        while (Date.now() < options.deadline && !ids.every(inboxHas)) await new Promise((resolve) => setTimeout(resolve, 200));
    };
    await waitFor(viaSes);

    // SES down: the worker fails over to SMTP; a recipient the relay refuses is dead-lettered.
    // Both are awaited before SES comes back, so neither can slip through SES instead.
    await ses.setMode("down");
    let rejectedId: string | undefined;
    let deadLettered = 0;
    try {
        const failover = await post(target, email(100));
        if (failover.id) viaSmtp.push(failover.id);
        rejectedId = (await post(target, email(101, { to: ["reject-unknown@example.org"] }))).id;
        await waitFor(viaSmtp);
        while (Date.now() < options.deadline && deadLettered === 0) {
            const peek = await target.sqs.send(
                new ReceiveMessageCommand({
                    QueueUrl: target.deadLetterQueueUrl,
                    MaxNumberOfMessages: 10,
                    WaitTimeSeconds: 1,
                    VisibilityTimeout: 0,
                    MessageAttributeNames: ["All"],
                }),
            );
            deadLettered = (peek.Messages ?? []).filter(
                (message) =>
                    rejectedId !== undefined &&
                    message.Body?.includes(rejectedId) &&
                    message.MessageAttributes?.[EMAIL_DEAD_LETTER_ATTRIBUTES.reason]?.StringValue === "invalid-recipient",
            ).length;
        }
    } finally {
        await ses.setMode("up");
    }
    if (scheduled.id) await waitFor([scheduled.id]);

    const delivered = (ids: string[]) => ids.filter(inboxHas).length;
    const scheduledMail = sink.messages().find((mail) => mail.emailId === scheduled.id);
    const onTime = scheduledMail !== undefined && Date.parse(scheduledMail.receivedAt) >= sendAt.getTime();
    const copies = sink.messages().filter((mail) => mail.emailId === viaSes[0]).length;
    if (delivered(viaSes) !== viaSes.length) unaccounted.push(`${viaSes.length - delivered(viaSes)} email(s) not delivered through SES`);
    if (delivered(viaSmtp) !== viaSmtp.length) unaccounted.push("the failover email was not delivered through SMTP");
    if (copies !== 1) unaccounted.push(`the idempotent email arrived ${copies} times`);
    if (deadLettered !== 1) unaccounted.push("the refused recipient is not in the DLQ with reason invalid-recipient");
    if (!onTime) unaccounted.push("the scheduled email did not arrive at or after its sendAt");

    return {
        title: `Email service (API ${apiUrl}, inbox ${sink.inboxUrl}/messages)`,
        rows: [
            ["accepted (202)", String(viaSes.length + viaSmtp.length + (rejectedId ? 1 : 0) + (scheduled.id ? 1 : 0))],
            ["delivered through SES", `${delivered(viaSes)}/${viaSes.length}`],
            ["delivered through SMTP failover (SES down)", `${delivered(viaSmtp)}/${viaSmtp.length}`],
            ["Idempotency-Key retry: same id, delivered once", copies === 1 && replay.replayed ? "yes" : "no"],
            ["invalid request (400, field errors)", `${invalid.status}, ${invalid.errors ?? 0} errors`],
            ["refused recipient → DLQ (invalid-recipient)", String(deadLettered)],
            ["scheduled email delivered at/after sendAt", onTime ? "yes" : "no"],
        ],
        accounted: unaccounted.length === 0,
        unaccounted,
    };
}
