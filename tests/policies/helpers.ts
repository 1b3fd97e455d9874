import { expect } from "chai";
import { evaluatePack, Evaluation, EvaluateOptions, PlainResource } from "../../policies/testing";

export async function evaluate(resources: PlainResource[], options: EvaluateOptions = {}): Promise<Evaluation> {
    return evaluatePack(resources, options);
}

/** Names of the policies that reported violations (sorted, unique). */
export function violatedPolicies(evaluation: Evaluation, level?: "mandatory" | "advisory"): string[] {
    return [...new Set(evaluation.violations.filter((v) => !level || v.enforcementLevel === level).map((v) => v.policy))].sort();
}

/** Asserts that exactly `policy` (and no other) reported, and returns its messages. */
export function expectOnly(evaluation: Evaluation, policy: string): string[] {
    expect(violatedPolicies(evaluation), evaluation.violations.map((v) => `${v.policy}: ${v.message}`).join("\n")).to.deep.equal([policy]);
    return evaluation.violations.map((v) => v.message);
}

export function expectClean(evaluation: Evaluation): void {
    expect(evaluation.violations.map((v) => `${v.policy}: ${v.message}`)).to.deep.equal([]);
    expect(evaluation.deferred).to.deep.equal([]);
}
