// Steps of the dashboard journey (e2e/dashboard.test.mjs) about what the
// findings list's head and bar say while the data changes under an open page,
// and about the grouping's place in the URL:
//   - findings changed through the API leave the head's total equal to the API's;
//   - a change to "all matching" refused because the count moved offers the new
//     count, and applies only once the person confirms it;
//   - Back, reload and a bookmark keep a grouped view grouped, and rows picked in
//     the list do not follow Back into the groups table;
//   - the groups table and the overview's top lists follow changes made
//     elsewhere (fetched again), keeping "Show up to 1,000 groups"; while live
//     updates are paused the groups hold still, and catch up once unpaused.
import { step, headIs as waitForHead } from "./steps.mjs";
import assert from "node:assert/strict";
import { join } from "node:path";

export async function listViewSteps({ page, BASE, SHOTS }) {
  const call = async (method, path, body) => {
    const r = await fetch(BASE + path, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    assert.ok(r.ok, `${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  const get = (path) => call("GET", path);
  const setStatus = async (ids, status) => {
    const out = await call("POST", "/findings/workflow", { ids, workflow_status: status, note: "e2e: changed outside the page" });
    assert.equal(out.changed, ids.length, JSON.stringify(out));
  };
  const total = async (qs) => {
    const p = await get(`/findings?${qs}&limit=1`);
    assert.equal(p.total_is_exact, true, qs);
    return p.total;
  };
  const fmt = (n) => n.toLocaleString("en-US");
  const headIs = (want) => waitForHead(page, want);
  // A first connect has no resume: a change made before the socket is open is
  // never pushed, so a step that changes findings under the page waits for it.
  const liveNow = () => page.waitForSelector(".live-status[data-status=live]", { timeout: 15000 });
  const rowsAre = (n) => page.waitForFunction((n) => document.querySelectorAll("table.findings tbody tr").length === n, n);
  // The first region whose view of `sev` and NEW has more than `min` findings.
  const busyView = async (sev, min) => {
    for (const region of ["us-west-2", "us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-1", "ap-northeast-1", "us-east-2", "sa-east-1"]) {
      const qs = `severity=${sev}&status=NEW&region=${region}`;
      if ((await total(qs)) > min) return qs;
    }
    throw new Error(`demo data has no region with more than ${min} NEW ${sev} findings`);
  };

  await step("findings changed through the API while the list is open: the head's total stays the API's", async () => {
    const view = await busyView("HIGH", 50);
    const n = await total(view);
    await page.goto(`${BASE}/ui/findings?${view}`);
    await page.waitForFunction((q) => document.querySelector("table.findings")?.dataset.query === q, view);
    await liveNow();
    await headIs(`1–50 of ${fmt(n)}`);
    // Three of the page's rows resolved elsewhere drop out, and the total follows.
    const ids = await page.$$eval("table.findings tbody tr", (rs) => rs.slice(0, 3).map((r) => r.dataset.id));
    await setStatus(ids, "RESOLVED");
    await rowsAre(47);
    assert.equal(await total(view), n - 3);
    await headIs(`1–47 of ${fmt(n - 3)}`);
    await page.screenshot({ path: join(SHOTS, "findings-live-count-resolved.png") });
    // They come back, and one from outside the page joins it: 51 rows, 1 more.
    const outside = (await get(`/findings?${view.replace("status=NEW", "status=NOTIFIED,RESOLVED")}&limit=50`))
      .items.find((f) => !ids.includes(f.id));
    assert.ok(outside, "demo data has a NOTIFIED or RESOLVED finding of this severity and region");
    await setStatus([...ids, outside.id], "NEW");
    await rowsAre(51);
    assert.equal(await total(view), n + 1);
    await headIs(`1–51 of ${fmt(n + 1)}`);
    await page.screenshot({ path: join(SHOTS, "findings-live-count-joined.png") });
  });

  await step("bulk: a count that moved before Apply is offered again, and applied only when confirmed", async () => {
    const view = await busyView("LOW", 25);
    const n = await total(view);
    await page.goto(`${BASE}/ui/findings?${view}&limit=20`);
    await page.waitForFunction((q) => document.querySelector("table.findings")?.dataset.query === q, `${view}&limit=20`);
    await liveNow();
    await page.click("table.findings th.col-pick input");
    await page.click(".bulk-bar button:text('Select all matching this filter')");
    await page.waitForFunction((want) => document.querySelector(".bulk-count")?.textContent.trim() === want,
      `All ${fmt(n)} findings matching this filter selected`);
    // Two of them are NOTIFIED elsewhere before the person applies.
    const two = (await get(`/findings?${view}&limit=1000`)).items.slice(-2).map((f) => f.id);
    await setStatus(two, "NOTIFIED");
    await page.selectOption("select[name=bulk_status]", "RESOLVED");
    const posts = [];
    const onRequest = (r) => {
      if (r.method() === "POST" && new URL(r.url()).pathname.endsWith("/findings/workflow")) posts.push(JSON.parse(r.postData()));
    };
    page.on("request", onRequest);
    await page.click(".bulk-bar button[type=submit]");
    const offer = `The filter now matches ${fmt(n - 2)} findings (was ${fmt(n)}); nothing was changed. Apply to ${fmt(n - 2)}?`;
    await page.waitForFunction((t) => document.querySelector(".bulk-bar .form-error")?.textContent.trim() === t, offer);
    assert.equal((await page.textContent(".bulk-bar button[type=submit]")).trim(), `Apply to ${fmt(n - 2)}`);
    assert.equal((await page.textContent(".bulk-count")).trim(), `All ${fmt(n - 2)} findings matching this filter selected`);
    await headIs(`1–20 of ${fmt(n - 2)}`);
    assert.equal(await total(view), n - 2, "the refused change changed nothing");
    assert.equal(posts.length, 1);
    assert.equal(posts[0].expected_total, n);
    await page.screenshot({ path: join(SHOTS, "findings-bulk-count-moved.png") });
    // Confirmed: the new number is sent, and every matching finding changes.
    await page.click(".bulk-bar button[type=submit]");
    await page.waitForSelector(".bulk-result");
    page.off("request", onRequest);
    assert.equal((await page.textContent(".bulk-result")).trim(), `${fmt(n - 2)} changed`);
    assert.equal(posts[1].expected_total, n - 2);
    await page.waitForSelector(".state.empty");
    assert.equal(await total(view), 0);
    for (const id of two) assert.equal((await get(`/findings/${encodeURIComponent(id)}`)).workflow_status, "NOTIFIED");
    await page.screenshot({ path: join(SHOTS, "findings-bulk-count-confirmed.png") });
    await page.click(".bulk-bar button:text('Dismiss')");
  });

  await step("grouping is in the URL: Back from a group, reload and a bookmark keep the grouped view", async () => {
    const n = await total("severity=HIGH");
    await page.goto(`${BASE}/ui/findings?severity=HIGH`);
    await page.waitForSelector("table.findings tbody tr");
    await page.selectOption("select[name=group_by]", "generator");
    await page.waitForSelector("table.groups tbody tr");
    assert.equal(page.url(), `${BASE}/ui/findings?severity=HIGH&group=generator`);
    // The head has no rows to number while grouped: the view's total only.
    await headIs(`${fmt(n)} findings`);
    const key = await page.getAttribute("table.groups tbody tr:first-child", "data-key");
    await page.click("table.groups tbody tr:first-child td.col-title a");
    await page.waitForSelector("table.findings tbody tr");
    // Compared decoded: the dashboard escapes fewer characters than encodeURIComponent.
    const listed = new URL(page.url());
    assert.equal(listed.pathname, "/ui/findings");
    assert.deepEqual([...listed.searchParams], [["severity", "HIGH"], ["generator", key]]);
    await page.goBack();
    await page.waitForSelector("table.groups tbody tr");
    assert.equal(page.url(), `${BASE}/ui/findings?severity=HIGH&group=generator`);
    assert.equal(await page.inputValue("select[name=group_by]"), "generator");
    await page.reload();
    await page.waitForSelector("table.groups tbody tr");
    assert.equal(await page.inputValue("select[name=group_by]"), "generator");
    await headIs(`${fmt(n)} findings`);
    await page.screenshot({ path: join(SHOTS, "findings-groups-reloaded.png"), fullPage: true });
    // A bookmark of another grouping opens it; back to the list is a choice too.
    await page.goto(`${BASE}/ui/findings?severity=HIGH&group=region`);
    await page.waitForSelector("table.groups[data-by=region] tbody tr");
    await page.selectOption("select[name=group_by]", "");
    await page.waitForSelector("table.findings tbody tr");
    assert.equal(page.url(), `${BASE}/ui/findings?severity=HIGH`);
    // Rows picked in the list do not follow Back into the groups table.
    await page.click("table.findings tbody tr:first-child td.col-pick input");
    await page.waitForSelector(".bulk-bar .bulk-count");
    await page.goBack();
    await page.waitForSelector("table.groups[data-by=region] tbody tr");
    await page.waitForFunction(() => !document.querySelector(".bulk-bar"));
    await page.goForward();
    await page.waitForSelector("table.findings tbody tr");
    assert.equal(await page.locator("table.findings tbody td.col-pick input:checked").count(), 0);
    // A grouping the dashboard does not know shows the plain list, no error.
    await page.goto(`${BASE}/ui/findings?severity=HIGH&group=colour`);
    await page.waitForSelector("table.findings tbody tr");
    assert.equal(await page.locator("table.groups").count(), 0);
    assert.equal(await page.inputValue("select[name=group_by]"), "");
  });

  await step("live: the groups table fetches its groups again after changes, keeping \"Show up to 1,000\", and holds still while paused", async () => {
    const view = "status=NEW";
    await page.goto(`${BASE}/ui/findings?${view}&group=resource`);
    await page.waitForSelector("table.groups[data-by=resource] tbody tr");
    await liveNow();
    let limit = 100;
    if (await page.locator("[data-testid=groups-more]").count()) {
      await page.click("[data-testid=groups-more]");
      await page.waitForFunction(() => document.querySelectorAll("table.groups tbody tr").length > 100);
      limit = 1000;
    }
    const groups = async () => page.$$eval("table.groups tbody tr", (rs) => rs.map((r) => `${r.dataset.key}=${r.dataset.total}`));
    const api = async () => (await get(`/findings/groups?by=resource&${view}&limit=${limit}`)).groups.map((g) => `${g.key}=${g.total}`);
    assert.deepEqual(await groups(), await api());
    // Two findings of the biggest group are resolved elsewhere.
    const [key] = (await groups())[0].split("=");
    const ids = (await get(`/findings?${view}&resource=${encodeURIComponent(key)}&limit=2`)).items.map((f) => f.id);
    const want = (Number((await groups())[0].split("=").pop()) - ids.length);
    await setStatus(ids, "RESOLVED");
    await page.waitForFunction(([k, t]) =>
      [...document.querySelectorAll("table.groups tbody tr")].some((r) => r.dataset.key === k && Number(r.dataset.total) === t) ||
      (t === 0 && ![...document.querySelectorAll("table.groups tbody tr")].some((r) => r.dataset.key === k)), [key, want]);
    assert.deepEqual(await groups(), await api(), "the groups are the API's, in its order, with the limit chosen");
    await page.screenshot({ path: join(SHOTS, "findings-groups-live.png") });
    // Paused, the groups hold still; unpaused, they catch up once.
    const pause = "label.pause input";
    await page.check(pause);
    let asked = 0;
    const onRequest = (r) => { if (new URL(r.url()).pathname === "/findings/groups") asked += 1; };
    page.on("request", onRequest);
    try {
      await setStatus(ids, "NEW");
      await page.waitForTimeout(2500);
      assert.equal(asked, 0, "the groups were fetched while live updates were paused");
      assert.ok((await groups()).includes(`${key}=${want}`) || want === 0, "the paused groups moved");
      await page.uncheck(pause);
      await page.waitForFunction(([k, t]) =>
        [...document.querySelectorAll("table.groups tbody tr")].some((r) => r.dataset.key === k && Number(r.dataset.total) === t),
        [key, want + ids.length]);
      assert.ok(asked >= 1, "no fetch caught up after the pause");
    } finally {
      page.off("request", onRequest);
      if (await page.isChecked(pause)) await page.uncheck(pause);
    }
    assert.deepEqual(await groups(), await api());
  });

  await step("live: the overview's top lists and compliance are fetched again after a change", async () => {
    await page.goto(`${BASE}/`);
    await page.waitForSelector("[data-testid=total-count]");
    await liveNow();
    const summary = page.waitForRequest((r) => new URL(r.url()).pathname === "/summary", { timeout: 10000 });
    const compliance = page.waitForRequest((r) => new URL(r.url()).pathname === "/compliance", { timeout: 10000 });
    const one = (await get("/findings?status=NEW&limit=1")).items[0];
    await setStatus([one.id], "RESOLVED");
    await Promise.all([summary, compliance]);
    const want = (await get("/summary")).top_accounts.map((k) => k.key);
    await page.waitForFunction((w) => JSON.stringify([...document.querySelectorAll(".top-list")][0] ? [...[...document.querySelectorAll(".top-list")][0].querySelectorAll(".top-key")].map((e) => e.textContent) : []) === JSON.stringify(w), want);
    await setStatus([one.id], "NEW");
  });
}
