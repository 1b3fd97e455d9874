/**
 * Escape hatches in the awsx manner: a shared block takes a resource's native arguments
 * (`queueArgs`, `functionArgs`, `roleArgs`, ...) and merges them over its secure defaults, so a
 * caller can set what the block does not model without forking it. What is given wins; `tags` are
 * merged key by key, so a block's own tag (e.g. the queue-role tag the policy pack reads) stays
 * unless the override names it. The policy pack checks the merged result like any other resource:
 * an override that weakens a secured setting fails the preview.
 */
import * as pulumi from "@pulumi/pulumi";

type Tags = pulumi.Input<Record<string, pulumi.Input<string>> | undefined>;

/**
 * `defaults` with `native` merged over them; tags merged key by key (the override's win).
 *
 * @example
 * overNativeArgs({ delaySeconds: 0, tags: { role: "source" } }, { delaySeconds: 5, tags: { team: "orders" } });
 * // { delaySeconds: 5, tags: { role: "source", team: "orders" } }
 */
export function overNativeArgs<T extends { tags?: Tags }>(defaults: T, native: Partial<T> | undefined): T {
    if (!native) return defaults;
    const merged = { ...defaults, ...native };
    if (native.tags !== undefined && defaults.tags !== undefined) merged.tags = mergeTags(defaults.tags, native.tags);
    return merged;
}

/** Key-by-key union of two tag maps; plain when both are plain, an Output otherwise. */
function mergeTags(base: Tags, extra: Tags): Tags {
    const plain = (tags: Tags): tags is Record<string, pulumi.Input<string>> | undefined =>
        !pulumi.Output.isInstance(tags) && !(tags instanceof Promise);
    if (plain(base) && plain(extra)) return { ...base, ...extra };
    return pulumi.all([base, extra]).apply(([a, b]) => ({ ...(a ?? {}), ...(b ?? {}) }));
}
