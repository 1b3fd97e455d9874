/** The program's components, one file each: shared blocks, then each system's. */
export { AlarmTopic, type AlarmTopicArgs } from "./shared/alarm-topic";
export { EncryptedQueue, type EncryptedQueueArgs, QUEUE_ROLE_TAG } from "./shared/encrypted-queue";
export { EncryptionKey, type EncryptionKeyArgs } from "./shared/encryption-key";
export { runbookAlarm, type RunbookAlarmMetric, type RunbookAlarmTarget } from "./shared/runbook-alarm";
export {
    ServiceFunction,
    type ServiceFunctionArgs,
    type ServiceFunctionPolicyInputs,
    type ServiceFunctionQueueArgs,
} from "./shared/service-function";
export { registerStackTags, withStackTags } from "./shared/tagging";
export { EventPipeline, type EventPipelineArgs } from "./event-pipeline/event-pipeline";
export { EventAccessPolicies, type EventAccessPoliciesArgs } from "./event-pipeline/event-access-policies";
export { EventStore, type EventStoreArgs } from "./event-pipeline/event-store";
export { PipelineMonitoring, type PipelineMonitoringArgs } from "./event-pipeline/pipeline-monitoring";
export { ProducerRoles, type ProducerRoleSpec, type ProducerRolesArgs } from "./event-pipeline/producer-roles";
export { EmailService, type EmailServiceArgs } from "./email-service/email-service";
export { EmailHttpApi, type EmailHttpApiArgs } from "./email-service/email-http-api";
export { EmailScheduler, type EmailSchedulerArgs } from "./email-service/email-scheduler";
export { EmailStatusEvents, type EmailStatusEventsArgs } from "./email-service/email-status-events";
export { EmailContentBucket, type EmailContentBucketArgs } from "./email-service/email-content-bucket";
export { type EmailDkimRecord, EmailSesIdentities, type EmailSesIdentitiesArgs } from "./email-service/email-ses-identities";
export { EmailSmtp, type EmailSmtpArgs } from "./email-service/email-smtp";
export { EmailAlarms, type EmailAlarmsArgs } from "./email-service/email-alarms";
export { EmailDashboard, type EmailDashboardArgs } from "./email-service/email-dashboard";
