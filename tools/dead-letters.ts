/**
 * Reading and redriving the dead-letter queues of both systems, for `npm run dlq`
 * and the local console.
 *
 * A DLQ holds two kinds of message, told apart by the rejection reason attribute:
 * - rejected ones, sent there by the event processor or the email worker with a
 *   reason (`rejectionReason`): they fail again until the cause is fixed;
 * - ones whose retries ran out, moved there by the queue's redrive policy: no reason
 *   attribute. SQS adds the `DeadLetterQueueSourceArn` system attribute to them
 *   (Amazon SQS API Reference, "ReceiveMessage": MessageSystemAttributeNames).
 *
 * On a stack with producers, a redriven event must be judged as the producer that first sent it, not as
 * whoever moves it back (docs/producers.md, "Redrive on a stack with producers"). The processor's rejects
 * carry their first sender's signed claim (handlers/event-processor/sender-claim.ts), which every path keeps.
 * A letter SQS moved carries none, so the one-by-one path signs one from the letter's own SenderId (the
 * producer's: SQS moved the message itself) with the stack's claim key, which needs the operator's
 * redrive policy (kms:GenerateMac). A StartMessageMoveTask copy's SenderId is not documented by AWS, so
 * the move task is used on such a stack only when every letter already carries a claim.
 *
 * SQS has no "peek": messages are read by receiving them with a visibility timeout
 * (hidden from consumers meanwhile) and released again (ChangeMessageVisibility 0).
 * Nothing here deletes a message before its copy is on the source queue.
 */
import {
    ChangeMessageVisibilityBatchCommand,
    DeleteMessageCommand,
    GetQueueAttributesCommand,
    Message,
    MessageAttributeValue,
    ReceiveMessageCommand,
    SendMessageCommand,
    SQSClient,
    StartMessageMoveTaskCommand,
} from "@aws-sdk/client-sqs";
import { EMAIL_DEAD_LETTER_ATTRIBUTES, EMAIL_REJECTION_REASON_CODES } from "../contracts/email-service";
import { CLIENT_ID_PATTERN, EVENT_DEAD_LETTER_ATTRIBUTES, EVENT_REJECTION_REASON_CODES } from "../contracts/event-pipeline";
import { readSenderClaim, type SenderClaimKey, senderClaimAttributes, signSenderClaim } from "../handlers/event-processor/sender-claim";
import { PRINCIPAL_ID_PATTERN, senderPrincipalId } from "../handlers/event-processor/tenancy";
import { closestName } from "./suggest";
import { jsonNestingDepth } from "./terminal";
import type { SystemName, SystemQueues } from "./target";

/** The group of messages that reached the DLQ through the redrive policy (no reason attribute). */
export const RETRIES_EXHAUSTED = "retries exhausted";

/** The attributes each system's DLQ writer sets (imported from the writers' own contract modules). */
export const REASON_ATTRIBUTES: Record<SystemName, { reason: string; detail: string }> = {
    events: EVENT_DEAD_LETTER_ATTRIBUTES,
    email: EMAIL_DEAD_LETTER_ATTRIBUTES,
};

/** Every rejection reason each system's DLQ writer sets (the contracts' codes), in documentation order. */
export const REJECTION_REASON_CODES: Record<SystemName, readonly string[]> = {
    events: EVENT_REJECTION_REASON_CODES,
    email: EMAIL_REJECTION_REASON_CODES,
};

/**
 * A reason code's spelling-independent key. Event codes use `_` (`invalid_data`), email codes `-`
 * (`invalid-recipient`); an operator may type either, so both compare equal here. No two codes of
 * the contracts share a key (tests/tools/dead-letters.test.ts checks it).
 *
 * @example
 * reasonKey("invalid-data") === reasonKey("invalid_data"); // true
 */
export function reasonKey(reason: string): string {
    return reason.trim().toLowerCase().replace(/-/g, "_");
}

/**
 * The rejection reason code `typed` names among `systems`' codes (either spelling), or an error that
 * lists the known codes and suggests the closest.
 *
 * @example
 * resolveReason("invalid-data", ["events", "email"]); // { reason: "invalid_data" }
 * resolveReason("invalid-dat", ["events"]); // { error: '--reason "invalid-dat" is not a rejection reason; did you mean invalid_data? ...' }
 */
export function resolveReason(typed: string, systems: readonly SystemName[]): { reason: string } | { error: string } {
    if (typed === RETRIES_EXHAUSTED) return { reason: RETRIES_EXHAUSTED };
    const codes = systems.flatMap((system) => REJECTION_REASON_CODES[system]);
    const code = codes.find((candidate) => reasonKey(candidate) === reasonKey(typed));
    if (code) return { reason: code };
    const nearest = closestName(reasonKey(typed), codes.map(reasonKey));
    const suggestion = nearest ? codes.find((candidate) => reasonKey(candidate) === nearest) : undefined;
    const known = systems.map((system) => `  ${system}: ${REJECTION_REASON_CODES[system].join(", ")}`).join("\n");
    return {
        error:
            `--reason ${JSON.stringify(typed)} is not a rejection reason${suggestion ? `; did you mean ${suggestion}?` : "."}\n` +
            `Known reasons (\`-\` and \`_\` are interchangeable):\n${known}\n` +
            `Messages whose retries ran out have no reason: use --retries-exhausted.`,
    };
}

/** Message attributes that describe the rejection; they are not carried back to the source queue. */
const REJECTION_ATTRIBUTE_NAMES = new Set<string>([
    ...Object.values(EVENT_DEAD_LETTER_ATTRIBUTES),
    ...Object.values(EMAIL_DEAD_LETTER_ATTRIBUTES),
]);

/** The one line every redrive prints: why moving messages back cannot duplicate anything. */
export const REDRIVE_IS_SAFE =
    "Redrive is safe to repeat: the event processor writes each clientId/eventId at most once (conditional put), and the email worker's " +
    "delivery ledger (plus FIFO deduplication) never sends an email twice. A message that fails to move stays in the DLQ.";

/** One DLQ message as the tools see it. */
export interface DeadLetter {
    system: SystemName;
    messageId: string;
    receiptHandle: string;
    /** The rejection reason code, or {@link RETRIES_EXHAUSTED}. */
    reason: string;
    detail?: string;
    /** The queue SQS moved it from (`DeadLetterQueueSourceArn`), when SQS moved it. */
    sourceArn?: string;
    /** epoch ms the message was first sent (SentTimestamp). */
    sentAt?: number;
    receiveCount?: number;
    groupId?: string;
    body: string;
    messageAttributes: Record<string, MessageAttributeValue>;
    systemAttributes: Record<string, string>;
}

export interface DeadLetterGroup {
    system: SystemName;
    reason: string;
    count: number;
    oldestAgeSeconds: number;
    sampleId: string;
}

/** A scan's result: the messages it holds invisible, until `release()`. */
export interface DeadLetterScan {
    queues: SystemQueues;
    letters: DeadLetter[];
    /** ApproximateNumberOfMessages + NotVisible before the scan. */
    approximateTotal: number;
    /** Stops holding a letter (it was deleted): `release()` leaves it alone. */
    forget(letter: DeadLetter): void;
    /** Makes every still-held message visible again. Safe to call twice. */
    release(): Promise<void>;
}

/** Reads the reason of a received DLQ message. Exported for tests. */
export function classify(system: SystemName, message: Message): Pick<DeadLetter, "reason" | "detail" | "sourceArn"> {
    const names = REASON_ATTRIBUTES[system];
    const reason = message.MessageAttributes?.[names.reason]?.StringValue;
    const detail = message.MessageAttributes?.[names.detail]?.StringValue;
    const sourceArn = message.Attributes?.DeadLetterQueueSourceArn;
    return { reason: reason ?? RETRIES_EXHAUSTED, ...(detail ? { detail } : {}), ...(sourceArn ? { sourceArn } : {}) };
}

function toDeadLetter(system: SystemName, message: Message): DeadLetter {
    const attributes = (message.Attributes ?? {}) as Record<string, string>;
    return {
        system,
        messageId: message.MessageId!,
        receiptHandle: message.ReceiptHandle!,
        ...classify(system, message),
        sentAt: attributes.SentTimestamp ? Number(attributes.SentTimestamp) : undefined,
        receiveCount: attributes.ApproximateReceiveCount ? Number(attributes.ApproximateReceiveCount) : undefined,
        groupId: attributes.MessageGroupId,
        body: message.Body ?? "",
        messageAttributes: message.MessageAttributes ?? {},
        systemAttributes: attributes,
    };
}

/**
 * Receives every message of a DLQ (up to `max`), holding them invisible for `holdSeconds`.
 * On a FIFO DLQ, SQS hands out a message group's later messages only once the earlier
 * ones are gone, so at most 10 per group are seen at a time.
 *
 * @example
 * const scan = await scanDeadLetters(sqs, target.systems.events!);
 * try { console.log(groupDeadLetters(scan.letters)); } finally { await scan.release(); }
 */
export async function scanDeadLetters(
    sqs: SQSClient,
    queues: SystemQueues,
    options: { holdSeconds?: number; max?: number } = {},
): Promise<DeadLetterScan> {
    const holdSeconds = options.holdSeconds ?? 60;
    const max = options.max ?? 10_000;
    const depth = await sqs.send(
        new GetQueueAttributesCommand({
            QueueUrl: queues.deadLetterQueueUrl,
            AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        }),
    );
    const approximateTotal =
        Number(depth.Attributes?.ApproximateNumberOfMessages ?? 0) + Number(depth.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
    const letters: DeadLetter[] = [];
    const seen = new Set<string>();
    // Short polls sample a subset of SQS's servers; stop after consecutive empty answers, not the first
    // (the second a long poll), unless a short poll sees the whole queue.
    const emptyAnswersToStop = queues.shortPollSeesAll ? 1 : 2;
    let empty = 0;
    while (letters.length < max && empty < emptyAnswersToStop) {
        const received = await sqs.send(
            new ReceiveMessageCommand({
                QueueUrl: queues.deadLetterQueueUrl,
                MaxNumberOfMessages: Math.min(10, max - letters.length),
                VisibilityTimeout: holdSeconds,
                WaitTimeSeconds: empty === 0 ? 0 : 1,
                MessageAttributeNames: ["All"],
                MessageSystemAttributeNames: ["All"],
            }),
        );
        const messages = (received.Messages ?? []).filter((m) => m.MessageId && !seen.has(m.MessageId));
        if (messages.length === 0) {
            empty++;
            continue;
        }
        empty = 0;
        for (const message of messages) {
            seen.add(message.MessageId!);
            letters.push(toDeadLetter(queues.system, message));
        }
    }
    const held = new Set(letters);
    return {
        queues,
        letters,
        approximateTotal,
        forget: (letter) => void held.delete(letter),
        async release() {
            const toRelease = letters.filter((l) => held.has(l));
            toRelease.forEach((l) => held.delete(l));
            await setVisibility(sqs, queues.deadLetterQueueUrl, toRelease, 0);
        },
    };
}

async function setVisibility(sqs: SQSClient, queueUrl: string, letters: readonly DeadLetter[], seconds: number): Promise<void> {
    for (let i = 0; i < letters.length; i += 10) {
        const chunk = letters.slice(i, i + 10);
        await sqs.send(
            new ChangeMessageVisibilityBatchCommand({
                QueueUrl: queueUrl,
                Entries: chunk.map((l, n) => ({ Id: `m${n}`, ReceiptHandle: l.receiptHandle, VisibilityTimeout: seconds })),
            }),
        );
    }
}

/**
 * Groups letters by system and reason, largest group first.
 *
 * @example
 * groupDeadLetters(scan.letters); // [{ system: "events", reason: "type_disabled", count: 3, oldestAgeSeconds: 42, sampleId: "..." }]
 */
export function groupDeadLetters(letters: readonly DeadLetter[], now = Date.now()): DeadLetterGroup[] {
    const groups = new Map<string, DeadLetterGroup & { oldest: number }>();
    for (const letter of letters) {
        const key = `${letter.system}\u0000${letter.reason}`;
        const sentAt = letter.sentAt ?? now;
        const group = groups.get(key);
        if (!group) {
            groups.set(key, {
                system: letter.system,
                reason: letter.reason,
                count: 1,
                oldestAgeSeconds: 0,
                sampleId: letter.messageId,
                oldest: sentAt,
            });
            continue;
        }
        group.count++;
        if (sentAt < group.oldest) {
            group.oldest = sentAt;
            group.sampleId = letter.messageId;
        }
    }
    return [...groups.values()]
        .map(({ oldest, ...group }) => ({ ...group, oldestAgeSeconds: Math.max(0, Math.round((now - oldest) / 1000)) }))
        .sort((a, b) => a.system.localeCompare(b.system) || b.count - a.count || a.reason.localeCompare(b.reason));
}

/** Which letters a redrive moves. */
export interface RedriveSelection {
    /** Only this rejection reason. */
    reason?: string;
    /** Only messages whose retries ran out. */
    retriesExhausted?: boolean;
    /** At most this many (per system). */
    limit?: number;
}

export function selects(selection: RedriveSelection, letter: DeadLetter): boolean {
    if (selection.reason !== undefined) return reasonKey(letter.reason) === reasonKey(selection.reason);
    if (selection.retriesExhausted) return letter.reason === RETRIES_EXHAUSTED;
    return true;
}

export interface RedriveResult {
    system: SystemName;
    /** "move-task": one StartMessageMoveTask for the whole DLQ; "one-by-one": send, then delete. */
    method: "move-task" | "one-by-one";
    /** Messages chosen (dry run: that would be moved). */
    selected: number;
    moved: number;
    /** Left in the DLQ because the send failed (messageId → why). */
    failed: Array<{ messageId: string; error: string }>;
    /** Sent but not deleted: a copy stays in the DLQ (a later redrive is harmless: writes are idempotent). */
    notDeleted: Array<{ messageId: string; error: string }>;
    /** StartMessageMoveTask's handle. */
    taskHandle?: string;
    /** Approximate number of messages in the DLQ before (move task) or of letters examined. */
    examined: number;
    dryRun: boolean;
}

/**
 * The MessageGroupId the copy goes back with: the original's when SQS reports it; for an
 * event, else its clientId (the producer contract: docs/producers.md), keeping fair queueing.
 */
function groupIdFor(queues: SystemQueues, letter: DeadLetter): { MessageGroupId?: string } {
    if (letter.groupId) return { MessageGroupId: letter.groupId };
    if (queues.system === "events") {
        try {
            const clientId = JSON.parse(letter.body)?.clientId;
            if (typeof clientId === "string" && CLIENT_ID_PATTERN.test(clientId)) return { MessageGroupId: clientId };
        } catch {
            // Not JSON: it is redriven without a group, as it was first sent.
        }
    }
    return queues.fifo ? { MessageGroupId: "redrive" } : {};
}

/** The copy of a DLQ message that goes back to its source queue: same body, group and attributes (a sender claim too), minus the rejection ones. */
export function redriveRequest(queues: SystemQueues, letter: DeadLetter): SendMessageCommand["input"] {
    const attributes: Record<string, MessageAttributeValue> = {};
    for (const [name, value] of Object.entries(letter.messageAttributes)) {
        if (!REJECTION_ATTRIBUTE_NAMES.has(name)) attributes[name] = value;
    }
    return {
        QueueUrl: queues.queueUrl,
        MessageBody: letter.body,
        ...(Object.keys(attributes).length ? { MessageAttributes: attributes } : {}),
        ...groupIdFor(queues, letter),
        // The same id for the same DLQ message: a redrive repeated within SQS's 5-minute window is deduplicated.
        ...(queues.fifo ? { MessageDeduplicationId: `redrive-${letter.messageId}`.slice(0, 128) } : {}),
    };
}

/** True when an event letter still needs a sender claim to be judged as its first sender after a redrive. */
export function needsSenderClaim(letter: DeadLetter): boolean {
    return letter.system === "events" && readSenderClaim(letter.messageAttributes) === undefined;
}

/**
 * The letter with a sender claim signed for its own SenderId, when it is an event SQS moved (retries
 * exhausted: the message is the producer's own, with the producer's SenderId) and carries no claim.
 * A reject the processor wrote without a claim is left alone: its SenderId is the processor's role, not
 * its first sender's, and it fails closed (sender_not_allowed) rather than borrow an identity.
 *
 * @example
 * const ready = await withSenderClaim(letter, target.senderClaimKey);
 */
export async function withSenderClaim(letter: DeadLetter, key: SenderClaimKey | undefined): Promise<DeadLetter> {
    if (key === undefined || !needsSenderClaim(letter) || letter.reason !== RETRIES_EXHAUSTED) return letter;
    const principal = senderPrincipalId(letter.systemAttributes.SenderId ?? "");
    if (!PRINCIPAL_ID_PATTERN.test(principal)) return letter;
    const claim = await signSenderClaim(key, principal, letter.body);
    return { ...letter, messageAttributes: { ...letter.messageAttributes, ...senderClaimAttributes(claim) } };
}

/**
 * Moves the selected letters of one system back to its queue.
 * - Whole DLQ (no reason, no limit) and `useMoveTask`: one SQS StartMessageMoveTask
 *   (DestinationArn = the system's queue, since rejected messages have no SQS-recorded source).
 *   With a sender claim key (a stack with producers), only when every letter of the event DLQ already
 *   carries a claim; otherwise one by one, so each letter SQS moved gets its claim.
 * - Otherwise one by one: send the copy (an SQS-moved event letter signed first), and only once SQS
 *   accepted it, delete the original. A failed send leaves the message in the DLQ (released at once).
 * Without `execute` nothing moves: the result says what would.
 *
 * @example
 * const result = await redriveDeadLetters(sqs, queues, { reason: "type_disabled" }, { execute: true, useMoveTask: true });
 */
export async function redriveDeadLetters(
    sqs: SQSClient,
    queues: SystemQueues,
    selection: RedriveSelection,
    options: { execute: boolean; useMoveTask: boolean; senderClaimKey?: SenderClaimKey; onProgress?: (line: string) => void },
): Promise<RedriveResult> {
    const whole = selection.reason === undefined && !selection.retriesExhausted && selection.limit === undefined;
    const claims = queues.system === "events" ? options.senderClaimKey : undefined;
    // Hold what we read for long enough to move it; whatever is not moved is released at the end.
    let scan: DeadLetterScan | undefined;
    if (whole && options.useMoveTask && claims !== undefined) {
        scan = await scanDeadLetters(sqs, queues, { holdSeconds: 300 });
        if (scan.letters.length >= scan.approximateTotal && !scan.letters.some(needsSenderClaim)) {
            await scan.release();
            scan = undefined;
        }
    }
    if (whole && options.useMoveTask && scan === undefined) {
        const depth = await sqs.send(
            new GetQueueAttributesCommand({
                QueueUrl: queues.deadLetterQueueUrl,
                AttributeNames: ["ApproximateNumberOfMessages", "QueueArn"],
            }),
        );
        const count = Number(depth.Attributes?.ApproximateNumberOfMessages ?? 0);
        const result: RedriveResult = {
            system: queues.system,
            method: "move-task",
            selected: count,
            moved: 0,
            failed: [],
            notDeleted: [],
            examined: count,
            dryRun: !options.execute,
        };
        if (!options.execute || count === 0) return result;
        const destinationArn =
            queues.queueArn ??
            (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queues.queueUrl, AttributeNames: ["QueueArn"] }))).Attributes
                ?.QueueArn;
        const task = await sqs.send(
            new StartMessageMoveTaskCommand({
                SourceArn: queues.deadLetterQueueArn ?? depth.Attributes?.QueueArn,
                DestinationArn: destinationArn,
            }),
        );
        return { ...result, moved: count, taskHandle: task.TaskHandle };
    }

    const held = scan ?? (await scanDeadLetters(sqs, queues, { holdSeconds: 300 }));
    const result: RedriveResult = {
        system: queues.system,
        method: "one-by-one",
        selected: 0,
        moved: 0,
        failed: [],
        notDeleted: [],
        examined: held.letters.length,
        dryRun: !options.execute,
    };
    try {
        const chosen = held.letters.filter((l) => selects(selection, l)).slice(0, selection.limit ?? Infinity);
        result.selected = chosen.length;
        if (!options.execute) return result;
        for (const letter of chosen) {
            try {
                await sqs.send(new SendMessageCommand(redriveRequest(queues, await withSenderClaim(letter, claims))));
            } catch (error) {
                result.failed.push({ messageId: letter.messageId, error: errorName(error) });
                continue;
            }
            result.moved++;
            try {
                await sqs.send(new DeleteMessageCommand({ QueueUrl: queues.deadLetterQueueUrl, ReceiptHandle: letter.receiptHandle }));
                held.forget(letter);
            } catch (error) {
                result.notDeleted.push({ messageId: letter.messageId, error: errorName(error) });
            }
            options.onProgress?.(`moved ${letter.messageId} (${letter.reason})`);
        }
        return result;
    } finally {
        await held.release();
    }
}

function errorName(error: unknown): string {
    const e = error as { name?: string; Code?: string; message?: string };
    return [e.name, e.Code].filter(Boolean).join(" ") || "Error";
}

/** Body fields of an email DLQ message that carry no PII (never recipients, subject or body). */
const EMAIL_SAFE_FIELDS = ["version", "id", "lane", "acceptedAt", "sendAt", "released"] as const;

/**
 * What `show` prints for one letter. Email letters never show recipients, subject or body:
 * only the PII-free envelope fields and whether the content is inline or offloaded.
 *
 * @example
 * describeLetter(letter) // { system, messageId, reason, attributes, body: {...} }
 */
export function describeLetter(letter: DeadLetter, now = Date.now()): Record<string, unknown> {
    const messageAttributes: Record<string, string> = {};
    for (const [name, value] of Object.entries(letter.messageAttributes)) {
        messageAttributes[name] = value.StringValue ?? (value.BinaryValue ? `<${value.BinaryValue.length} bytes>` : "");
    }
    const base = {
        system: letter.system,
        messageId: letter.messageId,
        reason: letter.reason,
        ...(letter.detail ? { detail: letter.detail } : {}),
        ...(letter.sourceArn ? { sourceArn: letter.sourceArn } : {}),
        ageSeconds: letter.sentAt ? Math.round((now - letter.sentAt) / 1000) : undefined,
        sentAt: letter.sentAt ? new Date(letter.sentAt).toISOString() : undefined,
        receiveCount: letter.receiveCount,
        messageGroupId: letter.groupId,
        messageAttributes,
        systemAttributes: letter.systemAttributes,
    };
    if (letter.system === "email") {
        const safe: Record<string, unknown> = {};
        let parsed: Record<string, unknown> | undefined;
        try {
            const value = JSON.parse(letter.body);
            if (value && typeof value === "object" && !Array.isArray(value)) parsed = value;
        } catch {
            parsed = undefined;
        }
        if (parsed) {
            for (const field of EMAIL_SAFE_FIELDS) if (parsed[field] !== undefined) safe[field] = parsed[field];
            safe.content = parsed.content
                ? "inline (not shown: recipients, subject and body stay out of terminals)"
                : parsed.contentRef
                  ? "offloaded to S3 (not shown)"
                  : "none";
        } else {
            safe.content = "not a v1 email message (not shown)";
        }
        safe.bodyBytes = Buffer.byteLength(letter.body, "utf8");
        return { ...base, body: safe };
    }
    // A body nested deeper than DynamoDB could ever store is shown as its text: printing it parsed would overflow the stack.
    if (jsonNestingDepth(letter.body) > SHOW_MAX_NESTING) {
        return { ...base, body: letter.body, bodyNote: `nested deeper than ${SHOW_MAX_NESTING} levels: shown as text` };
    }
    let body: unknown = letter.body;
    try {
        body = JSON.parse(letter.body);
    } catch {
        body = letter.body;
    }
    return { ...base, body };
}

/** Deepest JSON body `show` prints parsed (the event contract stops at DynamoDB's 32 levels; a little room above). */
export const SHOW_MAX_NESTING = 64;
