/** The program's components; one file each. */
export * from "./alarm-topic";
export * from "./defaults";
export * from "./encrypted-queue";
export * from "./encryption-key";
export * from "./event-access-policies";
export * from "./event-processor-function";
export * from "./event-store";
export * from "./lambda-packaging";
export * from "./pipeline-monitoring";
export * from "./producer-roles";
