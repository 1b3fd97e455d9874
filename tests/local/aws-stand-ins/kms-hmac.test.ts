/**
 * The local KMS stand-in for HMAC keys, through the real KMS client: GenerateMac and
 * VerifyMac with HMAC_SHA_256 (AWS KMS API Reference), the errors KMS answers with, and
 * the same MAC as HMAC-SHA-256 with the key material (what the operator tools compute
 * locally from the READY line's secret).
 */
import { expect } from "chai";
import { GenerateMacCommand, KMSClient, VerifyMacCommand } from "@aws-sdk/client-kms";
import * as crypto from "node:crypto";
import { LocalKms, startLocalKms } from "../../../local/aws-stand-ins/kms-hmac";

const KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-0000-4000-8000-000000000000";

describe("local KMS stand-in (HMAC keys)", () => {
    const material = crypto.randomBytes(32);
    let kms: LocalKms;
    let client: KMSClient;
    before(async () => {
        kms = await startLocalKms(new Map([[KEY, material]]));
        client = new KMSClient({
            region: "us-east-1",
            endpoint: kms.endpoint,
            credentials: { accessKeyId: "local", secretAccessKey: "local" },
        });
    });
    after(async () => {
        client?.destroy();
        await kms?.stop();
    });

    it("generates HMAC-SHA-256 MACs with the key's material and verifies them", async () => {
        const message = Buffer.from("event-sender-claim/v1\nAROAEXAMPLE\nabc");
        const { Mac } = await client.send(new GenerateMacCommand({ KeyId: KEY, MacAlgorithm: "HMAC_SHA_256", Message: message }));
        expect(Buffer.from(Mac!).equals(crypto.createHmac("sha256", material).update(message).digest())).to.equal(true);
        const verified = await client.send(new VerifyMacCommand({ KeyId: KEY, MacAlgorithm: "HMAC_SHA_256", Message: message, Mac }));
        expect(verified.MacValid).to.equal(true);
    });

    it("answers a wrong MAC with KMSInvalidMacException and an unknown key with NotFoundException, as KMS does", async () => {
        const message = Buffer.from("body");
        const wrong = await client
            .send(new VerifyMacCommand({ KeyId: KEY, MacAlgorithm: "HMAC_SHA_256", Message: message, Mac: Buffer.alloc(32) }))
            .catch((error: Error) => error);
        expect((wrong as Error).name).to.equal("KMSInvalidMacException");
        const unknown = await client
            .send(new GenerateMacCommand({ KeyId: `${KEY}0`, MacAlgorithm: "HMAC_SHA_256", Message: message }))
            .catch((error: Error) => error);
        expect((unknown as Error).name).to.equal("NotFoundException");
    });
});
