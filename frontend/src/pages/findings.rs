use crate::api;
use crate::components::bulk_bar::BulkBar;
use crate::components::export_menu::ExportMenu;
use crate::components::filters::FilterBar;
use crate::components::findings_table::{FindingsTable, Pick};
use crate::components::groups::{GroupBySelect, GroupsTable};
use crate::components::states::{Empty, ErrorPanel, Load, Loader, Loading};
use crate::live::Live;
use crate::pages::findings_live::LiveRows;
use crate::paging::PageTrail;
use crate::selection::Selection;
use crate::session::Action;
use crate::sort::SortKey;
use crate::state::{FindingStore, PageState};
use crate::url::{list_href, ListQuery, LIST_PATH};
use crate::view_count::{head_line, shows_whole_view, Count, Recounts};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;
use shared_types::GroupBy;
use std::time::Duration;

/// How long after a live change the view's count is asked again: changes that
/// come together (a bulk change, a burst of events) share one count request.
const RECOUNT_AFTER: Duration = Duration::from_millis(300);

/// The findings table. The URL is the single source of the view: filters, sort,
/// grouping, page size and cursor are read from it, and every control changes it.
#[component]
pub fn FindingsPage() -> impl IntoView {
    let location = use_location();
    let navigate = use_navigate();
    let store = expect_context::<RwSignal<FindingStore>>();
    let parsed = Memo::new(move |_| ListQuery::from_query_string(&location.search.get()));
    let query = Memo::new(move |_| parsed.get().unwrap_or_default());
    // Only what the API sees triggers a request; re-sorting is local.
    let api_query = Memo::new(move |_| parsed.get().ok().map(|q| q.api_query_string()));
    // The way back to each page "Older" reached, for "Newer"; kept in the tab's
    // session so it survives Back, Forward and a reload.
    let trail = StoredValue::new(stored_trail());
    let loader = Loader::<PageState>::new();
    // Rows picked for a bulk change; a new filter or page starts afresh.
    let selection = RwSignal::new(Selection::default());
    // The groups table instead of the rows while the URL names a grouping (so
    // Back, a reload or a bookmark keeps it).
    let grouping = Memo::new(move |_| query.with(|q| q.group));
    // Count answers in the order asked: a page load's and the live recounts'.
    let recounts = StoredValue::new(Recounts::default());

    let load = move || {
        let Ok(q) = parsed.get_untracked() else {
            return;
        };
        let asked = recounts.try_update_value(|r| r.ask()).unwrap_or_default();
        loader.run(async move {
            let query = q.api_query_string();
            let page = api::list_findings(&q).await?;
            // A recount asked after this load may have answered first: its
            // count is the newer one.
            let loaded = Count {
                total: page.total,
                exact: page.total_is_exact.unwrap_or(true),
            };
            let count = recounts
                .try_update_value(|r| r.answer(asked, &query, loaded))
                .unwrap_or(loaded);
            let ids = page.items.iter().map(|f| f.id.clone()).collect();
            store.update(|s| {
                for item in page.items {
                    s.upsert(item);
                }
            });
            Ok(PageState {
                query,
                ids,
                next_cursor: page.next_cursor,
                before: q.offset,
                total: count.total,
                total_is_exact: count.exact,
            })
        });
    };
    Effect::new(move |_| {
        if api_query.get().is_some() {
            selection.update(|s| s.clear());
            load();
        }
    });

    // The view's count again, a moment after a live change moved a finding into
    // or out of the view (rows drop out and join in place, but the total is the
    // API's): one request for every change in that moment. Only the head's total
    // changes, for the view it was asked for.
    let recount_due = StoredValue::new(false);
    let recount = move || {
        if recount_due.get_value() {
            return;
        }
        recount_due.set_value(true);
        set_timeout(
            move || {
                if recount_due.try_set_value(false).is_some() {
                    return;
                }
                let Some(Ok(q)) = parsed.try_get_untracked() else {
                    return;
                };
                let Some(asked) = recounts.try_update_value(|r| r.ask()) else {
                    return;
                };
                let view = q.api_query_string();
                let one = ListQuery {
                    limit: 1,
                    cursor: None,
                    ..q
                };
                spawn_local(async move {
                    let Ok(counted) = api::list_findings(&one).await else {
                        return;
                    };
                    let answered = Count {
                        total: counted.total,
                        exact: counted.total_is_exact.unwrap_or(true),
                    };
                    // Kept for the view even while another page is shown: the
                    // view's own load, asked earlier, may still be on its way.
                    let Some(count) =
                        recounts.try_update_value(|r| r.answer(asked, &view, answered))
                    else {
                        return;
                    };
                    loader.state.try_update(|s| {
                        if let Load::Ready(page) = s {
                            if page.query == view {
                                page.total = count.total;
                                page.total_is_exact = count.exact;
                            }
                        }
                    });
                });
            },
            RECOUNT_AFTER,
        );
    };

    // Live: new rows join at the top (or wait behind the "N new" bar), and a
    // change that may move the view's count asks for it again.
    let live = expect_context::<Live>();
    let live_rows = LiveRows::follow(query, loader, recount);
    let (pending, fresh) = (live_rows.pending, live_rows.fresh);
    let show_pending = move |_| live_rows.show_pending(query, loader, store);
    live.on_resync(load);

    let go = move |q: ListQuery| navigate(&list_href(&q), NavigateOptions::default());
    let go = StoredValue::new(go);
    let on_filter = Callback::new(move |q: ListQuery| go.with_value(|go| go(q)));

    let rows = Memo::new(move |_| match loader.state.get() {
        Load::Ready(page) => {
            let q = query.get();
            store.with(|s| page.rows(s, &q.filter, q.sort))
        }
        _ => Vec::new(),
    });

    // Narrow memos so the page only re-renders the table when its shape changes, not on
    // every re-sort (the keyed <For> reorders rows itself).
    let parse_error = Memo::new(move |_| parsed.get().err());
    let no_rows = Memo::new(move |_| rows.with(|r| r.is_empty()));
    let row_ids = Signal::derive(move || rows.with(|r| r.iter().map(|f| f.id.clone()).collect()));
    let selectable = Signal::derive(move || crate::auth::access().allows(Action::ChangeWorkflow));
    // The table is built once per loaded page and then follows `rows` through its
    // keyed list. Rebuilding it whenever the page state changed made every pushed
    // row re-create all the others: O(rows) DOM work per live update.
    let body = Memo::new(move |_| match parse_error.get() {
        Some(e) => Body::Unusable(e.to_string()),
        None => loader.state.with(|s| match s {
            Load::Loading => Body::Loading,
            Load::Failed(e) => Body::Failed(e.clone()),
            Load::Ready(_) if no_rows.get() => Body::Empty,
            Load::Ready(page) => Body::Table {
                has_next: page.next_cursor.is_some(),
                page_query: page.query.clone(),
            },
        }),
    });

    let older = move |_| {
        let Load::Ready(page) = loader.state.get_untracked() else {
            return;
        };
        let q = query.get_untracked();
        // While the URL's page loads the previous one is still shown: its
        // cursor and rows belong to another URL (a double click would skip a
        // page and store a wrong way back).
        if loader.busy.get_untracked() || page.query != q.api_query_string() {
            return;
        }
        let Some(next) = page.next_cursor else {
            return;
        };
        let shown = rows.with_untracked(|r| r.len() as u64);
        let to = trail.try_update_value(|t| t.older(&q, next, shown));
        trail.with_value(store_trail);
        if let Some(to) = to {
            go.with_value(|go| go(to));
        }
    };
    let newer = move |_| {
        let q = query.get_untracked();
        let to = trail.with_value(|t| t.newer(&q));
        go.with_value(|go| go(to));
    };
    let sort_by = move |key: SortKey| {
        let mut q = query.get_untracked();
        q.sort = q.sort.toggled(key);
        go.with_value(|go| go(q));
    };

    // A grouping is a view of its own: a new history entry (Back returns to the
    // list), from the first page (the groups cover the whole view).
    let group_by = move |by: Option<GroupBy>| {
        let mut q = query.get_untracked().first_page();
        q.group = by;
        go.with_value(|go| go(q));
    };
    // However the grouping changed — the select, Back or Forward, a link — the
    // rows picked in the list are not what the groups table shows: a bulk bar
    // must not stay live over it (the first run only starts the tracking).
    Effect::new(move |prev: Option<()>| {
        grouping.track();
        if prev.is_some() {
            selection.update(|s| s.clear());
        }
    });

    view! {
        <div class="page-head">
            <h1>"Findings"</h1>
            <span class="muted" aria-live="polite" data-testid="view-count">
                {move || match loader.state.get() {
                    Load::Ready(page) => {
                        let shown = rows.with(|r| r.len() as u64);
                        let grouped = grouping.with(Option::is_some);
                        let whole = shows_whole_view(
                            page.before,
                            page.next_cursor.is_some(),
                            pending.with(Vec::len),
                            query.with(|q| q.filter.generator.is_some()),
                        );
                        head_line(grouped, page.before, shown, whole, page.total, page.total_is_exact)
                    }
                    _ => String::new(),
                }}
            </span>
            <ExportMenu filter=Signal::derive(move || query.get().filter)/>
            <GroupBySelect grouping=grouping on_change=group_by/>
            <label class="pause">
                <input type="checkbox" prop:checked=move || live.paused.get()
                    on:change=move |ev| live.paused.set(event_target_checked(&ev))/>
                " Pause live updates"
            </label>
        </div>
        <FilterBar query=query on_change=on_filter/>
        <Show when=move || !pending.with(|p| p.is_empty())>
            <button class="new-bar" on:click=show_pending>
                {move || format!("{} new — show", pending.with(|p| p.len()))}
            </button>
        </Show>
        {move || grouping.get().map(|by| view! {
            <GroupsTable filter=Signal::derive(move || query.get().filter) by=by/>
        })}
        <Show when=move || grouping.with(Option::is_none)>
        {move || match body.get() {
            Body::Unusable(e) => view! {
                <div class="state error" role="alert">
                    <p class="error-title">"This link has a filter the dashboard cannot use"</p>
                    <p>{e}</p>
                    <a class="btn primary" href=LIST_PATH>"Show all findings"</a>
                </div>
            }.into_any(),
            Body::Loading => view! { <Loading label="Loading findings…"/> }.into_any(),
            Body::Failed(e) => view! { <ErrorPanel error=e on_retry=move || load()/> }.into_any(),
            Body::Empty => view! {
                <Empty message="No findings match these filters.">
                    <a class="btn" href=LIST_PATH>"Clear filters"</a>
                </Empty>
            }.into_any(),
            Body::Table { has_next, page_query } => view! {
                <FindingsTable rows=rows sort=Signal::derive(move || query.get().sort) on_sort=sort_by busy=loader.busy page_query=page_query fresh=fresh
                    pick=Pick { selection, row_ids, selectable }/>
                <nav class="pager" aria-label="Pages">
                    <button class="btn" on:click=newer
                        disabled=move || loader.busy.get() || query.with(|q| q.cursor.is_none())>"← Newer"</button>
                    <button class="btn" on:click=older disabled=move || loader.busy.get() || !has_next>"Older →"</button>
                </nav>
            }.into_any(),
        }}
        </Show>
        // After the rows and the pager, where it acts on them: it sticks to
        // the window's bottom while they run on below it.
        <BulkBar selection=selection filter=Signal::derive(move || query.get().filter)
            view=Signal::derive(move || list_href(&query.get()))
            page_ids=row_ids on_done=move |_| load()/>
    }
}

/// What the list area shows, reduced to what changes its structure (so a memo of
/// it only changes when the area must be rebuilt).
#[derive(Debug, Clone, PartialEq)]
enum Body {
    /// The URL's filter cannot be used; why.
    Unusable(String),
    /// The first request is in flight.
    Loading,
    /// The request failed.
    Failed(crate::error::ApiError),
    /// Nothing matches.
    Empty,
    /// The rows, with whether an older page exists and the query they answer.
    Table { has_next: bool, page_query: String },
}

/// Where the tab keeps its [`PageTrail`]: session storage lives as long as the
/// tab's history, which is what Back, Forward and a reload walk.
const TRAIL_KEY: &str = "cspm.findings.pages";

/// The tab's trail; a fresh one when storage is unavailable (private modes).
fn stored_trail() -> PageTrail {
    web_sys::window()
        .and_then(|w| w.session_storage().ok().flatten())
        .and_then(|s| s.get_item(TRAIL_KEY).ok().flatten())
        .map(|json| PageTrail::from_json(&json))
        .unwrap_or_default()
}

/// Keeps `trail` for the tab; without storage "Newer" after a reload opens
/// the first page, which is still a page the head numbers correctly.
fn store_trail(trail: &PageTrail) {
    if let Some(s) = web_sys::window().and_then(|w| w.session_storage().ok().flatten()) {
        let _ = s.set_item(TRAIL_KEY, &trail.to_json());
    }
}
