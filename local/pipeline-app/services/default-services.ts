/**
 * The services `npm start` and `npm run local` run, in start order (they stop in
 * reverse). To add one (e.g. the email service), implement {@link LocalService}
 * in its own module and append it here: one line, no change to the pipeline.
 */
import { emailLocalService } from "./email-service";
import { emailStatusNotifyService } from "./email-status-notify";
import { eventProcessorService } from "./event-processor";
import { streamSenderService } from "./stream-sender";
import type { LocalService } from "./types";

/**
 * @example
 * await startLocalPipeline({ services: defaultServices() });
 */
export function defaultServices(): LocalService[] {
    return [eventProcessorService(), streamSenderService(), emailLocalService(), emailStatusNotifyService()];
}
