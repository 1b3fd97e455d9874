/**
 * The Chromium (or Chrome) the browser tests drive with playwright-core, found where users have one:
 * `CHROMIUM_PATH` when set, Playwright's own download (`npx playwright-core install chromium`),
 * then the platform's usual places (macOS: Google Chrome or Chromium in /Applications; Linux:
 * Debian's `chromium`, Ubuntu's `chromium-browser` and snap, Google Chrome).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { chromium } from "playwright-core";

/** What the search depends on (tests pass their own). */
export interface BrowserSearch {
    env: NodeJS.ProcessEnv;
    platform: NodeJS.Platform;
    home: string;
    /** Where `npx playwright-core install chromium` puts its Chromium for this playwright-core version. */
    playwrightChromium?: string;
    exists(file: string): boolean;
}

/** How to get a browser, for the error message and the docs. */
export const INSTALL_CHROMIUM =
    "Install one: `npx playwright-core install chromium` (any platform, into ~/.cache/ms-playwright or ~/Library/Caches/ms-playwright); " +
    "macOS: Google Chrome, or `brew install --cask chromium`; Debian: `sudo apt-get install chromium`; " +
    "Ubuntu: `sudo apt-get install chromium-browser` (a snap); or point CHROMIUM_PATH at a Chromium or Chrome executable.";

/** The places looked at, in order (CHROMIUM_PATH aside). */
export function browserCandidates(search: Pick<BrowserSearch, "platform" | "home" | "playwrightChromium">): string[] {
    const system =
        search.platform === "darwin"
            ? [
                  "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
                  "/Applications/Chromium.app/Contents/MacOS/Chromium",
                  path.join(search.home, "Applications/Google Chrome.app/Contents/MacOS/Google Chrome"),
                  path.join(search.home, "Applications/Chromium.app/Contents/MacOS/Chromium"),
              ]
            : [
                  "/usr/bin/chromium",
                  "/usr/bin/chromium-browser",
                  "/snap/bin/chromium",
                  "/usr/bin/google-chrome",
                  "/usr/bin/google-chrome-stable",
              ];
    return [...(search.playwrightChromium ? [search.playwrightChromium] : []), ...system];
}

/**
 * The browser executable to launch; throws an error that says where it looked and how to install one.
 *
 * @example
 * const browser = await chromium.launch({ executablePath: findChromium() });
 */
export function findChromium(search: BrowserSearch = defaultSearch()): string {
    const configured = search.env.CHROMIUM_PATH;
    if (configured) {
        if (search.exists(configured)) return configured;
        throw new Error(`CHROMIUM_PATH is ${JSON.stringify(configured)}, which does not exist. ${INSTALL_CHROMIUM}`);
    }
    const candidates = browserCandidates(search);
    const found = candidates.find((candidate) => search.exists(candidate));
    if (found) return found;
    throw new Error(`No Chromium or Chrome found (looked at: ${candidates.join(", ")}). ${INSTALL_CHROMIUM}`);
}

function defaultSearch(): BrowserSearch {
    let playwrightChromium: string | undefined;
    try {
        playwrightChromium = chromium.executablePath();
    } catch {
        playwrightChromium = undefined; // this playwright-core has no download for this platform
    }
    return { env: process.env, platform: process.platform, home: os.homedir(), playwrightChromium, exists: fs.existsSync };
}
