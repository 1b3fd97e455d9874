/**
 * Primary provider: Amazon SES v2 `SendEmail`. Credentials are the Lambda role's;
 * nothing secret is configured here.
 */
import sesv2 = require("@aws-sdk/client-sesv2");
import { DeliveryError, permanentFailure, providerUnavailable, transientFailure } from "../errors";
import { headerSafeSubject } from "../mime";
import type { EmailContent, EmailProvider } from "../types";
import { EMAIL_ID_TAG } from "../../../contracts/email-service";

/** How to reach SES: the client and the configuration set to send through. */
export interface SesProviderOptions {
    client: sesv2.SESv2Client;
    /** SES configuration set (event publishing, dedicated IPs). */
    configurationSetName?: string;
}

/** SES errors after which SES cannot send anything until someone acts: fail over. */
const SES_UNAVAILABLE = new Set(["AccountSuspendedException", "SendingPausedException", "NotFoundException"]);

/**
 * Maps an SES error to a permanent or transient {@link DeliveryError}. Uses the
 * error's name and message to classify; never copies the message (it can quote
 * addresses).
 *
 * @example
 * classifySesError(error).permanent; // true for MessageRejected
 */
export function classifySesError(error: unknown): DeliveryError {
    const name = (error as Error)?.name ?? "Error";
    const message = String((error as Error)?.message ?? "");
    const code = `ses:${name}`;
    if (name === "MessageRejected") {
        // An unverified identity (the sender, or a recipient in the SES sandbox) is a refused sender: never
        // failed over, or SMTP (which checks no sender) would send as an identity SES would not let us use.
        if (/not verified|failed the check/i.test(message)) return permanentFailure("sender-rejected", `${code}:unverified-identity`);
        return permanentFailure("content-rejected", code);
    }
    if (name === "MailFromDomainNotVerifiedException") return permanentFailure("sender-rejected", code);
    if (name === "BadRequestException") {
        return /address|recipient|destination|mailbox/i.test(message)
            ? permanentFailure("invalid-recipient", code)
            : permanentFailure("request-rejected", code);
    }
    if (SES_UNAVAILABLE.has(name)) return providerUnavailable(code);
    return transientFailure(code);
}

/**
 * The subject goes through {@link headerSafeSubject}: SES folds header lines at whitespace,
 * so a subject with an unbreakable run longer than a line is sent as RFC 2047 encoded-words.
 *
 * @example
 * const primary = sesProvider({ client: new SESv2Client({}) });
 * await primary.send(content, emailId);
 */
export function sesProvider(options: SesProviderOptions): EmailProvider {
    return {
        name: "ses",
        async send(email: EmailContent, emailId: string) {
            const body: sesv2.Body = {};
            if (email.text !== undefined) body.Text = { Data: email.text, Charset: "UTF-8" };
            if (email.html !== undefined) body.Html = { Data: email.html, Charset: "UTF-8" };
            try {
                const result = await options.client.send(
                    new sesv2.SendEmailCommand({
                        FromEmailAddress: email.from,
                        Destination: { ToAddresses: email.to, CcAddresses: email.cc, BccAddresses: email.bcc },
                        Content: { Simple: { Subject: { Data: headerSafeSubject(email.subject), Charset: "UTF-8" }, Body: body } },
                        ConfigurationSetName: options.configurationSetName,
                        EmailTags: [{ Name: EMAIL_ID_TAG, Value: emailId }],
                    }),
                );
                return { provider: "ses", messageId: result.MessageId };
            } catch (error) {
                throw classifySesError(error);
            }
        },
    };
}
