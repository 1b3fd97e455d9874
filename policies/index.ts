/**
 * The CrossGuard entry point: `pulumi preview --policy-pack policies`.
 *
 * Constructing a PolicyPack starts the analyzer's gRPC server (one per process), so this file
 * does only that. The rules live in ./policies.ts; the configuration guard stops pack config
 * from relaxing mandatory rules (see ./lib/enforcement.ts and docs/policies.md).
 */
import { PolicyPack } from "@pulumi/policy";
import { PACK_NAME, policies } from "./policies";
import { installConfigurationGuard } from "./lib/enforcement";

const verifyGuard = installConfigurationGuard(policies);
new PolicyPack(PACK_NAME, { policies, enforcementLevel: "mandatory" });
verifyGuard();
