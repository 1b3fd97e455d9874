/**
 * Creates a {@link LocalTopology}'s queues and tables on the emulators (fauxqs,
 * DynamoDB Local) and returns where they are, plus the map from deployed
 * identifiers (the mock deployment's ARNs and URLs) to local ones, so function
 * environments and event source mappings can be pointed at the emulators.
 */
import {
    CreateTableCommand,
    CreateTableCommandInput,
    DescribeTableCommand,
    DynamoDBClient,
    UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { LocalTopology, QueueSpec, queuesInCreationOrder, TableSpec } from "./topology";

export interface ProvisionedQueue {
    spec: QueueSpec;
    url: string;
    arn: string;
}

export interface ProvisionedTable {
    spec: TableSpec;
    name: string;
    arn: string;
    streamArn?: string;
}

export interface ProvisionedResources {
    queues: ProvisionedQueue[];
    tables: ProvisionedTable[];
    /** deployed identifier → local identifier (queue URLs and ARNs, table and stream ARNs) */
    rewrites: Map<string, string>;
}

/** Replaces every deployed identifier inside `value` with its local counterpart. */
export function rewriteValue(value: string, rewrites: ReadonlyMap<string, string>): string {
    let result = value;
    // Longest first, so a stream ARN is not half-rewritten by its table's ARN.
    for (const [from, to] of [...rewrites].sort((left, right) => right[0].length - left[0].length)) {
        if (from) result = result.split(from).join(to);
    }
    return result;
}

async function createQueue(sqs: SQSClient, spec: QueueSpec, rewrites: Map<string, string>): Promise<ProvisionedQueue> {
    const attributes: Record<string, string> = { ...spec.attributes };
    if (spec.redrive) {
        const target = rewrites.get(spec.redrive.deadLetterTargetArn);
        if (!target) throw new Error(`dead-letter queue ${spec.redrive.deadLetterTargetArn} of ${spec.logicalName} was not created first`);
        attributes.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: target, maxReceiveCount: spec.redrive.maxReceiveCount });
    }
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: spec.name, Attributes: attributes }));
    const described = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }));
    const queue = { spec, url: QueueUrl!, arn: described.Attributes!.QueueArn! };
    rewrites.set(spec.deployedArn, queue.arn);
    rewrites.set(spec.deployedUrl, queue.url);
    return queue;
}

/** The CreateTable request for a table spec (exported for tests). */
export function createTableInput(spec: TableSpec): CreateTableCommandInput {
    return {
        TableName: spec.name,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: spec.attributes.map((attribute) => ({ AttributeName: attribute.name, AttributeType: attribute.type })),
        KeySchema: [
            { AttributeName: spec.hashKey, KeyType: "HASH" },
            ...(spec.rangeKey ? [{ AttributeName: spec.rangeKey, KeyType: "RANGE" as const }] : []),
        ],
        StreamSpecification: spec.stream ? { StreamEnabled: true, StreamViewType: spec.stream.viewType as "NEW_IMAGE" } : undefined,
        GlobalSecondaryIndexes: spec.globalSecondaryIndexes.length
            ? spec.globalSecondaryIndexes.map((index) => ({
                  IndexName: index.name,
                  KeySchema: [
                      { AttributeName: index.hashKey, KeyType: "HASH" as const },
                      ...(index.rangeKey ? [{ AttributeName: index.rangeKey, KeyType: "RANGE" as const }] : []),
                  ],
                  Projection: { ProjectionType: index.projectionType as "ALL", NonKeyAttributes: index.nonKeyAttributes },
              }))
            : undefined,
    };
}

async function createTable(dynamodb: DynamoDBClient, spec: TableSpec, rewrites: Map<string, string>): Promise<ProvisionedTable> {
    let description;
    try {
        description = (await dynamodb.send(new CreateTableCommand(createTableInput(spec)))).TableDescription;
    } catch (error) {
        // A file-backed DynamoDB Local that restarted keeps its tables.
        if ((error as Error).name !== "ResourceInUseException") throw error;
        description = (await dynamodb.send(new DescribeTableCommand({ TableName: spec.name }))).Table;
    }
    if (spec.ttlAttribute) {
        await dynamodb
            .send(
                new UpdateTimeToLiveCommand({
                    TableName: spec.name,
                    TimeToLiveSpecification: { Enabled: true, AttributeName: spec.ttlAttribute },
                }),
            )
            .catch((error: Error) => {
                if (!/already enabled/i.test(error.message)) throw error;
            });
    }
    const table = { spec, name: spec.name, arn: description!.TableArn!, streamArn: description!.LatestStreamArn };
    rewrites.set(spec.deployedArn, table.arn);
    if (spec.deployedStreamArn && table.streamArn) rewrites.set(spec.deployedStreamArn, table.streamArn);
    return table;
}

/**
 * @example
 * const resources = await provision(topology, { sqs, dynamodb });
 * resources.queues.find((q) => q.spec.logicalName === "events")!.url;
 */
export async function provision(
    topology: LocalTopology,
    clients: { sqs: SQSClient; dynamodb: DynamoDBClient },
): Promise<ProvisionedResources> {
    const rewrites = new Map<string, string>();
    const queues: ProvisionedQueue[] = [];
    for (const spec of queuesInCreationOrder(topology.queues)) queues.push(await createQueue(clients.sqs, spec, rewrites));
    const tables: ProvisionedTable[] = [];
    for (const spec of topology.tables) tables.push(await createTable(clients.dynamodb, spec, rewrites));
    return { queues, tables, rewrites };
}
