// Remediation in real headless Chromium against a real `cspm serve --remediation
// FILE` whose actions call the AWS emulator (moto_server): an S3 bucket is made
// public for real in the emulator, the real corpus CloudTrail event that did it
// (Panther's "S3 Made Publicly Accessible" PutBucketPolicy, renamed to the
// bucket) is posted and becomes a finding; an analyst opens the finding, sees
// its plan (s3-block-public-access, a PutPublicAccessBlock call), clicks Apply,
// and the page shows the finding RESOLVED with the verified remediation in its
// history, and the Remediations page lists it with who approved (and shows its
// empty state for a status nothing is in); the emulator's bucket then blocks
// public access, the record names who approved, and the finding's audit names
// the remediation. This script owns its server. Started by scripts/test_e2e.sh
// (under scripts/with_moto.sh), which passes:
//   CSPM_BIN                the `cspm` binary
//   DASHBOARD_DIR           the built dashboard (frontend/dist)
//   CORPUS_DIR              ../shared/corpus
//   SCREENSHOT_DIR          where the PNGs go
//   CSPM_TEST_AWS_ENDPOINT  the emulator (http://127.0.0.1:PORT)
// Prints "remediation e2e: N passed, M failed".
import { chromium } from "playwright-core";
import { report, step, tally } from "./steps.mjs";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const { CSPM_BIN, DASHBOARD_DIR, CORPUS_DIR, SCREENSHOT_DIR: SHOTS, CSPM_TEST_AWS_ENDPOINT: AWS } = process.env;
assert.ok(CSPM_BIN && DASHBOARD_DIR && CORPUS_DIR && SHOTS && AWS,
  "CSPM_BIN, DASHBOARD_DIR, CORPUS_DIR, SCREENSHOT_DIR and CSPM_TEST_AWS_ENDPOINT are required");
mkdirSync(SHOTS, { recursive: true });

const ACTION = "s3-block-public-access";
const RULE = "aws.s3.bucket-policy-public";
const work = mkdtempSync(join(tmpdir(), "cspm-remediation-e2e-"));
let server = null;
let context = null;
let profile = null;

async function stopServer() {
  if (!server || server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise((r) => server.once("exit", r));
  server.kill("SIGTERM");
  const late = setTimeout(() => server.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(late);
}
function cleanup() {
  if (profile) rmSync(profile, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
}
// However the journey goes, it ends: after 3 minutes the server is killed and
// the script fails.
setTimeout(() => {
  console.log("remediation e2e: gave up after 180 s");
  if (server && server.exitCode === null) server.kill("SIGKILL");
  cleanup();
  process.exit(1);
}, 180_000).unref();

const freePort = () => new Promise((resolve) => {
  const s = createServer().listen(0, "127.0.0.1", () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// --- the emulator's S3 REST API, path-style. moto does not check signatures:
// unsigned requests are taken as the default account's (a body needs a
// content type other than a form's, which moto would parse away).
async function s3(method, path, body) {
  const r = await fetch(AWS + path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  return { status: r.status, text: await r.text() };
}
const xmlCode = (text) => /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
// The bucket's public access block as the four settings, or null when it has none.
async function publicAccessBlock(bucket) {
  const r = await s3("GET", `/${bucket}?publicAccessBlock`);
  if (r.status === 404) {
    assert.equal(xmlCode(r.text), "NoSuchPublicAccessBlockConfiguration", r.text);
    return null;
  }
  assert.equal(r.status, 200, r.text);
  const setting = (name) => {
    const m = new RegExp(`<${name}>\\s*(true|false)\\s*</${name}>`, "i").exec(r.text);
    assert.ok(m, `${name} in ${r.text}`);
    return m[1].toLowerCase() === "true";
  };
  return Object.fromEntries(["BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"]
    .map((k) => [k, setting(k)]));
}

// --- the real corpus event, renamed to this journey's bucket (as the Rust
// tests' public_policy_event does) ---
const bucket = `cspm-e2e-rem-${Date.now()}`;
const corpusCase = JSON.parse(readFileSync(join(CORPUS_DIR,
  "rule-case/panther__AWS.CloudTrail.ResourceMadePublic_T_S3-Made-Publicly-Accessible.json"), "utf8"));
const event = structuredClone(corpusCase.event);
event.requestParameters.bucketName = bucket;
event.requestParameters.bucketPolicy.Statement[0].Resource = `arn:aws:s3:::${bucket}`;

// --- the server: remediation on, its AWS calls going to the emulator ---
const port = await freePort();
const BASE = `http://127.0.0.1:${port}`;
const config = join(work, "remediation.yaml");
writeFileSync(config, `enabled: [${ACTION}]\n`);
async function startServer() {
  const log = openSync(join(work, "server.log"), "a");
  const env = { ...process.env, AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing" };
  // Only the flags below configure it, no CSPM_* setting of the environment
  // (no token, no sign-in: open on loopback, so the dashboard's user may apply,
  // and is named "local").
  for (const k of Object.keys(env)) if (k.startsWith("CSPM_")) delete env[k];
  server = spawn(CSPM_BIN, ["serve", "--addr", `127.0.0.1:${port}`, "--data-dir", join(work, "data"),
    "--dashboard-dir", DASHBOARD_DIR, "--remediation", config,
    "--aws-endpoint", AWS, "--aws-region", "us-east-1"], { stdio: ["ignore", log, log], env });
  for (let i = 0; i < 300; i++) {
    try { if ((await fetch(BASE + "/health")).ok) return; } catch { /* not up yet */ }
    assert.equal(server.exitCode, null, "cspm serve exited; see server.log");
    await sleep(100);
  }
  throw new Error("cspm serve did not answer /health within 30 s");
}
const api = async (method, path, body) => {
  const r = await fetch(BASE + path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await r.text();
  assert.ok(r.ok, `${method} ${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
};

let findingId;
let page;
// A screenshot of `panel` without the sticky top bar, which would cover the top
// of a panel scrolled into view (hidden through the CSSOM: the page's CSP
// refuses an injected style sheet).
async function panelShot(panel, name) {
  const topbar = (hidden) => page.evaluate((h) => { document.querySelector(".topbar").style.visibility = h ? "hidden" : ""; }, hidden);
  await topbar(true);
  try {
    await panel.screenshot({ path: join(SHOTS, name) });
  } finally {
    await topbar(false);
  }
}
const consoleErrors = [];
const failedLoads = [];

await step("a bucket is made public for real in the emulator", async () => {
  const made = await s3("PUT", `/${bucket}`);
  assert.equal(made.status, 200, made.text);
  // A new bucket's block (as AWS sets one) goes: nothing stops a public policy.
  if ((await publicAccessBlock(bucket)) !== null) {
    const del = await s3("DELETE", `/${bucket}?publicAccessBlock`);
    assert.ok(del.status === 204 || del.status === 200, del.text);
  }
  const policy = JSON.stringify(event.requestParameters.bucketPolicy);
  const put = await s3("PUT", `/${bucket}?policy`, policy);
  assert.ok(put.status === 204 || put.status === 200, put.text);
  const read = await s3("GET", `/${bucket}?policy`);
  assert.equal(read.status, 200, read.text);
  assert.deepEqual(JSON.parse(read.text), event.requestParameters.bucketPolicy, "the policy was stored as put");
  assert.equal(await publicAccessBlock(bucket), null, "the bucket has no public access block");
});

await step("cspm serve --remediation starts, and the corpus event becomes a finding", async () => {
  await startServer();
  const outcome = await api("POST", "/events", event);
  assert.ok(outcome.stored >= 1, JSON.stringify(outcome));
  const list = await api("GET", `/findings?generator=${encodeURIComponent(RULE)}&limit=100`);
  assert.equal(list.items.length, 1, `one ${RULE} finding: ${JSON.stringify(list.items)}`);
  const [f] = list.items;
  assert.notEqual(f.workflow_status, "RESOLVED");
  assert.match(f.resource_id, new RegExp(bucket), "the finding is about this bucket");
  findingId = f.id;
});

await step("the finding's detail shows the plan with PutPublicAccessBlock and an Apply button", async () => {
  assert.ok(findingId, "a finding (previous step)");
  profile = mkdtempSync(join(tmpdir(), "cspm-remediation-chromium-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  context.setDefaultTimeout(15_000);
  page = context.pages()[0] ?? (await context.newPage());
  page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  page.on("response", (r) => r.status() >= 400 && failedLoads.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}`));

  await page.goto(`${BASE}/ui/findings/${findingId}`);
  await page.waitForSelector("h1.detail-title");
  assert.notEqual((await page.textContent(".detail-badges .status")).trim(), "RESOLVED");
  const panel = page.locator("section[data-testid=remediation]");
  await panel.waitFor();
  // The plan has loaded when its action is shown.
  await panel.locator("[data-field=action]").waitFor();
  assert.equal((await panel.locator("[data-field=action]").textContent()).trim(), ACTION);
  const calls = (await panel.locator("ol.calls > li .mono").allTextContents()).map((t) => t.trim());
  assert.ok(calls.some((c) => /PutPublicAccessBlock$/.test(c)), `a PutPublicAccessBlock call in ${JSON.stringify(calls)}`);
  const params = await panel.locator("ol.calls > li pre").first().textContent();
  assert.match(params, new RegExp(bucket), "the call names the bucket");
  const offer = await panel.locator("[data-testid=remediation-offer]").allTextContents();
  assert.ok(await panel.locator("[data-testid=remediation-apply]").isVisible(),
    `an Apply button (the page offers instead: ${JSON.stringify(offer)})`);
  assert.equal((await panel.locator("[data-testid=remediation-history]").textContent()).trim(), "No remediation yet.");
  await panelShot(panel, "remediation-1-plan-panel.png");
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(SHOTS, "remediation-1-plan.png"), fullPage: true });
});

await step("Apply: the page shows the finding RESOLVED with the verified remediation in its history", async () => {
  assert.ok(page, "the detail page (previous step)");
  const panel = page.locator("section[data-testid=remediation]");
  const apply = panel.locator("[data-testid=remediation-apply]");
  assert.equal(await apply.count(), 1, "an Apply button (previous step)");
  await apply.click();
  // Queued, then the worker applies and verifies; the page follows the
  // history and reloads the finding.
  await page.waitForFunction(() =>
    document.querySelector(".detail-badges .status")?.textContent.trim() === "RESOLVED" &&
    document.querySelector("section[data-testid=remediation] [data-testid=remediation-history] li[data-status=verified]"),
  null, { timeout: 30_000 }).catch(async (e) => {
    const status = await page.textContent(".detail-badges .status").catch(() => "?");
    const history = await panel.innerText().catch(() => "?");
    await page.screenshot({ path: join(SHOTS, "remediation-2-failed.png"), fullPage: true }).catch(() => {});
    throw new Error(`not RESOLVED with a verified remediation within 30 s: status ${status}\n${history}\n${e}`);
  });
  const item = panel.locator("[data-testid=remediation-history] li[data-status=verified]");
  assert.equal(await item.count(), 1, "one verified remediation");
  assert.match(await item.innerText(), new RegExp(`Verified\\s*·\\s*${ACTION}`));
  assert.match(await item.innerText(), /local/, "the history names who approved");
  // The audit trail names the remediation as the one who resolved it.
  assert.match(await page.locator(".detail-side").innerText(), new RegExp(`remediation:${ACTION}`));
  // Planned again on the fixed bucket: nothing is offered any more.
  await panel.locator("[data-testid=remediation-offer]").waitFor();
  assert.match(await panel.locator("[data-field=after]").textContent(), /nothing left to do/);
  assert.equal(await panel.locator("[data-testid=remediation-apply]").count(), 0, "no Apply once resolved");
  await panelShot(panel, "remediation-2-resolved-panel.png");
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(SHOTS, "remediation-2-resolved.png"), fullPage: true });
});

await step("the Remediations page lists the verified remediation with who approved; a status with none shows the empty state", async () => {
  assert.ok(page && findingId, "the detail page and its finding (previous steps)");
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.click("nav.mainnav a[href='/ui/remediations']");
  await page.waitForFunction(() => location.pathname === "/ui/remediations", null, { timeout: 10_000 });
  const table = page.locator("table[data-testid=remediations]");
  // The finding's verified remediation: its row links to the finding's page.
  const row = table.locator("tr[data-status=verified]", {
    has: page.locator(`a[href="/ui/findings/${findingId}"]`),
  });
  await row.first().waitFor({ timeout: 15_000 }).catch(async (e) => {
    const shown = await page.locator("main").innerText().catch(() => "?");
    await page.screenshot({ path: join(SHOTS, "remediation-3-list-failed.png"), fullPage: true }).catch(() => {});
    throw new Error(`no verified remediation of ${findingId} listed within 15 s:\n${shown}\n${e}`);
  });
  assert.equal(await row.count(), 1, "one verified remediation of the finding");
  const text = await row.innerText();
  assert.match(text, new RegExp(ACTION), "the row names the action");
  assert.match(text, /\blocal\b/, "the row names who approved");
  assert.match(text, /Verified/);
  assert.match(await row.getAttribute("data-remediation"), /^[0-9a-f]{32}$/, "the row carries the remediation's id");
  await page.screenshot({ path: join(SHOTS, "remediation-3-list.png"), fullPage: true });

  // Filtered on a status nothing is in: the status goes into the address and
  // the empty state replaces the table.
  await page.selectOption("select[name=status]", "refused");
  await page.waitForFunction(() => location.pathname === "/ui/remediations" && location.search === "?status=refused",
    null, { timeout: 10_000 });
  const empty = page.locator("main .state.empty");
  await empty.waitFor({ timeout: 15_000 });
  assert.match(await empty.innerText(), /No remediation is refused/);
  assert.equal(await table.count(), 0, "no table when no remediation matches");
  await page.screenshot({ path: join(SHOTS, "remediation-4-list-refused.png"), fullPage: true });
});

await step("outside the browser: the bucket blocks public access, the record is verified, the audit names the remediation", async () => {
  assert.ok(findingId, "a finding (previous step)");
  assert.deepEqual(await publicAccessBlock(bucket),
    { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true });
  const records = (await api("GET", `/remediations?finding=${encodeURIComponent(findingId)}`)).items;
  assert.equal(records.length, 1, JSON.stringify(records));
  const [rec] = records;
  assert.equal(rec.status, "verified", JSON.stringify(rec));
  assert.equal(rec.action, ACTION);
  assert.equal(rec.finding_id, findingId);
  assert.equal(rec.automatic, false, "approved by a person, not the auto sink");
  // Open on loopback with no authentication configured: the caller is "local".
  assert.equal(rec.requested_by, "local");
  const f = await api("GET", `/findings/${encodeURIComponent(findingId)}`);
  assert.equal(f.workflow_status, "RESOLVED");
  const last = f.audit[f.audit.length - 1];
  assert.equal(last.actor, `remediation:${ACTION}`, JSON.stringify(last));
  assert.equal(last.to_status, "RESOLVED");
});

await step("no uncaught errors in the page, and no failed request but the sign-in probe", async () => {
  // The dashboard asks /auth/session whether sign-in is configured: 204 here,
  // so no request of the journey failed.
  assert.deepEqual(failedLoads, []);
  assert.deepEqual(consoleErrors.filter((m) => !/^Failed to load resource: the server responded with a status of 404/.test(m)), []);
});

if (context) await context.close().catch(() => {});
await stopServer();
if (tally.failed) {
  try {
    console.log(`--- server log (tail) ---\n${readFileSync(join(work, "server.log"), "utf8").split("\n").slice(-30).join("\n")}`);
  } catch { /* no server log */ }
}
cleanup();
process.exit(report("remediation e2e"));
