import { expect } from "chai";
import { LocalOptionsError, parseLocalOptions, usage } from "../../../local/pipeline-app/options";

function problems(fn: () => unknown): readonly string[] {
    try {
        fn();
    } catch (error) {
        if (error instanceof LocalOptionsError) return error.problems;
        throw error;
    }
    throw new Error("expected a LocalOptionsError");
}

describe("local pipeline flags and environment", () => {
    it("has sensible defaults", () => {
        const options = parseLocalOptions("start", [], {});
        expect(options).to.include({
            mode: "start",
            clients: 4,
            eventsPerClient: 20,
            timeoutSeconds: 45,
            json: false,
            progress: true,
            verbose: false,
            help: false,
        });
        expect(options.sqsPort).to.equal(undefined);
        expect(options.stack).to.equal(undefined);
    });

    it("reads ports and stack from flags (both spellings) and falls back to the environment", () => {
        const fromFlags = parseLocalOptions("local", ["--sqs-port", "4566", "--dynamodb-port=8000", "--stack", "dev"], {
            LOCAL_SQS_PORT: "1",
            LOCAL_STACK: "other",
        });
        expect(fromFlags).to.include({ sqsPort: 4566, dynamodbPort: 8000, stack: "dev" });
        const fromEnv = parseLocalOptions("local", [], { LOCAL_SQS_PORT: "4567", LOCAL_DYNAMODB_PORT: "8001", LOCAL_STACK: "localstack" });
        expect(fromEnv).to.include({ sqsPort: 4567, dynamodbPort: 8001, stack: "localstack" });
    });

    it("collects every problem before failing", () => {
        const found = problems(() =>
            parseLocalOptions("local", ["--sqs-port", "99999", "--bogus", "--dynamodb-port", "--clients", "3", "--stack", "../etc"], {
                LOCAL_DYNAMODB_PORT: "x",
            }),
        );
        expect(found.join("\n")).to.match(/--sqs-port must be a port number from 1 to 65535, got "99999"/);
        expect(found.join("\n")).to.match(/unknown option "--bogus"/);
        expect(found.join("\n")).to.match(/--dynamodb-port needs a value/);
        expect(found.join("\n")).to.match(/--clients applies to `npm start` only/);
        expect(found.join("\n")).to.match(/stack name "..\/etc"/);
        expect(found.length).to.be.at.least(5);
    });

    it("names the environment variable when that is where a bad value came from", () => {
        expect(problems(() => parseLocalOptions("local", [], { LOCAL_SQS_PORT: "abc" })).join()).to.match(/LOCAL_SQS_PORT \(environment\)/);
    });

    it("refuses one port for both emulators and out-of-range demo sizes", () => {
        expect(problems(() => parseLocalOptions("local", ["--sqs-port", "5000", "--dynamodb-port", "5000"])).join()).to.match(
            /cannot share port 5000/,
        );
        expect(problems(() => parseLocalOptions("start", ["--events-per-client", "0", "--timeout", "1"])).join("\n"))
            .to.match(/--events-per-client/)
            .and.match(/--timeout/);
    });

    it("an unknown option names the closest known one, as the config does for keys", () => {
        expect(problems(() => parseLocalOptions("start", ["--event-per-client", "3"])).join("\n")).to.match(
            /unknown option "--event-per-client"; did you mean --events-per-client\?/,
        );
        expect(problems(() => parseLocalOptions("local", ["--sqsport=1"])).join("\n")).to.match(/did you mean --sqs-port\?/);
        expect(problems(() => parseLocalOptions("local", ["--frobnicate"])).join("\n")).to.match(/\(options: --stack, --sqs-port/);
    });

    it("--console-port / LOCAL_CONSOLE_PORT choose the console's port (`npm run local` only), never one an emulator has", () => {
        expect(parseLocalOptions("local", ["--console-port", "8123"]).consolePort).to.equal(8123);
        expect(parseLocalOptions("local", [], { LOCAL_CONSOLE_PORT: "8124" }).consolePort).to.equal(8124);
        expect(problems(() => parseLocalOptions("start", ["--console-port", "8123"])).join()).to.match(
            /--console-port applies to `npm run local` only/,
        );
        expect(problems(() => parseLocalOptions("local", ["--console-port", "5000", "--sqs-port", "5000"])).join()).to.match(
            /SQS and the console cannot share port 5000/,
        );
        expect(usage("local")).to.match(/--console-port/);
    });

    it("prints usage for --help even next to bad flags", () => {
        expect(parseLocalOptions("local", ["--help", "--bogus"]).help).to.equal(true);
        expect(usage("local")).to.match(/LOCAL_SQS_PORT/);
        expect(usage("start")).to.match(/--events-per-client/);
    });
});
