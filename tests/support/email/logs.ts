/**
 * Captures every line written to stdout/stderr while an email test file runs
 * (Powertools Logger, console, the SDKs, nodemailer, the artifact's own logger),
 * so a test can assert that no PII was ever written.
 */
type Write = typeof process.stdout.write;

const captured: string[] = [];
let depth = 0;
let originals: { out: Write; err: Write } | undefined;

function tee(original: Write, stream: NodeJS.WriteStream): Write {
    return function (chunk: unknown, ...rest: unknown[]) {
        const text = typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8");
        captured.push(text);
        // Structured log lines (JSON) are kept quiet unless EMAIL_TEST_LOGS=1; the test
        // reporter's output passes through.
        if (text.trimStart().startsWith("{") && process.env.EMAIL_TEST_LOGS !== "1") {
            const callback = rest.find((r) => typeof r === "function") as (() => void) | undefined;
            callback?.();
            return true;
        }
        return (original as (...a: unknown[]) => boolean).call(stream, chunk, ...rest);
    } as Write;
}

/** Starts capturing (nested calls are counted). */
export function startLogCapture(): void {
    if (depth++ > 0) return;
    originals = { out: process.stdout.write, err: process.stderr.write };
    process.stdout.write = tee(originals.out, process.stdout);
    process.stderr.write = tee(originals.err, process.stderr);
}

export function stopLogCapture(): void {
    if (--depth > 0 || !originals) return;
    process.stdout.write = originals.out;
    process.stderr.write = originals.err;
    originals = undefined;
}

/** Everything captured so far in this process. */
export function capturedLines(): string[] {
    return captured
        .join("")
        .split("\n")
        .filter((line) => line.trim() !== "");
}

/** Registers mocha hooks that capture logs for the enclosing describe. */
export function captureLogsInThisSuite(): void {
    before(() => startLogCapture());
    after(() => stopLogCapture());
}

/** The lines (if any) that contain one of `needles`, case-insensitively. */
export function linesContaining(lines: string[], needles: readonly string[]): string[] {
    const lowered = needles.map((n) => n.toLowerCase());
    return lines.filter((line) => lowered.some((n) => line.toLowerCase().includes(n)));
}
