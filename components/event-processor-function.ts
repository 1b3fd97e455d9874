import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { awsScope, deploymentNames, powertoolsLayerArn } from "./aws-scope";
import { DEFAULTS, LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME, LAMBDA_TRACING_MODE, lambdaLoggingConfig, type LogLevel } from "./defaults";
import { lambdaAssumeRolePolicy, processorPolicy } from "./iam-documents";
import { lambdaCodePathOptions } from "./lambda-packaging";
import { EVENT_PROCESSOR_ENV, EVENT_PROCESSOR_SERVICE_NAME } from "../contracts/event-pipeline";

/** The SQS batch handler the factory returns (typed loosely: infrastructure does not depend on handler types). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type SqsBatchHandler = (event: any, context: any) => Promise<any>;

export interface EventProcessorFunctionArgs {
    /** Zero-argument factory that builds the handler once per container (`eventProcessorFromEnvironment`). */
    callbackFactory: () => SqsBatchHandler;
    /** Source queue (the event source mapping reads it). */
    queueArn: pulumi.Input<string>;
    /** Where the handler writes events it rejects. */
    deadLetterQueueArn: pulumi.Input<string>;
    deadLetterQueueUrl: pulumi.Input<string>;
    /** The event store. */
    tableName: pulumi.Input<string>;
    tableArn: pulumi.Input<string>;
    /** The customer-managed key of the queue, table, log group and environment variables. */
    kmsKeyArn: pulumi.Input<string>;
    /**
     * Name prefix the key policy lets CloudWatch Logs encrypt (from `EncryptionKey.logGroupNamePrefix`).
     * The log group is `<prefix>event-processor`.
     */
    logGroupNamePrefix: string;
    /** @default 256 */
    memorySizeMb?: number;
    /** @default 30 */
    timeoutSeconds?: number;
    /** @default 10 */
    batchSize?: number;
    /** @default 1 */
    maxBatchingWindowSeconds?: number;
    /** Event source mapping `scalingConfig.maximumConcurrency`. @default 10 */
    maxConcurrency?: number;
    /** @default 30 */
    logRetentionDays?: number;
    /** Powertools log level; Lambda's JSON log filter (`applicationLogLevel`, `systemLogLevel`) follows it. @default "INFO" */
    logLevel?: LogLevel;
    /** `ENABLED_EVENT_TYPES`. @default undefined (every registered type) */
    enabledEventTypes?: readonly string[];
    /** `EVENT_RETENTION_DAYS` (TTL). @default undefined (no expiry) */
    retentionDays?: number;
    /**
     * `PRODUCER_TENANTS`: JSON map of producer role unique id -> clientIds ({@link ProducerRoles.tenantMap}).
     * @default undefined (open mode: any sender may write any tenant)
     */
    producerTenants?: pulumi.Input<string>;
    /** Packages from package.json `dependencies` the handler needs in its archive. @default ["valibot"] */
    shippedPackages?: readonly string[];
}

/**
 * The event processor: the handler serialized with `aws.lambda.CallbackFunction`,
 * its own least-privilege role, its own encrypted log group, X-Ray, the
 * Powertools layer of the installed Powertools version, and an SQS event source mapping with partial batch responses.
 *
 * @example
 * const processor = new EventProcessorFunction("processor", { callbackFactory: eventProcessorFromEnvironment, ...resources });
 */
export class EventProcessorFunction extends pulumi.ComponentResource {
    readonly function: aws.lambda.CallbackFunction<unknown, unknown>;
    readonly role: aws.iam.Role;
    readonly logGroup: aws.cloudwatch.LogGroup;
    readonly eventSourceMapping: aws.lambda.EventSourceMapping;

    constructor(name: string, args: EventProcessorFunctionArgs, opts?: pulumi.ComponentResourceOptions) {
        super("event-ingestion:processing:EventProcessorFunction", name, {}, opts);
        const { project } = deploymentNames();
        const scope = awsScope({ parent: this });

        this.logGroup = new aws.cloudwatch.LogGroup(
            `${name}-logs`,
            {
                name: `${args.logGroupNamePrefix}${name}`,
                retentionInDays: args.logRetentionDays ?? DEFAULTS.logRetentionDays,
                kmsKeyId: args.kmsKeyArn,
            },
            { parent: this },
        );
        // IAM names are global to the account: let Pulumi autoname the role (random suffix), never a fixed name.
        this.role = new aws.iam.Role(
            `${name}-role`,
            {
                description: `Event processor (${pulumi.getStack()})`,
                assumeRolePolicy: JSON.stringify(lambdaAssumeRolePolicy()),
                maxSessionDuration: 3600,
            },
            { parent: this },
        );
        const policy = new aws.iam.RolePolicy(
            `${name}-policy`,
            {
                role: this.role.id,
                policy: pulumi
                    .all([scope, args.queueArn, args.deadLetterQueueArn, args.tableArn, args.kmsKeyArn, this.logGroup.arn])
                    .apply(([s, queueArn, deadLetterQueueArn, tableArn, keyArn, logGroupArn]) =>
                        JSON.stringify(processorPolicy({ scope: s, queueArn, deadLetterQueueArn, tableArn, keyArn, logGroupArn })),
                    ),
            },
            { parent: this },
        );

        const environment: Record<string, pulumi.Input<string>> = {
            [EVENT_PROCESSOR_ENV.tableName]: args.tableName,
            [EVENT_PROCESSOR_ENV.deadLetterQueueUrl]: args.deadLetterQueueUrl,
            POWERTOOLS_SERVICE_NAME: EVENT_PROCESSOR_SERVICE_NAME,
            POWERTOOLS_METRICS_NAMESPACE: project,
            POWERTOOLS_LOG_LEVEL: args.logLevel ?? DEFAULTS.logLevel,
        };
        if (args.enabledEventTypes && args.enabledEventTypes.length > 0)
            environment[EVENT_PROCESSOR_ENV.enabledTypes] = args.enabledEventTypes.join(",");
        if (args.retentionDays !== undefined) environment[EVENT_PROCESSOR_ENV.retentionDays] = String(args.retentionDays);
        if (args.producerTenants !== undefined) environment[EVENT_PROCESSOR_ENV.producerTenants] = args.producerTenants;

        this.function = new aws.lambda.CallbackFunction(
            name,
            {
                callbackFactory: args.callbackFactory,
                codePathOptions: lambdaCodePathOptions(args.shippedPackages ?? ["valibot"]),
                role: this.role,
                runtime: LAMBDA_RUNTIME,
                architectures: [LAMBDA_ARCHITECTURE],
                memorySize: args.memorySizeMb ?? DEFAULTS.processorMemoryMb,
                timeout: args.timeoutSeconds ?? DEFAULTS.processorTimeoutSeconds,
                tracingConfig: { mode: LAMBDA_TRACING_MODE },
                layers: [powertoolsLayerArn({ parent: this })],
                loggingConfig: lambdaLoggingConfig(this.logGroup.name, args.logLevel ?? DEFAULTS.logLevel),
                kmsKeyArn: args.kmsKeyArn,
                environment: { variables: environment },
                description: "Validates SQS events and stores them in the event table",
            },
            // The role's policy must exist before the function polls or logs.
            { parent: this, dependsOn: [policy, this.logGroup] },
        );

        this.eventSourceMapping = new aws.lambda.EventSourceMapping(
            `${name}-events`,
            {
                eventSourceArn: args.queueArn,
                functionName: this.function.arn,
                batchSize: args.batchSize ?? DEFAULTS.batchSize,
                maximumBatchingWindowInSeconds: args.maxBatchingWindowSeconds ?? DEFAULTS.maxBatchingWindowSeconds,
                functionResponseTypes: ["ReportBatchItemFailures"],
                scalingConfig: { maximumConcurrency: args.maxConcurrency ?? DEFAULTS.maxConcurrency },
                enabled: true,
            },
            { parent: this, dependsOn: [policy] },
        );
        this.registerOutputs({
            functionName: this.function.name,
            functionArn: this.function.arn,
            roleArn: this.role.arn,
            logGroupName: this.logGroup.name,
        });
    }
}
