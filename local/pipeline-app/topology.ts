/**
 * Reads the resources of a mock deployment (local/offline/mock-deployment.ts) into the
 * plain settings the emulators need: queues with their attributes and redrive,
 * tables with keys, stream view type and TTL, functions with their environment,
 * timeout and code archive, and event source mappings. Pure: no emulator, no I/O.
 *
 * This is what makes the local pipeline the stack's twin rather than a copy: every
 * setting comes from what the Pulumi program registered for the chosen stack.
 */
import { EVENT_PROCESSOR_ENV } from "../../contracts/event-pipeline";
import { stackLayerCodes } from "../offline/lambda-artifact";
import type { MockDeployment, MockedResource } from "../offline/mock-deployment";

export const RESOURCE_TYPES = {
    queue: "aws:sqs/queue:Queue",
    redrivePolicy: "aws:sqs/redrivePolicy:RedrivePolicy",
    table: "aws:dynamodb/table:Table",
    function: "aws:lambda/function:Function",
    eventSourceMapping: "aws:lambda/eventSourceMapping:EventSourceMapping",
    role: "aws:iam/role:Role",
} as const;

/** The tag ProducerRoles puts on each producer's role (its value is the producer's name). */
export const PRODUCER_ROLE_TAG = "event-ingestion:producer";

export interface QueueSpec {
    /** Pulumi logical name */
    logicalName: string;
    /** physical name (what the queue is called in AWS, and locally) */
    name: string;
    /** the ARN and URL the mock deployment gave it; rewritten to local ones at provisioning */
    deployedArn: string;
    deployedUrl: string;
    fifo: boolean;
    /** SQS API attributes (VisibilityTimeout, MessageRetentionPeriod, …), without RedrivePolicy. */
    attributes: Record<string, string>;
    redrive?: { deadLetterTargetArn: string; maxReceiveCount: number };
}

export interface TableSpec {
    logicalName: string;
    name: string;
    deployedArn: string;
    deployedStreamArn?: string;
    hashKey: string;
    rangeKey?: string;
    attributes: Array<{ name: string; type: "S" | "N" | "B" }>;
    stream?: { viewType: string };
    ttlAttribute?: string;
    globalSecondaryIndexes: Array<{
        name: string;
        hashKey: string;
        rangeKey?: string;
        projectionType: string;
        nonKeyAttributes?: string[];
    }>;
}

export interface FunctionSpec {
    logicalName: string;
    name: string;
    deployedArn: string;
    /** e.g. `__index.handler` */
    handler: string;
    runtime?: string;
    timeoutSeconds: number;
    memorySize: number;
    environment: Record<string, string>;
    /** the `code` input: a pulumi AssetArchive (CallbackFunction) */
    code: unknown;
    layers: string[];
    /** the `code` of the layers among `layers` that this stack builds (LayerVersion resources) */
    layerCodes?: unknown[];
    /** the unique id (AROA…) of the function's execution role, when the stack creates it */
    roleUniqueId?: string;
    /** the ARN of the queue that keeps the function's failed asynchronous invocations (`deadLetterConfig`), if any */
    deadLetterTargetArn?: string;
}

/** A producer of the stack config (`producers`): its role and the tenants it may write. */
export interface ProducerSpec {
    name: string;
    roleArn: string;
    /** what SQS reports as the principal part of its messages' SenderId */
    roleUniqueId: string;
    /** from the processor's PRODUCER_TENANTS, the map the deployed processor checks against */
    tenants: string[];
}

export interface EventSourceMappingSpec {
    logicalName: string;
    eventSourceArn: string;
    functionName: string;
    batchSize: number;
    maximumBatchingWindowInSeconds: number;
    reportBatchItemFailures: boolean;
    maximumConcurrency?: number;
    enabled: boolean;
    startingPosition?: string;
    /** where the mapping sends a batch it gave up on (a stream's `destinationConfig.onFailure`), if anywhere */
    onFailureDestinationArn?: string;
}

export interface LocalTopology {
    stack: string;
    region: string;
    queues: QueueSpec[];
    tables: TableSpec[];
    functions: FunctionSpec[];
    eventSourceMappings: EventSourceMappingSpec[];
    /** the stack's producers (empty in open mode) */
    producers: ProducerSpec[];
    /** Settings the emulators do not reproduce (KMS, IAM, alarms…), named so nobody mistakes local for identical. */
    notEmulated: string[];
    outputs: Record<string, unknown>;
}

/** Pulumi input name → SQS API attribute name, for the attributes fauxqs understands. */
const QUEUE_ATTRIBUTES: Record<string, string> = {
    visibilityTimeoutSeconds: "VisibilityTimeout",
    messageRetentionSeconds: "MessageRetentionPeriod",
    maxMessageSize: "MaximumMessageSize",
    delaySeconds: "DelaySeconds",
    receiveWaitTimeSeconds: "ReceiveMessageWaitTimeSeconds",
    fifoQueue: "FifoQueue",
    contentBasedDeduplication: "ContentBasedDeduplication",
    deduplicationScope: "DeduplicationScope",
    fifoThroughputLimit: "FifoThroughputLimit",
};

/** The fields of a table's `globalSecondaryIndexes` input the emulator needs (`keySchemas`, or the deprecated `hashKey`/`rangeKey`). */
interface GlobalSecondaryIndexInput {
    name: string;
    hashKey?: string;
    rangeKey?: string;
    keySchemas?: Array<{ attributeName: string; keyType: string }>;
    projectionType?: string;
    nonKeyAttributes?: string[];
}

function indexKey(index: GlobalSecondaryIndexInput, keyType: "HASH" | "RANGE"): string | undefined {
    return index.keySchemas?.find((key) => key.keyType === keyType)?.attributeName ?? (keyType === "HASH" ? index.hashKey : index.rangeKey);
}

export class TopologyError extends Error {
    constructor(problems: string[]) {
        super(`The deployment cannot be run locally:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
        this.name = "TopologyError";
    }
}

function parseRedrive(raw: unknown, where: string, problems: string[]): QueueSpec["redrive"] {
    if (raw === undefined || raw === null || raw === "") return undefined;
    try {
        const policy = typeof raw === "string" ? JSON.parse(raw) : raw;
        const maxReceiveCount = Number(policy.maxReceiveCount);
        if (typeof policy.deadLetterTargetArn !== "string" || !Number.isInteger(maxReceiveCount) || maxReceiveCount < 1) {
            problems.push(
                `${where}: redrive policy needs deadLetterTargetArn and a positive maxReceiveCount, got ${JSON.stringify(policy)}`,
            );
            return undefined;
        }
        return { deadLetterTargetArn: policy.deadLetterTargetArn, maxReceiveCount };
    } catch {
        problems.push(`${where}: redrive policy is not JSON: ${String(raw).slice(0, 100)}`);
        return undefined;
    }
}

function queueSpec(resource: MockedResource, problems: string[]): QueueSpec {
    const { inputs, state } = resource;
    const attributes: Record<string, string> = {};
    for (const [input, attribute] of Object.entries(QUEUE_ATTRIBUTES)) {
        if (inputs[input] !== undefined && inputs[input] !== null) attributes[attribute] = String(inputs[input]);
    }
    return {
        logicalName: resource.name,
        name: state.name,
        deployedArn: state.arn,
        deployedUrl: state.url,
        fifo: Boolean(inputs.fifoQueue),
        attributes,
        redrive: parseRedrive(inputs.redrivePolicy, `queue ${resource.name}`, problems),
    };
}

function tableSpec(resource: MockedResource, problems: string[]): TableSpec {
    const { inputs, state } = resource;
    if (!inputs.hashKey) problems.push(`table ${resource.name}: no hashKey`);
    return {
        logicalName: resource.name,
        name: state.name,
        deployedArn: state.arn,
        deployedStreamArn: state.streamArn,
        hashKey: inputs.hashKey,
        rangeKey: inputs.rangeKey,
        attributes: (inputs.attributes ?? []).map((attribute: { name: string; type: "S" | "N" | "B" }) => ({
            name: attribute.name,
            type: attribute.type,
        })),
        stream: inputs.streamEnabled ? { viewType: inputs.streamViewType ?? "NEW_AND_OLD_IMAGES" } : undefined,
        ttlAttribute: inputs.ttl?.enabled === false ? undefined : inputs.ttl?.attributeName,
        globalSecondaryIndexes: (inputs.globalSecondaryIndexes ?? []).map((index: GlobalSecondaryIndexInput) => {
            if (!indexKey(index, "HASH")) problems.push(`table ${resource.name}: index ${index.name} has no HASH key`);
            return {
                name: index.name,
                hashKey: indexKey(index, "HASH") ?? "",
                rangeKey: indexKey(index, "RANGE"),
                projectionType: index.projectionType ?? "ALL",
                nonKeyAttributes: index.nonKeyAttributes,
            };
        }),
    };
}

function functionSpec(resource: MockedResource): FunctionSpec {
    const { inputs, state } = resource;
    const environment: Record<string, string> = {};
    for (const [key, value] of Object.entries(inputs.environment?.variables ?? {})) environment[key] = String(value);
    return {
        logicalName: resource.name,
        name: state.name,
        deployedArn: state.arn,
        handler: inputs.handler ?? "__index.handler",
        runtime: inputs.runtime,
        timeoutSeconds: Number(inputs.timeout ?? 3),
        memorySize: Number(inputs.memorySize ?? 128),
        environment,
        code: inputs.code,
        layers: inputs.layers ?? [],
        layerCodes: [],
    };
}

function mappingSpec(resource: MockedResource): EventSourceMappingSpec {
    const { inputs } = resource;
    return {
        logicalName: resource.name,
        eventSourceArn: inputs.eventSourceArn,
        functionName: inputs.functionName,
        batchSize: Number(inputs.batchSize ?? 10),
        maximumBatchingWindowInSeconds: Number(inputs.maximumBatchingWindowInSeconds ?? 0),
        reportBatchItemFailures: (inputs.functionResponseTypes ?? []).includes("ReportBatchItemFailures"),
        maximumConcurrency: inputs.scalingConfig?.maximumConcurrency,
        enabled: inputs.enabled !== false,
        startingPosition: inputs.startingPosition,
        onFailureDestinationArn: inputs.destinationConfig?.onFailure?.destinationArn,
    };
}

/**
 * @example
 * const topology = localTopology(await deployUnderMocks({ stack: "localstack" }));
 * topology.queues.map((q) => q.attributes.VisibilityTimeout);
 */
export function localTopology(deployment: MockDeployment): LocalTopology {
    const problems: string[] = [];
    const of = (type: string) => deployment.resources.filter((resource) => resource.type === type);
    const queues = of(RESOURCE_TYPES.queue).map((resource) => queueSpec(resource, problems));
    // A redrive policy may also be its own resource (aws.sqs.RedrivePolicy), keyed by the queue URL.
    for (const resource of of(RESOURCE_TYPES.redrivePolicy)) {
        const queue = queues.find((candidate) => candidate.deployedUrl === resource.inputs.queueUrl);
        if (!queue) problems.push(`redrive policy ${resource.name} names an unknown queue ${resource.inputs.queueUrl}`);
        else queue.redrive = parseRedrive(resource.inputs.redrivePolicy, `redrive policy ${resource.name}`, problems);
    }
    for (const queue of queues) {
        if (queue.redrive && !queues.some((candidate) => candidate.deployedArn === queue.redrive!.deadLetterTargetArn)) {
            problems.push(
                `queue ${queue.logicalName}: dead-letter target ${queue.redrive.deadLetterTargetArn} is not a queue of this stack`,
            );
        }
    }
    const tables = of(RESOURCE_TYPES.table).map((resource) => tableSpec(resource, problems));
    const roles = of(RESOURCE_TYPES.role);
    const functions = of(RESOURCE_TYPES.function).map((resource) => ({
        ...functionSpec(resource),
        layerCodes: stackLayerCodes(deployment, resource.inputs.layers),
        roleUniqueId: roles.find((role) => role.state.arn === resource.inputs.role)?.state.uniqueId as string | undefined,
        deadLetterTargetArn: resource.inputs.deadLetterConfig?.targetArn as string | undefined,
    }));
    const producers = producerSpecs(roles, functions, problems);
    const eventSourceMappings = of(RESOURCE_TYPES.eventSourceMapping).map(mappingSpec);
    for (const mapping of eventSourceMappings) {
        if (!functions.some((spec) => spec.name === mapping.functionName || spec.deployedArn === mapping.functionName)) {
            problems.push(`event source mapping ${mapping.logicalName}: function ${mapping.functionName} is not in this stack`);
        }
    }
    if (problems.length) throw new TopologyError(problems);

    const notEmulated = new Set<string>();
    for (const resource of deployment.resources) {
        if (resource.type === RESOURCE_TYPES.queue && (resource.inputs.kmsMasterKeyId || resource.inputs.sqsManagedSseEnabled))
            notEmulated.add("queue encryption (SSE-KMS)");
        if (resource.type === RESOURCE_TYPES.table && resource.inputs.serverSideEncryption?.enabled)
            notEmulated.add("table encryption (SSE-KMS)");
        if (resource.type === RESOURCE_TYPES.table && resource.inputs.pointInTimeRecovery?.enabled)
            notEmulated.add("point-in-time recovery");
        if (resource.type === RESOURCE_TYPES.table && resource.inputs.ttl?.enabled)
            notEmulated.add("TTL expiry (DynamoDB Local records the TTL setting but never deletes items)");
        if (resource.type.startsWith("aws:iam/"))
            notEmulated.add(
                "IAM authorisation (the local SQS checks who signed a request, with producers configured, not what they may do)",
            );
        if (resource.type.startsWith("aws:cloudwatch/")) notEmulated.add("CloudWatch alarms, dashboards and log groups");
        if (resource.type.startsWith("aws:kms/")) notEmulated.add("KMS keys");
        if (resource.type.startsWith("aws:sns/")) notEmulated.add("SNS alarm topics");
        if (resource.type === "aws:sqs/queuePolicy:QueuePolicy") notEmulated.add("queue policies (TLS-only, producer grants)");
        if (resource.type === RESOURCE_TYPES.queue && !resource.inputs.fifoQueue) {
            notEmulated.add(
                "fair queues' processing-time-share rule (the local SQS detects noisy groups by their share of in-flight messages only)",
            );
        }
    }
    return {
        stack: deployment.stack,
        region: deployment.region,
        queues,
        tables,
        functions,
        eventSourceMappings,
        producers,
        notEmulated: [...notEmulated].sort(),
        outputs: deployment.outputs,
    };
}

/**
 * The producers of the stack: each role ProducerRoles tagged with a producer name, with
 * the tenants the processor's PRODUCER_TENANTS grants its unique id.
 */
function producerSpecs(roles: readonly MockedResource[], functions: readonly FunctionSpec[], problems: string[]): ProducerSpec[] {
    const tagged = roles.filter((role) => typeof role.inputs.tags?.[PRODUCER_ROLE_TAG] === "string");
    if (tagged.length === 0) return [];
    const mapText = functions.map((fn) => fn.environment[EVENT_PROCESSOR_ENV.producerTenants]).find((text) => text !== undefined);
    let tenantMap: Record<string, string[]> = {};
    try {
        tenantMap = JSON.parse(mapText ?? "{}");
    } catch {
        problems.push(`${EVENT_PROCESSOR_ENV.producerTenants} is not JSON`);
    }
    return tagged.map((role) => ({
        name: String(role.inputs.tags[PRODUCER_ROLE_TAG]),
        roleArn: String(role.state.arn),
        roleUniqueId: String(role.state.uniqueId),
        tenants: [...(tenantMap[String(role.state.uniqueId)] ?? [])],
    }));
}

/**
 * The function registered under `logicalName` (`FUNCTION_LOGICAL_NAMES`), or undefined when the stack has none.
 *
 * @example
 * const processor = functionByLogicalName(topology, FUNCTION_LOGICAL_NAMES.eventProcessor);
 */
export function functionByLogicalName(topology: Pick<LocalTopology, "functions">, logicalName: string): FunctionSpec | undefined {
    return topology.functions.find((fn) => fn.logicalName === logicalName);
}

/** Queues ordered so that every dead-letter target comes before the queues that redrive to it. */
export function queuesInCreationOrder(queues: readonly QueueSpec[]): QueueSpec[] {
    const ordered: QueueSpec[] = [];
    const visit = (queue: QueueSpec, path: string[]) => {
        if (ordered.includes(queue)) return;
        if (path.includes(queue.logicalName)) throw new TopologyError([`redrive cycle: ${[...path, queue.logicalName].join(" -> ")}`]);
        const target = queue.redrive && queues.find((candidate) => candidate.deployedArn === queue.redrive!.deadLetterTargetArn);
        if (target) visit(target, [...path, queue.logicalName]);
        ordered.push(queue);
    };
    for (const queue of queues) visit(queue, []);
    return ordered;
}
