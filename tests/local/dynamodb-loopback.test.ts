import { expect } from "chai";
import { DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import * as net from "node:net";
import { EmulatorStartError, LOCAL_CREDENTIALS, startDynamoDbLocal } from "../../local/emulators";
import { listeningAddresses } from "../support/sockets";

describe("DynamoDB Local on loopback only", () => {
    it("listens on 127.0.0.1 and nowhere else, answers a client, and frees its port on stop", async () => {
        const dynamo = await startDynamoDbLocal();
        try {
            expect(dynamo.bindAddress).to.equal("127.0.0.1");
            expect(listeningAddresses(dynamo.port)).to.deep.equal(["127.0.0.1"]);
            const client = new DynamoDBClient({ endpoint: dynamo.endpoint, region: "us-east-1", credentials: LOCAL_CREDENTIALS });
            expect((await client.send(new ListTablesCommand({}))).TableNames).to.deep.equal([]);
            client.destroy();
        } finally {
            await dynamo.stop();
        }
        expect(listeningAddresses(dynamo.port)).to.deep.equal([]);
        expect(dynamo.process.exitCode ?? dynamo.process.signalCode).to.not.equal(null);
    });

    it("refuses a port someone else holds on any interface, with a clear error", async () => {
        const squatter = net.createServer();
        await new Promise<void>((resolve) => squatter.listen(0, "127.0.0.1", resolve));
        const port = (squatter.address() as net.AddressInfo).port;
        try {
            const error = await startDynamoDbLocal({ port }).then(
                () => undefined,
                (e: unknown) => e,
            );
            expect(error).to.be.instanceOf(EmulatorStartError);
            expect((error as Error).message).to.match(/already in use/);
        } finally {
            squatter.close();
        }
    });
});
