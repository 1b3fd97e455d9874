/**
 * Tiny stand-ins for AWS JSON APIs the real SDK clients talk to through their
 * endpoint (e.g. `AWS_ENDPOINT_URL_SECRETS_MANAGER`): Secrets Manager
 * (awsJson1.1, `GetSecretValue`) and EventBridge Scheduler (restJson1,
 * `CreateSchedule`, `DeleteSchedule`, and — when given a `release` callback — firing one-time
 * `at(...)` schedules at their time, with the service's role assumption, retry
 * policy and dead-letter queue). They record every request. Used by the
 * email tests and by the local pipeline, so the shipped worker runs unchanged.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { refuseForeignHost } from "../loopback-host";

export interface RecordedRequest {
    method: string;
    path: string;
    /** The query string's parameters (restJson1 puts some inputs there, e.g. DeleteSchedule's `groupName`). */
    query: Record<string, string>;
    target?: string;
    body: Record<string, unknown>;
}

export interface FakeAwsService {
    readonly endpoint: string;
    readonly requests: RecordedRequest[];
    stop(): Promise<void>;
}

type Reply = { status: number; body: unknown; errorType?: string };

async function serve(respond: (request: RecordedRequest) => Reply): Promise<FakeAwsService> {
    const requests: RecordedRequest[] = [];
    const server = http.createServer((req, res) => {
        if (refuseForeignHost(req, res)) return;
        const chunks: Buffer[] = [];
        req.on("data", (chunk: Buffer) => chunks.push(chunk));
        req.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            const url = new URL(req.url ?? "/", "http://localhost");
            const request: RecordedRequest = {
                method: req.method ?? "GET",
                path: decodeURIComponent(url.pathname),
                query: Object.fromEntries(url.searchParams),
                target: req.headers["x-amz-target"] as string | undefined,
                body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
            };
            requests.push(request);
            const reply = respond(request);
            res.writeHead(reply.status, {
                "content-type": "application/x-amz-json-1.1",
                "x-amzn-requestid": `fake-${requests.length}`,
                ...(reply.errorType ? { "x-amzn-errortype": reply.errorType } : {}),
            });
            res.end(
                JSON.stringify(
                    reply.errorType ? { __type: reply.errorType, message: reply.errorType, ...(reply.body as object) } : reply.body,
                ),
            );
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    return {
        endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        requests,
        stop: () =>
            new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
}

/** Secrets Manager answering GetSecretValue from `secrets` (by SecretId); unknown ids → ResourceNotFoundException. */
export function startFakeSecretsManager(secrets: Map<string, string>): Promise<FakeAwsService> {
    return serve((request) => {
        const id = String(request.body.SecretId ?? "");
        if (request.target !== "secretsmanager.GetSecretValue") return { status: 400, body: {}, errorType: "InvalidRequestException" };
        if (!secrets.has(id)) return { status: 400, body: {}, errorType: "ResourceNotFoundException" };
        return {
            status: 200,
            body: {
                ARN: id,
                Name: id.split(":").pop(),
                SecretString: secrets.get(id),
                VersionId: "v1",
                VersionStages: ["AWSCURRENT"],
                CreatedDate: 1_700_000_000,
            },
        };
    });
}

/** A due schedule: what EventBridge Scheduler would send to its SQS target. */
export interface ScheduleRelease {
    name: string;
    targetArn: string;
    messageGroupId?: string;
    input: string;
}

/**
 * What EventBridge Scheduler delivers to a schedule's dead-letter queue when a release failed
 * for good: the schedule's input as the body, and what went wrong as message attributes
 * (ERROR_CODE, ERROR_MESSAGE, EXHAUSTED_RETRY_CONDITION, RETRY_ATTEMPTS, SCHEDULE_ARN, …).
 */
export interface ScheduleDeadLetter {
    deadLetterArn: string;
    body: string;
    attributes: Record<string, string>;
}

/** A due release that reached neither its target nor a dead-letter queue (AWS/Scheduler InvocationsFailedToBeSentToDeadLetterCount). */
export interface ScheduleDrop {
    name: string;
    errorCode: string;
}

export interface FakeScheduler extends FakeAwsService {
    /** Schedules created and not yet fired. */
    pending(): number;
    /** Releases delivered to a dead-letter queue. */
    readonly deadLettered: ScheduleDeadLetter[];
    /** Releases lost: neither target nor dead-letter queue reached (e.g. the role could not be assumed). */
    readonly dropped: ScheduleDrop[];
    /**
     * Fires a pending schedule now, as if its time had come (then deletes it, as `ActionAfterCompletion: DELETE`),
     * and resolves once its release was delivered (or dead-lettered, or dropped). For tests that need a schedule to
     * fire at an exact point, e.g. between two steps of a cancel. False when there is no such schedule.
     */
    fireNow(name: string, groupName?: string): Promise<boolean>;
}

export interface FakeSchedulerOptions {
    /** Puts a due schedule's input on its target; a throw is a failed invocation (retried, then dead-lettered). */
    release?: (due: ScheduleRelease) => Promise<void>;
    /** Sends a dead-letter event to the queue `deadLetterArn`; without it dead-lettering fails (the release is dropped). */
    deadLetter?: (dead: ScheduleDeadLetter) => Promise<void>;
    /**
     * Whether the service may assume the schedule's role (see scheduler-trust.ts). Without the role the
     * service reaches neither the target nor the dead-letter queue: the release is dropped.
     * @default every role may be assumed
     */
    assumeRole?: (request: { roleArn: string; sourceArn: string; sourceAccount: string }) => Promise<boolean>;
    /** Region and account of the schedule ARNs. @default "us-east-1", "000000000000" */
    region?: string;
    accountId?: string;
    /** Pause between retries of a failed release (the service backs off for up to 24 h; locally this is short). @default 1000 */
    retryDelayMs?: number;
    /** The longest single timer; longer delays are chained. @default MAX_TIMER_DELAY_MS */
    maxTimerMs?: number;
    onError?: (error: Error) => void;
}

/** Node's setTimeout holds at most 2^31-1 ms (24.8 days); a longer delay would fire at once. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** A cancellable timer for any delay: chains timers of at most `maxTimerMs`. */
export interface LongTimer {
    cancel(): void;
}

/**
 * Calls `fire` once `delayMs` have passed, for any delay (a setTimeout beyond 2^31-1 ms fires at once).
 *
 * @example
 * const timer = setLongTimeout(() => release(), 40 * 24 * 3600 * 1000); // 40 days
 * timer.cancel();
 */
export function setLongTimeout(fire: () => void, delayMs: number, maxTimerMs = MAX_TIMER_DELAY_MS): LongTimer {
    const due = Date.now() + Math.max(0, delayMs);
    let handle: NodeJS.Timeout | undefined;
    const arm = () => {
        const remaining = due - Date.now();
        if (remaining <= 0) {
            handle = undefined;
            fire();
            return;
        }
        handle = setTimeout(arm, Math.min(remaining, maxTimerMs));
    };
    arm();
    return {
        cancel() {
            if (handle) clearTimeout(handle);
            handle = undefined;
        },
    };
}

/** `at(yyyy-mm-ddThh:mm:ss)` in UTC → Date, or undefined. */
export function parseAtExpression(expression: string): Date | undefined {
    const match = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/.exec(expression);
    if (!match) return undefined;
    const date = new Date(`${match[1]}Z`);
    return Number.isNaN(date.getTime()) ? undefined : date;
}

interface CreatedSchedule {
    name: string;
    group: string;
    arn: string;
    at: Date;
    target: {
        Arn?: string;
        RoleArn?: string;
        Input?: string;
        SqsParameters?: { MessageGroupId?: string };
        RetryPolicy?: { MaximumEventAgeInSeconds?: number; MaximumRetryAttempts?: number };
        DeadLetterConfig?: { Arn?: string };
    };
}

/**
 * EventBridge Scheduler answering CreateSchedule (a second schedule with the same
 * name in the same group → ConflictException) and DeleteSchedule (`DELETE /schedules/<name>?groupName=`,
 * the group `default` when omitted; a schedule that is not there, because it fired and deleted
 * itself or never existed → 404 ResourceNotFoundException; EventBridge Scheduler API Reference,
 * "DeleteSchedule"). With `release`, each one-time schedule fires once at
 * its `at(...)` time (a timer, no polling, any distance ahead) and is then deleted,
 * like `ActionAfterCompletion: DELETE`. As the service does, it first assumes the
 * schedule's role (`assumeRole`), retries a failed release within the schedule's
 * `RetryPolicy`, then delivers a dead-letter event to `DeadLetterConfig.Arn`; a
 * release that reaches neither is recorded in `dropped`.
 */
export async function startFakeScheduler(options: FakeSchedulerOptions = {}): Promise<FakeScheduler> {
    const region = options.region ?? "us-east-1";
    const accountId = options.accountId ?? "000000000000";
    // Schedule names are unique within a group: keyed `<group>/<name>`.
    const names = new Set<string>();
    const timers = new Map<string, LongTimer>();
    const created = new Map<string, CreatedSchedule>();
    const deadLettered: ScheduleDeadLetter[] = [];
    const dropped: ScheduleDrop[] = [];
    let stopped = false;
    const pause = (ms: number) =>
        new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, ms);
            timer.unref?.();
        });

    async function fire(schedule: CreatedSchedule): Promise<void> {
        const { target } = schedule;
        const drop = (errorCode: string) => {
            dropped.push({ name: schedule.name, errorCode });
            options.onError?.(Object.assign(new Error(`schedule ${schedule.name} dropped (${errorCode})`), { name: "ScheduleDropped" }));
        };
        if (options.assumeRole && target.RoleArn) {
            const sourceArn = `arn:aws:scheduler:${region}:${accountId}:schedule-group/${schedule.group}`;
            if (!(await options.assumeRole({ roleArn: target.RoleArn, sourceArn, sourceAccount: accountId })))
                return drop("AssumeRoleFailed");
        }
        const due: ScheduleRelease = {
            name: schedule.name,
            targetArn: String(target.Arn),
            messageGroupId: target.SqsParameters?.MessageGroupId,
            input: String(target.Input ?? ""),
        };
        const maxRetries = target.RetryPolicy?.MaximumRetryAttempts ?? 185;
        const maxAgeMs = (target.RetryPolicy?.MaximumEventAgeInSeconds ?? 86_400) * 1000;
        const started = Date.now();
        const retryDelayMs = options.retryDelayMs ?? 1000;
        let retries = 0;
        for (;;) {
            let error: Error;
            try {
                await options.release!(due);
                return;
            } catch (caught) {
                error = caught as Error;
            }
            if (stopped) return;
            const exhausted =
                retries >= maxRetries
                    ? "MaximumRetryAttempts"
                    : Date.now() - started + retryDelayMs > maxAgeMs
                      ? "MaximumEventAgeInSeconds"
                      : undefined;
            if (!exhausted) {
                retries++;
                await pause(retryDelayMs);
                if (stopped) return;
                continue;
            }
            const deadLetterArn = target.DeadLetterConfig?.Arn;
            if (!deadLetterArn || !options.deadLetter) return drop(error.name);
            const dead: ScheduleDeadLetter = {
                deadLetterArn,
                body: due.input,
                attributes: {
                    ERROR_CODE: error.name,
                    ERROR_MESSAGE: "the target did not accept the release",
                    EXHAUSTED_RETRY_CONDITION: exhausted,
                    IS_PAYLOAD_TRUNCATED: "false",
                    RETRY_ATTEMPTS: String(retries),
                    SCHEDULED_TIME: schedule.at.toISOString(),
                    SCHEDULE_ARN: schedule.arn,
                    TARGET_ARN: due.targetArn,
                },
            };
            try {
                await options.deadLetter(dead);
                deadLettered.push(dead);
            } catch (caught) {
                drop(`DeadLetter${(caught as Error).name}`);
            }
            return;
        }
    }

    const service = await serve((request) => {
        const match = /^\/schedules\/(.+)$/.exec(request.path);
        if (!match || (request.method !== "POST" && request.method !== "DELETE"))
            return { status: 404, body: {}, errorType: "ResourceNotFoundException" };
        const name = match[1];
        if (request.method === "DELETE") {
            const scheduleKey = `${request.query.groupName ?? "default"}/${name}`;
            if (!names.has(scheduleKey)) return { status: 404, body: {}, errorType: "ResourceNotFoundException" };
            names.delete(scheduleKey);
            created.delete(scheduleKey);
            timers.get(scheduleKey)?.cancel();
            timers.delete(scheduleKey);
            return { status: 200, body: {} };
        }
        const group = String(request.body.GroupName ?? "default");
        const scheduleKey = `${group}/${name}`;
        if (names.has(scheduleKey)) return { status: 409, body: {}, errorType: "ConflictException" };
        const at = parseAtExpression(String(request.body.ScheduleExpression ?? ""));
        if (!at || request.body.ScheduleExpressionTimezone !== "UTC") return { status: 400, body: {}, errorType: "ValidationException" };
        const target = (request.body.Target ?? {}) as CreatedSchedule["target"];
        // The service accepts only a standard queue as a schedule's DLQ ("Configuring a dead-letter queue for EventBridge Scheduler").
        if (target.DeadLetterConfig?.Arn?.endsWith(".fifo")) return { status: 400, body: {}, errorType: "ValidationException" };
        names.add(scheduleKey);
        const schedule: CreatedSchedule = {
            name,
            group,
            arn: `arn:aws:scheduler:${region}:${accountId}:schedule/${group}/${name}`,
            at,
            target,
        };
        created.set(scheduleKey, schedule);
        if (options.release) {
            const timer = setLongTimeout(
                () => {
                    timers.delete(scheduleKey);
                    names.delete(scheduleKey);
                    created.delete(scheduleKey);
                    fire(schedule).catch((error: Error) => options.onError?.(error));
                },
                at.getTime() - Date.now(),
                options.maxTimerMs,
            );
            timers.set(scheduleKey, timer);
        }
        return { status: 200, body: { ScheduleArn: schedule.arn } };
    });
    return {
        ...service,
        deadLettered,
        dropped,
        pending: () => timers.size,
        async fireNow(name: string, groupName = "default") {
            const scheduleKey = `${groupName}/${name}`;
            const schedule = created.get(scheduleKey);
            if (!schedule || !options.release) return false;
            timers.get(scheduleKey)?.cancel();
            timers.delete(scheduleKey);
            names.delete(scheduleKey);
            created.delete(scheduleKey);
            await fire(schedule);
            return true;
        },
        async stop() {
            stopped = true;
            for (const timer of timers.values()) timer.cancel();
            timers.clear();
            await service.stop();
        },
    };
}
