//! The findings list's "Export ▾" menu: CSV, JSON Lines or OCSF of exactly the
//! view's filters (the whole filtered set, not just the page on screen). It starts
//! an export job through the API (`POST /exports`, with the session's credentials
//! like every other call), polls it, says how far it is, and saves the file from
//! the URL the finished job gives — a plain link to an API path would be answered
//! with the dashboard page, and on AWS the file comes from a presigned link.

use super::sleep;
use crate::api;
use crate::export::{poll_delay_ms, request, ExportStatus};
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared_types::{ExportFileFormat, ExportState, FindingFilter};
use wasm_bindgen::JsCast;

/// Saves `href` as a file, as a click on a link with `download` would: the
/// server's `Content-Disposition` names it.
fn save(href: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Some(link) = doc
        .create_element("a")
        .ok()
        .and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok())
    else {
        return;
    };
    link.set_href(href);
    link.set_download("");
    if let Some(body) = doc.body() {
        let _ = body.append_child(&link);
        link.click();
        link.remove();
    }
}

/// Starts exporting `filter` as `format` and follows the job to its end,
/// showing each step in `status`; stops when the menu is gone (its signal
/// disposed: the analyst left the page).
async fn follow(filter: FindingFilter, format: ExportFileFormat, status: RwSignal<ExportStatus>) {
    let show = |s: ExportStatus| status.try_set(s).is_none();
    let mut job = match api::start_export(&request(&filter, format)).await {
        Ok(job) => job,
        Err(e) => {
            show(ExportStatus::Failed(e.to_string()));
            return;
        }
    };
    let mut polls = 0;
    loop {
        if !show(ExportStatus::Job(job.clone())) {
            return;
        }
        match job.state {
            ExportState::Queued | ExportState::Running => {
                sleep(poll_delay_ms(polls)).await;
                polls += 1;
                job = match api::export_job(&job.id).await {
                    Ok(job) => job,
                    Err(e) => {
                        show(ExportStatus::Failed(e.to_string()));
                        return;
                    }
                };
            }
            ExportState::Done => {
                if let Some(url) = &job.url {
                    save(&api::export_href(url));
                }
                return;
            }
            ExportState::Failed => return,
        }
    }
}

/// "Export ▾" with one item per format, and the export's status line.
#[component]
pub fn ExportMenu(#[prop(into)] filter: Signal<FindingFilter>) -> impl IntoView {
    let open = RwSignal::new(false);
    let status = RwSignal::new(ExportStatus::Idle);
    let start = move |format: ExportFileFormat| {
        open.set(false);
        status.set(ExportStatus::Starting(format));
        spawn_local(follow(filter.get_untracked(), format, status));
    };
    let items = ExportFileFormat::ALL
        .into_iter()
        .map(|format| {
            view! {
                <li role="none">
                    <button type="button" role="menuitem" data-format=format.as_str()
                        on:click=move |_| start(format)>
                        {format.label()}
                    </button>
                </li>
            }
        })
        .collect_view();
    // The finished file again, should the browser have held the first save back.
    let again = move || {
        status.with(|s| match s {
            ExportStatus::Job(j) if j.state == ExportState::Done => {
                j.url.as_deref().map(api::export_href)
            }
            _ => None,
        })
    };
    view! {
        <div class="export-menu"
            on:keydown=move |ev| if ev.key() == "Escape" { open.set(false) }>
            <button type="button" class="btn export-toggle" aria-haspopup="menu"
                aria-expanded=move || open.get().to_string()
                disabled=move || status.with(ExportStatus::busy)
                on:click=move |_| open.update(|o| *o = !*o)>
                "Export ▾"
            </button>
            <Show when=move || open.get()>
                <ul class="menu" role="menu" aria-label="Export format">{items.clone()}</ul>
            </Show>
            <span class="export-status" role="status" aria-live="polite"
                data-state=move || status.with(ExportStatus::phase)>
                {move || status.with(ExportStatus::text)}
            </span>
            {move || again().map(|href| view! {
                <a class="export-again" href=href download="">"Save again"</a>
            })}
        </div>
    }
}
