import * as fs from "node:fs";

/**
 * The local IPv4/IPv6 addresses on which some process listens on `port`, read from
 * /proc/net/tcp{,6} (Linux). Used to prove that emulators bind to loopback only.
 */
export function listeningAddresses(port: number): string[] {
    const found: string[] = [];
    for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
        if (!fs.existsSync(file)) continue;
        for (const line of fs.readFileSync(file, "utf8").split("\n").slice(1)) {
            const cols = line.trim().split(/\s+/);
            if (cols.length < 4 || cols[3] !== "0A") continue; // 0A = LISTEN
            const [hexAddr, hexPort] = cols[1].split(":");
            if (parseInt(hexPort, 16) !== port) continue;
            found.push(decodeAddress(hexAddr));
        }
    }
    return found;
}

function decodeAddress(hex: string): string {
    if (hex.length === 8) {
        return [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join(".");
    }
    if (/^0+$/.test(hex)) return "::";
    if (hex === "00000000000000000000000001000000") return "::1";
    return hex;
}
