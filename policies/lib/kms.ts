/**
 * What a KMS key reference (`kmsMasterKeyId`, `kmsKeyArn`, `kmsKeyId`, ...) points at.
 *
 * AWS accepts a key id, a key ARN, an alias name (`alias/name`) or an alias ARN. Aliases under
 * `alias/aws/` are reserved for AWS managed keys (`alias/aws/sqs`, `alias/aws/dynamodb`, ...),
 * which the key owner's policy cannot restrict and which cannot be rotated or audited like a
 * customer managed key, so they do not count. A customer alias (`alias/event-ingestion`) does.
 */
import { isUnknown } from "./values";

export type KeyReferenceKind =
    /** no key: the service's default (AWS owned or AWS managed) key is used */
    | "missing"
    /** an `alias/aws/*` alias or its ARN: an AWS managed key */
    | "aws-managed"
    /** a key id, key ARN, or customer alias (name or ARN) */
    | "customer-managed"
    /** computed from a resource this stack creates (preview) */
    | "unknown";

const AWS_MANAGED_ALIAS = /(^|:)alias\/aws\//i;

export function classifyKeyReference(value: unknown): KeyReferenceKind {
    if (value === undefined || value === null) return "missing";
    if (isUnknown(value)) return "unknown";
    if (typeof value !== "string") return "missing";
    const ref = value.trim();
    if (ref === "") return "missing";
    if (AWS_MANAGED_ALIAS.test(ref)) return "aws-managed";
    return "customer-managed";
}

/**
 * `undefined` when `value` names a customer managed key (or is computed: see docs/policies.md,
 * "Unknown values"), otherwise why it does not.
 */
export function customerManagedKeyProblem(value: unknown, field: string): string | undefined {
    switch (classifyKeyReference(value)) {
        case "customer-managed":
        case "unknown":
            return undefined;
        case "aws-managed":
            return `${field} is ${String(value)}, an AWS managed key; use a customer managed KMS key (its ARN, id or a customer alias).`;
        case "missing":
            return `${field} is not set, so the service falls back to an AWS owned or AWS managed key; set it to a customer managed KMS key.`;
    }
}
