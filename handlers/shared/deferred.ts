/**
 * Values built on first use. The email worker's rare paths (large or scheduled content
 * in S3, deferred sends on EventBridge Scheduler, the SMTP failover's secret) each need an
 * AWS SDK client that costs 3–57 ms to load; building them when first needed keeps that out
 * of every cold start that does not take those paths (`npm run bench -- --mode artifact`).
 */

/** A value, or a function that returns it (called on each use: pass a {@link once}). */
export type Deferred<T extends object> = T | (() => T);

/**
 * The value of a {@link Deferred}.
 *
 * @example
 * await resolveDeferred(options.client).send(command);
 */
export function resolveDeferred<T extends object>(value: Deferred<T>): T {
    return typeof value === "function" ? (value as () => T)() : value;
}

/**
 * A builder that runs once, on the first call, and returns the same value after.
 *
 * @example
 * const client = once(() => new S3Client({}));
 */
export function once<T>(build: () => T): () => T {
    let built: { value: T } | undefined;
    return () => (built ??= { value: build() }).value;
}
