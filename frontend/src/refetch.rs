//! Views fetched whole and then kept up to date by fetching them again after
//! live changes: the findings list's groups table, the overview's top lists
//! and compliance cards. A pushed change carries one finding, not the new
//! aggregate, so such a view cannot be patched in place like a list row: it
//! is asked for again, at a pace that stays at one request a second however
//! many changes come (a bulk change pushes hundreds). Only the newest answer
//! is shown: the page's [`Loader`](crate) keeps the latest request's.

use shared_types::{ChangeKind, FindingFilter, FindingListItem};

/// Least time between two fetches of the same view, in milliseconds.
pub const REFETCH_EVERY_MS: f64 = 1_000.0;

/// Whether a pushed change may have changed an aggregate of the view of
/// `filter` (its groups' counts, order or members): the finding was in the
/// view before or is in it after. `before` is the version the browser held
/// (`None`: never seen), `after` the one pushed.
///
/// Unlike the list's count, a change inside the view counts too (a status
/// change moves a group's status columns). A finding never seen that was
/// changed, not inserted, may have left the view, so that counts; the free
/// text is left out of the test since it may match the description, which a
/// list item does not carry (one request too many is cheap, stale groups are
/// what the person reads).
pub fn touches_view(
    filter: &FindingFilter,
    before: Option<&FindingListItem>,
    after: &FindingListItem,
    kind: Option<ChangeKind>,
) -> bool {
    let wider = FindingFilter {
        q: None,
        ..filter.clone()
    };
    wider.matches(after)
        || match before {
            Some(b) => wider.matches(b),
            None => kind != Some(ChangeKind::Inserted),
        }
}

/// When the next fetch of a view goes out: at most one every
/// [`REFETCH_EVERY_MS`], and never more than one waiting (it sees every change
/// before it is sent).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Pace {
    /// When the last fetch went out (ms on the page's clock).
    last: Option<f64>,
    /// A fetch is waiting to go out.
    waiting: bool,
}

impl Pace {
    /// A change that touches the view came in at `now`: how long to wait
    /// before fetching, or `None` when a waiting fetch will cover it.
    pub fn changed(&mut self, now: f64) -> Option<f64> {
        if self.waiting {
            return None;
        }
        self.waiting = true;
        let wait = self.last.map_or(0.0, |t| t + REFETCH_EVERY_MS - now);
        Some(wait.max(0.0))
    }

    /// The waiting fetch was not sent (live updates were paused meanwhile):
    /// the next change schedules one again.
    pub fn held(&mut self) {
        self.waiting = false;
    }

    /// The waiting fetch (or a load of the view for another reason) goes out
    /// at `now`.
    pub fn sent(&mut self, now: f64) {
        self.waiting = false;
        self.last = Some(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_data::item;
    use shared_types::{Severity, WorkflowStatus};

    fn new_only() -> FindingFilter {
        FindingFilter {
            statuses: vec![WorkflowStatus::New],
            ..Default::default()
        }
    }

    #[test]
    fn changes_inside_into_or_out_of_the_view_touch_it_and_others_do_not() {
        let f = new_only();
        let a = item("a", Severity::High, 1);
        let mut notified = a.clone();
        notified.workflow_status = WorkflowStatus::Notified;
        let mut raised = a.clone();
        raised.severity = Severity::Critical;
        // Inside (its severity column moves), out of and into the view.
        assert!(touches_view(&f, Some(&a), &raised, None));
        assert!(touches_view(&f, Some(&a), &notified, None));
        assert!(touches_view(&f, Some(&notified), &a, None));
        // Outside before and after.
        let mut resolved = a.clone();
        resolved.workflow_status = WorkflowStatus::Resolved;
        assert!(!touches_view(&f, Some(&notified), &resolved, None));
        // A new finding in another account joins the view: a new group.
        assert!(touches_view(&f, None, &a, Some(ChangeKind::Inserted)));
        assert!(!touches_view(
            &f,
            None,
            &notified,
            Some(ChangeKind::Inserted)
        ));
        // Never seen and changed to outside: it may have left the view.
        assert!(touches_view(&f, None, &resolved, None));
    }

    #[test]
    fn free_text_is_left_to_the_server() {
        let f = FindingFilter {
            q: Some("only in the description".into()),
            ..new_only()
        };
        let a = item("a", Severity::Low, 1);
        assert!(touches_view(&f, None, &a, Some(ChangeKind::Inserted)));
    }

    #[test]
    fn a_burst_of_changes_asks_once_and_no_more_than_once_a_second() {
        let mut p = Pace::default();
        // The first change fetches at once; the burst after it waits for it.
        assert_eq!(p.changed(10_000.0), Some(0.0));
        assert_eq!(p.changed(10_001.0), None);
        p.sent(10_002.0);
        // The next change waits out the second since that fetch...
        assert_eq!(p.changed(10_300.0), Some(702.0));
        assert_eq!(p.changed(10_900.0), None);
        p.sent(11_002.0);
        // ...and one after a quiet second goes at once.
        assert_eq!(p.changed(15_000.0), Some(0.0));
    }

    #[test]
    fn a_fetch_held_back_by_a_pause_is_scheduled_again_by_the_next_change() {
        let mut p = Pace::default();
        p.sent(10_000.0);
        assert_eq!(p.changed(10_200.0), Some(800.0));
        // The pause came before it went out: nothing is waiting any more.
        p.held();
        assert_eq!(p.changed(13_000.0), Some(0.0));
        // Held soon after a fetch, the pace since that fetch still holds.
        p.sent(14_000.0);
        assert_eq!(p.changed(14_100.0), Some(900.0));
        p.held();
        assert_eq!(p.changed(14_500.0), Some(500.0));
    }
}
