/**
 * URN continuity: which URNs of an earlier deployment a new program still claims,
 * directly or through `aliases`. The engine matches old state to new resources
 * by URN; an unclaimed old URN is deleted and its replacement created anew, which
 * for a queue or a table means data loss. This follows the engine's alias rules:
 * an alias spec's omitted fields default to the resource's own, and children
 * inherit every alias of their parent (the parent's type appears in the child's
 * URN as `ParentType$ChildType`).
 */
import type { RegisteredUrn } from "../../local/offline/mock-deployment";

const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

/** The URN the engine gives a resource of `type` and `name` under `parentUrn`. */
export function composeUrn(stack: string, project: string, type: string, name: string, parentUrn?: string): string {
    const parentType = parentUrn?.split("::")[2];
    // Children of the root stack carry no parent type in their URN.
    const qualifiedType = parentType && parentType !== ROOT_STACK_TYPE ? `${parentType}$${type}` : type;
    return `urn:pulumi:${stack}::${project}::${qualifiedType}::${name}`;
}

/** Every URN each registration answers to: its own and all alias-derived ones. */
export function claimedUrns(registrations: readonly RegisteredUrn[], stack: string, project: string): Map<string, Set<string>> {
    const byUrn = new Map(registrations.map((registration) => [registration.urn, registration]));
    const claimed = new Map<string, Set<string>>();

    const claimsOf = (registration: RegisteredUrn): Set<string> => {
        const known = claimed.get(registration.urn);
        if (known) return known;
        const parent = registration.parent ? byUrn.get(registration.parent) : undefined;
        const parentUrns: Array<string | undefined> = parent ? [...claimsOf(parent)] : [registration.parent];
        const urns = new Set<string>([registration.urn]);
        for (const parentUrn of parentUrns) urns.add(composeUrn(stack, project, registration.type, registration.name, parentUrn));
        for (const alias of registration.aliases) {
            if (alias.urn) {
                urns.add(alias.urn);
                continue;
            }
            const spec = alias.spec ?? {};
            const parents = spec.noParent ? [undefined] : spec.parentUrn ? [spec.parentUrn] : parentUrns;
            for (const parentUrn of parents) {
                urns.add(
                    composeUrn(
                        spec.stack ?? stack,
                        spec.project ?? project,
                        spec.type ?? registration.type,
                        spec.name ?? registration.name,
                        parentUrn,
                    ),
                );
            }
        }
        claimed.set(registration.urn, urns);
        return urns;
    };

    for (const registration of registrations) claimsOf(registration);
    return claimed;
}

/**
 * Old URNs that no new registration claims (they would be deleted), and old
 * URNs claimed by more than one (the engine refuses an ambiguous alias).
 */
export function urnContinuity(
    baseline: readonly string[],
    registrations: readonly RegisteredUrn[],
    stack: string,
    project: string,
): { unclaimed: string[]; ambiguous: string[] } {
    const claimants = new Map<string, string[]>();
    for (const [urn, urns] of claimedUrns(registrations, stack, project)) {
        for (const old of urns) claimants.set(old, [...(claimants.get(old) ?? []), urn]);
    }
    return {
        unclaimed: baseline.filter((urn) => !claimants.has(urn)),
        ambiguous: baseline.filter((urn) => (claimants.get(urn)?.length ?? 0) > 1),
    };
}
