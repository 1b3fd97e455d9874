import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { deploymentNames } from "../shared/aws-scope";
import { sesConfigurationSetName } from "../shared/naming";
import { previousParentAliases } from "../shared/aliases";

/** One DKIM CNAME record to publish for a domain identity: `name CNAME value`. */
export interface EmailDkimRecord {
    identity: string;
    name: string;
    type: "CNAME";
    value: string;
}

export interface EmailSesIdentitiesArgs {
    /**
     * The sending identities, domains (`example.com`) or addresses (`shop@example.com`).
     * @example ["example.com", "alerts@example.org"]
     * @default [] (no identities)
     */
    identities?: string[];
    /**
     * Name of the configuration set.
     * @example "shop-prod-email"
     * @default `<project>-<stack>-<name>`
     */
    configurationSetName?: string;
    /**
     * The parent these resources were registered under before this component grouped them: each child
     * gets an alias to it, so a deployed stack keeps its identities and configuration set.
     * @example this
     * @default undefined (no alias)
     */
    previousParent?: pulumi.Resource;
}

/**
 * SES resources of the stack: a configuration set (TLS required, reputation metrics,
 * bounces and complaints suppressed) and one identity per declared domain or address,
 * sending through that set. Domains use Easy DKIM (RSA 2048): publish `dkimRecords`.
 *
 * Named as its service: the children keep the names `<name>-ses`, `<name>-ses-<identity>`.
 *
 * @example
 * const ses = new EmailSesIdentities("email", { identities: ["example.com"] }, { parent: this });
 * export const dkimRecords = ses.dkimRecords;
 */
export class EmailSesIdentities extends pulumi.ComponentResource {
    readonly configurationSet: aws.sesv2.ConfigurationSet;
    /** The declared identities, by identity. */
    readonly identities: Record<string, aws.sesv2.EmailIdentity>;
    /** Per declared domain, the three DKIM CNAME records to publish. */
    readonly dkimRecords: pulumi.Output<EmailDkimRecord[]>;

    constructor(name: string, args: EmailSesIdentitiesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("event-ingestion:email:EmailSesIdentities", name, {}, opts);
        const { project, stack } = deploymentNames();
        const child: pulumi.CustomResourceOptions = {
            parent: this,
            ...previousParentAliases(args.previousParent),
        };

        this.configurationSet = new aws.sesv2.ConfigurationSet(
            `${name}-ses`,
            {
                configurationSetName: args.configurationSetName ?? sesConfigurationSetName(project, stack, name),
                deliveryOptions: { tlsPolicy: "REQUIRE" },
                reputationOptions: { reputationMetricsEnabled: true },
                sendingOptions: { sendingEnabled: true },
                suppressionOptions: { suppressedReasons: ["BOUNCE", "COMPLAINT"] },
            },
            child,
        );
        this.identities = {};
        for (const identity of args.identities ?? []) {
            this.identities[identity] = new aws.sesv2.EmailIdentity(
                `${name}-ses-${identity.toLowerCase()}`,
                {
                    emailIdentity: identity,
                    configurationSetName: this.configurationSet.configurationSetName,
                    ...(isDomainIdentity(identity) ? { dkimSigningAttributes: { nextSigningKeyLength: "RSA_2048_BIT" } } : {}),
                },
                child,
            );
        }
        const domainIdentities = Object.entries(this.identities).filter(([identity]) => isDomainIdentity(identity));
        this.dkimRecords = pulumi
            .all(
                domainIdentities.map(([identity, resource]) =>
                    resource.dkimSigningAttributes.apply((attributes) => ({ identity, tokens: attributes?.tokens ?? [] })),
                ),
            )
            .apply((domains) =>
                domains.flatMap(({ identity, tokens }) =>
                    tokens.map((token) => ({
                        identity,
                        name: `${token}._domainkey.${identity}`,
                        type: "CNAME" as const,
                        value: `${token}.dkim.amazonses.com`,
                    })),
                ),
            );
        this.registerOutputs({ configurationSetName: this.configurationSet.configurationSetName, dkimRecords: this.dkimRecords });
    }
}

/** A domain identity (`example.com`), as opposed to an address (`shop@example.com`). */
function isDomainIdentity(identity: string): boolean {
    return !identity.includes("@");
}
