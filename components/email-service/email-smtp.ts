import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { SmtpSettings } from "../../contracts/email-service";
import { deploymentNames } from "../shared/aws-scope";
import { LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME } from "../shared/defaults";
import { layerFiles } from "../shared/lambda-packaging";
import { lambdaLayerName } from "../shared/naming";
import { previousParentAliases } from "../shared/aliases";

/** Packages of the worker's SMTP layer: needed only when SES fails over to SMTP. */
export const SMTP_LAYER_PACKAGES = ["nodemailer"] as const;

export interface EmailSmtpArgs {
    /**
     * Customer-managed key of the secret.
     * @example key.arn
     * @default none (required)
     */
    kmsKeyArn: pulumi.Input<string>;
    /**
     * The relay's settings, password included, stored as the secret's value (a Pulumi secret).
     * @example { host: "smtp.relay.example", port: 587, secure: false, requireTLS: true, username: "apikey", password }
     * @default undefined (no value in the program: it is set out of band)
     */
    smtp?: SmtpSettings;
    /**
     * The parent these resources were registered under before this component grouped them: each child
     * gets an alias to it, so a deployed stack keeps them.
     * @example this
     * @default undefined (no alias)
     */
    previousParent?: pulumi.Resource;
}

/**
 * The worker's SMTP failover path: the relay's secret (with its value when `smtp` is given) and the
 * nodemailer layer the worker loads on its first SMTP send. Named as its service: the children are
 * `<name>-smtp`, `<name>-smtp-value`, `<name>-smtp-layer`.
 *
 * @example
 * const smtp = new EmailSmtp("email", { kmsKeyArn: key.arn, smtp: workerSettings.smtp }, { parent: this });
 * export const smtpSecretArn = smtp.secret.arn;
 */
export class EmailSmtp extends pulumi.ComponentResource {
    /** JSON `{ host, port, secure, requireTLS, username, password }`, encrypted with the key. */
    readonly secret: aws.secretsmanager.Secret;
    /** nodemailer, kept out of the worker's archive. */
    readonly layer: aws.lambda.LayerVersion;

    constructor(name: string, args: EmailSmtpArgs, opts?: pulumi.ComponentResourceOptions) {
        super("event-ingestion:email:EmailSmtp", name, {}, opts);
        const { secret, layer } = smtpResources(name, args, {
            parent: this,
            ...previousParentAliases(args.previousParent),
        });
        this.secret = secret;
        this.layer = layer;
        this.registerOutputs({ secretArn: secret.arn, layerArn: layer.arn });
    }
}

function smtpResources(
    name: string,
    args: EmailSmtpArgs,
    opts: pulumi.CustomResourceOptions,
): { secret: aws.secretsmanager.Secret; layer: aws.lambda.LayerVersion } {
    const { project, stack } = deploymentNames();
    const secret = new aws.secretsmanager.Secret(
        `${name}-smtp`,
        {
            description: "SMTP relay for email failover: JSON { host, port, secure, requireTLS, username, password }",
            kmsKeyId: args.kmsKeyArn,
            recoveryWindowInDays: 7,
        },
        opts,
    );
    if (args.smtp) {
        new aws.secretsmanager.SecretVersion(
            `${name}-smtp-value`,
            { secretId: secret.id, secretString: pulumi.secret(JSON.stringify(args.smtp)) },
            opts,
        );
    }
    // The worker requires nodemailer on its first SMTP send only: it ships in this layer, built from the installed
    // package's runtime files, so the worker's archive and cold start stay small.
    const layer = new aws.lambda.LayerVersion(
        `${name}-smtp-layer`,
        {
            layerName: lambdaLayerName(project, stack, `${name}-smtp`),
            description: "nodemailer, for the email worker's SMTP failover path",
            code: new pulumi.asset.AssetArchive(
                Object.fromEntries(
                    Object.entries(layerFiles(SMTP_LAYER_PACKAGES)).map(([archivePath, file]) => [
                        archivePath,
                        new pulumi.asset.FileAsset(file),
                    ]),
                ),
            ),
            compatibleRuntimes: [LAMBDA_RUNTIME],
            compatibleArchitectures: [LAMBDA_ARCHITECTURE],
        },
        opts,
    );
    return { secret, layer };
}
