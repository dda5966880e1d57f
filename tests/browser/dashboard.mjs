// The dashboard in a real browser (Debian's chromium, driven by playwright-core), for
// tests/browser/test_dashboard.py: every page loads with no console error and no serious or
// critical axe-core violation, needs no horizontal scroll at 390 pixels, lets the keyboard reach
// every action; rollback, muting and promoting a model work end to end through their
// confirmations; screenshots
// go to SAMEDAY_SCREENSHOTS. Prints one JSON report on stdout; the Python test asserts on it.
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const env = process.env;
const base = env.SAMEDAY_UI_URL;
const pages = JSON.parse(env.SAMEDAY_PAGES);
const actionPages = JSON.parse(env.SAMEDAY_ACTION_PAGES);
const shots = env.SAMEDAY_SCREENSHOTS;
const report = { pages: {}, keyboard: {}, actions: {}, errors: [] };

const profile = mkdtempSync(join(tmpdir(), "sameday-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  viewport: { width: 1280, height: 860 },
});
const page = context.pages()[0] || (await context.newPage());
let consoleErrors = [];
page.on("console", (message) => { if (message.type() === "error") consoleErrors.push(message.text()); });
page.on("pageerror", (error) => consoleErrors.push(String(error)));
page.on("requestfailed", (request) => consoleErrors.push(`request failed: ${request.url()}`));
const offsite = [];
await context.route("**/*", (route) => {
  const url = route.request().url();
  if (!url.startsWith(base)) { offsite.push(url); return route.abort(); }
  return route.continue();
});

async function axe() {
  await page.evaluate(axeSource);
  const found = await page.evaluate(async () => {
    const result = await window.axe.run(document, { resultTypes: ["violations"] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) }));
  });
  return found.filter((v) => v.impact === "serious" || v.impact === "critical");
}

async function visit(path) {
  consoleErrors = [];
  const response = await page.goto(base + path, { waitUntil: "load" });
  return response ? response.status() : 0;
}

try {
  // Sign in with the admin key, as a person would.
  await visit("/");
  await page.fill("#key", env.SAMEDAY_KEY);
  await page.press("#key", "Enter");
  await page.waitForSelector("h1:has-text('Morning')");

  for (const [name, path] of Object.entries(pages)) {
    const status = await visit(path);
    if (name === "experiment") {
      await page.waitForSelector(".report .verdict", { timeout: 30000 });
    }
    const violations = await axe();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(50);
    const narrow = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth, width: window.innerWidth,
      wide: [...document.querySelectorAll("body *")]
        .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1
                       && !e.closest(".scroll"))
        .slice(0, 5).map((e) => `${e.tagName}.${e.className} ${(e.textContent || "").slice(0, 40)}`),
    }));
    if (name === "morning") { await page.screenshot({ path: join(shots, "morning-390.png") }); }
    await page.setViewportSize({ width: 1280, height: 860 });
    await page.waitForTimeout(50);
    await page.screenshot({ path: join(shots, `${name}.png`) });
    report.pages[name] = { path, status, console: consoleErrors, violations, narrow };
  }

  // The keyboard reaches every action: Tab from the top, noting each focused element.
  for (const [name, path] of Object.entries(actionPages)) {
    await visit(path);
    const wanted = await page.$$eval("form.action button, form button[type=submit]",
      (buttons) => buttons.map((b) => b.textContent.trim()));
    const reached = new Set();
    for (let i = 0; i < 250 && reached.size < wanted.length; i++) {
      await page.keyboard.press("Tab");
      const focused = await page.evaluate(() => {
        const el = document.activeElement;
        return el && el.tagName === "BUTTON" ? el.textContent.trim() : null;
      });
      if (focused) { reached.add(focused); }
    }
    report.keyboard[name] = { wanted, reached: [...reached] };
  }

  // Rollback, with its confirmation, by keyboard: focus the button, press Enter, twice.
  await visit(env.SAMEDAY_RESULT_SET_PAGE);
  const rollback = page.locator("form.action button", { hasText: "Roll back to" });
  const target = (await rollback.textContent()).replace("Roll back to", "").trim();
  await rollback.focus();
  await page.keyboard.press("Enter");
  await page.waitForSelector("h1:has-text('Roll personal back?')");
  await page.screenshot({ path: join(shots, "confirm-rollback.png") });
  await page.fill("#reason", "lists looked wrong");
  await page.locator("button.danger", { hasText: "Roll back" }).focus();
  await page.keyboard.press("Enter");
  await page.waitForSelector("text=Rolled back");
  const live = await page.$$eval("tr", (rows) => rows
    .filter((r) => r.querySelector(".badge.good") && r.textContent.includes("live"))
    .map((r) => r.querySelector("td").textContent.trim()));
  const history = await page.locator("td", { hasText: "lists looked wrong" }).count();
  report.actions.rollback = { target, live, reasonRecorded: history > 0, console: consoleErrors };

  // Muting a monitor, with its confirmation, by mouse.
  await visit("/alerts");
  await page.locator("form.action button", { hasText: "Mute 4h" }).first().click();
  await page.waitForSelector("h1:has-text('Mute health for 4h?')");
  await page.locator("button.danger", { hasText: "Mute" }).click();
  await page.waitForSelector("text=Muted:");
  await page.screenshot({ path: join(shots, "alerts-muted.png") });
  const muted = await page.locator(".badge", { hasText: "muted until" }).count();
  const unmute = await page.locator("form.action button", { hasText: "Unmute" }).count();
  report.actions.mute = { muted, unmute, console: consoleErrors };

  // Promoting a model's version to champion, with its confirmation, by keyboard.
  await visit(env.SAMEDAY_MODEL_PAGE);
  const promote = page.locator("form.action button", { hasText: /^Make \d+ champion$/ }).first();
  const version = (await promote.textContent()).replace("Make", "").replace("champion", "").trim();
  await promote.focus();
  await page.keyboard.press("Enter");
  await page.waitForSelector("h1:has-text('the champion?')");
  await page.locator("button.danger", { hasText: "Promote" }).focus();
  await page.keyboard.press("Enter");
  await page.waitForSelector("text=Promoted:");
  const champion = await page.$$eval("#aliases ~ section tr", (rows) => rows
    .filter((r) => r.querySelector("td") && r.querySelector("td").textContent.trim() === "@champion")
    .map((r) => r.querySelectorAll("td")[1].textContent.trim()));
  report.actions.promote = { version, champion, console: consoleErrors };
} catch (error) {
  report.errors.push(String(error && error.stack || error));
} finally {
  report.offsite = offsite;
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(report));
