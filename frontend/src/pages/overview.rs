use crate::api;
use crate::components::badges::severity_class;
use crate::components::badges::{status_class, StatusBadge};
use crate::components::charts::{SeverityChart, TrendChart};
use crate::components::compliance::ComplianceSection;
use crate::components::states::{ErrorPanel, Load, Loader, Loading};
use crate::format::{percent, thousands};
use crate::refetch::Pace;
use crate::url::{findings_href, LIST_PATH};
use leptos::prelude::*;
use shared_types::{
    ComplianceOverview, FindingFilter, KeyCount, Severity, Summary, WorkflowStatus,
};

/// The landing page: how bad things are right now, and where. Pushed counters
/// move the cards as findings arrive; the top lists and compliance scores,
/// which no push carries, are fetched again after changes (at most once a
/// second); a resync reloads.
#[component]
pub fn OverviewPage() -> impl IntoView {
    let loader = Loader::<Summary>::new();
    let compliance = Loader::<ComplianceOverview>::new();
    let pace = StoredValue::new(Pace::default());
    // `refresh`: fetched again after live changes, whose failure keeps the
    // overview shown instead of an error panel.
    let fetch = move |refresh: bool| {
        if pace
            .try_update_value(|p| p.sent(js_sys::Date::now()))
            .is_none()
        {
            return; // The page was left before a waiting refetch.
        }
        if refresh {
            loader.refresh(api::summary());
            compliance.refresh(api::compliance());
        } else {
            loader.run(api::summary());
            compliance.run(api::compliance());
        }
    };
    let load = move || fetch(false);
    let refetch = move || fetch(true);
    load();
    let live = expect_context::<crate::live::Live>();
    // Every finding is in the overview's view: any pushed change may move an
    // account or resource type in the top lists, or a compliance score.
    let handled = StoredValue::new(live.pushed.with_untracked(|p| p.last().map_or(0, |x| x.n)));
    Effect::new(move |_| {
        let Some(n) = live.pushed.with(|p| p.last().map(|x| x.n)) else {
            return;
        };
        if n == handled.get_value() {
            return;
        }
        handled.set_value(n);
        if let Some(wait) = pace
            .try_update_value(|p| p.changed(js_sys::Date::now()))
            .flatten()
        {
            set_timeout(refetch, std::time::Duration::from_millis(wait as u64));
        }
    });
    Effect::new(move |_| {
        let Some(pushed) = live.summary.get() else {
            return;
        };
        loader.state.update(|s| {
            if let Load::Ready(sum) = s {
                sum.by_severity = pushed.by_severity.clone();
                sum.by_status = pushed.by_status.clone();
                sum.total = pushed.total;
                if !pushed.trend.is_empty() {
                    sum.trend = pushed.trend.clone();
                }
            }
        });
    });
    live.on_resync(load);
    view! {
        <div class="page-head">
            <h1>"Overview"</h1>
            <button class="btn" on:click=move |_| load() disabled=move || loader.busy.get()>"Refresh"</button>
        </div>
        {move || match loader.state.get() {
            Load::Loading => view! { <Loading label="Loading the summary…"/> }.into_any(),
            Load::Failed(e) => view! { <ErrorPanel error=e on_retry=move || load()/> }.into_any(),
            Load::Ready(s) => view! { <SummaryView summary=s/> }.into_any(),
        }}
        <ComplianceSection loader=compliance/>
    }
}

#[component]
fn SummaryView(summary: Summary) -> impl IntoView {
    let total = summary.total;
    let sev_cards = Severity::ALL_DESC
        .into_iter()
        .map(|s| {
            let n = summary.by_severity.get(&s).copied().unwrap_or(0);
            let href = findings_href(FindingFilter { severities: vec![s], ..Default::default() });
            view! {
                <a class=format!("card sev-card sev-{}", severity_class(s)) href=href data-severity=s.as_str()>
                    <span class="card-label">{s.as_str()}</span>
                    <span class="card-value" data-testid="severity-count">{thousands(n)}</span>
                    <span class="card-note">{format!("{}% of all", percent(n, total))}</span>
                </a>
            }
        })
        .collect_view();
    let status_rows = WorkflowStatus::ALL
        .into_iter()
        .map(|s| {
            let n = summary.by_status.get(&s).copied().unwrap_or(0);
            let href = findings_href(FindingFilter { statuses: vec![s], ..Default::default() });
            view! {
                <li>
                    <a class=format!("status-row st-row-{}", status_class(s)) href=href data-status=s.as_str()>
                        <StatusBadge status=s/>
                        <span class="status-count" data-testid="status-count">{thousands(n)}</span>
                    </a>
                </li>
            }
        })
        .collect_view();
    let accounts = top_list(summary.top_accounts, |k| FindingFilter {
        account: Some(k),
        ..Default::default()
    });
    let types = top_list(summary.top_resource_types, |k| FindingFilter {
        resource_type: Some(k),
        ..Default::default()
    });

    view! {
        <section class="cards" aria-label="Findings by severity">
            <a class="card total-card" href=LIST_PATH>
                <span class="card-label">"All findings"</span>
                <span class="card-value" data-testid="total-count">{thousands(total)}</span>
                <span class="card-note">"in the store"</span>
            </a>
            {sev_cards}
        </section>
        <div class="grid-2">
            <section class="panel">
                <h2>"Severity"</h2>
                <SeverityChart by_severity=summary.by_severity.clone()/>
            </section>
            <section class="panel">
                <h2>"New findings, last 30 days"</h2>
                <TrendChart trend=summary.trend.clone()/>
            </section>
        </div>
        <div class="grid-3">
            <section class="panel">
                <h2>"Workflow status"</h2>
                <ul class="status-list">{status_rows}</ul>
            </section>
            <section class="panel">
                <h2>"Top accounts"</h2>
                {accounts}
            </section>
            <section class="panel">
                <h2>"Top resource types"</h2>
                {types}
            </section>
        </div>
    }
}

/// A ranked list whose rows open the findings list filtered by that key.
fn top_list(items: Vec<KeyCount>, filter: fn(String) -> FindingFilter) -> AnyView {
    if items.is_empty() {
        return view! { <p class="muted">"No findings yet."</p> }.into_any();
    }
    let max = items.iter().map(|k| k.count).max().unwrap_or(1);
    let rows = items
        .into_iter()
        .map(|k| {
            let href = findings_href(filter(k.key.clone()));
            let width = crate::chart::bar_length(k.count, max, 100.0);
            view! {
                <li>
                    <a class="top-row" href=href>
                        <span class="top-key">{k.key}</span>
                        <span class="top-count">{thousands(k.count)}</span>
                        <svg class="top-bar" viewBox="0 0 100 4" preserveAspectRatio="none" aria-hidden="true">
                            <rect x="0" y="0" width=width height="4" rx="1"></rect>
                        </svg>
                    </a>
                </li>
            }
        })
        .collect_view();
    view! { <ol class="top-list">{rows}</ol> }.into_any()
}
