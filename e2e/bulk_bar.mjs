// Steps of the dashboard journey (e2e/dashboard.test.mjs) about the bulk bar:
//   - it appears and goes without moving the rows, and stays in reach at the
//     bottom of a long table; at a narrow width (wrapped) it covers neither the
//     pager nor the last row;
//   - its last answer goes with any change of the view;
//   - leaving the page while a change to all matching runs asks first.
import { step } from "./steps.mjs";
import assert from "node:assert/strict";
import { join } from "node:path";

export async function bulkBarSteps({ page, BASE, SHOTS }) {
  const get = async (path) => {
    const r = await fetch(BASE + path);
    assert.ok(r.ok, `GET ${path}: ${r.status}`);
    return r.json();
  };
  const open = async (qs) => {
    await page.goto(`${BASE}/ui/findings?${qs}`);
    await page.waitForFunction((q) => document.querySelector("table.findings")?.dataset.query === q, qs);
  };
  const boxes = page.locator("table.findings tbody td.col-pick input");
  const rowTop = (i) => page.$eval(`table.findings tbody tr:nth-child(${i + 1})`, (r) => r.getBoundingClientRect().top);
  const ticked = () => page.$$eval("table.findings tbody tr", (rows) =>
    rows.map((r, i) => (r.querySelector("td.col-pick input").checked ? i : -1)).filter((i) => i >= 0));
  // A change of one row to NOTIFIED, through the bar; its answer stays shown.
  const changeOne = async () => {
    await boxes.nth(0).click();
    await page.selectOption("select[name=bulk_status]", "NOTIFIED");
    await page.click(".bulk-bar button[type=submit]");
    await page.waitForFunction(() => document.querySelector(".bulk-result")?.textContent.trim() === "1 changed");
  };

  await step("bulk bar: ticking a row moves no row, a shift-click lands where aimed, Apply is in reach at the bottom", async () => {
    await open("severity=LOW&status=NEW&limit=250");
    const before = await rowTop(4);
    await boxes.nth(0).click();
    await page.waitForSelector(".bulk-bar .bulk-count");
    assert.equal(await rowTop(4), before, "the bar pushed the rows down");
    // Aimed by position, as a person aims: at row 5's box where it was.
    const box = await boxes.nth(4).boundingBox();
    await page.keyboard.down("Shift");
    await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
    await page.keyboard.up("Shift");
    assert.deepEqual(await ticked(), [0, 1, 2, 3, 4]);
    // Far down the table the bar and its Apply are on screen, and the pager
    // can still be scrolled clear of the bar.
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
    const view = page.viewportSize();
    const apply = await page.locator(".bulk-bar button[type=submit]").boundingBox();
    assert.ok(apply.y >= 0 && apply.y + apply.height <= view.height, JSON.stringify(apply));
    const bar = await page.locator(".bulk-bar").boundingBox();
    const pager = await page.locator("nav.pager").boundingBox();
    assert.ok(pager.y + pager.height <= bar.y, `pager ${JSON.stringify(pager)} under bar ${JSON.stringify(bar)}`);
    await page.screenshot({ path: join(SHOTS, "findings-bulk-bar-bottom.png") });
    await page.click(".bulk-bar button:text('Clear')");
    await page.waitForSelector(".bulk-bar", { state: "detached" });
    await page.evaluate(() => window.scrollTo(0, 0));
  });

  await step("bulk bar: at a narrow width it covers neither the pager nor the last row, and notices stay above it", async () => {
    const wide = page.viewportSize();
    await page.setViewportSize({ width: 700, height: 700 });
    try {
      await open("severity=LOW&status=NEW");
      const before = await rowTop(2);
      await boxes.nth(0).click();
      await page.waitForSelector(".bulk-bar .bulk-count");
      assert.equal(await rowTop(2), before, "the bar pushed the rows down");
      // In the reading order it comes after the rows and the pager.
      assert.ok(await page.evaluate(() =>
        !!(document.querySelector("nav.pager").compareDocumentPosition(document.querySelector(".bulk-bar"))
          & Node.DOCUMENT_POSITION_FOLLOWING)), "the bar comes before the pager in the DOM");
      // While the rows run on below, it is on screen, over them.
      const apply = await page.locator(".bulk-bar button[type=submit]").boundingBox();
      assert.ok(apply.y >= 0 && apply.y + apply.height <= 700, JSON.stringify(apply));
      await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
      const bar = await page.locator(".bulk-bar").boundingBox();
      const pager = await page.locator("nav.pager").boundingBox();
      const last = await page.locator("table.findings tbody tr:last-child").boundingBox();
      assert.ok(pager.y + pager.height <= bar.y, `pager ${JSON.stringify(pager)} under bar ${JSON.stringify(bar)}`);
      assert.ok(last.y + last.height <= bar.y, `last row ${JSON.stringify(last)} under bar ${JSON.stringify(bar)}`);
      // CRITICAL notices are drawn above the bar.
      const z = await page.evaluate(() => [".notices", ".bulk-bar"].map((s) =>
        Number(getComputedStyle(document.querySelector(s)).zIndex)));
      assert.ok(z[0] > z[1], `notices z-index ${z[0]} not above the bar's ${z[1]}`);
      await page.screenshot({ path: join(SHOTS, "findings-bulk-bar-narrow.png") });
      await page.click(".bulk-bar button:text('Clear')");
      await page.waitForSelector(".bulk-bar", { state: "detached" });
    } finally {
      await page.setViewportSize(wide);
      await page.evaluate(() => window.scrollTo(0, 0));
    }
  });

  await step("bulk bar: its answer goes with another filter and another grouping, and does not come back", async () => {
    const qs = "severity=MEDIUM&status=NEW&region=us-east-1";
    await open(qs);
    await changeOne();
    await page.click(".chips[aria-label=Severity] .chip-low");
    await page.waitForFunction(() => /(^|&)severity=MEDIUM,LOW(&|$)/.test(document.querySelector("table.findings")?.dataset.query ?? ""));
    assert.equal(await page.locator(".bulk-bar").count(), 0, "the answer stayed over another filter");
    await page.goBack();
    await page.waitForFunction((q) => document.querySelector("table.findings")?.dataset.query === q, qs);
    assert.equal(await page.locator(".bulk-result").count(), 0, "Back brought the answer again");
    await changeOne();
    await page.selectOption("select[name=group_by]", "generator");
    await page.waitForSelector("table.groups tbody tr");
    assert.equal(await page.locator(".bulk-bar").count(), 0, "the answer stayed over the groups");
  });

  await step("bulk bar: leaving while a change to all matching runs asks first; after it ends it does not", async () => {
    // A NEW group of 201..999 findings: several steps of 100, under the cap.
    let qs, n = 0;
    for (const by of ["resource_type", "region", "account", "generator"]) {
      const g = (await get(`/findings/groups?by=${by}&status=NEW&limit=1000`)).groups.find((x) => x.total > 200 && x.total < 1000);
      if (g) {
        qs = `status=NEW&${by}=${encodeURIComponent(g.key)}`;
        const p = await get(`/findings?${qs}&limit=1`);
        if (p.total_is_exact && p.total === g.total) { n = g.total; break; }
      }
    }
    assert.ok(n > 200, "demo data has a group of 201..999 NEW findings");
    await open(qs);
    const asks = () => page.evaluate(() => {
      const e = new Event("beforeunload", { cancelable: true });
      window.dispatchEvent(e);
      return e.defaultPrevented;
    });
    assert.equal(await asks(), false, "nothing runs yet");
    await page.click("table.findings th.col-pick input");
    await page.click(".bulk-bar button:text('Select all matching this filter')");
    await page.waitForFunction((want) => document.querySelector(".bulk-count")?.textContent.trim() === want,
      `All ${n.toLocaleString("en-US")} findings matching this filter selected`);
    await page.selectOption("select[name=bulk_status]", "NOTIFIED");
    // Each step answers slowly, so the run is caught in the middle.
    const slow = async (route) => {
      await new Promise((r) => setTimeout(r, 400));
      await route.continue();
    };
    await page.route("**/findings/workflow", slow);
    await page.click(".bulk-bar button[type=submit]");
    await page.waitForSelector(".bulk-progress");
    assert.equal(await asks(), true, "no prompt while the change runs");
    await page.waitForSelector(".bulk-result", { timeout: 60000 });
    await page.unroute("**/findings/workflow", slow);
    assert.equal(await asks(), false, "the prompt outlived the change");
    await page.click(".bulk-bar button:text('Dismiss')");
  });
}
