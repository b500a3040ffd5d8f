// Drives the HTML report in headless Chromium (Debian's /usr/bin/chromium) with playwright-core:
// the page renders offline, the chart is there and adds up, every filter shows exactly the
// findings the JSON report says it should, and a screenshot is kept as a test artefact.
//
//   node tests/browser/html_report.mjs REPORT.html REPORT.json SCREENSHOT.png
//
// PLAYWRIGHT_CORE points at the playwright-core package (scripts/test installs it under
// target/tools/browser); CHROMIUM at the browser (default /usr/bin/chromium).
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { readFileSync } from "node:fs";
import path from "node:path";

const [htmlPath, jsonPath, screenshotPath] = process.argv.slice(2);
if (!screenshotPath) {
  console.error("usage: html_report.mjs REPORT.html REPORT.json SCREENSHOT.png");
  process.exit(2);
}
const require = createRequire(import.meta.url);
const { chromium } = require(process.env.PLAYWRIGHT_CORE || "playwright-core");
const report = JSON.parse(readFileSync(jsonPath, "utf8"));
const findings = report.findings;
const keys = report.accounts.reduce((n, a) => n + a.access_keys, 0);

const checks = [];
function check(name, actual, expected) {
  const ok = JSON.stringify(actual) === JSON.stringify(expected);
  checks.push({ name, ok, actual, expected });
  if (!ok) { console.error(`FAIL ${name}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`); }
}

let filterMs = 0;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  const external = [];
  const errors = [];
  page.on("request", (r) => { if (!r.url().startsWith("file://")) { external.push(r.url()); } });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") { errors.push(m.text()); } });
  const url = pathToFileURL(path.resolve(htmlPath)).href;
  await page.goto(url);
  await page.waitForSelector("html[data-ready=true]");

  const visible = () => page.evaluate(() => {
    let n = 0;
    for (const r of document.getElementById("findings-table").tBodies[0].rows) { if (!r.hidden) { n += 1; } }
    return n;
  });
  const shownText = () => page.textContent("#shown");
  const count = (pred) => findings.filter(pred).length;

  check("title", await page.textContent("h1"), "credwarden report");
  check("chart is rendered", await page.isVisible("svg#key-age-chart"), true);
  const barTotal = await page.$$eval("svg#key-age-chart text.total", (ts) => ts.reduce((n, t) => n + Number(t.textContent), 0));
  check("chart bars add up to every key", barTotal, keys);
  const segments = await page.$$eval("svg#key-age-chart rect.bar", (rs) => rs.length);
  check("chart has segments", segments > 0 || keys === 0, true);
  const chartBox = await page.$eval("svg#key-age-chart", (s) => { const b = s.getBoundingClientRect(); return b.width > 300 && b.height > 100; });
  check("chart has a readable size", chartBox, true);
  check("summary cards", await page.$$eval(".card", (cs) => cs.length), 5);

  check("all findings shown at first", await visible(), findings.length);

  const started = Date.now();
  await page.selectOption("#f-severity", "critical");
  await visible();
  filterMs = Date.now() - started;
  const critical = count((f) => f.severity === "critical");
  check("severity filter", await visible(), critical);
  check("count line follows", (await shownText()).trim(), `${critical} of ${findings.length} findings shown`);
  check("filter is in the address", new URL(page.url()).hash, "#severity=critical");

  await page.click("#f-reset");
  await page.waitForFunction((n) => document.querySelectorAll("#findings-table tbody tr:not([hidden])").length === n, findings.length);
  check("clear shows everything", await visible(), findings.length);

  const firstRule = findings.length ? findings[findings.length - 1].rule_id : "";
  await page.selectOption("#f-rule", firstRule);
  check(`rule filter (${firstRule})`, await visible(), count((f) => f.rule_id === firstRule));

  const account = findings.length ? findings[0].account_id : "";
  await page.selectOption("#f-rule", "");
  await page.selectOption("#f-account", account);
  await page.selectOption("#f-severity", "high");
  check("account and severity together", await visible(),
    count((f) => f.account_id === account && f.severity === "high"));

  await page.click("#f-reset");
  await page.selectOption("#f-status", "suppressed");
  check("status filter", await visible(), count((f) => f.suppressed));

  await page.click("#f-reset");
  const user = findings.find((f) => f.resource.user)?.resource.user;
  if (user) {
    await page.fill("#f-text", user);
    const expected = await page.evaluate((u) => {
      let n = 0;
      for (const r of document.getElementById("findings-table").tBodies[0].rows) {
        if (r.textContent.toLowerCase().includes(u.toLowerCase())) { n += 1; }
      }
      return n;
    }, user);
    check(`text filter (${user})`, await visible(), expected);
    check("text filter finds the user's findings", (await visible()) >= count((f) => f.resource.user === user), true);
  }

  await page.click("#f-reset");
  await page.click(".card.sev-high");
  await page.waitForFunction(() => document.querySelector("#f-severity").value === "high");
  check("a summary card filters", await visible(), count((f) => f.severity === "high"));

  const page2 = await browser.newPage();
  await page2.goto(`${url}#rule=${encodeURIComponent(firstRule)}&status=open`);
  await page2.waitForSelector("html[data-ready=true]");
  const preset = await page2.$$eval("#findings-table tbody tr", (rs) => rs.filter((r) => !r.hidden).length);
  check("a shared address restores the filter", preset, count((f) => f.rule_id === firstRule && !f.suppressed));
  await page2.close();

  await page.emulateMedia({ media: "print" });
  check("filters are hidden in print", await page.isVisible("#filters"), false);
  await page.emulateMedia({ media: "screen" });

  await page.click("#f-reset");
  await page.waitForFunction((n) => document.querySelectorAll("#findings-table tbody tr:not([hidden])").length === n, findings.length);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: screenshotPath, fullPage: findings.length <= 200 });

  check("no request left the file", external, []);
  check("no script errors", errors, []);
} finally {
  await browser.close();
}
const failed = checks.filter((c) => !c.ok).length;
console.log(`one filter change over ${findings.length} findings: ${filterMs} ms`);
console.log(`${checks.length - failed} browser checks passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
