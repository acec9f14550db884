//! One control of a standard: its status and counts, and every finding that
//! makes it fail, a page at a time (the standard's page lists only the first
//! failing resources). Each finding links to its detail, where it is triaged.

use crate::api;
use crate::compliance::{control_findings_href, standard_href, status_class, status_label};
use crate::components::badges::{SeverityBadge, StatusBadge};
use crate::components::now;
use crate::components::states::{Empty, ErrorPanel, Load, Loader, Loading};
use crate::format::{date_time, relative_time, short_resource, thousands};
use crate::pages::compliance::NoStandard;
use crate::url::detail_href;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;
use shared_types::{ControlResult, FailingFindings, FindingListItem, StandardDetail};

/// `/ui/compliance/:slug/controls/:control`.
#[component]
pub fn ControlPage() -> impl IntoView {
    let params = use_params_map();
    let key = Memo::new(move |_| {
        params.with(|p| {
            (
                p.get("slug").unwrap_or_default(),
                p.get("control").unwrap_or_default(),
            )
        })
    });
    let standard = Loader::<StandardDetail>::new();
    let first = Loader::<FailingFindings>::new();
    let load = move || {
        let (slug, control) = key.get_untracked();
        let of = slug.clone();
        standard.run(async move { api::compliance_standard(&of).await });
        first.run(async move { api::failing_findings(&slug, &control, None).await });
    };
    Effect::new(move |_| {
        key.track();
        load();
    });
    let back = move || standard_href(&key.with(|k| k.0.clone()));
    view! {
        <p class="crumbs"><a href=back>"← Standard"</a></p>
        {move || match standard.state.get() {
            Load::Loading => view! { <Loading label="Loading the control…"/> }.into_any(),
            Load::Failed(e) if e.is_not_found() => view! { <NoStandard/> }.into_any(),
            Load::Failed(e) => view! { <ErrorPanel error=e on_retry=move || load()/> }.into_any(),
            Load::Ready(d) => {
                let (slug, control) = key.get_untracked();
                match d.controls.into_iter().find(|c| c.control_id == control) {
                    None => view! {
                        <Empty message="No stored finding names this control in this standard.">
                            <a class="btn" href=standard_href(&slug)>"Back to the standard"</a>
                        </Empty>
                    }.into_any(),
                    Some(c) => view! {
                        <ControlHead c=c standard=d.standard.name/>
                        {move || match first.state.get() {
                            Load::Loading => view! { <Loading label="Loading the failing findings…"/> }.into_any(),
                            Load::Failed(e) => view! { <ErrorPanel error=e on_retry=move || load()/> }.into_any(),
                            Load::Ready(page) => view! {
                                <FailingList first=page slug=slug.clone() control=control.clone()/>
                            }.into_any(),
                        }}
                    }.into_any(),
                }
            }
        }}
    }
}

#[component]
fn ControlHead(c: ControlResult, standard: String) -> impl IntoView {
    view! {
        <div class="page-head">
            <div>
                <h1>
                    <span class=format!("ctl-status ctl-{}", status_class(c.status))>{status_label(c.status)}</span>
                    " " <span class="ctl-id">{c.control_id.clone()}</span>
                </h1>
                <div class="ctl-title">{c.title.clone()}</div>
                <p class="muted" data-testid="control-counts">
                    {format!("{standard} · {} failed · {} passed · {} unknown",
                        thousands(u64::from(c.failed)), thousands(u64::from(c.passed)),
                        thousands(u64::from(c.unknown)))}
                    {(c.ignored > 0).then(|| format!(" · {} left out (archived or suppressed)",
                        thousands(u64::from(c.ignored))))}
                </p>
            </div>
            <a class="btn" href=control_findings_href(&c.control_id)>"All its findings in the list"</a>
        </div>
    }
}

/// The failing findings shown so far, and "Show more" while the API says a
/// next page exists. A page that fails to load leaves the rows and says so.
#[component]
fn FailingList(first: FailingFindings, slug: String, control: String) -> impl IntoView {
    let rows = RwSignal::new(first.items);
    let next = RwSignal::new(first.next_after);
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let key = StoredValue::new((slug, control));
    let more = move |_| {
        let Some(after) = next.get_untracked() else {
            return;
        };
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        let (slug, control) = key.get_value();
        spawn_local(async move {
            match api::failing_findings(&slug, &control, Some(&after)).await {
                Ok(page) => {
                    rows.try_update(|r| r.extend(page.items));
                    next.try_set(page.next_after);
                }
                Err(e) => {
                    error.try_set(Some(e.to_string()));
                }
            }
            busy.try_set(false);
        });
    };
    let now = now();
    // Memos, so a page that arrives adds its rows without building the table,
    // the count line or the button again (the button keeps its focus).
    let has_more = Memo::new(move |_| next.with(Option::is_some));
    let empty = Memo::new(move |_| rows.with(Vec::is_empty) && !has_more.get());
    move || {
        if empty.get() {
            return view! { <Empty message="No active finding fails this control."/> }.into_any();
        }
        view! {
            <section class="panel">
                <div class="scroll-x">
                    <table class="controls failing">
                        <thead>
                            <tr>
                                <th scope="col">"Severity"</th>
                                <th scope="col">"Finding"</th>
                                <th scope="col">"Resource"</th>
                                <th scope="col">"Account"</th>
                                <th scope="col">"Region"</th>
                                <th scope="col">"Status"</th>
                                <th scope="col">"Updated"</th>
                            </tr>
                        </thead>
                        <tbody>
                            <For each=move || rows.get() key=|f| f.id.clone()
                                children=move |f| failing_row(f, now)/>
                        </tbody>
                    </table>
                </div>
                <p class="muted" data-testid="failing-shown">
                    {move || format!("{} shown", thousands(rows.with(|r| r.len() as u64)))}
                </p>
                {move || has_more.get().then(|| view! {
                    <button class="btn" data-testid="failing-more" on:click=more
                        prop:disabled=move || busy.get()>"Show more"</button>
                })}
                {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            </section>
        }
        .into_any()
    }
}

fn failing_row(f: FindingListItem, now: chrono::DateTime<chrono::Utc>) -> impl IntoView {
    let short = short_resource(&f.resource_id).to_string();
    view! {
        <tr data-id=f.id.clone() data-severity=f.severity.as_str()>
            <td class="nowrap"><SeverityBadge severity=f.severity/></td>
            <td class="col-title"><a href=detail_href(&f.id)>{f.title}</a></td>
            <td title=f.resource_id.clone()><span class="mono">{short}</span></td>
            <td class="mono nowrap">{f.account_id}</td>
            <td class="nowrap">{f.region}</td>
            <td class="nowrap"><StatusBadge status=f.workflow_status/></td>
            <td title=date_time(f.updated_at)>{relative_time(f.updated_at, now)}</td>
        </tr>
    }
}
