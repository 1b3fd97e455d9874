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
export type EmailApiResult = APIGatewayProxyStructuredResultV2;

/** Case-insensitive header lookup (API Gateway lowercases names; be lenient anyway). */
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

export function json(statusCode: number, body: unknown, headers: Record<string, string> = {}): EmailApiResult {
    return {
        statusCode,
        headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
        body: JSON.stringify(body),
    };
}

/** `{ error, message, errors? }`, the body of every non-2xx answer. */
export function problem(statusCode: number, error: string, message: string, errors?: FieldError[]): EmailApiResult {
    return json(statusCode, { error, message, ...(errors ? { errors } : {}) });
}
