use crate::api;
use crate::components::badges::{SeverityBadge, StatusBadge};
use crate::components::remediation::RemediationPanel;
use crate::components::states::{Empty, ErrorPanel, Load, Loader, Loading};
use crate::format::{date_time, pretty_json, title_case};
use crate::session::Action;
use crate::state::FindingStore;
use crate::url::LIST_PATH;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;
use shared_types::{
    AuditEntry, Finding, FindingDetail, FindingListItem, WorkflowStatus, WorkflowUpdate,
};

/// One finding: what, where, how to fix, the raw document, and its triage.
#[component]
pub fn DetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let loader = Loader::<FindingDetail>::new();
    let load = move || {
        let id = id.get_untracked();
        loader.run(async move { api::get_finding(&id).await });
    };
    Effect::new(move |_| {
        id.track();
        load();
    });

    view! {
        <p class="crumbs"><a href=LIST_PATH>"← Findings"</a></p>
        {move || match loader.state.get() {
            Load::Loading => view! { <Loading label="Loading the finding…"/> }.into_any(),
            Load::Failed(e) if e.is_not_found() => view! {
                <Empty message="No finding has this id. It may have been archived.">
                    <a class="btn" href=LIST_PATH>"Back to the list"</a>
                </Empty>
            }.into_any(),
            Load::Failed(e) => view! { <ErrorPanel error=e on_retry=move || load()/> }.into_any(),
            Load::Ready(d) => view! { <DetailView detail=d loader=loader/> }.into_any(),
        }}
    }
}

#[component]
fn DetailView(detail: FindingDetail, loader: Loader<FindingDetail>) -> impl IntoView {
    let FindingDetail { finding: f, audit } = detail;
    let raw = pretty_json(&f.raw);
    let id = StoredValue::new(f.id.clone());
    let status = f.workflow_status;
    view! {
        <header class="detail-head">
            <div class="detail-badges">
                <SeverityBadge severity=f.severity/>
                <StatusBadge status=f.workflow_status/>
                {f.control_id.clone().map(|c| view! { <span class="tag">{c}</span> })}
                {f.compliance_status.clone().map(|c| view! { <span class="tag">{format!("Compliance: {}", title_case(&c))}</span> })}
            </div>
            <h1 class="detail-title">{f.title.clone()}</h1>
            <p class="detail-desc">{f.description.clone()}</p>
        </header>
        <div class="detail-grid">
            <div class="detail-main">
                <Incident raw=f.raw.clone()/>
                <Remediation f=f.clone()/>
                <RemediationPanel id=id.get_value() on_done=move || reload(id.get_value(), loader)/>
                <Resources f=f.clone()/>
                <section class="panel">
                    <div class="panel-head">
                        <h2>"Raw document"</h2>
                        <CopyButton text=raw.clone()/>
                    </div>
                    <pre class="raw" tabindex="0" aria-label="Raw JSON document"><code>{raw}</code></pre>
                </section>
            </div>
            <aside class="detail-side">
                {move || if crate::auth::access().allows(Action::ChangeWorkflow) {
                    view! { <WorkflowForm id=id.get_value() current=status loader=loader/> }.into_any()
                } else {
                    view! {
                        <section class="panel" data-testid="read-only">
                            <h2>"Triage"</h2>
                            <p class="muted">"Your role can read this finding; changing its status needs the analyst role."</p>
                        </section>
                    }.into_any()
                }}
                <AuditTrail audit=audit/>
                <Fields f=f/>
            </aside>
        </div>
    }
}

/// Loads the finding again (a remediation ended: it may be RESOLVED now).
fn reload(id: String, loader: Loader<FindingDetail>) {
    loader.run(async move { api::get_finding(&id).await });
}

#[component]
fn Fields(f: Finding) -> impl IntoView {
    let opt_time =
        |t: Option<chrono::DateTime<chrono::Utc>>| t.map(date_time).unwrap_or_else(|| "—".into());
    let rows: Vec<(&str, String)> = vec![
        ("Account", f.account_id),
        ("Region", f.region),
        ("Product", f.product_name),
        ("Company", f.company_name.unwrap_or_else(|| "—".into())),
        (
            "Source",
            // The wire name (`security_hub`), which reads better than the Rust variant.
            title_case(
                serde_json::to_value(f.source)
                    .ok()
                    .as_ref()
                    .and_then(|v| v.as_str())
                    .unwrap_or(""),
            ),
        ),
        ("Generator", f.generator_id),
        ("Record state", title_case(&format!("{:?}", f.record_state))),
        (
            "Types",
            if f.types.is_empty() {
                "—".into()
            } else {
                f.types.join(", ")
            },
        ),
        (
            "MITRE ATT&CK",
            if f.mitre.is_empty() {
                "—".into()
            } else {
                f.mitre.join(", ")
            },
        ),
        ("Created", date_time(f.created_at)),
        ("Updated", date_time(f.updated_at)),
        ("First observed", opt_time(f.first_observed_at)),
        ("Last observed", opt_time(f.last_observed_at)),
        ("Finding id", f.id),
        ("ASFF id", f.asff_id),
        ("Product ARN", f.product_arn),
    ];
    view! {
        <section class="panel">
            <h2>"Details"</h2>
            <dl class="fields">
                {rows.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}
            </dl>
            {f.source_url.map(|u| view! { <p><a href=u target="_blank" rel="noopener noreferrer">"Open in the provider's console ↗"</a></p> })}
        </section>
    }
}

/// The event's key facts (user ARN, access key id, source IP, region, user
/// agent; or the alarm's state change), when the finding came from one.
#[component]
fn Incident(raw: serde_json::Value) -> impl IntoView {
    let fields = crate::incident::incident_fields(&raw);
    (!fields.is_empty()).then(|| {
        view! {
            <section class="panel incident" data-testid="incident">
                <h2>"Event"</h2>
                <dl class="fields">
                    {fields.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd data-field=k>{v}</dd> }).collect_view()}
                </dl>
            </section>
        }
    })
}

#[component]
fn Remediation(f: Finding) -> impl IntoView {
    let has_any = f.remediation_text.is_some() || f.remediation_url.is_some();
    view! {
        <section class="panel remediation">
            <h2>"How to fix"</h2>
            {f.remediation_text.map(|t| view! { <p>{t}</p> })}
            {f.remediation_url.map(|u| view! {
                <p><a href=u target="_blank" rel="noopener noreferrer">"Remediation guide ↗"</a></p>
            })}
            {(!has_any).then(|| view! { <p class="muted">"The provider gave no remediation for this finding."</p> })}
        </section>
    }
}

#[component]
fn Resources(f: Finding) -> impl IntoView {
    let rows = f
        .resources
        .into_iter()
        .map(|r| {
            view! {
                <tr>
                    <td>{r.resource_type}</td>
                    <td class="mono wrap">{r.id}</td>
                    <td>{r.region.unwrap_or_default()}</td>
                    <td>{r.partition.unwrap_or_default()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="panel">
            <h2>"Resources"</h2>
            <div class="scroll-x">
                <table class="plain">
                    <thead><tr><th scope="col">"Type"</th><th scope="col">"Id"</th><th scope="col">"Region"</th><th scope="col">"Partition"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
    }
}

/// Status change with a note. On success the page shows the API's answer (new status
/// and audit entry) and the list store gets the new version of the row.
#[component]
fn WorkflowForm(
    id: String,
    current: WorkflowStatus,
    loader: Loader<FindingDetail>,
) -> impl IntoView {
    let store = expect_context::<RwSignal<FindingStore>>();
    let chosen = RwSignal::new(current);
    let note = RwSignal::new(String::new());
    let saving = RwSignal::new(false);
    let message = RwSignal::new(None::<Result<String, String>>);
    let id = StoredValue::new(id);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let update = WorkflowUpdate {
            workflow_status: chosen.get_untracked(),
            note: Some(note.get_untracked().trim().to_string()).filter(|n| !n.is_empty()),
        };
        saving.set(true);
        message.set(None);
        let id = id.get_value();
        spawn_local(async move {
            match api::update_workflow(&id, &update).await {
                Ok(d) => {
                    store.update(|s| {
                        s.upsert(FindingListItem::from(&d.finding));
                    });
                    // Re-renders the page from the API's answer; this form is rebuilt with it.
                    loader.state.set(Load::Ready(d));
                }
                Err(e) => {
                    saving.try_set(false);
                    message.try_set(Some(Err(e.to_string())));
                }
            }
        });
    };

    view! {
        <section class="panel">
            <h2>"Triage"</h2>
            <form class="workflow" on:submit=submit>
                <label class="field">
                    <span>"Status"</span>
                    <select name="workflow_status" on:change=move |ev| {
                        if let Ok(s) = event_target_value(&ev).parse() {
                            chosen.set(s);
                        }
                    }>
                        {WorkflowStatus::ALL.into_iter().map(|s| view! {
                            <option value=s.as_str() selected=s == current>{s.as_str()}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label class="field">
                    <span>"Note"</span>
                    <textarea name="note" rows="3" maxlength="2000" placeholder="Why? (kept in the audit trail)"
                        prop:value=move || note.get()
                        on:input=move |ev| note.set(event_target_value(&ev))></textarea>
                </label>
                <button type="submit" class="btn primary" disabled=move || saving.get() || chosen.get() == current>
                    {move || if saving.get() { "Saving…" } else { "Save status" }}
                </button>
                {move || message.get().map(|m| match m {
                    Ok(t) => view! { <p class="ok" role="status">{t}</p> }.into_any(),
                    Err(t) => view! { <p class="form-error" role="alert">{t}</p> }.into_any(),
                })}
            </form>
        </section>
    }
}

#[component]
fn AuditTrail(audit: Vec<AuditEntry>) -> impl IntoView {
    if audit.is_empty() {
        return view! {
            <section class="panel"><h2>"History"</h2><p class="muted">"No workflow changes yet."</p></section>
        }
        .into_any();
    }
    // Newest first: the latest decision is what an analyst needs to see.
    let items = audit
        .into_iter()
        .rev()
        .map(|a| {
            view! {
                <li>
                    <div class="audit-line">
                        <StatusBadge status=a.from_status/>
                        <span aria-label="to">"→"</span>
                        <StatusBadge status=a.to_status/>
                    </div>
                    <div class="audit-meta">{format!("{} · {}", a.actor, date_time(a.at))}</div>
                    {a.note.map(|n| view! { <blockquote class="audit-note">{n}</blockquote> })}
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="panel">
            <h2>"History"</h2>
            <ol class="audit">{items}</ol>
        </section>
    }
    .into_any()
}

/// Copies text to the clipboard and says whether it worked (the Clipboard API can be
/// refused, e.g. outside a secure context).
#[component]
fn CopyButton(text: String) -> impl IntoView {
    let state = RwSignal::new("Copy");
    let text = StoredValue::new(text);
    let copy = move |_| {
        let Some(window) = web_sys::window() else {
            return;
        };
        let promise = window.navigator().clipboard().write_text(&text.get_value());
        spawn_local(async move {
            let ok = wasm_bindgen_futures::JsFuture::from(promise).await.is_ok();
            state.set(if ok {
                "Copied"
            } else {
                "Copy failed: select the text"
            });
        });
    };
    view! { <button type="button" class="btn small" on:click=copy aria-live="polite">{move || state.get()}</button> }
}
