/**
 * The functions the local pipeline runs, found by the Pulumi logical name index.ts
 * gives them. A logical name is part of the resource's URN, which
 * tests/components/urn-continuity.test.ts keeps fixed, so it names a function
 * more reliably than anything in its settings (an environment variable can move or
 * be renamed without the function changing). Constants only: topology.ts reads them
 * (`functionByLogicalName` lives there), so this module imports nothing.
 */

/** Logical names of the functions in index.ts: `EventProcessorFunction("event-processor")`, `EmailService("email")`'s `-api`, `-worker` and `-status`. */
export const FUNCTION_LOGICAL_NAMES = {
    eventProcessor: "event-processor",
    emailApi: "email-api",
    emailWorker: "email-worker",
    emailStatus: "email-status",
    /** `EmailService("email")`'s status notifications: the status table's stream → the status bus. */
    emailStatusNotify: "email-status-notify",
} as const;
