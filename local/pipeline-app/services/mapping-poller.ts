/**
 * What every local service does with a deployed SQS event source mapping: run an
 * EventSourcePoller with the mapping's settings in front of a local function.
 */
import { EventSourcePoller, EventSourcePollerOptions } from "../../aws-stand-ins/event-source-poller";
import type { EventSourceMappingSpec } from "../topology";
import type { LocalContext } from "./types";

/** The mapping's maximum concurrency, capped by what this machine runs locally (at least 1). */
export function localConcurrency(mapping: EventSourceMappingSpec, context: LocalContext): number {
    return Math.max(1, Math.min(mapping.maximumConcurrency ?? context.maxLocalConcurrency, context.maxLocalConcurrency));
}

/**
 * Starts (when the mapping is enabled) a poller that behaves like the mapping on `queue`.
 *
 * @example
 * const poller = startMappingPoller(context, mapping, queue, concurrency, (event) => fn.invoke(event), (e) => context.log(`[poller] ${e.name}`));
 */
export function startMappingPoller(
    context: LocalContext,
    mapping: EventSourceMappingSpec,
    queue: { url: string; arn: string },
    concurrency: number,
    invoke: EventSourcePollerOptions["invoke"],
    onPollError: (error: Error) => void,
): EventSourcePoller {
    const poller = new EventSourcePoller({
        sqs: context.clients.sqs,
        queueUrl: queue.url,
        queueArn: queue.arn,
        region: context.region,
        batchSize: mapping.batchSize,
        maximumBatchingWindowInSeconds: mapping.maximumBatchingWindowInSeconds,
        reportBatchItemFailures: mapping.reportBatchItemFailures,
        maximumConcurrency: concurrency,
        invoke,
    });
    poller.on("poll-error", onPollError);
    if (mapping.enabled) poller.start();
    return poller;
}
