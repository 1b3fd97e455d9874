import * as pulumi from "@pulumi/pulumi";

/**
 * The `aliases` option that keeps a resource's URN from before a component grouped it: an alias to
 * its previous parent, given by URN. By URN rather than the Resource, which means the same to the
 * engine: Pulumi searches an alias's inputs for unknown values, and a Resource there pulls the whole
 * resource graph into that search (about a fifth of a mock deployment's CPU).
 *
 * @example
 * new aws.cloudwatch.Dashboard(name, args, { parent: this, ...previousParentAliases(args.previousParent) });
 */
export function previousParentAliases(previousParent: pulumi.Resource | undefined): Pick<pulumi.CustomResourceOptions, "aliases"> {
    return previousParent ? { aliases: [{ parent: previousParent.urn }] } : {};
}
