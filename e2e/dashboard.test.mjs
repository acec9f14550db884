// End-to-end test of the dashboard against a running `cspm serve --demo`, in real
// headless Chromium. Started by scripts/test_e2e.sh, which passes:
//   BASE_URL        http://127.0.0.1:PORT of the server
//   SERVER_PID      its pid; the last step stops it to check the "API down" state
//   SCREENSHOT_DIR  where the PNGs go
// Prints the measured figures, then "e2e: N passed, M failed".
import { chromium } from "playwright-core";
import { figures, report, step } from "./steps.mjs";
import { listViewSteps } from "./list_views.mjs";
import { pagingSteps } from "./paging.mjs";
import { bulkBarSteps } from "./bulk_bar.mjs";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const BASE = process.env.BASE_URL;
const SHOTS = process.env.SCREENSHOT_DIR;
const SERVER_PID = Number(process.env.SERVER_PID || 0);
assert.ok(BASE && SHOTS, "BASE_URL and SCREENSHOT_DIR are required");
mkdirSync(SHOTS, { recursive: true });


const api = async (path) => {
  const r = await fetch(BASE + path);
  assert.equal(r.status, 200, `GET ${path}`);
  return r.json();
};
const num = (s) => Number(String(s).replace(/[^0-9]/g, ""));

// RFC 4180 records of `text` (quoted cells may hold commas, quotes and line breaks).
const parseCsv = (text) => {
  const rows = [];
  let row = [], cell = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; }
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") { row.push(cell); cell = ""; }
    else if (c === "\r" && text[i + 1] === "\n") { row.push(cell); rows.push(row); row = []; cell = ""; i++; }
    else cell += c;
  }
  if (cell !== "" || row.length) { row.push(cell); rows.push(row); }
  return rows;
};

// Resolves with performance.now() of the first animation frame where `check()` holds
// in the page, i.e. when the result is on screen rather than merely in the DOM.
const frameWhen = (page, check, arg) =>
  page.evaluate(
    ([src, a]) =>
      new Promise((resolve) => {
        const f = new Function("a", `return (${src})(a)`);
        const tick = () => (f(a) ? resolve(performance.now()) : requestAnimationFrame(tick));
        tick();
      }),
    [check.toString(), arg],
  );

const profile = mkdtempSync(join(tmpdir(), "cspm-e2e-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = context.pages()[0] ?? (await context.newPage());
const consoleErrors = [];
page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
page.on("pageerror", (e) => consoleErrors.push(String(e)));

// Bodies of the JS and wasm the page loads, to measure what a browser downloads.
const assets = new Map();
page.on("response", async (r) => {
  if (/\.(wasm|js)$/.test(new URL(r.url()).pathname)) {
    try { assets.set(r.url(), await r.body()); } catch { /* navigation raced */ }
  }
});

let summary;
await step("overview counts equal GET /summary", async () => {
  summary = await api("/summary");
  await page.goto(BASE + "/");
  await page.waitForSelector("[data-testid=total-count]");
  assert.equal(num(await page.textContent("[data-testid=total-count]")), summary.total);
  for (const [sev, n] of Object.entries(summary.by_severity)) {
    const shown = await page.textContent(`a[data-severity=${sev}] [data-testid=severity-count]`);
    assert.equal(num(shown), n, `severity ${sev}`);
  }
  for (const [st, n] of Object.entries(summary.by_status)) {
    const shown = await page.textContent(`a[data-status=${st}] [data-testid=status-count]`);
    assert.equal(num(shown), n, `status ${st}`);
  }
  assert.equal(await page.locator("svg.trend rect.col").count(), summary.trend.length);
  assert.ok(summary.total > 0, "the demo data should not be empty");
  await page.screenshot({ path: join(SHOTS, "overview.png"), fullPage: true });
});

await step("wasm + JS size, gzip", async () => {
  const bytes = [...assets.values()].reduce((n, b) => n + gzipSync(b, { level: 9 }).length, 0);
  assert.ok(assets.size >= 2, `saw ${[...assets.keys()].join(", ")}`);
  figures["wasm+JS gzip"] = `${(bytes / 1024).toFixed(1)} KB (goal <= 400 KB)`;
});

await step("compliance card score equals GET /compliance; its drill-down lists a FAILED control", async () => {
  const { standards } = await api("/compliance");
  const std = standards.find((s) => s.failed > 0);
  assert.ok(std, `demo data should have a standard with a failing control: ${JSON.stringify(standards)}`);
  await page.goto(BASE + "/");
  const card = `a.std-card[data-slug="${std.slug}"]`;
  await page.waitForSelector(card);
  assert.equal(await page.locator("a.std-card").count(), standards.length);
  const score = (await page.textContent(`${card} [data-testid=compliance-score]`)).trim();
  assert.equal(score, std.score === null ? "n/a" : `${std.score}%`);
  assert.equal(num(await page.textContent(`${card} [data-testid=failed]`)), std.failed);
  assert.equal(num(await page.textContent(`${card} [data-testid=passed]`)), std.passed);
  assert.equal(num(await page.textContent(`${card} [data-testid=unknown]`)), std.unknown);
  await page.locator("section.compliance").screenshot({ path: join(SHOTS, "overview-compliance.png") });

  await page.click(card);
  await page.waitForSelector("table.controls tbody tr");
  assert.equal(page.url(), `${BASE}/ui/compliance/${std.slug}`);
  const detail = await api(`/compliance/${encodeURIComponent(std.slug)}`);
  assert.equal((await page.textContent("h1.std-title")).trim(), detail.name);
  const rows = await page.$$eval("table.controls tbody tr", (rs) => rs.map((r) => [r.dataset.control, r.dataset.status]));
  assert.deepEqual(rows, detail.controls.map((c) => [c.control_id, c.status]));
  assert.equal(rows[0][1], "FAILED", "failing controls come first");
  // A control whose findings are partly or wholly left out of the score
  // (archived, suppressed) says how many, so a NO_DATA row explains itself.
  const leftOut = await page.$$eval("table.controls tbody tr", (rs) =>
    rs.map((r) => [r.dataset.control, r.querySelector(".ctl-ignored")?.textContent.trim() ?? null]));
  assert.deepEqual(leftOut, detail.controls.map((c) => [c.control_id,
    c.ignored > 0 ? `${c.ignored.toLocaleString("en-US")} left out (archived or suppressed)` : null]));
  const failing = detail.controls.find((c) => c.status === "FAILED");
  const row = `table.controls tr[data-control="${failing.control_id}"]`;
  assert.equal((await page.textContent(`${row} .ctl-status`)).trim(), "FAILED");
  const shownResources = await page.$$eval(`${row} .ctl-resources li`, (li) => li.map((l) => l.textContent));
  assert.deepEqual(shownResources, failing.failing_resources);
  await page.screenshot({ path: join(SHOTS, "compliance-standard.png"), fullPage: true });

  // The failing control opens its page: every finding that fails it, a page
  // of 100 at a time, each linking to its detail.
  const failingPages = async (c) => {
    const ids = [];
    let after = null;
    do {
      const path = `/compliance/${encodeURIComponent(c.slug ?? std.slug)}/controls/${encodeURIComponent(c.control_id)}/failing?limit=1000` +
        (after ? `&after=${encodeURIComponent(after)}` : "");
      const p = await api(path);
      ids.push(...p.items.map((f) => f.id));
      after = p.next_after ?? null;
    } while (after);
    return ids;
  };
  const wantIds = await failingPages(failing);
  assert.equal(wantIds.length, failing.failed, "the API lists every failing finding");
  await page.click(`${row} a.ctl-id`);
  await page.waitForSelector("table.failing tbody tr");
  assert.equal(page.url(), `${BASE}/ui/compliance/${std.slug}/controls/${encodeURIComponent(failing.control_id)}`);
  assert.match(await page.textContent("[data-testid=control-counts]"), new RegExp(`${failing.failed.toLocaleString("en-US")} failed`));
  const shownIds = async () => page.$$eval("table.failing tbody tr", (rs) => rs.map((r) => r.dataset.id));
  assert.deepEqual(await shownIds(), wantIds.slice(0, 100));
  await page.screenshot({ path: join(SHOTS, "compliance-control.png"), fullPage: true });
  // A control with more than a page: "Show more" reaches every one.
  const big = detail.controls.find((c) => c.failed > 100) ??
    (await Promise.all(standards.map((s) => api(`/compliance/${encodeURIComponent(s.slug)}`))))
      .flatMap((d) => d.controls.map((c) => ({ ...c, slug: d.slug }))).find((c) => c.failed > 100);
  assert.ok(big, "demo data should have a control failing on more than 100 findings");
  const bigIds = await failingPages(big);
  await page.goto(`${BASE}/ui/compliance/${big.slug ?? std.slug}/controls/${encodeURIComponent(big.control_id)}`);
  await page.waitForSelector("table.failing tbody tr");
  for (let i = 0; i < 30 && await page.locator("[data-testid=failing-more]").count(); i++) {
    const before = (await shownIds()).length;
    await page.click("[data-testid=failing-more]");
    await page.waitForFunction((n) => document.querySelectorAll("table.failing tbody tr").length > n, before);
  }
  assert.deepEqual(await shownIds(), bigIds, `every failing finding of ${big.control_id}`);
  await page.goBack();
  await page.waitForSelector("table.failing tbody tr");
  // A row opens the finding; the control page offers the whole list of its
  // findings, passing ones too.
  await page.click("table.failing tbody tr:first-child a");
  await page.waitForSelector("h1.detail-title");
  assert.equal(page.url(), `${BASE}/ui/findings/${encodeURIComponent(wantIds[0])}`);
  await page.goBack();
  await page.waitForSelector("table.failing tbody tr");
  const q = `/${failing.control_id}/finding/`;
  const want = await api(`/findings?q=${encodeURIComponent(q)}`);
  assert.ok(want.items.length > 0, `findings of ${failing.control_id}`);
  await page.click("text=All its findings in the list");
  await page.waitForSelector("table.findings tbody tr");
  assert.equal(new URL(page.url()).searchParams.get("q"), q);
  assert.equal(await page.locator("table.findings tbody tr").count(), want.items.length);
});

let bigPageRows = 0;
await step("a 1,000-row findings page renders from a cold navigation", async () => {
  const first = await api("/findings?limit=1000");
  bigPageRows = first.items.length;
  assert.ok(bigPageRows > 0);
  await page.goto(BASE + "/ui/findings?limit=1000");
  const t = await frameWhen(page, (n) => document.querySelectorAll("table.findings tbody tr").length >= n, bigPageRows);
  const apiEnd = await page.evaluate(() => {
    const e = performance.getEntriesByType("resource").filter((r) => r.name.includes("/findings?limit=1000"));
    return e.length ? e[e.length - 1].responseEnd : NaN;
  });
  figures[`navigation to table with ${bigPageRows} rows`] =
    `${t.toFixed(0)} ms, of which ${(t - apiEnd).toFixed(0)} ms after the API answered (goal <= 300 ms for 1,000)`;
  assert.equal(await page.locator("table.findings tbody tr").count(), bigPageRows);
});

await step("filtering to CRITICAL shows only CRITICAL rows and puts it in the URL", async () => {
  const want = await api("/findings?severity=CRITICAL&limit=1000");
  assert.ok(want.items.length > 0, "demo data has CRITICAL findings");
  const shown = frameWhen(page, () => {
    const t = document.querySelector("table.findings");
    return t && t.dataset.query === "severity=CRITICAL&limit=1000";
  });
  await page.click("button.chip-critical");
  const rendered = await shown;
  const answered = await page.evaluate(() => {
    const e = performance.getEntriesByType("resource").filter((r) => r.name.includes("/findings?severity=CRITICAL"));
    return e.length ? e[e.length - 1].responseEnd : null;
  });
  assert.ok(answered !== null, "the API request was seen");
  figures["filter applied after the API answered"] = `${(rendered - answered).toFixed(0)} ms for ${want.items.length} rows (goal <= 100 ms)`;
  assert.match(page.url(), /[?&]severity=CRITICAL(&|$)/);
  const sevs = await page.$$eval("table.findings tbody tr", (rows) => rows.map((r) => r.dataset.severity));
  assert.equal(sevs.length, want.items.length);
  assert.ok(sevs.every((s) => s === "CRITICAL"), `non-critical rows: ${sevs.filter((s) => s !== "CRITICAL")}`);
  await page.screenshot({ path: join(SHOTS, "findings-critical.png") });
});

await step("reloading the filtered URL restores the filter", async () => {
  const url = page.url();
  await page.reload();
  await page.waitForSelector("table.findings tbody tr");
  assert.equal(page.url(), url);
  assert.equal(await page.getAttribute("button.chip-critical", "aria-pressed"), "true");
  const sevs = await page.$$eval("table.findings tbody tr", (rows) => rows.map((r) => r.dataset.severity));
  assert.ok(sevs.length > 0 && sevs.every((s) => s === "CRITICAL"));
  // Back returns to the unfiltered list (history holds each view).
  await page.goBack();
  await page.waitForFunction(() => document.querySelector("table.findings")?.dataset.query === "limit=1000");
  await page.goForward();
  await page.waitForFunction(() => document.querySelector("table.findings")?.dataset.query === "severity=CRITICAL&limit=1000");
});

await step("Export CSV from the filtered view downloads a file with the view's rows", async () => {
  const query = "severity=CRITICAL&limit=1000";
  await page.waitForFunction((q) => document.querySelector("table.findings")?.dataset.query === q, query);
  // The view is one page (no older one), so its count is the whole filtered set.
  const shown = await page.locator("table.findings tbody tr").count();
  // The head reads "1–260 of 260": the range shown, then the view's exact total.
  const head = (await page.textContent(".page-head .muted")).trim();
  assert.match(head, /^1–\d[\d,]* of \d[\d,]*$/, head);
  assert.equal(num(head.split(" of ")[1]), shown);
  assert.equal(num(head.split(" of ")[0].split("–")[1]), shown);
  assert.ok(await page.isDisabled("nav.pager button:text('Older →')"));
  const want = await api(`/findings?${query}`);
  assert.equal(want.next_cursor, null);
  assert.equal(want.items.length, shown);

  await page.click(".export-menu .export-toggle");
  await page.waitForSelector(".export-menu [role=menu] [data-format=csv]");
  await page.screenshot({ path: join(SHOTS, "export-menu.png") });
  const [download] = await Promise.all([
    page.waitForEvent("download", { timeout: 30000 }),
    page.click(".export-menu [data-format=csv]"),
  ]);
  assert.match(download.suggestedFilename(), /^cspm-findings-\d{8}T\d{6}Z\.csv$/);
  const saved = join(profile, download.suggestedFilename());
  await download.saveAs(saved);
  const [header, ...rows] = parseCsv(readFileSync(saved, "utf8"));
  assert.deepEqual(header.slice(0, 4), ["id", "asff_id", "severity", "workflow_status"]);
  assert.equal(rows.length, shown, "data rows = the view's count");
  assert.ok(rows.every((r) => r[2] === "CRITICAL"), "only the view's severity");
  // The same findings, newest first as the API lists them (a leading ' guards a
  // cell a spreadsheet would read as a formula).
  assert.deepEqual(rows.map((r) => r[0].replace(/^'/, "")), want.items.map((f) => f.id));
  await page.waitForSelector(".export-status[data-state=done]");
  assert.equal(
    (await page.textContent(".export-status")).replace(/:.*?(\d[\d,]*) findings.*/, ": $1 findings"),
    `CSV export ready: ${shown.toLocaleString("en-US")} findings`,
  );
  figures["CSV export of the filtered view"] = `${shown} rows, ${readFileSync(saved).length} bytes`;
  await page.locator(".page-head").screenshot({ path: join(SHOTS, "export-done.png") });
  await page.screenshot({ path: join(SHOTS, "export-done-page.png") });
});

let target;
await step("opening a finding shows its title and raw JSON", async () => {
  const list = await api("/findings?severity=CRITICAL&limit=1000");
  target = list.items.find((f) => f.workflow_status !== "RESOLVED");
  assert.ok(target, "an unresolved CRITICAL finding exists");
  await page.click(`table.findings a[href="/ui/findings/${target.id}"]`);
  await page.waitForSelector("h1.detail-title");
  assert.equal(page.url(), `${BASE}/ui/findings/${target.id}`);
  const detail = await api(`/findings/${encodeURIComponent(target.id)}`);
  assert.equal((await page.textContent("h1.detail-title")).trim(), detail.title);
  const raw = JSON.parse(await page.textContent("pre.raw"));
  assert.deepEqual(raw, detail.raw);
  await page.screenshot({ path: join(SHOTS, "detail.png"), fullPage: true });
});

await step("resolving a finding with a note persists (page reload and API)", async () => {
  const note = `e2e: bucket policy fixed ${Date.now()}`;
  await page.selectOption("select[name=workflow_status]", "RESOLVED");
  await page.fill("textarea[name=note]", note);
  await page.click("form.workflow button[type=submit]");
  await page.waitForSelector(`.audit-note:text("${note}")`);
  await page.reload();
  await page.waitForSelector("h1.detail-title");
  assert.equal((await page.textContent(".detail-badges .status")).trim(), "RESOLVED");
  assert.ok(await page.isVisible(`.audit-note:text("${note}")`));
  const after = await api(`/findings/${encodeURIComponent(target.id)}`);
  assert.equal(after.workflow_status, "RESOLVED");
  const last = after.audit[after.audit.length - 1];
  assert.equal(last.to_status, "RESOLVED");
  assert.equal(last.note, note);
  await page.screenshot({ path: join(SHOTS, "detail-resolved.png"), fullPage: true });
});

await step("a finding's remediation panel shows the API's plan (no AWS here: not available)", async () => {
  // An S3.8 finding (bucket should block public access): s3-block-public-access
  // fixes it, but the demo server runs without --remediation, so its plan says
  // the action is not available here, offers no Apply, and reads nothing.
  const buckets = await api("/findings?resource_type=AwsS3Bucket&limit=1000");
  const s3 = buckets.items.find((f) => f.control_id === "S3.8");
  assert.ok(s3, "a demo S3.8 finding exists");
  const plan = await api(`/findings/${encodeURIComponent(s3.id)}/remediation/plan`);
  assert.equal(plan.action, "s3-block-public-access");
  assert.equal(plan.applicable, false);
  assert.match(plan.after, /s3-block-public-access is not available here/);
  await page.goto(`${BASE}/ui/findings/${s3.id}`);
  const panel = page.locator("section[data-testid=remediation]");
  await panel.locator("[data-testid=remediation-offer]").waitFor();
  assert.equal((await panel.locator("[data-field=action]").textContent()).trim(), "s3-block-public-access");
  assert.equal(
    (await panel.locator("[data-testid=remediation-offer]").textContent()).trim(),
    `Not applicable: ${plan.after}`,
  );
  assert.equal(await panel.locator("[data-testid=remediation-apply]").count(), 0, "no Apply for a plan that cannot run");
  const history = await api(`/remediations?finding=${encodeURIComponent(s3.id)}`);
  assert.deepEqual(history.items, []);
  assert.equal((await panel.locator("[data-testid=remediation-history]").textContent()).trim(), "No remediation yet.");
  // Approving is refused on a server without --remediation, and nothing is recorded.
  const approve = await fetch(`${BASE}/findings/${encodeURIComponent(s3.id)}/remediation`, { method: "POST" });
  assert.equal(approve.status, 409);
  assert.equal((await approve.json()).error.code, "remediation_off");
  assert.deepEqual((await api(`/remediations?finding=${encodeURIComponent(s3.id)}`)).items, []);
  await panel.screenshot({ path: join(SHOTS, "detail-remediation.png") });
});

await step("bulk: shift-click ticks a range; select all matching + RESOLVED changes every matching row", async () => {
  // A view spanning several pages of 20 but one page of 1,000 (its count then has no separator).
  let filterQs, before;
  for (const rt of ["AwsKmsKey", "AwsDynamoDbTable", "AwsRdsDbInstance", "AwsEc2Instance", "AwsLambdaFunction", "AwsIamUser"]) {
    filterQs = `severity=MEDIUM&status=NEW&resource_type=${rt}`;
    before = await api(`/findings?${filterQs}&limit=1000`);
    if (before.items.length > 20 && before.items.length < 1000 && !before.next_cursor) break;
  }
  const n = before.items.length;
  assert.ok(n > 20 && n < 1000, `demo data has a view of 21..999 NEW MEDIUM findings (${filterQs}: ${n})`);
  await page.goto(`${BASE}/ui/findings?${filterQs}&limit=20`);
  await page.waitForFunction((q) => document.querySelector("table.findings")?.dataset.query === q, `${filterQs}&limit=20`);
  const boxes = page.locator("table.findings tbody td.col-pick input");
  await boxes.nth(1).click();
  await boxes.nth(5).click({ modifiers: ["Shift"] });
  assert.equal((await page.textContent(".bulk-count")).trim(), "5 selected");
  const ticked = await page.$$eval("table.findings tbody tr", (rows) =>
    rows.map((r, i) => (r.querySelector("td.col-pick input").checked ? i : -1)).filter((i) => i >= 0));
  assert.deepEqual(ticked, [1, 2, 3, 4, 5]);
  await page.screenshot({ path: join(SHOTS, "findings-bulk-range.png") });
  await page.click("table.findings th.col-pick input");
  assert.equal((await page.textContent(".bulk-count")).trim(), "20 selected");
  await page.click(".bulk-bar button:text('Select all matching this filter')");
  await page.waitForFunction((want) => document.querySelector(".bulk-count")?.textContent.trim() === want,
    `All ${n} findings matching this filter selected`);
  const note = `e2e: bulk resolve ${Date.now()}`;
  await page.selectOption("select[name=bulk_status]", "RESOLVED");
  await page.fill("input[name=bulk_note]", note);
  assert.equal((await page.textContent(".bulk-bar button[type=submit]")).trim(), `Apply to ${n}`);
  await page.screenshot({ path: join(SHOTS, "findings-bulk-all-matching.png") });
  // All matching runs in steps of about a tenth (100..1,000 findings), each
  // request going on from the last one's cursor; the count is checked once.
  const posts = [];
  const onRequest = (r) => {
    if (r.method() === "POST" && new URL(r.url()).pathname.endsWith("/findings/workflow")) posts.push(JSON.parse(r.postData()));
  };
  page.on("request", onRequest);
  await page.click(".bulk-bar button[type=submit]");
  await page.waitForSelector(".bulk-result");
  page.off("request", onRequest);
  assert.equal((await page.textContent(".bulk-result")).trim(), `${n} changed`);
  const stepSize = Math.min(1000, Math.max(100, Math.ceil(n / 10)));
  assert.ok(posts.length >= Math.ceil(n / stepSize), `${posts.length} requests for ${n} findings in steps of ${stepSize}`);
  assert.equal(posts[0].expected_total, n);
  assert.equal(posts[0].limit, stepSize);
  assert.equal(posts[0].cursor, undefined);
  for (const p of posts.slice(1)) {
    assert.ok(p.cursor && p.expected_total === undefined && p.limit === stepSize, JSON.stringify(p).slice(0, 200));
  }
  // The rows reload: none of the view's findings is NEW any more. The bar keeps
  // only the answer (the selection went with the change) until dismissed.
  await page.waitForSelector(".state.empty");
  assert.equal(await page.locator(".bulk-bar select[name=bulk_status]").count(), 0);
  await page.screenshot({ path: join(SHOTS, "findings-bulk-resolved.png") });
  await page.click(".bulk-bar button:text('Dismiss')");
  await page.waitForSelector(".bulk-bar", { state: "detached" });
  assert.equal((await api(`/findings?${filterQs}&limit=1000`)).items.length, 0);
  const one = await api(`/findings/${encodeURIComponent(before.items[n - 1].id)}`);
  assert.equal(one.workflow_status, "RESOLVED");
  assert.equal(one.audit[one.audit.length - 1].note, note);
});

await step("grouping by control shows GET /findings/groups' table; a click lists the group with the group's total", async () => {
  const want = await api("/findings/groups?by=generator&severity=HIGH");
  assert.ok(want.exact && want.groups.length > 1, `demo data has several HIGH controls: ${JSON.stringify(want).slice(0, 200)}`);
  await page.goto(`${BASE}/ui/findings?severity=HIGH`);
  await page.waitForSelector("table.findings tbody tr");
  await page.selectOption("select[name=group_by]", "generator");
  await page.waitForSelector("table.groups tbody tr");
  const rows = await page.$$eval("table.groups tbody tr", (rs) =>
    rs.map((r) => ({ key: r.dataset.key, total: Number(r.dataset.total) })));
  assert.deepEqual(rows, want.groups.map((g) => ({ key: g.key, total: g.total })));
  await page.screenshot({ path: join(SHOTS, "findings-groups.png"), fullPage: true });
  const g = want.groups[0];
  await page.click("table.groups tbody tr:first-child td.col-title a");
  await page.waitForFunction(() => /(^|&)generator=/.test(document.querySelector("table.findings")?.dataset.query ?? ""));
  assert.match(page.url(), /[?&]generator=/);
  await page.waitForFunction(() => / of /.test(document.querySelector("[data-testid=view-count]")?.textContent ?? ""));
  const shown = await page.textContent("[data-testid=view-count]");
  assert.equal(num(shown.split(" of ")[1]), g.total, `list head "${shown}" vs group ${g.key} total ${g.total}`);
  const list = await api(`/findings?severity=HIGH&generator=${encodeURIComponent(g.key)}&limit=1`);
  assert.equal(list.total, g.total);
  assert.equal(list.total_is_exact, true);
  await page.screenshot({ path: join(SHOTS, "findings-group-clicked.png") });
});
await step("grouping by resource lists the first 100 groups, then up to 1,000 on request, as the API does", async () => {
  const first = await api("/findings/groups?by=resource");
  assert.ok(first.other > 0 && first.groups.length === 100, `demo data has more than 100 resources: other=${first.other}`);
  await page.goto(`${BASE}/ui/findings?group=resource`);
  await page.waitForSelector("table.groups tbody tr");
  const keys = () => page.$$eval("table.groups tbody tr", (rs) => rs.map((r) => r.dataset.key));
  assert.deepEqual(await keys(), first.groups.map((g) => g.key));
  assert.match(await page.textContent("[data-testid=groups-other]"), new RegExp(`^${first.other.toLocaleString("en-US")} more findings`));
  await page.click("[data-testid=groups-more]");
  const more = await api("/findings/groups?by=resource&limit=1000");
  await page.waitForFunction((n) => document.querySelectorAll("table.groups tbody tr").length === n, more.groups.length);
  assert.deepEqual(await keys(), more.groups.map((g) => g.key));
  if (more.other > 0) {
    assert.match(await page.textContent("[data-testid=groups-other]"), /narrow the filter/);
  }
  assert.equal(await page.locator("[data-testid=groups-more]").count(), 0);
  await page.screenshot({ path: join(SHOTS, "findings-groups-more.png") });
  // A group far down opens its list; Back shows the 1,000 groups again, at the
  // height the person left them.
  const deep = `table.groups tbody tr:nth-child(${Math.min(600, more.groups.length)})`;
  await page.locator(deep).scrollIntoViewIfNeeded();
  const y = await page.evaluate(() => window.scrollY);
  assert.ok(y > 1000, `scrolled down to the 600th group: ${y}`);
  const key = await page.getAttribute(deep, "data-key");
  await page.click(`${deep} a`);
  await page.waitForSelector("table.findings tbody tr");
  assert.equal(new URL(page.url()).searchParams.get("resource"), key);
  await page.goBack();
  await page.waitForFunction((n) => document.querySelectorAll("table.groups tbody tr").length === n, more.groups.length);
  const backAt = async (what) => {
    await page.waitForFunction((n) => document.querySelectorAll("table.groups tbody tr").length === n, more.groups.length);
    await page.waitForFunction((want) => Math.abs(window.scrollY - want) <= 2, y, { timeout: 5000 })
      .catch(async () => assert.fail(`${what} came to ${await page.evaluate(() => window.scrollY)} px, not ${y}`));
    assert.equal(await page.getAttribute(deep, "data-key"), key);
  };
  await backAt("Back");
  // The place belongs to that history entry: Forward then Back finds it again.
  await page.goForward();
  await page.waitForSelector("table.findings tbody tr");
  await page.goBack();
  await backAt("Back after Forward");
  // A new visit to the same address, inside the app (no reload), starts at the
  // top with the first 100 groups.
  await page.click(`${deep} a`);
  await page.waitForSelector("table.findings tbody tr");
  await page.click("nav a[href='/ui/findings']");
  await page.waitForFunction(() => location.search === "");
  await page.selectOption("select[name=group_by]", "resource");
  await page.waitForSelector("table.groups tbody tr");
  assert.equal(new URL(page.url()).search, "?group=resource");
  assert.equal(await page.locator("table.groups tbody tr").count(), 100);
  assert.equal(await page.evaluate(() => window.scrollY), 0);
});
// Counts and the grouping while the data changes under the open list (own file).
await listViewSteps({ page, BASE, SHOTS });
// Paging history and the dashboard's addresses; the bulk bar (own files).
await pagingSteps({ page, BASE, SHOTS });
await bulkBarSteps({ page, BASE, SHOTS });

await step("the API's paths typed in the address bar open the matching pages", async () => {
  // A browser navigation (Accept: text/html) to an API path gets the dashboard,
  // which replaces the address with its own page for the same view.
  await page.goto(`${BASE}/findings?severity=HIGH&status=NEW`);
  await page.waitForFunction(() => document.querySelector("table.findings")?.dataset.query?.startsWith("severity=HIGH&status=NEW"));
  assert.equal(page.url(), `${BASE}/ui/findings?severity=HIGH&status=NEW`);
  // The rows are the API's answer to the query the page says it made.
  const query = await page.getAttribute("table.findings", "data-query");
  const want = await api(`/findings?${query}`);
  const ids = await page.$$eval("table.findings tbody tr", (r) => r.map((x) => x.dataset.id));
  assert.ok(ids.length > 0, "demo data has NEW HIGH findings");
  assert.deepEqual(ids, want.items.map((f) => f.id));
  await page.goto(`${BASE}/findings/${encodeURIComponent(target.id)}`);
  await page.waitForSelector("h1.detail-title");
  assert.equal(page.url(), `${BASE}/ui/findings/${target.id}`);
  // Replaced, not pushed: Back leaves the page instead of bouncing to the alias.
  await page.goto(`${BASE}/findings`);
  await page.waitForFunction(() => location.pathname === "/ui/findings");
  await page.goBack();
  await page.waitForFunction(() => location.pathname.startsWith("/ui/findings/"));
});

await step("at a phone's width (390×844) no page scrolls sideways", async () => {
  // The finding with the longest resource id: its ARN is in the description
  // and the resources table, the widest text a detail page has.
  const { items } = await api("/findings?limit=1000");
  const long = items.reduce((a, f) => (f.resource_id.length > a.resource_id.length ? f : a));
  const { controls } = await api("/compliance/aws-fsbp");
  const failing = controls.find((c) => c.status === "FAILED");
  assert.ok(failing, "aws-fsbp has a failing control in the demo data");
  // [name, screenshot, path, what shows its content has loaded]
  const pages = [
    ["overview", "overview", "/", ["[data-testid=total-count]", "a.std-card"]],
    ["findings list", "findings", "/ui/findings", ["table.findings tbody tr"]],
    ["findings grouped by resource", "findings-groups", "/ui/findings?group=resource", ["table.groups tbody tr"]],
    ["finding detail", "detail", `/ui/findings/${encodeURIComponent(long.id)}`, ["h1.detail-title", "[data-testid=remediation-offer]"]],
    ["compliance standard", "compliance-standard", "/ui/compliance/aws-fsbp", ["table.controls tbody tr"]],
    ["compliance control", "compliance-control",
      `/ui/compliance/aws-fsbp/controls/${encodeURIComponent(failing.control_id)}`, ["table.failing tbody tr"]],
    ["remediations", "remediations", "/ui/remediations", ["table[data-testid=remediations] tbody tr, .state.empty"]],
  ];
  const normal = page.viewportSize();
  await page.setViewportSize({ width: 390, height: 844 });
  try {
    const wide = [];
    for (const [name, shot, path, ready] of pages) {
      await page.goto(BASE + path);
      for (const s of ready) await page.waitForSelector(s);
      const { scroll, inner } = await page.evaluate(() =>
        ({ scroll: document.scrollingElement.scrollWidth, inner: document.documentElement.clientWidth }));
      if (scroll > inner) wide.push(`${name} (${path}): scrollWidth ${scroll} > clientWidth ${inner}`);
      await page.screenshot({ path: join(SHOTS, `phone-${shot}.png`), fullPage: true });
    }
    assert.ok(wide.length === 0, `pages wider than a 390 px window:\n${wide.join("\n")}`);
  } finally {
    // The steps after this one run at the journey's normal size.
    await page.setViewportSize(normal);
  }
});

await step("with the API stopped the page says so and offers a retry", async () => {
  assert.ok(SERVER_PID > 0, "SERVER_PID is required for this step");
  await page.click("nav.mainnav a[href='/']");
  await page.waitForSelector("[data-testid=total-count]");
  process.kill(SERVER_PID, "SIGTERM");
  for (let i = 0; i < 50; i++) {
    try { await fetch(BASE + "/health"); await new Promise((r) => setTimeout(r, 100)); } catch { break; }
  }
  await page.click("nav.mainnav a[href='/ui/findings']");
  await page.waitForSelector(".state.error", { timeout: 10000 });
  assert.match(await page.textContent(".state.error"), /cannot be reached/);
  await page.click(".state.error button:text('Retry')");
  await page.waitForSelector(".state.error button:text('Retry')");
  await page.screenshot({ path: join(SHOTS, "api-down.png") });
});

await step("no uncaught errors in the page (besides failed requests while the API was down)", async () => {
  const real = consoleErrors.filter((m) => !/Failed to load resource|net::ERR_/.test(m));
  assert.deepEqual(real, []);
});

await context.close();
rmSync(profile, { recursive: true, force: true });
console.log(`\nScreenshots: ${SHOTS}`);
process.exit(report("e2e"));
