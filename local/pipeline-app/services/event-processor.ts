/**
 * The event processor, locally: the processor function's code archive from the
 * mock deployment, run in local execution environments with the function's own
 * environment variables (deployed identifiers rewritten to the emulators'), fed
 * by an sqs-consumer event source poller with the mapping's settings.
 */
import { prepareArtifact, type PreparedArtifact } from "../../offline/lambda-artifact";
import { LocalFunction } from "../../aws-stand-ins/lambda-runtime/local-function";
import { ProvisionedQueue, ProvisionedTable, rewriteValue } from "../provision";
import { functionByLogicalName, type EventSourceMappingSpec, type FunctionSpec } from "../topology";
import type { LocalContext, LocalService, RunningService } from "./types";
import type { EventSourcePoller } from "../../aws-stand-ins/event-source-poller";
import { localConcurrency, startMappingPoller } from "./mapping-poller";
import { EVENT_ARRIVAL_INDEX, EVENT_PROCESSOR_ENV } from "../../../contracts/event-pipeline";
import { FUNCTION_LOGICAL_NAMES } from "../function-names";

export interface RunningEventProcessor extends RunningService {
    fn: LocalFunction;
    poller: EventSourcePoller;
    queue: ProvisionedQueue;
    deadLetterQueue: ProvisionedQueue;
    table: ProvisionedTable;
    functionSpec: FunctionSpec;
    mapping: EventSourceMappingSpec;
    code: PreparedArtifact;
    /** The environment the local execution environments get. */
    environment: Record<string, string>;
    /** Concurrency actually used locally (the mapping's, capped by the pipeline). */
    concurrency: number;
}

export class EventProcessorNotFoundError extends Error {
    constructor(detail: string) {
        super(`The stack has no event processor to run locally: ${detail}`);
        this.name = "EventProcessorNotFoundError";
    }
}

/** The READY fields of the arrival index, when the stack declares it and it was created locally. */
function pollingFields(context: LocalContext, table: ProvisionedTable): Record<string, unknown> {
    const index = table.spec.globalSecondaryIndexes.find((candidate) => candidate.name === EVENT_ARRIVAL_INDEX.name);
    if (!index) return {};
    return { eventPollingIndexName: index.name, eventPollingLagSeconds: context.deployment.outputs.eventPollingLagSeconds };
}

/** Finds the processor function, its queue mapping, queue, DLQ and table in the provisioned stack. */
export function locateEventProcessor(context: Pick<LocalContext, "topology" | "resources">) {
    const { topology, resources } = context;
    const functionSpec = functionByLogicalName(topology, FUNCTION_LOGICAL_NAMES.eventProcessor);
    if (!functionSpec) throw new EventProcessorNotFoundError(`no function named ${JSON.stringify(FUNCTION_LOGICAL_NAMES.eventProcessor)}`);
    const mapping = topology.eventSourceMappings.find(
        (candidate) => candidate.functionName === functionSpec.name || candidate.functionName === functionSpec.deployedArn,
    );
    if (!mapping) throw new EventProcessorNotFoundError(`function ${functionSpec.logicalName} has no event source mapping`);
    const queue = resources.queues.find((candidate) => candidate.spec.deployedArn === mapping.eventSourceArn);
    if (!queue)
        throw new EventProcessorNotFoundError(
            `mapping ${mapping.logicalName} reads ${mapping.eventSourceArn}, which is not a queue of this stack`,
        );
    const deadLetterQueue = resources.queues.find((candidate) => candidate.spec.deployedArn === queue.spec.redrive?.deadLetterTargetArn);
    if (!deadLetterQueue)
        throw new EventProcessorNotFoundError(`queue ${queue.spec.logicalName} has no redrive policy to a dead-letter queue`);
    const tableName = functionSpec.environment[EVENT_PROCESSOR_ENV.tableName];
    const table = resources.tables.find((candidate) => candidate.name === tableName);
    if (!table) throw new EventProcessorNotFoundError(`${EVENT_PROCESSOR_ENV.tableName}=${tableName} is not a table of this stack`);
    return { functionSpec, mapping, queue, deadLetterQueue, table };
}

export interface EventProcessorServiceOptions {
    /**
     * Environment variables set over the function's own (e.g. `ENABLED_EVENT_TYPES` to run the
     * processor as a changed stack config would). @default none
     */
    environment?: Record<string, string>;
}

/**
 * @example
 * await startLocalPipeline({ services: [eventProcessorService()] });
 * // the processor as if the stack enabled every type:
 * await eventProcessorService({ environment: { ENABLED_EVENT_TYPES: EVENT_TYPE_NAMES.join(",") } }).start(pipeline.context);
 */
export function eventProcessorService(options: EventProcessorServiceOptions = {}): LocalService {
    return {
        name: "event-processor",
        async start(context: LocalContext): Promise<RunningEventProcessor> {
            const { functionSpec, mapping, queue, deadLetterQueue, table } = locateEventProcessor(context);
            const environment: Record<string, string> = {};
            for (const [key, value] of Object.entries(functionSpec.environment))
                environment[key] = rewriteValue(value, context.resources.rewrites);
            Object.assign(environment, context.awsEnvironment, { AWS_NODEJS_CONNECTION_REUSE_ENABLED: "1" }, options.environment);

            const code = await prepareArtifact(functionSpec, { parentDir: context.workDir });
            const concurrency = localConcurrency(mapping, context);
            const fn = new LocalFunction({
                name: functionSpec.name,
                arn: functionSpec.deployedArn,
                moduleFile: code.moduleFile,
                exportName: code.exportName,
                nodePath: code.nodePath,
                environment,
                timeoutSeconds: functionSpec.timeoutSeconds,
                memorySize: functionSpec.memorySize,
                concurrency,
            });
            fn.on("log", ({ text }: { text: string }) => context.functionLog(functionSpec.logicalName, text));
            try {
                await fn.start();
            } catch (error) {
                await fn.stop();
                code.cleanup();
                throw error;
            }
            const poller = startMappingPoller(
                context,
                mapping,
                queue,
                concurrency,
                (event) => fn.invoke(event),
                (error) => context.log(`[poller] ${error.name}: ${error.message}`),
            );
            return {
                name: "event-processor",
                ready: {
                    eventQueueUrl: queue.url,
                    eventQueueArn: queue.arn,
                    deadLetterQueueUrl: deadLetterQueue.url,
                    deadLetterQueueArn: deadLetterQueue.arn,
                    eventTableName: table.name,
                    eventTableArn: table.arn,
                    eventStreamArn: table.streamArn,
                    // With the stack's eventPollingIndex on: the arrival index a polling Sender queries, and its lag.
                    ...pollingFields(context, table),
                    processorFunctionName: functionSpec.name,
                    processorArtifact: code.archiveDir,
                    eventSource: {
                        batchSize: mapping.batchSize,
                        maximumBatchingWindowInSeconds: mapping.maximumBatchingWindowInSeconds,
                        reportBatchItemFailures: mapping.reportBatchItemFailures,
                        visibilityTimeoutSeconds: Number(queue.spec.attributes.VisibilityTimeout ?? 30),
                        maxReceiveCount: queue.spec.redrive?.maxReceiveCount,
                        concurrency,
                    },
                },
                fn,
                poller,
                queue,
                deadLetterQueue,
                table,
                functionSpec,
                mapping,
                code,
                environment,
                concurrency,
                async stop() {
                    await poller.stop();
                    await fn.stop();
                    code.cleanup();
                },
            };
        },
    };
}
