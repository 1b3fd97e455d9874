/**
 * The email-api bench signs its requests as a client of the deployed API does (SigV4,
 * service `execute-api`): the local API identifies callers by the signature's access key.
 */
import { expect } from "chai";
import { signedRequest } from "../../bench/email-api";

describe("bench email-api: signed requests", () => {
    const credentials = { accessKeyId: "AKIDBENCHEXAMPLE", secretAccessKey: "bench-secret" };

    it("signs a POST with its body and a GET without one, for execute-api in the pipeline's region", async () => {
        const post = await signedRequest("POST", "http://127.0.0.1:4567/v1/emails", "eu-west-1", credentials, '{"a":1}');
        const postHeaders = post.headers as Record<string, string>;
        expect(post).to.deep.include({ method: "POST", body: '{"a":1}' });
        expect(postHeaders["content-type"]).to.equal("application/json");
        expect(postHeaders.authorization).to.match(
            /^AWS4-HMAC-SHA256 Credential=AKIDBENCHEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=[^,]*\bhost\b/,
        );
        // fetch sets Host itself, to the value that was signed.
        expect(Object.keys(postHeaders).map((name) => name.toLowerCase())).to.not.include("host");

        const get = await signedRequest("GET", "http://127.0.0.1:4567/v1/emails/abc", "eu-west-1", credentials);
        expect(get.body).to.equal(undefined);
        expect((get.headers as Record<string, string>)["content-type"]).to.equal(undefined);
        expect((get.headers as Record<string, string>).authorization).to.match(/Credential=AKIDBENCHEXAMPLE\//);
    });
});
