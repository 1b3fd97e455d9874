import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { awsScope, deploymentNames } from "../shared/aws-scope";
import { KEY_DELETION_WINDOW_DAYS } from "../shared/defaults";
import { redriveOperatorPolicy, senderClaimKeyPolicy } from "../shared/iam-documents";

export interface SenderClaimKeyArgs {
    /** Waiting period before a scheduled deletion takes effect. @default 30 */
    deletionWindowInDays?: number;
}

/**
 * What keeps a dead letter's first sender across a redrive on a stack with producers: a KMS HMAC
 * key (HMAC_256, GENERATE_VERIFY_MAC) with which the processor signs each reject's first sender and
 * verifies a redriven letter's claim (handlers/event-processor/sender-claim.ts), and the redrive
 * operator policy (kms:GenerateMac) the DLQ tool needs to sign letters SQS moved. HMAC keys never
 * leave KMS; AWS KMS does not rotate them automatically ("Rotate AWS KMS keys": automatic rotation
 * is for symmetric encryption keys), so the policy pack's rotation rule exempts MAC keys.
 *
 * @example
 * const claims = new SenderClaimKey("events", {});
 * export const senderClaims = { keyArn: claims.key.arn, redriveOperatorPolicyArn: claims.operatorPolicy.arn };
 */
export class SenderClaimKey extends pulumi.ComponentResource {
    readonly key: aws.kms.Key;
    /** Attach to the operators who redrive (never to a producer). */
    readonly operatorPolicy: aws.iam.Policy;

    constructor(name: string, args: SenderClaimKeyArgs = {}, opts?: pulumi.ComponentResourceOptions) {
        super("event-ingestion:access:SenderClaimKey", name, {}, opts);
        const { project, stack } = deploymentNames();
        const scope = awsScope({ parent: this });
        this.key = new aws.kms.Key(
            `${name}-sender-claims`,
            {
                description: `Signs the first sender of ${project} dead letters (stack ${stack})`,
                keyUsage: "GENERATE_VERIFY_MAC",
                customerMasterKeySpec: "HMAC_256",
                deletionWindowInDays: args.deletionWindowInDays ?? KEY_DELETION_WINDOW_DAYS,
                bypassPolicyLockoutSafetyCheck: false,
                policy: scope.apply((resolved) => JSON.stringify(senderClaimKeyPolicy(resolved))),
            },
            { parent: this },
        );
        this.operatorPolicy = new aws.iam.Policy(
            `${name}-redrive-operator`,
            {
                description: "Redrive event dead letters on a stack with producers: sign a letter's first sender (KMS GenerateMac)",
                policy: this.key.arn.apply((keyArn) => JSON.stringify(redriveOperatorPolicy(keyArn))),
            },
            { parent: this },
        );
        this.registerOutputs({ keyArn: this.key.arn, operatorPolicyArn: this.operatorPolicy.arn });
    }
}
