/**
 * The functions the local pipeline runs, found by the Pulumi logical name index.ts
 * gives them. A logical name is part of the resource's URN, which
 * tests/components/urn-continuity.test.ts keeps fixed, so it names a function
 * more reliably than anything in its settings (an environment variable can move or
 * be renamed without the function changing).
 */
import type { FunctionSpec, LocalTopology } from "./topology";

/** Logical names of the functions in index.ts: `EventProcessorFunction("event-processor")`, `EmailService("email")`'s `-api` and `-worker`. */
export const FUNCTION_LOGICAL_NAMES = {
    eventProcessor: "event-processor",
    emailApi: "email-api",
    emailWorker: "email-worker",
} as const;

/**
 * The function registered under `logicalName`, or undefined when the stack has none.
 *
 * @example
 * const processor = functionByLogicalName(topology, FUNCTION_LOGICAL_NAMES.eventProcessor);
 */
export function functionByLogicalName(topology: Pick<LocalTopology, "functions">, logicalName: string): FunctionSpec | undefined {
    return topology.functions.find((fn) => fn.logicalName === logicalName);
}
