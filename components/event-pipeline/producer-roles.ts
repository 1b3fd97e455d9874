import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { awsScope } from "../shared/aws-scope";
import { producerPolicy, producerTrustPolicy } from "../shared/iam-documents";

/** One producer as the stack config declares it. */
export interface ProducerRoleSpec {
    /** clientIds this producer may write. */
    tenants: readonly string[];
    /** Account ids or IAM role/user/root ARNs allowed to assume the role. */
    principals: readonly string[];
    /** Required `sts:ExternalId`. @default undefined (none) */
    externalId?: string;
}

export interface ProducerRolesArgs {
    /** Producer name -> spec (names match `PRODUCER_NAME_PATTERN`). */
    producers: Readonly<Record<string, ProducerRoleSpec>>;
    queueArn: pulumi.Input<string>;
    kmsKeyArn: pulumi.Input<string>;
}

/**
 * Tenant isolation's identities: one send-only role per configured producer, assumable
 * only by the principals the config names. SQS reports the role's unique id as the
 * message's SenderId (`<unique id>:<session>`), and {@link ProducerRoles.tenantMap} turns
 * the roles' unique ids into the processor's `PRODUCER_TENANTS` map, so the processor
 * knows which tenants each sender may write. IAM cannot express that part: SQS has no
 * condition key on MessageGroupId or the body ("Actions, resources, and condition keys
 * for Amazon SQS").
 *
 * @example
 * const producers = new ProducerRoles("events", { producers: { orders: { tenants: ["acme"], principals: ["111122223333"] } }, queueArn, kmsKeyArn });
 * export const producerRoleArns = producers.roleArns;
 */
export class ProducerRoles extends pulumi.ComponentResource {
    readonly roles: Readonly<Record<string, aws.iam.Role>>;
    /** Producer name -> role ARN (a stack output: producers assume these). */
    readonly roleArns: pulumi.Output<Record<string, string>>;
    /** JSON `{"<role unique id>": ["clientId", ...]}`, the processor's `PRODUCER_TENANTS`. */
    readonly tenantMap: pulumi.Output<string>;

    constructor(name: string, args: ProducerRolesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("event-ingestion:access:ProducerRoles", name, {}, opts);
        const scope = awsScope({ parent: this });
        const roles: Record<string, aws.iam.Role> = {};
        for (const [producer, spec] of Object.entries(args.producers)) {
            // Autonamed (IAM names are global to the account); the description says whose it is.
            const role = new aws.iam.Role(
                `${name}-producer-${producer}`,
                {
                    description: `Sends events for producer ${producer} (${pulumi.getStack()}); tenants: ${spec.tenants.join(", ")}`.slice(
                        0,
                        1000,
                    ),
                    assumeRolePolicy: JSON.stringify(producerTrustPolicy(spec.principals, spec.externalId)),
                    maxSessionDuration: 3600,
                    // The policy pack's trust rule (policies/rules/iam.ts PRODUCER_ROLE_TAG) lets only roles with this tag
                    // trust AWS principals; tests/policies/producers.test.ts proves the two agree.
                    tags: { "event-ingestion:producer": producer },
                },
                { parent: this },
            );
            new aws.iam.RolePolicy(
                `${name}-producer-${producer}-send`,
                {
                    role: role.id,
                    policy: pulumi
                        .all([scope, args.queueArn, args.kmsKeyArn])
                        .apply(([resolvedScope, queueArn, keyArn]) => JSON.stringify(producerPolicy(resolvedScope, queueArn, keyArn))),
                },
                { parent: this },
            );
            roles[producer] = role;
        }
        this.roles = roles;
        const names = Object.keys(roles);
        this.roleArns = pulumi.all(names.map((n) => roles[n].arn)).apply((arns) => Object.fromEntries(names.map((n, i) => [n, arns[i]])));
        this.tenantMap = pulumi.all(names.map((n) => roles[n].uniqueId)).apply((ids) => {
            const map: Record<string, string[]> = {};
            ids.forEach((id, i) => (map[id] = [...args.producers[names[i]].tenants]));
            return JSON.stringify(map);
        });
        this.registerOutputs({ roleArns: this.roleArns });
    }
}
