/**
 * Small HTTP helpers for API Gateway HTTP API (payload v2) events.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import type { FieldError } from "./types";

/** An HTTP API v2 event, with the IAM authorizer context when the route uses AWS_IAM. */
export type EmailApiEvent = APIGatewayProxyEventV2 & {
    requestContext: APIGatewayProxyEventV2["requestContext"] & {
        authorizer?: { iam?: { accountId?: string; userArn?: string; callerId?: string } };
    };
};
/** The API handler's answer (API Gateway HTTP API, payload format 2.0). */
export type EmailApiResult = APIGatewayProxyStructuredResultV2;

/**
 * Case-insensitive header lookup (API Gateway lowercases names; be lenient anyway).
 *
 * @example
 * header(event, "content-type"); // "application/json; charset=utf-8"
 */
export function header(event: Pick<APIGatewayProxyEventV2, "headers">, name: string): string | undefined {
    const wanted = name.toLowerCase();
    for (const [key, value] of Object.entries(event.headers ?? {})) {
        if (key.toLowerCase() === wanted) return value;
    }
    return undefined;
}

/** True for `application/json` and `application/*+json`, with any parameters. */
export function isJsonContentType(value: string | undefined): boolean {
    if (!value) return false;
    const media = value.split(";")[0].trim().toLowerCase();
    return media === "application/json" || /^application\/[a-z0-9.+-]+\+json$/.test(media);
}

/** The raw request body as bytes (API Gateway may base64-encode it). */
export function bodyBytes(event: Pick<APIGatewayProxyEventV2, "body" | "isBase64Encoded">): Buffer {
    if (event.body === undefined || event.body === null) return Buffer.alloc(0);
    return event.isBase64Encoded ? Buffer.from(event.body, "base64") : Buffer.from(event.body, "utf8");
}

/** How each accepted charset turns bytes into text; every other charset is refused with 415. */
type Decoder = (bytes: Buffer) => string | undefined;

function textDecoder(label: string): Decoder {
    return (bytes) => {
        try {
            return new TextDecoder(label, { fatal: true }).decode(bytes);
        } catch {
            return undefined;
        }
    };
}

/**
 * Charsets a request body may declare (`Content-Type: application/json; charset=…`), by
 * lowercased label. JSON is UTF-8 (RFC 8259 §8.1), the default; the others are decoded
 * exactly, never guessed: ISO-8859-1 byte for byte (TextDecoder would treat it as
 * windows-1252), US-ASCII only when every byte is below 0x80, UTF-8 and UTF-16 fatally
 * (an invalid sequence is an error, not U+FFFD).
 *
 * @example
 * charsetDecoder("iso-8859-1")?.(Buffer.from([0xe9])); // "é"
 */
export function charsetDecoder(charset: string): Decoder | undefined {
    switch (charset) {
        case "utf-8":
        case "utf8":
            return textDecoder("utf-8");
        case "us-ascii":
        case "ascii":
            return (bytes) => (bytes.every((byte) => byte < 0x80) ? bytes.toString("latin1") : undefined);
        case "iso-8859-1":
        case "iso8859-1":
        case "iso_8859-1":
        case "latin1":
        case "l1":
            return (bytes) => bytes.toString("latin1");
        case "windows-1252":
        case "cp1252":
            return textDecoder("windows-1252");
        case "iso-8859-15":
        case "latin9":
            return textDecoder("iso-8859-15");
        case "utf-16le":
        case "utf-16be":
            return textDecoder(charset);
        default:
            return undefined;
    }
}

/** The charsets {@link charsetDecoder} knows, for error messages and docs. */
export const SUPPORTED_CHARSETS: readonly string[] = [
    "utf-8",
    "us-ascii",
    "iso-8859-1 (latin1)",
    "windows-1252",
    "iso-8859-15",
    "utf-16le",
    "utf-16be",
];

/**
 * The `charset` parameter of a Content-Type, lowercased and unquoted (`utf-8` when absent).
 *
 * @example
 * charsetOf("application/json; charset=UTF-8"); // "utf-8"
 */
export function charsetOf(contentType: string | undefined): string {
    for (const parameter of (contentType ?? "").split(";").slice(1)) {
        const [name, ...rest] = parameter.split("=");
        if (name.trim().toLowerCase() === "charset")
            return rest
                .join("=")
                .trim()
                .replace(/^"(.*)"$/, "$1")
                .toLowerCase();
    }
    return "utf-8";
}

/**
 * A JSON answer with `statusCode` and extra headers.
 *
 * @example
 * return json(202, { id: emailId });
 */
export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): EmailApiResult {
    return {
        statusCode,
        headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
        body: JSON.stringify(body),
    };
}

/**
 * `{ error, message, errors? }`, the body of every non-2xx answer.
 *
 * @example
 * return problem(415, "UnsupportedMediaType", "Content-Type must be application/json.");
 */
export function problem(statusCode: number, error: string, message: string, errors?: FieldError[]): EmailApiResult {
    return json(statusCode, { error, message, ...(errors ? { errors } : {}) });
}
