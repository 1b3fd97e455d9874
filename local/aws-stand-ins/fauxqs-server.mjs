// Child-process entry for the SQS/S3 emulator. fauxqs's own CLI listens on every
// interface; we build its app and bind it to loopback only, with the SQS stand-in layer
// (sqs-stand-in.mjs: identities, SenderId, MessageGroupId on standard queues, fair queues).
import { buildApp } from "fauxqs";
import { createStandInStore, installSqsStandIn } from "./sqs-stand-in.mjs";

const port = Number(process.env.FAUXQS_PORT ?? 0);
const region = process.env.FAUXQS_DEFAULT_REGION ?? "us-east-1";
// [{ accessKeyId, secretAccessKey, senderId }]: when set, only these credentials are accepted.
const identities = process.env.FAUXQS_IDENTITIES
    ? new Map(JSON.parse(process.env.FAUXQS_IDENTITIES).map((identity) => [identity.accessKeyId, identity]))
    : undefined;
const sqsStore = createStandInStore({ fairDelivery: process.env.FAUXQS_FAIR_DELIVERY !== "0" });
const app = buildApp({ logger: false, defaultRegion: region, stores: { sqsStore } });
// DNS-rebinding guard, the rule of local/aws-stand-ins/loopback-host.ts: answer only requests addressed to
// the loopback host and the port we bound (a browser sends the attacker's name in Host).
app.addHook("onRequest", (request, reply, done) => {
    const bound = app.server.address()?.port;
    const host = String(request.headers.host ?? "").toLowerCase();
    if (host === `127.0.0.1:${bound}` || host === `localhost:${bound}`) return done();
    reply
        .code(403)
        .header("connection", "close")
        .send({ message: `Host must be 127.0.0.1:${bound} or localhost:${bound} (DNS rebinding)` });
});
installSqsStandIn(app, sqsStore, { identities });
try {
    const address = await app.listen({ port, host: "127.0.0.1" });
    process.stdout.write(JSON.stringify({ ready: true, address }) + "\n");
} catch (error) {
    process.stderr.write(`fauxqs could not listen on 127.0.0.1:${port}: ${error.message}\n`);
    process.exit(1);
}
const shutdown = () => app.close().finally(() => process.exit(0));
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
if (process.env.FAUXQS_EXIT_WITH_PARENT === "1") {
    // The parent holds our stdin open; EOF means it died (even by SIGKILL): never outlive it.
    process.stdin.on("end", shutdown);
    process.stdin.resume();
}
