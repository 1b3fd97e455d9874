/**
 * Owner and cost-allocation tags on every taggable resource of the stack, from stack config.
 *
 * A stack transformation (applied by the SDK in-process, before a resource is registered)
 * rather than the provider's `defaultTags`: the tags are then part of each resource's inputs,
 * so the mocks, `npm run policy` and the policy pack at preview all see exactly what deploys,
 * and it reaches every child (CallbackFunction's role and function, the awsx classic metric
 * alarms, which are in-process components). `registerResourceTransform` runs in the engine,
 * which Pulumi's mocks do not emulate, so its effect could not be tested here.
 */
import * as pulumi from "@pulumi/pulumi";
import { TAGGABLE_TYPES } from "../../policies/lib/tags";

const TAGGABLE = new Set<string>(TAGGABLE_TYPES);

/**
 * `tags` merged into a taggable resource's props; the stack's tags win over a component's own.
 * Undefined for a type without `tags`.
 */
export function withStackTags(
    type: string,
    props: Record<string, unknown>,
    tags: Readonly<Record<string, string>>,
): Record<string, unknown> | undefined {
    if (!TAGGABLE.has(type) || Object.keys(tags).length === 0) return undefined;
    const own = props.tags;
    const merged =
        own === undefined || own === null
            ? { ...tags }
            : pulumi.Output.isInstance(own) || own instanceof Promise
              ? pulumi.output(own as pulumi.Input<Record<string, string>>).apply((ownTags) => ({ ...(ownTags ?? {}), ...tags }))
              : { ...(own as Record<string, string>), ...tags };
    return { ...props, tags: merged };
}

/**
 * Tags every taggable resource registered after this call. Call it before creating any resource.
 *
 * @example
 * registerStackTags({ owner: "payments-team", "cost-center": "cc-1234" });
 */
export function registerStackTags(tags: Readonly<Record<string, string>>): void {
    pulumi.runtime.registerStackTransformation((args) => {
        const props = withStackTags(args.type, args.props, tags);
        return props ? { props, opts: args.opts } : undefined;
    });
}
