/** The program's components; one file each. */
export * from "./shared/alarm-topic";
export * from "./shared/defaults";
export * from "./shared/encrypted-queue";
export * from "./shared/encryption-key";
export * from "./event-pipeline/event-access-policies";
export * from "./event-pipeline/event-processor-function";
export * from "./event-pipeline/event-store";
export * from "./shared/lambda-packaging";
export * from "./event-pipeline/pipeline-monitoring";
export * from "./event-pipeline/producer-roles";
export * from "./shared/service-function";
