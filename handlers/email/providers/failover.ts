/**
 * Primary → secondary failover behind an opossum circuit breaker.
 *
 * - A transient primary failure (throttling, 5xx, network, timeout, SES paused)
 *   counts against the primary and this email goes to the secondary at once.
 * - Once failures cross the threshold the circuit opens: emails go straight to the
 *   secondary, and after `resetTimeoutMs` one trial email probes the primary.
 * - A permanent failure (invalid recipient, rejected content) is the email's fault,
 *   not the provider's: it neither trips the circuit nor fails over (errorFilter),
 *   so a bad recipient is not sent through a second provider.
 */
import CircuitBreaker = require("opossum");
import type * as powertools from "@aws-lambda-powertools/logger";
import { isPermanent, transientFailure } from "../errors";
import type { EmailContent, EmailProvider, ProviderReceipt } from "../types";

/** The circuit breaker in front of the primary provider (opossum options). */
export interface BreakerOptions {
    /** A primary call slower than this counts as failed and fails over. @default 10000 */
    timeoutMs: number;
    /** Failure percentage (in the rolling window) that opens the circuit. @default 50 */
    errorThresholdPercentage: number;
    /** How long the circuit stays open before probing the primary again. @default 30000 */
    resetTimeoutMs: number;
    /** Calls in the window before the percentage is trusted. @default 5 */
    volumeThreshold: number;
    /** Rolling statistics window. @default 60000 */
    rollingCountTimeoutMs: number;
}

/** Breaker defaults: see docs/email-service.md, "Circuit breaker". */
export const DEFAULT_BREAKER_OPTIONS: BreakerOptions = {
    timeoutMs: 10_000,
    errorThresholdPercentage: 50,
    resetTimeoutMs: 30_000,
    volumeThreshold: 5,
    rollingCountTimeoutMs: 60_000,
};

/** Sends through the primary provider, failing over to the secondary while the primary is unavailable. */
export interface FailoverMailer {
    send(email: EmailContent, emailId: string): Promise<ProviderReceipt>;
    /** `closed` (primary in use), `open` (secondary in use) or `halfOpen` (probing). */
    state(): "closed" | "open" | "halfOpen";
    /** Stops the breaker's timers (tests, local shutdown). */
    shutdown(): void;
}

/**
 * @example
 * const mailer = createFailoverMailer({ primary: sesProvider({ client }), secondary: smtpProvider({ transport }) });
 * const receipt = await mailer.send(content, emailId); // receipt.provider is "ses" or "smtp"
 */
export function createFailoverMailer(options: {
    primary: EmailProvider;
    secondary?: EmailProvider;
    breaker?: Partial<BreakerOptions>;
    logger?: powertools.Logger;
}): FailoverMailer {
    const settings = { ...DEFAULT_BREAKER_OPTIONS, ...(options.breaker ?? {}) };
    const { primary, secondary, logger } = options;
    const breaker = new CircuitBreaker((email: EmailContent, emailId: string) => primary.send(email, emailId), {
        timeout: settings.timeoutMs,
        errorThresholdPercentage: settings.errorThresholdPercentage,
        resetTimeout: settings.resetTimeoutMs,
        volumeThreshold: settings.volumeThreshold,
        rollingCountTimeout: settings.rollingCountTimeoutMs,
        errorFilter: (error: unknown) => isPermanent(error),
        name: `${primary.name}-breaker`,
    });
    if (secondary) {
        breaker.fallback((email: EmailContent, emailId: string) => secondary.send(email, emailId));
    }
    breaker.on("open", () =>
        logger?.warn("primary provider circuit opened; sending through the secondary", {
            primary: primary.name,
            secondary: secondary?.name,
        }),
    );
    breaker.on("halfOpen", () => logger?.info("probing the primary provider", { primary: primary.name }));
    breaker.on("close", () => logger?.info("primary provider circuit closed", { primary: primary.name }));

    return {
        async send(email, emailId) {
            try {
                return (await breaker.fire(email, emailId)) as ProviderReceipt;
            } catch (error) {
                const code = (error as { code?: string }).code;
                // opossum's own errors (open circuit without a secondary, timeout) are transient.
                if (code === "EOPENBREAKER" || code === "ETIMEDOUT") throw transientFailure(`${primary.name}:${code}`);
                throw error;
            }
        },
        state() {
            return breaker.opened ? "open" : breaker.halfOpen ? "halfOpen" : "closed";
        },
        shutdown() {
            breaker.shutdown();
        },
    };
}
