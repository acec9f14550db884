//! The cspm-monitor dashboard: a Leptos CSR app compiled to WebAssembly.
//!
//! The pure logic (URL ↔ filter, sorting, formatting, chart geometry, the findings
//! store) builds and is tested natively; everything that needs a browser is compiled
//! only for `wasm32`.

/// Where a long view stood when it was left, for Back.
pub mod back_place;
/// Geometry of the SVG charts.
pub mod chart;
/// Compliance views' logic: score labels, sparkline geometry, links.
pub mod compliance;
/// API failures, phrased for the page.
pub mod error;
/// The Export menu's logic: request body, polling pace, status line, file link.
pub mod export;
/// How values read on screen: times, counts, ids.
pub mod format;
/// The incident facts (who, which key, from where; alarm state) of a finding's event.
pub mod incident;
/// The live connection's logic: status, reconnect backoff, position tracking.
pub mod live_state;
/// Paging by cursor: the rows before a page, and the way back to the one before it.
pub mod paging;
/// Views fetched whole (groups, the overview's lists): which live changes make
/// them stale, and how often they are fetched again.
pub mod refetch;
/// The remediation views' logic: when Apply is offered, status labels, why one ended.
pub mod remediation;
/// The list's selection for a bulk workflow change, and the request it becomes.
pub mod selection;
/// Sign-in state, which controls a role sees, the sign-in link.
pub mod session;
/// Client-side ordering of the loaded page.
pub mod sort;
/// The findings store keyed by id and the current page.
pub mod state;
/// The findings list's URL ↔ query.
pub mod url;
/// The findings list's head count, and which live changes make it stale.
pub mod view_count;

#[cfg(test)]
mod test_data;

/// The only module that talks HTTP.
#[cfg(target_arch = "wasm32")]
pub mod api;
/// Root component, routes and page chrome.
#[cfg(target_arch = "wasm32")]
mod app;
/// The sign-in state as page context, and what ends a session.
#[cfg(target_arch = "wasm32")]
mod auth;
/// Reusable view pieces: badges, charts, filters, states.
#[cfg(target_arch = "wasm32")]
mod components;
/// The one module that owns the live WebSocket.
#[cfg(target_arch = "wasm32")]
pub mod live;
/// One module per page.
#[cfg(target_arch = "wasm32")]
mod pages;

/// Entry point called by the wasm-bindgen glue once the module is instantiated.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    // Plain wasm-bindgen spawn: Leptos' executor is only set up by `mount_to_body`.
    wasm_bindgen_futures::spawn_local(async {
        // The API base URL is read before the first request so one build serves any origin.
        api::load_config().await;
        leptos::mount::mount_to_body(app::App);
    });
}
