/**
 * Component structure, as pulumi-awsx does it: every AWS resource is a child of
 * one of our components (`{ parent: this }`), and components use
 * `event-ingestion:<module>:<Type>` tokens.
 */
import { expect } from "chai";
import { sharedDeployment } from "../../local/offline/mock-deployment";

/** A registration with its parent's type and name, as the engine receives them. */
interface RecordedResource {
    type: string;
    name: string;
    custom: boolean;
    parentType?: string;
    parentName?: string;
}

describe("component structure (mocks)", () => {
    let recorded: RecordedResource[];
    before(async () => {
        // The dev stack's registrations (every resource and component, with its parent's URN), as the engine gets them.
        const { registrations } = await sharedDeployment({ stack: "dev" });
        const byUrn = new Map(registrations.map((r) => [r.urn, r]));
        recorded = registrations.map(({ type, name, custom, parent }) => ({
            type,
            name,
            custom,
            parentType: parent === undefined ? undefined : byUrn.get(parent)?.type,
            parentName: parent === undefined ? undefined : byUrn.get(parent)?.name,
        }));
    });

    it("registers every AWS resource as a child of a component (no orphans at the stack root)", () => {
        const unresolved = recorded.filter((r) => r.type !== "pulumi:pulumi:Stack" && r.parentType === undefined);
        expect(unresolved, "every registration's parent is registered before it").to.deep.equal([]);
        const aws = recorded.filter((r) => r.type.startsWith("aws:"));
        expect(aws.length).to.be.greaterThan(25);
        const orphans = aws
            .filter((r) => !r.parentType?.startsWith("event-ingestion:"))
            .map((r) => `${r.type} ${r.name} (parent ${r.parentType ?? "stack"})`);
        expect(orphans).to.deep.equal([]);
    });

    it("uses event-ingestion:<module>:<Type> tokens for the event processor's components", () => {
        const components = recorded.filter((r) => !r.custom && r.type !== "pulumi:pulumi:Stack").map((r) => r.type);
        for (const token of [
            "event-ingestion:security:EncryptionKey",
            "event-ingestion:messaging:EncryptedQueue",
            "event-ingestion:storage:EventStore",
            "event-ingestion:compute:ServiceFunction",
            "event-ingestion:events:EventPipeline",
            "event-ingestion:monitoring:AlarmTopic",
            "event-ingestion:monitoring:PipelineMonitoring",
            "event-ingestion:access:EventAccessPolicies",
        ]) {
            expect(components).to.include(token);
        }
        for (const token of components) expect(token).to.match(/^event-ingestion:[a-z-]+:[A-Z][A-Za-z]+$/);
    });

    it("parents each event processor resource under the component that owns it", () => {
        const parentOf = (type: string, name: string) => recorded.find((r) => r.type === type && r.name === name)?.parentType;
        expect(parentOf("aws:kms/key:Key", "events")).to.equal("event-ingestion:security:EncryptionKey");
        expect(parentOf("aws:sqs/queue:Queue", "events-dlq")).to.equal("event-ingestion:messaging:EncryptedQueue");
        expect(parentOf("aws:dynamodb/table:Table", "events")).to.equal("event-ingestion:storage:EventStore");
        expect(parentOf("aws:lambda/function:Function", "event-processor")).to.equal("event-ingestion:compute:ServiceFunction");
        expect(parentOf("aws:iam/role:Role", "event-processor-role")).to.equal("event-ingestion:compute:ServiceFunction");
        expect(parentOf("aws:lambda/function:Function", "email-worker")).to.equal("event-ingestion:compute:ServiceFunction");
        expect(parentOf("aws:cloudwatch/dashboard:Dashboard", "events-dashboard")).to.equal(
            "event-ingestion:monitoring:PipelineMonitoring",
        );
        expect(parentOf("aws:cloudwatch/dashboard:Dashboard", "email-dashboard")).to.equal("event-ingestion:email:EmailDashboard");
        expect(parentOf("aws:cloudwatch/metricAlarm:MetricAlarm", "email-failover")).to.equal("event-ingestion:email:EmailAlarms");
        expect(parentOf("aws:secretsmanager/secret:Secret", "email-smtp")).to.equal("event-ingestion:email:EmailSmtp");
        expect(parentOf("aws:lambda/layerVersion:LayerVersion", "email-smtp-layer")).to.equal("event-ingestion:email:EmailSmtp");
        for (const token of ["EmailSmtp", "EmailAlarms", "EmailDashboard"])
            expect(parentOf(`event-ingestion:email:${token}`, "email"), token).to.equal("event-ingestion:email:EmailService");
        expect(parentOf("aws:apigatewayv2/api:Api", "email-http")).to.equal("event-ingestion:email:EmailHttpApi");
        expect(parentOf("aws:apigatewayv2/stage:Stage", "email-http-stage")).to.equal("event-ingestion:email:EmailHttpApi");
        expect(parentOf("aws:lambda/permission:Permission", "email-http-invoke")).to.equal("event-ingestion:email:EmailHttpApi");
        expect(parentOf("event-ingestion:email:EmailHttpApi", "email")).to.equal("event-ingestion:email:EmailService");
        expect(parentOf("aws:scheduler/scheduleGroup:ScheduleGroup", "email-schedules")).to.equal("event-ingestion:email:EmailScheduler");
        expect(parentOf("aws:sqs/queue:Queue", "email-schedule-dlq")).to.equal("event-ingestion:email:EmailScheduler");
        expect(parentOf("aws:iam/role:Role", "email-scheduler-role")).to.equal("event-ingestion:email:EmailScheduler");
        expect(parentOf("event-ingestion:email:EmailScheduler", "email")).to.equal("event-ingestion:email:EmailService");
        expect(parentOf("aws:s3/bucket:Bucket", "email-content")).to.equal("event-ingestion:email:EmailContentBucket");
        expect(parentOf("aws:s3/bucketPolicy:BucketPolicy", "email-content-tls-only")).to.equal("event-ingestion:email:EmailContentBucket");
        expect(parentOf("event-ingestion:email:EmailContentBucket", "email")).to.equal("event-ingestion:email:EmailService");
        expect(parentOf("aws:sesv2/configurationSet:ConfigurationSet", "email-ses")).to.equal("event-ingestion:email:EmailSesIdentities");
        expect(parentOf("event-ingestion:email:EmailSesIdentities", "email")).to.equal("event-ingestion:email:EmailService");
        // The event side's components are grouped by EventPipeline; the shared key and alarm topic stay at the root.
        for (const token of [
            "event-ingestion:messaging:EncryptedQueue",
            "event-ingestion:storage:EventStore",
            "event-ingestion:compute:ServiceFunction",
            "event-ingestion:monitoring:PipelineMonitoring",
            "event-ingestion:access:EventAccessPolicies",
        ]) {
            const owned = recorded.filter((r) => r.type === token && r.parentType === "event-ingestion:events:EventPipeline");
            expect(owned, token).to.have.length(1);
        }
        expect(parentOf("event-ingestion:security:EncryptionKey", "events")).to.be.oneOf([undefined, "pulumi:pulumi:Stack"]);
        expect(parentOf("event-ingestion:monitoring:AlarmTopic", "alarms")).to.be.oneOf([undefined, "pulumi:pulumi:Stack"]);
        expect(parentOf("aws:sns/topic:Topic", "alarms")).to.equal("event-ingestion:monitoring:AlarmTopic");
        expect(parentOf("aws:iam/policy:Policy", "events-producer")).to.equal("event-ingestion:access:EventAccessPolicies");
    });

    it("one style for a system's children: components, besides the few resources that are the system's own", () => {
        // The README's layout section states the rule. EventPipeline owns no resource directly; EmailService
        // owns the tables its functions share (idempotency, status) and the exported invoke policy.
        const ownResources: Record<string, string[]> = {
            "event-ingestion:events:EventPipeline": [],
            "event-ingestion:email:EmailService": [
                "aws:dynamodb/table:Table email-idempotency",
                "aws:dynamodb/table:Table email-status",
                "aws:iam/policy:Policy email-invoke",
            ],
        };
        for (const [system, own] of Object.entries(ownResources)) {
            const children = recorded.filter((r) => r.parentType === system);
            expect(children.filter((r) => !r.custom).length, system).to.be.greaterThan(3);
            const direct = children.filter((r) => r.custom).map((r) => `${r.type} ${r.name}`);
            expect(direct.sort(), system).to.deep.equal(own);
        }
    });
});
