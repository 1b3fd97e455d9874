// One local "Lambda execution environment": a child process whose environment is
// the function's (its Environment.Variables plus what the Lambda service sets), that
// loads the handler once (like a cold start) and then runs one invocation at a time,
// as the parent asks over IPC: local/aws-stand-ins/lambda-runtime/local-function.ts (a pool of
// environments) or invokeArtifact in local/offline/lambda-artifact.ts (one cold start, measured).
// Plain JavaScript so that a cold start costs what the artifact costs, nothing more.
"use strict";
const dns = require("node:dns");
const { performance } = require("node:perf_hooks");
const { setTimeout } = require("node:timers");
const path = require("node:path");

// Node's own boot, before the rest of this file or the function's code ran.
const bootMs = performance.now();

// fauxqs names its queues http://sqs.<region>.localhost:<port>/..., and the AWS SDK
// sends to the queue URL's host. RFC 6761 reserves *.localhost for loopback, and
// many resolvers (systemd-resolved, browsers) answer it so; glibc does not, so
// this environment's resolver does it for exactly that suffix and nothing else.
const originalLookup = dns.lookup;
dns.lookup = function lookup(hostname, options, callback) {
    if (typeof hostname === "string" && hostname.endsWith(".localhost")) {
        const cb = typeof options === "function" ? options : callback;
        const all = typeof options === "object" && options !== null && options.all;
        return process.nextTick(() => (all ? cb(null, [{ address: "127.0.0.1", family: 4 }]) : cb(null, "127.0.0.1", 4)));
    }
    return originalLookup.apply(dns, arguments);
};

const moduleFile = process.env.LOCAL_LAMBDA_MODULE;
const exportName = process.env.LOCAL_LAMBDA_EXPORT || "handler";
const isFactory = process.env.LOCAL_LAMBDA_FACTORY === "1";
delete process.env.LOCAL_LAMBDA_MODULE;
delete process.env.LOCAL_LAMBDA_EXPORT;
delete process.env.LOCAL_LAMBDA_FACTORY;

function send(message) {
    if (process.connected) process.send(message);
}

/** Where this process stands: since Node's time origin, in wall-clock and CPU milliseconds. */
function clock() {
    const cpu = process.cpuUsage();
    return { processMs: performance.now(), processCpuMs: (cpu.user + cpu.system) / 1000 };
}

function describe(error) {
    if (error instanceof Error)
        return { errorType: error.name, errorMessage: error.message, stack: (error.stack || "").split("\n").slice(0, 8) };
    return { errorType: "Error", errorMessage: String(error) };
}

let handler;
const initStarted = process.hrtime.bigint();
const initCpuStarted = process.cpuUsage();
const initMs = () => Number(process.hrtime.bigint() - initStarted) / 1e6;
// The init's own CPU: on a loaded machine its wall time also counts the waits for a core.
const initCpuMs = () => {
    const cpu = process.cpuUsage(initCpuStarted);
    return (cpu.user + cpu.system) / 1000;
};
try {
    if (/\.ts$/.test(moduleFile)) require("ts-node").register({ transpileOnly: true });
    const loaded = require(path.resolve(moduleFile));
    const exported = loaded[exportName];
    handler = isFactory ? exported() : exported;
    if (typeof handler !== "function") throw new TypeError(`${moduleFile} does not export a function named ${exportName}`);
    send({ type: "ready", timing: { bootMs, initMs: initMs(), initCpuMs: initCpuMs(), ...clock() } });
} catch (error) {
    send({ type: "init-error", error: describe(error), timing: { bootMs, initMs: initMs(), initCpuMs: initCpuMs(), ...clock() } });
    // Let the message flush before exiting.
    setTimeout(() => process.exit(1), 50);
}

process.on("message", async (message) => {
    if (!message || message.type !== "invoke" || !handler) return;
    const deadline = Date.now() + message.timeoutMs;
    const context = {
        awsRequestId: message.requestId,
        functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
        functionVersion: "$LATEST",
        invokedFunctionArn: message.functionArn,
        memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
        logGroupName: message.logGroupName ?? process.env.AWS_LAMBDA_LOG_GROUP_NAME,
        logStreamName: message.logStreamName ?? process.env.AWS_LAMBDA_LOG_STREAM_NAME,
        callbackWaitsForEmptyEventLoop: true,
        getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
        done() {},
        fail() {},
        succeed() {},
    };
    try {
        const result = await handler(message.event, context);
        send({ type: "result", requestId: message.requestId, result: result === undefined ? null : result, timing: clock() });
    } catch (error) {
        send({ type: "error", requestId: message.requestId, error: describe(error), timing: clock() });
    }
});
process.on("disconnect", () => process.exit(0));
