/**
 * The Lambda's entry point: reads its settings from environment variables and
 * builds the handler once per container (pulumi `callbackFactory`).
 * Endpoints for emulators come from the SDK's own AWS_ENDPOINT_URL_DYNAMODB /
 * AWS_ENDPOINT_URL_SQS variables; there is no custom endpoint code.
 */
import { DynamoDBClient, DynamoDBClientConfig } from "@aws-sdk/client-dynamodb";
import { KMSClient } from "@aws-sdk/client-kms";
import { SQSClient, SQSClientConfig } from "@aws-sdk/client-sqs";
import { CLIENT_ID_PATTERN, EVENT_PROCESSOR_ENV } from "../../contracts/event-pipeline";
import { eventProcessorConfigurationError } from "./errors";
import { EVENT_TYPE_NAMES } from "./event-types";
import { createEventProcessor } from "./processor";
import { kmsSenderClaimKey } from "./sender-claim";
import { parseProducerTenants } from "./tenancy";
import { DYNAMODB_MAX_SOCKETS } from "./persistence";
import type { EventProcessorHandler } from "./types";

/** Settings read from the environment variables {@link EVENT_PROCESSOR_ENV} names. */
export interface EventProcessorSettings {
    readonly tableName: string;
    readonly deadLetterQueueUrl: string;
    readonly enabledTypes?: readonly string[];
    readonly retentionDays?: number;
    readonly producerTenants?: Readonly<Record<string, readonly string[]>>;
    /** The sender-claim HMAC key's ARN (set with producers). */
    readonly senderClaimKeyArn?: string;
}

// Bound every AWS call so a hung connection cannot eat the Lambda timeout. With the SDK's 3 attempts,
// the write and the DLQ send take at most ~10 s each: a batch settles well inside the 30 s default timeout.
const CONNECTION_TIMEOUT_MS = 1_000;
const REQUEST_TIMEOUT_MS = 3_000;

/**
 * Parses the environment; throws one {@link EventProcessorConfigurationError} naming every bad variable.
 *
 * @param registeredTypes - the type names ENABLED_EVENT_TYPES may list
 * @example
 * readEventProcessorSettings({ EVENT_TABLE_NAME: "events", DEAD_LETTER_QUEUE_URL: "https://sqs..." });
 */
export function readEventProcessorSettings(
    env: Readonly<Record<string, string | undefined>>,
    registeredTypes: readonly string[] = EVENT_TYPE_NAMES,
): EventProcessorSettings {
    const problems: string[] = [];
    const tableName = env[EVENT_PROCESSOR_ENV.tableName]?.trim() ?? "";
    if (tableName === "") problems.push(`${EVENT_PROCESSOR_ENV.tableName} is required (the event table's name)`);
    else if (!/^[A-Za-z0-9_.-]{3,255}$/.test(tableName)) {
        problems.push(`${EVENT_PROCESSOR_ENV.tableName} must be a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)`);
    }
    const deadLetterQueueUrl = env[EVENT_PROCESSOR_ENV.deadLetterQueueUrl]?.trim() ?? "";
    if (deadLetterQueueUrl === "") problems.push(`${EVENT_PROCESSOR_ENV.deadLetterQueueUrl} is required (the DLQ's URL)`);
    else if (!/^https?:\/\/\S+$/.test(deadLetterQueueUrl))
        problems.push(`${EVENT_PROCESSOR_ENV.deadLetterQueueUrl} must be an http(s) queue URL`);
    const typesText = env[EVENT_PROCESSOR_ENV.enabledTypes]?.trim() ?? "";
    const enabledTypes = typesText === "" ? undefined : [...new Set(typesText.split(",").map((name) => name.trim()))];
    if (enabledTypes?.includes(""))
        problems.push(`${EVENT_PROCESSOR_ENV.enabledTypes} has an empty entry; use a comma-separated list of type names`);
    const unknownTypes = (enabledTypes ?? []).filter((name) => name !== "" && !registeredTypes.includes(name));
    if (unknownTypes.length > 0) {
        problems.push(
            `${EVENT_PROCESSOR_ENV.enabledTypes} names unregistered type(s): ${unknownTypes.join(", ")} (registered: ${registeredTypes.join(", ")})`,
        );
    }
    const retentionText = env[EVENT_PROCESSOR_ENV.retentionDays]?.trim() ?? "";
    let retentionDays: number | undefined;
    if (retentionText !== "") {
        retentionDays = /^\d+$/.test(retentionText) ? Number(retentionText) : NaN;
        if (!Number.isSafeInteger(retentionDays) || retentionDays < 1) {
            problems.push(`${EVENT_PROCESSOR_ENV.retentionDays} must be a positive whole number of days, got "${retentionText}"`);
        }
    }
    const tenantsText = env[EVENT_PROCESSOR_ENV.producerTenants]?.trim() ?? "";
    let producerTenants: Record<string, string[]> | undefined;
    if (tenantsText !== "") {
        const parsed = parseProducerTenants(tenantsText, CLIENT_ID_PATTERN);
        if (parsed.ok) producerTenants = Object.fromEntries([...parsed.tenants].map(([principal, tenants]) => [principal, [...tenants]]));
        else problems.push(...parsed.problems.map((problem) => `${EVENT_PROCESSOR_ENV.producerTenants} ${problem}`));
    }
    const senderClaimKeyArn = env[EVENT_PROCESSOR_ENV.senderClaimKeyArn]?.trim() ?? "";
    if (senderClaimKeyArn !== "" && !/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(senderClaimKeyArn)) {
        problems.push(`${EVENT_PROCESSOR_ENV.senderClaimKeyArn} must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)`);
    }
    if (senderClaimKeyArn !== "" && producerTenants === undefined && tenantsText === "") {
        problems.push(
            `${EVENT_PROCESSOR_ENV.senderClaimKeyArn} is set without ${EVENT_PROCESSOR_ENV.producerTenants}; claims only matter with producers`,
        );
    }
    if (problems.length > 0) throw eventProcessorConfigurationError(problems);
    return {
        tableName,
        deadLetterQueueUrl,
        enabledTypes,
        retentionDays,
        ...(producerTenants ? { producerTenants } : {}),
        ...(senderClaimKeyArn !== "" ? { senderClaimKeyArn } : {}),
    };
}

/** The SDK middleware that hands every request and response to the client's logger. */
const SDK_LOGGER_MIDDLEWARE = "loggerMiddleware";

/**
 * Removes the SDK's logger middleware from a client that has no logger of its own.
 * The middleware builds a redacted copy of every request and response
 * (`inputFilterSensitiveLog`/`outputFilterSensitiveLog`) and passes it to the
 * client's logger, which by default is a no-op: 16-32 µs of CPU per request for
 * nothing. A client given a `logger` keeps it.
 *
 * @example
 * const dynamodb = withoutUnreadSdkLogs(new DynamoDBClient({}), {});
 */
export function withoutUnreadSdkLogs<C extends { middlewareStack: { remove(name: string): boolean } }>(
    client: C,
    config: { logger?: unknown },
): C {
    if (config.logger === undefined) client.middlewareStack.remove(SDK_LOGGER_MIDDLEWARE);
    return client;
}

/**
 * The processor's AWS clients, as the Lambda builds them: every call bounded by
 * connect/request timeouts, no SDK logging work nobody reads. Extra config (an
 * emulator's endpoint, credentials) is merged in; the bench and local tools use
 * this so they measure the clients that ship.
 *
 * @example
 * const { dynamodb, sqs } = createProcessorClients();
 */
export function createProcessorClients(extra: { dynamodb?: DynamoDBClientConfig; sqs?: SQSClientConfig } = {}): {
    dynamodb: DynamoDBClient;
    sqs: SQSClient;
} {
    const requestHandler = { connectionTimeout: CONNECTION_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS };
    // Connections are kept and reused across invocations (keep-alive); the pool's size is the processor's limit
    // of writes in flight, so no write waits for a socket behind a cold batch's handshakes.
    const pool = { keepAlive: true, maxSockets: DYNAMODB_MAX_SOCKETS };
    const dynamodbConfig: DynamoDBClientConfig = {
        requestHandler: { ...requestHandler, httpAgent: pool, httpsAgent: pool },
        ...extra.dynamodb,
    };
    // With an endpoint configured (emulators), send to it even when the queue URL's host differs
    // (fauxqs hands out http://sqs.<region>.localhost:<port>/... URLs).
    const sqsConfig: SQSClientConfig = {
        requestHandler,
        ...(process.env.AWS_ENDPOINT_URL_SQS ? { useQueueUrlAsEndpoint: false } : {}),
        ...extra.sqs,
    };
    return {
        dynamodb: withoutUnreadSdkLogs(new DynamoDBClient(dynamodbConfig), dynamodbConfig),
        sqs: withoutUnreadSdkLogs(new SQSClient(sqsConfig), sqsConfig),
    };
}

/**
 * The zero-argument `callbackFactory` for the Lambda: reads the environment and
 * builds clients and handler once per container.
 *
 * @example
 * new aws.lambda.CallbackFunction("processor", { callbackFactory: eventProcessorFromEnvironment, role, ... });
 */
export function eventProcessorFromEnvironment(): EventProcessorHandler {
    const { senderClaimKeyArn, ...settings } = readEventProcessorSettings(process.env);
    const senderClaimKey = senderClaimKeyArn
        ? kmsSenderClaimKey(
              withoutUnreadSdkLogs(
                  new KMSClient({ requestHandler: { connectionTimeout: CONNECTION_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS } }),
                  {},
              ),
              senderClaimKeyArn,
          )
        : undefined;
    return createEventProcessor({ ...settings, ...createProcessorClients(), ...(senderClaimKey ? { senderClaimKey } : {}) });
}
