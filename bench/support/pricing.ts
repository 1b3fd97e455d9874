/**
 * The cost model of the event processor: AWS list prices (us-east-1, on-demand,
 * without free tiers or volume tiers) with their sources, in one place, and a
 * pure function that prices one million valid events from measured per-event
 * counts and the stack's own settings. `bench/cost.ts` feeds it; tests pin it.
 *
 * Everything the handler does per event is measured (DynamoDB requests and write
 * units, SQS requests, log and EMF bytes, CPU); what only AWS does (the event
 * source mapping's receives and deletes, platform log lines, X-Ray sampling, KMS
 * data keys) is modelled from AWS's documented behaviour, and named as such.
 */

/** One list price and where it comes from. */
export interface Price {
    readonly usd: number;
    readonly per: string;
    /** The AWS pricing page (title and address) the figure is taken from. */
    readonly source: string;
}

const DYNAMODB_PRICING = "Amazon DynamoDB pricing for on-demand capacity, https://aws.amazon.com/dynamodb/pricing/on-demand/";
const SQS_PRICING = "Amazon SQS pricing, https://aws.amazon.com/sqs/pricing/";
const LAMBDA_PRICING = "AWS Lambda pricing, https://aws.amazon.com/lambda/pricing/";
const CLOUDWATCH_PRICING = "Amazon CloudWatch pricing (Logs: Standard log class), https://aws.amazon.com/cloudwatch/pricing/";
const XRAY_PRICING = "AWS X-Ray pricing, https://aws.amazon.com/xray/pricing/";
const KMS_PRICING = "AWS Key Management Service pricing, https://aws.amazon.com/kms/pricing/";

/** us-east-1 list prices the model uses. */
export const PRICES = {
    dynamodbWriteRequestUnit: { usd: 0.625 / 1e6, per: "write request unit (on-demand; 1 KB per unit)", source: DYNAMODB_PRICING },
    dynamodbReadRequestUnit: { usd: 0.125 / 1e6, per: "read request unit (on-demand; 4 KB strongly consistent)", source: DYNAMODB_PRICING },
    sqsStandardRequest: {
        usd: 0.4 / 1e6,
        per: "standard queue request (each 64 KB chunk of a payload is one request)",
        source: SQS_PRICING,
    },
    sqsFifoRequest: { usd: 0.5 / 1e6, per: "FIFO queue request (each 64 KB chunk of a payload is one request)", source: SQS_PRICING },
    lambdaRequest: { usd: 0.2 / 1e6, per: "invocation", source: LAMBDA_PRICING },
    lambdaArm64GbSecond: { usd: 0.0000133334, per: "GB-second, arm64 (first 7.5 billion GB-s a month)", source: LAMBDA_PRICING },
    lambdaX8664GbSecond: { usd: 0.0000166667, per: "GB-second, x86_64 (first 6 billion GB-s a month)", source: LAMBDA_PRICING },
    logsIngestionGb: { usd: 0.5, per: "GB of log data ingested (Standard class)", source: CLOUDWATCH_PRICING },
    logsStorageGbMonth: {
        usd: 0.03,
        per: "GB-month of log data stored (charged compressed; the model takes it uncompressed, an upper bound)",
        source: CLOUDWATCH_PRICING,
    },
    dynamodbStorageGbMonth: {
        usd: 0.25,
        per: "GB-month of table or index storage (Standard table class, after the first 25 GB)",
        source: DYNAMODB_PRICING,
    },
    xrayTraceRecorded: { usd: 5 / 1e6, per: "trace recorded", source: XRAY_PRICING },
    kmsRequest: { usd: 0.03 / 10_000, per: "KMS API request (symmetric)", source: KMS_PRICING },
} as const satisfies Record<string, Price>;

/**
 * Lambda's own lines per invocation in JSON log format, shaped as "Lambda Telemetry
 * API Event schema reference" documents `platform.start` and `platform.report`
 * (with active tracing; ids at their real lengths). Lambda writes them to the
 * function's log group, where they are ingested like the function's own lines.
 */
export const PLATFORM_LOG_LINES = [
    '{"time":"2026-12-01T16:00:00.000Z","type":"platform.start","record":{"requestId":"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0","version":"$LATEST",' +
        '"tracing":{"spanId":"0123456789abcdef","type":"X-Amzn-Trace-Id","value":"Root=1-6760a1b2-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=1"}}}',
    '{"time":"2026-12-01T16:00:00.030Z","type":"platform.report","record":{"requestId":"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",' +
        '"metrics":{"durationMs":28.51,"billedDurationMs":29,"memorySizeMB":256,"maxMemoryUsedMB":92},' +
        '"tracing":{"spanId":"0123456789abcdef","type":"X-Amzn-Trace-Id","value":"Root=1-6760a1b2-0123456789abcdef01234567;Parent=0123456789abcdef;Sampled=1"},"status":"success"}}',
] as const;

/**
 * What AWS does that the bench cannot observe, as documented. Assumptions, not
 * measurements: each names the page it follows.
 */
export const MODEL_ASSUMPTIONS = {
    /** Producers send with SendMessageBatch, 10 events a request (docs/producers.md asks for it). */
    producerBatchSize: 10,
    /**
     * Lambda gives a function CPU in proportion to its memory; 1,769 MB is one vCPU
     * ("Configure Lambda function memory", AWS Lambda Developer Guide).
     */
    megabytesPerVcpu: 1769,
    /**
     * Wall time of one batch's concurrent conditional PutItems on DynamoDB (single-digit
     * milliseconds, "What is Amazon DynamoDB?"); the function is billed for it while it waits.
     */
    storeRoundTripMs: 5,
    /** Bytes of {@link PLATFORM_LOG_LINES}, one newline each. */
    platformLogBytesPerInvocation: PLATFORM_LOG_LINES.reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0),
    /**
     * X-Ray's default sampling rule records the first request each second and 5% of the
     * rest ("Configuring sampling rules", AWS X-Ray Developer Guide); at a steady rate of
     * many invocations a second that is about 5% of invocations.
     */
    xraySampledFraction: 0.05,
    /**
     * KMS requests per data-key reuse period for the queue (the producers' GenerateDataKey
     * and the poller's Decrypt: "Encryption at rest in Amazon SQS", key reuse period);
     * DynamoDB and CloudWatch Logs cache their keys similarly. Spread over the events of a period.
     */
    kmsRequestsPerReusePeriod: 2,
    /** Sustained event rate that spreads the per-period KMS requests (events per second). */
    eventsPerSecond: 100,
    /** Bytes per GB in AWS's pricing (binary gigabytes, as in the CloudWatch bill). */
    bytesPerGb: 1024 ** 3,
    /**
     * DynamoDB adds 100 bytes of overhead to every index entry, on top of the table's key, the index's
     * key and the projected attributes ("Storage considerations for global secondary indexes",
     * Amazon DynamoDB Developer Guide).
     */
    indexEntryOverheadBytes: 100,
} as const;

/** The stack settings that change the price of an event. */
export interface StackCostSettings {
    memoryMb: number;
    architecture: "arm64" | "x86_64";
    batchSize: number;
    queueFifo: boolean;
    kmsDataKeyReusePeriodSeconds: number;
    logRetentionDays: number;
    tracingActive: boolean;
}

/** Per valid event, measured by the handler bench. */
export interface MeasuredCounts {
    dynamodbRequestsPerEvent: number;
    writeUnitsPerEvent: number;
    readUnitsPerEvent: number;
    /** The handler's own SQS calls (DLQ sends); the poller's receives and deletes are modelled. */
    sqsRequestsPerEvent: number;
    /** Application log bytes the handler writes per event (stdout and stderr, EMF excluded). */
    logBytesPerEvent: number;
    /** EMF (metrics) bytes the handler writes per event. */
    emfBytesPerEvent: number;
    /** Node CPU per event, microseconds, as measured on this machine. */
    cpuMicrosPerEvent: number;
}

export interface CostLine {
    item: string;
    /** USD per million valid events. */
    usdPerMillion: number;
    /** Part of the floor (the unavoidable minimum). */
    floor: boolean;
    /** How the quantity was obtained. */
    basis: string;
}

export interface CostBreakdown {
    lines: CostLine[];
    costPerMillionUsd: number;
    floorPerMillionUsd: number;
    costRatio: number;
}

const MILLION = 1e6;

/**
 * Prices one million valid events.
 * The floor is one DynamoDB write unit plus the event's share of the SQS send,
 * receive and delete: what any design storing each event once must pay.
 *
 * @example
 * const { costPerMillionUsd, costRatio } = priceMillionEvents(counts, settings);
 */
export function priceMillionEvents(counts: MeasuredCounts, stack: StackCostSettings, assumptions = MODEL_ASSUMPTIONS): CostBreakdown {
    const sqsPrice = stack.queueFifo ? PRICES.sqsFifoRequest.usd : PRICES.sqsStandardRequest.usd;
    const invocations = MILLION / stack.batchSize;
    const gb = (bytesPerEvent: number) => (bytesPerEvent * MILLION) / assumptions.bytesPerGb;
    const vcpuShare = Math.min(1, stack.memoryMb / assumptions.megabytesPerVcpu);
    // Billed per invocation in whole milliseconds: CPU at the function's share of a vCPU plus the store's round trip.
    const billedMs = Math.ceil((counts.cpuMicrosPerEvent * stack.batchSize) / 1000 / vcpuShare + assumptions.storeRoundTripMs);
    const gbSecondPrice = stack.architecture === "arm64" ? PRICES.lambdaArm64GbSecond.usd : PRICES.lambdaX8664GbSecond.usd;
    const platformBytesPerEvent = assumptions.platformLogBytesPerInvocation / stack.batchSize;
    const loggedBytesPerEvent = counts.logBytesPerEvent + counts.emfBytesPerEvent + platformBytesPerEvent;
    const eventsPerReusePeriod = assumptions.eventsPerSecond * stack.kmsDataKeyReusePeriodSeconds;
    const lines: CostLine[] = [
        {
            item: "DynamoDB write units",
            usdPerMillion: Math.min(1, counts.writeUnitsPerEvent) * MILLION * PRICES.dynamodbWriteRequestUnit.usd,
            floor: true,
            basis: "one write unit per event (floor)",
        },
        {
            item: "DynamoDB write units above one per event",
            usdPerMillion: Math.max(0, counts.writeUnitsPerEvent - 1) * MILLION * PRICES.dynamodbWriteRequestUnit.usd,
            floor: false,
            basis: `measured: ${counts.writeUnitsPerEvent.toFixed(3)} write units per event`,
        },
        {
            item: "DynamoDB read units",
            usdPerMillion: counts.readUnitsPerEvent * MILLION * PRICES.dynamodbReadRequestUnit.usd,
            floor: false,
            basis: `measured: ${counts.readUnitsPerEvent.toFixed(3)} read units per event`,
        },
        {
            item: "SQS send, receive, delete",
            usdPerMillion: (1 / assumptions.producerBatchSize + 2 / stack.batchSize) * MILLION * sqsPrice,
            floor: true,
            basis: `modelled: send in batches of ${assumptions.producerBatchSize}, receive and delete in batches of ${stack.batchSize} (${stack.queueFifo ? "FIFO" : "standard"} queue)`,
        },
        {
            item: "SQS requests by the handler (DLQ)",
            usdPerMillion: counts.sqsRequestsPerEvent * MILLION * sqsPrice,
            floor: false,
            basis: `measured: ${counts.sqsRequestsPerEvent.toFixed(3)} per event`,
        },
        {
            item: "Lambda requests",
            usdPerMillion: invocations * PRICES.lambdaRequest.usd,
            floor: false,
            basis: `one invocation per ${stack.batchSize} events`,
        },
        {
            item: "Lambda duration",
            usdPerMillion: invocations * (billedMs / 1000) * (stack.memoryMb / 1024) * gbSecondPrice,
            floor: false,
            basis: `${billedMs} ms billed per invocation: measured CPU ${counts.cpuMicrosPerEvent.toFixed(1)} us/event at ${vcpuShare.toFixed(3)} vCPU (${stack.memoryMb} MB, ${stack.architecture}) + ${assumptions.storeRoundTripMs} ms store round trip`,
        },
        {
            item: "CloudWatch Logs ingestion: application logs",
            usdPerMillion: gb(counts.logBytesPerEvent) * PRICES.logsIngestionGb.usd,
            floor: false,
            basis: `measured: ${counts.logBytesPerEvent.toFixed(1)} bytes per event`,
        },
        {
            item: "CloudWatch Logs ingestion: EMF metrics",
            usdPerMillion: gb(counts.emfBytesPerEvent) * PRICES.logsIngestionGb.usd,
            floor: false,
            basis: `measured: ${counts.emfBytesPerEvent.toFixed(1)} bytes per event`,
        },
        {
            item: "CloudWatch Logs ingestion: Lambda platform lines",
            usdPerMillion: gb(platformBytesPerEvent) * PRICES.logsIngestionGb.usd,
            floor: false,
            basis: `modelled: ${assumptions.platformLogBytesPerInvocation} bytes per invocation`,
        },
        {
            item: "CloudWatch Logs storage",
            usdPerMillion: gb(loggedBytesPerEvent) * (stack.logRetentionDays / 30) * PRICES.logsStorageGbMonth.usd,
            floor: false,
            basis: `${stack.logRetentionDays} days retention, uncompressed (upper bound)`,
        },
        {
            item: "X-Ray traces",
            usdPerMillion: stack.tracingActive ? invocations * assumptions.xraySampledFraction * PRICES.xrayTraceRecorded.usd : 0,
            floor: false,
            basis: stack.tracingActive
                ? `modelled: ${assumptions.xraySampledFraction * 100}% of invocations sampled (default rule)`
                : "tracing off",
        },
        {
            item: "KMS (data keys)",
            usdPerMillion: (MILLION / eventsPerReusePeriod) * assumptions.kmsRequestsPerReusePeriod * PRICES.kmsRequest.usd,
            floor: false,
            basis: `modelled: ${assumptions.kmsRequestsPerReusePeriod} requests per ${stack.kmsDataKeyReusePeriodSeconds} s reuse period at ${assumptions.eventsPerSecond} events/s`,
        },
    ];
    const total = lines.reduce((sum, line) => sum + line.usdPerMillion, 0);
    const floor = lines.filter((line) => line.floor).reduce((sum, line) => sum + line.usdPerMillion, 0);
    return { lines, costPerMillionUsd: total, floorPerMillionUsd: floor, costRatio: total / floor };
}

/** The arrival index's per-event counts, measured on DynamoDB Local with ReturnConsumedCapacity=INDEXES. */
export interface ArrivalIndexCounts {
    /** Write units the index consumed per stored event (1 for a KEYS_ONLY entry under 1 KB). */
    indexWriteUnitsPerEvent: number;
    /** Bytes of one index entry's attributes (clientId, eventId, receivedAt), without the overhead. */
    indexEntryAttributeBytes: number;
}

/**
 * What the opt-in arrival index (stack setting `eventPollingIndex`) adds to a million events:
 * its write units (measured) and one month of its storage (entry size + DynamoDB's overhead).
 * Reads are the Sender's, priced per poll in docs/sender.md.
 *
 * @example
 * const extra = priceArrivalIndex({ indexWriteUnitsPerEvent: 1, indexEntryAttributeBytes: 80 });
 */
export function priceArrivalIndex(counts: ArrivalIndexCounts, assumptions = MODEL_ASSUMPTIONS): CostLine[] {
    const entryBytes = counts.indexEntryAttributeBytes + assumptions.indexEntryOverheadBytes;
    return [
        {
            item: "DynamoDB arrival index write units",
            usdPerMillion: counts.indexWriteUnitsPerEvent * MILLION * PRICES.dynamodbWriteRequestUnit.usd,
            floor: false,
            basis: `measured: ${counts.indexWriteUnitsPerEvent.toFixed(3)} index write units per event (KEYS_ONLY entry)`,
        },
        {
            item: "DynamoDB arrival index storage, per month kept",
            usdPerMillion: ((entryBytes * MILLION) / assumptions.bytesPerGb) * PRICES.dynamodbStorageGbMonth.usd,
            floor: false,
            basis: `${entryBytes} bytes per entry (${counts.indexEntryAttributeBytes} measured + ${assumptions.indexEntryOverheadBytes} overhead)`,
        },
    ];
}
