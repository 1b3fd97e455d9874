/**
 * Component-level behaviour the stack test does not reach: the FIFO/high-throughput
 * queue the email service reuses, argument validation, the pure defaults, the
 * archive exclusion helper and the zip writer used by the size bench.
 */
import { expect } from "chai";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { deriveVisibilityTimeoutSeconds } from "../../components/shared/defaults";
import { sqsEventSourceProblems } from "../../components/shared/event-source-rules";
import { globalName } from "../../components/shared/naming";
import { installedPowertoolsVersion, powertoolsLayerParameterName } from "../../components/shared/powertools";
import { lambdaCodePathOptions, layerFiles, runtimeDependencyNames, runtimeFiles } from "../../components/shared/lambda-packaging";
import { zipDirectory } from "../../local/offline/lambda-artifact";
import { deployUnderMocks } from "../../local/offline/mock-deployment";
import { all, one } from "./helpers";

const FIXTURES = path.join(__dirname, "fixtures");
const ROOT = path.resolve(__dirname, "..", "..");

describe("EncryptedQueue (FIFO, high throughput)", () => {
    it("builds a FIFO queue and FIFO DLQ with per-group deduplication and throughput, derived visibility and redrive", async () => {
        const d = await deployUnderMocks({ stack: "dev", programPath: path.join(FIXTURES, "fifo-queue-program") });
        const queue = one(d, "aws:sqs/queue:Queue", "orders");
        const dlq = one(d, "aws:sqs/queue:Queue", "orders-dlq");
        expect(queue.inputs).to.deep.include({
            fifoQueue: true,
            contentBasedDeduplication: true,
            deduplicationScope: "messageGroup",
            fifoThroughputLimit: "perMessageGroupId",
            visibilityTimeoutSeconds: 6 * 45 + 2,
            kmsDataKeyReusePeriodSeconds: 600,
            maxMessageSize: 65_536,
        });
        expect(dlq.inputs).to.deep.include({ fifoQueue: true, messageRetentionSeconds: 1_209_600 });
        expect(dlq.state.name).to.match(/\.fifo$/);
        expect(JSON.parse(queue.inputs.redrivePolicy)).to.deep.equal({ deadLetterTargetArn: dlq.state.arn, maxReceiveCount: 3 });
        expect(all(d, "aws:sqs/queuePolicy:QueuePolicy")).to.have.length(2);
        expect(JSON.parse(one(d, "aws:sqs/redriveAllowPolicy:RedriveAllowPolicy").inputs.redriveAllowPolicy).sourceQueueArns).to.deep.equal(
            [queue.state.arn],
        );
        // An EncryptionKey for SQS only: principals may use it through SQS, and no service principal gets a statement.
        const keyPolicy = JSON.parse(one(d, "aws:kms/key:Key", "orders").inputs.policy);
        expect(keyPolicy.Statement.map((s: { Sid: string }) => s.Sid)).to.deep.equal([
            "AccountAdministersKey",
            "AccountUsesKeyThroughServices",
            "ServicesCreateGrantsForAwsResources",
        ]);
        expect(keyPolicy.Statement[1].Condition.StringEquals["kms:ViaService"]).to.deep.equal(["sqs.us-east-1.amazonaws.com"]);
    });

    it("refuses inconsistent args, listing every problem", async () => {
        let error: Error | undefined;
        await deployUnderMocks({ stack: "dev", programPath: path.join(FIXTURES, "invalid-queue-program") }).catch((e) => (error = e));
        expect(error?.name).to.equal("EncryptedQueueArgsError");
        expect(error?.message)
            .to.include("highThroughput = true: allowed only with fifo = true")
            .and.include("contentBasedDeduplication = true: allowed only with fifo = true")
            .and.include("maxReceiveCount = 0: must be an integer from 1 to 1000")
            .and.include("consumerTimeoutSeconds = 901: must be an integer from 1 to 900");
    });
});

describe("SQS event source mappings: Lambda's own rules, before anything is created", () => {
    // "Lambda parameters for Amazon SQS event source mappings" (AWS Lambda Developer Guide): BatchSize up to
    // 10,000 for a standard queue and 10 for FIFO, no batching window on FIFO; CreateEventSourceMapping
    // (AWS Lambda API Reference): BatchSize above 10 needs MaximumBatchingWindowInSeconds >= 1;
    // "Configuring scaling behavior for Amazon SQS event source mappings": MaximumConcurrency 2-1000.
    it("accepts what Lambda accepts", () => {
        expect(sqsEventSourceProblems({})).to.deep.equal([]);
        expect(sqsEventSourceProblems({ batchSize: 10, maximumBatchingWindowInSeconds: 0 })).to.deep.equal([]);
        expect(sqsEventSourceProblems({ batchSize: 10_000, maximumBatchingWindowInSeconds: 1, maximumConcurrency: 2 })).to.deep.equal([]);
        expect(sqsEventSourceProblems({ batchSize: 10, fifo: true, maximumConcurrency: 1000 })).to.deep.equal([]);
    });
    it("refuses what Lambda refuses, naming each setting, its value and what is allowed", () => {
        expect(sqsEventSourceProblems({ batchSize: 11, maximumBatchingWindowInSeconds: 0 })).to.deep.equal([
            "batchSize = 11: above 10 needs maximumBatchingWindowInSeconds >= 1",
        ]);
        expect(sqsEventSourceProblems({ batchSize: 10_001, maximumBatchingWindowInSeconds: 301, maximumConcurrency: 1 })).to.deep.equal([
            "batchSize = 10001: must be an integer from 1 to 10000",
            "maximumBatchingWindowInSeconds = 301: must be an integer from 0 to 300",
            "maximumConcurrency = 1: must be an integer from 2 to 1000",
        ]);
        expect(sqsEventSourceProblems({ batchSize: 11, maximumBatchingWindowInSeconds: 1, fifo: true })).to.deep.equal([
            "batchSize = 11: must be an integer from 1 to 10 (FIFO queue)",
            "maximumBatchingWindowInSeconds = 1: a FIFO queue allows no batching window",
        ]);
        expect(sqsEventSourceProblems({ batchSize: 0.5 })).to.deep.equal(["batchSize = 0.5: must be an integer from 1 to 10000"]);
    });
    it("a ServiceFunction refuses such a mapping at preview, listing every problem", async () => {
        let error: Error | undefined;
        await deployUnderMocks({ stack: "dev", programPath: path.join(FIXTURES, "invalid-mapping-program") }).catch((e) => (error = e));
        expect(error?.name).to.equal("ServiceFunctionArgsError");
        expect(error?.message)
            .to.include("queue.batchSize = 100: must be an integer from 1 to 10 (FIFO queue)")
            .and.include("queue.maximumConcurrency = 1: must be an integer from 2 to 1000");
    });
});

describe("secure defaults (pure)", () => {
    it("derives visibility as 6x the consumer timeout plus the batching window, within SQS limits", () => {
        expect(deriveVisibilityTimeoutSeconds(30)).to.equal(180);
        expect(deriveVisibilityTimeoutSeconds(30, 5)).to.equal(185);
        expect(deriveVisibilityTimeoutSeconds(900, 300)).to.equal(5_700);
        expect(() => deriveVisibilityTimeoutSeconds(0)).to.throw(RangeError);
        expect(() => deriveVisibilityTimeoutSeconds(7_201)).to.throw(/above the SQS maximum of 43200s/);
    });
    it("names Powertools' public layer parameter of a version, and global names from partition, region and stack", () => {
        // Powertools docs, "Lambda layers" > "Lookup Layer ARN via AWS SSM Parameter Store".
        expect(powertoolsLayerParameterName("2.35.0")).to.equal("/aws/service/powertools/typescript/generic/all/2.35.0");
        expect(globalName("event-ingestion", "prod", "ap-south-1", "events")).to.equal("event-ingestion-prod-ap-south-1-events");
    });
});

describe("Powertools version parity", () => {
    it("pins every @aws-lambda-powertools dependency at exactly the installed version, and only that version is installed", () => {
        const version = installedPowertoolsVersion();
        const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> };
        const pinned = Object.entries(manifest.dependencies).filter(([name]) => name.startsWith("@aws-lambda-powertools/"));
        expect(pinned.length).to.be.greaterThan(0);
        for (const [name, range] of pinned) expect(range, `${name} in package.json (exact, no range)`).to.equal(version);
        const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as {
            packages: Record<string, { version?: string }>;
        };
        const locked = Object.entries(lock.packages).filter(([where]) => /node_modules\/@aws-lambda-powertools\/[^/]+$/.test(where));
        expect(
            locked.map(([where, p]) => `${where}@${p.version}`).filter((entry) => !entry.endsWith(`@${version}`)),
            "other Powertools versions in the lock",
        ).to.deep.equal([]);
    });
});

describe("lambdaCodePathOptions", () => {
    it("excludes every package.json dependency from the package walk and lists the shipped packages' runtime files one by one", () => {
        const dependencies = runtimeDependencyNames();
        const { extraExcludePackages, extraIncludePaths } = lambdaCodePathOptions(["valibot"]);
        expect(extraExcludePackages!.sort()).to.deep.equal([...dependencies].sort());
        expect(extraExcludePackages).to.include.members(["@aws-sdk/client-dynamodb", "@aws-lambda-powertools/logger", "@pulumi/pulumi"]);
        // valibot's CommonJS build, its manifest and its license; not its 1.2 MB of type declarations or its ESM builds.
        expect(extraIncludePaths).to.deep.equal([
            "node_modules/valibot/LICENSE.md",
            "node_modules/valibot/dist/index.cjs",
            "node_modules/valibot/package.json",
        ]);
    });
    it("follows static requires: every file nodemailer and opossum load, none they do not (ESM builds, .d.ts, maps, docs)", () => {
        for (const name of ["nodemailer", "opossum"]) {
            const files = runtimeFiles(name);
            expect(files).to.include(`node_modules/${name}/package.json`);
            for (const file of files) expect(file).to.match(/(\.c?js|\.json|\/LICENSE[^/]*)$/);
            expect(files.filter((f) => /\.d\.[cm]?ts$|\.map$|\.mjs$|\/esm\//.test(f))).to.deep.equal([]);
        }
        expect(runtimeFiles("nodemailer")).to.include.members([
            "node_modules/nodemailer/dist/cjs/nodemailer.js",
            "node_modules/nodemailer/dist/cjs/smtp-transport/index.js",
            // {"type": "commonjs"} under a "type": "module" package: without it Node loads dist/cjs as ESM and fails.
            "node_modules/nodemailer/dist/cjs/package.json",
        ]);
        expect(runtimeFiles("opossum")).to.include.members(["node_modules/opossum/index.js", "node_modules/opossum/lib/circuit.js"]);
        expect(runtimeFiles("opossum")).to.not.include("node_modules/opossum/dist/opossum.js"); // the browser bundle
    });
    it("builds a Node.js layer archive under nodejs/node_modules, the path Lambda puts on NODE_PATH", () => {
        const files = layerFiles(["nodemailer"]);
        expect(Object.keys(files).every((archivePath) => archivePath.startsWith("nodejs/node_modules/nodemailer/"))).to.equal(true);
        expect(files["nodejs/node_modules/nodemailer/package.json"]).to.equal("node_modules/nodemailer/package.json");
    });
    it("refuses to ship what is not a dependency or what the runtime/layer provides", () => {
        expect(() => lambdaCodePathOptions(["left-pad", "@aws-sdk/client-sqs"])).to.throw(
            /"left-pad" is not in package.json dependencies.*"@aws-sdk\/client-sqs" is provided by the Lambda runtime/,
        );
    });
});

describe("zipDirectory", () => {
    it("writes a zip whose entries inflate back to the files", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "zip-test-"));
        try {
            fs.mkdirSync(path.join(dir, "node_modules", "pkg"), { recursive: true });
            fs.writeFileSync(path.join(dir, "__index.js"), "exports.handler = async () => 42;\n".repeat(50));
            fs.writeFileSync(path.join(dir, "node_modules", "pkg", "index.js"), "module.exports = 'ünïcode';");
            const zip = await zipDirectory(dir);
            const endAt = zip.length - 22;
            expect(zip.readUInt32LE(endAt)).to.equal(0x06054b50);
            const count = zip.readUInt16LE(endAt + 10);
            let cursor = zip.readUInt32LE(endAt + 16);
            const files: Record<string, string> = {};
            for (let i = 0; i < count; i++) {
                expect(zip.readUInt32LE(cursor)).to.equal(0x02014b50);
                const size = zip.readUInt32LE(cursor + 20);
                const nameLength = zip.readUInt16LE(cursor + 28);
                const localAt = zip.readUInt32LE(cursor + 42);
                const name = zip.subarray(cursor + 46, cursor + 46 + nameLength).toString("utf8");
                const dataAt = localAt + 30 + zip.readUInt16LE(localAt + 26);
                const data = zlib.inflateRawSync(zip.subarray(dataAt, dataAt + size));
                expect(zlib.crc32(data) >>> 0).to.equal(zip.readUInt32LE(cursor + 16));
                expect(zip.readUInt32LE(cursor + 38) >>> 16, "a regular file, 0644").to.equal(0o100644);
                files[name] = data.toString("utf8");
                cursor += 46 + nameLength;
            }
            expect(files).to.deep.equal({
                "__index.js": "exports.handler = async () => 42;\n".repeat(50),
                "node_modules/pkg/index.js": "module.exports = 'ünïcode';",
            });
            expect(zip.length).to.be.lessThan(1700);
            expect((await zipDirectory(dir)).equals(zip), "the same files zip to the same bytes").to.equal(true);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
