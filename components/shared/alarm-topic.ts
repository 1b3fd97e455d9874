import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { awsScope } from "./aws-scope";
import { alarmTopicPolicy } from "./iam-documents";

export interface AlarmTopicArgs {
    /** The customer-managed key that encrypts the topic (its policy must include the `cloudwatch` service). */
    kmsKeyArn: pulumi.Input<string>;
    /** Names of alarms allowed to publish start with this (from `EncryptionKey.alarmNamePrefix`). */
    alarmNamePrefix: string;
    /**
     * An e-mail address to subscribe (the recipient confirms the subscription).
     * @default undefined (no subscription)
     */
    email?: string;
}

/**
 * The SNS topic every alarm publishes to: encrypted with the customer-managed
 * key, TLS-only, publishable only by this stack's CloudWatch alarms.
 *
 * @example
 * const alarms = new AlarmTopic("alarms", { kmsKeyArn: key.arn, alarmNamePrefix: key.alarmNamePrefix, email: "ops@example.com" });
 * new aws.cloudwatch.MetricAlarm("x", { name: `${alarms.alarmNamePrefix}x`, alarmActions: [alarms.topic.arn], ... });
 */
export class AlarmTopic extends pulumi.ComponentResource {
    readonly topic: aws.sns.Topic;
    readonly alarmNamePrefix: string;
    readonly subscription?: aws.sns.TopicSubscription;

    constructor(name: string, args: AlarmTopicArgs, opts?: pulumi.ComponentResourceOptions) {
        super("event-ingestion:monitoring:AlarmTopic", name, {}, opts);
        this.alarmNamePrefix = args.alarmNamePrefix;
        const scope = awsScope({ parent: this });
        this.topic = new aws.sns.Topic(name, { kmsMasterKeyId: args.kmsKeyArn }, { parent: this });
        new aws.sns.TopicPolicy(
            `${name}-policy`,
            {
                arn: this.topic.arn,
                policy: pulumi
                    .all([this.topic.arn, scope])
                    .apply(([topicArn, resolvedScope]) =>
                        JSON.stringify(
                            alarmTopicPolicy(
                                topicArn,
                                resolvedScope,
                                `arn:${resolvedScope.partition}:cloudwatch:${resolvedScope.region}:${resolvedScope.accountId}:alarm:${args.alarmNamePrefix}*`,
                            ),
                        ),
                    ),
            },
            { parent: this },
        );
        if (args.email) {
            this.subscription = new aws.sns.TopicSubscription(
                `${name}-email`,
                { topic: this.topic.arn, protocol: "email", endpoint: args.email },
                { parent: this },
            );
        }
        this.registerOutputs({ topicArn: this.topic.arn });
    }
}
