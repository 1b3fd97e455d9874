/**
 * Future `sendAt` without blocking and without polling: the worker hands a future
 * email to EventBridge Scheduler as a one-time `at(...)` schedule whose target is
 * the email queue itself, and acknowledges the message at once. Nothing waits, no
 * FIFO lane is held (FIFO queues have no per-message DelaySeconds, and hiding a
 * message with a visibility timeout would block its whole group), and at the due
 * time the scheduler puts the email back on the queue marked `released`.
 *
 * The schedule's input is a pointer message only (content is in S3), so no PII
 * sits in the scheduler. The schedule is named after the email id, so a redelivered
 * message cannot schedule the email twice (ConflictException = already scheduled),
 * and it deletes itself after it fires. A release that cannot be delivered ends in the
 * schedule dead-letter queue, its body the pointer message: resend it as it is.
 */
import type scheduler = require("@aws-sdk/client-scheduler");
import { EMAIL_SCHEDULE_NAME_PREFIX } from "../../contracts/email-service";
import { type Deferred, resolveDeferred } from "../shared/deferred";
import type { DeliveryScheduler, QueuedEmail } from "./types";

/** The Scheduler client module, loaded on the first deferred send (see handlers/shared/deferred.ts). */
export function schedulerSdk(): typeof scheduler {
    return require("@aws-sdk/client-scheduler") as typeof scheduler;
}

/** The scheduler fires with one-minute precision; never schedule closer than this. */
export const MIN_SCHEDULE_LEAD_MS = 60_000;

/**
 * How long EventBridge Scheduler keeps retrying a failed release before it dead-letters it: the
 * service's maxima (24 hours, 185 attempts, "Configuring a retry policy" in the Scheduler guide).
 * A release that fails for good (or at once, for errors the service does not retry) goes to the
 * schedule dead-letter queue with the schedule's input as its body.
 */
export const SCHEDULE_RETRY_POLICY = { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 } as const;

/**
 * `at(yyyy-mm-ddThh:mm:ss)` in UTC, rounded up to the next whole second.
 *
 * @example
 * atExpression(new Date("2026-01-31T12:00:00.200Z")); // "at(2026-01-31T12:00:01)"
 */
export function atExpression(date: Date): string {
    const rounded = new Date(Math.ceil(date.getTime() / 1000) * 1000);
    return `at(${rounded.toISOString().slice(0, 19)})`;
}

/**
 * Schedule name for an email: unique per id and per deferral (`email-<id>` for `sendAt`,
 * `email-<id>-r<n>` for the n-th deferred retry), within the 64-character limit. A
 * redelivered message computes the same name, so it can never be scheduled twice. The
 * prefix is the one the worker's IAM policy scopes `scheduler:CreateSchedule` to.
 *
 * @example
 * scheduleName("0b6f", 2); // "email-0b6f-r2"
 */
export function scheduleName(emailId: string, deferrals = 0): string {
    const suffix = deferrals > 0 ? `-r${deferrals}` : "";
    return `${EMAIL_SCHEDULE_NAME_PREFIX}${emailId}`.slice(0, 64 - suffix.length) + suffix;
}

/** Where the worker creates schedules and what they target. */
export interface EventBridgeSchedulerOptions {
    client: Deferred<scheduler.SchedulerClient>;
    /** Schedule group the worker's role may create schedules in. */
    groupName: string;
    /** The email FIFO queue's ARN (the target). */
    queueArn: string;
    /** Role the scheduler assumes to SendMessage to the queue (and to the dead-letter queue). */
    roleArn: string;
    /** Standard SQS queue for releases that failed (EventBridge Scheduler does not accept a FIFO DLQ). */
    deadLetterQueueArn: string;
    /** Never schedule closer to now than this (the scheduler's one-minute precision). @default MIN_SCHEDULE_LEAD_MS */
    minLeadMs?: number;
    now?: () => Date;
}

/**
 * @example
 * const delay = eventBridgeScheduler({ client: new SchedulerClient({}), groupName, queueArn, roleArn, deadLetterQueueArn });
 * await delay.schedule({ ...message, released: true }, new Date(message.sendAt!));
 */
export function eventBridgeScheduler(options: EventBridgeSchedulerOptions): DeliveryScheduler {
    const now = options.now ?? (() => new Date());
    return {
        async schedule(message: QueuedEmail, at: Date) {
            const earliest = now().getTime() + (options.minLeadMs ?? MIN_SCHEDULE_LEAD_MS);
            const when = new Date(Math.max(at.getTime(), earliest));
            try {
                await resolveDeferred(options.client).send(
                    new (schedulerSdk().CreateScheduleCommand)({
                        Name: scheduleName(message.id, message.deferrals),
                        GroupName: options.groupName,
                        ScheduleExpression: atExpression(when),
                        ScheduleExpressionTimezone: "UTC",
                        FlexibleTimeWindow: { Mode: "OFF" },
                        ActionAfterCompletion: "DELETE",
                        Target: {
                            Arn: options.queueArn,
                            RoleArn: options.roleArn,
                            Input: JSON.stringify(message),
                            // FIFO target: the scheduler sets the group; the queue's content-based deduplication gives the dedup id.
                            SqsParameters: { MessageGroupId: message.lane },
                            RetryPolicy: { ...SCHEDULE_RETRY_POLICY },
                            DeadLetterConfig: { Arn: options.deadLetterQueueArn },
                        },
                    }),
                );
            } catch (error) {
                if ((error as Error).name === "ConflictException") return; // already scheduled by an earlier delivery
                throw error;
            }
        },
    };
}

/** Deletes an email's pending `sendAt` schedule (`DELETE /v1/emails/{id}`). */
export interface ScheduleCanceller {
    /** `deleted`, or `absent` when there was no such schedule (it fired and deleted itself, or was never created). */
    deleteSchedule(emailId: string): Promise<"deleted" | "absent">;
}

/**
 * EventBridge Scheduler's DeleteSchedule on the email's `sendAt` schedule (`email-<id>`, in the group). A
 * missing schedule is not an error: a schedule that fired deletes itself (`ActionAfterCompletion: DELETE`),
 * and the worker may not have created it yet; in both cases the status (`cancelled`) is what stops the send.
 * DeleteSchedule passes no role, so the caller needs `scheduler:DeleteSchedule` only (no `iam:PassRole`).
 *
 * @example
 * const canceller = eventBridgeScheduleCanceller({ client: once(() => new SchedulerClient({})), groupName });
 * await canceller.deleteSchedule(emailId); // "deleted" | "absent"
 */
export function eventBridgeScheduleCanceller(options: {
    client: Deferred<scheduler.SchedulerClient>;
    groupName: string;
}): ScheduleCanceller {
    return {
        async deleteSchedule(emailId: string) {
            try {
                await resolveDeferred(options.client).send(
                    new (schedulerSdk().DeleteScheduleCommand)({ Name: scheduleName(emailId), GroupName: options.groupName }),
                );
                return "deleted";
            } catch (error) {
                if ((error as Error).name === "ResourceNotFoundException") return "absent";
                throw error;
            }
        },
    };
}
