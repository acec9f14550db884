use crate::compliance::{score_label, standard_href};
use crate::components::charts::Sparkline;
use crate::components::states::{Empty, ErrorPanel, Load, Loader, Loading};
use leptos::prelude::*;
use shared_types::{ComplianceOverview, StandardScore};

/// The overview's "Compliance" section: one card per standard, each opening
/// the standard's controls. It has its own loader so a slow or failing
/// `GET /compliance` never holds back the findings summary above it.
#[component]
pub fn ComplianceSection(loader: Loader<ComplianceOverview>) -> impl IntoView {
    let retry = move || loader.run(crate::api::compliance());
    view! {
        <section class="panel compliance" aria-labelledby="compliance-h">
            <h2 id="compliance-h">"Compliance"</h2>
            {move || match loader.state.get() {
                Load::Loading => view! { <Loading label="Loading compliance scores…"/> }.into_any(),
                Load::Failed(e) => view! { <ErrorPanel error=e on_retry=retry/> }.into_any(),
                Load::Ready(o) if o.standards.is_empty() => view! {
                    <Empty message="No control findings yet: enable a Security Hub standard to see its score."/>
                }.into_any(),
                Load::Ready(o) => view! {
                    <div class="std-cards">
                        {o.standards.into_iter().map(|s| view! { <StandardCard s=s/> }).collect_view()}
                    </div>
                }.into_any(),
            }}
        </section>
    }
}

/// One standard: score, control counts and the 30-day trend; the whole card
/// is the link to its controls.
#[component]
pub fn StandardCard(s: StandardScore) -> impl IntoView {
    view! {
        <a class="card std-card" href=standard_href(&s.slug) data-slug=s.slug.clone()>
            <span class="card-label std-name">{s.name.clone()}</span>
            <span class="card-value" data-testid="compliance-score">{score_label(s.score)}</span>
            <span class="std-counts">
                <span class="ctl-failed" data-testid="failed">{format!("{} failed", s.failed)}</span>
                <span class="ctl-passed" data-testid="passed">{format!("{} passed", s.passed)}</span>
                <span class="ctl-unknown" data-testid="unknown">{format!("{} unknown", s.unknown)}</span>
            </span>
            <Sparkline trend=s.trend/>
        </a>
    }
}
