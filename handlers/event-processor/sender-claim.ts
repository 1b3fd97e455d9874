/**
 * Sender claims: a dead letter's first sender, carried across a redrive and impossible to forge.
 *
 * Why: on a stack with producers, the processor judges each event by the SenderId SQS reports. A
 * reject reaches the DLQ through the processor's own SendMessageBatch (SenderId = the processor's
 * role), the operator tool re-sends with the operator's credentials, and AWS documents neither the
 * SenderId of a StartMessageMoveTask copy ("Learn how to configure a dead-letter queue redrive in
 * Amazon SQS" says only that redriven messages get a new message id and enqueue time) nor keeps the
 * first sender anywhere else. So the letter carries the first sender's principal id and an HMAC
 * over it and the body's SHA-256, made with a KMS HMAC key only the processor (GenerateMac,
 * VerifyMac) and the redrive operator policy (GenerateMac) may use. KMS HMAC keys never leave KMS
 * ("HMAC keys in AWS KMS", AWS KMS Developer Guide), so a producer, who may not call the key, cannot
 * mint a claim, and any change to the sender or the body breaks it.
 *
 * Cost: the processor signs only what it dead-letters and verifies only messages whose own sender
 * is not a producer yet carry a claim, i.e. redriven letters: nothing on the hot path.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { GenerateMacCommand, KMSClient, VerifyMacCommand } from "@aws-sdk/client-kms";
import {
    EVENT_SENDER_CLAIM_ATTRIBUTES,
    EVENT_SENDER_CLAIM_MAX_BYTES,
    EVENT_SENDER_CLAIM_MAX_SENDER_BYTES,
    EVENT_SENDER_CLAIM_VERSION,
} from "../../contracts/event-pipeline";
import { PRINCIPAL_ID_PATTERN } from "./tenancy";

/** MACs bytes with the claim key and checks them; the Lambda uses {@link kmsSenderClaimKey}, tests a local HMAC. */
export interface SenderClaimKey {
    /** The MAC of `message`. Rejects when the key cannot be used now (the caller retries later). */
    generate(message: Uint8Array): Promise<Uint8Array>;
    /** True when `mac` is `message`'s MAC under this key. Rejects when the key cannot be used now. */
    verify(message: Uint8Array, mac: Uint8Array): Promise<boolean>;
}

/** A claim as message attributes carry it. */
export interface SenderClaim {
    /** The first sender's IAM principal id (role unique id or user id). */
    readonly originalSender: string;
    /** `v1:<base64 MAC>`. */
    readonly senderClaim: string;
}

/** The HMAC algorithm of the claim key (key spec HMAC_256). */
export const SENDER_CLAIM_MAC_ALGORITHM = "HMAC_SHA_256";

/**
 * The bytes a claim MACs: version, principal id and the body's SHA-256, one per line.
 *
 * @example
 * claimMessage("AROAEXAMPLE1234567890", '{"clientId":"acme",...}');
 */
export function claimMessage(originalSender: string, body: string): Buffer {
    const digest = createHash("sha256").update(body, "utf8").digest("hex");
    return Buffer.from(`event-sender-claim/${EVENT_SENDER_CLAIM_VERSION}\n${originalSender}\n${digest}`, "utf8");
}

/**
 * Signs `body` as first sent by `originalSender` (a principal id).
 *
 * @example
 * const claim = await signSenderClaim(key, "AROAEXAMPLE1234567890", record.body);
 */
export async function signSenderClaim(key: SenderClaimKey, originalSender: string, body: string): Promise<SenderClaim> {
    const mac = await key.generate(claimMessage(originalSender, body));
    return { originalSender, senderClaim: `${EVENT_SENDER_CLAIM_VERSION}:${Buffer.from(mac).toString("base64")}` };
}

/** Message attributes in either spelling: Lambda's record (`stringValue`) or the SDK's (`StringValue`). */
type ClaimAttributes = Readonly<Record<string, { stringValue?: string; StringValue?: string } | undefined>> | undefined;

/**
 * The claim a message carries, when both attributes are present and well-formed (not yet verified).
 *
 * @example
 * readSenderClaim(record.messageAttributes); // { originalSender, senderClaim } | undefined
 */
export function readSenderClaim(attributes: ClaimAttributes): SenderClaim | undefined {
    const value = (name: string) => {
        const attribute = attributes?.[name];
        return attribute?.stringValue ?? attribute?.StringValue;
    };
    const originalSender = value(EVENT_SENDER_CLAIM_ATTRIBUTES.originalSender);
    const senderClaim = value(EVENT_SENDER_CLAIM_ATTRIBUTES.senderClaim);
    if (originalSender === undefined || senderClaim === undefined) return undefined;
    if (originalSender.length > EVENT_SENDER_CLAIM_MAX_SENDER_BYTES || !PRINCIPAL_ID_PATTERN.test(originalSender)) return undefined;
    if (senderClaim.length > EVENT_SENDER_CLAIM_MAX_BYTES || !senderClaim.startsWith(`${EVENT_SENDER_CLAIM_VERSION}:`)) return undefined;
    return { originalSender, senderClaim };
}

/**
 * True when `claim` was made with `key` for exactly this body. Rejects only when the key cannot be used now.
 *
 * @example
 * if (await verifySenderClaim(key, claim, record.body)) judgeAs(claim.originalSender);
 */
export async function verifySenderClaim(key: SenderClaimKey, claim: SenderClaim, body: string): Promise<boolean> {
    const mac = Buffer.from(claim.senderClaim.slice(EVENT_SENDER_CLAIM_VERSION.length + 1), "base64");
    if (mac.length !== 32) return false;
    return key.verify(claimMessage(claim.originalSender, body), mac);
}

/** The claim as SQS message attributes (the SDK's spelling). */
export function senderClaimAttributes(claim: SenderClaim): Record<string, { DataType: "String"; StringValue: string }> {
    return {
        [EVENT_SENDER_CLAIM_ATTRIBUTES.originalSender]: { DataType: "String", StringValue: claim.originalSender },
        [EVENT_SENDER_CLAIM_ATTRIBUTES.senderClaim]: { DataType: "String", StringValue: claim.senderClaim },
    };
}

/**
 * The claim key in KMS: GenerateMac and VerifyMac with HMAC_SHA_256. A MAC that does not verify is
 * `false` (KMS answers KMSInvalidMacException); any other error rejects, so the caller retries.
 *
 * @example
 * const key = kmsSenderClaimKey(new KMSClient({}), process.env.SENDER_CLAIM_KEY_ARN!);
 */
export function kmsSenderClaimKey(kms: KMSClient, keyId: string): SenderClaimKey {
    return {
        async generate(message) {
            const { Mac } = await kms.send(
                new GenerateMacCommand({ KeyId: keyId, MacAlgorithm: SENDER_CLAIM_MAC_ALGORITHM, Message: message }),
            );
            if (!Mac) throw new Error("KMS GenerateMac returned no MAC");
            return Mac;
        },
        async verify(message, mac) {
            try {
                const { MacValid } = await kms.send(
                    new VerifyMacCommand({ KeyId: keyId, MacAlgorithm: SENDER_CLAIM_MAC_ALGORITHM, Message: message, Mac: mac }),
                );
                return MacValid === true;
            } catch (error) {
                if ((error as Error)?.name === "KMSInvalidMacException") return false;
                throw error;
            }
        },
    };
}

/**
 * The same HMAC-SHA-256 with a key held in memory: the stand-in for the KMS key in tests and the local
 * pipeline (no KMS there). Never for a deployed stack: there the key must not leave KMS.
 *
 * @example
 * const key = localSenderClaimKey(randomBytes(32));
 */
export function localSenderClaimKey(secret: Uint8Array): SenderClaimKey {
    const mac = (message: Uint8Array) => createHmac("sha256", secret).update(message).digest();
    return {
        async generate(message) {
            return mac(message);
        },
        async verify(message, candidate) {
            const expected = mac(message);
            return candidate.length === expected.length && timingSafeEqual(expected, candidate);
        },
    };
}
