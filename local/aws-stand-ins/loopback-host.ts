/**
 * DNS-rebinding guard for the local HTTP listeners. They bind 127.0.0.1 only, but a web
 * page can point a name it controls at 127.0.0.1 and have the browser send requests
 * there, with that name in `Host`. Answering only requests addressed to the loopback
 * host and the port the listener bound closes that door (the same rule fauxqs-server.mjs
 * applies to the SQS/S3 emulator).
 */
import type * as http from "node:http";

/** Host names a local listener answers to (with its own port). */
export const LOOPBACK_HOST_NAMES: readonly string[] = ["127.0.0.1", "localhost"];

/** True when `host` (a `Host` header) names the loopback listener on `port`. */
export function isLoopbackHost(host: string | undefined, port: number): boolean {
    if (!host) return false;
    return LOOPBACK_HOST_NAMES.some((name) => host.toLowerCase() === `${name}:${port}`);
}

/**
 * Answers 403 and returns true when the request's `Host` is not this listener's loopback
 * address; call it first in a request handler.
 *
 * @example
 * http.createServer((req, res) => {
 *     if (refuseForeignHost(req, res)) return;
 *     ...
 * });
 */
export function refuseForeignHost(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const port = req.socket.localPort ?? 0;
    if (isLoopbackHost(req.headers.host, port)) return false;
    res.writeHead(403, { "content-type": "application/json", connection: "close" });
    res.end(
        JSON.stringify({
            message: `Host must be 127.0.0.1:${port} or localhost:${port} (this local listener refuses other names: DNS rebinding)`,
        }),
    );
    return true;
}
