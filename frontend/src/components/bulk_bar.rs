use crate::api;
use crate::components::leave_guard::LeaveGuard;
use crate::format::thousands;
use crate::selection::{add_step, result_line, Selection};
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared_types::{BulkWorkflowResult, FindingFilter, WorkflowStatus, MAX_BULK_MATCHES};

/// The bar above the findings table while rows are selected: the count, the
/// "select all matching this filter" offer, status + note, and what the last
/// change did. `on_done` reloads the rows after a change (or after the API
/// refused one because the filter's count moved, counted again here). `view`
/// names the whole view shown (its URL): the bar's last answer belongs to it.
#[component]
pub fn BulkBar(
    selection: RwSignal<Selection>,
    filter: Signal<FindingFilter>,
    view: Signal<String>,
    page_ids: Signal<Vec<String>>,
    #[prop(into)] on_done: Callback<()>,
) -> impl IntoView {
    let status = RwSignal::new(WorkflowStatus::Resolved);
    let note = RwSignal::new(String::new());
    let busy = RwSignal::new(None::<String>);
    // Findings done of all, while a change to all matching runs in steps.
    let progress = RwSignal::new(None::<(u64, u64)>);
    // The last answer, with the view it was given in: shown only there.
    let message = RwSignal::new(None::<(String, Result<String, String>)>);
    let said = Memo::new(move |_| {
        message.with(|m| match m {
            Some((at, said)) if view.with(|v| v == at) => Some(said.clone()),
            _ => None,
        })
    });

    let select_all = move |_| {
        busy.set(Some("Counting the findings that match…".into()));
        message.set(None);
        let f = filter.get_untracked();
        let at = view.get_untracked();
        spawn_local(async move {
            let counted = api::count_matching(&f, MAX_BULK_MATCHES).await;
            busy.try_set(None);
            match counted {
                Ok(n) if n > MAX_BULK_MATCHES => {
                    message.try_set(Some((
                        at,
                        Err(format!(
                            "More than {} findings match; narrow the filter.",
                            thousands(MAX_BULK_MATCHES)
                        )),
                    )));
                }
                Ok(n) => {
                    selection.try_update(|s| s.select_all_matching(n));
                }
                Err(e) => {
                    message.try_set(Some((at, Err(e.to_string()))));
                }
            }
        });
    };

    let apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let s = status.get_untracked();
        // The filter the change is sent for: a count taken after an answer must
        // be of this one, not of whatever the list shows by then.
        let asked = filter.get_untracked();
        let at = view.get_untracked();
        let req = selection.with_untracked(|sel| sel.request(&asked, s, &note.get_untracked()));
        let req = match req {
            Ok(r) => r,
            Err(why) => {
                message.set(Some((at, Err(why))));
                return;
            }
        };
        let n = selection.with_untracked(|sel| sel.count());
        busy.set(Some(format!("Changing {} findings…", thousands(n))));
        progress.set(req.limit.map(|_| (0, n)));
        message.set(None);
        spawn_local(async move {
            // Leaving the page would stop the run part way: the browser asks
            // first, until this task ends.
            let _leaving = LeaveGuard::start();
            let say = move |said: Result<String, String>| message.try_set(Some((at.clone(), said)));
            // A change to all matching runs in steps, each request going on
            // where the last stopped: the bar counts them as they come back.
            let mut req = req;
            let mut run = BulkWorkflowResult::default();
            let ended = loop {
                match api::bulk_workflow(&req).await {
                    Ok(step) => match add_step(&mut run, step) {
                        Some(cursor) => {
                            let done = run.changed + run.unchanged;
                            busy.try_set(Some(format!(
                                "Changing {} findings… {} done",
                                thousands(n),
                                thousands(done)
                            )));
                            progress.try_set(Some((done, n)));
                            req = req.next_step(cursor);
                        }
                        None => break Ok(()),
                    },
                    Err(e) => break Err(e),
                }
            };
            let all_matching = selection.with_untracked(|sel| sel.is_all_matching());
            // Refused because the filter's count moved since the person
            // confirmed it (nothing changed): count again and ask them to
            // confirm the new number. Sending the old one again would be refused
            // forever; sending the new one unasked would change findings they
            // have not seen counted.
            if let Err(e) = &ended {
                if e.is_count_mismatch() && all_matching {
                    busy.try_set(Some(
                        "The number of matching findings changed: counting again…".into(),
                    ));
                    progress.try_set(None);
                    let counted = api::count_matching(&asked, MAX_BULK_MATCHES).await;
                    busy.try_set(None);
                    // Cleared, or another filter, while counting: the answer is
                    // about a selection the person no longer has.
                    if !still_counts(selection, filter, &asked) {
                        return;
                    }
                    let line = match counted {
                        Ok(m) => selection
                            .try_update(|sel| sel.recounted(m))
                            .unwrap_or_default(),
                        Err(again) => format!("{e}. Counting again failed: {again}"),
                    };
                    say(Err(line));
                    // The rows and the head's total follow the new count.
                    on_done.run(());
                    return;
                }
            }
            // Some changed and some did not: "all matching" becomes what
            // matches now (a change to RESOLVED empties a filter on NEW), so
            // applying again changes the rest and nothing the person did not see.
            let partial = !run.failed.is_empty() || (ended.is_err() && run.changed > 0);
            if partial && all_matching {
                let counted = api::count_matching(&asked, MAX_BULK_MATCHES).await;
                if still_counts(selection, filter, &asked) {
                    match counted {
                        Ok(m) if m == 0 || m > MAX_BULK_MATCHES => {
                            selection.try_update(|sel| sel.clear())
                        }
                        Ok(m) => selection.try_update(|sel| sel.select_all_matching(m)),
                        Err(_) => None,
                    };
                }
            }
            busy.try_set(None);
            progress.try_set(None);
            let some_done = run != BulkWorkflowResult::default();
            let reached = run.changed + run.unchanged + run.failed.len() as u64;
            match ended {
                // Stopped at a step with failures (the rest not tried), or all
                // matching failed in part: the selection stays for another try.
                Ok(()) if !run.failed.is_empty() && (reached < n || all_matching) => {
                    let line = result_line(&run, s);
                    say(Err(if reached < n {
                        format!(
                            "{line}; stopped there: {} of the {} were not tried",
                            thousands(n - reached),
                            thousands(n)
                        )
                    } else {
                        line
                    }));
                    on_done.run(());
                }
                Ok(()) => {
                    say(Ok(result_line(&run, s)));
                    selection.try_update(|sel| sel.clear());
                    note.try_set(String::new());
                    on_done.run(());
                }
                // Steps before the error stay done: say so, and show them.
                Err(e) if some_done => {
                    say(Err(format!("{e}. Before it: {}", result_line(&run, s))));
                    on_done.run(());
                }
                Err(e) => {
                    say(Err(e.to_string()));
                }
            }
        });
    };

    // Another view (filter, grouping, page, order) drops the last answer, so
    // coming back to its view does not show it again.
    Effect::new(move |_| {
        view.track();
        if message.with_untracked(|m| {
            m.as_ref()
                .is_some_and(|(at, _)| view.with_untracked(|v| v != at))
        }) {
            message.set(None);
        }
    });

    let offer_all = move || {
        selection.with(|s| !s.is_all_matching() && page_ids.with(|ids| s.page_is_selected(ids)))
    };
    let picked = move || !selection.with(|s| s.is_empty());
    let shown = move || picked() || said.with(Option::is_some);

    // With nothing selected (after a change) the bar keeps only the answer, to
    // be dismissed; the controls come back with the next selection.
    view! {
        <Show when=shown>
            <form class="bulk-bar" class:done=move || !picked() aria-label="Change the selected findings" on:submit=apply>
                <Show when=picked>
                    <span class="bulk-count" aria-live="polite">
                        {move || selection.with(|s| if s.is_all_matching() {
                            format!("All {} findings matching this filter selected", thousands(s.count()))
                        } else {
                            format!("{} selected", thousands(s.count()))
                        })}
                    </span>
                    <Show when=offer_all>
                        <button type="button" class="btn small" on:click=select_all disabled=move || busy.with(Option::is_some)>
                            "Select all matching this filter"
                        </button>
                    </Show>
                    <label class="field">
                        <span>"Status"</span>
                        <select name="bulk_status" on:change=move |ev| {
                            if let Ok(s) = event_target_value(&ev).parse() {
                                status.set(s);
                            }
                        }>
                            {WorkflowStatus::ALL.into_iter().map(|s| view! {
                                <option value=s.as_str() selected=move || status.get() == s>{s.as_str()}</option>
                            }).collect_view()}
                        </select>
                    </label>
                    <label class="field bulk-note">
                        <span>"Note"</span>
                        <input type="text" name="bulk_note" maxlength="2000" placeholder="Why? (kept in each audit trail)"
                            prop:value=move || note.get()
                            on:input=move |ev| note.set(event_target_value(&ev))/>
                    </label>
                    <button type="submit" class="btn primary"
                        disabled=move || busy.with(Option::is_some) || selection.with(|s| s.is_empty())>
                        {move || format!("Apply to {}", thousands(selection.with(|s| s.count())))}
                    </button>
                    <button type="button" class="btn" on:click=move |_| {
                        selection.update(|s| s.clear());
                        message.set(None);
                    }>"Clear"</button>
                </Show>
                {move || busy.get().map(|b| view! { <p class="muted" role="status">{b}</p> })}
                {move || progress.get().map(|(done, of)| view! {
                    <progress class="bulk-progress" max=of value=done aria-label="Findings changed"></progress>
                })}
                {move || said.get().map(|m| match m {
                    Ok(t) => view! { <p class="ok bulk-result" role="status">{t}</p> }.into_any(),
                    Err(t) => view! { <p class="form-error" role="alert">{t}</p> }.into_any(),
                })}
                <Show when=move || !picked()>
                    <button type="button" class="btn small" on:click=move |_| message.set(None)>"Dismiss"</button>
                </Show>
            </form>
        </Show>
    }
}

/// Whether a count of `asked` (the filter a change to all matching was sent
/// for) taken after its answer may still change the selection; read when the
/// count comes back (a page left meanwhile has no selection: no).
fn still_counts(
    selection: RwSignal<Selection>,
    filter: Signal<FindingFilter>,
    asked: &FindingFilter,
) -> bool {
    let now = filter.try_get_untracked();
    selection
        .try_with_untracked(|sel| now.is_some_and(|now| sel.takes_count_of(asked, &now)))
        .unwrap_or(false)
}
