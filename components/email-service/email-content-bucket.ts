import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { EMAIL_CONTENT_PREFIX } from "../../contracts/email-service";
import { emailBucketPolicy } from "./email-iam";
import { previousParentAliases } from "../shared/aliases";

export interface EmailContentBucketArgs {
    /**
     * Customer-managed key of the objects (SSE-KMS, with a bucket key).
     * @example key.arn
     * @default none (required)
     */
    kmsKeyArn: pulumi.Input<string>;
    /**
     * Days an email's stored content (under `emails/`) is kept before it expires.
     * @example 45
     * @default none (required; `EmailService` passes `storage.contentRetentionDays`, 45 unless configured)
     */
    contentRetentionDays: number;
    /**
     * The parent these resources were registered under before this component grouped them: each child
     * gets an alias to it, so a deployed stack keeps its bucket and the bucket's settings.
     * @example this
     * @default undefined (no alias)
     */
    previousParent?: pulumi.Resource;
}

/**
 * The bucket that holds large email bodies: encrypted with the customer-managed key
 * and a bucket key, private (public access blocked, owner-enforced objects), TLS only,
 * and its email content expires after the retention.
 *
 * Named as its service: the children keep the names `<name>-content`, `<name>-content-encryption`, ...
 *
 * @example
 * const content = new EmailContentBucket("email", { kmsKeyArn: key.arn, contentRetentionDays: 45 }, { parent: this });
 * export const contentBucket = content.bucket.bucket;
 */
export class EmailContentBucket extends pulumi.ComponentResource {
    readonly bucket: aws.s3.Bucket;

    constructor(name: string, args: EmailContentBucketArgs, opts?: pulumi.ComponentResourceOptions) {
        super("event-ingestion:email:EmailContentBucket", name, {}, opts);
        const child: pulumi.CustomResourceOptions = {
            parent: this,
            ...previousParentAliases(args.previousParent),
        };

        this.bucket = new aws.s3.Bucket(`${name}-content`, { forceDestroy: false }, child);
        new aws.s3.BucketServerSideEncryptionConfiguration(
            `${name}-content-encryption`,
            {
                bucket: this.bucket.id,
                rules: [
                    {
                        applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: args.kmsKeyArn },
                        bucketKeyEnabled: true,
                    },
                ],
            },
            child,
        );
        new aws.s3.BucketPublicAccessBlock(
            `${name}-content-private`,
            { bucket: this.bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
            child,
        );
        new aws.s3.BucketOwnershipControls(
            `${name}-content-ownership`,
            { bucket: this.bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
            child,
        );
        new aws.s3.BucketLifecycleConfiguration(
            `${name}-content-expiry`,
            {
                bucket: this.bucket.id,
                rules: [
                    {
                        id: "expire-email-content",
                        status: "Enabled",
                        filter: { prefix: EMAIL_CONTENT_PREFIX },
                        expiration: { days: args.contentRetentionDays },
                        abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
                    },
                ],
            },
            child,
        );
        new aws.s3.BucketPolicy(
            `${name}-content-tls-only`,
            { bucket: this.bucket.id, policy: this.bucket.arn.apply((arn) => JSON.stringify(emailBucketPolicy(arn))) },
            child,
        );
        this.registerOutputs({ bucketName: this.bucket.bucket, bucketArn: this.bucket.arn });
    }
}
