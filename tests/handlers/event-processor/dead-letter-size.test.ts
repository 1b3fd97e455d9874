/**
 * A reject never loses its reason, whatever its size. SQS counts the body plus every message
 * attribute's name, data type and value toward the message size (SQS API Reference,
 * "MessageAttributeValue": "All parts of the message attribute, including Name, Type, and
 * Value, are part of the message size restriction"), so the DLQ is SQS's maximum (1 MiB,
 * "Amazon SQS quotas") and the source queue's limit keeps EVENT_DEAD_LETTER_RESERVED_BYTES free.
 * The end-to-end proof on fauxqs is in tests/local/hostile-input.e2e.test.ts.
 */
import { expect } from "chai";
import { SQS_MAX_MESSAGE_SIZE_BYTES } from "../../../components/shared/defaults";
import { parseStackConfig } from "../../../config";
import {
    EVENT_SENDER_CLAIM_MAX_SENDER_BYTES,
    EVENT_DEAD_LETTER_MAX_DETAIL_BYTES,
    EVENT_DEAD_LETTER_RESERVED_BYTES,
    EVENT_REJECTION_REASON_CODES,
    type EventRejectionReason,
} from "../../../contracts/event-pipeline";
import { entryBytes, entryFor } from "../../../handlers/event-processor/dead-letter";
import { sqsRecord } from "../../support/factories/events";

const SOURCE_MAX = SQS_MAX_MESSAGE_SIZE_BYTES - EVENT_DEAD_LETTER_RESERVED_BYTES;

describe("dead letters keep their reason at every size", () => {
    it("the worst-case DLQ entry for a body at the largest allowed source size fits SQS's maximum, sender claim included", () => {
        const longestReason = [...EVENT_REJECTION_REASON_CODES].sort((a, b) => b.length - a.length)[0] as EventRejectionReason;
        const record = { ...sqsRecord("x".repeat(SOURCE_MAX)), messageId: "m".repeat(500) };
        // Four-byte characters in the detail: the bound is in bytes, not characters.
        // A stack with producers adds the first sender's claim: the longest unique id and an HMAC-SHA-256.
        const claim = {
            originalSender: `A${"Z".repeat(EVENT_SENDER_CLAIM_MAX_SENDER_BYTES - 1)}`,
            senderClaim: `v1:${Buffer.alloc(32, 0xff).toString("base64")}`,
        };
        const entry = entryFor({ record, reason: longestReason, detail: "\u{1F4A5}".repeat(1000), claim }, "m0");
        expect(entry.MessageAttributes).to.have.keys([
            "rejectionReason",
            "rejectionDetail",
            "sourceMessageId",
            "originalSender",
            "senderClaim",
        ]);
        expect(Buffer.byteLength(entry.MessageAttributes!.rejectionDetail.StringValue!, "utf8")).to.be.at.most(
            EVENT_DEAD_LETTER_MAX_DETAIL_BYTES,
        );
        expect(entry.MessageBody).to.equal(record.body);
        const bytes = entryBytes(entry);
        expect(bytes - SOURCE_MAX, "attribute bytes").to.be.at.most(EVENT_DEAD_LETTER_RESERVED_BYTES);
        expect(bytes).to.be.at.most(SQS_MAX_MESSAGE_SIZE_BYTES);
    });

    it("counts a message as SQS does: body, attribute names, data types and values in UTF-8 bytes", () => {
        const bytes = entryBytes({ MessageBody: "é", MessageAttributes: { nämé: { DataType: "String", StringValue: "vé" } } });
        expect(bytes).to.equal(2 + 6 + 6 + 3);
    });

    it("config refuses a source queue size that would leave no room for the reason (the DLQ is 1 MiB)", () => {
        const parse = (size: number) => () =>
            parseStackConfig({ "aws:region": "eu-west-1", "event-ingestion:maxMessageSize": String(size) });
        expect(parse(SOURCE_MAX)).to.not.throw();
        expect(parse(SQS_MAX_MESSAGE_SIZE_BYTES)).to.throw(
            /event-ingestion:maxMessageSize = 1048576: must be an integer from 1024 to 1047552/,
        );
    });
});
