/**
 * The local API's IAM authorization (sigv4-identity.ts, http-api.ts): as API Gateway's HTTP API
 * with `AWS_IAM` routes ("Control access to HTTP APIs with IAM authorization in API Gateway"),
 * a request needs a SigV4 signature for `execute-api`; the handler sees the caller in
 * `requestContext.authorizer.iam`; an unsigned or badly signed request is a 403 that never
 * reaches the handler, with the error type and message API Gateway answers ("How do I
 * troubleshoot HTTP 403 errors from API Gateway?"). Locally any access key is a principal; the secret is the local one.
 */
import { expect } from "chai";
import type { APIGatewayProxyEventV2 } from "aws-lambda";
import { serveHttpApi, type LocalHttpApi } from "../../../../local/aws-stand-ins/email/http-api";
import {
    localIamIdentity,
    localSignedFetch,
    signedApiHeaders,
    verifyLocalSignature,
    SIGNATURE_MAX_SKEW_MS,
    SIGNATURE_REFUSALS,
} from "../../../../local/aws-stand-ins/email/sigv4-identity";
import { tenantOf } from "../../../../handlers/email/message";

const SECRET = "local-secret";
const URL_ = "http://127.0.0.1:4000/v1/emails/abc-1?x=1";

async function signed(method: string, url: string, body: string | undefined, accessKeyId: string, secretAccessKey = SECRET) {
    const headers = await signedApiHeaders({
        method,
        url,
        body,
        region: "us-east-1",
        headers: body ? { "content-type": "application/json" } : {},
        credentials: { accessKeyId, secretAccessKey },
    });
    const lower: Record<string, string> = { host: new URL(url).host };
    for (const [name, value] of Object.entries(headers)) lower[name.toLowerCase()] = value;
    const target = new URL(url);
    return { method, url: `${target.pathname}${target.search}`, headers: lower, body: Buffer.from(body ?? "") };
}

describe("local IAM authorization: SigV4 identifies the caller by its access key", () => {
    it("accepts any access key signed with the local secret and reports it as API Gateway does", async () => {
        const check = await verifyLocalSignature(await signed("POST", URL_, '{"a":1}', "someone-else"), { secretAccessKey: SECRET });
        expect(check.ok).to.equal(true);
        const iam = (check as { iam: ReturnType<typeof localIamIdentity> }).iam;
        expect(iam).to.include({
            accessKey: "someone-else",
            accountId: "000000000000",
            userArn: "arn:aws:iam::000000000000:user/someone-else",
        });
        expect(iam.userId)
            .to.match(/^AIDA[0-9A-F]{17}$/)
            .and.equal(iam.callerId);
        expect(iam.cognitoIdentity).to.equal(null);
        expect(localIamIdentity("someone-else")).to.deep.equal(iam);
        expect(localIamIdentity("shop").userId).to.not.equal(iam.userId);
        // Two access keys are two tenants for the handler's owner check.
        const tenant = (key: string) => tenantOf({ requestContext: { authorizer: { iam: localIamIdentity(key) } } });
        expect(tenant("shop")).to.not.equal(tenant("someone-else"));
    });

    it("refuses with API Gateway's 403s: no signature, another secret, a changed body, path or method, another service, an old date", async () => {
        const forbidden = SIGNATURE_REFUSALS.mismatch;
        const good = await signed("POST", URL_, '{"a":1}', "shop");
        const verify = (request: typeof good, now?: Date) =>
            verifyLocalSignature(request, { secretAccessKey: SECRET, ...(now ? { now: () => now } : {}) });
        expect(await verify({ ...good, headers: { host: good.headers.host } })).to.deep.equal(SIGNATURE_REFUSALS.missing);
        expect(await verify(await signed("POST", URL_, '{"a":1}', "shop", "another-secret"))).to.deep.equal(forbidden);
        expect(await verify({ ...good, body: Buffer.from('{"a":2}') })).to.deep.equal(forbidden);
        expect(await verify({ ...good, url: "/v1/emails/abc-2?x=1" })).to.deep.equal(forbidden);
        expect(await verify({ ...good, method: "DELETE" })).to.deep.equal(forbidden);
        const s3 = { ...good, headers: { ...good.headers, authorization: good.headers.authorization.replace("/execute-api/", "/s3/") } };
        expect(await verify(s3)).to.deep.equal(forbidden);
        expect(await verify(good, new Date(Date.now() + SIGNATURE_MAX_SKEW_MS + 60_000))).to.deep.equal(SIGNATURE_REFUSALS.expired);
        expect(await verify(good, new Date(Date.now() - SIGNATURE_MAX_SKEW_MS - 60_000))).to.deep.equal(SIGNATURE_REFUSALS.expired);
        expect((await verify(good)).ok).to.equal(true);
    });

    describe("serveHttpApi with authorize", () => {
        let api: LocalHttpApi;
        const events: APIGatewayProxyEventV2[] = [];
        before(async () => {
            api = await serveHttpApi(
                async (event) => {
                    events.push(event);
                    return { statusCode: 200, body: "{}" };
                },
                { authorize: (request) => verifyLocalSignature(request, { secretAccessKey: SECRET, accountId: "123456789012" }) },
            );
        });
        after(() => api.stop());

        it("passes requestContext.authorizer.iam to the handler; an unsigned request is 403 and never reaches it", async () => {
            const ok = await localSignedFetch(
                `${api.url}/v1/emails/abc-1`,
                { method: "GET" },
                { accessKeyId: "shop", secretAccessKey: SECRET },
            );
            expect(ok.status).to.equal(200);
            const iam = (events[0].requestContext as unknown as { authorizer: { iam: Record<string, unknown> } }).authorizer.iam;
            expect(iam).to.include({ accessKey: "shop", accountId: "123456789012", userArn: "arn:aws:iam::123456789012:user/shop" });
            expect(events[0].pathParameters).to.deep.equal({ id: "abc-1" });

            const unsigned = await fetch(`${api.url}/v1/emails`, {
                method: "POST",
                body: "{}",
                headers: { "content-type": "application/json" },
            });
            expect(unsigned.status).to.equal(403);
            expect(unsigned.headers.get("x-amzn-errortype")).to.equal("MissingAuthenticationTokenException");
            expect(await unsigned.json()).to.deep.equal({ message: "Missing Authentication Token" });
            expect(events).to.have.length(1);
            // An undeclared route is API Gateway's 404, signed or not.
            expect((await fetch(`${api.url}/v2/other`)).status).to.equal(404);
        });
    });
});
