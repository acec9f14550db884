use crate::format::{date_input_value, parse_date_input, since_hours_ago};
use crate::url::{toggle, ListQuery, PAGE_SIZES};
use leptos::prelude::*;
use shared_types::{FindingFilter, Severity, WorkflowStatus};

use super::badges::{severity_class, status_class};
use super::now;

/// The list's filters. Every change calls `on_change` with the new query (first page),
/// and the page turns it into a URL, so the address bar always holds the view.
#[component]
pub fn FilterBar(
    query: Memo<ListQuery>,
    #[prop(into)] on_change: Callback<ListQuery>,
) -> impl IntoView {
    // Applies an edit to the filter and restarts paging.
    let edit = move |f: &dyn Fn(&mut FindingFilter)| {
        let mut q = query.get_untracked().first_page();
        f(&mut q.filter);
        on_change.run(q);
    };

    // One toggle button per label; several can be on at once.
    fn chips<T: Copy + PartialEq + Send + Sync + 'static>(
        all: &'static [T],
        text: fn(T) -> &'static str,
        class: fn(T) -> String,
        get: fn(&FindingFilter) -> &[T],
        set: fn(&mut FindingFilter, Vec<T>),
        query: Memo<ListQuery>,
        edit: impl Fn(&dyn Fn(&mut FindingFilter)) + Copy + Send + Sync + 'static,
    ) -> impl IntoView {
        all.iter()
            .map(|&s| {
                let pressed = move || query.with(|q| get(&q.filter).contains(&s));
                view! {
                    <button
                        type="button"
                        class=class(s)
                        aria-pressed=move || pressed().to_string()
                        on:click=move |_| edit(&|f| set(f, toggle(get(f), s, all)))
                    >
                        {text(s)}
                    </button>
                }
            })
            .collect_view()
    }
    let severity_chips = chips(
        &Severity::ALL_DESC,
        Severity::as_str,
        |s| format!("chip chip-{}", severity_class(s)),
        |f| &f.severities,
        |f, v| f.severities = v,
        query,
        edit,
    );
    let status_chips = chips(
        &WorkflowStatus::ALL,
        WorkflowStatus::as_str,
        |s| format!("chip chip-st-{}", status_class(s)),
        |f| &f.statuses,
        |f, v| f.statuses = v,
        query,
        edit,
    );

    // One text box per exact-match key; applied on Enter or when focus leaves the box.
    let text_field = move |label: &'static str,
                           name: &'static str,
                           get: fn(&FindingFilter) -> Option<String>,
                           set: fn(&mut FindingFilter, Option<String>)| {
        view! {
            <label class="field">
                <span>{label}</span>
                <input
                    type="text"
                    name=name
                    autocomplete="off"
                    spellcheck="false"
                    prop:value=move || query.with(|q| get(&q.filter).unwrap_or_default())
                    on:change=move |ev| {
                        let v = event_target_value(&ev).trim().to_string();
                        edit(&|f| set(f, (!v.is_empty()).then(|| v.clone())));
                    }
                />
            </label>
        }
    };

    let date_field = move |label: &'static str, name: &'static str, is_until: bool| {
        view! {
            <label class="field date">
                <span>{label}</span>
                <input
                    type="date"
                    name=name
                    prop:value=move || query.with(|q| date_input_value(if is_until { q.filter.until } else { q.filter.since }, is_until))
                    on:change=move |ev| {
                        if let Some(t) = parse_date_input(&event_target_value(&ev), is_until) {
                            edit(&|f| if is_until { f.until = t } else { f.since = t });
                        }
                    }
                />
            </label>
        }
    };

    view! {
        <section class="filters" aria-label="Filters">
            <div class="filter-row">
                <label class="field search">
                    <span>"Search"</span>
                    <input
                        type="search"
                        name="q"
                        placeholder="Title, resource or finding id"
                        prop:value=move || query.with(|q| q.filter.q.clone().unwrap_or_default())
                        on:change=move |ev| {
                            let v = event_target_value(&ev).trim().to_string();
                            edit(&|f| f.q = (!v.is_empty()).then(|| v.clone()));
                        }
                    />
                </label>
                <div class="chips" role="group" aria-label="Severity">{severity_chips}</div>
                <div class="chips" role="group" aria-label="Status">{status_chips}</div>
            </div>
            <div class="filter-row">
                {text_field("Account", "account", |f| f.account.clone(), |f, v| f.account = v)}
                {text_field("Region", "region", |f| f.region.clone(), |f, v| f.region = v)}
                {text_field("Resource type", "resource_type", |f| f.resource_type.clone(), |f, v| f.resource_type = v)}
                {text_field("Product", "product", |f| f.product.clone(), |f, v| f.product = v)}
                {text_field("Generator", "generator", |f| f.generator.clone(), |f, v| f.generator = v)}
                {text_field("Resource", "resource", |f| f.resource.clone(), |f, v| f.resource = v)}
                <label class="field">
                    <span>"Updated"</span>
                    <select
                        name="range"
                        on:change=move |ev| {
                            let hours: i64 = event_target_value(&ev).parse().unwrap_or(0);
                            let since = (hours > 0).then(|| since_hours_ago(now(), hours));
                            edit(&|f| {
                                f.since = since;
                                f.until = None;
                            });
                        }
                    >
                        <option value="" selected=true disabled=true>"Quick range…"</option>
                        <option value="24">"Last 24 hours"</option>
                        <option value="168">"Last 7 days"</option>
                        <option value="720">"Last 30 days"</option>
                        <option value="2160">"Last 90 days"</option>
                        <option value="0">"Any time"</option>
                    </select>
                </label>
                {date_field("From", "since", false)}
                {date_field("To", "until", true)}
                <label class="field">
                    <span>"Per page"</span>
                    <select
                        name="limit"
                        on:change=move |ev| {
                            if let Ok(limit) = event_target_value(&ev).parse() {
                                let mut q = query.get_untracked().first_page();
                                q.limit = limit;
                                on_change.run(q);
                            }
                        }
                    >
                        // A link's own page size (`limit=20`) is shown as it is,
                        // not as the first of the usual ones.
                        {move || {
                            let n = query.with(|q| q.limit);
                            (!PAGE_SIZES.contains(&n))
                                .then(|| view! { <option value=n.to_string() selected=true>{n}</option> })
                        }}
                        {PAGE_SIZES
                            .into_iter()
                            .map(|n| view! { <option value=n.to_string() selected=move || query.with(|q| q.limit == n)>{n}</option> })
                            .collect_view()}
                    </select>
                </label>
                <button
                    type="button"
                    class="btn"
                    disabled=move || query.with(|q| q.filter.is_empty())
                    on:click=move |_| edit(&|f| *f = FindingFilter::default())
                >
                    "Clear filters"
                </button>
            </div>
        </section>
    }
}
