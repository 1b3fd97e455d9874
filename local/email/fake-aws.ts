/**
 * Tiny stand-ins for AWS JSON APIs the real SDK clients talk to through their
 * endpoint (e.g. `AWS_ENDPOINT_URL_SECRETS_MANAGER`): Secrets Manager
 * (awsJson1.1, `GetSecretValue`) and EventBridge Scheduler (restJson1,
 * `CreateSchedule`, and — when given a `release` callback — firing one-time
 * `at(...)` schedules at their time). They record every request. Used by the
 * email tests and by the local pipeline, so the shipped worker runs unchanged.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { refuseForeignHost } from "../loopback-host";

export interface RecordedRequest {
    method: string;
    path: string;
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
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            const request: RecordedRequest = {
                method: req.method ?? "GET",
                path: decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname),
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
            res.end(JSON.stringify(reply.errorType ? { __type: reply.errorType, message: reply.errorType, ...(reply.body as object) } : reply.body));
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
        return { status: 200, body: { ARN: id, Name: id.split(":").pop(), SecretString: secrets.get(id), VersionId: "v1", VersionStages: ["AWSCURRENT"], CreatedDate: 1_700_000_000 } };
    });
}

/** A due schedule: what EventBridge Scheduler would send to its SQS target. */
export interface ScheduleRelease {
    name: string;
    targetArn: string;
    messageGroupId?: string;
    input: string;
}

export interface FakeScheduler extends FakeAwsService {
    /** Schedules created and not yet fired. */
    pending(): number;
}

/** `at(yyyy-mm-ddThh:mm:ss)` in UTC → Date, or undefined. */
export function parseAtExpression(expression: string): Date | undefined {
    const match = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/.exec(expression);
    if (!match) return undefined;
    const date = new Date(`${match[1]}Z`);
    return Number.isNaN(date.getTime()) ? undefined : date;
}

/**
 * EventBridge Scheduler answering CreateSchedule (a second schedule with the same
 * name → ConflictException). With `release`, each one-time schedule fires once at
 * its `at(...)` time (a timer, no polling) and is then deleted, like
 * `ActionAfterCompletion: DELETE`.
 */
export async function startFakeScheduler(options: { release?: (due: ScheduleRelease) => Promise<void>; onError?: (error: Error) => void } = {}): Promise<FakeScheduler> {
    const names = new Set<string>();
    const timers = new Map<string, NodeJS.Timeout>();
    const service = await serve((request) => {
        const match = /^\/schedules\/(.+)$/.exec(request.path);
        if (request.method !== "POST" || !match) return { status: 404, body: {}, errorType: "ResourceNotFoundException" };
        const name = match[1];
        if (names.has(name)) return { status: 409, body: {}, errorType: "ConflictException" };
        const at = parseAtExpression(String(request.body.ScheduleExpression ?? ""));
        if (!at || request.body.ScheduleExpressionTimezone !== "UTC") return { status: 400, body: {}, errorType: "ValidationException" };
        names.add(name);
        const target = (request.body.Target ?? {}) as { Arn?: string; Input?: string; SqsParameters?: { MessageGroupId?: string } };
        if (options.release) {
            const fire = () => {
                timers.delete(name);
                names.delete(name);
                options
                    .release!({ name, targetArn: String(target.Arn), messageGroupId: target.SqsParameters?.MessageGroupId, input: String(target.Input ?? "") })
                    .catch((error: Error) => options.onError?.(error));
            };
            timers.set(name, setTimeout(fire, Math.max(0, at.getTime() - Date.now())));
        }
        return { status: 200, body: { ScheduleArn: `arn:aws:scheduler:us-east-1:000000000000:schedule/${String(request.body.GroupName)}/${name}` } };
    });
    return {
        ...service,
        pending: () => timers.size,
        async stop() {
            for (const timer of timers.values()) clearTimeout(timer);
            timers.clear();
            await service.stop();
        },
    };
}
