// The step runner both browser journeys share: each step passes or fails on its
// own (a failed step is reported with its stack and the journey goes on), and
// the figures are printed at the end.
export const figures = {};
export const tally = { passed: 0, failed: 0 };

export async function step(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    tally.passed++;
    console.log(`  ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    tally.failed++;
    console.log(`  FAIL ${name}\n${String(e && e.stack ? e.stack : e).replace(/^/gm, "       ")}`);
  }
}

// Prints the figures and the tally line ("<label>: N passed, M failed").
export function report(label) {
  console.log("\nFigures (headless Chromium, this machine):");
  for (const [k, v] of Object.entries(figures)) console.log(`  ${k}: ${v}`);
  console.log(`${label}: ${tally.passed} passed, ${tally.failed} failed`);
  return tally.failed ? 1 : 0;
}

// Waits until the list's head (its count line) reads `want`; the error says what
// it read instead.
export function headIs(page, want) {
  return page
    .waitForFunction((w) => document.querySelector("[data-testid=view-count]")?.textContent.trim() === w, want)
    .catch(async (e) => {
      const shown = await page.textContent("[data-testid=view-count]");
      throw new Error(`head "${shown}", expected "${want}": ${e.message}`);
    });
}
