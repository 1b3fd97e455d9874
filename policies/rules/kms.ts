/** KMS keys: automatic rotation on, and the key-policy lockout safety check never bypassed. */
import { resourcePolicy, T } from "../lib/define";
import { isTrue, isUnknown, deferUntilKnown } from "../lib/values";

const group = "kms";

/** HMAC key specs: KMS cannot rotate them, and a GENERATE_VERIFY_MAC key encrypts nothing. */
const HMAC_KEY_SPECS: ReadonlySet<string> = new Set(["HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512"]);

export const kmsRotation = resourcePolicy({
    name: "kms-key-rotation",
    description: "Customer managed KMS keys rotate automatically (HMAC keys, which encrypt nothing and KMS cannot rotate, excepted).",
    level: "mandatory",
    group,
    appliesTo: [T.kmsKey],
    remediationSteps:
        "Set enableKeyRotation: true (symmetric keys only; rotationPeriodInDays may shorten the default 365 days). A MAC key needs keyUsage GENERATE_VERIFY_MAC with an HMAC_* spec.",
    validate({ props, report }) {
        const spec = props.customerMasterKeySpec ?? props.keySpec;
        // AWS KMS API Reference, "EnableKeyRotation": automatic rotation is supported only on symmetric encryption
        // keys, not on HMAC keys. A MAC key (GENERATE_VERIFY_MAC, HMAC_*) cannot encrypt data, so it holds nothing to re-key.
        if (isUnknown(props.keyUsage)) deferUntilKnown(props.keyUsage);
        if (props.keyUsage === "GENERATE_VERIFY_MAC" && typeof spec === "string" && HMAC_KEY_SPECS.has(spec)) {
            if (isTrue(props.enableKeyRotation)) report("enableKeyRotation is true on an HMAC key, which KMS cannot rotate.");
            return;
        }
        if (isUnknown(props.enableKeyRotation)) deferUntilKnown(props.enableKeyRotation);
        if (!isTrue(props.enableKeyRotation)) report("enableKeyRotation is not true.");
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
