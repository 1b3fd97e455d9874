/**
 * Runs the Pulumi program under `pulumi.runtime.setMocks`, with a stack's real
 * config, and returns every registered resource with its inputs and the stack
 * outputs. No CLI, no credentials, no cloud.
 *
 * One source of truth for: the infrastructure tests, the policy-pack run
 * (`npm run policy`) and the local pipeline, which "deploys" the same resources
 * to the emulators and runs the same serialized Lambda code.
 */
import * as crypto from "node:crypto";
import { createRequire } from "node:module";
import type { Input } from "@pulumi/pulumi";
import type { MockResourceArgs } from "@pulumi/pulumi/runtime";
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { POWERTOOLS_LAYER_ACCOUNT, POWERTOOLS_LAYER_NAME } from "../../components/shared/defaults";
import { POWERTOOLS_LAYER_PARAMETER_PREFIX } from "../../components/shared/powertools";
import { stackFileConfig } from "../../config/stack-file";
import { keptResult, type KeptResultOptions } from "./deployment-cache";

/** Resource properties as the Pulumi SDK hands them to mocks (its own type for them). */
export type ResourceProperties = Record<string, MockResourceArgs["inputs"]>;

export const MOCK_ACCOUNT_ID = "123456789012";
const ROOT = path.resolve(__dirname, "..", "..");
const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

/** A resource as the program registered it. */
export interface MockedResource {
    /** e.g. `aws:sqs/queue:Queue` */
    type: string;
    /** Pulumi logical name */
    name: string;
    /** mock physical id */
    id: string;
    /** what the program passed */
    inputs: ResourceProperties;
    /** inputs plus the computed outputs the mocks filled in (arn, url, …) */
    state: ResourceProperties;
    /** the provider reference, when one was set explicitly */
    provider?: string;
    /** the parent URN, when the resource has a parent */
    parent?: string;
}

/** One resource registration as the engine would see it: its URN, parent and aliases. */
export interface RegisteredUrn {
    urn: string;
    type: string;
    name: string;
    custom: boolean;
    /** parent URN; absent for the stack itself */
    parent?: string;
    /** `aliases` as sent to the engine: an old URN, or a spec whose omitted fields default to the resource's own */
    aliases: Array<{
        urn?: string;
        spec?: { name?: string; type?: string; stack?: string; project?: string; parentUrn?: string; noParent?: boolean };
    }>;
}

/** A provider function the program called (data source), with its arguments. */
export interface MockedInvoke {
    /** e.g. `aws:ssm/getParameter:getParameter` */
    token: string;
    inputs: ResourceProperties;
}

export interface MockDeployment {
    project: string;
    stack: string;
    region: string;
    resources: MockedResource[];
    /** every registration, components and the stack included, in order */
    registrations: RegisteredUrn[];
    /** every data-source call, in order (what the program asked AWS for) */
    invokes: MockedInvoke[];
    /** resolved stack outputs (`export const …` of index.ts) */
    outputs: ResourceProperties;
}

export interface MockDeploymentOptions {
    /** Stack name; its `Pulumi.<stack>.yaml` supplies config unless `config` is given. @default "dev" */
    stack?: string;
    /** Full config map (`"aws:region": "eu-west-1"`, `"event-ingestion:batchSize": 10`); overrides the stack file. */
    config?: Record<string, unknown>;
    /** Extra config merged over the stack file's. */
    configOverrides?: Record<string, unknown>;
    /** Config values set as Pulumi secrets (`pulumi config set --secret`), over the others. @default {} */
    secretConfig?: Record<string, unknown>;
    /** Module that defines the program. @default "<repo>/index" */
    programPath?: string;
    /** Preview (unknown outputs) instead of update. @default false */
    preview?: boolean;
    /** Outputs of stacks the program reads with `StackReference`, by stack name (`org/project/stack`). @default {} */
    stackReferences?: Record<string, Record<string, unknown>>;
}

/** Reads `Pulumi.yaml`'s project name. */
export function projectName(): string {
    const doc = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));
    return doc.name;
}

/**
 * A stack's config as the program receives it under the Pulumi CLI: the stack file's
 * values over `Pulumi.yaml`'s declared defaults, as a flat `{ "ns:key": value }` map
 * (`secure:` values as `<secret>`, see {@link readStackSecretKeys}).
 */
export function readStackConfig(stack: string): Record<string, unknown> {
    return readStackFile(stack).config;
}

/** Keys a stack file holds as `secure:` values. */
export function readStackSecretKeys(stack: string): string[] {
    return readStackFile(stack).secretKeys;
}

function readStackFile(stack: string) {
    const file = path.join(ROOT, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) throw new Error(`No stack config file ${file}`);
    const project = YAML.parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8"));
    return stackFileConfig(project, YAML.parse(fs.readFileSync(file, "utf8")) ?? {}, path.basename(file));
}

/**
 * The layer ARN the mocked SSM answers for Powertools' public parameter of `version`.
 * The layer number is the mock's own (AWS assigns it per region at publication); what
 * the tests pin is that the program asks for exactly the installed version.
 */
export function mockPowertoolsLayerArn(region: string, version: string): string {
    const layerNumber = version.split(".").reduce((count, part) => count * 100 + Number(part), 0) % 100_000;
    return `arn:aws:lambda:${region}:${POWERTOOLS_LAYER_ACCOUNT}:layer:${POWERTOOLS_LAYER_NAME}:${layerNumber}`;
}

/** SSM `GetParameter` as AWS answers it for the public parameters the program reads; ParameterNotFound otherwise. */
function mockSsmParameter(name: string, region: string): Record<string, unknown> {
    const version = name.startsWith(POWERTOOLS_LAYER_PARAMETER_PREFIX) ? name.slice(POWERTOOLS_LAYER_PARAMETER_PREFIX.length) : undefined;
    if (!version || !/^\d+\.\d+\.\d+$|^latest$/.test(version)) {
        throw new Error(
            `ParameterNotFound: the mocked SSM has no parameter ${JSON.stringify(name)} (only Powertools' public layer parameters)`,
        );
    }
    const value = mockPowertoolsLayerArn(region, version === "latest" ? "9.99.0" : version);
    return {
        id: name,
        name,
        type: "String",
        value,
        insecureValue: value,
        arn: `arn:aws:ssm:${region}::parameter${name}`,
        version: 1,
        withDecryption: true,
    };
}

function shortHash(text: string): string {
    return crypto.createHash("sha256").update(text).digest("hex").slice(0, 7);
}

/** Computed outputs AWS would fill in, per resource type. Extend when the program grows. */
function computedState(type: string, name: string, inputs: ResourceProperties, region: string, stack: string): ResourceProperties {
    const physical = inputs.name ?? inputs.namePrefix ?? `${name}-${shortHash(`${stack}/${region}/${name}`)}`;
    const account = MOCK_ACCOUNT_ID;
    const base = `arn:aws`;
    switch (type) {
        case "aws:kms/key:Key": {
            const keyId = `${shortHash(name + stack + region)}-0000-4000-8000-000000000000`;
            return { keyId, arn: `${base}:kms:${region}:${account}:key/${keyId}` };
        }
        case "aws:kms/alias:Alias":
            return { arn: `${base}:kms:${region}:${account}:${inputs.name ?? `alias/${physical}`}` };
        case "aws:sqs/queue:Queue": {
            const queueName = inputs.name ?? (inputs.fifoQueue ? `${physical}.fifo` : physical);
            return {
                name: queueName,
                arn: `${base}:sqs:${region}:${account}:${queueName}`,
                url: `https://sqs.${region}.amazonaws.com/${account}/${queueName}`,
            };
        }
        case "aws:dynamodb/table:Table":
            return {
                name: physical,
                arn: `${base}:dynamodb:${region}:${account}:table/${physical}`,
                streamArn: inputs.streamEnabled
                    ? `${base}:dynamodb:${region}:${account}:table/${physical}/stream/2026-01-01T00:00:00.000`
                    : undefined,
                streamLabel: inputs.streamEnabled ? "2026-01-01T00:00:00.000" : undefined,
            };
        case "aws:sns/topic:Topic":
            return { name: physical, arn: `${base}:sns:${region}:${account}:${physical}` };
        case "aws:cloudwatch/eventBus:EventBus":
            return { name: physical, arn: `${base}:events:${region}:${account}:event-bus/${physical}` };
        case "aws:iam/role:Role":
            return {
                name: physical,
                arn: `${base}:iam::${account}:role/${physical}`,
                uniqueId: `AROA${shortHash(physical).toUpperCase()}`,
            };
        case "aws:iam/policy:Policy":
            return {
                name: physical,
                arn: `${base}:iam::${account}:policy/${physical}`,
                policyId: `ANPA${shortHash(physical).toUpperCase()}`,
            };
        case "aws:lambda/function:Function":
            return {
                name: physical,
                arn: `${base}:lambda:${region}:${account}:function:${physical}`,
                invokeArn: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${base}:lambda:${region}:${account}:function:${physical}/invocations`,
                qualifiedArn: `${base}:lambda:${region}:${account}:function:${physical}:$LATEST`,
                version: "$LATEST",
            };
        case "aws:cloudwatch/logGroup:LogGroup":
            return { name: physical, arn: `${base}:logs:${region}:${account}:log-group:${physical}` };
        case "aws:cloudwatch/metricAlarm:MetricAlarm":
            return { name: physical, arn: `${base}:cloudwatch:${region}:${account}:alarm:${physical}` };
        case "aws:cloudwatch/dashboard:Dashboard":
            return {
                dashboardName: inputs.dashboardName ?? physical,
                dashboardArn: `${base}:cloudwatch::${account}:dashboard/${physical}`,
            };
        case "aws:s3/bucket:Bucket":
        case "aws:s3/bucketV2:BucketV2":
            return { bucket: inputs.bucket ?? physical, arn: `${base}:s3:::${inputs.bucket ?? physical}` };
        case "aws:secretsmanager/secret:Secret":
            return { name: physical, arn: `${base}:secretsmanager:${region}:${account}:secret:${physical}-AbCdEf` };
        case "aws:apigatewayv2/api:Api": {
            const apiId = shortHash(name + stack + region);
            return {
                apiEndpoint: `https://${apiId}.execute-api.${region}.amazonaws.com`,
                executionArn: `${base}:execute-api:${region}:${account}:${apiId}`,
                arn: `${base}:apigateway:${region}::/apis/${apiId}`,
            };
        }
        case "aws:apigatewayv2/stage:Stage":
            return { invokeUrl: `https://api.execute-api.${region}.amazonaws.com/${inputs.name ?? "$default"}` };
        case "aws:sesv2/emailIdentity:EmailIdentity":
            return {
                arn: `${base}:ses:${region}:${account}:identity/${inputs.emailIdentity}`,
                identityType: String(inputs.emailIdentity).includes("@") ? "EMAIL_ADDRESS" : "DOMAIN",
                verifiedForSendingStatus: false,
            };
        case "aws:sesv2/configurationSet:ConfigurationSet":
            return { arn: `${base}:ses:${region}:${account}:configuration-set/${inputs.configurationSetName}` };
        case "aws:lambda/eventSourceMapping:EventSourceMapping":
            return { uuid: shortHash(name + stack + region), functionArn: inputs.functionName };
        case "aws:cloudwatch/eventRule:EventRule":
            // Rules on the default bus: arn:…:rule/<name> (a custom bus would add its name before the rule's).
            return { name: physical, arn: `${base}:events:${region}:${account}:rule/${physical}` };
        default:
            return { arn: `${base}:mock:${region}:${account}:${type.split(":").pop()}/${physical}` };
    }
}

/**
 * Runs the program under mocks and resolves once every output is known.
 *
 * @example
 * const { resources, outputs } = await deployUnderMocks({ stack: "dev" });
 * const queues = resources.filter((r) => r.type === "aws:sqs/queue:Queue");
 */
export async function deployUnderMocks(options: MockDeploymentOptions = {}): Promise<MockDeployment> {
    return withV8StackTraces(() => runUnderMocks(options));
}

const STACK_TRACES = Symbol.for("event-ingestion.offline.v8StackTraces");

/**
 * Runs `work` with V8's own stack trace formatting in place of the source-mapped one ts-node installs
 * (`@cspotcode/source-map-support`'s `Error.prepareStackTrace`). The Pulumi SDK reads
 * `new Error().stack` for every resource it registers (its source position and stack trace, which
 * the mock monitor drops) and every promise it tracks, and mapping each frame through the source
 * maps cost about a fifth of a deployment's CPU. Nothing the deployment records comes from a stack
 * trace. V8 formats an error's stack when it is first read, so an error the program throws and the
 * caller reads afterwards still shows the TypeScript lines; one read during the run shows the
 * transpiled JavaScript's positions, with the same message. Overlapping runs restore it once, when
 * the last one ends; the depth lives on `globalThis`, as a deployment reloads this module.
 */
async function withV8StackTraces<T>(work: () => Promise<T>): Promise<T> {
    type Formatter = NonNullable<ErrorConstructor["prepareStackTrace"]> | undefined;
    const errors = Error as unknown as { prepareStackTrace: Formatter };
    const holder = globalThis as unknown as Record<symbol, { depth: number; saved: Formatter } | undefined>;
    const state = (holder[STACK_TRACES] ??= { depth: 0, saved: undefined });
    if (state.depth++ === 0) {
        state.saved = errors.prepareStackTrace;
        errors.prepareStackTrace = undefined;
    }
    try {
        return await work();
    } finally {
        // Left alone if something installed its own formatter meanwhile.
        if (--state.depth === 0 && errors.prepareStackTrace === undefined) errors.prepareStackTrace = state.saved;
    }
}

async function runUnderMocks(options: MockDeploymentOptions): Promise<MockDeployment> {
    const stack = options.stack ?? "dev";
    const project = projectName();
    const config = { ...(options.config ?? readStackConfig(stack)), ...(options.configOverrides ?? {}), ...(options.secretConfig ?? {}) };
    const secretKeys = [...(options.config ? [] : readStackSecretKeys(stack)), ...Object.keys(options.secretConfig ?? {})];
    const region = String(config["aws:region"] ?? "us-east-1");
    const resources: MockedResource[] = [];
    const invokes: MockedInvoke[] = [];

    // Fresh copies of the SDK's runtime state and of every project module, so that
    // several deployments (stacks, regions) can run in one process.
    clearProjectModules();
    const pulumi = require("@pulumi/pulumi") as typeof import("@pulumi/pulumi");
    const flat: Record<string, string> = {};
    for (const [key, value] of Object.entries(config)) {
        flat[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
    pulumi.runtime.setAllConfig(flat, secretKeys);
    await pulumi.runtime.setMocks(
        {
            newResource(args) {
                if (args.type === "pulumi:pulumi:StackReference") {
                    const referenced = String(args.inputs.name ?? args.name);
                    const referencedOutputs = options.stackReferences?.[referenced];
                    if (!referencedOutputs)
                        throw new Error(
                            `StackReference to "${referenced}" has no mocked outputs; pass stackReferences: { "${referenced}": { ... } }`,
                        );
                    return { id: referenced, state: { name: referenced, outputs: referencedOutputs, secretOutputNames: [] } };
                }
                // The root stack resource, as the language host creates it: not a resource of the program.
                if (args.type === "pulumi:pulumi:Stack") return { id: `${project}-${stack}`, state: {} };
                const state = { ...args.inputs, ...computedState(args.type, args.name, args.inputs, region, stack) };
                const id = state.name ?? state.bucket ?? `${args.name}-id`;
                resources.push({
                    type: args.type,
                    name: args.name,
                    id,
                    inputs: args.inputs,
                    state,
                    provider: args.provider,
                });
                return { id, state };
            },
            call(args) {
                invokes.push({ token: args.token, inputs: { ...args.inputs } });
                switch (args.token) {
                    case "aws:ssm/getParameter:getParameter":
                        return mockSsmParameter(String(args.inputs.name), region);
                    case "aws:index/getCallerIdentity:getCallerIdentity":
                        return {
                            accountId: MOCK_ACCOUNT_ID,
                            arn: `arn:aws:iam::${MOCK_ACCOUNT_ID}:user/mock`,
                            userId: "AIDAMOCK",
                            id: MOCK_ACCOUNT_ID,
                        };
                    case "aws:index/getRegion:getRegion":
                        return { name: region, region, id: region, description: region, endpoint: `ec2.${region}.amazonaws.com` };
                    case "aws:index/getPartition:getPartition":
                        return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws", reverseDnsPrefix: "com.amazonaws" };
                    default:
                        return args.inputs;
                }
            },
        },
        project,
        stack,
        options.preview ?? false,
    );

    const registrations = recordRegistrations(pulumi);

    const programPath = options.programPath ?? path.join(ROOT, "index");
    // Inside the root stack resource, as `pulumi up` runs it: stack transformations (the
    // owner and cost tags) and the stack parent apply exactly as they do there.
    let program: Record<string, unknown> = {};
    await pulumi.runtime.runInPulumiStack(async () => {
        program = createRequire(__filename)(programPath) as Record<string, unknown>;
        return undefined;
    });
    const outputs: ResourceProperties = {};
    for (const [key, value] of Object.entries(program)) {
        if (key === "__esModule") continue;
        const output = pulumi.output(value as Input<unknown>) as { apply(callback: (resolved: unknown) => void): unknown };
        outputs[key] = await new Promise((resolve) => output.apply(resolve));
    }
    // Resources created inside `apply` callbacks register after the outputs resolve.
    // `waitForRPCs` is exported by the runtime but not declared in its typings.
    const runtime = pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> };
    await runtime.waitForRPCs?.();
    await new Promise((resolve) => setImmediate(resolve));
    return { project, stack, region, resources, registrations, invokes, outputs };
}

/**
 * {@link deployUnderMocks}, or the deployment an earlier process (an earlier `npm start`, the other
 * mocha worker) made with the same options when no file it read has changed since (see
 * local/offline/deployment-cache). Either way the deployment is plain data: an archive's
 * `assets`, an asset's `text` are values, which `await` reads as it reads the SDK's promises.
 * Options with secret config are never kept on disk.
 *
 * @example
 * const { deployment, fromCache } = await cachedDeployment({ stack: "localstack" });
 */
export async function cachedDeployment(
    options: MockDeploymentOptions = {},
    {
        deploy = deployUnderMocks,
        ...keptOptions
    }: KeptResultOptions & { deploy?: (options: MockDeploymentOptions) => Promise<MockDeployment> } = {},
): Promise<{ deployment: MockDeployment; fromCache: boolean }> {
    if (options.secretConfig && Object.keys(options.secretConfig).length > 0)
        return { deployment: await deploy(options), fromCache: false };
    const { result, fromCache } = await keptResult(`mock deployment ${deploymentKey(options)}`, () => deploy(options), keptOptions);
    return { deployment: result, fromCache };
}

/**
 * {@link deployUnderMocks}, run once per distinct program, stack, config, secrets, preview flag and
 * stack references in this process, and shared by every caller that asks for the same. A whole-program
 * deployment costs seconds of CPU and most test files need one of the same few (the dev or localstack
 * stack as its file says). The result is deeply frozen, so no caller can change what another one
 * reads: copy before changing. A failed deployment is not kept (the next call runs it again).
 *
 * The cache lives on `globalThis`: {@link deployUnderMocks} reloads every project module, this one
 * included, and a fresh copy of this module must still find the deployments already made.
 *
 * @example
 * const dev = await sharedDeployment({ stack: "dev" });
 * const west = await sharedDeployment({ stack: "dev", configOverrides: { "aws:region": "eu-west-1" } });
 */
export function sharedDeployment(options: MockDeploymentOptions = {}): Promise<MockDeployment> {
    const key = deploymentKey(options);
    const cache = sharedDeployments();
    let deployment = cache.get(key);
    if (!deployment) {
        deployment = cachedDeployment(options).then(({ deployment: made }) => deepFreeze(made));
        cache.set(key, deployment);
        deployment.catch(() => cache.delete(key));
    }
    return deployment;
}

const SHARED_DEPLOYMENTS = Symbol.for("event-ingestion.offline.sharedDeployments");

function sharedDeployments(): Map<string, Promise<MockDeployment>> {
    const holder = globalThis as unknown as Record<symbol, Map<string, Promise<MockDeployment>> | undefined>;
    return (holder[SHARED_DEPLOYMENTS] ??= new Map());
}

/** What decides a deployment's result, resolved as {@link deployUnderMocks} resolves it, as a stable string. */
export function deploymentKey(options: MockDeploymentOptions): string {
    const stack = options.stack ?? "dev";
    const config = { ...(options.config ?? readStackConfig(stack)), ...(options.configOverrides ?? {}), ...(options.secretConfig ?? {}) };
    const secretKeys = [...(options.config ? [] : readStackSecretKeys(stack)), ...Object.keys(options.secretConfig ?? {})].sort();
    return stableJson({
        stack,
        config,
        secretKeys,
        programPath: path.resolve(options.programPath ?? path.join(ROOT, "index")),
        preview: options.preview ?? false,
        stackReferences: options.stackReferences ?? {},
    });
}

function stableJson(value: unknown): string {
    return JSON.stringify(value, (_key, item: unknown) =>
        item && typeof item === "object" && !Array.isArray(item)
            ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
            : item,
    );
}

/** Freezes plain objects and arrays all the way down; leaves class instances (Pulumi assets and archives) alone. */
function deepFreeze<T>(value: T): T {
    if (value && typeof value === "object" && !Object.isFrozen(value)) {
        const prototype = Object.getPrototypeOf(value);
        if (Array.isArray(value) || prototype === Object.prototype || prototype === null) {
            Object.freeze(value);
            for (const item of Object.values(value)) deepFreeze(item);
        }
    }
    return value;
}

interface AliasMessage {
    toObject(): {
        urn?: string;
        spec?: { name?: string; type?: string; stack?: string; project?: string; parenturn?: string; noparent?: boolean };
    };
}
interface RegisterRequest {
    getType(): string;
    getName(): string;
    getCustom(): boolean;
    getParent(): string;
    getAliasesList(): AliasMessage[];
}
type RegisterCallback = (error: unknown, response?: { getUrn(): string }) => void;

/**
 * The URN the engine gives a registration the mock monitor answered with `mockUrn`. The mock monitor
 * (pulumi/pulumi sdk/nodejs/runtime/mocks.ts newUrn) qualifies a child's type with its parent's last
 * type only (`B$C`) and writes `pulumi:pulumi:Stack$` on children of the root stack; the engine
 * (pkg/resource/deploy generateURN) qualifies it with the parent URN's whole type chain (`A$B$C`)
 * and leaves out the root stack's type.
 */
function engineUrn(mockUrn: string, type: string, engineParentUrn: string | undefined): string {
    const parts = mockUrn.split("::");
    if (parts.length < 4 || type === ROOT_STACK_TYPE) return mockUrn;
    const parentChain = engineParentUrn?.split("::")[2];
    parts[2] = parentChain && parentChain !== ROOT_STACK_TYPE ? `${parentChain}$${type}` : type;
    return parts.join("::");
}

/**
 * Records what the engine would receive for each registration (URN, parent,
 * aliases), by wrapping the mock monitor; the mocks' `newResource` sees neither.
 * URNs, parents and alias parents are in the engine's form (see {@link engineUrn}).
 */
function recordRegistrations(pulumi: typeof import("@pulumi/pulumi")): RegisteredUrn[] {
    const registrations: RegisteredUrn[] = [];
    // Mock URN → engine URN. A parent (and an alias's parent) registers before the resources that name it.
    const engineUrns = new Map<string, string>();
    const toEngine = (mockUrn: string): string => engineUrns.get(mockUrn) ?? mockUrn.replace(/::pulumi:pulumi:Stack\$/, "::");
    const monitor = pulumi.runtime.getMonitor() as unknown as {
        registerResource(request: RegisterRequest, callback: RegisterCallback): void;
    };
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (request, callback) =>
        register(request, (error, response) => {
            if (response) {
                const parent = request.getParent() ? toEngine(request.getParent()) : undefined;
                const urn = engineUrn(response.getUrn(), request.getType(), parent);
                engineUrns.set(response.getUrn(), urn);
                registrations.push({
                    urn,
                    type: request.getType(),
                    name: request.getName(),
                    custom: request.getCustom(),
                    parent,
                    aliases: request.getAliasesList().map((alias) => {
                        const { urn: aliasUrn, spec } = alias.toObject();
                        if (aliasUrn) return { urn: aliasUrn };
                        return {
                            spec: {
                                name: spec?.name || undefined,
                                type: spec?.type || undefined,
                                stack: spec?.stack || undefined,
                                project: spec?.project || undefined,
                                parentUrn: spec?.parenturn ? toEngine(spec.parenturn) : undefined,
                                noParent: spec?.noparent || undefined,
                            },
                        };
                    }),
                });
            }
            callback(error, response);
        });
    return registrations;
}

function clearProjectModules(): void {
    for (const id of Object.keys(require.cache)) {
        if (id.startsWith(ROOT) && !id.includes(`${path.sep}node_modules${path.sep}`)) delete require.cache[id];
    }
}

/** Resources of one type, e.g. `byType(d, "aws:sqs/queue:Queue")`. */
export function byType(deployment: MockDeployment, type: string): MockedResource[] {
    return deployment.resources.filter((resource) => resource.type === type);
}
