use crate::api;
use crate::components::badges::{SeverityBadge, StatusBadge};
use crate::components::bulk_bar::BulkBar;
use crate::components::export_menu::ExportMenu;
use crate::components::filters::FilterBar;
use crate::components::groups::{GroupBySelect, GroupsTable};
use crate::components::now;
use crate::components::states::{Empty, ErrorPanel, Load, Loader, Loading};
use crate::format::{date_time, range_of, relative_time, short_resource};
use crate::live::Live;
use crate::selection::Selection;
use crate::session::Action;
use crate::sort::{Sort, SortKey};
use crate::state::{matches, FindingStore, PageState};
use crate::url::{detail_href, list_href, ListQuery, LIST_PATH};
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::NavigateOptions;
use shared_types::{ChangeKind, FindingListItem};
use std::collections::HashSet;
use std::time::Duration;

/// How long a row that just arrived stays highlighted.
const FRESH_FOR: Duration = Duration::from_secs(4);

/// The findings table. The URL is the single source of the view: filters, sort, page
/// size and cursor are read from it, and every control changes it.
#[component]
pub fn FindingsPage() -> impl IntoView {
    let location = use_location();
    let navigate = use_navigate();
    let store = expect_context::<RwSignal<FindingStore>>();
    let parsed = Memo::new(move |_| ListQuery::from_query_string(&location.search.get()));
    let query = Memo::new(move |_| parsed.get().unwrap_or_default());
    // Only what the API sees triggers a request; re-sorting is local.
    let api_query = Memo::new(move |_| parsed.get().ok().map(|q| q.api_query_string()));
    // Cursors of the pages before this one, for "Newer"; reset when the filter changes.
    let back_cursors = RwSignal::new(Vec::<Option<String>>::new());
    let loader = Loader::<PageState>::new();
    // Rows picked for a bulk change; a new filter or page starts afresh.
    let selection = RwSignal::new(Selection::default());
    // The groups table instead of the rows while a grouping is chosen.
    let grouping = RwSignal::new(None::<shared_types::GroupBy>);

    let load = move || {
        let Ok(q) = parsed.get_untracked() else {
            return;
        };
        loader.run(async move {
            let query = q.api_query_string();
            let page = api::list_findings(&q).await?;
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
                total: page.total,
                total_is_exact: page.total_is_exact.unwrap_or(true),
            })
        });
    };
    Effect::new(move |_| {
        if api_query.get().is_some() {
            selection.update(|s| s.clear());
            load();
        }
    });

    // Live: new findings that belong to this view join it at the top, highlighted
    // — or wait behind the "N new" bar while live updates are paused or the table
    // is scrolled (so what the analyst is reading does not move). Changed ones
    // update in place through the store. A resync reloads the view.
    let live = expect_context::<Live>();
    let handled = StoredValue::new(live.pushed.with_untracked(|p| p.last().map_or(0, |x| x.n)));
    let pending = RwSignal::new(Vec::<String>::new());
    let fresh = RwSignal::new(HashSet::<String>::new());
    let highlight = move |id: String| {
        fresh.update(|f| {
            f.insert(id.clone());
        });
        set_timeout(
            move || {
                fresh.try_update(|f| f.remove(&id));
            },
            FRESH_FOR,
        );
    };
    Effect::new(move |_| {
        let new: Vec<FindingListItem> = live.pushed.with(|p| {
            let from = handled.get_value();
            p.iter()
                .filter(|x| x.n > from && x.kind != Some(ChangeKind::Deleted))
                .map(|x| x.item.clone())
                .collect()
        });
        if let Some(n) = live.pushed.with_untracked(|p| p.last().map(|x| x.n)) {
            handled.set_value(n);
        }
        let q = query.get_untracked();
        if q.cursor.is_some() || new.is_empty() {
            return;
        }
        let scrolled = web_sys::window()
            .and_then(|w| w.scroll_y().ok())
            .unwrap_or(0.0)
            > 0.0;
        let hold = live.paused.get_untracked() || scrolled;
        for item in new {
            let listed = loader
                .state
                .with_untracked(|s| matches!(s, Load::Ready(p) if p.ids.contains(&item.id)));
            // A list item does not say its generator: a view filtered on one
            // takes new rows on its next load.
            if listed || !matches(&q.filter, &item) || q.filter.generator.is_some() {
                continue;
            }
            if hold {
                pending.update(|v| {
                    if !v.contains(&item.id) {
                        v.push(item.id.clone());
                    }
                });
            } else {
                let mut added = false;
                loader.state.update(|s| {
                    if let Load::Ready(page) = s {
                        added = page.merge_pushed(&item, &q.filter);
                    }
                });
                if added {
                    highlight(item.id.clone());
                }
            }
        }
    });
    let show_pending = move |_| {
        let ids = pending.get_untracked();
        pending.set(Vec::new());
        let q = query.get_untracked();
        for id in ids.into_iter().rev() {
            let Some(item) = store.with_untracked(|s| s.get(&id).cloned()) else {
                continue;
            };
            let mut added = false;
            loader.state.update(|s| {
                if let Load::Ready(page) = s {
                    added = page.merge_pushed(&item, &q.filter);
                }
            });
            if added {
                highlight(id);
            }
        }
    };
    live.on_resync(load);

    let go = move |q: ListQuery, keep_back: bool| {
        if !keep_back {
            back_cursors.set(Vec::new());
        }
        navigate(&list_href(&q), NavigateOptions::default());
    };
    let go = StoredValue::new(go);
    let on_filter = Callback::new(move |q: ListQuery| go.with_value(|go| go(q, false)));

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
        back_cursors.update(|b| b.push(q.cursor.clone()));
        go.with_value(|go| {
            go(
                ListQuery {
                    cursor: page.next_cursor,
                    ..q
                },
                true,
            )
        });
    };
    let newer = move |_| {
        let mut q = query.get_untracked();
        let prev = back_cursors.try_update(|b| b.pop()).flatten().flatten();
        q.cursor = prev;
        go.with_value(|go| go(q, true));
    };
    let sort_by = move |key: SortKey| {
        let mut q = query.get_untracked();
        q.sort = q.sort.toggled(key);
        go.with_value(|go| go(q, true));
    };

    view! {
        <div class="page-head">
            <h1>"Findings"</h1>
            <span class="muted" aria-live="polite" data-testid="view-count">
                {move || match loader.state.get() {
                    Load::Ready(page) => {
                        // Rows before this page: earlier pages were full.
                        let before = back_cursors.with(|b| b.len() as u64)
                            * u64::from(query.with(|q| q.limit));
                        let shown = rows.with(|r| r.len() as u64);
                        range_of(before + 1, shown, page.total, page.total_is_exact)
                    }
                    _ => String::new(),
                }}
            </span>
            <ExportMenu filter=Signal::derive(move || query.get().filter)/>
            <GroupBySelect grouping=grouping/>
            <label class="pause">
                <input type="checkbox" prop:checked=move || live.paused.get()
                    on:change=move |ev| live.paused.set(event_target_checked(&ev))/>
                " Pause live updates"
            </label>
        </div>
        <FilterBar query=query on_change=on_filter/>
        <BulkBar selection=selection filter=Signal::derive(move || query.get().filter)
            page_ids=row_ids on_done=move |_| load()/>
        <Show when=move || !pending.with(|p| p.is_empty())>
            <button class="new-bar" on:click=show_pending>
                {move || format!("{} new — show", pending.with(|p| p.len()))}
            </button>
        </Show>
        {move || grouping.get().map(|by| view! {
            <GroupsTable filter=Signal::derive(move || query.get().filter) by=by grouping=grouping/>
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
                    <button class="btn" on:click=newer disabled=move || query.with(|q| q.cursor.is_none())>"← Newer"</button>
                    <button class="btn" on:click=older disabled=!has_next>"Older →"</button>
                </nav>
            }.into_any(),
        }}
        </Show>
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

/// The table's selection boxes: what is ticked, the rows in table order (for
/// shift-click ranges), and whether this person may change findings at all.
#[derive(Clone, Copy)]
struct Pick {
    selection: RwSignal<Selection>,
    row_ids: Signal<Vec<String>>,
    selectable: Signal<bool>,
}

#[component]
fn FindingsTable(
    rows: Memo<Vec<FindingListItem>>,
    sort: Signal<Sort>,
    #[prop(into)] on_sort: Callback<SortKey>,
    busy: RwSignal<bool>,
    page_query: String,
    fresh: RwSignal<HashSet<String>>,
    pick: Pick,
) -> impl IntoView {
    let heads = SortKey::ALL
        .into_iter()
        .map(|key| {
            let aria = move || {
                let s = sort.get();
                if s.key != key {
                    "none"
                } else if s.desc {
                    "descending"
                } else {
                    "ascending"
                }
            };
            let arrow = move || {
                let s = sort.get();
                if s.key != key {
                    ""
                } else if s.desc {
                    " ▼"
                } else {
                    " ▲"
                }
            };
            view! {
                <th scope="col" aria-sort=aria class=format!("col-{}", key.as_str())>
                    <button type="button" class="sort" on:click=move |_| on_sort.run(key)>
                        {key.label()}<span aria-hidden="true">{arrow}</span>
                    </button>
                </th>
            }
        })
        .collect_view();
    let now = now();
    let Pick {
        selection,
        row_ids,
        selectable,
    } = pick;
    let page_box = move || {
        selectable.get().then(|| view! {
            <th scope="col" class="col-pick">
                <input type="checkbox" aria-label="Select every row of this page"
                    prop:checked=move || selection.with(|s| row_ids.with(|ids| s.page_is_selected(ids)))
                    on:change=move |ev| {
                        let checked = event_target_checked(&ev);
                        row_ids.with_untracked(|ids| selection.update(|s| s.set_page(ids, checked)));
                    }/>
            </th>
        })
    };
    view! {
        <div class="table-wrap" class:stale=move || busy.get()>
            <table class="findings" data-query=page_query>
                <thead><tr>{page_box}{heads}</tr></thead>
                <tbody>
                    <For
                        each=move || rows.get()
                        key=|f| (f.id.clone(), f.updated_at, f.workflow_status)
                        children=move |f| view! { <Row f=f now=now fresh=fresh pick=pick/> }
                    />
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn Row(
    f: FindingListItem,
    now: chrono::DateTime<chrono::Utc>,
    fresh: RwSignal<HashSet<String>>,
    pick: Pick,
) -> impl IntoView {
    let href = detail_href(&f.id);
    let Pick {
        selection,
        row_ids,
        selectable,
    } = pick;
    let pick_id = StoredValue::new(f.id.clone());
    let pick_box = move || {
        selectable.get().then(|| view! {
            <td class="col-pick">
                <input type="checkbox" aria-label="Select this finding"
                    prop:checked=move || selection.with(|s| s.contains(&pick_id.get_value()))
                    on:click=move |ev: leptos::ev::MouseEvent| {
                        let checked = event_target_checked(&ev);
                        let shift = ev.shift_key();
                        row_ids.with_untracked(|ids| {
                            selection.update(|s| s.click(ids, &pick_id.get_value(), checked, shift))
                        });
                    }/>
            </td>
        })
    };
    let id = f.id.clone();
    let is_fresh = move || fresh.with(|s| s.contains(&id));
    let short = short_resource(&f.resource_id).to_string();
    let sub = f.control_id.clone().unwrap_or_default();
    view! {
        <tr data-severity=f.severity.as_str() data-id=f.id.clone() class:fresh=is_fresh>
            {pick_box}
            <td class="nowrap"><SeverityBadge severity=f.severity/></td>
            <td class="col-title">
                <a href=href>{f.title}</a>
                {(!sub.is_empty()).then(|| view! { <span class="sub">{sub}</span> })}
            </td>
            <td class="col-resource" title=f.resource_id>
                <span class="mono">{short}</span>
                <span class="sub">{f.resource_type}</span>
            </td>
            <td class="mono nowrap">{f.account_id}</td>
            <td class="nowrap">{f.region}</td>
            <td>{f.product_name}</td>
            <td class="nowrap"><StatusBadge status=f.workflow_status/></td>
            <td title=date_time(f.updated_at)>{relative_time(f.updated_at, now)}</td>
        </tr>
    }
}
