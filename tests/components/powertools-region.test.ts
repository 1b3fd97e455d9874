/**
 * A region where Powertools publishes no layer parameter for the installed version (new
 * layers are paused in some regions; GovCloud and China use other accounts) fails the
 * preview with an error that names the region, the parameter and what to do, never with
 * the provider's bare lookup error. The SSM invoke is mocked to fail as AWS answers it.
 */
import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { PowertoolsLayerUnavailableError, powertoolsLayerArn } from "../../components/shared/aws-scope";
import { powertoolsLayerParameterName } from "../../components/shared/powertools";

const DOC = 'Powertools for AWS Lambda (TypeScript) docs: "Lambda layers" (SSM parameter /aws/service/powertools/typescript/...)';

/** The value of an Output, or its rejection. */
function settle<T>(output: pulumi.Output<T>): Promise<T> {
    return (output as unknown as { promise(): Promise<T> }).promise();
}

describe(`the Powertools layer in a region without its parameter [${DOC}]`, () => {
    const region = "ap-southeast-7";
    const calls: string[] = [];

    before(async () => {
        await pulumi.runtime.setMocks(
            {
                newResource: (args) => ({ id: `${args.name}-id`, state: args.inputs }),
                call: (args) => {
                    calls.push(args.token);
                    if (args.token === "aws:ssm/getParameter:getParameter") {
                        throw new Error(`ParameterNotFound: Parameter ${String(args.inputs.name)} not found.`);
                    }
                    if (args.token === "aws:index/getRegion:getRegion") return { name: region, region, id: region };
                    return {};
                },
            },
            "event-ingestion",
            "powertools-region",
            true,
        );
    });

    it("fails the preview naming the region, the parameter and what to do", async () => {
        let failure: unknown;
        try {
            await settle(powertoolsLayerArn());
        } catch (error) {
            failure = error;
        }
        expect(failure, "the lookup failure is not swallowed").to.be.instanceOf(PowertoolsLayerUnavailableError);
        const error = failure as PowertoolsLayerUnavailableError;
        expect(error.region).to.equal(region);
        expect(error.parameterName).to.equal(powertoolsLayerParameterName());
        expect(error.message)
            .to.include(`in ${region}`)
            .and.include(powertoolsLayerParameterName())
            .and.include(`aws ssm get-parameter --region ${region}`)
            .and.include("aws:region");
        expect(error.cause, "the provider's own error is kept").to.be.instanceOf(Error);
        expect(calls).to.include("aws:ssm/getParameter:getParameter");
    });
});
