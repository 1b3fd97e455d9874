import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import {
    DEAD_LETTER_RETENTION_SECONDS,
    deriveVisibilityTimeoutSeconds,
    ENCRYPTED_QUEUE_DEFAULTS,
    SQS_MAX_MESSAGE_SIZE_BYTES,
    withDefaults,
} from "./defaults";
import { queuePolicy } from "./iam-documents";

/** Tag naming a queue's role; `dead-letter` queues must carry a visible-messages alarm (policy pack). */
export const QUEUE_ROLE_TAG = "event-ingestion:queue-role";

export interface EncryptedQueueArgs {
    /** ARN of the customer-managed key that encrypts both queues (SSE-KMS). */
    kmsKeyArn: pulumi.Input<string>;
    /**
     * Timeout of the function that consumes the queue. The visibility timeout is
     * derived from it (6x plus the batching window); it is never set by hand.
     */
    consumerTimeoutSeconds: number;
    /**
     * The consumer's `maximumBatchingWindowInSeconds`, added to the visibility timeout.
     * @default 0
     */
    consumerBatchingWindowSeconds?: number;
    /**
     * A FIFO queue (and FIFO DLQ) instead of a standard one.
     * @default false
     */
    fifo?: boolean;
    /**
     * FIFO high throughput: deduplication per message group and a per-group throughput limit.
     * @default false
     */
    highThroughput?: boolean;
    /**
     * FIFO content-based deduplication (a SHA-256 of the body when no deduplication id is sent).
     * @default false
     */
    contentBasedDeduplication?: boolean;
    /**
     * Receives before SQS moves a message to the DLQ.
     * @default 5
     */
    maxReceiveCount?: number;
    /**
     * Seconds SQS reuses a data key before calling KMS again (60–86400).
     * @default 300
     */
    kmsDataKeyReusePeriodSeconds?: number;
    /**
     * Largest accepted message, bytes (1024–1048576).
     * @default 262144
     */
    maxMessageSize?: number;
    /**
     * Retention of the source queue, seconds.
     * @default 345600 (4 days)
     */
    messageRetentionSeconds?: number;
    /**
     * Long polling wait for receivers, seconds.
     * @default 20
     */
    receiveWaitTimeSeconds?: number;
}

/** Raised when EncryptedQueue args are inconsistent; lists every problem. */
export class EncryptedQueueArgsError extends Error {
    constructor(readonly problems: string[]) {
        super(`Invalid EncryptedQueue args:\n  - ${problems.join("\n  - ")}`);
        this.name = "EncryptedQueueArgsError";
    }
}

function validate(args: EncryptedQueueArgs): string[] {
    const problems: string[] = [];
    const intIn = (key: keyof EncryptedQueueArgs, value: unknown, min: number, max: number) => {
        if (value === undefined) return;
        if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
            problems.push(`${String(key)} = ${JSON.stringify(value)}: must be an integer from ${min} to ${max}`);
        }
    };
    intIn("consumerTimeoutSeconds", args.consumerTimeoutSeconds, 1, 900);
    intIn("consumerBatchingWindowSeconds", args.consumerBatchingWindowSeconds, 0, 300);
    intIn("maxReceiveCount", args.maxReceiveCount, 1, 1000);
    intIn("kmsDataKeyReusePeriodSeconds", args.kmsDataKeyReusePeriodSeconds, 60, 86_400);
    intIn("maxMessageSize", args.maxMessageSize, 1024, SQS_MAX_MESSAGE_SIZE_BYTES);
    intIn("messageRetentionSeconds", args.messageRetentionSeconds, 60, 1_209_600);
    intIn("receiveWaitTimeSeconds", args.receiveWaitTimeSeconds, 0, 20);
    if (!args.fifo && args.highThroughput) problems.push("highThroughput = true: allowed only with fifo = true");
    if (!args.fifo && args.contentBasedDeduplication) problems.push("contentBasedDeduplication = true: allowed only with fifo = true");
    return problems;
}

/**
 * An SQS queue and its dead-letter queue, both SSE-KMS with a customer-managed
 * key, TLS-only, with a redrive policy and a DLQ redrive-allow policy naming only
 * the source queue. Standard or FIFO.
 *
 * @example
 * const events = new EncryptedQueue("events", { kmsKeyArn: key.arn, consumerTimeoutSeconds: 30 });
 * const email = new EncryptedQueue("email", { kmsKeyArn: key.arn, consumerTimeoutSeconds: 60, fifo: true, highThroughput: true });
 */
export class EncryptedQueue extends pulumi.ComponentResource {
    readonly queue: aws.sqs.Queue;
    readonly deadLetterQueue: aws.sqs.Queue;
    /** The derived visibility timeout of the source queue. */
    readonly visibilityTimeoutSeconds: number;

    constructor(name: string, args: EncryptedQueueArgs, opts?: pulumi.ComponentResourceOptions) {
        super("event-ingestion:messaging:EncryptedQueue", name, {}, opts);
        const problems = validate(args);
        if (problems.length > 0) throw new EncryptedQueueArgsError(problems);

        const fifo = args.fifo ?? false;
        const {
            kmsDataKeyReusePeriodSeconds,
            maxMessageSize,
            maxReceiveCount,
            messageRetentionSeconds,
            receiveWaitTimeSeconds,
            consumerBatchingWindowSeconds,
        } = withDefaults(ENCRYPTED_QUEUE_DEFAULTS, args);
        this.visibilityTimeoutSeconds = deriveVisibilityTimeoutSeconds(args.consumerTimeoutSeconds, consumerBatchingWindowSeconds);
        const fifoSettings = fifo
            ? {
                  fifoQueue: true,
                  contentBasedDeduplication: args.contentBasedDeduplication ?? false,
                  ...(args.highThroughput ? { deduplicationScope: "messageGroup", fifoThroughputLimit: "perMessageGroupId" } : {}),
              }
            : {};

        this.deadLetterQueue = new aws.sqs.Queue(
            `${name}-dlq`,
            {
                ...(fifo ? { fifoQueue: true, contentBasedDeduplication: args.contentBasedDeduplication ?? false } : {}),
                kmsMasterKeyId: args.kmsKeyArn,
                kmsDataKeyReusePeriodSeconds,
                // SQS's largest message, whatever the source queue's: a consumer that dead-letters a body at the
                // source's limit adds reason attributes, and those count toward the size too.
                maxMessageSize: SQS_MAX_MESSAGE_SIZE_BYTES,
                messageRetentionSeconds: DEAD_LETTER_RETENTION_SECONDS,
                receiveWaitTimeSeconds,
                tags: { [QUEUE_ROLE_TAG]: "dead-letter" },
            },
            { parent: this },
        );
        this.queue = new aws.sqs.Queue(
            name,
            {
                ...fifoSettings,
                kmsMasterKeyId: args.kmsKeyArn,
                kmsDataKeyReusePeriodSeconds,
                maxMessageSize,
                messageRetentionSeconds,
                receiveWaitTimeSeconds,
                visibilityTimeoutSeconds: this.visibilityTimeoutSeconds,
                redrivePolicy: pulumi.jsonStringify({
                    deadLetterTargetArn: this.deadLetterQueue.arn,
                    maxReceiveCount,
                }),
                tags: { [QUEUE_ROLE_TAG]: "source" },
            },
            { parent: this },
        );
        // A separate resource: the DLQ must exist before the queue can name it, and only then can the DLQ name the queue.
        new aws.sqs.RedriveAllowPolicy(
            `${name}-dlq-redrive-allow`,
            {
                queueUrl: this.deadLetterQueue.url,
                redriveAllowPolicy: pulumi.jsonStringify({ redrivePermission: "byQueue", sourceQueueArns: [this.queue.arn] }),
            },
            { parent: this },
        );
        for (const [suffix, queue] of [
            ["", this.queue],
            ["-dlq", this.deadLetterQueue],
        ] as const) {
            new aws.sqs.QueuePolicy(
                `${name}${suffix}-tls-only`,
                { queueUrl: queue.url, policy: queue.arn.apply((arn) => JSON.stringify(queuePolicy(arn))) },
                { parent: this },
            );
        }
        this.registerOutputs({
            queueUrl: this.queue.url,
            queueArn: this.queue.arn,
            deadLetterQueueUrl: this.deadLetterQueue.url,
            deadLetterQueueArn: this.deadLetterQueue.arn,
        });
    }
}
