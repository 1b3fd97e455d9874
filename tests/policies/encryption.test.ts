import { expect } from "chai";
import { unknown } from "../../policies/testing";
import {
    compliantStack,
    pick,
    set,
    unset,
    clone,
    KEY_ARN,
    ACCOUNT,
    REGION,
    bucket,
    bucketEncryption,
    bucketPolicy,
    resource,
} from "./fixtures/resources";
import { evaluate, expectOnly, expectClean } from "./helpers";

describe("policies: customer managed KMS encryption", () => {
    it("the compliant fixture stack passes every policy", async () => {
        expectClean(await evaluate(compliantStack()));
    });

    describe("SQS", () => {
        it("flags a queue without kmsMasterKeyId", async () => {
            const stack = compliantStack();
            unset(pick(stack, "events", "aws:sqs/queue:Queue"), "kmsMasterKeyId");
            const [message] = expectOnly(await evaluate(stack), "sqs-customer-managed-kms");
            expect(message).to.match(/kmsMasterKeyId is not set/);
        });

        it("flags SSE-SQS (sqsManagedSseEnabled) as not customer managed", async () => {
            const stack = compliantStack();
            set(unset(pick(stack, "events", "aws:sqs/queue:Queue"), "kmsMasterKeyId"), "sqsManagedSseEnabled", true);
            const [message] = expectOnly(await evaluate(stack), "sqs-customer-managed-kms");
            expect(message).to.match(/SQS-owned key/);
        });

        for (const alias of ["alias/aws/sqs", `arn:aws:kms:${REGION}:${ACCOUNT}:alias/aws/sqs`, "ALIAS/AWS/SQS"]) {
            it(`flags the AWS managed key given by alias ${alias} (FIFO queue)`, async () => {
                const stack = compliantStack();
                set(pick(stack, "email", "aws:sqs/queue:Queue"), "kmsMasterKeyId", alias);
                const [message] = expectOnly(await evaluate(stack), "sqs-customer-managed-kms");
                expect(message).to.match(/AWS managed key/);
            });
        }

        for (const ref of [
            "alias/event-ingestion",
            `arn:aws:kms:${REGION}:${ACCOUNT}:alias/event-ingestion`,
            "11111111-2222-4333-8444-555555555555",
            KEY_ARN,
        ]) {
            it(`accepts a customer managed key given as ${ref}`, async () => {
                const stack = compliantStack();
                set(pick(stack, "events", "aws:sqs/queue:Queue"), "kmsMasterKeyId", ref);
                expectClean(await evaluate(stack));
            });
        }

        it("treats a key ARN that is unknown during preview as compliant, but an absent one as a violation", async () => {
            const stack = compliantStack();
            set(pick(stack, "events", "aws:sqs/queue:Queue"), "kmsMasterKeyId", unknown.string);
            expectClean(await evaluate(stack));
            unset(pick(stack, "events", "aws:sqs/queue:Queue"), "kmsMasterKeyId");
            expectOnly(await evaluate(stack), "sqs-customer-managed-kms");
        });
    });

    describe("DynamoDB", () => {
        it("flags a table without server-side encryption (AWS owned key)", async () => {
            const stack = compliantStack();
            unset(pick(stack, "events", "aws:dynamodb/table:Table"), "serverSideEncryption");
            expectOnly(await evaluate(stack), "dynamodb-customer-managed-kms");
        });

        it("flags encryption enabled without a key (AWS managed aws/dynamodb)", async () => {
            const stack = compliantStack();
            set(pick(stack, "events", "aws:dynamodb/table:Table"), "serverSideEncryption", { enabled: true });
            expectOnly(await evaluate(stack), "dynamodb-customer-managed-kms");
        });

        it("flags alias/aws/dynamodb and a replica without a customer key", async () => {
            const stack = compliantStack();
            set(pick(stack, "events", "aws:dynamodb/table:Table"), "serverSideEncryption", {
                enabled: true,
                kmsKeyArn: "alias/aws/dynamodb",
            });
            expectOnly(await evaluate(stack), "dynamodb-customer-managed-kms");
            const replicated = compliantStack();
            set(pick(replicated, "events", "aws:dynamodb/table:Table"), "replicas", [{ regionName: "eu-west-1" }]);
            const messages = expectOnly(await evaluate(replicated), "dynamodb-customer-managed-kms");
            expect(messages[0]).to.match(/replicas\[0\]\.kmsKeyArn/);
        });
    });

    it("SNS: flags alias/aws/sns and a missing key", async () => {
        const stack = compliantStack();
        set(pick(stack, "alarms", "aws:sns/topic:Topic"), "kmsMasterKeyId", "alias/aws/sns");
        expectOnly(await evaluate(stack), "sns-customer-managed-kms");
        unset(pick(stack, "alarms", "aws:sns/topic:Topic"), "kmsMasterKeyId");
        expectOnly(await evaluate(stack), "sns-customer-managed-kms");
    });

    it("EventBridge: flags a custom bus without kmsKeyIdentifier or with an AWS managed key", async () => {
        const bus = resource("aws:cloudwatch/eventBus:EventBus", "email-status-bus", { name: "email-status", kmsKeyIdentifier: KEY_ARN });
        const stack = [...compliantStack(), bus];
        expectClean(await evaluate(stack));
        unset(bus, "kmsKeyIdentifier");
        expectOnly(await evaluate(stack), "eventbus-customer-managed-kms");
        set(bus, "kmsKeyIdentifier", "alias/aws/events");
        expectOnly(await evaluate(stack), "eventbus-customer-managed-kms");
    });

    it("CloudWatch Logs: flags a log group without kmsKeyId", async () => {
        const stack = compliantStack();
        unset(pick(stack, "event-ingestion-event-processor"), "kmsKeyId");
        expectOnly(await evaluate(stack), "log-group-customer-managed-kms");
    });

    describe("Lambda environment", () => {
        it("flags environment variables without a customer managed kmsKeyArn", async () => {
            const stack = compliantStack();
            unset(pick(stack, "event-processor", "aws:lambda/function:Function"), "kmsKeyArn");
            expectOnly(await evaluate(stack), "lambda-environment-customer-managed-kms");
        });

        it("does not apply to a function without environment variables", async () => {
            const stack = compliantStack();
            const fn = pick(stack, "event-processor", "aws:lambda/function:Function");
            unset(unset(fn, "kmsKeyArn"), "environment");
            const evaluation = await evaluate(stack);
            expectClean(evaluation);
            expect(
                evaluation.cells
                    .get("lambda-environment-customer-managed-kms")!
                    .get(`urn:pulumi:dev::event-ingestion::aws:lambda/function:Function::event-processor`),
            ).to.equal("not-applicable");
        });
    });

    describe("S3", () => {
        it("flags a bucket with no encryption configuration (SSE-S3 default)", async () => {
            const stack = compliantStack().filter(
                (r) => r.type !== "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            );
            expectOnly(await evaluate(stack), "s3-customer-managed-kms");
        });

        it("flags AES256, alias/aws/s3 and a missing bucket key", async () => {
            for (const rule of [
                { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } },
                { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: "alias/aws/s3" } },
                { bucketKeyEnabled: false },
            ]) {
                const stack = compliantStack().filter(
                    (r) => r.type !== "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
                );
                stack.push(bucketEncryption(pick(stack, "email-archive"), rule));
                expectOnly(await evaluate(stack), "s3-customer-managed-kms");
            }
        });

        it("accepts an inline serverSideEncryptionConfiguration (legacy Bucket shape) and the V2 resource", async () => {
            const inline = compliantStack().filter(
                (r) => r.type !== "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            );
            set(pick(inline, "email-archive"), "serverSideEncryptionConfiguration", {
                rule: { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: KEY_ARN }, bucketKeyEnabled: true },
            });
            expectClean(await evaluate(inline));

            const v2 = bucket("v2-bucket");
            v2.type = "aws:s3/bucketV2:BucketV2";
            const sse = bucketEncryption(v2);
            sse.type = "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2";
            const policy = bucketPolicy(v2);
            expectClean(await evaluate([...compliantStack(), v2, sse, policy]));
        });

        it("matches an encryption configuration to its bucket through property dependencies when the name is unknown", async () => {
            const stack = compliantStack().filter(
                (r) => r.type !== "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
            );
            const sse = bucketEncryption(pick(stack, "email-archive"));
            set(sse, "bucket", unknown.string);
            sse.propertyDependencies = { bucket: ["email-archive"] };
            stack.push(sse);
            expectClean(await evaluate(stack));
        });
    });

    it("Secrets Manager: flags a secret without kmsKeyId or with alias/aws/secretsmanager", async () => {
        const stack = compliantStack();
        unset(pick(stack, "email-provider-credentials"), "kmsKeyId");
        expectOnly(await evaluate(stack), "secretsmanager-customer-managed-kms");
        set(pick(stack, "email-provider-credentials"), "kmsKeyId", "alias/aws/secretsmanager");
        expectOnly(await evaluate(stack), "secretsmanager-customer-managed-kms");
        const replicated = compliantStack();
        set(pick(replicated, "email-provider-credentials"), "replicas", [{ region: "eu-west-1" }]);
        const [message] = expectOnly(await evaluate(replicated), "secretsmanager-customer-managed-kms");
        expect(message).to.include("replicas[0].kmsKeyId");
    });

    it("KMS keys: rotation must be on and the lockout check never bypassed", async () => {
        const stack = compliantStack();
        set(pick(stack, "key"), "enableKeyRotation", false);
        expectOnly(await evaluate(stack), "kms-key-rotation");
        const other = compliantStack();
        set(pick(other, "key"), "bypassPolicyLockoutSafetyCheck", true);
        expectOnly(await evaluate(other), "kms-key-no-lockout-bypass");
        const asymmetric = compliantStack();
        set(pick(asymmetric, "key"), "customerMasterKeySpec", "RSA_2048");
        expectOnly(await evaluate(asymmetric), "kms-key-rotation");
        // AWS KMS API Reference, "EnableKeyRotation": HMAC keys cannot rotate automatically; a MAC key encrypts nothing.
        const mac = compliantStack();
        set(pick(mac, "key"), "customerMasterKeySpec", "HMAC_256");
        set(pick(mac, "key"), "keyUsage", "GENERATE_VERIFY_MAC");
        set(pick(mac, "key"), "enableKeyRotation", false);
        expectClean(await evaluate(mac));
        // The exemption is for MAC keys only: an HMAC spec that claims to encrypt, or a MAC key asked to rotate, is refused.
        const encryptingHmac = compliantStack();
        set(pick(encryptingHmac, "key"), "customerMasterKeySpec", "HMAC_256");
        expectOnly(await evaluate(encryptingHmac), "kms-key-rotation");
        const rotatingMac = compliantStack();
        set(pick(rotatingMac, "key"), "customerMasterKeySpec", "HMAC_256");
        set(pick(rotatingMac, "key"), "keyUsage", "GENERATE_VERIFY_MAC");
        expectOnly(await evaluate(rotatingMac), "kms-key-rotation");
    });

    it("a fixture resource of an unrelated type is ignored by every policy", async () => {
        const stack = [...clone(compliantStack()), resource("aws:ec2/vpc:Vpc", "vpc", { cidrBlock: "10.0.0.0/16" })];
        const evaluation = await evaluate(stack);
        expectClean(evaluation);
        for (const cells of evaluation.cells.values())
            expect(cells.has("urn:pulumi:dev::event-ingestion::aws:ec2/vpc:Vpc::vpc")).to.equal(false);
    });
});
