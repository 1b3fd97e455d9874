/**
 * Text from a message (its body, attributes, reason, detail) on an operator's terminal. A message
 * is anyone's input: a control character (C0, DEL, C1: ANSI escape sequences, carriage returns that
 * overwrite a line), a bidirectional override (U+202E and friends: "Trojan Source" reordering), a
 * zero-width or other format character, a line separator or a lone surrogate could rewrite or hide
 * what the operator reads. Each is shown as a visible JSON-style `\uXXXX` escape instead.
 */

/** Unicode general categories Cc (controls), Cf (format, incl. bidi and zero-width), Zl, Zp, and lone surrogates (Cs). */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}]/gu;

/**
 * `text` with every character that could act on a terminal shown as `\uXXXX` (UTF-16 units, so the
 * result is still valid inside a JSON string). Newlines too: call it per line for multi-line output.
 *
 * @example
 * terminalSafe("ok\u001b[2Jgone\u202Eevil"); // "ok\\u001b[2Jgone\\u202eevil"
 */
export function terminalSafe(text: string): string {
    return text.replace(UNSAFE, (character) =>
        [...Array(character.length).keys()].map((i) => `\\u${character.charCodeAt(i).toString(16).padStart(4, "0")}`).join(""),
    );
}

/**
 * Multi-line output made safe line by line: the tool's own line breaks stay, everything else is escaped.
 *
 * @example
 * io.out(terminalSafeLines(JSON.stringify(value, null, 2)));
 */
export function terminalSafeLines(text: string): string {
    return text.split("\n").map(terminalSafe).join("\n");
}

/**
 * How deep `json` nests arrays and objects, read without parsing or recursion (so any depth is safe
 * to measure); brackets inside strings do not count.
 *
 * @example
 * jsonNestingDepth('{"a":[1,{"b":"]"}]}'); // 3
 */
export function jsonNestingDepth(json: string): number {
    let depth = 0;
    let deepest = 0;
    let inString = false;
    for (let i = 0; i < json.length; i++) {
        const character = json[i];
        if (inString) {
            if (character === "\\") i++;
            else if (character === '"') inString = false;
        } else if (character === '"') inString = true;
        else if (character === "[" || character === "{") deepest = Math.max(deepest, ++depth);
        else if (character === "]" || character === "}") depth--;
    }
    return deepest;
}
