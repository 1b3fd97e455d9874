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

/** The preview stops here: Powertools publishes no layer parameter for the installed version in the stack's region. */
export class PowertoolsLayerUnavailableError extends Error {
    constructor(
        readonly region: string,
        readonly parameterName: string,
        cause: unknown,
    ) {
        super(
            `Powertools for AWS Lambda (TypeScript) publishes no layer for this version in ${region}: SSM parameter ` +
                `${parameterName} is not there (${describeCause(cause)}). Powertools publishes its layer in the commercial ` +
                `regions it lists under "Lambda layers" in its docs; new layers are paused in some, and GovCloud and China ` +
                `use other accounts. Check with: aws ssm get-parameter --region ${region} --name ${parameterName}. ` +
                `Deploy this stack to a region that has the parameter (aws:region), or install a Powertools version ` +
                `published there (package.json pins every @aws-lambda-powertools package at one version).`,
        );
        this.name = "PowertoolsLayerUnavailableError";
        this.cause = cause;
    }
}

function describeCause(cause: unknown): string {
    const text = cause instanceof Error ? cause.message : String(cause);
    // The provider's message is the first line; keep it short and on one line.
    return text.split("\n")[0].slice(0, 200) || "the lookup failed";
}

/**
 * The ARN of the Powertools layer that carries exactly the installed Powertools version,
 * read at deploy time from Powertools' public SSM parameter in the provider's region
 * (Powertools docs, "Lambda layers": `/aws/service/powertools/typescript/generic/all/<version>`).
 * The parameter is a plain `String`; its `insecureValue` is read because the provider
 * marks `value` secret for every parameter type. A region without the parameter fails the
 * preview with {@link PowertoolsLayerUnavailableError}, which names the region and what to do.
 *
 * @example
 * new aws.lambda.CallbackFunction("fn", { layers: [powertoolsLayerArn({ parent: this })], ... });
 */
export function powertoolsLayerArn(opts: pulumi.InvokeOptions = {}): pulumi.Output<string> {
    const name = powertoolsLayerParameterName();
    return pulumi.output(
        aws.ssm.getParameter({ name }, opts).then(
            (parameter) => parameter.insecureValue,
            async (error: unknown) => {
                const region = await aws.getRegion({}, opts).then(
                    (found) => found.region,
                    () => "the stack's region",
                );
                throw new PowertoolsLayerUnavailableError(region, name, error);
            },
        ),
    );
}
