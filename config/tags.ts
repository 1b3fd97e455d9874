/**
 * Owner and cost-allocation tags (keys `event-ingestion:owner`, `event-ingestion:costCenter`):
 * every taggable resource carries them (program.ts registers the stack transform), and the
 * policy pack's mandatory `required-tags` rule blocks a deploy without them.
 * AWS tag values: up to 256 Unicode letters, digits, spaces and `_ . : / = + - @`
 * ("Tagging best practices", AWS Whitepaper; "Tag naming limits and requirements").
 */
import * as v from "valibot";
import { REQUIRED_TAG_KEYS } from "../policies/lib/tags";
import type { ConfigSection } from "./section";

export interface TagsConfig {
    /** Team or person accountable for the stack's resources; the `owner` tag. @default none (the pack blocks the deploy) */
    owner?: string;
    /** Cost centre the resources are billed to; the `cost-center` tag (activate it as a cost allocation tag). @default none */
    costCenter?: string;
}

const TAG_VALUE = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,256}$/u;

/** The tags section. */
export function tagsSection(): ConfigSection<TagsConfig> {
    const allowed = "must be 1-256 letters, digits, spaces or _ . : / = + - @ (an AWS tag value)";
    const tagValue = v.pipe(v.string(allowed), v.regex(TAG_VALUE, allowed));
    const schema = v.object({ owner: v.optional(tagValue), costCenter: v.optional(tagValue) });
    return {
        keys: Object.keys(schema.entries),
        descriptions: {
            owner: "Team or person accountable for the stack: the `owner` tag on every taggable resource. The policy pack blocks a deploy without it.",
            costCenter:
                "Cost centre the stack is billed to: the `cost-center` tag on every taggable resource (activate it as a cost allocation tag). The policy pack blocks a deploy without it.",
        } satisfies Record<keyof TagsConfig, string>,
        schema: schema as v.GenericSchema<unknown, TagsConfig>,
    };
}

/**
 * The tags every taggable resource gets from the stack's config; empty when none is set.
 *
 * @example
 * stackTags({ owner: "payments-team", costCenter: "cc-1234" }); // { owner: "payments-team", "cost-center": "cc-1234" }
 */
export function stackTags(config: TagsConfig): Record<string, string> {
    return {
        ...(config.owner ? { [REQUIRED_TAG_KEYS.owner]: config.owner } : {}),
        ...(config.costCenter ? { [REQUIRED_TAG_KEYS.costCenter]: config.costCenter } : {}),
    };
}
