/**
 * A stand-in for the two AWS KMS operations of HMAC keys the stack uses, `GenerateMac` and
 * `VerifyMac` (AWS KMS API Reference; "HMAC keys in AWS KMS", AWS KMS Developer Guide),
 * on 127.0.0.1, for the real SDK client through its endpoint (`AWS_ENDPOINT_URL_KMS`).
 * Each key's material is given by the caller (random per run); HMAC_SHA_256 with it is
 * what KMS computes for a key of spec HMAC_256, so a local operator tool holding the same
 * material signs what this stand-in verifies. Only HMAC_SHA_256.
 * Errors as KMS answers them: `NotFoundException` for an unknown key,
 * `KMSInvalidMacException` for a MAC that does not verify.
 */
import * as crypto from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { refuseForeignHost } from "./loopback-host";

export interface LocalKms {
    /** `http://127.0.0.1:<port>` */
    readonly endpoint: string;
    /** GenerateMac and VerifyMac calls answered, in order */
    readonly calls: ReadonlyArray<{ operation: string; keyId: string }>;
    stop(): Promise<void>;
}

const ALGORITHM = "HMAC_SHA_256";

/**
 * @example
 * const kms = await startLocalKms(new Map([["arn:aws:kms:us-east-1:123456789012:key/abc", crypto.randomBytes(32)]]));
 * // AWS_ENDPOINT_URL_KMS = kms.endpoint
 */
export async function startLocalKms(keys: ReadonlyMap<string, Buffer>): Promise<LocalKms> {
    const calls: Array<{ operation: string; keyId: string }> = [];
    const answer = (res: http.ServerResponse, status: number, body: object, errorType?: string) => {
        res.writeHead(status, { "content-type": "application/x-amz-json-1.1", ...(errorType ? { "x-amzn-errortype": errorType } : {}) });
        res.end(JSON.stringify(errorType ? { __type: errorType, message: (body as { message?: string }).message } : body));
    };
    const server = http.createServer((req, res) => {
        if (refuseForeignHost(req, res)) return;
        const chunks: Buffer[] = [];
        req.on("data", (chunk: Buffer) => chunks.push(chunk));
        req.on("end", () => {
            const operation = String(req.headers["x-amz-target"] ?? "").replace("TrentService.", "");
            let body: { KeyId?: string; Message?: string; Mac?: string; MacAlgorithm?: string };
            try {
                body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}");
            } catch {
                return answer(res, 400, { message: "The request body is not JSON." }, "SerializationException");
            }
            if (operation !== "GenerateMac" && operation !== "VerifyMac")
                return answer(res, 400, { message: `${operation} is not emulated locally` }, "UnknownOperationException");
            const keyId = String(body.KeyId ?? "");
            const key = keys.get(keyId);
            if (!key) return answer(res, 400, { message: `Key '${keyId}' does not exist` }, "NotFoundException");
            if (body.MacAlgorithm !== ALGORITHM || typeof body.Message !== "string")
                return answer(res, 400, { message: `MacAlgorithm must be ${ALGORITHM}, with a Message` }, "ValidationException");
            calls.push({ operation, keyId });
            const mac = crypto.createHmac("sha256", key).update(Buffer.from(body.Message, "base64")).digest();
            if (operation === "GenerateMac")
                return answer(res, 200, { KeyId: keyId, Mac: mac.toString("base64"), MacAlgorithm: ALGORITHM });
            const given = Buffer.from(String(body.Mac ?? ""), "base64");
            if (given.length !== mac.length || !crypto.timingSafeEqual(given, mac))
                return answer(res, 400, { message: "The MAC is not valid." }, "KMSInvalidMacException");
            return answer(res, 200, { KeyId: keyId, MacValid: true, MacAlgorithm: ALGORITHM });
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    return {
        endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        calls,
        stop: () =>
            new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
}
