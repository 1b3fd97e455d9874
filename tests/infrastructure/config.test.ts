/**
 * Stack config validation: typed defaults, and every problem reported at once,
 * each naming the key, the value given and what is allowed.
 */
import { expect } from "chai";
import { ConfigValidationError, parseStackConfig } from "../../config";
import { DEFAULTS } from "../../components/defaults";
import { EVENT_TYPE_NAMES } from "../../handlers/event-processor";
import { deployUnderMocks, readStackConfig } from "../../local/mock-deployment";
import { eventProcessorSection } from "../../config/event-processor";
import * as fs from "node:fs";
import * as path from "node:path";

/** Pulumi hands config over as strings (JSON-encoded when not a string). */
function asPulumiGivesIt(config: Record<string, unknown>): Record<string, string> {
    return Object.fromEntries(Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
}

function issuesOf(raw: Record<string, unknown>): ConfigValidationError {
    try {
        parseStackConfig(asPulumiGivesIt(raw));
    } catch (error) {
        expect(error).to.be.instanceOf(ConfigValidationError);
        return error as ConfigValidationError;
    }
    throw new Error("expected a ConfigValidationError");
}

describe("stack config", () => {
    it("fills every default when only the region is set", () => {
        const config = parseStackConfig({ "aws:region": "eu-west-1" });
        expect(config.region).to.equal("eu-west-1");
        expect(config.eventProcessor).to.deep.equal({
            batchSize: DEFAULTS.batchSize,
            maxBatchingWindowSeconds: DEFAULTS.maxBatchingWindowSeconds,
            maxConcurrency: DEFAULTS.maxConcurrency,
            processorMemoryMb: DEFAULTS.processorMemoryMb,
            processorTimeoutSeconds: DEFAULTS.processorTimeoutSeconds,
            maxReceiveCount: DEFAULTS.maxReceiveCount,
            kmsDataKeyReusePeriodSeconds: DEFAULTS.kmsDataKeyReusePeriodSeconds,
            maxMessageSize: DEFAULTS.maxMessageSize,
            logRetentionDays: DEFAULTS.logRetentionDays,
            deletionProtection: true,
            oldestMessageAgeAlarmSeconds: DEFAULTS.oldestMessageAgeAlarmSeconds,
            logLevel: "INFO",
        });
    });

    it("reads the dev and localstack stack files as they are", () => {
        for (const stack of ["dev", "localstack"]) {
            expect(() => parseStackConfig(asPulumiGivesIt(readStackConfig(stack))), stack).to.not.throw();
        }
        const dev = parseStackConfig(asPulumiGivesIt(readStackConfig("dev")));
        expect(dev.eventProcessor.eventRetentionDays).to.equal(90);
        expect(dev.eventProcessor.maxConcurrency).to.equal(5);
    });

    it("accepts registered event types, an e-mail address and booleans given as strings", () => {
        const config = parseStackConfig({
            "aws:region": "us-west-2",
            "event-ingestion:enabledEventTypes": JSON.stringify(EVENT_TYPE_NAMES.slice(0, 2)),
            "event-ingestion:alarmEmail": "ops@example.com",
            "event-ingestion:deletionProtection": "false",
            "event-ingestion:batchSize": "1",
        });
        expect(config.eventProcessor.enabledEventTypes).to.deep.equal(EVENT_TYPE_NAMES.slice(0, 2));
        expect(config.eventProcessor.alarmEmail).to.equal("ops@example.com");
        expect(config.eventProcessor.deletionProtection).to.equal(false);
        expect(config.eventProcessor.batchSize).to.equal(1);
    });

    it("reports every problem at once, each with key, value given and what is allowed", () => {
        const error = issuesOf({
            "event-ingestion:batchSize": 11,
            "event-ingestion:processorMemoryMb": "lots",
            "event-ingestion:processorTimeoutSeconds": 2.5,
            "event-ingestion:logRetentionDays": 13,
            "event-ingestion:enabledEventTypes": ["order.placed", "no.such_type"],
            "event-ingestion:alarmEmail": "not-an-address",
            "event-ingestion:deletionProtection": "maybe",
            "event-ingestion:maxConcurrency": 1,
            "event-ingestion:batchsize": 5,
        });
        const byKey = Object.fromEntries(error.issues.map((i) => [i.key, i]));
        expect(Object.keys(byKey).sort()).to.deep.equal(
            [
                "aws:region",
                "event-ingestion:alarmEmail",
                "event-ingestion:batchSize",
                "event-ingestion:batchsize",
                "event-ingestion:deletionProtection",
                "event-ingestion:enabledEventTypes",
                "event-ingestion:logRetentionDays",
                "event-ingestion:maxConcurrency",
                "event-ingestion:processorMemoryMb",
                "event-ingestion:processorTimeoutSeconds",
            ].sort(),
        );
        expect(error.issues).to.have.length(10);
        expect(byKey["event-ingestion:batchSize"]).to.deep.include({ value: 11, allowed: "must be an integer from 1 to 10 (messages per invocation)" });
        expect(byKey["event-ingestion:processorMemoryMb"]).to.deep.include({ value: "lots", allowed: "must be an integer from 128 to 10240 (MB)" });
        expect(byKey["event-ingestion:processorTimeoutSeconds"].value).to.equal(2.5);
        expect(byKey["event-ingestion:logRetentionDays"].allowed).to.match(/^must be one of 1, 3, 5, 7, 14, 30/);
        expect(byKey["event-ingestion:enabledEventTypes"].allowed).to.include(EVENT_TYPE_NAMES.join(", "));
        expect(byKey["event-ingestion:alarmEmail"]).to.deep.include({ value: "not-an-address", allowed: "must be an e-mail address" });
        expect(byKey["event-ingestion:deletionProtection"]).to.deep.include({ value: "maybe", allowed: "must be true or false" });
        expect(byKey["event-ingestion:batchsize"].allowed).to.match(/^is not a known setting; known settings: .*batchSize/);
        expect(byKey["aws:region"]).to.deep.include({ value: undefined });
        // One message names them all.
        for (const key of Object.keys(byKey)) expect(error.message).to.include(key);
        expect(error.message).to.include("Invalid stack configuration (10 problems)");
        expect(error.message).to.include('event-ingestion:batchSize = 11: must be an integer from 1 to 10');
    });

    it("rejects duplicate or empty event type lists and out-of-range sizes", () => {
        const error = issuesOf({
            "aws:region": "us-east-1",
            "event-ingestion:enabledEventTypes": [EVENT_TYPE_NAMES[0], EVENT_TYPE_NAMES[0]],
            "event-ingestion:maxMessageSize": 2_000_000,
            "event-ingestion:kmsDataKeyReusePeriodSeconds": 59,
        });
        expect(error.issues.map((i) => i.key).sort()).to.deep.equal([
            "event-ingestion:enabledEventTypes",
            "event-ingestion:kmsDataKeyReusePeriodSeconds",
            "event-ingestion:maxMessageSize",
        ]);
        expect(issuesOf({ "aws:region": "us-east-1", "event-ingestion:enabledEventTypes": [] }).issues[0].key).to.equal("event-ingestion:enabledEventTypes");
        expect(issuesOf({ "aws:region": "mars-north-1x" }).issues[0].key).to.equal("aws:region");
    });

    it("says why powertoolsLayerVersion is retired when a stack still sets it", () => {
        const error = issuesOf({ "aws:region": "us-east-1", "event-ingestion:powertoolsLayerVersion": 44 });
        expect(error.issues).to.have.length(1);
        expect(error.issues[0]).to.deep.include({ key: "event-ingestion:powertoolsLayerVersion", value: 44 });
        expect(error.issues[0].allowed).to.match(/^is retired: .*SSM parameter of the installed @aws-lambda-powertools version.*remove this key$/);
    });

    it("requires an alarm subscription on a stack that deploys to AWS, naming the key and what to set", () => {
        const prod = { "aws:region": "eu-west-1" };
        const error = (() => {
            try {
                parseStackConfig(prod, { stack: "prod" });
            } catch (e) {
                return e as ConfigValidationError;
            }
            throw new Error("expected a ConfigValidationError");
        })();
        expect(error.issues).to.have.length(1);
        expect(error.issues[0].key).to.equal("event-ingestion:alarmEmail");
        expect(error.issues[0].allowed).to.include('is required for stack "prod"').and.include("pulumi config set event-ingestion:alarmEmail");
        expect(() => parseStackConfig({ ...prod, "event-ingestion:alarmEmail": "oncall@example.com" }, { stack: "prod" })).to.not.throw();
        // Emulator stacks (the provider points at aws:endpoints) have no one to page.
        for (const stack of ["dev", "localstack"]) expect(() => parseStackConfig(asPulumiGivesIt(readStackConfig(stack)), { stack }), stack).to.not.throw();
        expect(readStackConfig("localstack")["event-ingestion:alarmEmail"]).to.equal(undefined);
    });

    it("fails the program at start-up, naming every bad key", async () => {
        let error: unknown;
        await deployUnderMocks({ stack: "dev", configOverrides: { "event-ingestion:batchSize": 0, "event-ingestion:logLevel": "LOUD" } }).catch((e) => (error = e));
        expect(error).to.be.instanceOf(Error);
        expect((error as Error).name).to.equal("ConfigValidationError");
        expect((error as Error).message).to.include("event-ingestion:batchSize = 0").and.include('event-ingestion:logLevel = "LOUD": must be one of "DEBUG", "INFO", "WARN", "ERROR"');
        let unsubscribed: unknown;
        const { ["event-ingestion:alarmEmail"]: _subscription, ...withoutSubscription } = readStackConfig("dev");
        await deployUnderMocks({ stack: "prod", config: withoutSubscription }).catch((e) => (unsubscribed = e));
        expect((unsubscribed as Error)?.message).to.include('event-ingestion:alarmEmail = (not set): is required for stack "prod"');
    });

    it("documents every event processor setting in the README's Default settings table", () => {
        const readme = fs.readFileSync(path.resolve(__dirname, "..", "..", "README.md"), "utf8");
        const section = readme.slice(readme.indexOf("<!-- section:default-settings -->"), readme.indexOf("<!-- /section:default-settings -->"));
        expect(section.length).to.be.greaterThan(100);
        const undocumented = eventProcessorSection(EVENT_TYPE_NAMES).keys.filter((key) => !section.includes(`\`${key}\``));
        expect(undocumented).to.deep.equal([]);
    });
});
