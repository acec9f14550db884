//! Reusable view pieces shared by the pages.

/// Severity and workflow-status badges.
pub mod badges;
/// The findings list's bar for changing the selected findings at once.
pub mod bulk_bar;
/// SVG charts drawn by our own code (no chart library, nothing from another host).
pub mod charts;
/// The overview's compliance score cards.
pub mod compliance;
/// The findings list's "Export ▾" menu (export jobs of the view's filters).
pub mod export_menu;
/// The findings list's filter bar.
pub mod filters;
/// The findings table: sortable heads, rows, selection boxes.
pub mod findings_table;
/// The findings list's "Group by" control and its groups table.
pub mod groups;
/// The "Leave site?" prompt while a bulk change runs in steps.
pub mod leave_guard;
/// A finding's Remediation panel: plan, Apply, history.
pub mod remediation;
/// The sign-in screen and the top bar's user menu.
pub mod signin;
/// Loading, empty and error states, and the loader that drives them.
pub mod states;

/// The browser's clock (chrono's own clock is unavailable on wasm32-unknown-unknown).
pub fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(js_sys::Date::now() as i64).unwrap_or_default()
}

/// Waits `ms` milliseconds on the browser's timer (no thread to sleep on wasm32).
pub async fn sleep(ms: u32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms as i32);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}
