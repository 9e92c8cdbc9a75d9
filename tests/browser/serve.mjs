// A page served by `renga serve` follows the author's saves in a real
// browser: node serve.mjs URL CHAPTER.md
//
// Opens URL in headless Chromium, scrolls down, saves an edit to CHAPTER.md
// and waits for the page to reload by itself with the new text at the same
// place; then saves a broken chapter and waits for the error over the page,
// and saves the original again and waits for the error to go.
// Exits 1 on any finding, printing it.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import puppeteer from "puppeteer-core";

const [url, chapter] = process.argv.slice(2);
if (!url || !chapter) {
  console.error("usage: node serve.mjs URL CHAPTER.md");
  process.exit(2);
}
const chromium = execFileSync("sh", ["-c", "command -v chromium"]).toString().trim();
const profile = mkdtempSync(path.join(tmpdir(), "renga-chromium-"));
const browser = await puppeteer.launch({
  executablePath: chromium,
  userDataDir: profile,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
let failed = false;
const fail = (message) => {
  failed = true;
  console.log(`FAIL ${message}`);
};
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 600 });
  await page.goto(url, { waitUntil: "load" });
  await page.evaluate(() => {
    window.scrollTo(0, 400);
    window.rengaStale = true;
  });
  const before = await page.evaluate(() => window.scrollY);
  const original = readFileSync(chapter, "utf8");
  const marker = "Saved while the page was open.";
  writeFileSync(chapter, `${original}\n${marker}\n`);
  try {
    await page.waitForFunction(
      (m) => !window.rengaStale && document.body.innerText.includes(m),
      { timeout: 60000 },
      marker,
    );
    await new Promise((r) => setTimeout(r, 300));
    const after = await page.evaluate(() => window.scrollY);
    console.log(`reloaded by itself: scroll ${before} -> ${after}`);
    if (before < 100 || Math.abs(after - before) > 2) fail(`scroll position not kept: ${before} -> ${after}`);
  } catch (e) {
    fail(`the page did not reload with the edit: ${e.message}`);
  }
  writeFileSync(chapter, `${original}\n{{metric sg.nothing.here}}\n`);
  try {
    await page.waitForFunction(
      () => (document.getElementById("renga-errors")?.innerText ?? "").includes("metric-unknown"),
      { timeout: 60000 },
    );
    console.log("the error shows over the page");
  } catch (e) {
    fail(`no error over the page: ${e.message}`);
  }
  writeFileSync(chapter, original);
  try {
    await page.waitForFunction(
      (m) => !document.getElementById("renga-errors") && !document.body.innerText.includes(m),
      { timeout: 60000 },
      marker,
    );
    console.log("the error went with the next good save");
  } catch (e) {
    fail(`the error stayed: ${e.message}`);
  }
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
