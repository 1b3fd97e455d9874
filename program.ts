/**
 * How the program builds its systems from the stack config and wires them to the resources they
 * share: index.ts calls every step; a test program of one system (tests/components/fixtures/) calls
 * the steps that system needs, so a test of one system under a custom config deploys that system
 * and what it uses, not the whole program. The logical names are the ones deployed stacks hold.
 */
import { loadStackConfig } from "./config";
import { componentArgs, type ComponentArgs } from "./config/component-args";
import { AlarmTopic, EmailService, EncryptionKey, EventPipeline, registerStackTags } from "./components";
import { eventProcessorFromEnvironment } from "./handlers/event-processor";
import {
    emailApiFromEnvironment,
    emailStatusEventsFromEnvironment,
    emailStatusNotifierFromEnvironment,
    emailWorkerFromEnvironment,
} from "./handlers/email";

/** What every system uses: the events key, the alarm topic it encrypts, and the email data's own key. */
export interface SharedResources {
    key: EncryptionKey;
    alarms: AlarmTopic;
    emailKey: EncryptionKey;
}

/**
 * The stack config as component arguments, with the stack's tags registered for every resource
 * registered after this call. Fails before any resource is registered, listing every bad setting.
 */
export function stackComponentArgs(): ComponentArgs {
    const args = componentArgs(loadStackConfig());
    // Owner and cost-allocation tags on every taggable resource below (the pack requires them).
    registerStackTags(args.shared.tags);
    return args;
}

/** The keys and the alarm topic (see {@link SharedResources}). */
export function sharedResources(args: ComponentArgs): SharedResources {
    // The events key also encrypts the alarm topic every alarm notifies; the email data (PII) has its own key.
    const key = new EncryptionKey("events");
    const alarms = new AlarmTopic("alarms", { kmsKeyArn: key.arn, alarmNamePrefix: key.alarmNamePrefix, email: args.shared.alarmEmail });
    // CloudWatch may use the events key for the alarm topic only (the topic's ARN exists once the topic does).
    key.allowAlarmTopics([alarms.topic.arn]);
    // The email key also encrypts the status bus (EventBridge may use it for that bus only).
    const emailKey = new EncryptionKey("email", {
        services: ["sqs", "dynamodb", "logs", "lambda", "s3", "secretsmanager", "events"],
        eventBusNames: [EmailService.statusEventBusName("email")],
    });
    return { key, alarms, emailKey };
}

/** The event pipeline with its handler, on the events key and the alarm topic. */
export function eventPipeline(args: ComponentArgs, { key, alarms }: SharedResources): EventPipeline {
    return new EventPipeline("events", {
        ...args.events,
        processorFactory: eventProcessorFromEnvironment,
        kmsKeyArn: key.arn,
        logGroupNamePrefix: key.logGroupNamePrefix,
        alarms: { topicArn: alarms.topic.arn, namePrefix: key.alarmNamePrefix },
    });
}

/** The email service with its handlers, on the email key and the alarm topic. */
export function emailService(args: ComponentArgs, { alarms, emailKey }: SharedResources): EmailService {
    return new EmailService("email", {
        ...args.email,
        api: { ...args.email.api, factory: emailApiFromEnvironment },
        worker: { ...args.email.worker, factory: emailWorkerFromEnvironment },
        statusEvents: { factory: emailStatusEventsFromEnvironment },
        statusNotifications: { factory: emailStatusNotifierFromEnvironment },
        kmsKeyArn: emailKey.arn,
        logGroupNamePrefix: emailKey.logGroupNamePrefix,
        alarms: { topicArn: alarms.topic.arn, namePrefix: alarms.alarmNamePrefix },
    });
}
