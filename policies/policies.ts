/**
 * The policy list of the `event-ingestion-guardrails` pack.
 *
 * Importing this module starts nothing (no gRPC server), so tests, `npm run policy` and
 * anyone else can evaluate the policies in-process (see ./testing.ts). index.ts is the only
 * place that constructs the PolicyPack.
 */
import type { GuardrailPolicy } from "./lib/define";
import { encryptionPolicies } from "./rules/encryption";
import { kmsPolicies } from "./rules/kms";
import { tlsPolicies } from "./rules/tls";
import { iamPolicies } from "./rules/iam";
import { lambdaPolicies } from "./rules/lambda";
import { sqsPolicies } from "./rules/sqs";
import { dynamodbPolicies } from "./rules/dynamodb";
import { observabilityPolicies } from "./rules/observability";
import { apiGatewayPolicies } from "./rules/api-gateway";
import { tagPolicies } from "./rules/tags";

export const PACK_NAME = "event-ingestion-guardrails";

export const policies: GuardrailPolicy[] = [
    ...encryptionPolicies,
    ...kmsPolicies,
    ...tlsPolicies,
    ...iamPolicies,
    ...lambdaPolicies,
    ...sqsPolicies,
    ...dynamodbPolicies,
    ...observabilityPolicies,
    ...apiGatewayPolicies,
    ...tagPolicies,
];

export type { GuardrailPolicy } from "./lib/define";
