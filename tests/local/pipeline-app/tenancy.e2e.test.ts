/**
 * Tenancy end to end on the local pipeline, with `producers` in the stack config: each
 * producer has its own local credentials, the local SQS reports its role's SenderId
 * (SQS API Reference, "ReceiveMessage": for an IAM role, `<role id>:<session>`) and keeps
 * MessageGroupId on the standard queue (as fair queues do), and the processor stores a
 * producer's own tenants and dead-letters the others' as sender_not_allowed, whether the
 * event comes from the AWS SDK or the AWS CLI. Unknown credentials are refused the way
 * AWS refuses them, so nothing here can pass by accident.
 */
import { expect } from "chai";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { execFile, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { deadLetters, type PeekedDeadLetter } from "../../../local/pipeline-app/accounting";
import { LocalPipeline, startLocalPipeline } from "../../../local/pipeline-app/pipeline";
import { until } from "../../support/until";

const run = promisify(execFile);

const PRODUCERS = {
    orders: { tenants: ["acme", "globex"], principals: ["111122223333"] },
    billing: { tenants: ["initech"], principals: ["444455556666"] },
};

/** The AWS CLI v1 (pip) speaks SQS's JSON protocol, which fauxqs needs. */
function awsCliV1(): string | undefined {
    const result = spawnSync("aws", ["--version"], { encoding: "utf8" });
    if (result.error || result.status !== 0) return undefined;
    const version = `${result.stdout}${result.stderr}`.trim();
    return /^aws-cli\/1\./.test(version) ? version : undefined;
}

function event(clientId: string, eventId: string): string {
    return JSON.stringify({
        clientId,
        eventId,
        type: "user.signed_up",
        occurredAt: "2026-11-21T10:00:00Z",
        data: { userId: `usr-${eventId}`, plan: "free", signupChannel: "api", marketingOptIn: false },
    });
}

describe("tenancy end to end on the local pipeline (stack localstack with producers)", function () {
    this.timeout(180_000);
    let pipeline: LocalPipeline;
    const clients: SQSClient[] = [];

    before(async () => {
        pipeline = await startLocalPipeline({
            stack: "localstack",
            configOverrides: { "event-ingestion:producers": PRODUCERS },
            functionLogs: () => undefined,
        });
    });
    after(async () => {
        clients.forEach((client) => client.destroy());
        await pipeline?.stop();
    });

    function sqsAs(credentials: { accessKeyId: string; secretAccessKey: string }): SQSClient {
        const client = new SQSClient({
            region: pipeline.ready.region,
            endpoint: pipeline.ready.sqsEndpoint,
            credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
            maxAttempts: 1,
        });
        clients.push(client);
        return client;
    }

    const stored = (clientId: string, eventId: string) =>
        until(`${clientId}/${eventId} to be stored`, async () => {
            const got = await pipeline.context.clients.dynamodb.send(
                new GetItemCommand({
                    TableName: pipeline.ready.eventTableName,
                    Key: { clientId: { S: clientId }, eventId: { S: eventId } },
                }),
            );
            return got.Item;
        });
    const deadLettered = (clientId: string, eventId: string) =>
        until<PeekedDeadLetter>(`${clientId}/${eventId} in the DLQ`, async () =>
            (await deadLetters(pipeline.ready.sqsEndpoint, pipeline.ready.deadLetterQueueUrl.split("/").pop()!)).find((letter) => {
                const body = JSON.parse(letter.body) as { clientId?: string; eventId?: string };
                return body.clientId === clientId && body.eventId === eventId;
            }),
        );

    it("lists each producer's local credentials and tenants in the READY JSON", () => {
        const { producers } = pipeline.ready;
        expect(Object.keys(producers).sort()).to.deep.equal(["billing", "orders"]);
        expect(producers.orders.tenants).to.deep.equal(["acme", "globex"]);
        expect(producers.billing.tenants).to.deep.equal(["initech"]);
        for (const producer of Object.values(producers)) {
            expect(producer.accessKeyId).to.match(/^ASIA[A-Z2-7]{16}$/);
            expect(producer.secretAccessKey).to.have.length(40);
        }
        expect(producers.orders.accessKeyId).to.not.equal(producers.billing.accessKeyId);
    });

    it("through the AWS SDK: orders' own tenant is stored, billing's tenant sent by orders is dead-lettered as sender_not_allowed", async () => {
        const orders = sqsAs(pipeline.ready.producers.orders);
        const send = (clientId: string, eventId: string) =>
            orders.send(
                new SendMessageCommand({
                    QueueUrl: pipeline.ready.eventQueueUrl,
                    MessageBody: event(clientId, eventId),
                    MessageGroupId: clientId,
                }),
            );
        await send("acme", "sdk-own");
        await send("initech", "sdk-foreign");
        expect((await stored("acme", "sdk-own")).type.S).to.equal("user.signed_up");
        expect((await deadLettered("initech", "sdk-foreign")).reason).to.equal("sender_not_allowed");
    });

    it("refuses unknown credentials as AWS does (InvalidClientTokenId), so no event enters the queue with them", async () => {
        const stranger = sqsAs({ accessKeyId: "ASIAUNKNOWNUNKNOWN00", secretAccessKey: "x".repeat(40) });
        const error = await stranger
            .send(
                new SendMessageCommand({
                    QueueUrl: pipeline.ready.eventQueueUrl,
                    MessageBody: event("acme", "stranger"),
                    MessageGroupId: "acme",
                }),
            )
            .then(
                () => undefined,
                (e: Error) => e,
            );
        expect(error?.name).to.equal("InvalidClientTokenId");
    });

    const cli = awsCliV1();
    (cli ? it : it.skip)(
        `through the AWS CLI: billing's own tenant is stored, orders' tenant sent by billing is dead-lettered; an unknown key is refused (${cli ?? "skipped: no AWS CLI v1 on the PATH"})`,
        async () => {
            const asBilling = {
                ...process.env,
                ...pipeline.ready.environment,
                AWS_ACCESS_KEY_ID: pipeline.ready.producers.billing.accessKeyId,
                AWS_SECRET_ACCESS_KEY: pipeline.ready.producers.billing.secretAccessKey,
                AWS_PAGER: "",
            };
            const sendCli = (env: NodeJS.ProcessEnv, clientId: string, eventId: string) =>
                run(
                    "aws",
                    [
                        "sqs",
                        "send-message",
                        "--endpoint-url",
                        pipeline.ready.sqsEndpoint,
                        "--queue-url",
                        pipeline.ready.eventQueueUrl,
                        "--message-body",
                        event(clientId, eventId),
                        "--message-group-id",
                        clientId,
                        "--output",
                        "json",
                    ],
                    { env },
                );
            expect(JSON.parse((await sendCli(asBilling, "initech", "cli-own")).stdout).MessageId).to.be.a("string");
            expect(JSON.parse((await sendCli(asBilling, "globex", "cli-foreign")).stdout).MessageId).to.be.a("string");
            expect((await stored("initech", "cli-own")).type.S).to.equal("user.signed_up");
            expect((await deadLettered("globex", "cli-foreign")).reason).to.equal("sender_not_allowed");

            const refused = await sendCli({ ...asBilling, AWS_ACCESS_KEY_ID: "ASIAUNKNOWNUNKNOWN00" }, "initech", "cli-stranger").then(
                () => undefined,
                (e: Error & { stderr?: string }) => e,
            );
            expect(refused?.stderr).to.match(/InvalidClientTokenId/);
        },
    );
});
