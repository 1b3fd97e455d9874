/**
 * The browser tests find a Chromium or Chrome where users have one, and say how to install one
 * when there is none, instead of failing on a fixed Debian path.
 */
import { expect } from "chai";
import { findChromium, INSTALL_CHROMIUM } from "./chromium";

const MAC_CHROME = "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome";

function search(platform: NodeJS.Platform, present: string[], env: NodeJS.ProcessEnv = {}) {
    return {
        env,
        platform,
        home: "/Users/ada",
        playwrightChromium: "/cache/ms-playwright/chromium-1/chrome",
        exists: (f: string) => present.includes(f),
    };
}

describe("finding a browser for the browser tests", () => {
    it("uses CHROMIUM_PATH when set, and names it when it does not exist", () => {
        expect(findChromium(search("linux", ["/opt/chrome"], { CHROMIUM_PATH: "/opt/chrome" }))).to.equal("/opt/chrome");
        expect(() => findChromium(search("linux", ["/usr/bin/chromium"], { CHROMIUM_PATH: "/nope" }))).to.throw(
            /CHROMIUM_PATH is "\/nope"/,
        );
    });

    it("finds Google Chrome on a Mac, Ubuntu's snap and Debian's chromium, and Playwright's own download first", () => {
        expect(findChromium(search("darwin", [MAC_CHROME]))).to.equal(MAC_CHROME);
        expect(findChromium(search("darwin", ["/Users/ada/Applications/Chromium.app/Contents/MacOS/Chromium"]))).to.match(/Users\/ada/);
        expect(findChromium(search("linux", ["/snap/bin/chromium"]))).to.equal("/snap/bin/chromium");
        expect(findChromium(search("linux", ["/usr/bin/chromium", "/snap/bin/chromium"]))).to.equal("/usr/bin/chromium");
        expect(findChromium(search("linux", ["/usr/bin/chromium", "/cache/ms-playwright/chromium-1/chrome"]))).to.equal(
            "/cache/ms-playwright/chromium-1/chrome",
        );
    });

    it("without one, says where it looked and how to install one on each platform", () => {
        expect(() => findChromium(search("darwin", []))).to.throw(/No Chromium or Chrome found \(looked at: .*Google Chrome\.app/);
        for (const advice of [
            "npx playwright-core install chromium",
            "brew install --cask chromium",
            "apt-get install chromium",
            "CHROMIUM_PATH",
        ])
            expect(INSTALL_CHROMIUM).to.include(advice);
        expect(() => findChromium(search("linux", []))).to.throw(INSTALL_CHROMIUM);
    });
});
