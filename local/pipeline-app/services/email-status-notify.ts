/**
 * Email status notifications on the local pipeline: the status table's stream on DynamoDB
 * Local, read as the deployed mapping reads it (its filter, batch size, partial batch
 * responses), handed to the notify handler, which publishes to a local status bus
 * (local/aws-stand-ins/email/status-bus.ts) instead of EventBridge. Each published change
 * goes to the function log (ids and statuses only), like a function's own output.
 *
 * READY field: `emailStatusBusName` (the deployed bus name; local subscribers use `bus.subscribe`).
 */
import { Logger } from "@aws-lambda-powertools/logger";
import type { Metrics } from "@aws-lambda-powertools/metrics";
import type { DynamoDBRecord } from "aws-lambda";
import { EMAIL_ENV } from "../../../contracts/email-service";
import { createEmailStatusNotifier } from "../../../handlers/email/status-notify";
import { LocalStatusBus, matchesPattern } from "../../aws-stand-ins/email/status-bus";
import { DynamoDbStreamReader } from "../../aws-stand-ins/stream-reader";
import { FUNCTION_LOGICAL_NAMES } from "../function-names";
import { functionByLogicalName } from "../topology";
import type { LocalContext, LocalService, RunningService } from "./types";

export interface RunningStatusNotifications extends RunningService {
    bus: LocalStatusBus;
    reader?: DynamoDbStreamReader;
}

/** The notify function, its stream mapping's settings and filters, and the local stream of the table it reads; undefined without one. */
export function locateStatusNotifications(context: Pick<LocalContext, "topology" | "resources" | "deployment">) {
    const fn = functionByLogicalName(context.topology, FUNCTION_LOGICAL_NAMES.emailStatusNotify);
    if (!fn) return undefined;
    const mapping = context.topology.eventSourceMappings.find(
        (candidate) => candidate.functionName === fn.name || candidate.functionName === fn.deployedArn,
    );
    const table = context.resources.tables.find((candidate) => candidate.spec.deployedStreamArn === mapping?.eventSourceArn);
    if (!mapping || !table?.streamArn) return undefined;
    const deployed = context.deployment.resources.find((resource) => resource.name === mapping.logicalName);
    const filters = ((deployed?.inputs.filterCriteria?.filters ?? []) as { pattern: string }[]).map(
        (filter) => JSON.parse(filter.pattern) as Record<string, unknown>,
    );
    return { fn, mapping, streamArn: table.streamArn, filters, busName: fn.environment[EMAIL_ENV.statusEventBus] ?? "email-status" };
}

/**
 * @example
 * const pipeline = await startLocalPipeline({ services: [...defaultServices()] });
 */
export function emailStatusNotifyService(): LocalService {
    return {
        name: "email-status-notify",
        async start(context: LocalContext): Promise<RunningStatusNotifications> {
            const located = locateStatusNotifications(context);
            const bus = new LocalStatusBus(located?.busName ?? "email-status", { region: context.region });
            if (!located) return { name: "email-status-notify", ready: {}, bus, stop: async () => {} };
            bus.subscribe({}, (event) =>
                context.functionLog(located.fn.name, `${event.detail.emailId as string} ${event.detail.status as string}\n`),
            );
            const notify = createEmailStatusNotifier({
                eventBusName: bus.name,
                publish: bus.publish,
                logger: new Logger({ serviceName: "email-status-notify", logLevel: "WARN" }),
                // EMF goes to stdout, which is the pipeline's own output here: counts are not kept locally.
                metrics: { addMetric: () => undefined, publishStoredMetrics: () => undefined } as unknown as Metrics,
            });
            // Lambda applies the mapping's filters before invoking: a record is kept when any filter matches.
            const kept = (record: DynamoDBRecord) =>
                located.filters.length === 0 || located.filters.some((filter) => matchesPattern(filter, record as never));
            const reader = new DynamoDbStreamReader({
                streams: context.clients.streams,
                streamArn: located.streamArn,
                region: context.region,
                batchSize: located.mapping.batchSize,
                handler: async (event) => {
                    const records = event.Records.filter(kept);
                    return records.length > 0 ? notify({ Records: records }) : undefined;
                },
            });
            reader.on("read-error", (error: Error) => context.log(`[status-notify] stream read failed, retrying: ${error.name}`));
            reader.start();
            return {
                name: "email-status-notify",
                ready: { emailStatusBusName: bus.name },
                bus,
                reader,
                stop: () => reader.stop(),
            };
        },
    };
}
