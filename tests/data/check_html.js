// Opens a plumb HTML report in the system Chromium (puppeteer-core, no browser download) and
// prints what tests/html.rs asserts, as JSON:
//   node check_html.js REPORT.html OPTIONS_JSON
// OPTIONS_JSON: {"chromium": PATH, "filter": TEXT, "toggle": {"key": "s", "value": "expected"},
//                "screenshots": {"1280": PNG, "390": PNG}, "texts": [TEXT, ...]}
// Every request other than the file itself (or a data: URL) is recorded and refused.
"use strict";
const path = require("path");
const { pathToFileURL } = require("url");
const puppeteer = require("puppeteer-core");

async function main() {
  const [file, optionsText] = process.argv.slice(2);
  const options = JSON.parse(optionsText || "{}");
  const fileUrl = pathToFileURL(path.resolve(file)).href;
  const browser = await puppeteer.launch({
    executablePath: options.chromium,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"],
  });
  const result = { requests: [], refused: [], consoleErrors: [], pageErrors: [], dialogs: [] };
  try {
    const page = await browser.newPage();
    await page.setRequestInterception(true);
    page.on("request", (request) => {
      const url = request.url();
      result.requests.push(url);
      if (url === fileUrl || url.startsWith("data:")) {
        request.continue();
      } else {
        result.refused.push(url);
        request.abort();
      }
    });
    page.on("console", (message) => {
      if (message.type() === "error") { result.consoleErrors.push(message.text()); }
    });
    page.on("pageerror", (error) => result.pageErrors.push(String(error)));
    page.on("dialog", async (dialog) => {
      result.dialogs.push(dialog.message());
      await dialog.dismiss();
    });
    await page.setViewport({ width: 1280, height: 900 });
    await page.goto(fileUrl, { waitUntil: "load" });
    const visible = () => page.$$eval("tr[id^='f-'], tr[data-row]", (rows) => rows.filter((r) => !r.hidden).length);
    result.ids = await page.$$eval("tr[id^='f-']", (rows) => rows.map((r) => r.id.slice(2)));
    result.rows = await visible();
    result.images = await page.$$eval("img", (images) => images.length);
    result.scripts = await page.$$eval("script", (scripts) => scripts.length);
    result.headings = await page.$$eval("h1, h2, h3, h4", (hs) => hs.map((h) => Number(h.tagName[1])));
    const text = await page.evaluate(() => document.body.innerText + document.body.textContent);
    result.texts = (options.texts || []).map((t) => text.includes(t));
    if (options.filter !== undefined) {
      await page.type("#filter", options.filter);
      result.filtered = await visible();
      result.shownText = await page.$eval("#shown", (o) => o.textContent);
      await page.$eval("#filter", (input) => { input.value = ""; input.dispatchEvent(new Event("input")); });
      result.cleared = await visible();
    }
    if (options.toggle) {
      const selector = `input[data-toggle='${options.toggle.key}'][value='${options.toggle.value}']`;
      if (await page.$(selector)) {
      await page.click(selector);
      result.toggled = await visible();
      result.toggledStillShown = await page.$$eval(
        `tr[id^='f-'].${options.toggle.value}`,
        (rows) => rows.filter((r) => !r.hidden).length);
      await page.click(selector);
      }
    }
    // A finding's details are built when opened.
    const button = await page.$("tr[id^='f-'] button.x");
    if (button) {
      await button.evaluate((b) => b.click());
      result.details = await page.$eval("tr.dt", (row) => row.textContent);
      result.links = await page.$$eval("tr.dt a", (links) => links.map((a) => a.href));
    }
    for (const [width, png] of Object.entries(options.screenshots || {})) {
      await page.setViewport({ width: Number(width), height: 900 });
      if (button) { await button.evaluate((b) => b.click()); }
      await page.screenshot({ path: png, fullPage: false });
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(result) + "\n");
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack || error) + "\n");
  process.exit(1);
});
