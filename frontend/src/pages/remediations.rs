use crate::api;
use crate::components::states::{Empty, ErrorPanel, Load, Loader, Loading};
use crate::format::date_time;
use crate::remediation::{status_label, why_text};
use crate::url::{detail_href, remediations_href, remediations_status, REMEDIATIONS_PATH};
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;
use shared_types::{RemediationList, RemediationRecord, RemediationStatus};

/// Every remediation, newest first: planned, queued, applied, verified, failed
/// or refused by a guard, with who approved it and when. The status filter
/// lives in the URL (`?status=`), so a filtered view can be shared.
#[component]
pub fn RemediationsPage() -> impl IntoView {
    let location = use_location();
    let navigate = use_navigate();
    let status = Memo::new(move |_| remediations_status(&location.search.get()));
    let loader = Loader::<RemediationList>::new();
    let load = move || {
        if let Ok(s) = status.get_untracked() {
            loader.run(async move { api::remediations(s).await });
        }
    };
    Effect::new(move |_| {
        status.track();
        load();
    });
    view! {
        <div class="page-head">
            <h1>"Remediations"</h1>
            <label class="field">
                <span>"Status"</span>
                <select name="status" on:change=move |ev| {
                    let s = event_target_value(&ev).parse::<RemediationStatus>().ok();
                    navigate(&remediations_href(s), NavigateOptions::default());
                }>
                    <option value="" selected=move || status.get() == Ok(None)>"All"</option>
                    {RemediationStatus::ALL.into_iter().map(|s| view! {
                        <option value=s.as_str() selected=move || status.get() == Ok(Some(s))>{status_label(s)}</option>
                    }).collect_view()}
                </select>
            </label>
        </div>
        {move || match status.get() {
            Err(e) => view! {
                <div class="state error" role="alert">
                    <p class="error-title">"This link has a status the dashboard cannot use"</p>
                    <p>{e}</p>
                    <a class="btn primary" href=REMEDIATIONS_PATH>"Show every remediation"</a>
                </div>
            }.into_any(),
            Ok(chosen) => match loader.state.get() {
                Load::Loading => view! { <Loading label="Loading remediations…"/> }.into_any(),
                Load::Failed(e) if e.is_not_found() => view! {
                    <Empty message="Remediation is not set up on this deployment."/>
                }.into_any(),
                Load::Failed(e) => view! { <ErrorPanel error=e on_retry=move || load()/> }.into_any(),
                Load::Ready(l) if l.items.is_empty() => match chosen {
                    None => view! { <Empty message="No remediation yet."/> }.into_any(),
                    Some(s) => view! {
                        <Empty message=format!("No remediation is {}.", s.as_str())>
                            <a class="btn" href=REMEDIATIONS_PATH>"Show every remediation"</a>
                        </Empty>
                    }.into_any(),
                },
                Load::Ready(l) => view! { <RemediationsTable items=l.items busy=loader.busy/> }.into_any(),
            },
        }}
    }
}

/// The records as rows; dimmed while another status loads.
#[component]
fn RemediationsTable(items: Vec<RemediationRecord>, busy: RwSignal<bool>) -> impl IntoView {
    // The API answers at most the newest REMEDIATIONS_LIMIT: say so rather
    // than let a full page pass for every remediation there is.
    let cut = items.len() >= api::REMEDIATIONS_LIMIT as usize;
    let rows = items
        .into_iter()
        .map(|r| view! { <RemediationRow r=r/> })
        .collect_view();
    view! {
        <div class="table-wrap" class:stale=move || busy.get()>
            <table class="plain" data-testid="remediations">
                <thead>
                    <tr>
                        <th scope="col">"When"</th>
                        <th scope="col">"Finding"</th>
                        <th scope="col">"Action"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Requested by"</th>
                        <th scope="col">"Tries"</th>
                        <th scope="col">"Why"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        {cut.then(|| view! {
            <p class="muted">{format!("Only the newest {} are shown.", api::REMEDIATIONS_LIMIT)}</p>
        })}
    }
}

#[component]
fn RemediationRow(r: RemediationRecord) -> impl IntoView {
    let why = why_text(&r).unwrap_or_default();
    let href = detail_href(&r.finding_id);
    let updated = format!("Last change {}", date_time(r.updated_at));
    let RemediationRecord {
        id,
        finding_id,
        action,
        status,
        requested_by,
        automatic,
        requested_at,
        attempts,
        ..
    } = r;
    view! {
        <tr data-status=status.as_str() data-remediation=id>
            <td title=updated>{date_time(requested_at)}</td>
            <td><a class="mono" href=href>{finding_id}</a></td>
            <td class="mono">{action.unwrap_or_else(|| "none".into())}</td>
            <td>{status_label(status)}</td>
            <td>
                {requested_by}
                {automatic.then(|| view! { " " <span class="tag">"automatic"</span> })}
            </td>
            <td>{attempts.to_string()}</td>
            <td>{why}</td>
        </tr>
    }
}
