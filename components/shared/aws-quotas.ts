/**
 * AWS quotas and grammars that config can push a deployment past, and how AWS measures
 * against them. Pure (no Pulumi, no I/O): config validation reports a breach at preview,
 * naming the key and the limit, instead of the deploy failing halfway.
 */

/**
 * Lambda: "Function environment variables: 4 KB, for all environment variables associated
 * with the function, in aggregate" (AWS Lambda Developer Guide, "Lambda quotas"). Lambda
 * measures the JSON of the variables map (its error quotes the "String measured").
 */
export const LAMBDA_ENVIRONMENT_MAX_BYTES = 4096;

/**
 * Bytes of a function's environment this program keeps for its fixed variables (resource names,
 * URLs, limits, the Powertools variables); config-driven values get the rest. A test measures the
 * fixed variables of every function under mocks against it.
 */
export const LAMBDA_ENVIRONMENT_FIXED_RESERVE_BYTES = 1024;

/**
 * IAM: "Role policy size cannot exceed 10,240 characters" for the inline policies of a role together;
 * IAM does not count white space (IAM User Guide, "IAM and AWS STS quotas").
 */
export const IAM_INLINE_POLICY_MAX_CHARACTERS_PER_ROLE = 10_240;

/**
 * IAM: "Role trust policy length: 2,048 characters" by default (adjustable up to 4,096 through
 * Service Quotas); white space not counted (IAM User Guide, "IAM and AWS STS quotas").
 */
export const IAM_ROLE_TRUST_POLICY_MAX_CHARACTERS = 2048;

/**
 * The size Lambda measures for an environment: the UTF-8 bytes of its variables map as JSON.
 *
 * @example
 * lambdaEnvironmentBytes({ A: "1" }); // 9 ('{"A":"1"}')
 */
export function lambdaEnvironmentBytes(variables: Readonly<Record<string, string>>): number {
    return Buffer.byteLength(JSON.stringify(variables), "utf8");
}

/**
 * The characters IAM counts for a policy document: its JSON without white space outside strings.
 *
 * @example
 * iamPolicyCharacters({ Version: "2012-10-17", Statement: [] }); // 36
 */
export function iamPolicyCharacters(document: unknown): number {
    return JSON.stringify(document).length;
}

/**
 * IAM reads `*` and `?` as wildcards in any segment of a resource ARN (IAM User Guide, "IAM JSON
 * policy elements: Resource": "You can use wildcard characters (* and ?) within any ARN segment"),
 * so a name that becomes part of a policy's `Resource` must not carry either.
 *
 * @example
 * iamWildcardIn("*@example.com"); // "*"
 * iamWildcardIn("shop@example.com"); // undefined
 */
export function iamWildcardIn(text: string): "*" | "?" | undefined {
    return text.includes("*") ? "*" : text.includes("?") ? "?" : undefined;
}
