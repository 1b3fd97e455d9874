/**
 * Multi-tenant event ingestion on AWS: producers send events to an encrypted SQS
 * queue (MessageGroupId = clientId for fair queues); a Lambda validates them and
 * stores them in DynamoDB, whose stream feeds the Sender. One customer-managed key,
 * least-privilege roles, alarms and a dashboard.
 */
import { loadStackConfig } from "./config";
import {
    AlarmTopic,
    EncryptedQueue,
    EncryptionKey,
    EventAccessPolicies,
    EVENT_PROCESSOR_FORMER_TYPE,
    eventProcessorFunctionArgs,
    EventStore,
    PipelineMonitoring,
    ProducerRoles,
    ServiceFunction,
} from "./components";
import { eventProcessorFromEnvironment } from "./handlers/event-processor";
import { EmailService } from "./components/email-service/email-service";
import { emailApiFromEnvironment, emailWorkerFromEnvironment } from "./handlers/email";
import { registerStackTags } from "./components/shared/tagging";
import { stackTags } from "./config/tags";

// Fails before any resource is registered, listing every bad setting.
const config = loadStackConfig();
const settings = config.eventProcessor;
// Owner and cost-allocation tags on every taggable resource below (the pack requires them).
registerStackTags(stackTags(config.tags));

const key = new EncryptionKey("events");

const queue = new EncryptedQueue("events", {
    kmsKeyArn: key.arn,
    consumerTimeoutSeconds: settings.processorTimeoutSeconds,
    consumerBatchingWindowSeconds: settings.maxBatchingWindowSeconds,
    maxReceiveCount: settings.maxReceiveCount,
    kmsDataKeyReusePeriodSeconds: settings.kmsDataKeyReusePeriodSeconds,
    maxMessageSize: settings.maxMessageSize,
});

const store = new EventStore("events", {
    kmsKeyArn: key.arn,
    deletionProtection: settings.deletionProtection,
    retentionDays: settings.eventRetentionDays,
});

// Tenant isolation: a send-only role per configured producer; without producers the stack runs in open mode.
const producers = settings.producers
    ? new ProducerRoles("events", { producers: settings.producers, queueArn: queue.queue.arn, kmsKeyArn: key.arn })
    : undefined;

const processor = new ServiceFunction(
    "event-processor",
    eventProcessorFunctionArgs("event-processor", {
        callbackFactory: eventProcessorFromEnvironment,
        queueArn: queue.queue.arn,
        deadLetterQueueArn: queue.deadLetterQueue.arn,
        deadLetterQueueUrl: queue.deadLetterQueue.url,
        tableName: store.table.name,
        tableArn: store.table.arn,
        kmsKeyArn: key.arn,
        logGroupNamePrefix: key.logGroupNamePrefix,
        memorySizeMb: settings.processorMemoryMb,
        timeoutSeconds: settings.processorTimeoutSeconds,
        batchSize: settings.batchSize,
        maxBatchingWindowSeconds: settings.maxBatchingWindowSeconds,
        maxConcurrency: settings.maxConcurrency,
        logRetentionDays: settings.logRetentionDays,
        logLevel: settings.logLevel,
        enabledEventTypes: settings.enabledEventTypes,
        retentionDays: settings.eventRetentionDays,
        producerTenants: producers?.tenantMap,
    }),
    { aliases: [{ type: EVENT_PROCESSOR_FORMER_TYPE }] },
);

const alarms = new AlarmTopic("alarms", { kmsKeyArn: key.arn, alarmNamePrefix: key.alarmNamePrefix, email: settings.alarmEmail });

new PipelineMonitoring("events", {
    alarmTopicArn: alarms.topic.arn,
    alarmNamePrefix: key.alarmNamePrefix,
    processor: processor.function,
    queue: queue.queue,
    deadLetterQueue: queue.deadLetterQueue,
    table: store.table,
    oldestMessageAgeSeconds: settings.oldestMessageAgeAlarmSeconds,
});

const access = new EventAccessPolicies("events", {
    queueArn: queue.queue.arn,
    tableArn: store.table.arn,
    streamArn: store.table.streamArn,
    kmsKeyArn: key.arn,
});

export const eventQueueUrl = queue.queue.url;
export const eventQueueArn = queue.queue.arn;
export const deadLetterQueueUrl = queue.deadLetterQueue.url;
export const deadLetterQueueArn = queue.deadLetterQueue.arn;
export const producerPolicyArn = access.producer.arn;
/** Producer name -> the role it assumes to send events for its tenants (empty in open mode). */
export const producerRoleArns = producers?.roleArns ?? {};
export const eventTableName = store.table.name;
export const eventTableArn = store.table.arn;
export const eventStreamArn = store.table.streamArn;
export const streamReadPolicyArn = access.streamRead.arn;
export const tableReadPolicyArn = access.tableRead.arn;
export const kmsKeyArn = key.arn;
export const alarmTopicArn = alarms.topic.arn;

// --- Email service: its own key (the data is PII), the shared alarm topic. ---
const emailKey = new EncryptionKey("email", { services: ["sqs", "dynamodb", "logs", "lambda", "s3", "secretsmanager"] });
const email = new EmailService("email", {
    apiFactory: emailApiFromEnvironment,
    workerFactory: emailWorkerFromEnvironment,
    kmsKeyArn: emailKey.arn,
    logGroupNamePrefix: emailKey.logGroupNamePrefix,
    alarmTopicArn: alarms.topic.arn,
    alarmNamePrefix: alarms.alarmNamePrefix,
    settings: config.emailService,
});
export const emailApiUrl = email.apiUrl;
export const emailQueueUrl = email.queue.queue.url;
export const emailDeadLetterQueueUrl = email.queue.deadLetterQueue.url;
export const emailApiInvokePolicyArn = email.invokePolicy.arn;
export const emailScheduleDeadLetterQueueUrl = email.scheduleDeadLetterQueue.url;
/** DNS records (CNAME) that verify each declared SES domain with Easy DKIM. */
export const emailSesDkimRecords = email.sesDkimRecords;
