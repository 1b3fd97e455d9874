/**
 * The plug-in contract of the local pipeline. The pipeline owns the emulators,
 * the mock deployment and provisioning; each service (the event processor, the
 * stream Sender, later the email service) starts on top of them, contributes
 * fields to the `LOCAL_PIPELINE_READY` line and stops in reverse order.
 */
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { DynamoDBStreamsClient } from "@aws-sdk/client-dynamodb-streams";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { Emulator } from "../../offline/emulators";
import type { MockDeployment } from "../../offline/mock-deployment";
import type { ProvisionedResources } from "../provision";
import type { LocalTopology } from "../topology";

export interface LocalContext {
    stack: string;
    region: string;
    emulators: { sqs: Emulator; dynamodb: Emulator };
    /** SDK clients pointed at the emulators (share them; do not destroy them). */
    clients: { sqs: SQSClient; dynamodb: DynamoDBClient; streams: DynamoDBStreamsClient };
    deployment: MockDeployment;
    topology: LocalTopology;
    resources: ProvisionedResources;
    /**
     * Environment variables that point any AWS SDK or the AWS CLI at the emulators
     * (AWS_REGION, AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL_DYNAMODB, local credentials).
     */
    awsEnvironment: Record<string, string>;
    /**
     * The credentials a function sends with (its execution role's, on a stack with producers, so
     * the local SQS reports the role's SenderId), or undefined: then `awsEnvironment`'s.
     */
    functionCredentials?(functionName: string): { accessKeyId: string; secretAccessKey: string } | undefined;
    /** Scratch directory removed when the pipeline stops. */
    workDir: string;
    /** Upper bound for concurrent local execution environments per function (a laptop is not a region). */
    maxLocalConcurrency: number;
    log(line: string): void;
    /** A function's own output (its structured logs): to a log file, or to stderr with --verbose. */
    functionLog(functionName: string, text: string): void;
    /** Report an unrecoverable failure; the pipeline stops everything and exits non-zero. */
    fatal(error: Error): void;
}

/** What a service's part of `npm start` reports; printed as its own table. */
export interface DemoReport {
    title: string;
    rows: Array<[label: string, value: string]>;
    /** false makes `npm start` exit 1 */
    accounted: boolean;
    /** why not, one line each */
    unaccounted: string[];
}

export interface RunningService {
    name: string;
    /** Merged into the READY line's JSON (keys must not collide with another service's). */
    ready: Record<string, unknown>;
    stop(): Promise<void>;
    /**
     * Optional: `npm start` calls it after the event processor's demo, to send this
     * service's own sample traffic and prove where it ended up.
     */
    demo?(options: { deadline: number; progress(line: string): void }): Promise<DemoReport>;
}

/**
 * @example
 * const emailService: LocalService = { name: "email", start: async (ctx) => ({ name: "email", ready: { emailApiUrl }, stop }) };
 * await startLocalPipeline({ services: [eventProcessorService(), emailService] });
 */
export interface LocalService {
    name: string;
    start(context: LocalContext): Promise<RunningService>;
}
