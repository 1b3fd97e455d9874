/** Tags: owner and cost-allocation tags on every taggable resource (mandatory). */
import { resourcePolicy } from "../lib/define";
import { REQUIRED_TAG_KEYS, TAGGABLE_TYPES } from "../lib/tags";
import { isUnknown } from "../lib/values";

const group = "tags";

export const requiredTags = resourcePolicy({
    name: "required-tags",
    description: `Every taggable resource carries non-empty \`${REQUIRED_TAG_KEYS.owner}\` and \`${REQUIRED_TAG_KEYS.costCenter}\` tags (who answers for it, who pays for it).`,
    level: "mandatory",
    group,
    appliesTo: TAGGABLE_TYPES,
    remediationSteps:
        "Set the stack's owner and cost centre: `pulumi config set owner <team>` and `pulumi config set costCenter <code>` (index.ts tags every resource from them).",
    validate({ props, report, defer }) {
        const tags = props.tags;
        if (isUnknown(tags)) return defer(tags);
        const missing: string[] = [];
        for (const key of Object.values(REQUIRED_TAG_KEYS)) {
            const value = tags?.[key];
            if (isUnknown(value)) defer(value);
            else if (typeof value !== "string" || value.trim() === "") missing.push(key);
        }
        if (missing.length > 0)
            report(`has no ${missing.map((k) => `"${k}"`).join(" or ")} tag: nobody answers for it or pays for it in Cost Explorer.`);
    },
});

export const tagPolicies = [requiredTags];
