/**
 * Serves an API Gateway HTTP API (payload v2) Lambda handler on a loopback port:
 * the request becomes the same event API Gateway would send, the handler's result
 * becomes the HTTP response. Routes only the deployed API's routes (`POST /v1/emails`,
 * `GET` and `DELETE /v1/emails/{id}`: EMAIL_API_ROUTES), matching `{param}` segments as API Gateway does and passing
 * them as `pathParameters`. With `authorize` (the email service passes sigv4-identity.ts's check), every
 * route requires IAM authorization as deployed: an unsigned or badly signed request is refused with
 * API Gateway's 403 (`x-amzn-errortype` and message as API Gateway answers), and a signed one reaches the handler with
 * `requestContext.authorizer.iam` filled from the signature's access key.
 */
import * as http from "node:http";
import * as crypto from "node:crypto";
import type { AddressInfo } from "node:net";
import { isUtf8 } from "node:buffer";
import { refuseForeignHost } from "../loopback-host";
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from "aws-lambda";
import type { IamAuthorizerContext, SignatureCheck } from "./sigv4-identity";
import { EMAIL_API_ROUTE_KEYS } from "../../../contracts/email-service";

/** API Gateway's own payload limit: bigger requests never reach the Lambda. */
export const API_GATEWAY_MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

export interface LocalHttpApi {
    /** `http://127.0.0.1:<port>` */
    readonly url: string;
    readonly port: number;
    stop(): Promise<void>;
}

type Handler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

/** The routes the deployed email API declares (one list, contracts/email-service.ts, for the component and this stand-in). */
export const EMAIL_API_ROUTES: readonly string[] = EMAIL_API_ROUTE_KEYS;

/**
 * The route (`METHOD /path/{param}`) a request matches and its path parameters; undefined when none.
 * A `{param}` matches one non-empty path segment, as in API Gateway HTTP API routes.
 *
 * @example
 * matchRoute(["GET /v1/emails/{id}"], "GET", "/v1/emails/abc"); // { routeKey: "GET /v1/emails/{id}", pathParameters: { id: "abc" } }
 */
export function matchRoute(
    routes: Iterable<string>,
    method: string,
    path: string,
): { routeKey: string; pathParameters?: Record<string, string> } | undefined {
    const segments = path.split("/");
    for (const routeKey of routes) {
        const [routeMethod, routePath] = routeKey.split(" ");
        const template = routePath.split("/");
        if (routeMethod !== method || template.length !== segments.length) continue;
        const parameters: Record<string, string> = {};
        const matches = template.every((part, index) => {
            const name = /^\{([^}]+)\}$/.exec(part)?.[1];
            if (!name) return part === segments[index];
            if (segments[index] === "") return false;
            try {
                parameters[name] = decodeURIComponent(segments[index]);
            } catch {
                return false;
            }
            return true;
        });
        if (matches) return { routeKey, ...(Object.keys(parameters).length > 0 ? { pathParameters: parameters } : {}) };
    }
    return undefined;
}

/** Converts a Node request to an HTTP API v2 event. */
export function toHttpApiEvent(
    req: http.IncomingMessage,
    body: Buffer,
    routeKey: string,
    pathParameters?: Record<string, string>,
    iam?: IamAuthorizerContext,
): APIGatewayProxyEventV2 {
    const url = new URL(req.url ?? "/", "http://localhost");
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(",") : value;
    }
    // A text body that is not UTF-8 (another declared charset, or invalid bytes) goes base64-encoded,
    // as API Gateway does for binary payloads: a UTF-8 string would replace its bytes with U+FFFD.
    const contentType = headers["content-type"] ?? "";
    const declared = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType)?.[1].toLowerCase();
    const textual =
        /json|text|xml|x-www-form-urlencoded/i.test(contentType) && (declared === undefined || /^utf-?8$/.test(declared)) && isUtf8(body);
    const now = new Date();
    return {
        version: "2.0",
        routeKey,
        rawPath: url.pathname,
        rawQueryString: url.search.replace(/^\?/, ""),
        headers,
        requestContext: {
            accountId: "000000000000",
            apiId: "local",
            ...(iam ? { authorizer: { iam } } : {}),
            domainName: headers.host ?? "127.0.0.1",
            domainPrefix: "local",
            http: {
                method: req.method ?? "GET",
                path: url.pathname,
                protocol: `HTTP/${req.httpVersion}`,
                sourceIp: req.socket.remoteAddress ?? "127.0.0.1",
                userAgent: headers["user-agent"] ?? "",
            },
            requestId: crypto.randomUUID(),
            routeKey,
            stage: "$default",
            time: now.toUTCString(),
            timeEpoch: now.getTime(),
        },
        ...(pathParameters ? { pathParameters } : {}),
        body: body.length === 0 ? undefined : textual ? body.toString("utf8") : body.toString("base64"),
        isBase64Encoded: body.length > 0 && !textual,
    };
}

/**
 * @example
 * const api = await serveHttpApi(createEmailApi(deps), { routes: ["POST /v1/emails"] });
 * await fetch(`${api.url}/v1/emails`, { method: "POST", ... });
 * await api.stop();
 */
export async function serveHttpApi(
    handler: Handler,
    options: {
        port?: number;
        routes?: readonly string[];
        /** IAM authorization of every route (see sigv4-identity.ts). @default none: requests reach the handler unauthenticated */
        authorize?: (request: { method: string; url: string; headers: http.IncomingHttpHeaders; body: Buffer }) => Promise<SignatureCheck>;
    } = {},
): Promise<LocalHttpApi> {
    const routes = options.routes ?? EMAIL_API_ROUTES;
    const server = http.createServer((req, res) => {
        if (refuseForeignHost(req, res)) return undefined;
        const path = new URL(req.url ?? "/", "http://localhost").pathname;
        const route = matchRoute(routes, req.method ?? "GET", path);
        const reply = (status: number, headers: Record<string, string>, body: string) => {
            res.writeHead(status, headers);
            res.end(body);
        };
        if (!route) return reply(404, { "content-type": "application/json" }, JSON.stringify({ message: "Not Found" }));
        const chunks: Buffer[] = [];
        let size = 0;
        let tooLarge = false;
        req.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > API_GATEWAY_MAX_PAYLOAD_BYTES) tooLarge = true;
            else chunks.push(chunk);
        });
        req.on("end", () => {
            if (tooLarge)
                return reply(413, { "content-type": "application/json" }, JSON.stringify({ message: "Request Entity Too Large" }));
            const body = Buffer.concat(chunks);
            const authorized: Promise<SignatureCheck | undefined> = options.authorize
                ? options.authorize({ method: req.method ?? "GET", url: req.url ?? "/", headers: req.headers, body })
                : Promise.resolve(undefined);
            authorized
                .then((check) => {
                    if (check && !check.ok) {
                        reply(
                            check.status,
                            { "content-type": "application/json", "x-amzn-errortype": check.errorType },
                            JSON.stringify({ message: check.message }),
                        );
                        return undefined;
                    }
                    return handler(toHttpApiEvent(req, body, route.routeKey, route.pathParameters, check?.iam));
                })
                .then(
                    (result) => {
                        if (!result) return;
                        const headers: Record<string, string> = {};
                        for (const [key, value] of Object.entries(result.headers ?? {})) headers[key] = String(value);
                        const text = result.body ?? "";
                        reply(result.statusCode ?? 200, headers, result.isBase64Encoded ? Buffer.from(text, "base64").toString() : text);
                    },
                    () => reply(500, { "content-type": "application/json" }, JSON.stringify({ message: "Internal Server Error" })),
                );
        });
        return undefined;
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    return {
        url: `http://127.0.0.1:${port}`,
        port,
        stop: () =>
            new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
}
