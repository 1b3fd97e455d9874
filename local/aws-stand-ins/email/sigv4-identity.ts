/**
 * The local stand-in for API Gateway's IAM authorization (HTTP API, `AWS_IAM` routes):
 * a request must carry a SigV4 signature for service `execute-api`, and the caller is
 * identified by the signature's access key ("Control access to HTTP APIs with IAM
 * authorization in API Gateway", https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-access-control-iam.html).
 * The handler then sees `requestContext.authorizer.iam` as payload format 2.0 fills it.
 *
 * Local rule (there is no IAM here): ANY access key is a principal of its own, and its
 * signature must be made with the one local secret the READY line announces
 * (`credentials.secretAccessKey`). So `AWS_ACCESS_KEY_ID=someone-else` signs as another
 * principal. A refused request gets API Gateway's 403 with its `x-amzn-errortype` and message
 * ("How do I troubleshoot HTTP 403 errors from API Gateway?",
 * https://repost.aws/knowledge-center/api-gateway-troubleshoot-403-forbidden): no signature is
 * `MissingAuthenticationTokenException` "Missing Authentication Token"; another secret, a changed
 * request or a malformed signature is `InvalidSignatureException` "The request signature we
 * calculated does not match…"; a signature more than 5 minutes off is `InvalidSignatureException`
 * "Signature expired". Each names what to fix, and none echoes what the client sent.
 */
import * as crypto from "node:crypto";
import { Hash } from "@smithy/core/serde";
import { SignatureV4 } from "@smithy/signature-v4";

/** What API Gateway puts in `requestContext.authorizer.iam` for an IAM-authorized caller. */
export interface IamAuthorizerContext {
    accessKey: string;
    accountId: string;
    callerId: string;
    cognitoIdentity: null;
    principalOrgId: string | null;
    userArn: string;
    userId: string;
}

export type SignatureCheck =
    | { ok: true; iam: IamAuthorizerContext }
    | { ok: false; status: 403; errorType: "MissingAuthenticationTokenException" | "InvalidSignatureException"; message: string };

export interface SignedRequest {
    method: string;
    /** Path with its query string, as sent (`/v1/emails/abc?x=1`). */
    url: string;
    /** Lower-case header names. */
    headers: Record<string, string | string[] | undefined>;
    body: Buffer;
}

export interface LocalSignatureOptions {
    /** The one secret every local access key signs with (the READY line's `credentials.secretAccessKey`). */
    secretAccessKey: string;
    /** The account callers belong to. @default "000000000000" */
    accountId?: string;
    /** @default () => new Date() */
    now?: () => Date;
}

/** SigV4's allowed clock skew. */
export const SIGNATURE_MAX_SKEW_MS = 5 * 60_000;

/** An access key names an IAM user locally: it must fit an IAM user name (`[\w+=,.@-]`, 1-64). */
const ACCESS_KEY = /^[\w+=,.@-]{1,64}$/;
const AUTHORIZATION =
    /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9-]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;

/** API Gateway's answers to a request its IAM authorization refuses. */
export const SIGNATURE_REFUSALS = {
    missing: { ok: false, status: 403, errorType: "MissingAuthenticationTokenException", message: "Missing Authentication Token" },
    mismatch: {
        ok: false,
        status: 403,
        errorType: "InvalidSignatureException",
        message:
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
    },
    expired: {
        ok: false,
        status: 403,
        errorType: "InvalidSignatureException",
        message: "Signature expired: the request was signed more than 5 minutes from the server's time.",
    },
} as const satisfies Record<string, SignatureCheck>;
const FORBIDDEN = SIGNATURE_REFUSALS.mismatch;

/**
 * The identity API Gateway reports for a caller signing with `accessKey` (an IAM user of that name).
 *
 * @example
 * localIamIdentity("someone-else"); // { accessKey: "someone-else", userArn: "arn:aws:iam::000000000000:user/someone-else", ... }
 */
export function localIamIdentity(accessKey: string, accountId = "000000000000"): IamAuthorizerContext {
    // A stable unique id per key, shaped like an IAM user id (AIDA…).
    const userId = `AIDA${crypto.createHash("sha256").update(accessKey).digest("hex").slice(0, 17).toUpperCase()}`;
    return {
        accessKey,
        accountId,
        callerId: userId,
        cognitoIdentity: null,
        principalOrgId: null,
        userArn: `arn:aws:iam::${accountId}:user/${accessKey}`,
        userId,
    };
}

function single(value: string | string[] | undefined): string | undefined {
    return Array.isArray(value) ? value.join(",") : value;
}

/**
 * Checks a request's SigV4 signature (Authorization header, service `execute-api`) against the local secret.
 *
 * @example
 * const check = await verifyLocalSignature({ method, url: req.url, headers: req.headers, body }, { secretAccessKey });
 * if (!check.ok) reply(check.status, { message: check.message });
 */
export async function verifyLocalSignature(request: SignedRequest, options: LocalSignatureOptions): Promise<SignatureCheck> {
    const authorization = single(request.headers.authorization);
    const amzDate = single(request.headers["x-amz-date"]);
    if (!authorization) return SIGNATURE_REFUSALS.missing;
    if (!amzDate) return FORBIDDEN;
    const match = AUTHORIZATION.exec(authorization.trim());
    if (!match) return FORBIDDEN;
    const [, accessKey, day, region, service, signedHeaderList, signature] = match;
    if (!ACCESS_KEY.test(accessKey) || service !== "execute-api") return FORBIDDEN;
    const dated = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
    if (!dated || `${dated[1]}${dated[2]}${dated[3]}` !== day) return FORBIDDEN;
    const signedAt = new Date(`${dated[1]}-${dated[2]}-${dated[3]}T${dated[4]}:${dated[5]}:${dated[6]}Z`);
    const now = (options.now ?? (() => new Date()))();
    if (Number.isNaN(signedAt.getTime())) return FORBIDDEN;
    if (Math.abs(now.getTime() - signedAt.getTime()) > SIGNATURE_MAX_SKEW_MS) return SIGNATURE_REFUSALS.expired;
    const signedHeaders = signedHeaderList.split(";");
    if (!signedHeaders.includes("host")) return FORBIDDEN;
    const headers: Record<string, string> = {};
    for (const name of signedHeaders) {
        const value = single(request.headers[name]);
        if (value === undefined) return FORBIDDEN;
        headers[name] = value;
    }
    // A payload hash the client sent must be the body's: the signer would otherwise trust the header.
    const payloadHash = single(request.headers["x-amz-content-sha256"]);
    if (payloadHash !== undefined && payloadHash !== crypto.createHash("sha256").update(request.body).digest("hex")) return FORBIDDEN;
    const url = new URL(request.url, "http://localhost");
    const query: Record<string, string | string[]> = {};
    url.searchParams.forEach((value, key) => {
        const previous = query[key];
        query[key] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
    });
    const signer = new SignatureV4({
        service,
        region,
        credentials: { accessKeyId: accessKey, secretAccessKey: options.secretAccessKey },
        sha256: Hash.bind(null, "sha256"),
        // Sign exactly the headers the client signed: no payload-hash header of our own.
        applyChecksum: false,
    });
    const expected = await signer.sign(
        { method: request.method, protocol: "http:", hostname: "localhost", path: url.pathname, query, headers, body: request.body },
        { signingDate: signedAt, unsignableHeaders: new Set(), signableHeaders: new Set(signedHeaders) },
    );
    const expectedSignature = /Signature=([0-9a-f]{64})/.exec(String(expected.headers.authorization ?? ""))?.[1] ?? "";
    const same =
        expectedSignature.length === signature.length && crypto.timingSafeEqual(Buffer.from(expectedSignature), Buffer.from(signature));
    return same ? { ok: true, iam: localIamIdentity(accessKey, options.accountId) } : FORBIDDEN;
}

/** Credentials, or a provider of them (the SDK's credential chain). */
export type SigningCredentials =
    | { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
    | (() => Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string }>);

/**
 * The headers of a request signed for API Gateway with IAM authorization (SigV4, service `execute-api`),
 * for a deployed API (the caller's credentials) or the local one (any access key, the local secret).
 *
 * @example
 * const headers = await signedApiHeaders({ method: "GET", url, region: "us-east-1", credentials: { accessKeyId: "me", secretAccessKey } });
 * await fetch(url, { headers });
 */
export async function signedApiHeaders(request: {
    method: string;
    url: string;
    body?: string;
    region: string;
    headers?: Record<string, string>;
    credentials: SigningCredentials;
}): Promise<Record<string, string>> {
    const parsed = new URL(request.url);
    const signer = new SignatureV4({
        service: "execute-api",
        region: request.region,
        credentials: request.credentials,
        sha256: Hash.bind(null, "sha256"),
    });
    const query: Record<string, string> = {};
    parsed.searchParams.forEach((value, key) => (query[key] = value));
    const signed = await signer.sign({
        method: request.method,
        protocol: parsed.protocol,
        hostname: parsed.hostname,
        port: parsed.port ? Number(parsed.port) : undefined,
        path: parsed.pathname,
        query,
        headers: { ...(request.headers ?? {}), host: parsed.host },
        ...(request.body !== undefined ? { body: request.body } : {}),
    });
    const out: Record<string, string> = {};
    // fetch sets Host itself (to the same value that was signed).
    for (const [name, value] of Object.entries(signed.headers)) if (name.toLowerCase() !== "host") out[name] = String(value);
    return out;
}

/**
 * `fetch` signed for the local email API: `accessKeyId` is the principal, the secret is the local one.
 *
 * @example
 * const response = await localSignedFetch(`${apiUrl}/${id}`, { method: "GET" }, { accessKeyId: "someone-else", secretAccessKey });
 */
export async function localSignedFetch(
    url: string,
    init: { method: string; headers?: Record<string, string>; body?: string },
    credentials: { accessKeyId: string; secretAccessKey: string },
    region = "us-east-1",
): Promise<Response> {
    const headers = await signedApiHeaders({ method: init.method, url, body: init.body, region, headers: init.headers, credentials });
    return fetch(url, { method: init.method, headers, ...(init.body !== undefined ? { body: init.body } : {}) });
}
