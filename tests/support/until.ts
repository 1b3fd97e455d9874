/** How long {@link until} polls, and how often. */
export interface UntilOptions {
    /** @default 30_000 */
    timeoutMs?: number;
    /** @default 100 */
    intervalMs?: number;
}

/**
 * Polls `probe` until it yields a value other than `undefined` or `false`, and returns that value.
 * Emulators and stand-ins settle asynchronously (a stream reader delivers after the write is
 * readable), so a test waits for each observable effect rather than checking it once.
 *
 * @example
 * const item = await until("the event to be stored", async () => (await getItem(key)) ?? undefined);
 * await until("the stream delivery", () => sender.delivered.length > 0);
 *
 * @throws Error naming `what` when `timeoutMs` passes first.
 */
export async function until<T>(
    what: string,
    probe: () => T | undefined | false | Promise<T | undefined | false>,
    options: UntilOptions = {},
): Promise<T> {
    const { timeoutMs = 30_000, intervalMs = 100 } = options;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const value = await probe();
        if (value !== undefined && value !== false) return value;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
}
