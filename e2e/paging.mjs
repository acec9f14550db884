// Steps of the dashboard journey (e2e/dashboard.test.mjs) about the list's
// pages and the dashboard's addresses:
//   - Back, Forward and a reload on page N show page N with its own range, and
//     "← Newer" leads to page N − 1; the page's offset stays out of API requests;
//   - a double click on "Older →" moves one page;
//   - /ui and /ui/ open the overview, and Back from it leaves it.
import { step, headIs as waitForHead } from "./steps.mjs";
import assert from "node:assert/strict";
import { join } from "node:path";

export async function pagingSteps({ page, BASE, SHOTS }) {
  const fmt = (n) => n.toLocaleString("en-US");
  const headIs = (want) => waitForHead(page, want);
  const firstRow = () => page.getAttribute("table.findings tbody tr:first-child", "data-id");
  // The page shows the rows of `query` (its API request, compared decoded:
  // the dashboard escapes a cursor differently) with `head`.
  const pageIs = async (query, head) => {
    const want = JSON.stringify([...new URLSearchParams(query)]);
    await page.waitForFunction((w) => {
      const q = document.querySelector("table.findings")?.dataset.query;
      return q !== undefined && JSON.stringify([...new URLSearchParams(q)]) === w;
    }, want);
    await headIs(head);
  };

  await step("paging: Back, Forward and a reload on page 3 show page 3 with its range; ← Newer goes back a page", async () => {
    const qs = "severity=MEDIUM";
    const p1 = await (await fetch(`${BASE}/findings?${qs}`)).json();
    assert.equal(p1.total_is_exact, true);
    const n = p1.total;
    assert.ok(n > 150 && p1.next_cursor, `demo data has more than three pages of MEDIUM findings (${n})`);
    const p2 = await (await fetch(`${BASE}/findings?${qs}&cursor=${encodeURIComponent(p1.next_cursor)}`)).json();
    const at = (c) => `${qs}&cursor=${encodeURIComponent(c)}`;
    const [q1, q2, q3] = [qs, at(p1.next_cursor), at(p2.next_cursor)];
    const asked = [];
    const onRequest = (r) => {
      const u = new URL(r.url());
      if (u.pathname === "/findings") asked.push(u.search);
    };
    page.on("request", onRequest);
    await page.goto(`${BASE}/ui/findings?${qs}`);
    await pageIs(q1, `1–50 of ${fmt(n)}`);
    const top1 = await firstRow();
    await page.click("nav.pager button:text('Older →')");
    await pageIs(q2, `51–100 of ${fmt(n)}`);
    await page.click("nav.pager button:text('Older →')");
    await pageIs(q3, `101–150 of ${fmt(n)}`);
    const top3 = await firstRow();
    assert.match(page.url(), /[?&]offset=100(&|$)/);
    await page.goBack();
    await pageIs(q2, `51–100 of ${fmt(n)}`);
    await page.goBack();
    await pageIs(q1, `1–50 of ${fmt(n)}`);
    assert.equal(await firstRow(), top1);
    assert.ok(await page.isDisabled("nav.pager button:text('← Newer')"));
    await page.goForward();
    await page.goForward();
    await pageIs(q3, `101–150 of ${fmt(n)}`);
    await page.reload();
    await pageIs(q3, `101–150 of ${fmt(n)}`);
    assert.equal(await firstRow(), top3);
    await page.screenshot({ path: join(SHOTS, "findings-page3-reloaded.png") });
    // "← Newer" after the reload goes one page back, not to the first.
    await page.click("nav.pager button:text('← Newer')");
    await pageIs(q2, `51–100 of ${fmt(n)}`);
    await page.click("nav.pager button:text('← Newer')");
    await pageIs(q1, `1–50 of ${fmt(n)}`);
    page.off("request", onRequest);
    assert.ok(asked.length >= 3, asked.join(" "));
    for (const s of asked) assert.ok(!/[?&]offset=/.test(s), `the API was sent the page's offset: ${s}`);
  });

  await step("paging: a double click on Older → moves one page, and ← Newer comes back from it", async () => {
    const qs = "severity=MEDIUM";
    const p1 = await (await fetch(`${BASE}/findings?${qs}`)).json();
    const n = p1.total;
    const q2 = `${qs}&cursor=${encodeURIComponent(p1.next_cursor)}`;
    await page.goto(`${BASE}/ui/findings?${qs}`);
    await pageIs(qs, `1–50 of ${fmt(n)}`);
    // The second click comes while page 2 loads, with page 1 still shown.
    await page.dblclick("nav.pager button:text('Older →')");
    await pageIs(q2, `51–100 of ${fmt(n)}`);
    await page.waitForTimeout(500);
    await pageIs(q2, `51–100 of ${fmt(n)}`);
    assert.match(page.url(), /[?&]offset=50(&|$)/);
    await page.click("nav.pager button:text('← Newer')");
    await pageIs(qs, `1–50 of ${fmt(n)}`);
  });

  await step("/ui and /ui/ open the overview, and Back from it does not bounce forward", async () => {
    for (const path of ["/ui/", "/ui"]) {
      await page.goto(`${BASE}/ui/findings?severity=LOW`);
      await page.waitForSelector("table.findings");
      await page.goto(`${BASE}${path}`);
      await page.waitForSelector("[data-testid=total-count]");
      assert.equal(new URL(page.url()).pathname, "/", path);
      assert.equal(await page.locator("text=There is no page at this address.").count(), 0, path);
      // The redirect replaced its entry: Back leaves the overview for the list.
      await page.goBack();
      await page.waitForFunction(() => location.pathname === "/ui/findings", null, { timeout: 5000 });
      await page.waitForSelector("table.findings");
      await page.waitForTimeout(300);
      assert.equal(new URL(page.url()).pathname, "/ui/findings", `Back from ${path} bounced forward`);
    }
  });
}
