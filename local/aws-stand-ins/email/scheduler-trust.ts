/**
 * The local EventBridge Scheduler stand-in assumes a schedule's execution role the way
 * the service does: as `scheduler.amazonaws.com`, with `aws:SourceArn` = the schedule
 * GROUP's ARN and `aws:SourceAccount` = the account ("Confused deputy prevention" in the
 * EventBridge Scheduler User Guide). The role's deployed trust policy is evaluated with
 * the IAM simulator, so a trust policy that would lock the real service out locks the
 * local one out too.
 */
import { runSimulation, type Simulation } from "@cloud-copilot/iam-simulate";

export interface SchedulerAssumeRoleRequest {
    roleArn: string;
    /** `arn:<partition>:scheduler:<region>:<account>:schedule-group/<group>` */
    sourceArn: string;
    sourceAccount: string;
}

export { scheduleGroupArn } from "../../../components/email-service/email-iam";

/**
 * True when the trust policy lets EventBridge Scheduler assume the role for `request`.
 *
 * @example
 * await schedulerMayAssumeRole(role.assumeRolePolicy, { roleArn, sourceArn: scheduleGroupArn(scope, group), sourceAccount: scope.accountId });
 */
export async function schedulerMayAssumeRole(trustPolicy: string | object, request: SchedulerAssumeRoleRequest): Promise<boolean> {
    const simulation = {
        identityPolicies: [],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: typeof trustPolicy === "string" ? JSON.parse(trustPolicy) : trustPolicy,
        request: {
            principal: "scheduler.amazonaws.com",
            action: "sts:AssumeRole",
            resource: { resource: request.roleArn, accountId: request.roleArn.split(":")[4] },
            contextVariables: {
                "aws:SourceArn": request.sourceArn,
                "aws:SourceAccount": request.sourceAccount,
                "aws:SecureTransport": "true",
            },
        },
    } as unknown as Simulation;
    const result = await runSimulation(simulation, {});
    if (result.resultType === "error")
        throw new Error(`the trust policy of ${request.roleArn} could not be evaluated: ${JSON.stringify(result.errors)}`);
    return result.overallResult === "Allowed";
}
