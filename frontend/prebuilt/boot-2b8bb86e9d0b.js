// Starts the dashboard. Kept as a file (not inline) so the CSP needs no 'unsafe-inline'.
// If the wasm cannot load, say so on the page instead of leaving it blank.
import init from "/frontend-e1b824ef8288.js";

init({ module_or_path: "/frontend-b27e87cdd567.wasm" })
  .then(() => document.getElementById("boot")?.remove())
  .catch((err) => {
    const el = document.getElementById("boot");
    if (el) {
      el.className = "boot boot-error";
      el.setAttribute("role", "alert");
      el.textContent = "The dashboard could not start: " + err + ". Reload the page; if it persists, rebuild with ./build.sh dashboard.";
    }
  });
