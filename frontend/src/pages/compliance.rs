use crate::api;
use crate::compliance::{control_href, score_label, status_class, status_label};
use crate::components::charts::Sparkline;
use crate::components::states::{Empty, ErrorPanel, Load, Loader, Loading};
use crate::format::thousands;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use shared_types::{ControlResult, ControlStatus, StandardDetail, MAX_FAILING_RESOURCES};

/// One standard: its score and every control, failing first (the API's order),
/// with the resources that fail it.
#[component]
pub fn CompliancePage() -> impl IntoView {
    let params = use_params_map();
    let slug = Memo::new(move |_| params.with(|p| p.get("slug").unwrap_or_default()));
    let loader = Loader::<StandardDetail>::new();
    let load = move || {
        let slug = slug.get_untracked();
        loader.run(async move { api::compliance_standard(&slug).await });
    };
    Effect::new(move |_| {
        slug.track();
        load();
    });
    view! {
        <p class="crumbs"><a href="/">"← Overview"</a></p>
        {move || match loader.state.get() {
            Load::Loading => view! { <Loading label="Loading the controls…"/> }.into_any(),
            Load::Failed(e) if e.is_not_found() => view! { <NoStandard/> }.into_any(),
            Load::Failed(e) => view! { <ErrorPanel error=e on_retry=move || load()/> }.into_any(),
            Load::Ready(d) => view! { <StandardView detail=d/> }.into_any(),
        }}
    }
}

/// What a standard's pages show when no stored finding names the standard.
#[component]
pub fn NoStandard() -> impl IntoView {
    view! {
        <Empty message="No stored control finding names this standard.">
            <a class="btn" href="/">"Go to the overview"</a>
        </Empty>
    }
}

#[component]
fn StandardView(detail: StandardDetail) -> impl IntoView {
    let StandardDetail {
        standard: s,
        controls,
    } = detail;
    let rows = if controls.is_empty() {
        view! { <Empty message="This standard has no controls with findings."/> }.into_any()
    } else {
        view! {
            <div class="scroll-x">
                <table class="controls">
                    <thead>
                        <tr>
                            <th scope="col">"Status"</th>
                            <th scope="col">"Control"</th>
                            <th scope="col" class="num">"Failed"</th>
                            <th scope="col" class="num">"Passed"</th>
                            <th scope="col" class="num">"Unknown"</th>
                            <th scope="col">"Failing resources"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {controls.into_iter().map(|c| view! { <ControlRow c=c slug=s.slug.clone()/> }).collect_view()}
                    </tbody>
                </table>
            </div>
        }
        .into_any()
    };
    view! {
        <div class="page-head std-head">
            <div>
                <h1 class="std-title">{s.name.clone()}</h1>
                <p class="muted">
                    {format!("{} failed · {} passed · {} unknown · {} without data (not scored)",
                        s.failed, s.passed, s.unknown, s.no_data)}
                </p>
            </div>
            <div class="std-score">
                <span class="card-value" data-testid="compliance-score">{score_label(s.score)}</span>
                <Sparkline trend=s.trend/>
            </div>
        </div>
        <section class="panel">{rows}</section>
    }
}

/// One control. A failing one links to its page of failing findings and
/// lists the failing resources (bounded by the API).
#[component]
fn ControlRow(c: ControlResult, slug: String) -> impl IntoView {
    let failing = c.status == ControlStatus::Failed;
    let href = control_href(&slug, &c.control_id);
    let control = if failing {
        view! { <a href=href.clone() class="ctl-id">{c.control_id.clone()}</a> }.into_any()
    } else {
        view! { <span class="ctl-id">{c.control_id.clone()}</span> }.into_any()
    };
    // The API stops listing at MAX_FAILING_RESOURCES; say so rather than let a
    // full list pass for the whole story.
    let cut = c.failing_resources.len() >= MAX_FAILING_RESOURCES;
    let resources = c
        .failing_resources
        .into_iter()
        .map(|r| view! { <li><code>{r}</code></li> })
        .collect_view();
    view! {
        <tr data-status=status_label(c.status) data-control=c.control_id.clone()>
            <td><span class=format!("ctl-status ctl-{}", status_class(c.status))>{status_label(c.status)}</span></td>
            <td class="col-title">
                {control}<div class="ctl-title">{c.title}</div>
                // Why a control reads NO_DATA (or has fewer findings than the
                // list): its archived and suppressed findings are not scored.
                {(c.ignored > 0).then(|| view! {
                    <div class="muted ctl-ignored">{format!("{} left out (archived or suppressed)", thousands(u64::from(c.ignored)))}</div>
                })}
            </td>
            <td class="num">{thousands(u64::from(c.failed))}</td>
            <td class="num">{thousands(u64::from(c.passed))}</td>
            <td class="num">{thousands(u64::from(c.unknown))}</td>
            <td>
                <ul class="ctl-resources">{resources}</ul>
                {cut.then(|| view! {
                    <a href=href.clone() data-testid="all-failing">
                        {format!("first {MAX_FAILING_RESOURCES} shown: all {} failing findings", thousands(u64::from(c.failed)))}
                    </a>
                })}
            </td>
        </tr>
    }
}
