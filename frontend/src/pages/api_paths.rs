//! The API's own paths typed into the browser. An analyst who reads
//! `GET /findings?severity=CRITICAL` in the API docs and types `/findings?…` into
//! the address bar means the findings list, not "no page here": these routes
//! replace the address with the dashboard's page for the same view, keeping the
//! query (the list's filters use the API's parameter names) or the finding id.

use crate::url::{detail_href, LIST_PATH};
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

/// `/findings?…` → `/ui/findings?…`, the query unchanged.
#[component]
pub fn FindingsAlias() -> impl IntoView {
    let search = use_location().search.get_untracked();
    let search = search.trim_start_matches('?');
    let path = if search.is_empty() {
        LIST_PATH.to_string()
    } else {
        format!("{LIST_PATH}?{search}")
    };
    view! { <Redirect path=path options=replace()/> }
}

/// `/findings/<id>` → `/ui/findings/<id>`.
#[component]
pub fn FindingAlias() -> impl IntoView {
    let id = use_params_map().with_untracked(|p| p.get("id").unwrap_or_default());
    view! { <Redirect path=detail_href(&id) options=replace()/> }
}
