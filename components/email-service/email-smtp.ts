import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { SmtpSettings } from "../../contracts/email-service";
import { deploymentNames } from "../shared/aws-scope";
import { LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME } from "../shared/defaults";
import { layerFiles } from "../shared/lambda-packaging";
import { lambdaLayerName } from "../shared/naming";

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
}

/** The worker's SMTP failover path: where its relay settings are kept and where nodemailer comes from. */
export interface EmailSmtp {
    /** JSON `{ host, port, secure, requireTLS, username, password }`, encrypted with the key. */
    secret: aws.secretsmanager.Secret;
    /** nodemailer, kept out of the worker's archive. */
    layer: aws.lambda.LayerVersion;
}

/**
 * The SMTP relay's secret (with its value when `smtp` is given) and the nodemailer layer the worker
 * loads on its first SMTP send. Plain resources under `opts.parent`, named as the service:
 * `<name>-smtp`, `<name>-smtp-value`, `<name>-smtp-layer`.
 *
 * @example
 * const smtp = emailSmtp("email", { kmsKeyArn: key.arn, smtp: workerSettings.smtp }, { parent: this });
 * export const smtpSecretArn = smtp.secret.arn;
 */
export function emailSmtp(name: string, args: EmailSmtpArgs, opts: pulumi.CustomResourceOptions): EmailSmtp {
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
