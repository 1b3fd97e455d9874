import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { awsScope, deploymentNames, powertoolsLayerArn } from "./aws-scope";
import {
    LAMBDA_ARCHITECTURE,
    LAMBDA_RUNTIME,
    LAMBDA_TRACING_MODE,
    lambdaLoggingConfig,
    SERVICE_FUNCTION_DEFAULTS,
    withDefaults,
    type LogLevel,
} from "./defaults";
import { lambdaAssumeRolePolicy, type AwsScope, type PolicyDocument } from "./iam-documents";
import { SQS_DEFAULT_BATCH_SIZE, sqsEventSourceProblems } from "./event-source-rules";
import { lambdaCodePathOptions } from "./lambda-packaging";
import { overNativeArgs } from "./native-args";
import { previousParentAliases } from "./aliases";

/** What a {@link ServiceFunctionArgs.policy} builder receives to scope its statements. */
export interface ServiceFunctionPolicyInputs {
    /** Partition, region and account of the deployment. */
    scope: pulumi.Output<AwsScope>;
    /** The function's own log group (for its `logs:PutLogEvents` statement). */
    logGroupArn: pulumi.Output<string>;
}

/** The SQS queue a {@link ServiceFunction} consumes through an event source mapping. */
export interface ServiceFunctionQueueArgs {
    /** The queue the mapping reads. */
    arn: pulumi.Input<string>;
    /**
     * Messages per invocation: up to 10,000 for a standard queue, 10 for a FIFO queue. Above 10, Lambda
     * requires `maxBatchingWindowSeconds` >= 1 (the rules are in `event-source-rules.ts`).
     * @default 10 (Lambda's own default)
     */
    batchSize?: number;
    /** Seconds the mapping waits to fill a batch (0-300). @default undefined (not set: Lambda's own default, 0) */
    maxBatchingWindowSeconds?: number;
    /** The queue is FIFO: at most 10 per batch and no batching window. @default false */
    fifo?: boolean;
    /** `scalingConfig.maximumConcurrency` (2-1000). @default 10 */
    maxConcurrency?: number;
    /** Logical name of the mapping. @default "<name>-queue" */
    mappingName?: string;
}

/** Invalid {@link ServiceFunctionArgs}, every problem at once. */
export class ServiceFunctionArgsError extends Error {
    constructor(
        name: string,
        readonly problems: readonly string[],
    ) {
        super(`ServiceFunction ${name}: ${problems.join("; ")}`);
        this.name = "ServiceFunctionArgsError";
    }
}

/** `Event` and `Result` are the handler's event and result types. */
export interface ServiceFunctionArgs<Event = unknown, Result = unknown> {
    /** Zero-argument factory that builds the handler once per container (e.g. `eventProcessorFromEnvironment`). */
    callbackFactory: aws.lambda.CallbackFactory<Event, Result>;
    /** The function's `description`. */
    description: string;
    /** Who runs under the role, e.g. "Event processor"; the role's description is `<roleDescription> (<stack>)`. */
    roleDescription: string;
    /**
     * The inline policy of the role, least privilege: every statement scoped to this function's resources.
     * Called once with the deployment's scope and the function's log group.
     */
    policy: (inputs: ServiceFunctionPolicyInputs) => pulumi.Output<PolicyDocument>;
    /** The customer-managed key of the log group and the environment variables. */
    kmsKeyArn: pulumi.Input<string>;
    /** Name prefix the key policy lets CloudWatch Logs use (`EncryptionKey.logGroupNamePrefix`); the log group is `<prefix><name>`. */
    logGroupNamePrefix: string;
    /** The handler's environment; the Powertools variables are added. @default {} */
    environment?: Record<string, pulumi.Input<string>>;
    /** `POWERTOOLS_SERVICE_NAME`: the `service` dimension of the function's EMF metrics. @default name */
    serviceName?: string;
    /** Powertools log level; Lambda's JSON log filter (`applicationLogLevel`, `systemLogLevel`) follows it. @default "INFO" */
    logLevel?: LogLevel;
    /** @default 30 */
    logRetentionDays?: number;
    /** @default 256 */
    memorySizeMb?: number;
    /** @default 30 */
    timeoutSeconds?: number;
    /** Packages from package.json `dependencies` the handler needs in its archive. @default ["valibot"] */
    shippedPackages?: readonly string[];
    /** Layers after the Powertools layer (e.g. one with packages loaded on first use only). @default [] */
    extraLayers?: pulumi.Input<string>[];
    /** When set, an SQS event source mapping with partial batch responses. @default undefined (no mapping) */
    queue?: ServiceFunctionQueueArgs;
    /**
     * For a function invoked asynchronously (EventBridge, S3, SNS): the SQS queue Lambda sends an event to
     * after its retries (`deadLetterConfig`); the policy must allow `sqs:SendMessage` on it.
     * @default undefined (no dead-letter queue)
     */
    deadLetterQueueArn?: pulumi.Input<string>;
    /**
     * The parent these resources were registered under before this component grouped them: each child
     * gets an alias to it, so a deployed stack keeps its log group, role and function.
     * @default undefined (no alias)
     */
    previousParent?: pulumi.Resource;
    /**
     * Native `aws.lambda.CallbackFunction` arguments merged over the secure defaults (awsx's escape hatch), for
     * what this block does not model: reserved concurrency, ephemeral storage, a VPC, ... What is given wins;
     * tags merge key by key. The handler's variables go in `environment` and its code in `callbackFactory`.
     * The policy pack checks the result: an override that turns tracing off or drops the key fails the preview.
     * @example { reservedConcurrentExecutions: 5, ephemeralStorage: { size: 1024 } }
     * @default undefined (the secure defaults only)
     */
    functionArgs?: Partial<Omit<aws.lambda.CallbackFunctionArgs<Event, Result>, "callback" | "callbackFactory" | "environment">>;
    /**
     * Native `aws.iam.Role` arguments merged over the function role's defaults, like `functionArgs`.
     * @example { permissionsBoundary: boundary.arn }
     * @default undefined (the secure defaults only)
     */
    roleArgs?: Partial<aws.iam.RoleArgs>;
    /**
     * Native `aws.cloudwatch.LogGroup` arguments merged over the log group's defaults, like `functionArgs`.
     * @example { logGroupClass: "INFREQUENT_ACCESS" }
     * @default undefined (the secure defaults only)
     */
    logGroupArgs?: Partial<aws.cloudwatch.LogGroupArgs>;
    /**
     * Native `aws.lambda.EventSourceMapping` arguments merged over the queue mapping's defaults (with `queue` only).
     * @example { filterCriteria: { filters: [{ pattern: JSON.stringify({ body: { type: ["order.placed"] } }) }] } }
     * @default undefined (the secure defaults only)
     */
    eventSourceMappingArgs?: Partial<aws.lambda.EventSourceMappingArgs>;
}

/**
 * One Lambda function of a service: its encrypted log group, its own role with an
 * inline least-privilege policy, the handler serialized with `aws.lambda.CallbackFunction`
 * (X-Ray, JSON logs, the Powertools layer of the installed version) and, for a queue
 * consumer, an SQS event source mapping with partial batch responses.
 *
 * Native arguments of each resource (`functionArgs`, `roleArgs`, `logGroupArgs`,
 * `eventSourceMappingArgs`) are merged over these defaults, for what the block does not
 * model; the policy pack still checks the result.
 *
 * Ordering: the function is created after its log group and its policy (it must not
 * log to Lambda's default group, nor start without permissions), and the mapping
 * after the policy (the poller uses the role at once).
 *
 * @example
 * const worker = new ServiceFunction("email-worker", {
 *     callbackFactory: emailWorkerFromEnvironment,
 *     description: "Sends queued emails",
 *     roleDescription: "Email worker",
 *     policy: ({ scope, logGroupArn }) => pulumi.all([scope, logGroupArn]).apply(([awsScope, logs]) => workerPolicy(awsScope, logs)),
 *     kmsKeyArn: key.arn,
 *     logGroupNamePrefix: key.logGroupNamePrefix,
 *     queue: { arn: queue.queue.arn, batchSize: 10 },
 * }, { parent: this });
 */
export class ServiceFunction<Event = unknown, Result = unknown> extends pulumi.ComponentResource {
    readonly function: aws.lambda.CallbackFunction<Event, Result>;
    readonly role: aws.iam.Role;
    readonly policy: aws.iam.RolePolicy;
    readonly logGroup: aws.cloudwatch.LogGroup;
    /** Present when `queue` is set. */
    readonly eventSourceMapping?: aws.lambda.EventSourceMapping;

    constructor(name: string, args: ServiceFunctionArgs<Event, Result>, opts?: pulumi.ComponentResourceOptions) {
        super("event-ingestion:compute:ServiceFunction", name, {}, opts);
        const { project, stack } = deploymentNames();
        const child: pulumi.CustomResourceOptions = {
            parent: this,
            ...previousParentAliases(args.previousParent),
        };
        const problems = args.queue
            ? sqsEventSourceProblems({
                  batchSize: args.queue.batchSize,
                  maximumBatchingWindowInSeconds: args.queue.maxBatchingWindowSeconds,
                  maximumConcurrency: args.queue.maxConcurrency,
                  fifo: args.queue.fifo,
              }).map((problem) => `queue.${problem}`)
            : [];
        if (problems.length > 0) throw new ServiceFunctionArgsError(name, problems);
        const { logLevel, logRetentionDays, memorySizeMb, timeoutSeconds, shippedPackages } = withDefaults(SERVICE_FUNCTION_DEFAULTS, args);

        this.logGroup = new aws.cloudwatch.LogGroup(
            `${name}-logs`,
            overNativeArgs<aws.cloudwatch.LogGroupArgs>(
                {
                    name: `${args.logGroupNamePrefix}${name}`,
                    retentionInDays: logRetentionDays,
                    kmsKeyId: args.kmsKeyArn,
                },
                args.logGroupArgs,
            ),
            child,
        );
        // IAM names are global to the account: let Pulumi autoname the role (random suffix), never a fixed name.
        this.role = new aws.iam.Role(
            `${name}-role`,
            overNativeArgs<aws.iam.RoleArgs>(
                {
                    description: `${args.roleDescription} (${stack})`,
                    assumeRolePolicy: JSON.stringify(lambdaAssumeRolePolicy()),
                    maxSessionDuration: 3600,
                },
                args.roleArgs,
            ),
            child,
        );
        this.policy = new aws.iam.RolePolicy(
            `${name}-policy`,
            {
                role: this.role.id,
                policy: args
                    .policy({ scope: awsScope({ parent: this }), logGroupArn: this.logGroup.arn })
                    .apply((document) => JSON.stringify(document)),
            },
            child,
        );

        this.function = new aws.lambda.CallbackFunction(
            name,
            overNativeArgs<aws.lambda.CallbackFunctionArgs<Event, Result>>(
                {
                    callbackFactory: args.callbackFactory,
                    codePathOptions: lambdaCodePathOptions(shippedPackages),
                    role: this.role,
                    runtime: LAMBDA_RUNTIME,
                    architectures: [LAMBDA_ARCHITECTURE],
                    memorySize: memorySizeMb,
                    timeout: timeoutSeconds,
                    tracingConfig: { mode: LAMBDA_TRACING_MODE },
                    layers: [powertoolsLayerArn({ parent: this }), ...(args.extraLayers ?? [])],
                    loggingConfig: lambdaLoggingConfig(this.logGroup.name, logLevel),
                    kmsKeyArn: args.kmsKeyArn,
                    environment: {
                        variables: {
                            ...(args.environment ?? {}),
                            POWERTOOLS_SERVICE_NAME: args.serviceName ?? name,
                            POWERTOOLS_METRICS_NAMESPACE: project,
                            POWERTOOLS_LOG_LEVEL: logLevel,
                        },
                    },
                    description: args.description,
                    ...(args.deadLetterQueueArn !== undefined ? { deadLetterConfig: { targetArn: args.deadLetterQueueArn } } : {}),
                },
                args.functionArgs,
            ),
            { ...child, dependsOn: [this.policy, this.logGroup] },
        );

        if (args.queue) {
            this.eventSourceMapping = new aws.lambda.EventSourceMapping(
                args.queue.mappingName ?? `${name}-queue`,
                overNativeArgs<aws.lambda.EventSourceMappingArgs>(
                    {
                        eventSourceArn: args.queue.arn,
                        functionName: this.function.arn,
                        batchSize: args.queue.batchSize ?? SQS_DEFAULT_BATCH_SIZE,
                        ...(args.queue.maxBatchingWindowSeconds !== undefined
                            ? { maximumBatchingWindowInSeconds: args.queue.maxBatchingWindowSeconds }
                            : {}),
                        functionResponseTypes: ["ReportBatchItemFailures"],
                        scalingConfig: { maximumConcurrency: args.queue.maxConcurrency ?? SERVICE_FUNCTION_DEFAULTS.maxConcurrency },
                        enabled: true,
                    },
                    args.eventSourceMappingArgs,
                ),
                { ...child, dependsOn: [this.policy] },
            );
        }
        this.registerOutputs({
            functionName: this.function.name,
            functionArn: this.function.arn,
            roleArn: this.role.arn,
            logGroupName: this.logGroup.name,
        });
    }
}
