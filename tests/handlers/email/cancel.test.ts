/**
 * Cancelling a scheduled email, `DELETE /v1/emails/{id}`, on DynamoDB Local, fauxqs, the local SES and the
 * local EventBridge Scheduler (real SDK clients): the store's atomic cancel, the API's answers (200, the
 * same 200 again, 409 naming the status, the GET's 404), and the race with the schedule firing, in both
 * orders and with the schedule firing between the cancel's status write and its DeleteSchedule. The
 * cancel wins whenever its status write comes first; the worker's release wins otherwise; never both.
 */
import { expect } from "chai";
import * as crypto from "node:crypto";
import * as sqs from "@aws-sdk/client-sqs";
import { SchedulerClient } from "@aws-sdk/client-scheduler";
import { createEmailApi, type EmailApiDeps } from "../../../handlers/email/api";
import { tenantScope } from "../../../handlers/email/message";
import {
    eventBridgeScheduleCanceller,
    eventBridgeScheduler,
    scheduleName,
    type ScheduleCanceller,
} from "../../../handlers/email/scheduler";
import { dynamoStatusStore, type EmailStatusRecord } from "../../../handlers/email/status";
import type { EmailWorkerHandler } from "../../../handlers/email/worker";
import { EMAIL_STATUS_NAMES, EMAIL_STATUSES, type EmailStatus } from "../../../contracts/email-service";
import { LOCAL_CREDENTIALS } from "../../../local/offline/emulators";
import { MOCK_ACCOUNT_ID } from "../../../local/offline/mock-deployment";
import { type FakeScheduler, startFakeScheduler } from "../../../local/aws-stand-ins/email/fake-aws";
import { FakeSes, startFakeSes } from "../../../local/aws-stand-ins/email/fake-ses";
import {
    DAY_SECONDS,
    drain,
    emailApiDeps,
    emailApiEvent,
    emailWorkerOnStack,
    EmailStack,
    runWorkerOnce as runEmailWorkerOnce,
    REGION,
    startEmailStack,
    TENANT_A,
    TENANT_B,
} from "../../support/email/aws";
import { captureLogsInThisSuite, capturedLines, linesContaining } from "../../support/email/logs";
import { emailBody, PII_NEEDLES } from "../../support/email/pii";

const GROUP = "event-ingestion-dev-email-schedules";

describe("cancelling a scheduled email (DynamoDB Local, fauxqs, local SES and Scheduler)", function () {
    this.timeout(120_000);
    captureLogsInThisSuite();
    let stack: EmailStack;
    let ses: FakeSes;
    let scheduler: FakeScheduler;
    let schedulerClient: SchedulerClient;
    const workers: EmailWorkerHandler[] = [];

    function apiDeps(overrides: Partial<EmailApiDeps> = {}): EmailApiDeps {
        return emailApiDeps(stack, {
            scheduleCanceller: eventBridgeScheduleCanceller({ client: schedulerClient, groupName: GROUP }),
            ...overrides,
        });
    }

    function worker(): EmailWorkerHandler {
        const handler = emailWorkerOnStack(stack, ses.endpoint, {
            scheduler: eventBridgeScheduler({
                client: schedulerClient,
                groupName: GROUP,
                queueArn: stack.queueArn,
                roleArn: `arn:aws:iam::${MOCK_ACCOUNT_ID}:role/email-scheduler-role`,
                deadLetterQueueArn: `arn:aws:sqs:${REGION}:${MOCK_ACCOUNT_ID}:email-schedule-dlq`,
            }),
        });
        workers.push(handler);
        return handler;
    }

    /** One worker invocation on what is on the queue now. */
    const runWorkerOnce = (handler: EmailWorkerHandler) => runEmailWorkerOnce(stack, handler);

    /** POSTs an email due in an hour and lets the worker hand it to the scheduler: it is `scheduled`, its schedule pending. */
    async function scheduledEmail(api: ReturnType<typeof createEmailApi>, handler: EmailWorkerHandler): Promise<string> {
        const sendAt = new Date(Date.now() + 3600_000).toISOString();
        const posted = await api(emailApiEvent("POST", TENANT_A, { body: emailBody({ sendAt }) }));
        expect(posted.statusCode).to.equal(202);
        const { id } = JSON.parse(posted.body!) as { id: string };
        await runWorkerOnce(handler);
        expect(scheduler.requests.some((r) => r.method === "POST" && r.path === `/schedules/${scheduleName(id)}`)).to.equal(true);
        return id;
    }

    const statusOf = async (api: ReturnType<typeof createEmailApi>, id: string) =>
        JSON.parse((await api(emailApiEvent("GET", TENANT_A, { id }))).body!) as EmailStatusRecord;

    before(async () => {
        [stack, ses] = await Promise.all([startEmailStack(), startFakeSes()]);
        // The release puts the schedule's input on the email queue, as the scheduler's SQS target does.
        scheduler = await startFakeScheduler({
            region: REGION,
            accountId: MOCK_ACCOUNT_ID,
            release: async (due) => {
                await stack.sqs.send(
                    new sqs.SendMessageCommand({
                        QueueUrl: stack.queueUrl,
                        MessageBody: due.input,
                        MessageGroupId: due.messageGroupId,
                    }),
                );
            },
        });
        schedulerClient = new SchedulerClient({
            region: REGION,
            credentials: LOCAL_CREDENTIALS,
            endpoint: scheduler.endpoint,
            maxAttempts: 1,
        });
    });
    after(async () => {
        for (const w of workers) w.mailer.shutdown();
        schedulerClient?.destroy();
        await Promise.all([stack?.stop(), ses?.stop(), scheduler?.stop()]);
    });
    beforeEach(async () => {
        await drain(stack.sqs, stack.queueUrl, 0);
    });

    describe("the store: one conditional write decides", () => {
        const owner = tenantScope(TENANT_A);
        const inAMonth = () => new Date(Date.now() + 30 * DAY_SECONDS * 1000);
        const inAnHour = () => new Date(Date.now() + 3600_000);

        it("cancels a scheduled email once; a second cancel changes nothing and answers the same status", async () => {
            const store = dynamoStatusStore(stack.dynamodb, stack.statusTableName);
            const id = crypto.randomUUID();
            await store.accept(id, owner, inAMonth(), inAnHour());
            await store.record(id, "scheduled", { sendAt: inAnHour().toISOString() });
            const first = await store.cancel(id, owner);
            expect(first.outcome).to.equal("cancelled");
            const again = await store.cancel(id, owner);
            expect(again.outcome).to.equal("already-cancelled");
            expect(again)
                .to.have.property("record")
                .that.deep.equals((first as { record: EmailStatusRecord }).record);
            const read = (await store.read(id, owner))!;
            expect(read.status).to.equal("cancelled");
            expect(read.history.map((entry) => entry.status)).to.deep.equal(["accepted", "scheduled", "cancelled"]);
        });

        it("cancels an email accepted with a sendAt whose `scheduled` was never recorded, but not one without a sendAt", async () => {
            const store = dynamoStatusStore(stack.dynamodb, stack.statusTableName);
            const scheduled = crypto.randomUUID();
            await store.accept(scheduled, owner, inAMonth(), inAnHour());
            expect((await store.cancel(scheduled, owner)).outcome).to.equal("cancelled");
            const immediate = crypto.randomUUID();
            await store.accept(immediate, owner, inAMonth());
            expect(await store.cancel(immediate, owner)).to.deep.equal({ outcome: "not-cancellable", status: "accepted" });
        });

        it("refuses every status past scheduled, naming it, and leaves it as it was", async () => {
            const store = dynamoStatusStore(stack.dynamodb, stack.statusTableName);
            const past = EMAIL_STATUS_NAMES.filter(
                (status) => EMAIL_STATUSES[status].rank > EMAIL_STATUSES.scheduled.rank && status !== "cancelled",
            );
            expect(past).to.include.members(["queued", "sent", "delivered", "bounced", "failed", "suppressed"]);
            for (const status of past) {
                const id = crypto.randomUUID();
                await store.accept(id, owner, inAMonth(), inAnHour());
                await store.record(id, "scheduled");
                expect(await store.record(id, status)).to.equal("recorded");
                expect(await store.cancel(id, owner), status).to.deep.equal({ outcome: "not-cancellable", status });
                expect((await store.read(id, owner))!.status).to.equal(status);
            }
        });

        it("is not-found for another principal's, an unknown and an expired email, whatever their status", async () => {
            const store = dynamoStatusStore(stack.dynamodb, stack.statusTableName);
            const id = crypto.randomUUID();
            await store.accept(id, owner, inAMonth(), inAnHour());
            await store.record(id, "scheduled");
            expect(await store.cancel(id, tenantScope(TENANT_B))).to.deep.equal({ outcome: "not-found" });
            expect(await store.cancel(crypto.randomUUID(), owner)).to.deep.equal({ outcome: "not-found" });
            const expired = crypto.randomUUID();
            await store.accept(expired, owner, new Date(Date.now() - 1000), inAnHour());
            expect(await store.cancel(expired, owner)).to.deep.equal({ outcome: "not-found" });
            // The other principal's attempt changed nothing.
            expect((await store.read(id, owner))!.status).to.equal("scheduled");
        });

        it("nothing later resurrects a cancelled email: no report, no release", async () => {
            const store = dynamoStatusStore(stack.dynamodb, stack.statusTableName);
            const id = crypto.randomUUID();
            await store.accept(id, owner, inAMonth(), inAnHour());
            await store.record(id, "scheduled");
            await store.cancel(id, owner);
            for (const status of EMAIL_STATUS_NAMES) expect(await store.record(id, status), status).to.equal("stale");
            expect(await store.release(id)).to.equal("cancelled");
            const read = (await store.read(id, owner))!;
            expect(read.status).to.equal("cancelled");
            expect(read.history.map((entry) => entry.status)).to.deep.equal(["accepted", "scheduled", "cancelled"]);
        });

        it("release first: the email is queued and the cancel is refused, naming queued", async () => {
            const store = dynamoStatusStore(stack.dynamodb, stack.statusTableName);
            const id = crypto.randomUUID();
            await store.accept(id, owner, inAMonth(), inAnHour());
            await store.record(id, "scheduled");
            expect(await store.release(id)).to.equal("send");
            expect(await store.cancel(id, owner)).to.deep.equal({ outcome: "not-cancellable", status: "queued" });
            // A redelivered release still sends (the delivery ledger drops a duplicate); an untracked email too.
            expect(await store.release(id)).to.equal("send");
            expect(await store.release(crypto.randomUUID())).to.equal("send");
        });

        it("cancel and release at the same moment: exactly one of them wins, every time", async () => {
            const store = dynamoStatusStore(stack.dynamodb, stack.statusTableName);
            const winners: string[] = [];
            for (let run = 0; run < 20; run++) {
                const id = crypto.randomUUID();
                await store.accept(id, owner, inAMonth(), inAnHour());
                await store.record(id, "scheduled");
                const [cancel, release] = await Promise.all([store.cancel(id, owner), store.release(id)]);
                const cancelled = cancel.outcome === "cancelled";
                const sent = release === "send";
                expect(cancelled !== sent, `run ${run}: cancel ${cancel.outcome}, release ${release}`).to.equal(true);
                const status = (await store.read(id, owner))!.status;
                expect(status).to.equal((cancelled ? "cancelled" : "queued") satisfies EmailStatus);
                if (!cancelled) expect(cancel).to.deep.equal({ outcome: "not-cancellable", status: "queued" });
                winners.push(cancelled ? "cancel" : "release");
            }
            expect(winners).to.have.length(20);
        });
    });

    describe("DELETE /v1/emails/{id} and the schedule", () => {
        it("cancel before the schedule fires: 200 cancelled, the schedule is deleted, nothing is sent", async () => {
            const api = createEmailApi(apiDeps());
            const handler = worker();
            const id = await scheduledEmail(api, handler);
            const before = ses.requests.length;
            const answer = await api(emailApiEvent("DELETE", TENANT_A, { id }));
            expect(answer.statusCode).to.equal(200);
            const body = JSON.parse(answer.body!) as EmailStatusRecord;
            expect(body).to.deep.include({ id, status: "cancelled" });
            expect(body.history.map((entry) => entry.status)).to.deep.equal(["accepted", "scheduled", "cancelled"]);
            const deleted = scheduler.requests.filter((r) => r.method === "DELETE" && r.path === `/schedules/${scheduleName(id)}`);
            expect(deleted).to.have.length(1);
            expect(deleted[0].query.groupName).to.equal(GROUP);
            expect(await scheduler.fireNow(scheduleName(id), GROUP), "the schedule is gone").to.equal(false);
            expect(ses.requests.length).to.equal(before);
            expect((await statusOf(api, id)).status).to.equal("cancelled");
        });

        it("cancelling again: the same 200 and body, nothing changes (a missing schedule is no error)", async () => {
            const api = createEmailApi(apiDeps());
            const id = await scheduledEmail(api, worker());
            const first = await api(emailApiEvent("DELETE", TENANT_A, { id }));
            const second = await api(emailApiEvent("DELETE", TENANT_A, { id }));
            expect(second.statusCode).to.equal(200);
            expect(second.body).to.equal(first.body);
        });

        it("the schedule fires before the cancel: the email is sent and the cancel is a 409 naming its status", async () => {
            const api = createEmailApi(apiDeps());
            const handler = worker();
            const id = await scheduledEmail(api, handler);
            const before = ses.requests.length;
            expect(await scheduler.fireNow(scheduleName(id), GROUP)).to.equal(true);
            await runWorkerOnce(handler);
            expect(ses.requests.length).to.equal(before + 1);
            const answer = await api(emailApiEvent("DELETE", TENANT_A, { id }));
            expect(answer.statusCode).to.equal(409);
            expect(JSON.parse(answer.body!)).to.deep.equal({
                error: "NotCancellable",
                message: "The email is sent; only an email waiting for its sendAt can be cancelled.",
                status: "sent",
            });
            expect((await statusOf(api, id)).history.map((entry) => entry.status)).to.deep.equal([
                "accepted",
                "scheduled",
                "queued",
                "sent",
            ]);
        });

        it("the schedule fires between the cancel's status write and its DeleteSchedule: the worker drops the release, the cancel stands", async () => {
            const handler = worker();
            const real = eventBridgeScheduleCanceller({ client: schedulerClient, groupName: GROUP });
            const fired: boolean[] = [];
            // The schedule fires, and the worker handles the release, after the status write and before DeleteSchedule.
            const interleaved: ScheduleCanceller = {
                async deleteSchedule(emailId) {
                    fired.push(await scheduler.fireNow(scheduleName(emailId), GROUP));
                    await runWorkerOnce(handler);
                    return real.deleteSchedule(emailId);
                },
            };
            const api = createEmailApi(apiDeps({ scheduleCanceller: interleaved }));
            const id = await scheduledEmail(api, handler);
            const before = ses.requests.length;
            const answer = await api(emailApiEvent("DELETE", TENANT_A, { id }));
            expect(fired).to.deep.equal([true]);
            expect(answer.statusCode).to.equal(200);
            expect(ses.requests.length, "never sent").to.equal(before);
            expect(await drain(stack.sqs, stack.queueUrl, 0), "the release was acknowledged, not retried").to.have.length(0);
            const read = await statusOf(api, id);
            expect(read.status).to.equal("cancelled");
            expect(read.history.map((entry) => entry.status)).to.deep.equal(["accepted", "scheduled", "cancelled"]);
            expect(capturedLines().some((line) => line.includes('"email cancelled; release dropped"') && line.includes(id))).to.equal(true);
            expect(capturedLines().some((line) => line.includes('"email cancelled"') && line.includes('"schedule":"absent"'))).to.equal(
                true,
            );
        });

        it("a schedule that cannot be deleted still sends nothing: the cancel stands and the release is dropped", async () => {
            const handler = worker();
            const failing: ScheduleCanceller = {
                deleteSchedule: async () => {
                    throw Object.assign(new Error("throttled"), { name: "ThrottlingException" });
                },
            };
            const api = createEmailApi(apiDeps({ scheduleCanceller: failing }));
            const id = await scheduledEmail(api, handler);
            const before = ses.requests.length;
            expect((await api(emailApiEvent("DELETE", TENANT_A, { id }))).statusCode).to.equal(200);
            expect(await scheduler.fireNow(scheduleName(id), GROUP)).to.equal(true);
            await runWorkerOnce(handler);
            expect(ses.requests.length).to.equal(before);
            expect((await statusOf(api, id)).status).to.equal("cancelled");
        });

        it("an email sent at once (no sendAt) is a 409 naming its status", async () => {
            const api = createEmailApi(apiDeps());
            const handler = worker();
            const { id } = JSON.parse((await api(emailApiEvent("POST", TENANT_A, { body: emailBody() }))).body!) as { id: string };
            const queued = await api(emailApiEvent("DELETE", TENANT_A, { id }));
            expect(queued.statusCode).to.equal(409);
            expect(JSON.parse(queued.body!)).to.deep.include({ error: "NotCancellable", status: "queued" });
            await runWorkerOnce(handler);
            expect(JSON.parse((await api(emailApiEvent("DELETE", TENANT_A, { id }))).body!)).to.deep.include({ status: "sent" });
        });

        it("another principal's id, an unknown id, a malformed id and no principal are the GET's 404, and cancel nothing", async () => {
            const api = createEmailApi(apiDeps());
            const id = await scheduledEmail(api, worker());
            const get = await api(emailApiEvent("GET", TENANT_B, { id }));
            const answers = [
                await api(emailApiEvent("DELETE", TENANT_B, { id })),
                await api(emailApiEvent("DELETE", TENANT_A, { id: crypto.randomUUID() })),
                await api(emailApiEvent("DELETE", TENANT_A, { id: "../../etc/passwd" })),
                await api(emailApiEvent("DELETE", undefined, { id })),
            ];
            for (const answer of answers) {
                expect(answer.statusCode).to.equal(404);
                expect(answer.body).to.equal(get.body);
            }
            expect((await statusOf(api, id)).status).to.equal("scheduled");
            expect(scheduler.requests.some((r) => r.method === "DELETE" && r.path === `/schedules/${scheduleName(id)}`)).to.equal(false);
        });
    });

    describe("the local Scheduler's DeleteSchedule, as the service answers it", () => {
        it("deletes a schedule of its group only; a missing one is ResourceNotFoundException", async () => {
            const real = eventBridgeScheduleCanceller({ client: schedulerClient, groupName: GROUP });
            const other = eventBridgeScheduleCanceller({ client: schedulerClient, groupName: "other-group" });
            const api = createEmailApi(apiDeps());
            const id = await scheduledEmail(api, worker());
            expect(await other.deleteSchedule(id), "same name, other group").to.equal("absent");
            expect(await real.deleteSchedule(id)).to.equal("deleted");
            expect(await real.deleteSchedule(id)).to.equal("absent");
        });
    });

    describe("logs", () => {
        it("wrote log lines, and none of them contains an address, a subject or a body", () => {
            const lines = capturedLines();
            expect(lines.some((line) => line.includes('"email cancelled"'))).to.equal(true);
            expect(linesContaining(lines, PII_NEEDLES)).to.deep.equal([]);
        });
    });
});
