/**
 * "Did you mean ...?" for the command lines: the known name a typo most likely meant,
 * by edit distance (fastest-levenshtein, the library the config validation uses for keys).
 */
import { closest, distance } from "fastest-levenshtein";

/**
 * The known name closest to `typo`, or undefined when none is close enough to be a typo of it
 * (at most 2 edits, or a quarter of the name's length, ignoring case).
 *
 * @example
 * closestName("reasn", ["reason", "limit"]); // "reason"
 * closestName("frobnicate", ["reason", "limit"]); // undefined
 */
export function closestName(typo: string, known: readonly string[]): string | undefined {
    if (known.length === 0) return undefined;
    const lower = typo.toLowerCase();
    const nearest = closest(
        lower,
        known.map((name) => name.toLowerCase()),
    );
    const index = known.findIndex((name) => name.toLowerCase() === nearest);
    if (index === -1) return undefined;
    return distance(lower, nearest) <= Math.max(2, Math.floor(nearest.length / 4)) ? known[index] : undefined;
}

/**
 * The sentence for an unknown option: the closest known one, or the list.
 *
 * @example
 * unknownOptionMessage("--reasn", ["reason", "limit"]); // 'unknown option "--reasn"; did you mean --reason?'
 */
export function unknownOptionMessage(raw: string, known: readonly string[]): string {
    const name = raw.replace(/^-+/, "").split("=")[0];
    const nearest = closestName(name, known);
    return nearest
        ? `unknown option ${JSON.stringify(raw)}; did you mean --${nearest}?`
        : `unknown option ${JSON.stringify(raw)} (options: ${known.map((option) => `--${option}`).join(", ")})`;
}
