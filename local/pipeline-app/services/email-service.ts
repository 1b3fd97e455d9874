/**
 * The email service on the local pipeline (`npm start` / `npm run local`): the API
 * and worker Lambdas run from their serialized artifacts (the code that ships),
 * the API behind a loopback HTTP server that requires SigV4 as the deployed IAM
 * authorization does (any access key is its own principal; the secret is the READY
 * line's `credentials.secretAccessKey`), the worker fed from the FIFO queue on fauxqs,
 * content in fauxqs S3, SES and Secrets Manager and EventBridge Scheduler stood in for
 * by small local servers, and SMTP delivering to a local sink with an inspection API.
 * SES publishes its events (the mailbox simulator's included) to a local default bus,
 * whose rule (the stack's) invokes the shipped status function as Lambda invokes it
 * asynchronously: two retries, then the function's dead-letter queue.
 *
 * Plug-in: `startLocalPipeline({ extraServices: [emailLocalService()] })`, or add
 * `emailLocalService()` to `defaultServices()` in local/pipeline-app/services/default-services.ts.
 * READY fields: `emailApiUrl`, `mailInboxUrl` (+ `emailQueueUrl`, `emailDeadLetterQueueUrl`, `emailScheduleDeadLetterQueueUrl`,
 * `emailStatusDeadLetterQueueUrl`, `sesEndpoint`).
 */
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { byType } from "../../offline/mock-deployment";
import * as nodemailer from "nodemailer";
import { prepareArtifact, type PreparedArtifact } from "../../offline/lambda-artifact";
import { LocalFunction } from "../../aws-stand-ins/lambda-runtime/local-function";
import { ProvisionedQueue, rewriteValue } from "../provision";
import { functionByLogicalName, type FunctionSpec } from "../topology";
import type { LocalContext, LocalService, RunningService } from "./types";
import type { EventSourcePoller } from "../../aws-stand-ins/event-source-poller";
import { localConcurrency, startMappingPoller } from "./mapping-poller";
import { FakeAwsService, FakeScheduler, startFakeScheduler, startFakeSecretsManager } from "../../aws-stand-ins/email/fake-aws";
import { FakeSes, RelayOutcome, SesSendRequest, startFakeSes } from "../../aws-stand-ins/email/fake-ses";
import { asyncInvocation, localEventBus, type BusRule } from "../../aws-stand-ins/email/event-bus";
import { sesEventBridgeEvent } from "../../aws-stand-ins/email/ses-event-records";
import { verifyLocalSignature } from "../../aws-stand-ins/email/sigv4-identity";
import { schedulerMayAssumeRole } from "../../aws-stand-ins/email/scheduler-trust";
import { serveHttpApi, LocalHttpApi } from "../../aws-stand-ins/email/http-api";
import { MailSink, startMailSink } from "../../aws-stand-ins/email/mail-sink";
import { runEmailDemo } from "./email-demo";
import { FUNCTION_LOGICAL_NAMES } from "../function-names";
import { EMAIL_ENV } from "../../../contracts/email-service";

export interface EmailLocalOptions {
    /** Loopback port of the email API. @default a free port */
    apiPort?: number;
    /** SMTP port of the sink. @default a free port */
    smtpPort?: number;
    /** Inspection API port of the sink. @default a free port */
    inboxPort?: number;
    /** Start with the local SES stand-in refusing connections (exercise SMTP failover). @default false */
    sesDown?: boolean;
}

export interface RunningEmailService extends RunningService {
    /** `http://127.0.0.1:<port>/v1/emails` */
    apiUrl: string;
    /** `http://127.0.0.1:<port>/messages` */
    inboxUrl: string;
    sink: MailSink;
    ses: FakeSes;
    scheduler: FakeScheduler;
    api: LocalFunction;
    worker: LocalFunction;
    /** The SES events' status function, when the stack has one. */
    status?: LocalFunction;
    /** The status table (statuses and the suppression list), on DynamoDB Local. */
    statusTableName?: string;
    poller: EventSourcePoller;
    queue: ProvisionedQueue;
    deadLetterQueue: ProvisionedQueue;
    /** Where the scheduler dead-letters releases that failed (a standard queue). */
    scheduleDeadLetterQueue?: ProvisionedQueue;
}

export class EmailServiceNotFoundError extends Error {
    constructor(detail: string) {
        super(`The stack has no email service to run locally: ${detail}`);
        this.name = "EmailServiceNotFoundError";
    }
}

/** fauxqs answers queue URLs on `sqs.<region>.localhost`, which may not resolve: use the emulator's address. */
function onEmulator(value: string, sqsEndpoint: string): string {
    return value.replace(/https?:\/\/sqs\.[a-z0-9-]+\.localhost:\d+/g, sqsEndpoint);
}

/** Finds the email API, worker, mapping and queues in the provisioned stack. */
export function locateEmailService(context: Pick<LocalContext, "topology" | "resources">) {
    const { topology, resources } = context;
    const api = functionByLogicalName(topology, FUNCTION_LOGICAL_NAMES.emailApi);
    const worker = functionByLogicalName(topology, FUNCTION_LOGICAL_NAMES.emailWorker);
    if (!api || !worker)
        throw new EmailServiceNotFoundError(
            `no function named ${JSON.stringify(!api ? FUNCTION_LOGICAL_NAMES.emailApi : FUNCTION_LOGICAL_NAMES.emailWorker)}`,
        );
    const mapping = topology.eventSourceMappings.find(
        (candidate) => candidate.functionName === worker.name || candidate.functionName === worker.deployedArn,
    );
    if (!mapping) throw new EmailServiceNotFoundError(`worker ${worker.logicalName} has no event source mapping`);
    const queue = resources.queues.find((candidate) => candidate.spec.deployedArn === mapping.eventSourceArn);
    if (!queue)
        throw new EmailServiceNotFoundError(
            `mapping ${mapping.logicalName} reads ${mapping.eventSourceArn}, which is not a queue of this stack`,
        );
    const deadLetterQueue = resources.queues.find((candidate) => candidate.spec.deployedArn === queue.spec.redrive?.deadLetterTargetArn);
    if (!deadLetterQueue) throw new EmailServiceNotFoundError(`queue ${queue.spec.logicalName} has no dead-letter queue`);
    return { api, worker, mapping, queue, deadLetterQueue };
}

/**
 * @example
 * const pipeline = await startLocalPipeline({ extraServices: [emailLocalService()] });
 * await fetch(pipeline.ready.emailApiUrl as string, { method: "POST", headers: { "content-type": "application/json" }, body });
 * const inbox = await (await fetch(pipeline.ready.mailInboxUrl as string)).json();
 */
export function emailLocalService(options: EmailLocalOptions = {}): LocalService {
    return {
        name: "email",
        async start(context: LocalContext): Promise<RunningEmailService> {
            const { api: apiSpec, worker: workerSpec, mapping, queue, deadLetterQueue } = locateEmailService(context);
            const sqsEndpoint = context.emulators.sqs.endpoint;
            const cleanups: Array<() => Promise<void> | void> = [];
            let stopping = false;
            const stop = async () => {
                stopping = true;
                for (const cleanup of cleanups.splice(0).reverse()) {
                    try {
                        await cleanup();
                    } catch (error) {
                        context.log(`[email] cleanup failed: ${(error as Error).name}`);
                    }
                }
            };
            try {
                // The SMTP sink, and SES standing in front of it: what "SES" accepts is relayed into the same inbox.
                const sink = await startMailSink({ smtpPort: options.smtpPort, httpPort: options.inboxPort });
                cleanups.push(() => sink.stop());
                const relay = nodemailer.createTransport({
                    host: "127.0.0.1",
                    port: sink.smtpPort,
                    secure: false,
                    ignoreTLS: true,
                    logger: false,
                });
                cleanups.push(() => relay.close());
                // SES knows the stack's identities and configuration sets, and refuses other senders as SES does.
                const { identities, configurationSets } = declaredSes(context);
                // SES publishes to the default bus; the bus gets its rules once the status function runs.
                let putOnBus: (event: Record<string, unknown>) => Promise<number> = async () => 0;
                const ses = await startFakeSes({
                    onAccepted: (request) => relayToSink(relay, request, context),
                    onEvent: async (kind, record) => {
                        await putOnBus(sesEventBridgeEvent(kind, record, context.region) as unknown as Record<string, unknown>);
                    },
                    identities,
                    configurationSets,
                });
                cleanups.push(() => ses.stop());
                if (options.sesDown) await ses.setMode("down");

                const rewrite = (env: Record<string, string>) => {
                    const out: Record<string, string> = {};
                    for (const [key, value] of Object.entries(env))
                        out[key] = onEmulator(rewriteValue(value, context.resources.rewrites), sqsEndpoint);
                    return out;
                };
                const apiEnv = rewrite(apiSpec.environment);
                const workerEnv = rewrite(workerSpec.environment);

                // Secrets Manager holds the SMTP settings pointing at the sink, under the deployed secret's ARN.
                const secrets = await startFakeSecretsManager(
                    new Map([
                        [
                            workerEnv.EMAIL_SMTP_SECRET_ARN,
                            JSON.stringify({ host: "127.0.0.1", port: sink.smtpPort, secure: false, requireTLS: false }),
                        ],
                    ]),
                );
                cleanups.push(() => secrets.stop());
                // EventBridge Scheduler: a timer per one-time schedule that puts the released email back on its queue,
                // after assuming the deployed scheduler role under its deployed trust policy; failed releases are
                // retried, then dead-lettered to the schedule's DLQ.
                const queueByArn = (arn: string) =>
                    context.resources.queues.find((candidate) => candidate.arn === arn || candidate.spec.deployedArn === arn);
                const trustPolicies = new Map(
                    byType(context.deployment, "aws:iam/role:Role").map((role) => [String(role.state.arn), role.inputs.assumeRolePolicy]),
                );
                const scheduler = await startFakeScheduler({
                    region: context.region,
                    accountId: String(workerSpec.environment.EMAIL_SCHEDULER_ROLE_ARN ?? "").split(":")[4] || undefined,
                    assumeRole: async (request) => {
                        const trust = trustPolicies.get(request.roleArn);
                        return trust !== undefined && (await schedulerMayAssumeRole(trust, request));
                    },
                    release: async (due) => {
                        const target = queueByArn(due.targetArn);
                        if (!target)
                            throw Object.assign(new Error(`schedule ${due.name} targets an unknown queue`), {
                                name: "ResourceNotFoundException",
                            });
                        await context.clients.sqs.send(
                            new SendMessageCommand({
                                QueueUrl: onEmulator(target.url, sqsEndpoint),
                                MessageBody: due.input,
                                MessageGroupId: due.messageGroupId,
                            }),
                        );
                        context.log(`[email] scheduler released ${due.name}`);
                    },
                    deadLetter: async (dead) => {
                        const queue = queueByArn(dead.deadLetterArn);
                        if (!queue) throw Object.assign(new Error("unknown dead-letter queue"), { name: "ResourceNotFoundException" });
                        await context.clients.sqs.send(
                            new SendMessageCommand({
                                QueueUrl: onEmulator(queue.url, sqsEndpoint),
                                MessageBody: dead.body,
                                MessageAttributes: Object.fromEntries(
                                    Object.entries(dead.attributes).map(([key, value]) => [
                                        key,
                                        { DataType: "String", StringValue: value },
                                    ]),
                                ),
                            }),
                        );
                        context.log(`[email] scheduler dead-lettered a release (${dead.attributes.ERROR_CODE})`);
                    },
                    onError: (error) => context.log(`[email] scheduler release failed: ${error.name}`),
                });
                cleanups.push(() => scheduler.stop());

                // The content bucket (fauxqs S3).
                const bucket = apiEnv.EMAIL_CONTENT_BUCKET;
                const s3 = new S3Client({
                    region: context.region,
                    endpoint: sqsEndpoint,
                    forcePathStyle: true,
                    credentials: localCredentials(context),
                });
                cleanups.push(() => s3.destroy());
                await s3.send(new CreateBucketCommand({ Bucket: bucket })).catch((error: Error) => {
                    if (!/BucketAlready/.test(error.name)) throw error;
                });

                const endpoints = {
                    ...context.awsEnvironment,
                    AWS_ENDPOINT_URL_S3: sqsEndpoint,
                    AWS_ENDPOINT_URL_SESV2: ses.endpoint,
                    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
                    AWS_ENDPOINT_URL_SCHEDULER: scheduler.endpoint,
                    AWS_NODEJS_CONNECTION_REUSE_ENABLED: "1",
                };
                // The local scheduler fires to the second; the real one has one-minute precision.
                workerEnv.EMAIL_SCHEDULE_MIN_LEAD_SECONDS = "1";
                const api = await startFunction(
                    context,
                    apiSpec,
                    { ...apiEnv, ...endpoints },
                    Math.min(2, context.maxLocalConcurrency),
                    cleanups,
                );
                const concurrency = localConcurrency(mapping, context);
                const worker = await startFunction(context, workerSpec, { ...workerEnv, ...endpoints }, concurrency, cleanups);

                // The status function behind the stack's default-bus rules, invoked as Lambda invokes asynchronously.
                const statusSpec = functionByLogicalName(context.topology, FUNCTION_LOGICAL_NAMES.emailStatus);
                const status = statusSpec
                    ? await startFunction(context, statusSpec, { ...rewrite(statusSpec.environment), ...endpoints }, 1, cleanups)
                    : undefined;
                const statusDeadLetterQueue = statusSpec?.deadLetterTargetArn ? queueByArn(statusSpec.deadLetterTargetArn) : undefined;
                if (status && statusSpec) {
                    const invokeAsync = asyncInvocation(
                        (event) => status.invoke(event),
                        async (event, errorType) => {
                            context.log(`[email] status function failed 3 times (${errorType}): event to its DLQ`);
                            if (!statusDeadLetterQueue) return;
                            await context.clients.sqs.send(
                                new SendMessageCommand({
                                    QueueUrl: onEmulator(statusDeadLetterQueue.url, sqsEndpoint),
                                    MessageBody: JSON.stringify(event),
                                    MessageAttributes: {
                                        RequestID: { DataType: "String", StringValue: String(event.id ?? "") },
                                        ErrorCode: { DataType: "String", StringValue: "200" },
                                        ErrorMessage: { DataType: "String", StringValue: errorType },
                                    },
                                }),
                            );
                        },
                    );
                    const rules = statusRules(context, statusSpec, invokeAsync);
                    const bus = localEventBus(rules);
                    putOnBus = (event) =>
                        bus.put(event).catch((error: Error) => {
                            // While stopping, the status function stops before SES: events still in flight have no one
                            // left to read their statuses, as the emulators go too.
                            if (!stopping) context.log(`[email] SES event not delivered: ${error.name}`);
                            return 0;
                        });
                }

                const http: LocalHttpApi = await serveHttpApi(
                    async (event) => {
                        const outcome = await api.invoke(event);
                        if (outcome.ok) return outcome.result as never;
                        context.log(`[email] API function error: ${outcome.error.errorType}`);
                        return {
                            statusCode: 500,
                            headers: { "content-type": "application/json" },
                            body: JSON.stringify({ message: "Internal Server Error" }),
                        };
                    },
                    {
                        port: options.apiPort,
                        routes: declaredRoutes(context),
                        // IAM authorization as deployed: any access key, signed with the local secret.
                        authorize: (request) =>
                            verifyLocalSignature(request, {
                                secretAccessKey: localCredentials(context).secretAccessKey,
                                accountId: localAccountId(context),
                            }),
                    },
                );
                cleanups.push(() => http.stop());

                const localQueueUrl = onEmulator(queue.url, sqsEndpoint);
                const scheduleDeadLetterQueue = workerSpec.environment.EMAIL_SCHEDULE_DEAD_LETTER_QUEUE_ARN
                    ? queueByArn(workerSpec.environment.EMAIL_SCHEDULE_DEAD_LETTER_QUEUE_ARN)
                    : undefined;
                const poller = startMappingPoller(
                    context,
                    mapping,
                    { url: localQueueUrl, arn: queue.arn },
                    concurrency,
                    (event) => worker.invoke(event),
                    (error) => context.log(`[email poller] ${error.name}`),
                );
                cleanups.push(() => poller.stop());

                const apiUrl = `${http.url}/v1/emails`;
                const inboxUrl = `${sink.inboxUrl}/messages`;
                context.log(`[email] API ${apiUrl} (SigV4: any access key, the READY credentials' secret); inbox ${inboxUrl}`);
                return {
                    name: "email",
                    ready: {
                        emailApiUrl: apiUrl,
                        mailInboxUrl: inboxUrl,
                        emailQueueUrl: localQueueUrl,
                        emailDeadLetterQueueUrl: onEmulator(deadLetterQueue.url, sqsEndpoint),
                        ...(scheduleDeadLetterQueue
                            ? { emailScheduleDeadLetterQueueUrl: onEmulator(scheduleDeadLetterQueue.url, sqsEndpoint) }
                            : {}),
                        ...(statusDeadLetterQueue
                            ? { emailStatusDeadLetterQueueUrl: onEmulator(statusDeadLetterQueue.url, sqsEndpoint) }
                            : {}),
                        sesEndpoint: ses.endpoint,
                    },
                    apiUrl,
                    inboxUrl,
                    sink,
                    ses,
                    scheduler,
                    api,
                    worker,
                    status,
                    statusTableName: apiEnv[EMAIL_ENV.statusTable],
                    poller,
                    queue,
                    deadLetterQueue,
                    scheduleDeadLetterQueue,
                    stop,
                    demo: (demoOptions) =>
                        runEmailDemo(
                            {
                                apiUrl,
                                credentials: localCredentials(context),
                                region: context.region,
                                sink,
                                ses,
                                sqs: context.clients.sqs,
                                deadLetterQueueUrl: onEmulator(deadLetterQueue.url, sqsEndpoint),
                            },
                            demoOptions,
                        ),
                };
            } catch (error) {
                await stop();
                throw error;
            }
        },
    };
}

/** The SES identities and configuration sets the stack declares (undefined: none declared, SES accepts any). */
function declaredSes(context: LocalContext): { identities?: string[]; configurationSets?: string[] } {
    const identities = byType(context.deployment, "aws:sesv2/emailIdentity:EmailIdentity").map((resource) =>
        String(resource.inputs.emailIdentity),
    );
    const configurationSets = byType(context.deployment, "aws:sesv2/configurationSet:ConfigurationSet").map((resource) =>
        String(resource.inputs.configurationSetName),
    );
    return { ...(identities.length > 0 ? { identities } : {}), ...(configurationSets.length > 0 ? { configurationSets } : {}) };
}

/** The routes the stack's HTTP API declares (`POST /v1/emails`, `GET /v1/emails/{id}`): the local API serves only those. */
function declaredRoutes(context: LocalContext): string[] {
    return byType(context.deployment, "aws:apigatewayv2/route:Route").map((route) => String(route.inputs.routeKey));
}

/** The stack's default-bus rules that target the status function, with their patterns. */
function statusRules(
    context: LocalContext,
    statusSpec: FunctionSpec,
    invoke: (event: Record<string, unknown>) => Promise<void>,
): BusRule[] {
    const targets = byType(context.deployment, "aws:cloudwatch/eventTarget:EventTarget").filter(
        (target) => target.inputs.arn === statusSpec.deployedArn || target.inputs.arn === statusSpec.name,
    );
    return byType(context.deployment, "aws:cloudwatch/eventRule:EventRule")
        .filter((rule) => (rule.inputs.eventBusName ?? "default") === "default")
        .filter((rule) => targets.some((target) => target.inputs.rule === rule.state.name))
        .map((rule) => ({
            name: String(rule.state.name),
            pattern: JSON.parse(String(rule.inputs.eventPattern)) as Record<string, unknown>,
            targets: [invoke],
        }));
}

/** The account the stack's ARNs name (callers of the local API belong to it). */
function localAccountId(context: LocalContext): string {
    const arn = functionByLogicalName(context.topology, FUNCTION_LOGICAL_NAMES.emailApi)?.deployedArn ?? "";
    return arn.split(":")[4] || "000000000000";
}

function localCredentials(context: LocalContext) {
    return {
        accessKeyId: context.awsEnvironment.AWS_ACCESS_KEY_ID ?? "local",
        secretAccessKey: context.awsEnvironment.AWS_SECRET_ACCESS_KEY ?? "local",
    };
}

async function startFunction(
    context: LocalContext,
    spec: FunctionSpec,
    environment: Record<string, string>,
    concurrency: number,
    cleanups: Array<() => Promise<void> | void>,
): Promise<LocalFunction> {
    const code: PreparedArtifact = await prepareArtifact(spec, { parentDir: context.workDir });
    cleanups.push(() => code.cleanup());
    const fn = new LocalFunction({
        name: spec.name,
        arn: spec.deployedArn,
        moduleFile: code.moduleFile,
        exportName: code.exportName,
        nodePath: code.nodePath,
        environment,
        timeoutSeconds: spec.timeoutSeconds,
        memorySize: spec.memorySize,
        concurrency,
    });
    fn.on("log", ({ text }: { text: string }) => context.functionLog(spec.logicalName, text));
    cleanups.push(() => fn.stop());
    await fn.start();
    return fn;
}

/** What the local "SES" accepted goes into the sink, marked as delivered by SES; resolves with the recipients the sink refused. */
async function relayToSink(relay: nodemailer.Transporter, request: SesSendRequest, context: LocalContext): Promise<RelayOutcome> {
    const simple = request.Content?.Simple;
    type Refusal = Error & { recipient?: string; responseCode?: number };
    const refusals = (errors: Refusal[] | undefined) =>
        (errors ?? [])
            .filter((error) => typeof error.recipient === "string")
            .map((error) => ({ address: error.recipient!, responseCode: error.responseCode ?? 550 }));
    try {
        const info = (await relay.sendMail({
            from: request.FromEmailAddress,
            to: request.Destination?.ToAddresses,
            cc: request.Destination?.CcAddresses,
            bcc: request.Destination?.BccAddresses,
            subject: simple?.Subject?.Data,
            text: simple?.Body?.Text?.Data,
            html: simple?.Body?.Html?.Data,
            headers: {
                "X-Email-Id": request.EmailTags?.find((tag) => tag.Name === "emailId")?.Value ?? "",
                "X-Local-Provider": "ses",
                "X-SES-Message-Id": request.messageId,
            },
        })) as { rejectedErrors?: Refusal[] };
        return { refused: refusals(info.rejectedErrors) };
    } catch (error) {
        const refused = refusals((error as { rejectedErrors?: Refusal[] }).rejectedErrors);
        if (refused.length > 0) return { refused };
        context.log(`[email] local SES relay failed: ${(error as Error).name}`);
        throw error;
    }
}

export type { FakeAwsService };
