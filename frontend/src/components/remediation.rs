//! A finding's Remediation panel: the plan (action, the AWS calls with their
//! parameters, the resource's current state, what is left after, each guard's
//! verdict), an Apply button for the roles that may approve, and the
//! finding's remediation history (with each record's `undo`, read-only). After an approval the history is polled
//! until the remediation ends, then the page reloads the finding (RESOLVED
//! when it verified).

use crate::api;
use crate::components::states::{Load, Loader, Loading};
use crate::format::date_time;
use crate::remediation::{offer, state_text, status_label, why_text, Offer};
use crate::session::Action;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared_types::{RemediationList, RemediationPlan, RemediationRecord};

/// How long to wait between looks at a queued remediation.
const POLL_MS: u32 = 1000;
/// Looks before the panel stops waiting (the history still shows the state).
const POLLS: u32 = 120;

/// The panel for finding `id`; `on_done` runs when an approved remediation ends.
#[component]
pub fn RemediationPanel(id: String, #[prop(into)] on_done: Callback<()>) -> impl IntoView {
    let plan = Loader::<RemediationPlan>::new();
    let history = Loader::<RemediationList>::new();
    let id = StoredValue::new(id);
    plan.run(async move { api::remediation_plan(&id.get_value()).await });
    history.run(async move { api::remediations_of(&id.get_value()).await });
    view! {
        <section class="panel remediation-plan" data-testid="remediation">
            <h2>"Remediation"</h2>
            {move || match plan.state.get() {
                Load::Loading => view! { <Loading label="Planning…"/> }.into_any(),
                Load::Failed(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                Load::Ready(p) => view! { <PlanView plan=p id=id.get_value() history=history on_done=on_done/> }.into_any(),
            }}
            <h3>"History"</h3>
            {move || match history.state.get() {
                Load::Loading => view! { <Loading label="Loading the history…"/> }.into_any(),
                Load::Failed(e) => view! { <p class="form-error">{e.to_string()}</p> }.into_any(),
                Load::Ready(l) => view! { <History items=l.items/> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn PlanView(
    plan: RemediationPlan,
    id: String,
    history: Loader<RemediationList>,
    on_done: Callback<()>,
) -> impl IntoView {
    let what = offer(&plan);
    let state = state_text(&plan);
    let calls = plan
        .calls
        .iter()
        .map(|c| {
            let params = serde_json::to_string_pretty(&c.params).unwrap_or_default();
            view! {
                <li>
                    <span class="mono">{format!("{} {}", c.service, c.operation)}</span>
                    <pre class="plan-json"><code>{params}</code></pre>
                </li>
            }
        })
        .collect_view();
    let guards = plan
        .guards
        .iter()
        .map(|g| {
            let verdict = if g.passed { "ok" } else { "refused" };
            view! {
                <li class=format!("guard {verdict}") data-guard=g.name.clone()>
                    <span class="guard-verdict">{if g.passed { "✓" } else { "✗" }}</span>
                    <span class="mono">{g.name.clone()}</span>
                    " — "{g.reason.clone()}
                </li>
            }
        })
        .collect_view();
    view! {
        <dl class="fields">
            <dt>"Action"</dt>
            <dd class="mono" data-field="action">{plan.action.clone().unwrap_or_else(|| "none".into())}</dd>
            // Not applicable: the offer below says why, once.
            {plan.applicable.then(|| view! { <dt>"After"</dt><dd data-field="after">{plan.after.clone()}</dd> })}
        </dl>
        {(!plan.calls.is_empty()).then(|| view! { <h3>"Calls"</h3><ol class="calls">{calls}</ol> })}
        {state.map(|s| view! { <h3>"Current state"</h3><pre class="plan-json"><code>{s}</code></pre> })}
        {(!plan.guards.is_empty()).then(|| view! { <h3>"Guards"</h3><ul class="guards">{guards}</ul> })}
        <ApplyControl what=what id=id history=history on_done=on_done/>
    }
}

/// The Apply button for roles that may approve, or why there is none.
#[component]
fn ApplyControl(
    what: Offer,
    id: String,
    history: Loader<RemediationList>,
    on_done: Callback<()>,
) -> impl IntoView {
    let message = RwSignal::new(None::<Result<String, String>>);
    let busy = RwSignal::new(false);
    let id = StoredValue::new(id);
    match what {
        Offer::Explain(why) => {
            view! { <p class="muted" data-testid="remediation-offer">{why}</p> }.into_any()
        }
        Offer::Apply { expect_state } => {
            let expect = StoredValue::new(expect_state);
            let apply = move |_| {
                busy.set(true);
                message.set(None);
                spawn_local(async move {
                    let id = id.get_value();
                    match api::approve_remediation(&id, expect.get_value()).await {
                        Ok(q) => {
                            message.try_set(Some(Ok(format!(
                                "Queued as {}; the worker applies and verifies it.",
                                q.id
                            ))));
                            follow(&id, &q.id, history, on_done).await;
                        }
                        Err(e) => {
                            message.try_set(Some(Err(e.to_string())));
                            // A guard's refusal is recorded: show it in the history.
                            history.run(async move { api::remediations_of(&id).await });
                        }
                    }
                    busy.try_set(false);
                });
            };
            view! {
                {move || if crate::auth::access().allows(Action::Remediate) {
                    view! {
                        <button type="button" class="btn primary" data-testid="remediation-apply"
                            disabled=move || busy.get() on:click=apply>
                            {move || if busy.get() { "Applying…" } else { "Apply" }}
                        </button>
                    }.into_any()
                } else {
                    view! { <p class="muted">"Applying a remediation needs the analyst role."</p> }.into_any()
                }}
                {move || message.get().map(|m| match m {
                    Ok(t) => view! { <p class="ok" role="status">{t}</p> }.into_any(),
                    Err(t) => view! { <p class="form-error" role="alert">{t}</p> }.into_any(),
                })}
            }.into_any()
        }
    }
}

/// Reloads the history until remediation `rid` ends, then tells the page.
async fn follow(id: &str, rid: &str, history: Loader<RemediationList>, on_done: Callback<()>) {
    for _ in 0..POLLS {
        let Ok(list) = api::remediations_of(id).await else {
            return;
        };
        let done = list
            .items
            .iter()
            .any(|r| r.id == rid && r.status.is_final());
        history.state.try_set(Load::Ready(list));
        if done {
            on_done.run(());
            return;
        }
        super::sleep(POLL_MS).await;
    }
}

#[component]
fn History(items: Vec<RemediationRecord>) -> impl IntoView {
    if items.is_empty() {
        return view! { <p class="muted" data-testid="remediation-history">"No remediation yet."</p> }.into_any();
    }
    let rows = items
        .into_iter()
        .map(|r| {
            let why = why_text(&r);
            // What reverses the change (a policy's document and the call that
            // puts it back): shown as read, for the person who must undo it.
            let undo = r
                .undo
                .as_ref()
                .map(|u| serde_json::to_string_pretty(u).unwrap_or_default());
            view! {
                <li data-status=r.status.as_str()>
                    <div class="audit-line"><strong>{status_label(r.status)}</strong>
                        " · "<span class="mono">{r.action.clone().unwrap_or_default()}</span></div>
                    <div class="audit-meta">{format!("{} · {}", r.requested_by, date_time(r.requested_at))}</div>
                    {why.map(|why| view! { <blockquote class="audit-note">{why}</blockquote> })}
                    {undo.map(|u| view! {
                        <details class="remediation-undo" data-field="undo">
                            <summary>"Undo"</summary>
                            <pre class="plan-json"><code>{u}</code></pre>
                        </details>
                    })}
                </li>
            }
        })
        .collect_view();
    view! { <ol class="audit" data-testid="remediation-history">{rows}</ol> }.into_any()
}
