import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { awsScope, deploymentNames } from "../shared/aws-scope";
import {
    DEAD_LETTER_RETENTION_SECONDS,
    ENCRYPTED_QUEUE_DEFAULTS,
    RECEIVE_WAIT_TIME_SECONDS,
    SQS_MAX_MESSAGE_SIZE_BYTES,
} from "../shared/defaults";
import { QUEUE_ROLE_TAG } from "../shared/encrypted-queue";
import { queuePolicy } from "../shared/iam-documents";
import { scheduleGroupName } from "../shared/naming";
import { schedulerAssumeRolePolicy, schedulerTargetPolicy } from "./email-iam";
import { previousParentAliases } from "../shared/aliases";

export interface EmailSchedulerArgs {
    /**
     * ARN of the email queue that due schedules put their emails back on.
     * @example queue.queue.arn
     * @default none (required)
     */
    queueArn: pulumi.Input<string>;
    /**
     * Customer-managed key of the email queue and of the schedule dead-letter queue.
     * @example key.arn
     * @default none (required)
     */
    kmsKeyArn: pulumi.Input<string>;
    /**
     * The parent these resources were registered under before this component grouped them: each child
     * gets an alias to it, so a deployed stack keeps its schedule group, dead-letter queue and role.
     * @example this
     * @default undefined (no alias)
     */
    previousParent?: pulumi.Resource;
}

/**
 * EventBridge Scheduler for `sendAt`: the schedule group the worker creates one-time
 * schedules in, the role those schedules run as (it may only put on the email queue),
 * and a standard, CMK-encrypted, TLS-only dead-letter queue for releases that fail.
 *
 * Named as its service: the children keep the names `<name>-schedules`, `<name>-schedule-dlq`, ...
 *
 * @example
 * const scheduler = new EmailScheduler("email", { queueArn: queue.queue.arn, kmsKeyArn: key.arn }, { parent: this });
 * export const scheduleGroup = scheduler.group.name;
 */
export class EmailScheduler extends pulumi.ComponentResource {
    /** Deleting the group (pulumi destroy) deletes the schedules still in it: see docs/email-service.md "Destroying the stack". */
    readonly group: aws.scheduler.ScheduleGroup;
    /** Standard queue (EventBridge Scheduler refuses FIFO DLQs) for schedules that could not release their email. */
    readonly deadLetterQueue: aws.sqs.Queue;
    readonly role: aws.iam.Role;

    constructor(name: string, args: EmailSchedulerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("event-ingestion:email:EmailScheduler", name, {}, opts);
        const { project, stack } = deploymentNames();
        const scope = awsScope({ parent: this });
        const child: pulumi.CustomResourceOptions = {
            parent: this,
            ...previousParentAliases(args.previousParent),
        };

        this.group = new aws.scheduler.ScheduleGroup(
            `${name}-schedules`,
            { name: scheduleGroupName(project, stack, `${name}-schedules`) },
            child,
        );
        // A schedule whose release fails after its retry policy (or at once, e.g. access denied) delivers its
        // dead-letter event here: the body is the schedule's input (the pointer message), so the email can be resent.
        this.deadLetterQueue = new aws.sqs.Queue(
            `${name}-schedule-dlq`,
            {
                kmsMasterKeyId: args.kmsKeyArn,
                // The email queue's, an `EncryptedQueue` with the block's default.
                kmsDataKeyReusePeriodSeconds: ENCRYPTED_QUEUE_DEFAULTS.kmsDataKeyReusePeriodSeconds,
                maxMessageSize: SQS_MAX_MESSAGE_SIZE_BYTES,
                messageRetentionSeconds: DEAD_LETTER_RETENTION_SECONDS,
                receiveWaitTimeSeconds: RECEIVE_WAIT_TIME_SECONDS,
                tags: { [QUEUE_ROLE_TAG]: "dead-letter" },
            },
            child,
        );
        new aws.sqs.QueuePolicy(
            `${name}-schedule-dlq-tls-only`,
            {
                queueUrl: this.deadLetterQueue.url,
                policy: this.deadLetterQueue.arn.apply((arn) => JSON.stringify(queuePolicy(arn))),
            },
            child,
        );
        this.role = new aws.iam.Role(
            `${name}-scheduler-role`,
            {
                description: `EventBridge Scheduler releases due emails (${stack})`,
                assumeRolePolicy: pulumi
                    .all([scope, this.group.name])
                    .apply(([resolvedScope, group]) => JSON.stringify(schedulerAssumeRolePolicy(resolvedScope, group))),
                maxSessionDuration: 3600,
            },
            child,
        );
        new aws.iam.RolePolicy(
            `${name}-scheduler-policy`,
            {
                role: this.role.id,
                policy: pulumi
                    .all([scope, args.queueArn, args.kmsKeyArn, this.deadLetterQueue.arn])
                    .apply(([resolvedScope, queueArn, key, dlqArn]) =>
                        JSON.stringify(schedulerTargetPolicy(resolvedScope, queueArn, key, dlqArn)),
                    ),
            },
            child,
        );
        this.registerOutputs({
            scheduleGroupName: this.group.name,
            deadLetterQueueUrl: this.deadLetterQueue.url,
            roleArn: this.role.arn,
        });
    }
}
