/**
 * The email service's contract: every name and value that the infrastructure
 * (components/, config/), the email handlers (handlers/email/), the local
 * pipeline (local/) and the operator tools (tools/) must agree on, defined once.
 * Plain constants, types and pure rules only: nothing here imports a package or another
 * module of the program, so any side (and the serialized Lambdas) can depend on it.
 *
 * Every value is deployed or on the wire: renaming one changes what the stack
 * sets, what IAM allows, what the table holds or what operators read. Add values;
 * never rename or reuse one.
 */

/**
 * Powertools service names of the two functions: their log lines' `service`, their metrics' `service`
 * dimension. The component sets them, the handlers default to them, the dashboard and alarms select by them.
 */
export const EMAIL_SERVICE_NAMES = {
    api: "email-api",
    worker: "email-worker",
    status: "email-status",
    /** The status table's stream → the status-change event bus. */
    notify: "email-status-notify",
} as const;

/**
 * Environment variable names of the email functions. The component sets them, the handlers read
 * them at start-up, and the local pipeline recognises the API and the worker by them.
 */
export const EMAIL_ENV = {
    /** The FIFO email queue's URL (API, required). */
    queueUrl: "EMAIL_QUEUE_URL",
    /** The FIFO email queue's ARN: the target of the worker's schedules (worker, required). */
    queueArn: "EMAIL_QUEUE_ARN",
    /** The FIFO DLQ's URL, where the worker sends permanent failures (worker, required). */
    deadLetterQueueUrl: "EMAIL_DEAD_LETTER_QUEUE_URL",
    /** The idempotency table: Idempotency-Keys (API) and the delivery ledger (worker). Required by both. */
    idempotencyTable: "EMAIL_IDEMPOTENCY_TABLE_NAME",
    /** The content bucket for offloaded and scheduled content (both, required). */
    contentBucket: "EMAIL_CONTENT_BUCKET",
    largeBodyThresholdBytes: "EMAIL_LARGE_BODY_THRESHOLD_BYTES",
    maxRequestBytes: "EMAIL_MAX_REQUEST_BYTES",
    maxRecipients: "EMAIL_MAX_RECIPIENTS",
    maxScheduleAheadDays: "EMAIL_MAX_SCHEDULE_AHEAD_DAYS",
    idempotencyTtlSeconds: "EMAIL_IDEMPOTENCY_TTL_SECONDS",
    tenantLanes: "EMAIL_TENANT_LANES",
    /** Secrets Manager secret with the SMTP relay's settings; unset = no failover. */
    smtpSecretArn: "EMAIL_SMTP_SECRET_ARN",
    sesConfigurationSet: "EMAIL_SES_CONFIGURATION_SET",
    /** Schedule group the worker's role may create schedules in (worker, required). */
    scheduleGroup: "EMAIL_SCHEDULE_GROUP",
    /** Role EventBridge Scheduler assumes to put a released email back on the queue (worker, required). */
    schedulerRoleArn: "EMAIL_SCHEDULER_ROLE_ARN",
    /** Standard SQS queue EventBridge Scheduler dead-letters a schedule's release to. */
    scheduleDeadLetterQueueArn: "EMAIL_SCHEDULE_DEAD_LETTER_QUEUE_ARN",
    /** JSON list of the stack's SES identities (domains, addresses): every `from` must be one of them. */
    sendingIdentities: "EMAIL_SENDING_IDENTITIES",
    /** JSON map: caller principal ARN → the `from` addresses and domains it may use. */
    allowedSenders: "EMAIL_ALLOWED_SENDERS",
    deliveryLedgerTtlSeconds: "EMAIL_DELIVERY_LEDGER_TTL_SECONDS",
    breakerTimeoutMs: "EMAIL_BREAKER_TIMEOUT_MS",
    breakerResetTimeoutMs: "EMAIL_BREAKER_RESET_TIMEOUT_MS",
    /** Local pipeline only: the local scheduler fires to the second, so it can lower the one-minute lead. */
    scheduleMinLeadSeconds: "EMAIL_SCHEDULE_MIN_LEAD_SECONDS",
    /** The status table: each email's current status and history (API: writes and reads; worker: writes). */
    statusTable: "EMAIL_STATUS_TABLE_NAME",
    /** How long a status is kept after the email was accepted (or after its sendAt), seconds. */
    statusRetentionSeconds: "EMAIL_STATUS_RETENTION_SECONDS",
    /** The custom EventBridge bus status changes are published to (the notify function, required). */
    statusEventBus: "EMAIL_STATUS_EVENT_BUS_NAME",
} as const;

/**
 * Key attribute of the idempotency table. The component declares it as the table's hash key;
 * the API keeps Idempotency-Keys (`key#...`) and the worker its delivery ledger (`sent#...`) under it.
 */
export const EMAIL_TABLE_KEYS = { partition: "pk" } as const;

/**
 * TTL attribute of the idempotency table (epoch seconds). The component enables DynamoDB TTL on it;
 * the handlers write it on every item and treat an expired item as absent.
 */
export const EMAIL_TTL_ATTRIBUTE = "expiresAt";

/**
 * Key attribute of the status table: the email id (the `id` the API answered with). The component
 * declares it as the table's hash key; TTL is {@link EMAIL_TTL_ATTRIBUTE}, as in the idempotency table.
 */
export const EMAIL_STATUS_TABLE_KEYS = { partition: "emailId" } as const;

/**
 * Every status an email can be in, with its precedence: a status is recorded only over a lower one, so
 * a late or repeated report never moves an email backwards (a DELIVERY after a BOUNCE stays bounced,
 * a duplicate changes nothing). Statuses that end an email share the highest rank.
 * Each value is the one-sentence meaning docs/email-service.md gives.
 *
 * `queued` ranks above `scheduled`: a scheduled email is queued again when its schedule fires, and that
 * write is what takes it out of reach of a cancel (a rank is stored with each item; raising one only lets
 * items written before move forward once more). `cancelled` ends an email: no later report outranks it.
 */
export const EMAIL_STATUSES = {
    accepted: { rank: 10, meaning: "The API validated the request; it is being put on the queue." },
    scheduled: { rank: 30, meaning: "Held for its sendAt; the worker sends it then. Until then it can be cancelled." },
    queued: { rank: 35, meaning: "On the FIFO queue, waiting for the worker (a scheduled email once its sendAt came)." },
    sent: { rank: 40, meaning: "A provider accepted it (provider and the provider's message id are recorded)." },
    delayed: { rank: 50, meaning: "SES could not deliver it yet (a temporary issue at the receiving server); SES keeps trying." },
    delivered: { rank: 60, meaning: "SES delivered it to the recipient's mail server." },
    bounced: { rank: 70, meaning: "The recipient's server refused it (bounceType Permanent, or Transient after SES's retries)." },
    complained: { rank: 80, meaning: "The recipient marked it as spam." },
    rejected: { rank: 90, meaning: "SES accepted it, found a virus and did not deliver it." },
    suppressed: {
        rank: 90,
        meaning: "Not sent: a recipient bounced permanently or complained earlier (suppressedRecipients says how many).",
    },
    failed: { rank: 90, meaning: "It was not sent; the reason code says why (the worker's DLQ reason, or rendering-failure from SES)." },
    cancelled: { rank: 90, meaning: "Not sent: its sender cancelled it (DELETE) before its sendAt came." },
} as const;

/**
 * The statuses `DELETE /v1/emails/{id}` cancels: an email held for a future `sendAt` (`accepted` only when the
 * request had a `sendAt`, i.e. the API could not record `scheduled`). Any other status is a 409 naming it.
 */
export const EMAIL_CANCELLABLE_STATUSES = ["accepted", "scheduled"] as const satisfies readonly (keyof typeof EMAIL_STATUSES)[];

/**
 * The email API's routes (API Gateway HTTP API route keys are `METHOD path`). The component declares one
 * route per entry; the local API stand-in serves the same list.
 */
export const EMAIL_API_ROUTES = {
    send: { method: "POST", path: "/v1/emails" },
    status: { method: "GET", path: "/v1/emails/{id}" },
    cancel: { method: "DELETE", path: "/v1/emails/{id}" },
} as const;

/** `METHOD path` of every route, e.g. `DELETE /v1/emails/{id}`. */
export const EMAIL_API_ROUTE_KEYS: readonly string[] = Object.values(EMAIL_API_ROUTES).map((route) => `${route.method} ${route.path}`);

/** An email's status. */
export type EmailStatus = keyof typeof EMAIL_STATUSES;

/** Every status, in precedence order. */
export const EMAIL_STATUS_NAMES = Object.keys(EMAIL_STATUSES) as EmailStatus[];

/**
 * SES event publishing: the event types the configuration set publishes (the `MatchingEventTypes` of its
 * event destination, SES API v2 "EventDestination"), each with the `eventType` of its event record
 * ("Contents of event data that Amazon SES publishes"), the EventBridge `detail-type` it arrives as
 * (EventBridge "Amazon Simple Email Service events") and the status it records.
 */
export const EMAIL_SES_EVENTS = {
    SEND: { eventType: "Send", detailType: "Email Sent", status: "sent" },
    DELIVERY: { eventType: "Delivery", detailType: "Email Delivered", status: "delivered" },
    BOUNCE: { eventType: "Bounce", detailType: "Email Bounced", status: "bounced" },
    COMPLAINT: { eventType: "Complaint", detailType: "Email Complaint Received", status: "complained" },
    REJECT: { eventType: "Reject", detailType: "Email Rejected", status: "rejected" },
    DELIVERY_DELAY: { eventType: "DeliveryDelay", detailType: "Email Delivery Delayed", status: "delayed" },
    RENDERING_FAILURE: { eventType: "Rendering Failure", detailType: "Email Rendering Failed", status: "failed" },
} as const satisfies Record<string, { eventType: string; detailType: string; status: EmailStatus }>;

/** The SES message tag that carries the email id (the worker tags every SendEmail; SES returns it in `mail.tags`). */
export const EMAIL_ID_TAG = "emailId";

/** Longest email id the status API looks up (ids are UUIDs; anything else is an unknown id). */
export const EMAIL_ID_PATTERN = /^[A-Za-z0-9-]{1,128}$/;

/**
 * Key prefix of offloaded email content in the content bucket (`emails/<id>.json`). IAM scopes the API's
 * and the worker's object access to it, the bucket's lifecycle rule expires objects under it, and the
 * handlers write and read content there.
 */
export const EMAIL_CONTENT_PREFIX = "emails/";

/**
 * Name prefix of the worker's one-time schedules (`email-<id>`, `email-<id>-r<n>`). IAM scopes the
 * worker's `scheduler:CreateSchedule` to it; the worker names every schedule with it.
 */
export const EMAIL_SCHEDULE_NAME_PREFIX = "email-";

/**
 * Message attributes the worker sets on every email it sends to the DLQ. The operator tools
 * (`npm run dlq`, the local console) read them; runbooks quote them. A message without them was
 * moved by the queue's redrive policy (its retries ran out).
 */
export const EMAIL_DEAD_LETTER_ATTRIBUTES = {
    reason: "rejectionReason",
    detail: "rejectionDetail",
} as const;

/** Longest `rejectionDetail` the worker writes, in UTF-16 code units. */
export const EMAIL_DEAD_LETTER_MAX_DETAIL_LENGTH = 256;

/**
 * Why the worker sent an email to the DLQ, by code. The code is the DLQ `rejectionReason` attribute
 * and the `reason` of the `email dead-lettered` log line; runbooks and `npm run dlq -- redrive --reason`
 * key on it. Each value is the one-sentence meaning docs/email-service.md gives.
 */
export const EMAIL_REJECTION_REASONS = {
    "invalid-recipient": 'The provider refused every recipient (e.g. SMTP 550, SES "Illegal address").',
    "content-rejected": "The provider refused the content (SES MessageRejected, SMTP 552/554).",
    "sender-rejected":
        "SES refused the sender: not a verified identity (or, in the SES sandbox, a recipient is not), or its MAIL FROM domain is not verified; another provider must not send it either.",
    "request-rejected": "The provider refused the request as malformed (SES BadRequest, SMTP 501/555).",
    "malformed-message": "The queue message itself is not a valid v1 email message.",
    "content-missing": "The offloaded content is no longer in S3 (expired or deleted).",
    "retries-exhausted": "Still failing transiently after every deferred retry (e.g. a mailbox that keeps answering 451).",
} as const;

/** A dead-lettered email's reason code. */
export type EmailRejectionReason = keyof typeof EMAIL_REJECTION_REASONS;

/** Every rejection code, in documentation order. */
export const EMAIL_REJECTION_REASON_CODES = Object.keys(EMAIL_REJECTION_REASONS) as EmailRejectionReason[];

/**
 * EMF metric names (Count) the API and the worker emit, dimension `service` ({@link EMAIL_SERVICE_NAMES}).
 * The dashboard and the failover alarm read them.
 */
export const EMAIL_METRICS = {
    accepted: "EmailsAccepted",
    replayed: "EmailsReplayed",
    rejected: "EmailRequestsRejected",
    notAccepted: "EmailRequestsNotAccepted",
    offloaded: "EmailsOffloadedToS3",
    sent: "EmailsSent",
    sentBySecondary: "EmailsSentBySecondary",
    scheduled: "EmailsScheduled",
    deferred: "EmailDeliveriesDeferred",
    deadLettered: "EmailsDeadLettered",
    retried: "EmailDeliveriesRetried",
    duplicatesDropped: "EmailDuplicatesDropped",
    /** The status function: SES events that moved an email's status forward, and those that changed nothing. */
    statusEventsApplied: "EmailStatusEventsApplied",
    statusEventsStale: "EmailStatusEventsStale",
    /** The worker: emails not sent because a recipient is on the suppression list. */
    suppressed: "EmailsSuppressed",
    /** The API: emails cancelled by their sender (DELETE); the worker: released emails it did not send because they were cancelled. */
    cancelled: "EmailsCancelled",
    cancelledReleasesDropped: "EmailCancelledReleasesDropped",
    /** The notify function: status changes put on the status-change bus, and those EventBridge refused (retried). */
    statusChangesPublished: "EmailStatusChangesPublished",
    statusChangesNotPublished: "EmailStatusChangesNotPublished",
} as const;

/**
 * The event every status change of an email becomes on the stack's status-change bus (output
 * `emailStatusEventBusArn`): its `source`, its `detail-type` and the `version` its `detail` carries.
 * Consumers' rules match on them; docs/email-service.md gives the whole shape. Add fields; never
 * rename one (a new shape is a new version).
 */
export const EMAIL_STATUS_CHANGE_EVENT = {
    source: "event-ingestion.email",
    detailType: "Email Status Changed",
    version: "1",
} as const;

/**
 * Defaults of the API's limits and settings. Stack config defaults its `email*` keys to them (and the
 * component passes the values in the environment); the API handler falls back to them when a variable
 * or dependency is unset.
 */
export const EMAIL_API_DEFAULTS = {
    /** The limits the API enforces on a request. */
    limits: {
        /** Largest accepted request body, bytes (413 above); fits Lambda's 6 MB payload even base64-encoded. */
        maxRequestBytes: 4_194_304,
        /** Most recipients across to, cc and bcc (SES accepts 50). */
        maxRecipients: 50,
        /** Longest subject, characters (RFC 5322's line length). Not a stack setting. */
        maxSubjectLength: 998,
        /** Furthest a `sendAt` may be ahead, days. */
        maxScheduleAheadDays: 30,
    },
    /** Messages above this many bytes put their content in S3 (256 KB). */
    largeBodyThresholdBytes: 262_144,
    /** How long an Idempotency-Key is remembered, hours. */
    idempotencyTtlHours: 24,
    /** FIFO message groups per tenant. */
    tenantLanes: 4,
} as const;

/**
 * The SMTP relay secret's connection defaults, for the fields a secret or `emailSmtp` leaves out:
 * STARTTLS on the submission port, required. Stack config and the worker's secret parser apply them.
 */
export const EMAIL_SMTP_DEFAULTS = { port: 587, secure: false, requireTLS: true } as const;

/** The SMTP relay secret's JSON shape: stack config writes it (`emailSmtp` + `emailSmtpPassword`), the worker reads it. */
export interface SmtpSettings {
    host: string;
    /** @default EMAIL_SMTP_DEFAULTS.port (587) */
    port: number;
    /** Implicit TLS (port 465). @default false (STARTTLS when the server offers it) */
    secure: boolean;
    /** Refuse to send unless STARTTLS succeeds. @default true */
    requireTLS: boolean;
    username?: string;
    password?: string;
}

/**
 * True when `entries` (addresses and domains) cover the address `from`: an entry with `@` is one
 * address, an entry without is a domain covering every address at exactly that domain (list subdomains
 * separately); case-insensitive. What `emailSesIdentities` and `emailSenders` entries mean, for stack
 * config (which checks the senders against the identities) and the API (which checks every `from`).
 *
 * @example
 * senderCovered("shop@example.com", ["example.com"]); // true
 * senderCovered("shop@mail.example.com", ["example.com"]); // false: list the subdomain
 */
export function senderCovered(from: string, entries: readonly string[]): boolean {
    const address = from.trim().toLowerCase();
    const at = address.lastIndexOf("@");
    const domain = at >= 0 ? address.slice(at + 1) : address;
    return entries.some((entry) => {
        const normalized = entry.trim().toLowerCase();
        return normalized.includes("@") ? normalized === address : normalized === domain;
    });
}
