/** SQS: redrive to a DLQ, visibility timeout >= 6x consumer timeout, partial batch responses. */
import { resourcePolicy, stackPolicy, T } from "../lib/define";
import { deadLetterQueues, parseRedrive, redriveOf } from "../lib/queues";
import { isUnknown, deferUntilKnown, asNumber, toList, Unknown } from "../lib/values";

const group = "sqs";

/** AWS defaults when the program does not set them. */
const DEFAULT_VISIBILITY_TIMEOUT_SECONDS = 30;
const DEFAULT_LAMBDA_TIMEOUT_SECONDS = 3;
export const VISIBILITY_TIMEOUT_FACTOR = 6;

export const sqsRedrive = stackPolicy({
    name: "sqs-redrive-policy",
    description: "Every SQS queue that is not a dead-letter queue redrives failed messages to a DLQ.",
    level: "mandatory",
    group,
    appliesTo: [T.sqsQueue],
    remediationSteps: "Set redrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount }) (EncryptedQueue does this).",
    validate(context) {
        const dlqs = deadLetterQueues(context);
        for (const queue of context.ofType(T.sqsQueue)) {
            if (dlqs.has(queue)) continue;
            const redrive = redriveOf(queue, context);
            const parsed = redrive ? parseRedrive(redrive.value) : undefined;
            if (parsed === "unknown") {
                context.defer(redrive!.value as Unknown);
                continue;
            }
            if (parsed === undefined) {
                context.report("has no redrive policy: a message that keeps failing is retried until it expires and is lost.", queue);
            } else if (parsed === "invalid") {
                context.report("has a redrive policy that is not valid JSON.", redrive!.holder);
            } else {
                if (parsed.deadLetterTargetArn === undefined || parsed.deadLetterTargetArn === "") {
                    context.report("redrive policy has no deadLetterTargetArn.", redrive!.holder);
                }
                if (parsed.maxReceiveCount === undefined || parsed.maxReceiveCount < 1) {
                    context.report("redrive policy has no maxReceiveCount >= 1.", redrive!.holder);
                }
            }
        }
    },
});

export const sqsVisibilityTimeout = stackPolicy({
    name: "sqs-visibility-timeout-covers-consumers",
    description: `A queue's visibility timeout is at least ${VISIBILITY_TIMEOUT_FACTOR}x the timeout of every Lambda consuming it.`,
    level: "mandatory",
    group,
    appliesTo: [T.sqsQueue, T.eventSourceMapping],
    remediationSteps: "Derive visibilityTimeoutSeconds from the consumer's timeout (EncryptedQueue's consumerTimeoutSeconds).",
    validate(context) {
        for (const mapping of context.ofType(T.eventSourceMapping)) {
            const [queue] = context.referenced(mapping, "eventSourceArn", [T.sqsQueue]);
            const [fn] = context.referenced(mapping, "functionName", [T.lambdaFunction]);
            if (!queue || !fn) continue; // not an SQS mapping, or a function/queue from outside the stack
            const visibilityRaw = queue.props.visibilityTimeoutSeconds;
            const timeoutRaw = fn.props.timeout;
            if (isUnknown(visibilityRaw) || isUnknown(timeoutRaw)) {
                context.defer((isUnknown(visibilityRaw) ? visibilityRaw : timeoutRaw) as Unknown);
                continue;
            }
            const visibility = asNumber(visibilityRaw) ?? DEFAULT_VISIBILITY_TIMEOUT_SECONDS;
            const timeout = asNumber(timeoutRaw) ?? DEFAULT_LAMBDA_TIMEOUT_SECONDS;
            if (visibility < VISIBILITY_TIMEOUT_FACTOR * timeout) {
                context.report(
                    `visibility timeout ${visibility}s is less than ${VISIBILITY_TIMEOUT_FACTOR} x ${timeout}s, the timeout of consumer ${fn.name}: messages become visible again while still being processed and are processed twice.`,
                    queue,
                );
            }
        }
    },
});

export const sqsBatchItemFailures = resourcePolicy({
    name: "sqs-event-source-reports-batch-item-failures",
    description: "Every SQS event source mapping reports batch item failures (ReportBatchItemFailures).",
    level: "mandatory",
    group,
    appliesTo: [T.eventSourceMapping],
    remediationSteps: 'Set functionResponseTypes: ["ReportBatchItemFailures"] and return { batchItemFailures } from the handler.',
    validate({ props, report, args }) {
        const types = toList(props.functionResponseTypes as unknown[]);
        if (types.includes("ReportBatchItemFailures")) return; // compliant whatever the source is
        const source = props.eventSourceArn;
        if (isUnknown(source)) deferUntilKnown(source); // it may or may not be a queue
        if (typeof source !== "string" || !/^arn:[^:]+:sqs:/.test(source)) args.notApplicable("the event source is not an SQS queue");
        report("functionResponseTypes does not include ReportBatchItemFailures: one bad message makes the whole batch retry.");
    },
});

export const sqsPolicies = [sqsRedrive, sqsVisibilityTimeout, sqsBatchItemFailures];
