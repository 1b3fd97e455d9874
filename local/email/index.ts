/**
 * The email service's local pieces, for the local pipeline and the tests.
 *
 * - {@link emailLocalService}: the local-pipeline service (READY: `emailApiUrl`, `mailInboxUrl`).
 * - {@link startMailSink}: SMTP sink with an HTTP inspection API.
 * - {@link startFakeSes}: SESv2 stand-in (up, down, or answering SES errors).
 * - {@link startFakeSecretsManager}, {@link startFakeScheduler}: Secrets Manager and EventBridge Scheduler stand-ins.
 * - {@link serveHttpApi}: an API Gateway HTTP API (v2) handler on a loopback port.
 */
export { emailLocalService, locateEmailService, EmailServiceNotFoundError } from "./service";
export type { EmailLocalOptions, RunningEmailService } from "./service";
export { startMailSink, decodeWords } from "./mail-sink";
export { runEmailDemo } from "./demo";
export type { MailSink, SinkMessage } from "./mail-sink";
export { startFakeSes } from "./fake-ses";
export type { FakeSes, FakeSesMode, SesSendRequest } from "./fake-ses";
export { startFakeSecretsManager, startFakeScheduler, parseAtExpression, setLongTimeout, MAX_TIMER_DELAY_MS } from "./fake-aws";
export type { FakeAwsService, FakeScheduler, FakeSchedulerOptions, ScheduleRelease, ScheduleDeadLetter, ScheduleDrop } from "./fake-aws";
export { schedulerMayAssumeRole, scheduleGroupArn } from "./scheduler-trust";
export { serveHttpApi, toHttpApiEvent, API_GATEWAY_MAX_PAYLOAD_BYTES } from "./http-api";
export type { LocalHttpApi } from "./http-api";
