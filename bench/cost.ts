/**
 * Cost model: what one million valid events cost at the `dev` stack's own
 * settings (memory, architecture, batch size, queue type, KMS data-key reuse,
 * log retention, tracing), priced from the counts the handler bench measures
 * (the same run when `--mode handler,cost`), next to the floor: one DynamoDB
 * write plus the event's share of the SQS send, receive and delete.
 * Prices, their sources and the modelled assumptions: bench/support/pricing.ts.
 *
 * costRatio = costPerMillionUsd / floorPerMillionUsd (target <= 1.10)
 *
 * With the opt-in arrival index (`eventPollingIndex`, for a polling Sender) every event also
 * writes an index entry; its write units are measured on DynamoDB Local (bench/support/arrival-index.ts):
 * costRatioWithPollingIndex = (costPerMillionUsd + the index's lines) / floorPerMillionUsd (no target:
 * the operator's choice, priced).
 *
 * Run alone: `npm run bench -- --mode cost [--events 5000] [--json]`
 */
import { measureHandler, options as handlerOptions } from "./handler";
import type { BenchOption } from "./index";
import { measureArrivalIndex, type ArrivalIndexMeasurement } from "./support/arrival-index";
import { CostLine, MODEL_ASSUMPTIONS, priceArrivalIndex, priceMillionEvents, StackCostSettings } from "./support/pricing";
import { benchDeployment, processorCostSettings } from "./support/stack";

export const description =
    "modelled cost per million valid events (us-east-1 list prices) at the stack's settings, from measured counts, vs the floor";
export const options: Readonly<Record<string, BenchOption>> = { events: handlerOptions.events, rounds: handlerOptions.rounds };

/** The target for costRatio. */
export const COST_RATIO_TARGET = 1.1;

export interface CostFigures {
    costPerMillionUsd: number;
    floorPerMillionUsd: number;
    costRatio: number;
    costRatioTarget: number;
    costLines: CostLine[];
    costStackSettings: StackCostSettings;
    costAssumptions: typeof MODEL_ASSUMPTIONS;
    /** The same million events with the arrival index on (eventPollingIndex). */
    costPerMillionWithPollingIndexUsd: number;
    costRatioWithPollingIndex: number;
    pollingIndexLines: CostLine[];
    pollingIndexMeasured: ArrivalIndexMeasurement;
}

const round4 = (n: number) => Math.round(n * 10_000) / 10_000;

/**
 * @example
 * const { costPerMillionUsd, costRatio } = await run({ events: 5000 });
 */
export async function run(opts: { events?: number; rounds?: number } = {}): Promise<CostFigures> {
    const settings = processorCostSettings(await benchDeployment());
    // Measured at the stack's batch size; the same options as `--mode handler` reuse that run.
    const measured = await measureHandler({ ...opts, batchSize: settings.batchSize });
    const breakdown = priceMillionEvents(measured, settings);
    const indexMeasured = await measureArrivalIndex();
    const indexLines = priceArrivalIndex(indexMeasured);
    const withIndex = breakdown.costPerMillionUsd + indexLines.reduce((sum, line) => sum + line.usdPerMillion, 0);
    return {
        costPerMillionUsd: round4(breakdown.costPerMillionUsd),
        floorPerMillionUsd: round4(breakdown.floorPerMillionUsd),
        costRatio: Math.round(breakdown.costRatio * 1000) / 1000,
        costRatioTarget: COST_RATIO_TARGET,
        costLines: breakdown.lines.map((line) => ({ ...line, usdPerMillion: round4(line.usdPerMillion) })),
        costStackSettings: settings,
        costAssumptions: MODEL_ASSUMPTIONS,
        costPerMillionWithPollingIndexUsd: round4(withIndex),
        costRatioWithPollingIndex: Math.round((withIndex / breakdown.floorPerMillionUsd) * 1000) / 1000,
        pollingIndexLines: indexLines.map((line) => ({ ...line, usdPerMillion: round4(line.usdPerMillion) })),
        pollingIndexMeasured: indexMeasured,
    };
}

/** Human-readable lines: each line item next to the floor. */
export function format(f: CostFigures): string[] {
    const s = f.costStackSettings;
    const usd = (n: number) => `$${n.toFixed(4).padStart(7)}`;
    return [
        `cost per million valid events, us-east-1 list prices, dev stack: ${s.memoryMb} MB ${s.architecture}, batch ${s.batchSize}, ` +
            `${s.queueFifo ? "FIFO" : "standard"} queue, KMS data key reused ${s.kmsDataKeyReusePeriodSeconds} s, logs kept ${s.logRetentionDays} d, tracing ${s.tracingActive ? "active" : "off"}`,
        `  ${"line item".padEnd(50)} ${"cost".padStart(8)}  ${"floor".padStart(8)}  basis`,
        ...f.costLines.map(
            (line) =>
                `  ${line.item.padEnd(50)} ${usd(line.usdPerMillion)}  ${line.floor ? usd(line.usdPerMillion) : " ".repeat(8)}  ${line.basis}`,
        ),
        `  ${"total".padEnd(50)} ${usd(f.costPerMillionUsd)}  ${usd(f.floorPerMillionUsd)}`,
        `costRatio       ${f.costRatio.toFixed(3)}  (cost / floor, target <= ${f.costRatioTarget.toFixed(2)}: ${f.costRatio <= f.costRatioTarget ? "met" : "MISSED"})`,
        `with the arrival index for polling (eventPollingIndex on; measured on ${f.pollingIndexMeasured.events} events, table write units per event ${f.pollingIndexMeasured.tableWriteUnitsPerEvent}):`,
        ...f.pollingIndexLines.map((line) => `  ${line.item.padEnd(50)} ${usd(line.usdPerMillion)}            ${line.basis}`),
        `  ${"total with the index".padEnd(50)} ${usd(f.costPerMillionWithPollingIndexUsd)}  ${usd(f.floorPerMillionUsd)}`,
        `costRatioWithPollingIndex ${f.costRatioWithPollingIndex.toFixed(3)}  (cost with the index / floor; no target: the operator's choice)`,
    ];
}
