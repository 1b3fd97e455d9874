/**
 * Any legal stack name gives valid physical names and prefixes no other stack shares.
 * The program runs under mocks as stacks `prod.eu-west-1`, `dev`, `dev-2` and one with a
 * 100-character name; every physical name (explicit, or what Pulumi's autonaming makes of
 * the logical name) is checked against the pattern and length AWS documents for its type:
 *
 * - KMS aliases: AWS KMS API Reference, "CreateAlias" (AliasName `^[a-zA-Z0-9:/_-]+$`, 1–256, `alias/` prefix, not `alias/aws/`)
 * - Dashboards: CloudWatch API Reference, "PutDashboard" (DashboardName: A-Z, a-z, 0-9, `-`, `_`; up to 255)
 * - Alarms: CloudWatch API Reference, "PutMetricAlarm" (AlarmName 1–255, printable UTF-8)
 * - Log groups: CloudWatch Logs API Reference, "CreateLogGroup" (`[\.\-_/#A-Za-z0-9]+`, 1–512)
 * - Schedule groups: EventBridge Scheduler API Reference, "CreateScheduleGroup" (`^[0-9a-zA-Z-_.]+$`, 1–64)
 * - Queues: SQS API Reference, "CreateQueue" (alphanumerics, `-`, `_`, up to 80 with the `.fifo` suffix)
 * - Tables: DynamoDB Developer Guide, "Supported data types and naming rules" (`[a-zA-Z0-9_.-]`, 3–255)
 * - Roles and policies: IAM User Guide, "IAM and AWS STS quotas" (role names 64, policy names 128, `[\w+=,.@-]`)
 * - Topics: SNS API Reference, "CreateTopic" (alphanumerics, `-`, `_`, 1–256)
 * - Functions: Lambda API Reference, "CreateFunction" (FunctionName `[a-zA-Z0-9-_]`, up to 64)
 * - Buckets: S3 User Guide, "General purpose bucket naming rules" (3–63, lowercase, digits, `.`, `-`)
 * - Secrets: Secrets Manager API Reference, "CreateSecret" (1–512, `[A-Za-z0-9/_+=.@-]`)
 * - SES configuration sets: Amazon SES API v2 Reference, "CreateConfigurationSet" (letters, digits, `_`, `-`; up to 64)
 * - Lambda layers: Lambda API Reference, "PublishLayerVersion" (LayerName `[a-zA-Z0-9-_]+`, 1–140)
 */
import { expect } from "chai";
import { alarmNamePrefix, kmsAliasName, logGroupNamePrefix, STACK_NAME_PATTERN, stackSlug } from "../../components/shared/naming";
import {
    sharedDeployment,
    MOCK_ACCOUNT_ID,
    readStackConfig,
    type MockDeployment,
    type MockedResource,
} from "../../local/offline/mock-deployment";
import { decide } from "../support/iam";
import { all, one, policyOf, keyPolicyOf } from "./helpers";

const LONG_STACK = `Feature_Branch.payments-eu-central-1.${"x".repeat(63)}`;
const STACKS: Record<string, string> = {
    "prod.eu-west-1": "eu-west-1",
    dev: "us-east-1",
    "dev-2": "us-east-1",
    [LONG_STACK]: "eu-central-1",
};

/** Pulumi's autonaming: the logical name, a hyphen and 7 random hex digits (FIFO queues keep their `.fifo` suffix). */
function physicalName(r: MockedResource, explicit: string | undefined): string {
    if (explicit !== undefined) return explicit;
    const auto = `${r.name}-a1b2c3d`;
    return r.type === "aws:sqs/queue:Queue" && r.inputs.fifoQueue ? `${auto}.fifo` : auto;
}

interface NameRule {
    /** Which input holds the explicit name (else autonamed). */
    input?: string;
    pattern: RegExp;
    max: number;
    min?: number;
}

const RULES: Record<string, NameRule> = {
    "aws:kms/alias:Alias": { input: "name", pattern: /^alias\/(?!aws\/)[a-zA-Z0-9:/_-]+$/, max: 256 },
    "aws:cloudwatch/dashboard:Dashboard": { input: "dashboardName", pattern: /^[A-Za-z0-9_-]+$/, max: 255 },
    "aws:cloudwatch/metricAlarm:MetricAlarm": { input: "name", pattern: /^[\u0020-\u007e]+$/, max: 255 },
    "aws:cloudwatch/logGroup:LogGroup": { input: "name", pattern: /^[.\-_/#A-Za-z0-9]+$/, max: 512 },
    "aws:scheduler/scheduleGroup:ScheduleGroup": { input: "name", pattern: /^[0-9a-zA-Z\-_.]+$/, max: 64 },
    "aws:sqs/queue:Queue": { input: "name", pattern: /^[A-Za-z0-9_-]+(\.fifo)?$/, max: 80 },
    "aws:dynamodb/table:Table": { input: "name", pattern: /^[a-zA-Z0-9_.-]+$/, max: 255, min: 3 },
    "aws:iam/role:Role": { input: "name", pattern: /^[\w+=,.@-]+$/, max: 64 },
    "aws:iam/policy:Policy": { input: "name", pattern: /^[\w+=,.@-]+$/, max: 128 },
    "aws:iam/rolePolicy:RolePolicy": { input: "name", pattern: /^[\w+=,.@-]+$/, max: 128 },
    "aws:sns/topic:Topic": { input: "name", pattern: /^[A-Za-z0-9_-]+$/, max: 256 },
    "aws:lambda/function:Function": { input: "name", pattern: /^[a-zA-Z0-9_-]+$/, max: 64 },
    "aws:s3/bucket:Bucket": { input: "bucket", pattern: /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/, max: 63, min: 3 },
    "aws:s3/bucketV2:BucketV2": { input: "bucket", pattern: /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/, max: 63, min: 3 },
    "aws:secretsmanager/secret:Secret": { input: "name", pattern: /^[A-Za-z0-9/_+=.@-]+$/, max: 512 },
    "aws:sesv2/configurationSet:ConfigurationSet": { input: "configurationSetName", pattern: /^[A-Za-z0-9_-]+$/, max: 64 },
    "aws:lambda/layerVersion:LayerVersion": { input: "layerName", pattern: /^[a-zA-Z0-9_-]+$/, max: 140 },
};

/** Every named resource of a deployment with the name AWS would see. */
function names(d: MockDeployment): { type: string; logical: string; name: string; explicit: boolean }[] {
    return d.resources
        .filter((r) => RULES[r.type] !== undefined)
        .map((r) => {
            const explicit = r.inputs[RULES[r.type].input!] as string | undefined;
            return { type: r.type, logical: r.name, name: physicalName(r, explicit), explicit: explicit !== undefined };
        });
}

/** An IAM `ArnLike` pattern as a regular expression (`*` any run, `?` one character). */
function arnLike(pattern: string): RegExp {
    return new RegExp(
        `^${pattern
            .replace(/[.+^${}()|[\]\\]/g, "\\$&")
            .replace(/\*/g, ".*")
            .replace(/\?/g, ".")}$`,
    );
}

function keyStatement(d: MockDeployment, keyName: string, sid: string) {
    return keyPolicyOf(d, keyName).Statement.find((s) => s.Sid === sid)!;
}

describe("stack names: any legal stack name gives valid, unique physical names (mocks)", function () {
    this.timeout(600_000);
    const deployments = new Map<string, MockDeployment>();

    before(async () => {
        expect(LONG_STACK).to.have.length(100).and.match(STACK_NAME_PATTERN);
        for (const [stack, region] of Object.entries(STACKS)) {
            deployments.set(stack, await sharedDeployment({ stack, config: { ...readStackConfig("dev"), "aws:region": region } }));
        }
    });

    it("gives every resource a name within its type's documented pattern and length", () => {
        const problems: string[] = [];
        for (const [stack, d] of deployments) {
            const found = names(d);
            expect(found.length, stack).to.be.greaterThan(20);
            for (const { type, logical, name } of found) {
                const rule = RULES[type];
                if (!rule.pattern.test(name) || name.length > rule.max || name.length < (rule.min ?? 1)) {
                    problems.push(
                        `${stack}: ${type} ${logical} = ${JSON.stringify(name)} (${name.length} chars; ${rule.pattern} up to ${rule.max})`,
                    );
                }
            }
        }
        expect(problems).to.deep.equal([]);
    });

    it("keeps today's names where they were valid, and changes only the invalid ones", () => {
        const dev = deployments.get("dev")!;
        expect(one(dev, "aws:kms/alias:Alias", "events").inputs.name).to.equal("alias/event-ingestion/dev/events");
        expect(one(dev, "aws:cloudwatch/dashboard:Dashboard", "events-dashboard").inputs.dashboardName).to.equal(
            "event-ingestion-dev-us-east-1-events",
        );
        expect(one(dev, "aws:scheduler/scheduleGroup:ScheduleGroup").inputs.name).to.equal("event-ingestion-dev-email-schedules");
        const dotted = deployments.get("prod.eu-west-1")!;
        // Log group and schedule group names accept the dot: unchanged.
        expect(one(dotted, "aws:cloudwatch/logGroup:LogGroup", "event-processor-logs").inputs.name).to.equal(
            "/event-ingestion/prod.eu-west-1/event-processor",
        );
        expect(one(dotted, "aws:scheduler/scheduleGroup:ScheduleGroup").inputs.name).to.equal(
            "event-ingestion-prod.eu-west-1-email-schedules",
        );
        // KMS aliases and dashboards do not: the stack's slug (sanitised, with a hash of the real name).
        expect(one(dotted, "aws:kms/alias:Alias", "events").inputs.name).to.equal(
            kmsAliasName("event-ingestion", "prod.eu-west-1", "events"),
        );
        expect(one(dotted, "aws:kms/alias:Alias", "events").inputs.name).to.match(
            /^alias\/event-ingestion\/prod-eu-west-1-[0-9a-f]{8}\/events$/,
        );
        // A 100-character stack: the schedule group name is bounded to 64 with the slug.
        const long = one(deployments.get(LONG_STACK)!, "aws:scheduler/scheduleGroup:ScheduleGroup").inputs.name as string;
        expect(long)
            .to.have.length.at.most(64)
            .and.match(/^event-ingestion-Feature-Branch-payments-[0-9a-f]{8}-email-schedules$/);
    });

    it("gives different stacks different names for every explicitly named resource", () => {
        const seen = new Map<string, string>();
        const clashes: string[] = [];
        for (const [stack, d] of deployments) {
            for (const { type, name } of names(d).filter((n) => n.explicit)) {
                const key = `${type} ${name}`;
                if (seen.has(key) && seen.get(key) !== stack) clashes.push(`${key}: ${seen.get(key)} and ${stack}`);
                seen.set(key, stack);
            }
        }
        expect(clashes).to.deep.equal([]);
        expect(new Set(Object.keys(STACKS).map((s) => stackSlug(s))).size).to.equal(Object.keys(STACKS).length);
    });

    it("admits no other stack's alarms or log groups through its alarm and log-group prefixes (dev does not match dev-2)", () => {
        const leaks: string[] = [];
        for (const [owner, d] of deployments) {
            const topicPolicy = policyOf(one(d, "aws:sns/topicPolicy:TopicPolicy", "alarms-policy").inputs.policy);
            const alarmPattern = arnLike(
                topicPolicy.Statement.find((x) => x.Sid === "CloudWatchAlarmsPublish")!.Condition!.ArnLike["aws:SourceArn"] as string,
            );
            const logPattern = arnLike(
                keyStatement(d, "events", "CloudWatchLogsEncryptsThisStacksLogGroups").Condition!.ArnLike[
                    "kms:EncryptionContext:aws:logs:arn"
                ] as string,
            );
            for (const [other, o] of deployments) {
                const region = o.region;
                for (const alarm of all(o, "aws:cloudwatch/metricAlarm:MetricAlarm")) {
                    // Same account and region as the owner, so only the name can tell them apart.
                    const arn = `arn:aws:cloudwatch:${d.region}:${MOCK_ACCOUNT_ID}:alarm:${alarm.inputs.name}`;
                    if (alarmPattern.test(arn) !== (other === owner))
                        leaks.push(`${owner}'s alarm prefix vs ${other}'s alarm ${alarm.inputs.name}`);
                }
                for (const group of all(o, "aws:cloudwatch/logGroup:LogGroup")) {
                    const arn = `arn:aws:logs:${d.region}:${MOCK_ACCOUNT_ID}:log-group:${group.inputs.name}`;
                    if (logPattern.test(arn) !== (other === owner))
                        leaks.push(`${owner}'s log-group prefix vs ${other}'s log group ${group.inputs.name} (${region})`);
                }
            }
        }
        expect(leaks).to.deep.equal([]);
        expect(alarmNamePrefix("event-ingestion", "dev")).to.equal("event-ingestion-dev/");
        expect(`${alarmNamePrefix("event-ingestion", "dev-2")}events-x`.startsWith(alarmNamePrefix("event-ingestion", "dev"))).to.equal(
            false,
        );
        expect(`${logGroupNamePrefix("event-ingestion", "dev-2")}x`.startsWith(logGroupNamePrefix("event-ingestion", "dev"))).to.equal(
            false,
        );
    });

    it("lets dev's alarms, and not dev-2's, publish to dev's encrypted topic (IAM simulator on the real topic and key policies)", async () => {
        const dev = deployments.get("dev")!;
        const devTwo = deployments.get("dev-2")!;
        const key = one(dev, "aws:kms/key:Key", "events");
        const topic = one(dev, "aws:sns/topicPolicy:TopicPolicy", "alarms-policy");
        const request = (alarmName: string) => ({
            "aws:SourceArn": `arn:aws:cloudwatch:us-east-1:${MOCK_ACCOUNT_ID}:alarm:${alarmName}`,
            "aws:SourceAccount": MOCK_ACCOUNT_ID,
        });
        const own = all(dev, "aws:cloudwatch/metricAlarm:MetricAlarm")[0].inputs.name as string;
        const neighbour = all(devTwo, "aws:cloudwatch/metricAlarm:MetricAlarm")[0].inputs.name as string;
        const subject = (resourcePolicy: unknown) => ({
            principal: "cloudwatch.amazonaws.com",
            identityPolicies: [],
            resourcePolicy: policyOf(resourcePolicy),
        });
        // SNS asks KMS with the topic's own encryption context when it encrypts an alarm's notification.
        const topicContext = { "kms:EncryptionContext:aws:sns:topicArn": String(topic.inputs.arn) };
        expect(
            await decide(subject(JSON.stringify(keyPolicyOf(dev, "events"))), {
                action: "kms:GenerateDataKey",
                resource: key.state.arn,
                context: { ...request(own), ...topicContext },
            }),
        ).to.equal("Allowed");
        expect(
            await decide(subject(topic.inputs.policy), { action: "sns:Publish", resource: topic.inputs.arn, context: request(own) }),
        ).to.equal("Allowed");
        expect(
            await decide(subject(topic.inputs.policy), { action: "sns:Publish", resource: topic.inputs.arn, context: request(neighbour) }),
        ).to.not.equal("Allowed");
    });
});
