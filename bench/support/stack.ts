/**
 * The stack the bench prices and measures: the `dev` stack deployed under Pulumi
 * mocks, once per process (the artifact and cost modes share it), and the
 * settings of its event processor read from what the program registered.
 */
import { deployUnderMocks, MockDeployment, MockedResource } from "../../local/offline/mock-deployment";
import type { StackCostSettings } from "./pricing";

let deployment: Promise<MockDeployment> | undefined;

/**
 * The `dev` stack under mocks, deployed once per process.
 *
 * @example
 * const stack = await benchDeployment();
 */
export function benchDeployment(): Promise<MockDeployment> {
    deployment ??= deployUnderMocks({ stack: "dev" });
    return deployment;
}

function one(found: MockedResource[], what: string): MockedResource {
    if (found.length !== 1) throw new Error(`the dev stack should register one ${what}, found ${found.length}`);
    return found[0];
}

/**
 * The event processor's settings that change the price of an event, as the program registered them.
 *
 * @example
 * const settings = processorCostSettings(await benchDeployment());
 */
export function processorCostSettings(stack: MockDeployment, functionName = "event-processor"): StackCostSettings {
    const fn = one(
        stack.resources.filter((r) => r.type === "aws:lambda/function:Function" && r.name === functionName),
        `function ${functionName}`,
    );
    const mapping = one(
        stack.resources.filter(
            (r) => r.type === "aws:lambda/eventSourceMapping:EventSourceMapping" && r.state.functionName === fn.state.arn,
        ),
        `event source mapping for ${functionName}`,
    );
    const queue = one(
        stack.resources.filter((r) => r.type === "aws:sqs/queue:Queue" && r.state.arn === mapping.state.eventSourceArn),
        `source queue for ${functionName}`,
    );
    const logGroup = one(
        stack.resources.filter((r) => r.type === "aws:cloudwatch/logGroup:LogGroup" && r.state.name === fn.state.loggingConfig?.logGroup),
        `log group for ${functionName}`,
    );
    const architecture = (fn.inputs.architectures ?? ["x86_64"])[0];
    if (architecture !== "arm64" && architecture !== "x86_64") throw new Error(`unknown architecture ${architecture}`);
    return {
        memoryMb: fn.inputs.memorySize ?? 128,
        architecture,
        batchSize: mapping.inputs.batchSize ?? 10,
        queueFifo: queue.inputs.fifoQueue === true,
        kmsDataKeyReusePeriodSeconds: queue.inputs.kmsDataKeyReusePeriodSeconds ?? 300,
        logRetentionDays: logGroup.inputs.retentionInDays,
        tracingActive: fn.inputs.tracingConfig?.mode === "Active",
    };
}
