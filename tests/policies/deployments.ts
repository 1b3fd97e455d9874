/**
 * The real program deployed under mocks, once per stack per test process: several policy test
 * files need the same registered resources, and each deployment runs the whole program.
 * Callers must not mutate what they get (clone first: fixtures/resources.ts `clone`).
 */
import { deployUnderMocks, MockDeployment } from "../../local/offline/mock-deployment";

const cache = new Map<string, Promise<MockDeployment>>();

export function deployedStack(stack: string): Promise<MockDeployment> {
    let deployment = cache.get(stack);
    if (!deployment) {
        deployment = deployUnderMocks({ stack });
        cache.set(stack, deployment);
        deployment.catch(() => cache.delete(stack));
    }
    return deployment;
}
