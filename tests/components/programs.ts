/**
 * One system of the program deployed under the same mocks as the whole program (sharedDeployment:
 * the stack's config with the test's changes, shared by every caller that asks for the same). A
 * test whose subject is one system under a custom config deploys that system, wired as index.ts
 * wires it (program.ts), at a fraction of the whole program's cost; the whole program stays the
 * subject of the tests on the stacks as they are and of the stack-wide ones (tags, names, regions).
 */
import * as path from "node:path";
import { sharedDeployment, type MockDeployment, type MockDeploymentOptions } from "../../local/offline/mock-deployment";

const FIXTURES = path.join(__dirname, "fixtures");

/** The email service, the keys and the alarm topic (tests/components/fixtures/email-service-program.ts). */
export function emailServiceDeployment(options: Omit<MockDeploymentOptions, "programPath">): Promise<MockDeployment> {
    return sharedDeployment({ ...options, programPath: path.join(FIXTURES, "email-service-program") });
}

/** The event pipeline, the keys and the alarm topic (tests/components/fixtures/event-pipeline-program.ts). */
export function eventPipelineDeployment(options: Omit<MockDeploymentOptions, "programPath">): Promise<MockDeployment> {
    return sharedDeployment({ ...options, programPath: path.join(FIXTURES, "event-pipeline-program") });
}
