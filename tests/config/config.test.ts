/**
 * Stack config validation: typed defaults, and every problem reported at once,
 * each naming the key, the value given and what is allowed.
 */
import { expect } from "chai";
import { ConfigValidationError, parseStackConfig } from "../../config";
import { DEFAULTS } from "../../components/shared/defaults";
import { EVENT_TYPE_NAMES } from "../../handlers/event-processor";
import { deployUnderMocks, readStackConfig } from "../../local/offline/mock-deployment";
import { eventProcessorSection } from "../../config/event-processor";
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { stackFileConfig } from "../../config/stack-file";

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
            eventPollingIndex: false,
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

    it("reads eventPollingIndex as a boolean and names the key and the rule otherwise", () => {
        expect(
            parseStackConfig({ "aws:region": "us-west-2", "event-ingestion:eventPollingIndex": "true" }).eventProcessor.eventPollingIndex,
        ).to.equal(true);
        expect(() => parseStackConfig({ "aws:region": "us-west-2", "event-ingestion:eventPollingIndex": "yes" })).to.throw(
            /eventPollingIndex.*must be true or false/s,
        );
    });

    it("reports every problem at once, each with key, value given and what is allowed", () => {
        const error = issuesOf({
            "event-ingestion:batchSize": 10_001,
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
        expect(byKey["event-ingestion:batchSize"]).to.deep.include({
            value: 10_001,
            allowed: "must be an integer from 1 to 10000 (messages per invocation)",
        });
        expect(byKey["event-ingestion:processorMemoryMb"]).to.deep.include({
            value: "lots",
            allowed: "must be an integer from 128 to 10240 (MB)",
        });
        expect(byKey["event-ingestion:processorTimeoutSeconds"].value).to.equal(2.5);
        expect(byKey["event-ingestion:logRetentionDays"].allowed).to.match(/^must be one of 1, 3, 5, 7, 14, 30/);
        expect(byKey["event-ingestion:enabledEventTypes"].allowed).to.include(EVENT_TYPE_NAMES.join(", "));
        expect(byKey["event-ingestion:alarmEmail"]).to.deep.include({ value: "not-an-address", allowed: "must be an e-mail address" });
        expect(byKey["event-ingestion:deletionProtection"]).to.deep.include({ value: "maybe", allowed: "must be true or false" });
        expect(byKey["event-ingestion:batchsize"].allowed).to.equal("is not a known setting; did you mean event-ingestion:batchSize?");
        expect(byKey["aws:region"]).to.deep.include({ value: undefined });
        // One message names them all.
        for (const key of Object.keys(byKey)) expect(error.message).to.include(key);
        expect(error.message).to.include("Invalid stack configuration (10 problems)");
        expect(error.message).to.include("event-ingestion:batchSize = 10001: must be an integer from 1 to 10000");
    });

    // "Lambda parameters for Amazon SQS event source mappings" (BatchSize up to 10,000 for a standard queue) and
    // CreateEventSourceMapping's BatchSize: above 10, MaximumBatchingWindowInSeconds must be at least 1.
    it("accepts a batch above 10 only with a batching window, and reports that beside other problems", () => {
        const ok = parseStackConfig({
            "aws:region": "us-east-1",
            "event-ingestion:batchSize": 10_000,
            "event-ingestion:maxBatchingWindowSeconds": 1,
        });
        expect(ok.eventProcessor.batchSize).to.equal(10_000);
        expect(
            parseStackConfig({ "aws:region": "us-east-1", "event-ingestion:batchSize": 10, "event-ingestion:maxBatchingWindowSeconds": 0 })
                .eventProcessor.batchSize,
        ).to.equal(10);
        const error = issuesOf({
            "aws:region": "us-east-1",
            "event-ingestion:batchSize": 11,
            "event-ingestion:maxBatchingWindowSeconds": 0,
            "event-ingestion:processorMemoryMb": "lots",
        });
        const byKey = Object.fromEntries(error.issues.map((i) => [i.key, i]));
        expect(Object.keys(byKey).sort()).to.deep.equal(["event-ingestion:batchSize", "event-ingestion:processorMemoryMb"]);
        expect(byKey["event-ingestion:batchSize"]).to.deep.include({
            value: 11,
            allowed: "above 10 needs maxBatchingWindowSeconds >= 1 (Lambda refuses a larger batch without a batching window)",
        });
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
        // [] is the declared default (Pulumi.yaml): every registered type.
        expect(
            parseStackConfig({ "aws:region": "us-east-1", "event-ingestion:enabledEventTypes": "[]" }).eventProcessor.enabledEventTypes,
        ).to.equal(undefined);
        expect(issuesOf({ "aws:region": "mars-north-1x" }).issues[0].key).to.equal("aws:region");
    });

    it("says why powertoolsLayerVersion is retired when a stack still sets it", () => {
        const error = issuesOf({ "aws:region": "us-east-1", "event-ingestion:powertoolsLayerVersion": 44 });
        expect(error.issues).to.have.length(1);
        expect(error.issues[0]).to.deep.include({ key: "event-ingestion:powertoolsLayerVersion", value: 44 });
        expect(error.issues[0].allowed).to.match(
            /^is retired: .*SSM parameter of the installed @aws-lambda-powertools version.*remove this key$/,
        );
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
        expect(error.issues[0].allowed)
            .to.include('is required for stack "prod"')
            .and.include("pulumi config set event-ingestion:alarmEmail");
        expect(() => parseStackConfig({ ...prod, "event-ingestion:alarmEmail": "oncall@example.com" }, { stack: "prod" })).to.not.throw();
        // Emulator stacks (the provider points at aws:endpoints) have no one to page.
        for (const stack of ["dev", "localstack"])
            expect(() => parseStackConfig(asPulumiGivesIt(readStackConfig(stack)), { stack }), stack).to.not.throw();
        // The CLI passes Pulumi.yaml's declared default ("") for an unset key: still unset.
        expect(readStackConfig("localstack")["event-ingestion:alarmEmail"]).to.equal("");
        expect(() => parseStackConfig({ ...prod, "event-ingestion:alarmEmail": "" }, { stack: "prod" })).to.throw(
            /alarmEmail.*is required for stack "prod"/,
        );
    });

    it("fails the program at start-up, naming every bad key", async () => {
        let error: unknown;
        await deployUnderMocks({
            stack: "dev",
            configOverrides: { "event-ingestion:batchSize": 0, "event-ingestion:logLevel": "LOUD" },
        }).catch((e) => (error = e));
        expect(error).to.be.instanceOf(Error);
        expect((error as Error).name).to.equal("ConfigValidationError");
        expect((error as Error).message)
            .to.include("event-ingestion:batchSize = 0")
            .and.include('event-ingestion:logLevel = "LOUD": must be one of "DEBUG", "INFO", "WARN", "ERROR"');
        let unsubscribed: unknown;
        const { ["event-ingestion:alarmEmail"]: _subscription, ...withoutSubscription } = readStackConfig("dev");
        await deployUnderMocks({ stack: "prod", config: withoutSubscription }).catch((e) => (unsubscribed = e));
        expect((unsubscribed as Error)?.message).to.include('event-ingestion:alarmEmail = (not set): is required for stack "prod"');
    });

    it("documents every event processor setting in the README's Default settings table", () => {
        const readme = fs.readFileSync(path.resolve(__dirname, "..", "..", "README.md"), "utf8");
        const section = readme.slice(
            readme.indexOf("<!-- section:default-settings -->"),
            readme.indexOf("<!-- /section:default-settings -->"),
        );
        expect(section.length).to.be.greaterThan(100);
        const undocumented = eventProcessorSection(EVENT_TYPE_NAMES).keys.filter((key) => !section.includes(`\`${key}\``));
        expect(undocumented).to.deep.equal([]);
    });
});

describe("stack config: mistakes are named, secrets never printed", () => {
    it("a misspelt key suggests the closest known one instead of listing them all", () => {
        const error = issuesOf({
            "aws:region": "us-east-1",
            "event-ingestion:procesorMemoryMb": 512,
            "event-ingestion:EmailLogLevel": "INFO",
            "event-ingestion:zzz": 1,
        });
        const byKey = Object.fromEntries(error.issues.map((i) => [i.key, i.allowed]));
        expect(byKey["event-ingestion:procesorMemoryMb"]).to.equal(
            "is not a known setting; did you mean event-ingestion:processorMemoryMb?",
        );
        expect(byKey["event-ingestion:EmailLogLevel"]).to.equal("is not a known setting; did you mean event-ingestion:emailLogLevel?");
        expect(byKey["event-ingestion:zzz"]).to.match(/^is not a known setting \(Pulumi\.yaml declares all \d+/);
        expect(error.message.length, "no list of every key").to.be.lessThan(600);
    });

    it("a setting under a mistyped namespace is reported, not silently ignored", () => {
        const error = issuesOf({
            "aws:region": "us-east-1",
            "event_ingestion:batchSize": 5,
            "eventingestion:logLevel": "DEBUG",
            "myproject:processorMemoryMb": 512,
            batchSize: 3,
        });
        const byKey = Object.fromEntries(error.issues.map((i) => [i.key, i.allowed]));
        expect(Object.keys(byKey).sort()).to.deep.equal([
            "batchSize",
            "event_ingestion:batchSize",
            "eventingestion:logLevel",
            "myproject:processorMemoryMb",
        ]);
        expect(byKey["event_ingestion:batchSize"])
            .to.include('not this project\'s ("event-ingestion")')
            .and.include("did you mean event-ingestion:batchSize?");
        expect(byKey["eventingestion:logLevel"]).to.include("did you mean event-ingestion:logLevel?");
        expect(byKey["myproject:processorMemoryMb"]).to.include("did you mean event-ingestion:processorMemoryMb?");
        expect(byKey["batchSize"]).to.include("has no namespace").and.include("event-ingestion:batchSize");
        // Provider and engine namespaces are theirs: not reported.
        expect(() =>
            parseStackConfig({ "aws:region": "us-east-1", "aws:skipMetadataApiCheck": "true", "pulumi:tags": "{}" }),
        ).to.not.throw();
    });

    it("a stack file whose config: is a list is reported as such, not as a missing region", () => {
        const project = { name: "event-ingestion", config: { batchSize: { type: "integer", default: 10 } } };
        const stack = YAML.parse("config:\n  - aws:region: eu-west-1\n  - event-ingestion:batchSize: 5\n");
        let error: unknown;
        try {
            stackFileConfig(project, stack, "Pulumi.dev.yaml");
        } catch (e) {
            error = e;
        }
        expect(error).to.be.instanceOf(ConfigValidationError);
        const message = (error as Error).message;
        expect(message).to.include("Pulumi.dev.yaml config").and.include("not a list").and.include('remove the leading "- "');
        expect(message).to.not.include("aws:region");
        // A mapping works, with the declared defaults filling what the stack leaves out (as the CLI does).
        const ok = stackFileConfig(
            project,
            YAML.parse("config:\n  aws:region: eu-west-1\n  db:x:\n    secure: v1:abc\n"),
            "Pulumi.dev.yaml",
        );
        expect(ok.config).to.deep.equal({ "aws:region": "eu-west-1", "db:x": "<secret>", "event-ingestion:batchSize": 10 });
        expect(ok.secretKeys).to.deep.equal(["db:x"]);
    });

    it("an invalid emailSmtp names each bad field once and never prints the password", () => {
        const error = issuesOf({
            "aws:region": "us-east-1",
            "event-ingestion:emailSmtp": { port: "x", password: "hunter2-S3CRET", tls: true },
        });
        const keys = error.issues.map((i) => i.key);
        expect(keys.sort()).to.deep.equal([
            "event-ingestion:emailSmtp.host",
            "event-ingestion:emailSmtp.password",
            "event-ingestion:emailSmtp.port",
            "event-ingestion:emailSmtp.tls",
        ]);
        expect(error.message).to.not.include("hunter2");
        expect(JSON.stringify(error.issues)).to.not.include("hunter2");
        expect(error.message).to.include(
            "event-ingestion:emailSmtp.password = [secret]: must not be in emailSmtp: the password is its own secret key (pulumi config set --secret emailSmtpPassword <password>)",
        );
        expect(error.message).to.include('event-ingestion:emailSmtp.port = "x": must be an integer from 1 to 65535');
        expect(error.message).to.include("event-ingestion:emailSmtp.host = (not set)");
    });

    it("the SMTP password is its own key and must be a Pulumi secret; the worker's secret gets it", () => {
        const raw = {
            "aws:region": "us-east-1",
            "event-ingestion:emailSmtp": '{"host":"smtp.example.com","username":"apikey"}',
            "event-ingestion:emailSmtpPassword": "hunter2-S3CRET",
        };
        const plaintext = issuesOf(raw);
        expect(plaintext.issues.map((i) => i.key)).to.deep.equal(["event-ingestion:emailSmtpPassword"]);
        expect(plaintext.message).to.include(
            "event-ingestion:emailSmtpPassword = [secret]: must be a secret: pulumi config set --secret emailSmtpPassword <value>",
        );
        expect(plaintext.message).to.not.include("hunter2");
        const ok = parseStackConfig(raw, { secretKeys: ["event-ingestion:emailSmtpPassword"] });
        expect(ok.emailService.emailSmtp).to.deep.equal({
            host: "smtp.example.com",
            port: 587,
            secure: false,
            requireTLS: true,
            username: "apikey",
            password: "hunter2-S3CRET",
        });
        const orphan = (() => {
            try {
                parseStackConfig(
                    { "aws:region": "us-east-1", "event-ingestion:emailSmtpPassword": "x" },
                    { secretKeys: ["event-ingestion:emailSmtpPassword"] },
                );
                return undefined;
            } catch (e) {
                return e as ConfigValidationError;
            }
        })();
        expect(orphan?.message).to.include("event-ingestion:emailSmtpPassword = [secret]: needs emailSmtp");
        // Declared empty defaults mean "not set".
        const defaults = parseStackConfig({
            "aws:region": "us-east-1",
            "event-ingestion:emailSmtp": "{}",
            "event-ingestion:emailSmtpPassword": "",
            "event-ingestion:alarmEmail": "",
            "event-ingestion:eventRetentionDays": "0",
        });
        expect(defaults.emailService.emailSmtp).to.equal(undefined);
        expect(defaults.eventProcessor.alarmEmail).to.equal(undefined);
        expect(defaults.eventProcessor.eventRetentionDays).to.equal(undefined);
    });

    it("a start-up error under the engine never prints a secret value", async () => {
        let error: unknown;
        await deployUnderMocks({
            stack: "dev",
            configOverrides: { "event-ingestion:emailSmtp": { host: "", password: "hunter2-S3CRET" } },
            secretConfig: { "event-ingestion:emailSmtpPassword": "other-S3CRET" },
        }).catch((e) => (error = e));
        expect((error as Error).name).to.equal("ConfigValidationError");
        expect((error as Error).message)
            .to.include("event-ingestion:emailSmtp.host")
            .and.not.include("S3CRET");
    });
});
