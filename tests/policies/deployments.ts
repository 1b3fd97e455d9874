/**
 * The real program deployed under mocks, once per stack per test process (sharedDeployment):
 * several policy test files need the same registered resources, and each deployment runs the whole
 * program. What callers get is frozen (clone first to change it: fixtures/resources.ts `clone`).
 */
import { MockDeployment, sharedDeployment } from "../../local/offline/mock-deployment";

export function deployedStack(stack: string): Promise<MockDeployment> {
    return sharedDeployment({ stack });
}
