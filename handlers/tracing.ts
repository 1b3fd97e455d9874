/**
 * X-Ray traces for every handler (Powertools Tracer, from the Powertools layer in
 * Lambda): one `## <handler>` subsegment per invocation, annotated with ColdStart
 * and Service, and one subsegment per AWS SDK call (DynamoDB, SQS, S3, SES,
 * Secrets Manager, Scheduler) through the captured clients.
 *
 * Tracing is on only inside Lambda (AWS_EXECUTION_ENV set) unless
 * POWERTOOLS_TRACE_ENABLED=false; outside Lambda (tests, bench, scripts) the
 * Tracer is disabled and quiet: it installs a no-op context-missing strategy.
 * Nothing the handlers trace carries PII: no responses are captured (emails'
 * answers and SES requests stay out of the trace); the SDK instrumentation
 * records only operation, table, queue, bucket and key names.
 */
import { Tracer } from "@aws-lambda-powertools/tracer";
import type { Context } from "aws-lambda";

/** Env var that turns tracing off where it would otherwise be on (Powertools' own name). */
export const TRACE_ENABLED_ENV = "POWERTOOLS_TRACE_ENABLED";

/**
 * The Tracer a handler uses unless its deps pass one.
 *
 * @example
 * const tracer = defaultTracer("event-processor");
 */
export function defaultTracer(serviceName: string): Tracer {
    return new Tracer({
        ...(process.env.POWERTOOLS_SERVICE_NAME ? {} : { serviceName }),
        // The AWS calls are traced by their captured clients; patching global http(s) as well would add a
        // second subsegment to every SDK request and CPU to the hot path, and nothing else here speaks HTTP.
        captureHTTPsRequests: false,
    });
}

/**
 * A Tracer that records nothing: for tests and local tools that pass `tracer` in deps.
 *
 * @example
 * createEventProcessor({ ...deps, tracer: disabledTracer() });
 */
export function disabledTracer(): Tracer {
    return new Tracer({ enabled: false, captureHTTPsRequests: false });
}

/**
 * Records every call of these AWS SDK v3 clients as an X-Ray subsegment. The clients are instrumented
 * in place (a middleware on their stack) and returned; a disabled tracer leaves them untouched.
 *
 * @example
 * const [dynamodb, sqs] = traceClients(tracer, new DynamoDBClient({}), new SQSClient({}));
 */
export function traceClients<T extends readonly unknown[]>(tracer: Tracer, ...clients: T): T {
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
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function traceHandler<H extends (event: any, context?: Context) => Promise<unknown>>(tracer: Tracer, handler: H): H {
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
