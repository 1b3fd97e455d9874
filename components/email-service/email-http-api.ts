import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { EMAIL_API_ROUTES } from "../../contracts/email-service";
import { previousParentAliases } from "../shared/aliases";

/**
 * A route's path as an execute-api resource: a path parameter is `*` ("Control access to an HTTP API with
 * IAM authorization"), as in the permission that lets API Gateway invoke the function on that route.
 */
const resourcePathOf = (path: string) => path.replace(/\{[^}]+\}/g, "*");

/** The email API's routes: send, read an email's status, cancel a scheduled email. */
const SEND_ROUTE = EMAIL_API_ROUTES.send;
const STATUS_ROUTE = { ...EMAIL_API_ROUTES.status, resourcePath: resourcePathOf(EMAIL_API_ROUTES.status.path) };
const CANCEL_ROUTE = { ...EMAIL_API_ROUTES.cancel, resourcePath: resourcePathOf(EMAIL_API_ROUTES.cancel.path) };

export interface EmailHttpApiArgs {
    /**
     * The API function's `invokeArn`, the integration's target.
     * @example apiFunction.invokeArn
     * @default none (required)
     */
    functionInvokeArn: pulumi.Input<string>;
    /**
     * The API function's name, for the permission that lets API Gateway invoke it.
     * @example apiFunction.name
     * @default none (required)
     */
    functionName: pulumi.Input<string>;
    /**
     * The API function's timeout: the integration waits one second longer, at most API Gateway's 30 s.
     * @example 10
     * @default none (required)
     */
    functionTimeoutSeconds: number;
    /**
     * The route's authorization type.
     * @example "NONE"
     * @default none (required; `EmailService` passes "AWS_IAM" unless configured)
     */
    authorization: "AWS_IAM" | "NONE";
    /**
     * Steady-state requests per second of the `$default` stage.
     * @example 50
     * @default none (required)
     */
    throttleRateLimit: number;
    /**
     * Burst of the `$default` stage.
     * @example 100
     * @default none (required)
     */
    throttleBurstLimit: number;
    /**
     * Name of the access-log group; the key policy must let CloudWatch Logs use it.
     * @example `${key.logGroupNamePrefix}email-api-access`
     * @default none (required)
     */
    accessLogGroupName: string;
    /**
     * Days the access logs are kept.
     * @example 30
     * @default none (required)
     */
    accessLogRetentionDays: number;
    /**
     * Customer-managed key of the access-log group.
     * @example key.arn
     * @default none (required)
     */
    kmsKeyArn: pulumi.Input<string>;
    /**
     * The parent these resources were registered under before this component grouped them: each child
     * gets an alias to it, so a deployed stack keeps its API, stage and log group.
     * @example this
     * @default undefined (no alias)
     */
    previousParent?: pulumi.Resource;
}

/**
 * The email service's HTTP API: an API Gateway HTTP API with three explicit routes,
 * `POST /v1/emails`, `GET /v1/emails/{id}` and `DELETE /v1/emails/{id}`, proxied to the API function
 * (payload 2.0), all with the same authorization (IAM by default), a throttled auto-deployed `$default`
 * stage whose access logs hold no bodies nor IPs, and one permission per route that lets
 * API Gateway invoke the function on that route only.
 *
 * Named as its service: the children keep the names `<name>-http`, `<name>-http-stage`, ...
 *
 * @example
 * const http = new EmailHttpApi("email", {
 *     functionInvokeArn: api.function.invokeArn, functionName: api.function.name, functionTimeoutSeconds: 10,
 *     authorization: "AWS_IAM", throttleRateLimit: 50, throttleBurstLimit: 100,
 *     accessLogGroupName: `${key.logGroupNamePrefix}email-api-access`, accessLogRetentionDays: 30, kmsKeyArn: key.arn,
 * }, { parent: this });
 * export const emailApiUrl = http.url;
 */
export class EmailHttpApi extends pulumi.ComponentResource {
    readonly api: aws.apigatewayv2.Api;
    readonly integration: aws.apigatewayv2.Integration;
    readonly route: aws.apigatewayv2.Route;
    /** `GET /v1/emails/{id}`: an email's status, for the principal that sent it. */
    readonly statusRoute: aws.apigatewayv2.Route;
    readonly accessLogGroup: aws.cloudwatch.LogGroup;
    readonly stage: aws.apigatewayv2.Stage;
    readonly invokePermission: aws.lambda.Permission;
    readonly statusInvokePermission: aws.lambda.Permission;
    /** `DELETE /v1/emails/{id}`: cancel a scheduled email, for the principal that sent it. */
    readonly cancelRoute: aws.apigatewayv2.Route;
    readonly cancelInvokePermission: aws.lambda.Permission;
    /** `https://<api>.execute-api.<region>.amazonaws.com/v1/emails` */
    readonly url: pulumi.Output<string>;
    /** `<executionArn>/$default/POST/v1/emails`: the resource of a client's `execute-api:Invoke` grant. */
    readonly routeExecutionArn: pulumi.Output<string>;
    /** `<executionArn>/$default/GET/v1/emails/*`: the resource of a client's grant to read its emails' statuses. */
    readonly statusRouteExecutionArn: pulumi.Output<string>;
    /** `<executionArn>/$default/DELETE/v1/emails/*`: the resource of a client's grant to cancel its scheduled emails. */
    readonly cancelRouteExecutionArn: pulumi.Output<string>;

    constructor(name: string, args: EmailHttpApiArgs, opts?: pulumi.ComponentResourceOptions) {
        super("event-ingestion:email:EmailHttpApi", name, {}, opts);
        const child: pulumi.CustomResourceOptions = {
            parent: this,
            ...previousParentAliases(args.previousParent),
        };

        this.api = new aws.apigatewayv2.Api(
            `${name}-http`,
            { protocolType: "HTTP", description: "Email service API", disableExecuteApiEndpoint: false },
            child,
        );
        this.integration = new aws.apigatewayv2.Integration(
            `${name}-http-lambda`,
            {
                apiId: this.api.id,
                integrationType: "AWS_PROXY",
                integrationUri: args.functionInvokeArn,
                integrationMethod: "POST",
                payloadFormatVersion: "2.0",
                timeoutMilliseconds: Math.min(30_000, (args.functionTimeoutSeconds + 1) * 1000),
            },
            child,
        );
        this.route = new aws.apigatewayv2.Route(
            `${name}-http-send`,
            {
                apiId: this.api.id,
                routeKey: `${SEND_ROUTE.method} ${SEND_ROUTE.path}`,
                authorizationType: args.authorization,
                target: pulumi.interpolate`integrations/${this.integration.id}`,
            },
            child,
        );
        // New beside the deployed resources: its own name, so nothing deployed changes.
        this.statusRoute = new aws.apigatewayv2.Route(
            `${name}-http-status`,
            {
                apiId: this.api.id,
                routeKey: `${STATUS_ROUTE.method} ${STATUS_ROUTE.path}`,
                authorizationType: args.authorization,
                target: pulumi.interpolate`integrations/${this.integration.id}`,
            },
            { parent: this },
        );
        this.cancelRoute = new aws.apigatewayv2.Route(
            `${name}-http-cancel`,
            {
                apiId: this.api.id,
                routeKey: `${CANCEL_ROUTE.method} ${CANCEL_ROUTE.path}`,
                authorizationType: args.authorization,
                target: pulumi.interpolate`integrations/${this.integration.id}`,
            },
            { parent: this },
        );
        this.accessLogGroup = new aws.cloudwatch.LogGroup(
            `${name}-http-access-logs`,
            { name: args.accessLogGroupName, retentionInDays: args.accessLogRetentionDays, kmsKeyId: args.kmsKeyArn },
            child,
        );
        // An auto-deployed stage deploys the routes that exist when it is created: create it after the route.
        this.stage = new aws.apigatewayv2.Stage(
            `${name}-http-stage`,
            {
                apiId: this.api.id,
                name: "$default",
                autoDeploy: true,
                defaultRouteSettings: {
                    throttlingBurstLimit: args.throttleBurstLimit,
                    throttlingRateLimit: args.throttleRateLimit,
                    detailedMetricsEnabled: true,
                },
                accessLogSettings: {
                    destinationArn: this.accessLogGroup.arn,
                    format: JSON.stringify({
                        requestId: "$context.requestId",
                        requestTime: "$context.requestTime",
                        routeKey: "$context.routeKey",
                        status: "$context.status",
                        caller: "$context.identity.userArn",
                        responseLength: "$context.responseLength",
                        responseLatency: "$context.responseLatency",
                        integrationStatus: "$context.integrationStatus",
                        integrationLatency: "$context.integrationLatency",
                        error: "$context.error.messageString",
                    }),
                },
            },
            { ...child, dependsOn: [this.route, this.statusRoute, this.cancelRoute] },
        );
        this.invokePermission = new aws.lambda.Permission(
            `${name}-http-invoke`,
            {
                action: "lambda:InvokeFunction",
                function: args.functionName,
                principal: "apigateway.amazonaws.com",
                sourceArn: pulumi.interpolate`${this.api.executionArn}/*/${SEND_ROUTE.method}${SEND_ROUTE.path}`,
            },
            child,
        );
        this.statusInvokePermission = new aws.lambda.Permission(
            `${name}-http-invoke-status`,
            {
                action: "lambda:InvokeFunction",
                function: args.functionName,
                principal: "apigateway.amazonaws.com",
                sourceArn: pulumi.interpolate`${this.api.executionArn}/*/${STATUS_ROUTE.method}${STATUS_ROUTE.resourcePath}`,
            },
            { parent: this },
        );
        this.cancelInvokePermission = new aws.lambda.Permission(
            `${name}-http-invoke-cancel`,
            {
                action: "lambda:InvokeFunction",
                function: args.functionName,
                principal: "apigateway.amazonaws.com",
                sourceArn: pulumi.interpolate`${this.api.executionArn}/*/${CANCEL_ROUTE.method}${CANCEL_ROUTE.resourcePath}`,
            },
            { parent: this },
        );
        this.url = pulumi.interpolate`${this.api.apiEndpoint}${SEND_ROUTE.path}`;
        this.routeExecutionArn = pulumi.interpolate`${this.api.executionArn}/$default/${SEND_ROUTE.method}${SEND_ROUTE.path}`;
        this.statusRouteExecutionArn = pulumi.interpolate`${this.api.executionArn}/$default/${STATUS_ROUTE.method}${STATUS_ROUTE.resourcePath}`;
        this.cancelRouteExecutionArn = pulumi.interpolate`${this.api.executionArn}/$default/${CANCEL_ROUTE.method}${CANCEL_ROUTE.resourcePath}`;
        this.registerOutputs({ apiId: this.api.id, url: this.url, stageName: this.stage.name });
    }
}
