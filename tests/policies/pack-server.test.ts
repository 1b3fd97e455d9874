/**
 * The real pack, as the Pulumi CLI runs it: policies/index.ts in its own process (constructing
 * a PolicyPack starts the analyzer's gRPC server, one per process), driven over gRPC with the
 * engine's own protocol messages.
 */
import { expect } from "chai";
import { spawn, ChildProcess } from "node:child_process";
import * as path from "node:path";
import { policies } from "../../policies/policies";
import { COMPLIANT_TAGS } from "./fixtures/resources";

const grpc = require("@grpc/grpc-js");
const analyzerproto = require("@pulumi/pulumi/proto/analyzer_pb");
const analyzerrpc = require("@pulumi/pulumi/proto/analyzer_grpc_pb");
const emptyproto = require("google-protobuf/google/protobuf/empty_pb");
const structproto = require("google-protobuf/google/protobuf/struct_pb");

const ROOT = path.resolve(__dirname, "../..");

function call<T>(client: any, method: string, request: unknown): Promise<T> {
    return new Promise((resolve, reject) =>
        client[method](request, (error: unknown, response: T) => (error ? reject(error) : resolve(response))),
    );
}

describe("policies: the pack served over gRPC (policies/index.ts in a child process)", function () {
    this.timeout(60_000);
    let child: ChildProcess;
    let client: any;
    let stderr = "";

    before(async () => {
        child = spawn(process.execPath, ["-r", path.join(ROOT, "scripts", "register-ts.js"), "index.ts"], {
            cwd: path.join(ROOT, "policies"),
            env: { ...process.env, TS_NODE_PROJECT: path.join(ROOT, "policies", "tsconfig.json") },
            stdio: ["ignore", "pipe", "pipe"],
        });
        child.stderr!.on("data", (d) => (stderr += d));
        const port = await new Promise<number>((resolve, reject) => {
            let out = "";
            child.stdout!.on("data", (d) => {
                out += d;
                const match = /^(\d+)\s*$/m.exec(out);
                if (match) resolve(Number(match[1]));
            });
            child.on("exit", (code) => reject(new Error(`pack exited with ${code}: ${stderr}`)));
        });
        client = new analyzerrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    });

    after(() => {
        client?.close();
        if (child && child.exitCode === null) child.kill("SIGTERM");
    });

    it("announces every policy with its fixed enforcement level", async () => {
        const info = await call<any>(client, "getAnalyzerInfo", new emptyproto.Empty());
        expect(info.getName()).to.equal("event-ingestion-guardrails");
        const announced = Object.fromEntries(info.getPoliciesList().map((p: any) => [p.getName(), p.getEnforcementlevel()]));
        for (const p of policies) {
            expect(announced[p.name], p.name).to.equal(
                p.enforcementLevel === "mandatory" ? analyzerproto.EnforcementLevel.MANDATORY : analyzerproto.EnforcementLevel.ADVISORY,
            );
        }
    });

    function configure(entries: Record<string, number>) {
        const request = new analyzerproto.ConfigureAnalyzerRequest();
        for (const [name, level] of Object.entries(entries)) {
            const config = new analyzerproto.PolicyConfig();
            config.setEnforcementlevel(level);
            config.setProperties(structproto.Struct.fromJavaScript({})); // the CLI always sends one
            request.getPolicyconfigMap().set(name, config);
        }
        return call(client, "configure", request);
    }

    it("refuses a pack config that disables a mandatory policy", async () => {
        let error: any;
        await configure({ "sqs-customer-managed-kms": analyzerproto.EnforcementLevel.DISABLED }).catch((e) => (error = e));
        expect(error, "configure must fail").to.not.equal(undefined);
        expect(error.code).to.equal(grpc.status.INVALID_ARGUMENT);
        expect(error.details).to.include('sqs-customer-managed-kms: is mandatory and cannot be set to "disabled"');
    });

    it("accepts disabling an advisory policy", async () => {
        await configure({ "dynamodb-deletion-protection": analyzerproto.EnforcementLevel.DISABLED });
    });

    async function analyze(type: string, name: string, props: Record<string, unknown>) {
        const request = new analyzerproto.AnalyzeRequest();
        request.setType(type);
        request.setName(name);
        request.setUrn(`urn:pulumi:dev::event-ingestion::${type}::${name}`);
        request.setProperties(structproto.Struct.fromJavaScript({ tags: COMPLIANT_TAGS, ...props } as any));
        request.setOptions(new analyzerproto.AnalyzerResourceOptions());
        const response = await call<any>(client, "analyze", request);
        return response
            .getDiagnosticsList()
            .map((d: any) => ({ policy: d.getPolicyname(), level: d.getEnforcementlevel(), message: d.getMessage() }));
    }

    it("reports a queue encrypted with alias/aws/sqs as a mandatory violation, and a CMK queue as clean", async () => {
        const bad = await analyze("aws:sqs/queue:Queue", "q", { kmsMasterKeyId: "alias/aws/sqs" });
        expect(bad.map((d: any) => d.policy)).to.deep.equal(["sqs-customer-managed-kms"]);
        expect(bad[0].level).to.equal(analyzerproto.EnforcementLevel.MANDATORY);
        expect(await analyze("aws:sqs/queue:Queue", "q", { kmsMasterKeyId: "alias/event-ingestion" })).to.deep.equal([]);
    });

    it("turns an unknown IAM document (preview) into the engine's advisory can't-run diagnostic", async () => {
        const diagnostics = await analyze("aws:iam/policy:Policy", "p", { policy: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" });
        expect(diagnostics.length).to.be.greaterThan(0);
        for (const d of diagnostics) {
            expect(d.level).to.equal(analyzerproto.EnforcementLevel.ADVISORY);
            expect(d.message).to.match(/can't run policy .* during preview/);
        }
    });

    it("runs stack policies over analyzeStack, matching a queue policy to its queue through property dependencies", async () => {
        const resource = (
            type: string,
            name: string,
            props: Record<string, unknown>,
            propertyDependencies: Record<string, string[]> = {},
        ) => {
            const r = new analyzerproto.AnalyzerResource();
            r.setType(type);
            r.setName(name);
            r.setUrn(`urn:pulumi:dev::event-ingestion::${type}::${name}`);
            r.setProperties(structproto.Struct.fromJavaScript({ tags: COMPLIANT_TAGS, ...props } as any));
            r.setOptions(new analyzerproto.AnalyzerResourceOptions());
            for (const [prop, urns] of Object.entries(propertyDependencies)) {
                const deps = new analyzerproto.AnalyzerPropertyDependencies();
                deps.setUrnsList(urns);
                r.getPropertydependenciesMap().set(prop, deps);
            }
            r.setDependenciesList([...new Set(Object.values(propertyDependencies).flat())]);
            return r;
        };
        const unknownString = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
        const queueUrn = "urn:pulumi:dev::event-ingestion::aws:sqs/queue:Queue::orphan";
        const request = new analyzerproto.AnalyzeStackRequest();
        request.setResourcesList([
            resource("aws:sqs/queue:Queue", "orphan", {
                kmsMasterKeyId: "alias/event-ingestion",
                name: "orphan",
                arn: unknownString,
                url: unknownString,
            }),
            resource(
                "aws:sqs/queuePolicy:QueuePolicy",
                "orphan-policy",
                {
                    queueUrl: unknownString,
                    policy: JSON.stringify({
                        Statement: [
                            {
                                Effect: "Deny",
                                Principal: "*",
                                Action: "sqs:*",
                                Resource: "*",
                                Condition: { Bool: { "aws:SecureTransport": "false" } },
                            },
                        ],
                    }),
                },
                { queueUrl: [queueUrn] },
            ),
        ]);
        const response = await call<any>(client, "analyzeStack", request);
        const diagnostics = response
            .getDiagnosticsList()
            .map((d: any) => ({ policy: d.getPolicyname(), urn: d.getUrn(), level: d.getEnforcementlevel() }));
        // The queue has no redrive policy (mandatory), and its TLS-only policy was found through
        // the property dependency although the URL is unknown (no tls-only violation).
        expect(diagnostics).to.deep.equal([
            { policy: "sqs-redrive-policy", urn: queueUrn, level: analyzerproto.EnforcementLevel.MANDATORY },
        ]);
    });

    it("accepts an unknown key reference silently (it is a key this stack creates)", async () => {
        expect(await analyze("aws:sns/topic:Topic", "t", { kmsMasterKeyId: "04da6b54-80e4-46f7-96ec-b56ff0331ba9" })).to.deep.equal([]);
    });
});
