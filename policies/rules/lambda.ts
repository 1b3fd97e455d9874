/** Lambda: supported runtime, explicit timeout and memory, active tracing, no public function URLs. */
import { resourcePolicy, T } from "../lib/define";
import { SUPPORTED_LAMBDA_RUNTIMES } from "../lib/catalog";
import { isUnknown, deferUntilKnown, asNumber } from "../lib/values";

const group = "lambda";

export const lambdaRuntime = resourcePolicy({
    name: "lambda-supported-runtime",
    description: `Lambda functions set an explicit runtime from the supported list (${SUPPORTED_LAMBDA_RUNTIMES.join(", ")}).`,
    level: "mandatory",
    group,
    appliesTo: [T.lambdaFunction],
    remediationSteps: "Set runtime explicitly, e.g. aws.lambda.Runtime.NodeJS22dX.",
    validate({ props, report, args }) {
        if (props.packageType === "Image") args.notApplicable("container image functions carry their runtime in the image");
        if (isUnknown(props.runtime)) deferUntilKnown(props.runtime);
        if (props.runtime === undefined || props.runtime === "") report("runtime is not set.");
        else if (args.opts.ignoreChanges?.includes("runtime")) {
            // aws.lambda.CallbackFunction fills in its default runtime and ignores changes to it
            // when none is given: the runtime is then neither explicit nor upgradable.
            report(
                `runtime ${props.runtime} is not explicit (changes to it are ignored, as CallbackFunction does for its default); set runtime explicitly.`,
            );
        } else if (!SUPPORTED_LAMBDA_RUNTIMES.includes(String(props.runtime))) {
            report(`runtime ${props.runtime} is not in the supported list (${SUPPORTED_LAMBDA_RUNTIMES.join(", ")}).`);
        }
    },
});

export const lambdaLimits = resourcePolicy({
    name: "lambda-explicit-timeout-and-memory",
    description: "Lambda functions set an explicit timeout and memory size.",
    level: "mandatory",
    group,
    appliesTo: [T.lambdaFunction],
    remediationSteps: "Set timeout (seconds) and memorySize (MB) from the stack config.",
    validate({ props, report }) {
        for (const field of ["timeout", "memorySize"] as const) {
            const value = props[field];
            if (isUnknown(value)) continue; // computed from config of this stack: it is set
            const n = asNumber(value);
            if (n === undefined || n <= 0)
                report(`${field} is not set explicitly${value === undefined ? "" : ` (got ${JSON.stringify(value)})`}.`);
        }
    },
});

export const lambdaTracing = resourcePolicy({
    name: "lambda-tracing-active",
    description: "Lambda functions have X-Ray active tracing on.",
    level: "mandatory",
    group,
    appliesTo: [T.lambdaFunction],
    remediationSteps: 'Set tracingConfig: { mode: "Active" } and allow xray:PutTraceSegments/PutTelemetryRecords.',
    validate({ props, report }) {
        const mode = props.tracingConfig?.mode;
        if (isUnknown(props.tracingConfig)) deferUntilKnown(props.tracingConfig);
        if (isUnknown(mode)) deferUntilKnown(mode);
        if (mode !== "Active")
            report(`tracingConfig.mode is ${mode === undefined ? "not set" : JSON.stringify(mode)}; set it to "Active".`);
    },
});

export const lambdaFunctionUrlAuth = resourcePolicy({
    name: "lambda-function-url-requires-auth",
    description: "No Lambda function URL (or URL invoke permission) with authorizationType NONE.",
    level: "mandatory",
    group,
    appliesTo: [T.lambdaFunctionUrl, T.lambdaPermission],
    remediationSteps: 'Use authorizationType "AWS_IAM" or put the function behind the API Gateway with IAM authorization.',
    validate({ type, props, report, args }) {
        if (type === T.lambdaFunctionUrl) {
            if (isUnknown(props.authorizationType)) deferUntilKnown(props.authorizationType);
            if (props.authorizationType !== "AWS_IAM")
                report(`authorizationType is ${JSON.stringify(props.authorizationType ?? "NONE")}: the function is publicly invocable.`);
            return;
        }
        if (props.functionUrlAuthType === undefined) args.notApplicable("not a function URL permission");
        if (props.functionUrlAuthType === "NONE")
            report("grants lambda:InvokeFunctionUrl with functionUrlAuthType NONE: the function URL is public.");
    },
});

export const lambdaPolicies = [lambdaRuntime, lambdaLimits, lambdaTracing, lambdaFunctionUrlAuth];
