//! The findings list's head count ("1–50 of 87") and when live changes make it
//! stale.
//!
//! The API's `total` is the count of the whole view when the page loaded. Live
//! changes move rows in and out of the page without a reload, so the page asks
//! for the count again when a change may have moved a finding across the view's
//! edge; everything here decides that, or how the count reads, without a browser.

use crate::format::{range_of, thousands};
use shared_types::{ChangeKind, FindingFilter, FindingListItem};

/// Whether a pushed change may have changed how many findings `filter`
/// matches: the finding entered or left the view. `before` is the version the
/// browser held (`None`: never seen), `after` the one pushed.
///
/// A finding never seen that was changed (not inserted) may have left the view
/// from a page not loaded here, so that counts as a change too: one count
/// request too many is cheap, a wrong head is what the person reads.
pub fn touches_count(
    filter: &FindingFilter,
    before: Option<&FindingListItem>,
    after: &FindingListItem,
    kind: Option<ChangeKind>,
) -> bool {
    // The API's `q` also searches the description, which a list item does not
    // carry: a finding can be in such a view while `matches` says it is not. So
    // the edge is the view's without `q`, and any change inside it counts.
    let inside_counts = filter.q.is_some();
    let wider;
    let filter = if inside_counts {
        wider = FindingFilter {
            q: None,
            ..filter.clone()
        };
        &wider
    } else {
        filter
    };
    if kind == Some(ChangeKind::Deleted) {
        // A delete (archival) carries the finding as it left: it was in the
        // view exactly when that version (or the one held) matches. An archive
        // run's many old findings outside the view ask for nothing.
        return filter.matches(after) || before.is_some_and(|b| filter.matches(b));
    }
    let in_after = filter.matches(after);
    match before {
        Some(b) if inside_counts => filter.matches(b) || in_after,
        Some(b) => filter.matches(b) != in_after,
        None if kind == Some(ChangeKind::Inserted) => in_after,
        None => true,
    }
}

/// A view's count as one answer gave it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Count {
    /// How many findings the view matches (`None` from an older server).
    pub total: Option<u64>,
    /// False when `total` is the server's estimate.
    pub exact: bool,
}

/// Views whose newest count is remembered: the one shown and the few before it
/// (a Back returns to one while its answers may still come in).
const REMEMBERED_VIEWS: usize = 8;

/// Orders the count answers of page loads and live recounts: each request takes
/// a number, and a view shows the count of its newest answered request. A slow
/// page load must not put back the total a later recount already replaced — nor
/// must a recount that answered before the page of its view was shown be lost
/// (the page load asked earlier then shows the recount's count).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recounts {
    asked: u64,
    /// Per view (its API query string): the newest answer's number and count.
    newest: Vec<(String, u64, Count)>,
}

impl Recounts {
    /// The number of a request about to be sent.
    pub fn ask(&mut self) -> u64 {
        self.asked += 1;
        self.asked
    }

    /// The answer to request `n`, which counted `view`: the count `view` should
    /// show — this one, or the one of a later request for it that answered
    /// first.
    pub fn answer(&mut self, n: u64, view: &str, count: Count) -> Count {
        match self.newest.iter_mut().find(|(v, _, _)| v == view) {
            Some((_, m, newer)) if *m > n => *newer,
            Some(held) => {
                held.1 = n;
                held.2 = count;
                count
            }
            None => {
                self.newest.push((view.to_string(), n, count));
                if self.newest.len() > REMEMBERED_VIEWS {
                    // The view answered longest ago goes.
                    let oldest = (0..self.newest.len()).min_by_key(|&i| self.newest[i].1);
                    if let Some(i) = oldest {
                        self.newest.swap_remove(i);
                    }
                }
                count
            }
        }
    }
}

/// Whether the rows shown are the whole view, so their number is its exact
/// count: the first page (`before` is 0), with no next page (`has_next`),
/// and no live row left out — none waiting behind the "N new" bar
/// (`pending`), and no generator filter, whose views take no live rows (a list
/// item does not say its generator).
pub fn shows_whole_view(before: u64, has_next: bool, pending: usize, generator: bool) -> bool {
    before == 0 && !has_next && pending == 0 && !generator
}

/// What the list's head says: the range of rows shown within the view's total
/// (`1–47 of 84`), or, while the view is grouped, only the total (`84
/// findings`: the groups table has no rows to number). `before` rows come
/// before this page. The total is never below the rows shown (a count that
/// raced a pushed row), so the range always fits in it. `whole`: the page is
/// the view's first and the API said no page follows, so the rows shown are
/// the whole view and their number is the exact total, whatever the count
/// (an estimate, or one taken before the last live change) said.
pub fn head_line(
    grouped: bool,
    before: u64,
    shown: u64,
    whole: bool,
    total: Option<u64>,
    exact: bool,
) -> String {
    let (total, exact) = if whole {
        (Some(shown), true)
    } else {
        (total, exact)
    };
    if grouped {
        return match total {
            None => String::new(),
            Some(t) if exact => format!("{} findings", thousands(t)),
            Some(t) => format!("about {} findings", thousands(t)),
        };
    }
    // A hand-edited offset may be huge: the sums saturate.
    let total = total.map(|t| t.max(before.saturating_add(shown)));
    range_of(before.saturating_add(1), shown, total, exact)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_data::item;
    use shared_types::{Severity, WorkflowStatus};

    fn new_high() -> FindingFilter {
        FindingFilter {
            severities: vec![Severity::High],
            statuses: vec![WorkflowStatus::New],
            ..Default::default()
        }
    }

    fn resolved(mut f: FindingListItem) -> FindingListItem {
        f.workflow_status = WorkflowStatus::Resolved;
        f
    }

    #[test]
    fn a_change_counts_when_the_finding_crosses_the_views_edge() {
        let f = new_high();
        let a = item("a", Severity::High, 1);
        // Resolved: it leaves a view of NEW.
        assert!(touches_count(&f, Some(&a), &resolved(a.clone()), None));
        // Reopened: it comes back.
        assert!(touches_count(
            &f,
            Some(&resolved(a.clone())),
            &a,
            Some(ChangeKind::Reopened)
        ));
        // A new title keeps it in the view; a change outside it stays outside.
        let mut retitled = a.clone();
        retitled.title = "renamed".into();
        assert!(!touches_count(
            &f,
            Some(&a),
            &retitled,
            Some(ChangeKind::Updated)
        ));
        let low = item("l", Severity::Low, 1);
        assert!(!touches_count(&f, Some(&low), &resolved(low.clone()), None));
    }

    #[test]
    fn new_findings_count_when_they_match_and_unseen_changes_always_do() {
        let f = new_high();
        let inserted = Some(ChangeKind::Inserted);
        assert!(touches_count(
            &f,
            None,
            &item("n", Severity::High, 1),
            inserted
        ));
        assert!(!touches_count(
            &f,
            None,
            &item("n", Severity::Low, 1),
            inserted
        ));
        // Resolved on a page never loaded here: it may have left the view.
        let gone = resolved(item("x", Severity::High, 1));
        assert!(touches_count(&f, None, &gone, None));
        // Archived out of the store: it left the view it was in.
        let a = item("a", Severity::High, 1);
        assert!(touches_count(&f, Some(&a), &a, Some(ChangeKind::Deleted)));
        // Archived, never seen here: the frame says whether it was in the view.
        assert!(touches_count(&f, None, &a, Some(ChangeKind::Deleted)));
        let old = resolved(item("o", Severity::High, 1));
        assert!(!touches_count(&f, None, &old, Some(ChangeKind::Deleted)));
        let low = item("l", Severity::Low, 1);
        assert!(!touches_count(&f, None, &low, Some(ChangeKind::Deleted)));
    }

    #[test]
    fn with_free_text_any_change_inside_the_view_without_it_counts() {
        // `q` may match the description only, which a list item does not carry.
        let f = FindingFilter {
            q: Some("public access".into()),
            ..new_high()
        };
        let a = item("a", Severity::High, 1);
        let mut retitled = a.clone();
        retitled.title = "renamed".into();
        assert!(touches_count(
            &f,
            Some(&a),
            &retitled,
            Some(ChangeKind::Updated)
        ));
        assert!(touches_count(&f, Some(&a), &resolved(a.clone()), None));
        assert!(touches_count(
            &f,
            None,
            &item("n", Severity::High, 1),
            Some(ChangeKind::Inserted)
        ));
        assert!(touches_count(&f, Some(&a), &a, Some(ChangeKind::Deleted)));
        // Outside the view even without `q`: no count.
        let low = item("l", Severity::Low, 1);
        assert!(!touches_count(&f, Some(&low), &resolved(low.clone()), None));
        assert!(!touches_count(&f, None, &low, Some(ChangeKind::Inserted)));
    }

    fn count(total: u64) -> Count {
        Count {
            total: Some(total),
            exact: true,
        }
    }

    #[test]
    fn a_slower_older_answer_never_replaces_a_newer_count_of_the_same_view() {
        let mut r = Recounts::default();
        // A reload asked first, a recount later; the recount answers first.
        let (load, recount) = (r.ask(), r.ask());
        assert_eq!(r.answer(recount, "severity=HIGH", count(49)), count(49));
        assert_eq!(
            r.answer(load, "severity=HIGH", count(50)),
            count(49),
            "the page keeps the recount's total"
        );
        // The next answer in order is used.
        let again = r.ask();
        assert_eq!(r.answer(again, "severity=HIGH", count(48)), count(48));
    }

    #[test]
    fn a_recount_that_answers_before_its_views_page_is_kept_for_that_page() {
        let mut r = Recounts::default();
        let old = r.ask();
        assert_eq!(r.answer(old, "severity=LOW", count(7)), count(7));
        // Navigation: the new view's load is slow, its recount answers while
        // the old view is still shown (the page drops it)...
        let (load, recount) = (r.ask(), r.ask());
        r.answer(recount, "severity=HIGH", count(51));
        // ...and the load's older total does not win when it comes.
        assert_eq!(r.answer(load, "severity=HIGH", count(50)), count(51));
        // Another view's answers do not touch it.
        let late = r.ask();
        assert_eq!(r.answer(late, "severity=LOW", count(6)), count(6));
        assert_eq!(r.answer(load, "severity=HIGH", count(50)), count(51));
    }

    #[test]
    fn only_a_few_views_are_remembered_and_the_oldest_answered_goes_first() {
        let mut r = Recounts::default();
        let first = r.ask();
        r.answer(first, "v0", count(0));
        let stale = r.ask();
        let newer = r.ask();
        r.answer(newer, "v0", count(1));
        for i in 1..=REMEMBERED_VIEWS {
            let n = r.ask();
            r.answer(n, &format!("v{i}"), count(i as u64));
        }
        assert_eq!(r.newest.len(), REMEMBERED_VIEWS);
        // v0 was answered longest ago: forgotten, so its stale answer is taken.
        assert_eq!(r.answer(stale, "v0", count(9)), count(9));
    }

    #[test]
    fn the_head_keeps_the_range_inside_the_total_and_shows_only_the_total_when_grouped() {
        assert_eq!(head_line(false, 0, 47, false, Some(84), true), "1–47 of 84");
        assert_eq!(
            head_line(false, 50, 50, false, Some(129), true),
            "51–100 of 129"
        );
        // A pushed row arrived before the count that includes it.
        assert_eq!(head_line(false, 0, 51, false, Some(50), true), "1–51 of 51");
        assert_eq!(head_line(false, 0, 0, true, Some(0), true), "0 of 0");
        assert_eq!(
            head_line(true, 0, 50, false, Some(1_234), true),
            "1,234 findings"
        );
        assert_eq!(
            head_line(true, 0, 50, false, Some(12_345), false),
            "about 12,345 findings"
        );
        assert_eq!(head_line(true, 0, 50, false, None, true), "");
    }

    #[test]
    fn a_first_page_with_no_next_is_the_whole_view_and_its_rows_are_the_exact_count() {
        // An estimated view emptied by a bulk change: not "0 of about 1".
        assert_eq!(head_line(false, 0, 0, true, Some(1), false), "0 of 0");
        assert_eq!(head_line(false, 0, 12, true, Some(40), false), "1–12 of 12");
        // A count that has not yet seen rows leave.
        assert_eq!(head_line(false, 0, 47, true, Some(50), true), "1–47 of 47");
        assert_eq!(head_line(true, 0, 3, true, Some(9), false), "3 findings");
        assert_eq!(head_line(false, 0, 5, true, None, true), "1–5 of 5");
        // With a next page, or on a later page, the count is the API's.
        assert_eq!(
            head_line(false, 0, 50, false, Some(900), false),
            "1–50 of about 900"
        );
    }

    #[test]
    fn rows_waiting_or_skipped_live_keep_the_first_page_from_being_the_whole_view() {
        assert!(shows_whole_view(0, false, 0, false));
        // Three new rows wait behind the bar: the API's count is read, not
        // the 12 rows shown ("1–12 of 15", never "1–12 of 12" beside "3 new").
        assert!(!shows_whole_view(0, false, 3, false));
        let waiting = shows_whole_view(0, false, 3, false);
        assert_eq!(
            head_line(false, 0, 12, waiting, Some(15), true),
            "1–12 of 15"
        );
        // A generator filter skips live rows: the rows shown may be too few.
        assert!(!shows_whole_view(0, false, 0, true));
        // A later page, or one with a next page, never is.
        assert!(!shows_whole_view(50, false, 0, false));
        assert!(!shows_whole_view(0, true, 0, false));
    }

    #[test]
    fn a_huge_offset_reads_without_overflowing() {
        let max = "18,446,744,073,709,551,615";
        let line = head_line(false, u64::MAX, 50, false, Some(10), true);
        assert!(line.starts_with(&format!("{max}–")), "{line}");
        assert!(line.ends_with(&format!("of {max}")), "{line}");
        // An estimate as large does not overflow its rounding either.
        let about = head_line(false, u64::MAX - 5, 3, false, Some(u64::MAX), false);
        assert!(about.contains("of about"), "{about}");
    }
}
