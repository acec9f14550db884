//! The findings table: sortable heads, one row per finding (highlighted while
//! fresh), and the boxes that pick rows for a bulk change.

use crate::components::badges::{SeverityBadge, StatusBadge};
use crate::components::now;
use crate::format::{date_time, relative_time, short_resource};
use crate::selection::Selection;
use crate::sort::{Sort, SortKey};
use crate::url::detail_href;
use leptos::prelude::*;
use shared_types::FindingListItem;
use std::collections::HashSet;

/// The table's selection boxes: what is ticked, the rows in table order (for
/// shift-click ranges), and whether this person may change findings at all.
#[derive(Clone, Copy)]
pub struct Pick {
    /// What is ticked.
    pub selection: RwSignal<Selection>,
    /// The rows' ids in table order.
    pub row_ids: Signal<Vec<String>>,
    /// Whether this person may change findings.
    pub selectable: Signal<bool>,
}

/// The table of `rows`, built once per loaded page: it follows `rows` through a
/// keyed list, so a pushed row does not re-create the others.
#[component]
pub fn FindingsTable(
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
