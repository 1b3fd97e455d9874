/**
 * Tiny stand-ins for AWS JSON APIs the real SDK clients talk to through their
 * endpoint (e.g. `AWS_ENDPOINT_URL_SECRETS_MANAGER`): Secrets Manager
 * (awsJson1.1, `GetSecretValue`) and EventBridge Scheduler (restJson1,
 * `CreateSchedule`). They record every request.
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";

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

/** EventBridge Scheduler answering CreateSchedule; a second schedule with the same name → ConflictException. */
export function startFakeScheduler(): Promise<FakeAwsService> {
    const names = new Set<string>();
    return serve((request) => {
        const match = /^\/schedules\/(.+)$/.exec(request.path);
        if (request.method !== "POST" || !match) return { status: 404, body: {}, errorType: "ResourceNotFoundException" };
        if (names.has(match[1])) return { status: 409, body: {}, errorType: "ConflictException" };
        names.add(match[1]);
        return { status: 200, body: { ScheduleArn: `arn:aws:scheduler:us-east-1:123456789012:schedule/${String(request.body.GroupName)}/${match[1]}` } };
    });
}
