/**
 * Prints the URNs the program registers for a stack, in the form the engine gives
 * them (a child's type qualified with its parent's whole type chain), sorted, as the JSON that
 * tests/components/fixtures/urns.<stack>.json holds. The fixture records what
 * deployed stacks have; refresh it only when a release has shipped, never to
 * make the continuity test pass.
 *
 *   npm run urns -- dev > tests/components/fixtures/urns.dev.json
 */
import { deployUnderMocks } from "../local/offline/mock-deployment";

async function main(): Promise<void> {
    const stack = process.argv[2] ?? "dev";
    const deployment = await deployUnderMocks({ stack });
    const urns = deployment.registrations.map((registration) => registration.urn).sort();
    process.stdout.write(`${JSON.stringify(urns, null, 2)}\n`);
}

main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
});
