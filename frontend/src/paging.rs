//! Paging through the findings list. The API pages forward only (a cursor says
//! where the next page starts), so "← Newer" needs the cursor of the page
//! before, which only the tab that paged forward knows: the [`PageTrail`]
//! remembers it per page. The page keeps the trail in the tab's session
//! storage, so Back, Forward and a reload on page N still lead to page N − 1.
//! The rows before a page are in its URL (`offset`), so the head's range never
//! depends on this memory.

use crate::url::ListQuery;
use serde::{Deserialize, Serialize};

/// Pages whose way back is remembered; past them the oldest step is forgotten
/// (its "← Newer" then opens the first page).
const REMEMBERED_PAGES: usize = 64;

/// One "Older →" taken: the page reached (its API query, which names the view
/// and the cursor) and the cursor and offset of the page it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Step {
    to: String,
    from_cursor: Option<String>,
    from_offset: u64,
}

/// The way back from each page reached by "Older →", oldest step first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageTrail {
    steps: Vec<Step>,
}

impl PageTrail {
    /// The page after `from`, which starts at `next`, and the way back to
    /// `from` remembered. It starts after the `shown` rows `from` shows, not
    /// after `limit` rows: a page can come back short (even empty) with a next
    /// cursor, and live rows can join the first page.
    pub fn older(&mut self, from: &ListQuery, next: String, shown: u64) -> ListQuery {
        let to = ListQuery {
            cursor: Some(next),
            offset: from.offset.saturating_add(shown),
            ..from.clone()
        };
        let key = to.api_query_string();
        self.steps.retain(|s| s.to != key);
        self.steps.push(Step {
            to: key,
            from_cursor: from.cursor.clone(),
            from_offset: from.offset,
        });
        if self.steps.len() > REMEMBERED_PAGES {
            self.steps.remove(0);
        }
        to
    }

    /// The page before `q`: the one "Older →" came from, or the view's first
    /// page when this tab never paged to `q` (a link opened elsewhere), since
    /// the API cannot page backwards.
    pub fn newer(&self, q: &ListQuery) -> ListQuery {
        let key = q.api_query_string();
        match self.steps.iter().find(|s| s.to == key) {
            Some(s) if s.from_cursor.is_some() => ListQuery {
                cursor: s.from_cursor.clone(),
                offset: s.from_offset,
                ..q.clone()
            },
            _ => q.clone().first_page(),
        }
    }

    /// The trail as stored in the tab's session storage.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// A stored trail; an unreadable one (another version's) starts afresh.
    pub fn from_json(s: &str) -> PageTrail {
        serde_json::from_str(s).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(qs: &str) -> ListQuery {
        ListQuery::from_query_string(qs).unwrap()
    }

    #[test]
    fn newer_retraces_older_page_by_page_with_each_pages_offset() {
        let mut trail = PageTrail::default();
        let p1 = view("severity=MEDIUM");
        let p2 = trail.older(&p1, "c2".into(), 50);
        let p3 = trail.older(&p2, "c3".into(), 50);
        assert_eq!(p3.to_query_string(), "severity=MEDIUM&cursor=c3&offset=100");
        assert_eq!(trail.newer(&p3), p2);
        assert_eq!(trail.newer(&p2), p1);
    }

    #[test]
    fn the_way_back_survives_a_reload_and_does_not_depend_on_history_order() {
        let mut trail = PageTrail::default();
        let p1 = view("severity=MEDIUM&sort=title");
        let p2 = trail.older(&p1, "c2".into(), 50);
        let p3 = trail.older(&p2, "c3".into(), 50);
        let stored = PageTrail::from_json(&trail.to_json());
        // A reload on page 3 (its URL parsed afresh), then Back twice and
        // Forward: each page still knows the one before it.
        let reloaded = view(&p3.to_query_string());
        assert_eq!(reloaded.offset, 100);
        assert_eq!(stored.newer(&reloaded), p2);
        assert_eq!(stored.newer(&p2), p1);
        assert_eq!(PageTrail::from_json("not json"), PageTrail::default());
    }

    #[test]
    fn a_page_this_tab_never_paged_to_goes_back_to_the_first_page() {
        let trail = PageTrail::default();
        let bookmarked = view("severity=LOW&cursor=zz&offset=150");
        assert_eq!(trail.newer(&bookmarked), view("severity=LOW"));
        // Another view's cursor does not lead back into this view.
        let mut trail = PageTrail::default();
        trail.older(&view("severity=HIGH"), "zz".into(), 50);
        let low = view("severity=LOW&cursor=zz&offset=50");
        assert_eq!(trail.newer(&low), view("severity=LOW"));
    }

    #[test]
    fn only_the_newest_steps_are_remembered() {
        let mut trail = PageTrail::default();
        let mut pages = vec![view("status=NEW")];
        for i in 0..=REMEMBERED_PAGES {
            let next = trail.older(pages.last().unwrap(), format!("c{i}"), 50);
            pages.push(next);
        }
        assert_eq!(trail.steps.len(), REMEMBERED_PAGES);
        // The oldest step kept still leads back; one more step forgets it.
        assert_eq!(trail.newer(&pages[2]), pages[1]);
        let last = pages.last().unwrap().clone();
        trail.older(&last, "more".into(), 50);
        assert_eq!(trail.newer(&pages[2]), view("status=NEW"));
        assert_eq!(trail.newer(&last), pages[pages.len() - 2]);
    }

    #[test]
    fn the_next_page_starts_after_the_rows_this_page_shows() {
        let mut trail = PageTrail::default();
        // DynamoDB may answer a short page, or an empty one, with a next cursor.
        let p1 = view("severity=LOW");
        let p2 = trail.older(&p1, "c2".into(), 37);
        assert_eq!(p2.offset, 37);
        let p3 = trail.older(&p2, "c3".into(), 0);
        assert_eq!(p3.offset, 37);
        // Live rows joined the first page: 53 shown of a limit of 50.
        let p2 = trail.older(&p1, "c2b".into(), 53);
        assert_eq!(p2.offset, 53);
        assert_eq!(trail.newer(&p2), p1);
        // A hand-edited huge offset does not overflow.
        let far = view(&format!("severity=LOW&cursor=x&offset={}", u64::MAX));
        assert_eq!(trail.older(&far, "y".into(), 50).offset, u64::MAX);
    }
}
