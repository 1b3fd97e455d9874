/**
 * Who is who on the local SQS when the stack configures `producers`: each producer gets
 * its own local credentials, and each message it sends reports the SenderId SQS would
 * report for a session of its role (`<role unique id>:<session name>`; SQS API Reference,
 * "ReceiveMessage", MessageSystemAttributeNames), with the role unique id the mock
 * deployment gave the role, the one the processor's PRODUCER_TENANTS names. Each
 * function sends as its execution role (session = function name, as Lambda names it),
 * and the pipeline, its tools and console as an IAM user (`local`/`local`). Credentials
 * are random per run and exist only on the local SQS; anything else is refused there.
 */
import * as crypto from "node:crypto";
import { LOCAL_CREDENTIALS, type LocalSqsIdentity } from "../offline/emulators";
import type { LocalTopology } from "./topology";

/** The IAM user id the pipeline's own requests report (tools, console, poller, provisioning). */
export const LOCAL_OPERATOR_SENDER_ID = "AIDALOCALOPERATOR0000";

/** A producer's entry in the READY line: what a client needs to send as that producer. */
export interface LocalProducerCredentials {
    accessKeyId: string;
    secretAccessKey: string;
    tenants: string[];
}

export interface LocalIdentities {
    readonly operator: LocalSqsIdentity;
    /** function name -> the identity of its execution role */
    readonly functions: ReadonlyMap<string, LocalSqsIdentity>;
    /** producer name -> its identity and tenants */
    readonly producers: ReadonlyMap<string, LocalSqsIdentity & { tenants: string[] }>;
    /** every identity, for the local SQS */
    all(): LocalSqsIdentity[];
    /** the READY line's `producers` */
    readyProducers(): Record<string, LocalProducerCredentials>;
}

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** Temporary (STS) credentials in AWS's shape: `ASIA` + 16 characters, a 40-character secret. */
function temporaryCredentials(random: (size: number) => Buffer): { accessKeyId: string; secretAccessKey: string } {
    const id = [...random(16)].map((byte) => BASE32[byte % 32]).join("");
    return { accessKeyId: `ASIA${id}`, secretAccessKey: random(30).toString("base64") };
}

/**
 * The identities of a stack with producers; undefined in open mode (the local SQS then
 * accepts any credentials, as the processor checks no sender).
 *
 * @example
 * const identities = localIdentities(topology);
 * await startFauxqs({ identities: identities?.all() });
 */
export function localIdentities(
    topology: Pick<LocalTopology, "producers" | "functions">,
    random: (size: number) => Buffer = crypto.randomBytes,
): LocalIdentities | undefined {
    if (topology.producers.length === 0) return undefined;
    const operator: LocalSqsIdentity = { ...LOCAL_CREDENTIALS, senderId: LOCAL_OPERATOR_SENDER_ID };
    const functions = new Map<string, LocalSqsIdentity>();
    for (const fn of topology.functions) {
        if (fn.roleUniqueId) functions.set(fn.name, { ...temporaryCredentials(random), senderId: `${fn.roleUniqueId}:${fn.name}` });
    }
    const producers = new Map<string, LocalSqsIdentity & { tenants: string[] }>();
    for (const producer of topology.producers) {
        producers.set(producer.name, {
            ...temporaryCredentials(random),
            senderId: `${producer.roleUniqueId}:local-${producer.name}`,
            tenants: [...producer.tenants],
        });
    }
    return {
        operator,
        functions,
        producers,
        all: () => [operator, ...functions.values(), ...[...producers.values()].map(({ tenants: _tenants, ...identity }) => identity)],
        readyProducers: () =>
            Object.fromEntries(
                [...producers].map(([name, { accessKeyId, secretAccessKey, tenants }]) => [
                    name,
                    { accessKeyId, secretAccessKey, tenants },
                ]),
            ),
    };
}
