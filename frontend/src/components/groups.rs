//! The findings list's "Group by" control and the groups table it opens: the
//! current view's findings per generator, resource, account, region or
//! resource type (`GET /findings/groups`), most severe first; a click on a group
//! lists that group's findings.

use crate::api;
use crate::back_place::{Place, LIMIT_KEY, SCROLL_KEY};
use crate::components::now;
use crate::components::states::{ErrorPanel, Load, Loader, Loading};
use crate::format::{date_time, groups_not_listed, relative_time, thousands};
use crate::live::Live;
use crate::refetch::{touches_view, Pace};
use crate::url::{list_href, ListQuery};
use leptos::prelude::*;
use shared_types::{FindingFilter, FindingGroup, FindingGroups, GroupBy, Severity, WorkflowStatus};

/// Groups listed at first (the API's default).
pub const FIRST_GROUPS: u32 = 100;
/// Most groups one answer lists (the API's `limit` maximum); past them the
/// view must be narrowed.
pub const MAX_GROUPS: u32 = 1_000;

/// The place kept in the current history entry ([`crate::back_place`]), if any.
fn kept_place() -> Option<Place> {
    let state = web_sys::window()?.history().ok()?.state().ok()?;
    let number = |key: &str| js_sys::Reflect::get(&state, &key.into()).ok()?.as_f64();
    Place::checked(
        number(LIMIT_KEY)?,
        number(SCROLL_KEY)?,
        FIRST_GROUPS,
        MAX_GROUPS,
    )
}

/// Keeps `place` in the current history entry, before the router pushes the
/// next one. Only the entry's state changes, not its address.
fn keep_place(place: Place) {
    let Some(history) = web_sys::window().and_then(|w| w.history().ok()) else {
        return;
    };
    let state = js_sys::Object::new();
    let set = |key: &str, v: f64| js_sys::Reflect::set(&state, &key.into(), &v.into());
    if set(LIMIT_KEY, f64::from(place.limit)).is_ok() && set(SCROLL_KEY, place.scroll_y).is_ok() {
        let _ = history.replace_state(&state, "");
    }
}

/// What the dashboard calls a grouping.
pub fn group_label(by: GroupBy) -> &'static str {
    match by {
        GroupBy::Generator => "Control / rule",
        GroupBy::Resource => "Resource",
        GroupBy::Account => "Account",
        GroupBy::Region => "Region",
        GroupBy::ResourceType => "Resource type",
    }
}

/// The list a click on `group` opens: the view narrowed to the group, first page.
pub fn group_href(filter: &FindingFilter, by: GroupBy, group: &FindingGroup) -> String {
    list_href(&ListQuery {
        filter: by.narrow(filter, &group.key),
        ..ListQuery::default()
    })
}

/// The "Group by" select showing `grouping` (`None` is the plain list); a
/// choice goes to `on_change`, which puts it in the URL.
#[component]
pub fn GroupBySelect(
    #[prop(into)] grouping: Signal<Option<GroupBy>>,
    #[prop(into)] on_change: Callback<Option<GroupBy>>,
) -> impl IntoView {
    view! {
        <label class="field group-by">
            <span>"Group by"</span>
            <select name="group_by" on:change=move |ev| {
                on_change.run(event_target_value(&ev).parse::<GroupBy>().ok());
            }>
                // The property, not only the attribute: once the person has picked
                // an option, the browser no longer follows the attribute, and Back
                // or a link must still show the URL's grouping.
                <option value="" selected=move || grouping.get().is_none()
                    prop:selected=move || grouping.get().is_none()>"Nothing (list)"</option>
                {GroupBy::ALL.into_iter().map(|by| view! {
                    <option value=by.as_str() selected=move || grouping.get() == Some(by)
                        prop:selected=move || grouping.get() == Some(by)>{group_label(by)}</option>
                }).collect_view()}
            </select>
        </label>
    }
}

/// The groups of the view of `filter` by `by`, reloaded when either changes
/// and after live changes that may touch the view. A click on a group opens
/// the group's list (a URL without the grouping, so Back returns to the
/// groups).
#[component]
pub fn GroupsTable(filter: Signal<FindingFilter>, by: GroupBy) -> impl IntoView {
    let loader = Loader::<FindingGroups>::new();
    // Back from a group: as many groups as were shown, at the same height.
    let back = kept_place();
    let restore = StoredValue::new(back.map(|b| b.scroll_y));
    // "Show more" lists up to MAX_GROUPS; a narrower filter and a refetch keep that.
    let limit = RwSignal::new(back.map_or(FIRST_GROUPS, |b| b.limit));
    let pace = StoredValue::new(Pace::default());
    // `refresh`: the view again after live changes, whose failure keeps the
    // groups shown instead of an error panel.
    let fetch = move |refresh: bool| {
        let (Some(f), Some(n)) = (filter.try_get_untracked(), limit.try_get_untracked()) else {
            return; // The table went away before a waiting refetch.
        };
        pace.try_update_value(|p| p.sent(js_sys::Date::now()));
        // The loader shows only the latest request's answer.
        let request = async move { api::finding_groups(&f, by, n).await };
        if refresh {
            loader.refresh(request);
        } else {
            loader.run(request);
        }
    };
    let load = move || fetch(false);
    let refetch = move || fetch(true);
    Effect::new(move |_| {
        filter.track();
        limit.track();
        load();
    });
    // A pushed change carries one finding, not the groups' new counts: when
    // one may touch the view, the groups are fetched again, once for a burst.
    let live = expect_context::<Live>();
    let handled = StoredValue::new(live.pushed.with_untracked(|p| p.last().map_or(0, |x| x.n)));
    // While live updates are paused the groups hold still too; a change that
    // came meanwhile is fetched once on unpause.
    let missed = StoredValue::new(false);
    let schedule = move || {
        if let Some(wait) = pace
            .try_update_value(|p| p.changed(js_sys::Date::now()))
            .flatten()
        {
            // Paused while it waited (the pace holds a fetch up to a second
            // after the last): it goes out on unpause instead.
            let fire = move || {
                if live.paused.try_get_untracked() == Some(true) {
                    pace.try_update_value(|p| p.held());
                    missed.try_set_value(true);
                } else {
                    refetch();
                }
            };
            set_timeout(fire, std::time::Duration::from_millis(wait as u64));
        }
    };
    Effect::new(move |_| {
        let f = filter.get_untracked();
        let from = handled.get_value();
        let touched = live.pushed.with(|p| {
            p.iter()
                .filter(|x| x.n > from)
                .any(|x| touches_view(&f, x.before.as_ref(), &x.item, x.kind))
        });
        if let Some(n) = live.pushed.with_untracked(|p| p.last().map(|x| x.n)) {
            handled.set_value(n);
        }
        if !touched {
            return;
        }
        if live.paused.get_untracked() {
            missed.set_value(true);
        } else {
            schedule();
        }
    });
    Effect::new(move |_| {
        if !live.paused.get() && missed.get_value() {
            missed.set_value(false);
            schedule();
        }
    });
    live.on_resync(move || {
        if live.paused.get_untracked() {
            missed.set_value(true);
        } else {
            refetch();
        }
    });
    let now = now();
    // The link is followed here: the new URL has no grouping, so the groups
    // table and the anchor clicked go away while the router would handle it.
    let navigate = leptos_router::hooks::use_navigate();
    let open = Callback::new(move |href: String| {
        let scroll_y = web_sys::window()
            .and_then(|w| w.scroll_y().ok())
            .unwrap_or(0.0);
        let place = Place {
            limit: limit.get_untracked(),
            scroll_y,
        };
        keep_place(place);
        navigate(&href, Default::default());
    });
    // Once the groups are on the page (the first answer after Back), back to
    // where the person was; a first answer that failed drops the place, so no
    // later answer (a refetch, "Show more") moves the window.
    Effect::new(move |_| {
        let ready = match loader.state.get() {
            Load::Loading => return,
            Load::Ready(_) => true,
            Load::Failed(_) => false,
        };
        if let Some(y) = restore.try_update_value(Option::take).flatten() {
            if !ready {
                return;
            }
            request_animation_frame(move || {
                if let Some(w) = web_sys::window() {
                    w.scroll_to_with_x_and_y(0.0, y);
                }
            });
        }
    });
    move || match loader.state.get() {
        Load::Loading => view! { <Loading label="Grouping findings…"/> }.into_any(),
        Load::Failed(e) => view! { <ErrorPanel error=e on_retry=move || load()/> }.into_any(),
        Load::Ready(groups) => {
            let f = filter.get_untracked();
            let rows = groups
                .groups
                .iter()
                .map(|g| group_row(&f, by, g, now, open))
                .collect_view();
            let sev_heads = Severity::ALL_DESC.map(
                |s| view! { <th scope="col" class="num" title=s.as_str()>{short_severity(s)}</th> },
            );
            let status_heads = WorkflowStatus::ALL
                .map(|s| view! { <th scope="col" class="num">{s.as_str()}</th> });
            let note = (!groups.exact).then(|| {
                view! {
                    <p class="muted" data-testid="groups-estimate">
                        "Counted from the view's newest findings only: the totals are lower bounds."
                    </p>
                }
            });
            let other = (groups.other > 0).then(|| {
                let listed = groups.groups.len();
                let more = limit.get_untracked() < MAX_GROUPS;
                view! {
                    <p class="muted" data-testid="groups-other">
                        {groups_not_listed(groups.other, listed, more)}
                        {more.then(|| view! {
                            " "
                            <button class="btn" data-testid="groups-more"
                                on:click=move |_| limit.set(MAX_GROUPS)>
                                {format!("Show up to {} groups", thousands(u64::from(MAX_GROUPS)))}
                            </button>
                        })}
                    </p>
                }
            });
            view! {
                <div class="table-wrap">
                    <table class="groups" data-testid="groups" data-by=by.as_str()>
                        <thead><tr>
                            <th scope="col">{group_label(by)}</th>
                            <th scope="col" class="num">"Total"</th>
                            {sev_heads}
                            {status_heads}
                            <th scope="col">"Updated"</th>
                        </tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
                {note}
                {other}
            }
            .into_any()
        }
    }
}

fn short_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "CRIT",
        Severity::High => "HIGH",
        Severity::Medium => "MED",
        Severity::Low => "LOW",
        Severity::Informational => "INFO",
    }
}

fn group_row(
    filter: &FindingFilter,
    by: GroupBy,
    g: &FindingGroup,
    now: chrono::DateTime<chrono::Utc>,
    open: Callback<String>,
) -> impl IntoView {
    let count = |n: Option<&u64>| {
        let n = n.copied().unwrap_or(0);
        view! { <td class="num" class:zero=n == 0>{n}</td> }
    };
    let sev = Severity::ALL_DESC.map(|s| count(g.by_severity.get(&s)));
    let status = WorkflowStatus::ALL.map(|s| count(g.by_status.get(&s)));
    let updated = g
        .updated_at
        .map(|t| view! { <span title=date_time(t)>{relative_time(t, now)}</span> });
    let key = (g.label != g.key).then(|| view! { <span class="sub mono">{g.key.clone()}</span> });
    let href = group_href(filter, by, g);
    let link = href.clone();
    view! {
        <tr data-key=g.key.clone() data-total=g.total>
            <td class="col-title">
                <a href=link on:click=move |ev: leptos::ev::MouseEvent| {
                    // A click meant for a new tab or window is the browser's.
                    if ev.button() != 0 || ev.ctrl_key() || ev.meta_key() || ev.shift_key() || ev.alt_key() {
                        return;
                    }
                    ev.prevent_default();
                    open.run(href.clone());
                }>{g.label.clone()}</a>
                {key}
            </td>
            <td class="num total">{g.total}</td>
            {sev}
            {status}
            <td class="nowrap">{updated}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_groups_link_lists_the_view_narrowed_to_the_group_from_its_first_page() {
        let filter = FindingFilter::from_pairs([("severity", "HIGH")]).unwrap();
        let g = FindingGroup::empty("arn:aws:s3:::logs");
        let href = group_href(&filter, GroupBy::Resource, &g);
        let query = href.split_once('?').unwrap().1;
        let back = ListQuery::from_query_string(query).unwrap();
        assert_eq!(back.filter.resource.as_deref(), Some("arn:aws:s3:::logs"));
        assert_eq!(back.filter.severities, filter.severities);
        assert!(back.cursor.is_none());
        assert_eq!(back.group, None, "the group's list is a list, not groups");
    }
}
