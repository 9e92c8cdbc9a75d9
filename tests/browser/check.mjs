// Checks renga's web editions in a real browser: node check.mjs SHOTS_DIR FILE.html...
//
// For every file: axe-core with the WCAG 2.0/2.1/2.2 A and AA rules in
// headless Chromium (zero violations), the Nu Html Checker (zero errors),
// and nothing requested from the network. For a bilingual edition
// (*.en-ja.html): screenshots at desktop and phone widths, paired sections
// level with each other on the desktop, one after the other on the phone.
// Exits 1 on any finding, printing each.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import puppeteer from "puppeteer-core";

const require = createRequire(import.meta.url);
const axePath = require.resolve("axe-core/axe.min.js");
const vnuJar = require("vnu-jar");

const [shots, ...files] = process.argv.slice(2);
if (!shots || files.length === 0) {
  console.error("usage: node check.mjs SHOTS_DIR FILE.html...");
  process.exit(2);
}
mkdirSync(shots, { recursive: true });
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

// A phone's screen, in CSS pixels.
const PHONE = 390;
let failures = 0;
const fail = (file, message) => {
  failures += 1;
  console.log(`FAIL ${path.basename(file)}: ${message}`);
};

for (const file of files) {
  const page = await browser.newPage();
  const requests = [];
  page.on("request", (r) => {
    if (!r.url().startsWith("file:") && !r.url().startsWith("data:")) requests.push(r.url());
  });
  await page.setViewport({ width: 1280, height: 900 });
  await page.goto(pathToFileURL(path.resolve(file)).href, { waitUntil: "load" });
  for (const url of requests) fail(file, `requested ${url} from the network`);

  await page.addScriptTag({ path: axePath });
  const axe = await page.evaluate(async () =>
    // eslint-disable-next-line no-undef
    await axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"] },
      resultTypes: ["violations"],
    }),
  );
  for (const v of axe.violations) {
    fail(file, `axe ${v.id} (${v.impact}): ${v.help}; ${v.nodes.length} node(s), first: ${v.nodes[0]?.html.slice(0, 160)}`);
  }
  console.log(`${path.basename(file)}: axe: ${axe.passes?.length ?? 0} rules passed, ${axe.violations.length} violation(s)`);

  if (file.endsWith(".en-ja.html")) {
    const base = path.join(shots, path.basename(file, ".html"));
    await page.screenshot({ path: `${base}.desktop.png` });
    // Each row of a chapter holds an English and a Japanese cell (either may
    // be empty: a section without a counterpart). Cells start level, and so
    // do the headings of a pair of sections.
    const desktop = await page.evaluate(() => {
      const out = [];
      const heading = (cell) => cell.querySelector(":scope > h3, :scope > h4, :scope > h5, :scope > h6");
      // The middle of a heading's first line of text, where a reader sees it.
      const line = (h) => {
        const range = document.createRange();
        range.selectNodeContents(h);
        const r = range.getClientRects()[0] ?? h.getBoundingClientRect();
        return (r.top + r.bottom) / 2;
      };
      for (const article of document.querySelectorAll("article.pairs")) {
        const en = [...article.querySelectorAll(":scope > .en")];
        const ja = [...article.querySelectorAll(":scope > .ja")];
        en.forEach((e, i) => {
          const j = ja[i];
          if (!j) return;
          const [he, hj] = [heading(e), heading(j)];
          out.push({
            id: article.id, i,
            en: e.getBoundingClientRect().top, ja: j.getBoundingClientRect().top,
            enLeft: e.getBoundingClientRect().left, jaLeft: j.getBoundingClientRect().left,
            headings: he && hj ? [line(he), line(hj), he.textContent, hj.textContent] : null,
          });
        });
      }
      return out;
    });
    if (desktop.length === 0) fail(file, "no paired sections found");
    let headed = 0;
    for (const p of desktop) {
      if (Math.abs(p.en - p.ja) > 0.5) fail(file, `desktop: ${p.id} row ${p.i} starts at ${p.en} (en) and ${p.ja} (ja)`);
      if (!(p.jaLeft > p.enLeft)) fail(file, `desktop: ${p.id} row ${p.i} is not side by side`);
      if (p.headings) {
        headed += 1;
        const [te, tj, ne, nj] = p.headings;
        if (Math.abs(te - tj) > 2) fail(file, `desktop: the first line of “${ne}” is at ${te}, its pair “${nj}”'s at ${tj}`);
      }
    }
    if (headed === 0) fail(file, "no pair of headings found");
    console.log(`${path.basename(file)}: ${desktop.length} rows, ${headed} pairs of headings level on the desktop`);
    // A section further down the page, for the screenshot.
    await page.evaluate(() => document.querySelector("article.pairs:nth-of-type(2)")?.scrollIntoView());
    await page.screenshot({ path: `${base}.desktop-chapter.png` });

  }

  // Every edition on a phone: nothing wider than the screen (a reader
  // would have to scroll sideways), and the bilingual pairs stacked.
  await page.setViewport({ width: PHONE, height: 844, isMobile: true, deviceScaleFactor: 1 });
  await page.evaluate(() => window.scrollTo(0, 0));
  const phone = await page.evaluate((width) => {
    const out = [];
    for (const article of document.querySelectorAll("article.pairs")) {
      const en = [...article.querySelectorAll(":scope > .en")];
      const ja = [...article.querySelectorAll(":scope > .ja")];
      en.forEach((e, i) => {
        const j = ja[i];
        if (j) out.push({ id: article.id, i, enBottom: e.getBoundingClientRect().bottom, jaTop: j.getBoundingClientRect().top });
      });
    }
    // The innermost elements that reach past the screen's right edge.
    const wide = [...document.body.querySelectorAll("*")]
      .filter((e) => e.getBoundingClientRect().right > width + 1)
      .filter((e) => ![...e.children].some((c) => c.getBoundingClientRect().right > width + 1))
      .slice(0, 3)
      .map((e) => `<${e.tagName.toLowerCase()}${e.className ? ` class="${e.className}"` : ""}> ${e.textContent.trim().slice(0, 40)}`);
    return { pairs: out, width: document.documentElement.scrollWidth, wide };
  }, PHONE);
  for (const p of phone.pairs) {
    if (p.jaTop + 0.5 < p.enBottom) fail(file, `phone: ${p.id} pair ${p.i} is not stacked`);
  }
  if (phone.width > PHONE + 1) {
    fail(file, `phone: the page is ${phone.width} pixels wide on a ${PHONE}-pixel screen: ${phone.wide.join("; ")}`);
  }
  const base = path.join(shots, path.basename(file, ".html"));
  await page.evaluate(() => document.querySelector("article")?.scrollIntoView());
  await page.screenshot({ path: `${base}.phone.png` });
  await page.evaluate(() => document.querySelector("#metrics")?.scrollIntoView());
  await page.screenshot({ path: `${base}.phone-metrics.png` });
  await page.close();
}
await browser.close();
rmSync(profile, { recursive: true, force: true });

// The Nu Html Checker, on every file at once.
let report;
try {
  report = execFileSync("java", ["-jar", vnuJar, "--errors-only", "--format", "json", ...files], {
    stdio: ["ignore", "pipe", "pipe"],
    maxBuffer: 64 << 20,
  });
} catch (e) {
  // vnu exits 1 when it found errors; its report is on stderr.
  report = e.stderr?.length ? e.stderr : e.stdout;
}
const messages = JSON.parse(report.toString() || '{"messages": []}').messages ?? [];
for (const m of messages) {
  fail(m.url ?? "vnu", `vnu ${m.type}: ${m.message} (line ${m.lastLine}) ${m.extract ?? ""}`);
}
console.log(`vnu: ${messages.length} error(s) in ${files.length} file(s)`);

if (failures > 0) {
  console.log(`${failures} finding(s)`);
  process.exit(1);
}
console.log("ok");
