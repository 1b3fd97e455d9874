/**
 * Secondary provider: any SMTP relay (SendGrid, Mailgun, Postmark, a local sink)
 * through nodemailer. Host and credentials come from a Secrets Manager secret,
 * read once and cached, so a rotated password is picked up within `cacheTtlMs`.
 *
 * nodemailer is loaded on the first SMTP send, not at cold start: only the failover
 * path needs it, and it is half a megabyte of code and about 40 ms to load. The
 * worker gets it from the stack's SMTP layer (components/email-service/email-service.ts), so it
 * is not in the worker's archive either.
 */
import type nodemailer = require("nodemailer");
import type secrets = require("@aws-sdk/client-secrets-manager");
import v = require("valibot");
import { DeliveryError, isProviderUnavailable, permanentFailure, providerUnavailable, transientFailure } from "../errors";
import { smtpMailOptions } from "../mime";
import { type Deferred, resolveDeferred } from "../../shared/deferred";
import type { EmailContent, EmailProvider } from "../types";
import { EMAIL_SMTP_DEFAULTS, type SmtpSettings } from "../../../contracts/email-service";

/** The SMTP secret's JSON shape (contracts/email-service.ts: stack config writes it). */
export type { SmtpSettings };

function smtpSettingsSchema() {
    return v.object({
        host: v.pipe(v.string(), v.nonEmpty()),
        port: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65535)), EMAIL_SMTP_DEFAULTS.port),
        secure: v.optional(v.boolean(), EMAIL_SMTP_DEFAULTS.secure),
        requireTLS: v.optional(v.boolean(), EMAIL_SMTP_DEFAULTS.requireTLS),
        username: v.optional(v.string()),
        password: v.optional(v.string()),
    });
}

/**
 * Parses the secret's JSON; the problem list names fields, never values.
 *
 * @example
 * const settings = parseSmtpSettings(secretString); // throws naming the bad fields, never their values
 */
export function parseSmtpSettings(text: string): SmtpSettings | string[] {
    let json: unknown;
    try {
        json = JSON.parse(text);
    } catch {
        return ["secret is not valid JSON"];
    }
    const result = v.safeParse(smtpSettingsSchema(), json, { abortEarly: false });
    if (!result.success)
        return result.issues.map(
            (issue) =>
                `${issue.path?.map((step) => String((step as { key: unknown }).key)).join(".") ?? "secret"}: ${issue.expected ?? "invalid"}`,
        );
    return result.output;
}

/** The Secrets Manager client module, loaded on the first SMTP send (see handlers/shared/deferred.ts). */
export function secretsSdk(): typeof secrets {
    return require("@aws-sdk/client-secrets-manager") as typeof secrets;
}

/** nodemailer, required on first use (see the module comment). */
export function loadNodemailer(): typeof nodemailer {
    return require("nodemailer") as typeof nodemailer;
}

/**
 * Creates the nodemailer transport for settings; timeouts sized for a Lambda.
 *
 * @example
 * const transport = smtpTransport({ host: "smtp.example.com", port: 587, secure: false, requireTLS: true });
 */
export function smtpTransport(settings: SmtpSettings): nodemailer.Transporter {
    return loadNodemailer().createTransport({
        host: settings.host,
        port: settings.port,
        secure: settings.secure,
        requireTLS: settings.requireTLS,
        ...(settings.username ? { auth: { user: settings.username, pass: settings.password ?? "" } } : {}),
        connectionTimeout: 5_000,
        greetingTimeout: 5_000,
        socketTimeout: 15_000,
        // Never let nodemailer log envelopes or content.
        logger: false,
        debug: false,
    });
}

/**
 * A transport factory that reads the SMTP settings from Secrets Manager, caching
 * them for `cacheTtlMs`. A missing, empty or invalid secret means "SMTP not
 * configured": the provider is unavailable, the email is retried.
 *
 * @example
 * const transport = transportFromSecret(secretsClient, process.env.EMAIL_SMTP_SECRET_ARN!);
 */
export function transportFromSecret(
    client: Deferred<secrets.SecretsManagerClient>,
    secretId: string,
    cacheTtlMs = 5 * 60_000,
    now: () => number = Date.now,
) {
    let cached: { transport: nodemailer.Transporter; at: number } | undefined;
    return async (): Promise<nodemailer.Transporter> => {
        if (cached && now() - cached.at < cacheTtlMs) return cached.transport;
        let text: string | undefined;
        try {
            text = (await resolveDeferred(client).send(new (secretsSdk().GetSecretValueCommand)({ SecretId: secretId }))).SecretString;
        } catch (error) {
            const name = (error as Error).name;
            throw providerUnavailable(name === "ResourceNotFoundException" ? "smtp:not-configured" : `secretsmanager:${name}`);
        }
        if (!text) throw providerUnavailable("smtp:not-configured");
        const settings = parseSmtpSettings(text);
        if (Array.isArray(settings)) throw providerUnavailable("smtp:invalid-secret", `SMTP secret is invalid: ${settings.join("; ")}`);
        cached?.transport.close();
        cached = { transport: smtpTransport(settings), at: now() };
        return cached.transport;
    };
}

/**
 * Maps a nodemailer error to a permanent or transient delivery error by its SMTP
 * reply code and stage, never by copying its message (it quotes addresses).
 *
 * @example
 * classifySmtpError({ responseCode: 550, command: "RCPT TO" }).reason; // "invalid-recipient"
 */
export function classifySmtpError(error: unknown): DeliveryError {
    if (isProviderUnavailable(error)) return error;
    const failure = error as { code?: string; responseCode?: number; command?: string };
    const status = typeof failure.responseCode === "number" ? failure.responseCode : undefined;
    const code = `smtp:${status ?? failure.code ?? "error"}`;
    if (status === undefined) {
        // No reply: connection refused, DNS, TLS, timeout.
        return providerUnavailable(code);
    }
    if (status >= 400 && status < 500) return transientFailure(code);
    if (failure.code === "EAUTH" || status === 530 || status === 535 || status === 534) {
        // Our credentials are wrong: a configuration problem, not the email's.
        return providerUnavailable(code);
    }
    const recipientStage = failure.code === "EENVELOPE" || /^RCPT/i.test(failure.command ?? "");
    if (recipientStage || status === 550 || status === 551 || status === 553) {
        return permanentFailure(recipientStage || status !== 550 ? "invalid-recipient" : "content-rejected", code);
    }
    if (status === 552 || status === 554) return permanentFailure("content-rejected", code);
    return permanentFailure("request-rejected", code);
}

/** How to reach the SMTP relay. */
export interface SmtpProviderOptions {
    /** Returns the transport to use (e.g. {@link transportFromSecret}). */
    transport: () => Promise<nodemailer.Transporter>;
}

/**
 * @example
 * const secondary = smtpProvider({ transport: transportFromSecret(new SecretsManagerClient({}), secretArn) });
 */
export function smtpProvider(options: SmtpProviderOptions): EmailProvider {
    return {
        name: "smtp",
        async send(email: EmailContent, emailId: string) {
            try {
                const transport = await options.transport();
                const info = await transport.sendMail(smtpMailOptions(email, emailId));
                const rejected = Array.isArray(info.rejected) ? info.rejected.length : 0;
                return { provider: "smtp", messageId: info.messageId, ...(rejected > 0 ? { rejectedRecipients: rejected } : {}) };
            } catch (error) {
                throw classifySmtpError(error);
            }
        },
    };
}
