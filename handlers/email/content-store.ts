/**
 * Email content too large for the queue (above the configured threshold, default
 * 256 KB), and the content of scheduled emails, lives in S3; the message carries a
 * pointer. The bucket encrypts with the service's KMS key (bucket key on) and
 * expires objects by lifecycle; the worker deletes an object once it is sent.
 */
import type s3 = require("@aws-sdk/client-s3");
import { type Deferred, resolveDeferred } from "../shared/deferred";
import { EMAIL_CONTENT_PREFIX } from "../../contracts/email-service";
import { permanentFailure } from "./errors";
import type { ContentPointer, EmailContent } from "./types";

/** Where offloaded and scheduled email content lives (S3 in production, a stand-in in tests). */
export interface ContentStore {
    put(emailId: string, content: EmailContent): Promise<ContentPointer>;
    get(pointer: ContentPointer): Promise<EmailContent>;
    delete(pointer: ContentPointer): Promise<void>;
}

/** The S3 client module, loaded on first use: only large and scheduled emails reach S3 (see handlers/shared/deferred.ts). */
export function s3Sdk(): typeof s3 {
    return require("@aws-sdk/client-s3") as typeof s3;
}

/**
 * Object key of an email's content, under the prefix IAM and the lifecycle rule scope.
 * Ids are server-generated UUIDs, never client input.
 *
 * @example
 * contentKey("0b6f..."); // "emails/0b6f....json"
 */
export function contentKey(emailId: string): string {
    return `${EMAIL_CONTENT_PREFIX}${emailId}.json`;
}

/**
 * An S3-backed {@link ContentStore}.
 *
 * @example
 * const store = s3ContentStore(new S3Client({}), process.env.EMAIL_CONTENT_BUCKET!);
 * const pointer = await store.put(id, content);
 */
export function s3ContentStore(deferredClient: Deferred<s3.S3Client>, bucket: string): ContentStore {
    const client = () => resolveDeferred(deferredClient);
    return {
        async put(emailId, content) {
            const body = JSON.stringify(content);
            const key = contentKey(emailId);
            await client().send(new (s3Sdk().PutObjectCommand)({ Bucket: bucket, Key: key, Body: body, ContentType: "application/json" }));
            return { bucket, key, bytes: Buffer.byteLength(body, "utf8") };
        },
        async get(pointer) {
            try {
                const result = await client().send(new (s3Sdk().GetObjectCommand)({ Bucket: pointer.bucket, Key: pointer.key }));
                const text = await result.Body!.transformToString("utf8");
                return JSON.parse(text) as EmailContent;
            } catch (error) {
                const name = (error as Error).name;
                if (name === "NoSuchKey" || name === "NotFound") {
                    throw permanentFailure("content-missing", `s3:${name}`);
                }
                throw error;
            }
        },
        async delete(pointer) {
            await client().send(new (s3Sdk().DeleteObjectCommand)({ Bucket: pointer.bucket, Key: pointer.key }));
        },
    };
}
