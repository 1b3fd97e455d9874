/**
 * Multi-tenant event ingestion and email delivery on AWS. The stack config maps to
 * component arguments in config/component-args.ts; the shared resources (the events
 * key and the alarm topic) come first, then the event pipeline and the email service.
 */
import { loadStackConfig } from "./config";
import { componentArgs } from "./config/component-args";
import { AlarmTopic, EmailService, EncryptionKey, EventPipeline, registerStackTags } from "./components";
import { eventProcessorFromEnvironment } from "./handlers/event-processor";
import {
    emailApiFromEnvironment,
    emailStatusEventsFromEnvironment,
    emailStatusNotifierFromEnvironment,
    emailWorkerFromEnvironment,
} from "./handlers/email";

// Fails before any resource is registered, listing every bad setting.
const args = componentArgs(loadStackConfig());
// Owner and cost-allocation tags on every taggable resource below (the pack requires them).
registerStackTags(args.shared.tags);

// Shared: the events key also encrypts the alarm topic every alarm notifies; the email data (PII) has its own key.
const key = new EncryptionKey("events");
const alarms = new AlarmTopic("alarms", { kmsKeyArn: key.arn, alarmNamePrefix: key.alarmNamePrefix, email: args.shared.alarmEmail });
// CloudWatch may use the events key for the alarm topic only (the topic's ARN exists once the topic does).
key.allowAlarmTopics([alarms.topic.arn]);
// The email key also encrypts the status bus (EventBridge may use it for that bus only).
const emailKey = new EncryptionKey("email", {
    services: ["sqs", "dynamodb", "logs", "lambda", "s3", "secretsmanager", "events"],
    eventBusNames: [EmailService.statusEventBusName("email")],
});

const events = new EventPipeline("events", {
    ...args.events,
    processorFactory: eventProcessorFromEnvironment,
    kmsKeyArn: key.arn,
    logGroupNamePrefix: key.logGroupNamePrefix,
    alarms: { topicArn: alarms.topic.arn, namePrefix: key.alarmNamePrefix },
});

const email = new EmailService("email", {
    ...args.email,
    api: { ...args.email.api, factory: emailApiFromEnvironment },
    worker: { ...args.email.worker, factory: emailWorkerFromEnvironment },
    statusEvents: { factory: emailStatusEventsFromEnvironment },
    statusNotifications: { factory: emailStatusNotifierFromEnvironment },
    kmsKeyArn: emailKey.arn,
    logGroupNamePrefix: emailKey.logGroupNamePrefix,
    alarms: { topicArn: alarms.topic.arn, namePrefix: alarms.alarmNamePrefix },
});

export const eventQueueUrl = events.queue.queue.url;
export const eventQueueArn = events.queue.queue.arn;
export const deadLetterQueueUrl = events.queue.deadLetterQueue.url;
export const deadLetterQueueArn = events.queue.deadLetterQueue.arn;
export const producerPolicyArn = events.access.producer.arn;
/** Producer name -> the role it assumes to send events for its tenants (empty in open mode). */
export const producerRoleArns = events.producers?.roleArns ?? {};
/** With producers: the sender-claim key (`npm run dlq -- redrive` signs SQS-moved letters with it) and the redrive operator policy. */
export const senderClaims = events.senderClaims
    ? { keyArn: events.senderClaims.key.arn, redriveOperatorPolicyArn: events.senderClaims.operatorPolicy.arn }
    : {};
export const eventTableName = events.store.table.name;
export const eventTableArn = events.store.table.arn;
export const eventStreamArn = events.store.table.streamArn;
export const streamReadPolicyArn = events.access.streamRead.arn;
export const tableReadPolicyArn = events.access.tableRead.arn;
/** The arrival index a polling Sender queries (stack setting eventPollingIndex); absent when it is off. */
export const eventPollingIndexName = events.polling?.indexName;
/** Seconds a polling Sender keeps re-reading behind its cursor (docs/sender.md); absent without the index. */
export const eventPollingLagSeconds = events.polling?.lagSeconds;
export const kmsKeyArn = key.arn;
export const alarmTopicArn = alarms.topic.arn;
export const emailApiUrl = email.apiUrl;
export const emailQueueUrl = email.queue.queue.url;
export const emailDeadLetterQueueUrl = email.queue.deadLetterQueue.url;
export const emailApiInvokePolicyArn = email.invokePolicy.arn;
export const emailScheduleDeadLetterQueueUrl = email.scheduleDeadLetterQueue.url;
/** Each email's status and history (the runbook reads it; clients use GET /v1/emails/{id}). */
export const emailStatusTableName = email.statusTable.name;
/** SES events the status function could not record (each message is the event to replay). */
export const emailStatusDeadLetterQueueUrl = email.statusEvents?.deadLetterQueue.url;
/** DNS records (CNAME) that verify each declared SES domain with Easy DKIM. */
export const emailSesDkimRecords = email.sesDkimRecords;
/** The bus every email status change is published to (`Email Status Changed`, docs/email-service.md). */
export const emailStatusEventBusArn = email.statusNotifications?.eventBus.arn;
/** Attach to a consumer's role: rules and targets on the status bus, nothing else. */
export const emailStatusSubscribePolicyArn = email.statusNotifications?.subscribePolicy.arn;
/** Stream coordinates of status changes the notify function gave up on (docs/runbook.md#email-notify-dlq-messages). */
export const emailStatusNotifyDeadLetterQueueUrl = email.statusNotifications?.deadLetterQueue.url;
