/**
 * X-Ray traces for every handler (Powertools Tracer, from the Powertools layer in
 * Lambda): one `## <handler>` subsegment per invocation, annotated with ColdStart
 * and Service, and one subsegment per AWS SDK call (DynamoDB, SQS, S3, SES,
 * Secrets Manager, Scheduler) through the captured clients.
 *
 * Tracing is on only inside Lambda (AWS_EXECUTION_ENV set) unless
 * POWERTOOLS_TRACE_ENABLED=false, the rule Powertools' Tracer applies itself.
 * Where it is off (tests, bench, local pipeline, a function with tracing turned
 * off) the Tracer module is never loaded: importing it loads the X-Ray SDK and
 * installs its async hooks, about 70 ms of cold start and a CPU tax on every
 * await (bench: `npm run bench -- --mode artifact`).
 * Nothing the handlers trace carries PII: no responses are captured (emails'
 * answers and SES requests stay out of the trace); the SDK instrumentation
 * records only operation, table, queue, bucket and key names.
 */
import type { Tracer } from "@aws-lambda-powertools/tracer";
import type { Context } from "aws-lambda";

/** Env var that turns tracing off where it would otherwise be on (Powertools' own name). */
export const TRACE_ENABLED_ENV = "POWERTOOLS_TRACE_ENABLED";

/** What the handlers use of a Powertools Tracer; a Tracer (or a subclass, in tests) is one. */
export type HandlerTracer = Pick<
    Tracer,
    | "isTracingEnabled"
    | "captureAWSv3Client"
    | "getSegment"
    | "setSegment"
    | "annotateColdStart"
    | "addServiceNameAnnotation"
    | "addErrorAsMetadata"
>;

/**
 * True when Powertools' Tracer would be enabled in this environment: inside Lambda
 * (AWS_EXECUTION_ENV), not under SAM or Amplify's local mocks, and not turned off with
 * POWERTOOLS_TRACE_ENABLED=false (Tracer.setTracingEnabled, Powertools 2.35).
 */
export function isTracingActive(env: Record<string, string | undefined> = process.env): boolean {
    const executionEnv = env.AWS_EXECUTION_ENV ?? "";
    if (executionEnv === "" || executionEnv === "AWS_Lambda_amplify-mock" || (env.AWS_SAM_LOCAL ?? "") !== "") return false;
    return (env[TRACE_ENABLED_ENV] ?? "").toLowerCase() !== "false";
}

/**
 * The Tracer a handler uses unless its deps pass one: Powertools' Tracer where tracing is
 * active, loaded on this call; elsewhere a disabled tracer that needs no X-Ray SDK.
 *
 * @example
 * const tracer = defaultTracer("event-processor");
 */
export function defaultTracer(serviceName: string): HandlerTracer {
    if (!isTracingActive()) return disabledTracer();
    // Loaded here, not at import, so that nothing pays for the X-Ray SDK where tracing is off.
    const { Tracer: PowertoolsTracer } = require("@aws-lambda-powertools/tracer") as typeof import("@aws-lambda-powertools/tracer");
    return new PowertoolsTracer({
        ...(process.env.POWERTOOLS_SERVICE_NAME ? {} : { serviceName }),
        // The AWS calls are traced by their captured clients; patching global http(s) as well would add a
        // second subsegment to every SDK request and CPU to the hot path, and nothing else here speaks HTTP.
        captureHTTPsRequests: false,
    });
}

const noop = (): void => undefined;

/**
 * A tracer that records nothing and loads nothing: for tests and local tools that pass `tracer` in deps.
 *
 * @example
 * createEventProcessor({ ...deps, tracer: disabledTracer() });
 */
export function disabledTracer(): HandlerTracer {
    return {
        isTracingEnabled: () => false,
        captureAWSv3Client: <T>(client: T): T => client,
        getSegment: () => undefined,
        setSegment: noop,
        annotateColdStart: noop,
        addServiceNameAnnotation: noop,
        addErrorAsMetadata: noop,
    };
}

/**
 * Records every call of these AWS SDK v3 clients as an X-Ray subsegment. The clients are instrumented
 * in place (a middleware on their stack) and returned; a disabled tracer leaves them untouched.
 *
 * @example
 * const [dynamodb, sqs] = traceClients(tracer, new DynamoDBClient({}), new SQSClient({}));
 */
export function traceClients<T extends readonly unknown[]>(tracer: HandlerTracer, ...clients: T): T {
    return clients.map((client) => (client === undefined ? client : tracer.captureAWSv3Client(client))) as unknown as T;
}

/**
 * Wraps a handler in a `## <handler>` subsegment with ColdStart and Service annotations (Powertools'
 * manual instrumentation, without capturing the response). A disabled tracer returns the handler itself:
 * no cost per invocation.
 *
 * @example
 * return traceHandler(tracer, async (event, context) => process(event, context));
 */
export function traceHandler<H extends (event: never, context?: Context) => Promise<unknown>>(tracer: HandlerTracer, handler: H): H {
    if (!tracer.isTracingEnabled()) return handler;
    const traced = async (event: Parameters<H>[0], context?: Context): Promise<Awaited<ReturnType<H>>> => {
        const segment = tracer.getSegment();
        const subsegment = segment?.addNewSubsegment(`## ${process.env._HANDLER ?? "handler"}`);
        if (subsegment) tracer.setSegment(subsegment);
        tracer.annotateColdStart();
        tracer.addServiceNameAnnotation();
        try {
            return (await handler(event, context)) as Awaited<ReturnType<H>>;
        } catch (error) {
            tracer.addErrorAsMetadata(error as Error);
            throw error;
        } finally {
            if (segment && subsegment) {
                subsegment.close();
                tracer.setSegment(segment);
            }
        }
    };
    return traced as H;
}
