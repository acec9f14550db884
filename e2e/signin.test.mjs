// Browser sign-in in real headless Chromium, through a local OpenID provider
// (PyPI oidc-provider-mock) and `cspm serve --oidc-issuer …`: the dashboard asks
// to sign in, the provider sends the browser back signed in to the page it
// started on, the top bar shows who and which role, an analyst's status change
// carries the CSRF token (and a request without it is refused), a viewer sees no
// workflow controls (and a forced PATCH gets 403), a session ended elsewhere
// brings back the sign-in screen, and "Sign out" ends the session at the
// provider too. This script owns the provider and the server. Started by
// scripts/test_e2e.sh, which passes:
//   CSPM_BIN        the `cspm` binary
//   DASHBOARD_DIR   the built dashboard (frontend/dist)
//   OIDC_MOCK       the oidc-provider-mock executable
//   SCREENSHOT_DIR  where the PNGs go
// Prints "sign-in e2e: N passed, M failed".
import { chromium } from "playwright-core";
import { report, step } from "./steps.mjs";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const { CSPM_BIN, DASHBOARD_DIR, OIDC_MOCK, SCREENSHOT_DIR: SHOTS } = process.env;
assert.ok(CSPM_BIN && DASHBOARD_DIR && OIDC_MOCK && SHOTS,
  "CSPM_BIN, DASHBOARD_DIR, OIDC_MOCK and SCREENSHOT_DIR are required");
mkdirSync(SHOTS, { recursive: true });

const freePort = () => new Promise((resolve) => {
  const s = createServer().listen(0, "127.0.0.1", () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const work = mkdtempSync(join(tmpdir(), "cspm-signin-e2e-"));
const children = [];
function start(cmd, args, logName, env = {}) {
  const log = openSync(join(work, logName), "a");
  const child = spawn(cmd, args, { stdio: ["ignore", log, log], env: { ...process.env, ...env } });
  children.push(child);
  return child;
}
async function waitFor(url, child, what) {
  for (let i = 0; i < 300; i++) {
    try { if ((await fetch(url)).ok) return; } catch { /* not up yet */ }
    assert.equal(child.exitCode, null, `${what} exited; see ${work}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not answer ${url} within 30 s`);
}

// --- the provider: one analyst, one viewer (no group) ---
const idpPort = await freePort();
const ISSUER = `http://127.0.0.1:${idpPort}`;
const idp = start(OIDC_MOCK, ["-p", String(idpPort),
  "--user-claims", JSON.stringify({ sub: "alice", name: "Alice Analyst", email: "alice@example.com", groups: ["analyst"] }),
  "--user-claims", JSON.stringify({ sub: "bob", email: "bob@example.com", groups: [] })], "idp.log");
await waitFor(`${ISSUER}/.well-known/openid-configuration`, idp, "oidc-provider-mock");

// --- the server, with sign-in through that provider ---
const port = await freePort();
const BASE = `http://127.0.0.1:${port}`;
const server = start(CSPM_BIN, ["serve", "--demo", "--addr", `127.0.0.1:${port}`,
  "--data-dir", join(work, "data"), "--dashboard-dir", DASHBOARD_DIR,
  "--oidc-issuer", ISSUER, "--oidc-client-id", "cspm-dashboard", "--oidc-roles-claim", "groups"], "server.log",
  // A confidential client (HTTP Basic at the token endpoint): the mock takes any
  // secret for an unregistered client, but refuses a public client's code exchange.
  { CSPM_OIDC_CLIENT_SECRET: "e2e-secret" });
await waitFor(`${BASE}/health`, server, "cspm serve");

const profile = mkdtempSync(join(tmpdir(), "cspm-signin-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = context.pages()[0] ?? (await context.newPage());
const pageErrors = [];
page.on("pageerror", (e) => pageErrors.push(String(e)));

// A request made by the page itself (its cookies, its origin), answered as
// { status, body }.
const fromPage = (method, path, headers = {}, body) =>
  page.evaluate(async ([m, p, h, b]) => {
    const r = await fetch(p, { method: m, headers: { "content-type": "application/json", ...h }, body: b });
    return { status: r.status, body: await r.text() };
  }, [method, path, headers, body]);
const sessionOfPage = async () => JSON.parse((await fromPage("GET", "/auth/session")).body);

// Signs in as `sub` from the sign-in screen and waits to be back.
async function signInAs(sub) {
  await page.click("[data-testid=signin] a:text('Sign in')");
  await page.waitForURL((u) => u.href.startsWith(ISSUER)).catch(async (e) => {
    throw new Error(`not at the provider: ${page.url()}\n${(await page.content()).slice(0, 600)}\n${e}`);
  });
  await page.click(`button[name=sub][value=${sub}]`);
  await page.waitForURL((u) => u.href.startsWith(BASE));
  await page.waitForSelector("[data-testid=user-menu]", { timeout: 10000 }).catch(async (e) => {
    const s = await fromPage("GET", "/auth/session");
    throw new Error(`not signed in at ${page.url()}: /auth/session ${s.status} ${s.body}\n` +
      `${(await page.innerText("body")).slice(0, 400)}\n${e}`);
  });
}

const START = "/ui/findings?severity=CRITICAL";
await step("a browser without a session sees only the sign-in screen", async () => {
  await page.goto(BASE + START);
  await page.waitForSelector("[data-testid=signin]");
  const href = await page.getAttribute("[data-testid=signin] a", "href");
  assert.equal(href, `/auth/login?return_to=${encodeURIComponent(START)}`);
  assert.equal(await page.locator("table.findings").count(), 0);
  assert.equal(await page.locator(".state.error").count(), 0, "no API error is shown before signing in");
  await page.screenshot({ path: join(SHOTS, "signin-screen.png") });
});

await step("signing in at the provider comes back to the same page, signed in as analyst", async () => {
  await signInAs("alice");
  assert.equal(page.url(), BASE + START);
  assert.equal((await page.textContent(".user-menu .user-name")).trim(), "Alice Analyst");
  assert.equal((await page.textContent(".user-menu .role-tag")).trim(), "analyst");
  await page.waitForSelector("table.findings tbody tr");
  const sevs = await page.$$eval("table.findings tbody tr", (rows) => rows.map((r) => r.dataset.severity));
  assert.ok(sevs.length > 0 && sevs.every((s) => s === "CRITICAL"));
  await page.screenshot({ path: join(SHOTS, "signin-analyst-list.png") });
});

let target;
await step("an analyst's status change is saved (the page sends the CSRF token)", async () => {
  const list = JSON.parse((await fromPage("GET", "/findings?severity=CRITICAL&limit=100")).body);
  target = list.items.find((f) => f.workflow_status !== "RESOLVED");
  assert.ok(target, "an unresolved CRITICAL finding exists");
  await page.click(`table.findings a[href="/ui/findings/${target.id}"]`);
  await page.waitForSelector("form.workflow");
  const note = `e2e sign-in: triaged ${Date.now()}`;
  await page.selectOption("select[name=workflow_status]", "RESOLVED");
  await page.fill("textarea[name=note]", note);
  await page.click("form.workflow button[type=submit]");
  await page.waitForSelector(`.audit-note:text("${note}")`);
  const after = JSON.parse((await fromPage("GET", `/findings/${encodeURIComponent(target.id)}`)).body);
  assert.equal(after.workflow_status, "RESOLVED");
  assert.match(after.audit[after.audit.length - 1].actor, /alice/);
  await page.screenshot({ path: join(SHOTS, "signin-analyst-resolved.png"), fullPage: true });
});

await step("the same change without the CSRF header is refused", async () => {
  const body = JSON.stringify({ workflow_status: "NOTIFIED" });
  const r = await fromPage("PATCH", `/findings/${encodeURIComponent(target.id)}`, {}, body);
  assert.equal(r.status, 403, r.body);
  assert.equal(JSON.parse(r.body).error.code, "csrf");
});

await step("a reload stays signed in", async () => {
  await page.reload();
  await page.waitForSelector("[data-testid=user-menu]");
  await page.waitForSelector("h1.detail-title");
});

await step("a session ended elsewhere brings back the sign-in screen at the next request", async () => {
  const { csrf_token } = await sessionOfPage();
  // Ends the session server-side while the page still shows it.
  assert.equal((await fromPage("POST", "/auth/logout", { "X-CSRF-Token": csrf_token })).status, 200);
  await page.click("nav.mainnav a[href='/']");
  await page.waitForSelector("[data-testid=signin]");
  assert.equal(await page.getAttribute("[data-testid=signin] a", "href"), "/auth/login?return_to=%2F");
  await page.screenshot({ path: join(SHOTS, "signin-expired.png") });
});

await step("a viewer sees no workflow controls (detail, list rows), and a forced PATCH or bulk change gets 403", async () => {
  await page.goto(`${BASE}/ui/findings/${target.id}`);
  await page.waitForSelector("[data-testid=signin]");
  await signInAs("bob");
  assert.equal(page.url(), `${BASE}/ui/findings/${target.id}`);
  assert.equal((await page.textContent(".user-menu .role-tag")).trim(), "viewer");
  await page.waitForSelector("[data-testid=read-only]");
  assert.equal(await page.locator("form.workflow").count(), 0);
  const { csrf_token } = await sessionOfPage();
  const r = await fromPage("PATCH", `/findings/${encodeURIComponent(target.id)}`,
    { "X-CSRF-Token": csrf_token }, JSON.stringify({ workflow_status: "NOTIFIED" }));
  assert.equal(r.status, 403, r.body);
  assert.equal(JSON.parse(r.body).error.code, "forbidden");
  await page.screenshot({ path: join(SHOTS, "signin-viewer-detail.png"), fullPage: true });
  // The list offers a viewer no row selection for bulk changes, and the API
  // refuses one anyway.
  await page.click("nav.mainnav a[href='/ui/findings']");
  await page.waitForSelector("table.findings tbody tr");
  assert.equal(await page.locator("table.findings .col-pick").count(), 0);
  const bulk = await fromPage("POST", "/findings/workflow",
    { "X-CSRF-Token": csrf_token },
    JSON.stringify({ ids: [target.id], workflow_status: "NOTIFIED" }));
  assert.equal(bulk.status, 403, bulk.body);
});

await step("a signed-in viewer's export is fetched with the session, and refused without it", async () => {
  const query = "severity=CRITICAL&limit=1000";
  await page.goto(`${BASE}/ui/findings?${query}`);
  await page.waitForSelector("table.findings tbody tr");
  const shown = await page.locator("table.findings tbody tr").count();
  await page.click(".export-menu .export-toggle");
  const [download] = await Promise.all([
    page.waitForEvent("download", { timeout: 30000 }),
    page.click(".export-menu [data-format=jsonl]"),
  ]);
  assert.match(download.suggestedFilename(), /^cspm-findings-\d{8}T\d{6}Z\.jsonl$/);
  const saved = join(work, download.suggestedFilename());
  await download.saveAs(saved);
  const lines = readFileSync(saved, "utf8").split("\n").filter((l) => l !== "");
  assert.equal(lines.length, shown, "one line per finding of the view");
  assert.ok(lines.every((l) => JSON.parse(l).severity === "CRITICAL"));
  // The file is the signed-in viewer's: the same link without the cookie is refused.
  const href = await page.getAttribute(".export-menu a.export-again", "href");
  assert.match(href, /^\/exports\/[0-9a-f]{32}\/download$/);
  assert.equal((await fetch(BASE + href)).status, 401);
  assert.equal((await fromPage("GET", href)).status, 200);
  await page.locator(".page-head").screenshot({ path: join(SHOTS, "signin-viewer-export.png") });
});

await step("sign out ends the session here and at the provider, then asks to sign in", async () => {
  await page.click(".user-menu button:text('Sign out')");
  await page.waitForURL((u) => u.href.startsWith(ISSUER));
  await page.click("button:text('End session')");
  await page.waitForURL((u) => u.href.startsWith(BASE));
  await page.waitForSelector("[data-testid=signin]");
  assert.equal((await fromPage("GET", "/auth/session")).status, 401);
  assert.equal((await fromPage("GET", "/findings")).status, 401);
  await page.screenshot({ path: join(SHOTS, "signin-signed-out.png") });
});

await step("no uncaught errors in the page", async () => {
  assert.deepEqual(pageErrors, []);
});

await context.close();
for (const c of children) c.kill("SIGTERM");
const failed = report("sign-in e2e");
if (failed) {
  console.log(`--- server log (tail) ---\n${readFileSync(join(work, "server.log"), "utf8").split("\n").filter((l) => /WARN|ERROR|refused|sign-in/.test(l)).slice(-20).join("\n")}`);
}
rmSync(profile, { recursive: true, force: true });
rmSync(work, { recursive: true, force: true });
process.exit(failed);
