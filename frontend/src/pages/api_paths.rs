//! The API's own paths typed into the browser. An analyst who reads
//! `GET /findings?severity=CRITICAL` in the API docs and types `/findings?…` into
//! the address bar means the findings list, not "no page here": these routes
//! replace the address with the dashboard's page for the same view, keeping the
//! query (the lists' filters use the API's parameter names) or the finding id.
//! `/ui` itself, the folder of the dashboard's pages, is replaced the same way
//! by the overview.

use crate::url::{detail_href, LIST_PATH, REMEDIATIONS_PATH};
use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::{use_location, use_params_map};
use leptos_router::NavigateOptions;

/// Replace, not push: Back must not return to the alias and bounce forward again.
fn replace() -> NavigateOptions {
    NavigateOptions {
        replace: true,
        ..NavigateOptions::default()
    }
}

/// `path` with this address's query, unchanged.
fn with_query(path: &str) -> String {
    let search = use_location().search.get_untracked();
    let search = search.trim_start_matches('?');
    if search.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{search}")
    }
}

/// `/findings?…` → `/ui/findings?…`, the query unchanged.
#[component]
pub fn FindingsAlias() -> impl IntoView {
    view! { <Redirect path=with_query(LIST_PATH) options=replace()/> }
}

/// `/remediations?…` → `/ui/remediations?…`, the query unchanged (the page
/// reads `status`).
#[component]
pub fn RemediationsAlias() -> impl IntoView {
    view! { <Redirect path=with_query(REMEDIATIONS_PATH) options=replace()/> }
}

/// `/ui` and `/ui/` → `/`: the dashboard's other pages are under `/ui/`, so
/// its root is where people look for the overview too.
#[component]
pub fn OverviewAlias() -> impl IntoView {
    view! { <Redirect path="/" options=replace()/> }
}

/// `/findings/<id>` → `/ui/findings/<id>`.
#[component]
pub fn FindingAlias() -> impl IntoView {
    let id = use_params_map().with_untracked(|p| p.get("id").unwrap_or_default());
    view! { <Redirect path=detail_href(&id) options=replace()/> }
}
