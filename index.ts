/**
 * Multi-tenant event ingestion and email delivery on AWS. The stack config maps to
 * component arguments in config/component-args.ts; the shared resources (the events
 * key and the alarm topic) come first, then the event pipeline and the email service,
 * each built and wired by its step in program.ts.
 */
import { emailService, eventPipeline, sharedResources, stackComponentArgs } from "./program";

// Validates the config (before any resource is registered) and tags every resource registered after it.
const args = stackComponentArgs();
// Shared: the events key (it also encrypts the alarm topic every alarm notifies), the alarm topic and the email data's own key.
const shared = sharedResources(args);
const { key, alarms } = shared;
const events = eventPipeline(args, shared);
const email = emailService(args, shared);

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
