import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { awsScope, deploymentNames } from "./aws-scope";
import { KEY_DELETION_WINDOW_DAYS, KEY_ROTATION_PERIOD_DAYS } from "./defaults";
import { keyPolicy, type AwsScope, type KeyPolicyOptions, type KeyService } from "./iam-documents";
import { alarmNamePrefix, kmsAliasName, logGroupNamePrefix } from "./naming";

export interface EncryptionKeyArgs {
    /**
     * Services whose resources this key encrypts. Principals of the account may use
     * the key only through these services (`kms:ViaService`); `logs` adds a statement scoped
     * to this stack's log groups; `cloudwatch` means the key encrypts alarm topics: call
     * {@link EncryptionKey.allowAlarmTopics} with them, which then owns the key's policy.
     * @default ["sqs", "dynamodb", "sns", "logs", "lambda", "cloudwatch"]
     */
    services?: KeyService[];
    /**
     * Alias (without `alias/`).
     * @default "<project>/<stack>/<name>" (the stack's slug when the stack name holds a dot, see naming.ts)
     */
    aliasName?: pulumi.Input<string>;
    /** @default "Encrypts <project> data at rest (stack <stack>)" */
    description?: pulumi.Input<string>;
    /**
     * Waiting period before a scheduled deletion takes effect.
     * @default 30
     */
    deletionWindowInDays?: number;
    /**
     * Automatic rotation period; rotation is always on.
     * @default 365
     */
    rotationPeriodInDays?: number;
    /**
     * Log groups CloudWatch Logs may encrypt with the key: names starting with this prefix.
     * @default "/<project>/<stack>/"
     */
    logGroupNamePrefix?: string;
    /**
     * Alarms that may publish to topics encrypted with the key: names starting with this prefix.
     * @default "<project>-<stack>/" (no other stack's alarm names start with it)
     */
    alarmNamePrefix?: string;
    /**
     * Names of the custom EventBridge buses (of this account and region) the key encrypts, with `events`
     * among the services: EventBridge may use the key for these buses only. Names, not ARNs: the key's
     * policy needs them before the buses exist.
     * @default [] (no EventBridge statement)
     */
    eventBusNames?: readonly string[];
}

export const ENCRYPTION_KEY_DEFAULT_SERVICES: readonly KeyService[] = ["sqs", "dynamodb", "sns", "logs", "lambda", "cloudwatch"];

/**
 * A customer-managed KMS key with rotation, a stack-qualified alias and a key
 * policy that lets the account administer it and only the listed services use it.
 *
 * @example
 * const key = new EncryptionKey("events", { services: ["sqs", "dynamodb", "logs"] });
 * new aws.sqs.Queue("q", { kmsMasterKeyId: key.arn });
 */
export class EncryptionKey extends pulumi.ComponentResource {
    readonly key: aws.kms.Key;
    readonly alias: aws.kms.Alias;
    /** Key ARN: give this to `kmsMasterKeyId`, `kmsKeyId`, `serverSideEncryption.kmsKeyArn`. */
    readonly arn: pulumi.Output<string>;
    readonly keyId: pulumi.Output<string>;
    /** Name prefix of log groups this key may encrypt; name yours with it. */
    readonly logGroupNamePrefix: string;
    /** Name prefix of alarms allowed to publish to topics this key encrypts; name yours with it. */
    readonly alarmNamePrefix: string;
    private readonly name: string;
    private readonly services: readonly KeyService[];
    private readonly eventBusNames: readonly string[];
    private readonly scope: pulumi.Output<AwsScope>;

    constructor(name: string, args: EncryptionKeyArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        super("event-ingestion:security:EncryptionKey", name, {}, opts);
        this.name = name;
        const { project, stack } = deploymentNames();
        const services = args.services ?? [...ENCRYPTION_KEY_DEFAULT_SERVICES];
        this.logGroupNamePrefix = args.logGroupNamePrefix ?? logGroupNamePrefix(project, stack);
        this.alarmNamePrefix = args.alarmNamePrefix ?? alarmNamePrefix(project, stack);
        const scope = awsScope({ parent: this });
        this.services = services;
        this.eventBusNames = args.eventBusNames ?? [];
        this.scope = scope;
        const policy = scope.apply((resolvedScope) => JSON.stringify(keyPolicy(this.policyOptions(resolvedScope))));

        this.key = new aws.kms.Key(
            name,
            {
                description: args.description ?? `Encrypts ${project} data at rest (stack ${stack})`,
                keyUsage: "ENCRYPT_DECRYPT",
                customerMasterKeySpec: "SYMMETRIC_DEFAULT",
                enableKeyRotation: true,
                rotationPeriodInDays: args.rotationPeriodInDays ?? KEY_ROTATION_PERIOD_DAYS,
                deletionWindowInDays: args.deletionWindowInDays ?? KEY_DELETION_WINDOW_DAYS,
                // A policy that locks the account out is refused by KMS; keep that safety check on.
                bypassPolicyLockoutSafetyCheck: false,
                policy,
            },
            // A key for alarm topics has its policy owned by a KeyPolicy after creation (allowAlarmTopics), which
            // holds every statement of this one: the key's own policy must not undo it.
            { parent: this, ...(services.includes("cloudwatch") ? { ignoreChanges: ["policy"] } : {}) },
        );
        this.alias = new aws.kms.Alias(
            name,
            {
                name: args.aliasName !== undefined ? pulumi.interpolate`alias/${args.aliasName}` : kmsAliasName(project, stack, name),
                targetKeyId: this.key.keyId,
            },
            { parent: this },
        );
        this.arn = this.key.arn;
        this.keyId = this.key.keyId;
        this.registerOutputs({ arn: this.arn, keyId: this.keyId, aliasName: this.alias.name });
    }

    /**
     * Lets CloudWatch alarms publish to `topicArns`, SNS topics encrypted with this key: the whole key policy,
     * with CloudWatch's statement scoped to their encryption context, as a `KeyPolicy`. A topic is encrypted
     * with the key before its ARN exists, so the key cannot name it when it is created; its own policy is then
     * the same minus CloudWatch's statement, and this resource owns the policy from there on (the key ignores
     * later changes to its own `policy`, so the two never undo each other).
     *
     * @example
     * const alarms = new AlarmTopic("alarms", { kmsKeyArn: key.arn, alarmNamePrefix: key.alarmNamePrefix });
     * key.allowAlarmTopics([alarms.topic.arn]);
     */
    allowAlarmTopics(topicArns: pulumi.Input<string>[]): aws.kms.KeyPolicy {
        if (!this.services.includes("cloudwatch")) {
            throw new Error(`EncryptionKey ${this.name}: allowAlarmTopics needs "cloudwatch" among the key's services`);
        }
        return new aws.kms.KeyPolicy(
            `${this.name}-policy`,
            {
                keyId: this.key.keyId,
                bypassPolicyLockoutSafetyCheck: false,
                policy: pulumi
                    .all([this.scope, pulumi.all(topicArns)])
                    .apply(([resolvedScope, arns]) =>
                        JSON.stringify(keyPolicy({ ...this.policyOptions(resolvedScope), alarmTopicArns: arns })),
                    ),
            },
            { parent: this },
        );
    }

    private policyOptions(resolvedScope: AwsScope): KeyPolicyOptions {
        return {
            scope: resolvedScope,
            services: this.services,
            logGroupArnPattern: `arn:${resolvedScope.partition}:logs:${resolvedScope.region}:${resolvedScope.accountId}:log-group:${this.logGroupNamePrefix}*`,
            eventBusArns: this.eventBusNames.map(
                (busName) =>
                    `arn:${resolvedScope.partition}:events:${resolvedScope.region}:${resolvedScope.accountId}:event-bus/${busName}`,
            ),
        };
    }
}
