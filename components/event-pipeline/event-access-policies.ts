import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { awsScope } from "../shared/aws-scope";
import { producerPolicy, streamReadPolicy, tableReadPolicy } from "../shared/iam-documents";

export interface EventAccessPoliciesArgs {
    queueArn: pulumi.Input<string>;
    tableArn: pulumi.Input<string>;
    streamArn: pulumi.Input<string>;
    kmsKeyArn: pulumi.Input<string>;
    /** The table's arrival index, when it has one: the table read policy grants Query on it too. */
    pollingIndexArn?: pulumi.Input<string>;
}

/**
 * The managed policies other teams attach to their own roles: producers send
 * events; the Sender reads the stream (trigger) or queries the table (polling).
 * Customer-managed and autonamed (IAM names are global to the account).
 *
 * @example
 * const access = new EventAccessPolicies("events", { queueArn, tableArn, streamArn, kmsKeyArn });
 * export const producerPolicyArn = access.producer.arn;
 */
export class EventAccessPolicies extends pulumi.ComponentResource {
    readonly producer: aws.iam.Policy;
    readonly streamRead: aws.iam.Policy;
    readonly tableRead: aws.iam.Policy;

    constructor(name: string, args: EventAccessPoliciesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("event-ingestion:access:EventAccessPolicies", name, {}, opts);
        const scope = awsScope({ parent: this });
        const all = pulumi.all([scope, args.queueArn, args.tableArn, args.streamArn, args.kmsKeyArn]);
        this.producer = new aws.iam.Policy(
            `${name}-producer`,
            {
                description: "Send events to the event queue (SQS SendMessage plus the KMS calls SSE-KMS makes)",
                policy: all.apply(([resolvedScope, queueArn, , , keyArn]) =>
                    JSON.stringify(producerPolicy(resolvedScope, queueArn, keyArn)),
                ),
            },
            { parent: this },
        );
        this.streamRead = new aws.iam.Policy(
            `${name}-stream-read`,
            {
                description: "Read the event table's stream (Lambda trigger or stream client)",
                policy: all.apply(([resolvedScope, , , streamArn, keyArn]) =>
                    JSON.stringify(streamReadPolicy(resolvedScope, streamArn, keyArn)),
                ),
            },
            { parent: this },
        );
        this.tableRead = new aws.iam.Policy(
            `${name}-table-read`,
            {
                // The description is unchanged with or without the index: changing it would replace the policy.
                description: "Query and GetItem on the event table (polling)",
                policy: pulumi
                    .all([all, args.pollingIndexArn])
                    .apply(([[resolvedScope, , tableArn, , keyArn], indexArn]) =>
                        JSON.stringify(tableReadPolicy(resolvedScope, tableArn, keyArn, indexArn)),
                    ),
            },
            { parent: this },
        );
        this.registerOutputs({
            producerPolicyArn: this.producer.arn,
            streamReadPolicyArn: this.streamRead.arn,
            tableReadPolicyArn: this.tableRead.arn,
        });
    }
}
