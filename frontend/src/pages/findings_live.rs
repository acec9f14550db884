//! The findings list following the change feed: new findings that belong to the
//! view join it at the top, highlighted — or wait behind the "N new" bar while
//! live updates are paused or the table is scrolled (so what the analyst is
//! reading does not move). Changed ones update in place through the store; an
//! archived one leaves it. A change that may move the view's count asks for it
//! again ([`touches_count`]).

use crate::components::states::{Load, Loader};
use crate::live::{Live, Pushed};
use crate::state::{matches, FindingStore, PageState};
use crate::url::ListQuery;
use crate::view_count::touches_count;
use leptos::prelude::*;
use shared_types::ChangeKind;
use std::collections::HashSet;
use std::time::Duration;

/// How long a row that just arrived stays highlighted.
const FRESH_FOR: Duration = Duration::from_secs(4);

/// What the list shows of live changes.
#[derive(Clone, Copy)]
pub struct LiveRows {
    /// Ids of new findings waiting behind the "N new" bar, newest last.
    pub pending: RwSignal<Vec<String>>,
    /// Ids of rows that just arrived (highlighted for [`FRESH_FOR`]).
    pub fresh: RwSignal<HashSet<String>>,
}

impl LiveRows {
    /// Follows the pushed changes for the list of `query`, whose page `loader`
    /// holds; calls `recount` when a change may have moved the view's count.
    pub fn follow(
        query: Memo<ListQuery>,
        loader: Loader<PageState>,
        recount: impl Fn() + Copy + 'static,
    ) -> LiveRows {
        let live = expect_context::<Live>();
        let handled = StoredValue::new(live.pushed.with_untracked(|p| p.last().map_or(0, |x| x.n)));
        let rows = LiveRows {
            pending: RwSignal::new(Vec::new()),
            fresh: RwSignal::new(HashSet::new()),
        };
        let pending = rows.pending;
        Effect::new(move |_| {
            let q = query.get_untracked();
            let (new, gone, counted) = live.pushed.with(|p| {
                let from = handled.get_value();
                let unseen = || p.iter().filter(|x| x.n > from);
                let counted =
                    unseen().any(|x| touches_count(&q.filter, x.before.as_ref(), &x.item, x.kind));
                let (gone, new): (Vec<_>, Vec<_>) =
                    unseen().partition(|x| x.kind == Some(ChangeKind::Deleted));
                let items =
                    |v: Vec<&Pushed>| v.into_iter().map(|x| x.item.clone()).collect::<Vec<_>>();
                (items(new), items(gone), counted)
            });
            if let Some(n) = live.pushed.with_untracked(|p| p.last().map(|x| x.n)) {
                handled.set_value(n);
            }
            if counted {
                recount();
            }
            // An archived finding waiting behind the "N new" bar is no longer new.
            if !gone.is_empty() && pending.with_untracked(|v| !v.is_empty()) {
                pending.update(|v| v.retain(|id| !gone.iter().any(|g| &g.id == id)));
            }
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
                } else if rows.merge(loader, &item, &q) {
                    rows.highlight(item.id.clone());
                }
            }
        });
        rows
    }

    /// Shows the findings waiting behind the "N new" bar (those still held).
    pub fn show_pending(
        self,
        query: Memo<ListQuery>,
        loader: Loader<PageState>,
        store: RwSignal<FindingStore>,
    ) {
        let ids = self.pending.get_untracked();
        self.pending.set(Vec::new());
        let q = query.get_untracked();
        for id in ids.into_iter().rev() {
            let Some(item) = store.with_untracked(|s| s.get(&id).cloned()) else {
                continue;
            };
            if self.merge(loader, &item, &q) {
                self.highlight(id);
            }
        }
    }

    /// Puts `item` on the loaded page of `q`; true when it joined.
    fn merge(
        self,
        loader: Loader<PageState>,
        item: &shared_types::FindingListItem,
        q: &ListQuery,
    ) -> bool {
        let mut added = false;
        loader.state.update(|s| {
            if let Load::Ready(page) = s {
                added = page.merge_pushed(item, &q.filter);
            }
        });
        added
    }

    /// Highlights the row of `id` for a moment.
    fn highlight(self, id: String) {
        let fresh = self.fresh;
        fresh.update(|f| {
            f.insert(id.clone());
        });
        set_timeout(
            move || {
                fresh.try_update(|f| f.remove(&id));
            },
            FRESH_FOR,
        );
    }
}
