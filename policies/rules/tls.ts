/**
 * TLS only: every SQS queue, SNS topic and S3 bucket has a resource policy that denies
 * requests without TLS (`Bool: { aws:SecureTransport: false }`), for everyone, for every action
 * of the service. The policy may be inline (`policy` on the queue/topic) or a separate
 * QueuePolicy/TopicPolicy/BucketPolicy; every such policy document must carry the deny.
 */
import { parsePolicyDocument, NormalizedStatement, conditionValues, isEveryonePrincipal, wildcardMatches } from "../lib/iam-documents";
import { stackPolicy, StackResource, StackContext, T, BUCKET_TYPES } from "../lib/define";
import { isUnknown } from "../lib/values";

const SERVICE: Record<string, string> = {
    [T.sqsQueue]: "sqs",
    [T.snsTopic]: "sns",
    [T.s3Bucket]: "s3",
    [T.s3BucketV2]: "s3",
};

function deniesInsecureTransport(statement: NormalizedStatement, service: string, targetArn: unknown): boolean {
    if (statement.effect !== "Deny" || !isEveryonePrincipal(statement)) return false;
    const values = [
        ...conditionValues(statement, "Bool", "aws:SecureTransport"),
        ...conditionValues(statement, "BoolIfExists", "aws:SecureTransport"),
    ];
    if (!values.some((v) => v === false || String(v).toLowerCase() === "false")) return false;
    // Every action of the service: "*" or "<service>:*".
    const coversAllActions = statement.actions.some(
        (a) => !isUnknown(a) && (a.trim() === "*" || a.trim().toLowerCase() === `${service}:*`),
    );
    if (!coversAllActions) return false;
    // The resource it protects (or everything). A computed Resource is this stack's ARN.
    const resources = statement.resources;
    if (resources.length === 0) return false;
    if (resources.some((r) => isUnknown(r) || r === "*")) return true;
    if (typeof targetArn !== "string") return true;
    if (service === "s3") {
        const objects = `${targetArn}/*`;
        return (
            resources.some((r) => wildcardMatches(r as string, targetArn)) && resources.some((r) => wildcardMatches(r as string, objects))
        );
    }
    return resources.some((r) => wildcardMatches(r as string, targetArn));
}

type PolicySource = { holder: StackResource; document: unknown };

function policySources(target: StackResource, context: StackContext): PolicySource[] {
    const sources: PolicySource[] = [];
    if (target.type === T.sqsQueue || target.type === T.snsTopic) {
        const inline = target.props.policy;
        if (inline !== undefined && inline !== null && inline !== "") sources.push({ holder: target, document: inline });
    }
    const attachments: [string, string][] =
        target.type === T.sqsQueue
            ? [[T.sqsQueuePolicy, "queueUrl"]]
            : target.type === T.snsTopic
              ? [[T.snsTopicPolicy, "arn"]]
              : [[T.s3BucketPolicy, "bucket"]];
    for (const [type, prop] of attachments) {
        for (const holder of context.ofType(type)) {
            if (context.referenced(holder, prop, [target.type]).includes(target)) sources.push({ holder, document: holder.props.policy });
        }
    }
    return sources;
}

export const tlsOnly = stackPolicy({
    name: "tls-only-resource-policies",
    description: "Queue, topic and bucket policies deny any request made without TLS (aws:SecureTransport = false).",
    level: "mandatory",
    group: "tls",
    appliesTo: [T.sqsQueue, T.snsTopic, ...BUCKET_TYPES, T.sqsQueuePolicy, T.snsTopicPolicy, T.s3BucketPolicy],
    remediationSteps:
        'Add a statement { Effect: "Deny", Principal: "*", Action: "<service>:*", Resource: <arn> (and <arn>/* for buckets), Condition: { Bool: { "aws:SecureTransport": "false" } } } to the resource policy.',
    validate(context) {
        const { ofType, report } = context;
        const checked = new Set<StackResource>();
        for (const target of ofType(T.sqsQueue, T.snsTopic, ...BUCKET_TYPES)) {
            const service = SERVICE[target.type];
            const sources = policySources(target, context);
            sources.forEach((source) => checked.add(source.holder));
            if (sources.length === 0) {
                report(
                    `has no resource policy, so nothing denies requests without TLS; attach one that denies aws:SecureTransport = false.`,
                    target,
                );
                continue;
            }
            for (const { holder, document } of sources) {
                const parsed = parsePolicyDocument(document);
                if (parsed.kind === "unknown") {
                    context.defer(parsed.unknown);
                    continue;
                }
                if (parsed.kind === "invalid") {
                    report(`its policy document is ${parsed.reason}.`, holder);
                    continue;
                }
                if (parsed.kind === "absent" || !parsed.statements.some((s) => deniesInsecureTransport(s, service, target.props.arn))) {
                    report(
                        `${holder === target ? "its policy" : `the policy attached to ${target.name}`} does not deny ${service}:* to everyone when aws:SecureTransport is false.`,
                        holder,
                    );
                }
            }
        }
        // Policies attached to queues, topics or buckets outside this stack: every one of them
        // must carry the deny too (its target's ARN is not known here, any Resource will do).
        for (const [type, service] of [
            [T.sqsQueuePolicy, "sqs"],
            [T.snsTopicPolicy, "sns"],
            [T.s3BucketPolicy, "s3"],
        ] as const) {
            for (const holder of ofType(type)) {
                if (checked.has(holder)) continue;
                const parsed = parsePolicyDocument(holder.props.policy);
                if (parsed.kind === "unknown") {
                    context.defer(parsed.unknown);
                    continue;
                }
                if (parsed.kind !== "document" || !parsed.statements.some((s) => deniesInsecureTransport(s, service, undefined))) {
                    report(
                        `does not deny ${service}:* to everyone when aws:SecureTransport is false${parsed.kind === "invalid" ? ` (its document is ${parsed.reason})` : ""}.`,
                        holder,
                    );
                }
            }
        }
    },
});

export const tlsPolicies = [tlsOnly];
