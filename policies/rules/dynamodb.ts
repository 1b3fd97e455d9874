/** DynamoDB: point-in-time recovery (mandatory), deletion protection (advisory). */
import { resourcePolicy, T } from "../lib/define";
import { isTrue, isUnknown, deferUntilKnown } from "../lib/values";

const group = "dynamodb";

export const dynamodbPitr = resourcePolicy({
    name: "dynamodb-point-in-time-recovery",
    description: "DynamoDB tables have point-in-time recovery on.",
    level: "mandatory",
    group,
    appliesTo: [T.dynamoTable],
    remediationSteps: "Set pointInTimeRecovery: { enabled: true }.",
    validate({ props, report }) {
        const pitr = props.pointInTimeRecovery;
        if (isUnknown(pitr)) deferUntilKnown(pitr);
        if (isUnknown(pitr?.enabled)) deferUntilKnown(pitr.enabled);
        if (!isTrue(pitr?.enabled))
            report("pointInTimeRecovery.enabled is not true: the table cannot be restored after a bad write or delete.");
    },
});

export const dynamodbDeletionProtection = resourcePolicy({
    name: "dynamodb-deletion-protection",
    description: "DynamoDB tables have deletion protection on (advisory: throwaway stacks may turn it off).",
    level: "advisory",
    group,
    appliesTo: [T.dynamoTable],
    remediationSteps: "Set deletionProtectionEnabled: true for long-lived stacks.",
    validate({ props, report }) {
        if (isUnknown(props.deletionProtectionEnabled)) deferUntilKnown(props.deletionProtectionEnabled);
        if (!isTrue(props.deletionProtectionEnabled)) report("deletionProtectionEnabled is not true.");
    },
});

export const dynamodbPolicies = [dynamodbPitr, dynamodbDeletionProtection];
