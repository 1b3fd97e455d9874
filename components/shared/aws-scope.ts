import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AwsScope } from "./iam-documents";
import { powertoolsLayerParameterName } from "./powertools";

/**
 * The partition, region and account the resources land in, from the provider
 * (never hard-coded), so the same program deploys to any region and account.
 */
export function awsScope(opts: pulumi.InvokeOutputOptions = {}): pulumi.Output<AwsScope> {
    const identity = aws.getCallerIdentityOutput({}, opts);
    const region = aws.getRegionOutput({}, opts);
    const partition = aws.getPartitionOutput({}, opts);
    return pulumi.all([identity.accountId, region.region, partition.partition]).apply(([accountId, regionName, partitionName]) => ({
        accountId,
        region: regionName,
        partition: partitionName,
    }));
}

/** `project` and `stack` of the running deployment. */
export function deploymentNames(): { project: string; stack: string } {
    return { project: pulumi.getProject(), stack: pulumi.getStack() };
}

/**
 * The ARN of the Powertools layer that carries exactly the installed Powertools version,
 * read at deploy time from Powertools' public SSM parameter in the provider's region
 * (Powertools docs, "Lambda layers": `/aws/service/powertools/typescript/generic/all/<version>`).
 * The parameter is a plain `String`; its `insecureValue` is read because the provider
 * marks `value` secret for every parameter type.
 *
 * @example
 * new aws.lambda.CallbackFunction("fn", { layers: [powertoolsLayerArn({ parent: this })], ... });
 */
export function powertoolsLayerArn(opts: pulumi.InvokeOutputOptions = {}): pulumi.Output<string> {
    return aws.ssm.getParameterOutput({ name: powertoolsLayerParameterName() }, opts).insecureValue;
}
