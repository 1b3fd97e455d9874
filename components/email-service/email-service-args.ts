import type * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import type { SmtpSettings } from "../../contracts/email-service";
import type { LogLevel } from "../shared/defaults";

/** `Event` and `Result` are the handler's event and result types. */
export interface EmailFunctionSettings<Event, Result> {
    /** Zero-argument factory of the handler (`emailApiFromEnvironment`, `emailWorkerFromEnvironment`). */
    factory: aws.lambda.CallbackFactory<Event, Result>;
    /** @default 256 */
    memorySizeMb?: number;
    /** @default 10 for the API, 60 for the worker */
    timeoutSeconds?: number;
}

/** The API function and its HTTP API. */
export interface EmailApiSettings<Event, Result> extends EmailFunctionSettings<Event, Result> {
    /** @default "AWS_IAM" */
    authorization?: "AWS_IAM" | "NONE";
    /** @default 50 */
    throttleRateLimit?: number;
    /** @default 100 */
    throttleBurstLimit?: number;
    /** @default 262144 */
    largeBodyThresholdBytes?: number;
    /** @default 4194304 */
    maxRequestBytes?: number;
    /** @default 50 */
    maxRecipients?: number;
    /** @default 30 */
    maxScheduleAheadDays?: number;
    /** @default 24 */
    idempotencyTtlHours?: number;
    /** @default 4 */
    tenantLanes?: number;
    /**
     * Per API caller (IAM principal ARN), the `from` addresses and domains it may use.
     * @default undefined (every caller may use every declared identity)
     */
    senders?: Record<string, string[]>;
}

/** The worker function and its event source mapping. */
export interface EmailWorkerSettings<Event, Result> extends EmailFunctionSettings<Event, Result> {
    /** @default 10 */
    batchSize?: number;
    /** @default 10 */
    maxConcurrency?: number;
    /** SMTP relay settings (with their password) stored in the secret. @default undefined (the value is set out of band) */
    smtp?: SmtpSettings;
}

/** `ApiEvent`/`ApiResult` and `WorkerEvent`/`WorkerResult`: the API's and the worker's handler event and result types. */
export interface EmailServiceArgs<ApiEvent = unknown, ApiResult = unknown, WorkerEvent = unknown, WorkerResult = unknown> {
    api: EmailApiSettings<ApiEvent, ApiResult>;
    worker: EmailWorkerSettings<WorkerEvent, WorkerResult>;
    /**
     * The status function that turns SES events into statuses (`emailStatusEventsFromEnvironment`).
     * @default undefined (no SES event publishing: statuses stop at sent or failed)
     */
    statusEvents?: { factory: aws.lambda.CallbackFactory<never, unknown> };
    /**
     * The notify function that publishes every status change to the status bus (`emailStatusNotifierFromEnvironment`).
     * The email key must admit the bus: `eventBusNames: [EmailService.statusEventBusName(name)]` and `"events"` among its services.
     * @default undefined (no status bus: clients poll GET /v1/emails/{id})
     */
    statusNotifications?: { factory: aws.lambda.CallbackFactory<never, unknown> };
    /** Customer-managed key for the queue, table, bucket, secret, log groups and Lambda environments. */
    kmsKeyArn: pulumi.Input<string>;
    /** Log group name prefix the key policy lets CloudWatch Logs use (`EncryptionKey.logGroupNamePrefix`). */
    logGroupNamePrefix: string;
    /** The shared alarm topic and the alarm name prefix it accepts. */
    alarms: { topicArn: pulumi.Input<string>; namePrefix: string };
    /** The email queue and its DLQ. @default { maxReceiveCount: 5, oldestMessageAgeAlarmSeconds: 300 } */
    queue?: { maxReceiveCount?: number; oldestMessageAgeAlarmSeconds?: number };
    /**
     * The content bucket, the idempotency table and the status table.
     * @default { contentRetentionDays: 45, deletionProtection: true, statusRetentionDays: 30 }
     */
    storage?: { contentRetentionDays?: number; deletionProtection?: boolean; statusRetentionDays?: number };
    /** Both functions' logs and the API's access logs. @default { retentionDays: 30, level: "INFO" } */
    logs?: { retentionDays?: number; level?: LogLevel };
    /**
     * SES: the sending identities (domains or addresses) the stack declares and the configuration set's name.
     * @default {} (no identities: the worker may send as any identity of the account; set named `<project>-<stack>-<name>`)
     */
    ses?: { identities?: string[]; configurationSetName?: string };
}
