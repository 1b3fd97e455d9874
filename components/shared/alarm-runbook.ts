/**
 * Every alarm says what to do: its `alarmDescription` ends with a link to its
 * section of docs/runbook.md. The section's anchor is derived from the alarm's
 * name (the name without the stack's alarm-name prefix, e.g. `events-dead-letters`),
 * so a new alarm gets a link without a new knob, and the runbook test fails until
 * the section is written. Pure: no resources, no I/O.
 */

/** The runbook, relative to the repository root (what the description links to). */
export const RUNBOOK_PATH = "docs/runbook.md";

/** The link's marker inside a description: `Runbook: docs/runbook.md#<anchor>`. */
export const RUNBOOK_LINK_PREFIX = `Runbook: ${RUNBOOK_PATH}#`;

/** CloudWatch's limit for `AlarmDescription` (PutMetricAlarm API reference: 0-1024 characters). */
export const MAX_ALARM_DESCRIPTION_LENGTH = 1024;

/** Anchors are lower-case words joined by hyphens, as in alarm names (`email-dlq-messages`). */
export const RUNBOOK_ANCHOR_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/**
 * The runbook anchor of an alarm: `<component>-<suffix>`, the alarm's name without the stack prefix.
 *
 * @example
 * runbookAnchor("email", "dlq-messages"); // "email-dlq-messages"
 */
export function runbookAnchor(component: string, suffix: string): string {
    const anchor = `${component}-${suffix}`.toLowerCase();
    if (!RUNBOOK_ANCHOR_PATTERN.test(anchor)) {
        throw new Error(
            `runbookAnchor: "${anchor}" is not a runbook anchor; use lower-case letters, digits and single hyphens (e.g. "email-dlq-messages")`,
        );
    }
    return anchor;
}

/**
 * The `alarmDescription` every alarm uses: what happened, then where the runbook says what to do.
 * Throws when the result exceeds CloudWatch's 1024 characters.
 *
 * @example
 * alarmDescription("Emails are in the dead-letter queue.", "email", "dlq-messages");
 * // "Emails are in the dead-letter queue. Runbook: docs/runbook.md#email-dlq-messages"
 */
export function alarmDescription(summary: string, component: string, suffix: string): string {
    const description = `${summary.trim()} ${RUNBOOK_LINK_PREFIX}${runbookAnchor(component, suffix)}`;
    if (description.length > MAX_ALARM_DESCRIPTION_LENGTH) {
        throw new Error(
            `alarmDescription: ${description.length} characters for ${component}-${suffix}; CloudWatch allows ${MAX_ALARM_DESCRIPTION_LENGTH}`,
        );
    }
    return description;
}

/**
 * The runbook anchor an alarm description links to, or undefined when it links to none.
 *
 * @example
 * runbookAnchorOf("Emails are stuck. Runbook: docs/runbook.md#email-oldest-message-age"); // "email-oldest-message-age"
 */
export function runbookAnchorOf(description: string | undefined): string | undefined {
    const at = description?.lastIndexOf(RUNBOOK_LINK_PREFIX) ?? -1;
    if (at < 0) return undefined;
    const anchor = description!.slice(at + RUNBOOK_LINK_PREFIX.length).trim();
    return RUNBOOK_ANCHOR_PATTERN.test(anchor) ? anchor : undefined;
}
