/**
 * The local EventBridge Scheduler stand-in behaves like the service where it matters
 * for "never lost": it assumes the schedule's role under the role's trust policy with
 * the context the service sends ("Confused deputy prevention" in the EventBridge
 * Scheduler User Guide: aws:SourceArn is the schedule GROUP's ARN), retries a failed
 * release within the schedule's RetryPolicy, then dead-letters it to a standard queue
 * ("Configuring a dead-letter queue for EventBridge Scheduler"), and fires a schedule
 * any distance ahead (Node's setTimeout holds at most 2^31-1 ms).
 */
import { expect } from "chai";
import { SchedulerClient } from "@aws-sdk/client-scheduler";
import { schedulerAssumeRolePolicy } from "../../../components/email-service/email-iam";
import { eventBridgeScheduler } from "../../../handlers/email/scheduler";
import { LOCAL_CREDENTIALS } from "../../../local/offline/emulators";
import {
    MAX_TIMER_DELAY_MS,
    setLongTimeout,
    startFakeScheduler,
    type FakeScheduler,
    type ScheduleRelease,
} from "../../../local/aws-stand-ins/email/fake-aws";
import { scheduleGroupArn, schedulerMayAssumeRole } from "../../../local/aws-stand-ins/email/scheduler-trust";
import { MOCK_ACCOUNT_ID } from "../../../local/offline/mock-deployment";
import { until } from "../../support/until";

const SCOPE = { partition: "aws", region: "us-east-1", accountId: MOCK_ACCOUNT_ID };
const GROUP = "event-ingestion-dev-email-schedules";
const ROLE = `arn:aws:iam::${MOCK_ACCOUNT_ID}:role/email-scheduler-role`;
const message = (id: string) => ({
    version: 1 as const,
    id,
    lane: "t0-1",
    acceptedAt: new Date().toISOString(),
    contentRef: { bucket: "b", key: `emails/${id}.json`, bytes: 1 },
    released: true,
});

describe("local EventBridge Scheduler stand-in", function () {
    this.timeout(30_000);
    const started: FakeScheduler[] = [];
    afterEach(async () => {
        for (const fake of started.splice(0)) await fake.stop();
    });
    async function scheduler(options: Parameters<typeof startFakeScheduler>[0]) {
        const fake = await startFakeScheduler({ region: SCOPE.region, accountId: SCOPE.accountId, ...options });
        started.push(fake);
        const client = new SchedulerClient({
            endpoint: fake.endpoint,
            region: SCOPE.region,
            credentials: LOCAL_CREDENTIALS,
            maxAttempts: 1,
        });
        const worker = eventBridgeScheduler({
            client,
            groupName: GROUP,
            queueArn: `arn:aws:sqs:us-east-1:${MOCK_ACCOUNT_ID}:email.fifo`,
            roleArn: ROLE,
            deadLetterQueueArn: `arn:aws:sqs:us-east-1:${MOCK_ACCOUNT_ID}:email-schedule-dlq`,
            minLeadMs: 1,
        });
        return { fake, worker };
    }

    describe("trust: the deployed trust policy, evaluated with the context the service sends", () => {
        const trust = schedulerAssumeRolePolicy(SCOPE, GROUP);
        const ask = (sourceArn: string, sourceAccount = SCOPE.accountId) =>
            schedulerMayAssumeRole(trust, { roleArn: ROLE, sourceArn, sourceAccount });

        it("lets EventBridge Scheduler assume the role for this account's schedule group", async () => {
            expect(await ask(scheduleGroupArn(SCOPE, GROUP))).to.equal(true);
        });

        it("refuses another group, another account, and a schedule ARN in place of the group ARN", async () => {
            expect(await ask(scheduleGroupArn(SCOPE, "another-group"))).to.equal(false);
            expect(await ask(scheduleGroupArn({ ...SCOPE, accountId: "210987654321" }, GROUP), "210987654321")).to.equal(false);
            // A trust policy scoped to schedule ARNs never matches what the service sends.
            const scopedToSchedules = {
                Version: "2012-10-17",
                Statement: [
                    {
                        Effect: "Allow",
                        Principal: { Service: "scheduler.amazonaws.com" },
                        Action: "sts:AssumeRole",
                        Condition: { ArnLike: { "aws:SourceArn": `arn:aws:scheduler:us-east-1:${MOCK_ACCOUNT_ID}:schedule/${GROUP}/*` } },
                    },
                ],
            };
            const sourceArn = scheduleGroupArn(SCOPE, GROUP);
            expect(await schedulerMayAssumeRole(scopedToSchedules, { roleArn: ROLE, sourceArn, sourceAccount: SCOPE.accountId })).to.equal(
                false,
            );
        });

        it("a role the service cannot assume reaches neither the target nor the DLQ: the release is dropped and recorded", async () => {
            const released: ScheduleRelease[] = [];
            const { fake, worker } = await scheduler({
                assumeRole: async (request) => schedulerMayAssumeRole(schedulerAssumeRolePolicy(SCOPE, "another-group"), request),
                release: async (due) => void released.push(due),
                deadLetter: async () => undefined,
            });
            await worker.schedule(message("trust-1"), new Date(Date.now() + 50));
            await until("the schedule to be dropped", () => fake.dropped.length === 1, { timeoutMs: 10_000, intervalMs: 20 });
            expect(fake.dropped).to.deep.equal([{ name: "email-trust-1", errorCode: "AssumeRoleFailed" }]);
            expect(released).to.deep.equal([]);
            expect(fake.deadLettered).to.deep.equal([]);
        });
    });

    describe("retry policy and dead-letter queue", () => {
        it("retries a failed release, then delivers the schedule's input to its DLQ with what went wrong", async () => {
            let attempts = 0;
            const { fake, worker } = await scheduler({
                assumeRole: async (request) => schedulerMayAssumeRole(schedulerAssumeRolePolicy(SCOPE, GROUP), request),
                release: async () => {
                    attempts++;
                    throw Object.assign(new Error("queue does not exist"), { name: "ResourceNotFoundException" });
                },
                deadLetter: async () => undefined,
                retryDelayMs: 1,
            });
            await worker.schedule(message("dlq-1"), new Date(Date.now() + 50));
            await until("the schedule to be dead-lettered", () => fake.deadLettered.length === 1, { timeoutMs: 10_000, intervalMs: 20 });
            expect(attempts).to.equal(186); // the first attempt and MaximumRetryAttempts (185) retries
            const [dead] = fake.deadLettered;
            expect(dead.deadLetterArn).to.equal(`arn:aws:sqs:us-east-1:${MOCK_ACCOUNT_ID}:email-schedule-dlq`);
            expect(JSON.parse(dead.body)).to.deep.include({ id: "dlq-1", released: true, lane: "t0-1" });
            expect(dead.attributes).to.deep.include({
                ERROR_CODE: "ResourceNotFoundException",
                EXHAUSTED_RETRY_CONDITION: "MaximumRetryAttempts",
                RETRY_ATTEMPTS: "185",
                SCHEDULE_ARN: `arn:aws:scheduler:us-east-1:${MOCK_ACCOUNT_ID}:schedule/${GROUP}/email-dlq-1`,
            });
        });

        it("refuses a FIFO queue as a schedule's DLQ, as the service does", async () => {
            const { fake } = await scheduler({});
            const client = new SchedulerClient({
                endpoint: fake.endpoint,
                region: SCOPE.region,
                credentials: LOCAL_CREDENTIALS,
                maxAttempts: 1,
            });
            const fifo = eventBridgeScheduler({
                client,
                groupName: GROUP,
                queueArn: "arn:aws:sqs:us-east-1:1:q.fifo",
                roleArn: ROLE,
                deadLetterQueueArn: "arn:aws:sqs:us-east-1:1:dlq.fifo",
                minLeadMs: 1,
            });
            let error: Error | undefined;
            await fifo.schedule(message("fifo-1"), new Date(Date.now() + 60_000)).catch((e: Error) => (error = e));
            expect(error?.name).to.equal("ValidationException");
        });
    });

    describe("long schedules", () => {
        it("holds a schedule beyond 2^31-1 ms (24.8 days) instead of firing it at once", async () => {
            const released: ScheduleRelease[] = [];
            const { fake, worker } = await scheduler({ release: async (due) => void released.push(due) });
            await worker.schedule(message("far-1"), new Date(Date.now() + 30 * 24 * 3600 * 1000));
            await new Promise((r) => setTimeout(r, 300));
            expect(released).to.deep.equal([]);
            expect(fake.pending()).to.equal(1);
        });

        it("chains timers: a delay longer than one timer fires once, not before it is due", async () => {
            const start = Date.now();
            let fired: number[] = [];
            setLongTimeout(() => fired.push(Date.now() - start), 120, 25);
            await until("the schedule to fire", () => fired.length > 0, { timeoutMs: 10_000, intervalMs: 20 });
            await new Promise((r) => setTimeout(r, 60));
            expect(fired).to.have.length(1);
            expect(fired[0]).to.be.at.least(120);
            const cancelled = setLongTimeout(() => (fired = [...fired, -1]), 60, 25);
            cancelled.cancel();
            await new Promise((r) => setTimeout(r, 100));
            expect(fired).to.have.length(1);
            expect(MAX_TIMER_DELAY_MS).to.equal(2_147_483_647);
        });
    });
});
