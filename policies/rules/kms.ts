/** KMS keys: automatic rotation on, and the key-policy lockout safety check never bypassed. */
import { resourcePolicy, T } from "../lib/define";
import { isTrue, isUnknown, deferUntilKnown } from "../lib/values";

const group = "kms";

export const kmsRotation = resourcePolicy({
    name: "kms-key-rotation",
    description: "Customer managed KMS keys rotate automatically.",
    level: "mandatory",
    group,
    appliesTo: [T.kmsKey],
    remediationSteps: "Set enableKeyRotation: true (symmetric keys only; rotationPeriodInDays may shorten the default 365 days).",
    validate({ props, report }) {
        if (isUnknown(props.enableKeyRotation)) deferUntilKnown(props.enableKeyRotation);
        if (!isTrue(props.enableKeyRotation)) report("enableKeyRotation is not true.");
        const spec = props.customerMasterKeySpec ?? props.keySpec;
        if (typeof spec === "string" && spec !== "SYMMETRIC_DEFAULT") {
            report(`key spec ${spec} cannot rotate automatically; use a SYMMETRIC_DEFAULT key for data encryption.`);
        }
    },
});

export const kmsNoLockoutBypass = resourcePolicy({
    name: "kms-key-no-lockout-bypass",
    description: "KMS keys never set bypassPolicyLockoutSafetyCheck.",
    level: "mandatory",
    group,
    appliesTo: [T.kmsKey],
    remediationSteps: "Remove bypassPolicyLockoutSafetyCheck; fix the key policy so the account root keeps access.",
    validate({ props, report }) {
        if (isUnknown(props.bypassPolicyLockoutSafetyCheck)) deferUntilKnown(props.bypassPolicyLockoutSafetyCheck);
        if (isTrue(props.bypassPolicyLockoutSafetyCheck)) {
            report(
                "bypassPolicyLockoutSafetyCheck is true: a key policy that locks everyone out would be accepted and the key could become unmanageable.",
            );
        }
    },
});

export const kmsPolicies = [kmsRotation, kmsNoLockoutBypass];
