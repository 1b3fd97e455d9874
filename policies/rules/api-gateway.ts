/** API Gateway (HTTP/WebSocket APIs and REST APIs): authorization, access logs, throttling. */
import { resourcePolicy, stackPolicy, T } from "../lib/define";
import { isUnknown, deferUntilKnown, asNumber } from "../lib/values";

const group = "api-gateway";

export const apiRouteAuthorization = resourcePolicy({
    name: "apigateway-route-authorization",
    description: "Every API Gateway route (or REST method) requires authorization.",
    level: "mandatory",
    group,
    appliesTo: [T.apiV2Route, T.restMethod, T.apiV2Api],
    remediationSteps:
        'Set authorizationType "AWS_IAM" (or JWT/CUSTOM with an authorizer) on every route; do not use quick-create `target` on the API.',
    validate({ type, props, report, args }) {
        if (type === T.apiV2Api) {
            if (props.target === undefined && props.routeKey === undefined) args.notApplicable("no quick-create route");
            report("uses quick create (target/routeKey), which creates a default route without authorization; declare routes explicitly.");
            return;
        }
        const field = type === T.restMethod ? "authorization" : "authorizationType";
        const value = props[field];
        if (isUnknown(value)) deferUntilKnown(value);
        if (value === undefined || String(value).toUpperCase() === "NONE") {
            report(
                `${field} is ${JSON.stringify(value ?? "NONE")}: anyone on the internet can call ${props.routeKey ?? props.httpMethod ?? "it"}.`,
            );
        }
    },
});

export const apiAccessLogging = resourcePolicy({
    name: "apigateway-access-logging",
    description: "Every API Gateway stage writes access logs.",
    level: "mandatory",
    group,
    appliesTo: [T.apiV2Stage, T.restStage],
    remediationSteps: "Set accessLogSettings: { destinationArn: <log group ARN>, format: <JSON format without request bodies> }.",
    validate({ props, report }) {
        const settings = props.accessLogSettings;
        if (isUnknown(settings)) deferUntilKnown(settings);
        if (!settings?.destinationArn) report("accessLogSettings.destinationArn is not set: requests are not logged.");
        else if (!settings.format) report("accessLogSettings.format is not set.");
    },
});

function positive(value: unknown): boolean | "unknown" {
    if (isUnknown(value)) return "unknown";
    const n = asNumber(value);
    return n !== undefined && n > 0;
}

export const apiThrottling = stackPolicy({
    name: "apigateway-throttling",
    description: "Every API Gateway stage sets throttling (burst and rate limits).",
    level: "mandatory",
    group,
    appliesTo: [T.apiV2Stage, T.restStage],
    remediationSteps:
        "HTTP API: defaultRouteSettings { throttlingBurstLimit, throttlingRateLimit }. REST API: aws.apigateway.MethodSettings for */* with throttling limits.",
    validate(context) {
        for (const stage of context.ofType(T.apiV2Stage)) {
            const settings = stage.props.defaultRouteSettings;
            if (isUnknown(settings)) {
                context.defer(settings);
                continue;
            }
            const burst = positive(settings?.throttlingBurstLimit);
            const rate = positive(settings?.throttlingRateLimit);
            if (burst === false || rate === false) {
                context.report(
                    "defaultRouteSettings lacks throttlingBurstLimit and/or throttlingRateLimit: the account-wide limit is the only protection.",
                    stage,
                );
            }
        }
        for (const stage of context.ofType(T.restStage)) {
            const throttled = context.ofType(T.restMethodSettings).some((ms) => {
                const sameApi = ms.props.restApi === stage.props.restApi || isUnknown(ms.props.restApi);
                const sameStage = ms.props.stageName === stage.props.stageName || isUnknown(ms.props.stageName);
                const s = ms.props.settings;
                return (
                    sameApi &&
                    sameStage &&
                    ms.props.methodPath === "*/*" &&
                    positive(s?.throttlingBurstLimit) !== false &&
                    positive(s?.throttlingRateLimit) !== false
                );
            });
            if (!throttled) context.report('has no MethodSettings for "*/*" with throttling limits.', stage);
        }
    },
});

export const apiGatewayPolicies = [apiRouteAuthorization, apiAccessLogging, apiThrottling];
