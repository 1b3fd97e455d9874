/** Which queues are dead-letter queues, and what each queue's redrive policy says. */
import type { StackContext, StackResource } from "./define";
import { T } from "./define";
import { isUnknown, asNumber } from "./values";

export interface Redrive {
    deadLetterTargetArn?: unknown;
    maxReceiveCount?: number;
}

/** Parses a redrive policy (JSON string or object); `undefined` when absent. */
export function parseRedrive(value: unknown): Redrive | "unknown" | "invalid" | undefined {
    if (value === undefined || value === null || value === "") return undefined;
    if (isUnknown(value)) return "unknown";
    let doc: unknown = value;
    if (typeof value === "string") {
        try {
            doc = JSON.parse(value);
        } catch {
            return "invalid";
        }
    }
    if (!doc || typeof doc !== "object") return "invalid";
    const redrive = doc as { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
    return { deadLetterTargetArn: redrive.deadLetterTargetArn, maxReceiveCount: asNumber(redrive.maxReceiveCount) };
}

/** The redrive policy of a queue: inline, or from an aws.sqs.RedrivePolicy resource. */
export function redriveOf(queue: StackResource, context: StackContext): { value: unknown; holder: StackResource } | undefined {
    if (queue.props.redrivePolicy !== undefined && queue.props.redrivePolicy !== "")
        return { value: queue.props.redrivePolicy, holder: queue };
    for (const holder of context.ofType(T.sqsRedrivePolicy)) {
        if (context.referenced(holder, "queueUrl", [T.sqsQueue]).includes(queue)) return { value: holder.props.redrivePolicy, holder };
    }
    return undefined;
}

function allowsRedrive(value: unknown): boolean {
    if (value === undefined || value === null || value === "") return false;
    if (isUnknown(value)) return true;
    try {
        const doc = typeof value === "string" ? JSON.parse(value) : value;
        return doc?.redrivePermission !== "denyAll";
    } catch {
        return false;
    }
}

/**
 * The tag the program puts on a queue that only ever receives failures from a service (an
 * EventBridge Scheduler dead-letter queue is named per schedule at run time, by no redrive policy).
 */
export const QUEUE_ROLE_TAG = "event-ingestion:queue-role";

/**
 * Dead-letter queues: the target of some queue's redrive policy, a queue whose redrive-allow
 * policy lets sources use it (the EncryptedQueue component sets one naming only its source),
 * or a queue tagged `event-ingestion:queue-role = dead-letter` (it then owes a DLQ alarm).
 */
export function deadLetterQueues(context: StackContext): Set<StackResource> {
    const dlqs = new Set<StackResource>();
    for (const queue of context.ofType(T.sqsQueue)) {
        const redrive = redriveOf(queue, context);
        const parsed = redrive ? parseRedrive(redrive.value) : undefined;
        if (parsed && typeof parsed === "object") {
            for (const target of context.byIdentifier(parsed.deadLetterTargetArn, [T.sqsQueue])) dlqs.add(target);
        }
        if (allowsRedrive(queue.props.redriveAllowPolicy)) dlqs.add(queue);
        const tags = queue.props.tags as Record<string, unknown> | undefined;
        if (tags && typeof tags === "object" && tags[QUEUE_ROLE_TAG] === "dead-letter") dlqs.add(queue);
    }
    for (const holder of context.ofType(T.sqsRedriveAllowPolicy)) {
        if (allowsRedrive(holder.props.redriveAllowPolicy))
            for (const q of context.referenced(holder, "queueUrl", [T.sqsQueue])) dlqs.add(q);
    }
    return dlqs;
}
