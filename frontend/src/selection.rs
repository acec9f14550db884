//! The findings list's selection for a bulk workflow change: rows ticked one by
//! one or as shift-click ranges, or "every finding matching this filter" — and
//! the request each of them becomes (`POST /findings/workflow`).

use crate::format::thousands;
use shared_types::{
    BulkWorkflowRequest, BulkWorkflowResult, FindingFilter, WorkflowStatus, MAX_BULK_IDS,
    MAX_BULK_MATCHES,
};

/// What the person picked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Ticked rows, in the order they were ticked.
    ids: Vec<String>,
    /// The row a shift-click range starts from (the last one clicked).
    anchor: Option<String>,
    /// "All matching": the filter's match count when the person chose it.
    all_matching: Option<u64>,
}

impl Selection {
    /// True when `id` is ticked (every row is, while all matching are chosen).
    pub fn contains(&self, id: &str) -> bool {
        self.all_matching.is_some() || self.ids.iter().any(|x| x == id)
    }

    /// True when nothing is selected.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty() && self.all_matching.is_none()
    }

    /// How many findings the change would name.
    pub fn count(&self) -> u64 {
        self.all_matching.unwrap_or(self.ids.len() as u64)
    }

    /// True when every finding matching the filter is selected.
    pub fn is_all_matching(&self) -> bool {
        self.all_matching.is_some()
    }

    /// A click on `id`'s box, now `checked`. With `shift`, every row of `rows`
    /// (the table's order) between the last clicked row and this one takes the
    /// same state. Leaves "all matching" for the rows' own selection.
    pub fn click(&mut self, rows: &[String], id: &str, checked: bool, shift: bool) {
        if self.all_matching.take().is_some() {
            self.ids = rows.to_vec();
        }
        let range = match (&self.anchor, shift) {
            (Some(anchor), true) => {
                let from = rows.iter().position(|r| r == anchor);
                let to = rows.iter().position(|r| r == id);
                match (from, to) {
                    (Some(a), Some(b)) => rows[a.min(b)..=a.max(b)].to_vec(),
                    _ => vec![id.to_string()],
                }
            }
            _ => vec![id.to_string()],
        };
        for r in range {
            self.set(&r, checked);
        }
        self.anchor = Some(id.to_string());
    }

    /// The header box: every row of the page, or none.
    pub fn set_page(&mut self, rows: &[String], checked: bool) {
        self.all_matching = None;
        for r in rows {
            self.set(r, checked);
        }
        self.anchor = None;
    }

    /// True when every row of the page is ticked (and there is one).
    pub fn page_is_selected(&self, rows: &[String]) -> bool {
        !rows.is_empty() && rows.iter().all(|r| self.contains(r))
    }

    /// "Select all `total` matching this filter".
    pub fn select_all_matching(&mut self, total: u64) {
        self.all_matching = Some(total);
        self.anchor = None;
    }

    /// The API refused the change to all matching (409: the filter matches
    /// another number than the person confirmed) and the filter was counted
    /// again: `now` findings. The selection becomes that number — or nothing, when
    /// none or too many match — and the line returned asks the person to apply to
    /// it, so nothing is changed for a number they have not seen.
    pub fn recounted(&mut self, now: u64) -> String {
        let was = thousands(self.count());
        let n = thousands(now);
        if now == 0 {
            self.clear();
            format!("No findings match the filter any more (was {was}); nothing was changed.")
        } else if now > MAX_BULK_MATCHES {
            self.clear();
            format!(
                "The filter now matches more than {} findings (was {was}); nothing was changed. Narrow the filter.",
                thousands(MAX_BULK_MATCHES)
            )
        } else if n == was {
            self.select_all_matching(now);
            format!("The findings matching the filter changed; nothing was changed. Apply to {n} again?")
        } else {
            self.select_all_matching(now);
            format!("The filter now matches {n} findings (was {was}); nothing was changed. Apply to {n}?")
        }
    }

    /// Whether a count of `counted` — the filter a change to all matching was
    /// sent for, counted again after its answer — may still change the selection,
    /// now that the list shows `now`. Not when the person cleared the selection
    /// or ticked rows meanwhile, nor under another filter: taking it would bring
    /// back "all matching" they no longer have, or a count of another view.
    pub fn takes_count_of(&self, counted: &FindingFilter, now: &FindingFilter) -> bool {
        self.is_all_matching() && counted == now
    }

    /// Nothing selected.
    pub fn clear(&mut self) {
        *self = Selection::default();
    }

    fn set(&mut self, id: &str, checked: bool) {
        let at = self.ids.iter().position(|x| x == id);
        match (at, checked) {
            (None, true) => self.ids.push(id.to_string()),
            (Some(i), false) => {
                self.ids.remove(i);
            }
            _ => {}
        }
    }

    /// The request that applies `status` and `note` to the selection, or why
    /// there is none.
    pub fn request(
        &self,
        filter: &FindingFilter,
        status: WorkflowStatus,
        note: &str,
    ) -> Result<BulkWorkflowRequest, String> {
        let note = Some(note.trim().to_string()).filter(|n| !n.is_empty());
        match self.all_matching {
            Some(total) => Ok(BulkWorkflowRequest::for_filter(filter, total, status, note)
                .in_steps(bulk_step(total))),
            None if self.ids.is_empty() => Err("Select findings first.".into()),
            None if self.ids.len() > MAX_BULK_IDS => Err(format!(
                "At most {} rows at a time; use \"select all matching\" for more.",
                thousands(MAX_BULK_IDS as u64)
            )),
            None => Ok(BulkWorkflowRequest::for_ids(self.ids.clone(), status, note)),
        }
    }
}

/// Findings per request of a change to all matching: about a tenth of them,
/// so the bar's progress moves in about ten steps, and between 100 and 1,000
/// (each request far inside API Gateway's 29 s, one write per finding).
pub fn bulk_step(total: u64) -> u64 {
    total.div_ceil(10).clamp(100, 1000)
}

/// Adds one request's answer to the run's; the cursor of the next request, or
/// `None` when the run ends: no findings left, or some failed (the person sees
/// them before anything more is changed).
pub fn add_step(run: &mut BulkWorkflowResult, step: BulkWorkflowResult) -> Option<String> {
    run.changed += step.changed;
    run.unchanged += step.unchanged;
    run.failed.extend(step.failed);
    step.next_cursor.filter(|_| run.failed.is_empty())
}

/// The answer, as the bar states it: `"3 changed, 1 already NOTIFIED, 2 failed"`.
pub fn result_line(r: &BulkWorkflowResult, status: WorkflowStatus) -> String {
    let mut parts = vec![format!("{} changed", thousands(r.changed))];
    if r.unchanged > 0 {
        parts.push(format!("{} already {status}", thousands(r.unchanged)));
    }
    if !r.failed.is_empty() {
        parts.push(format!(
            "{} failed (run it again to retry)",
            thousands(r.failed.len() as u64)
        ));
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared_types::{BulkFailure, Severity};

    fn rows() -> Vec<String> {
        ["a", "b", "c", "d", "e"].map(String::from).to_vec()
    }

    #[test]
    fn shift_click_ticks_the_range_from_the_last_clicked_row_either_way() {
        let mut s = Selection::default();
        s.click(&rows(), "b", true, false);
        s.click(&rows(), "d", true, true);
        assert_eq!(s.count(), 3);
        assert!(["b", "c", "d"].iter().all(|x| s.contains(x)));
        assert!(!s.contains("a") && !s.contains("e"));
        // Upwards, unticking: d..a off, e untouched.
        s.click(&rows(), "e", true, false);
        s.click(&rows(), "a", false, true);
        assert_eq!(s.count(), 0);
        let other_page = ["x", "y"].map(String::from);
        s.click(&other_page, "y", true, true);
        assert_eq!(s.count(), 1, "a range needs its anchor on the same page");
    }

    #[test]
    fn the_page_box_and_all_matching_become_requests() {
        let mut s = Selection::default();
        s.set_page(&rows(), true);
        assert!(s.page_is_selected(&rows()));
        let filter = FindingFilter {
            severities: vec![Severity::High],
            ..Default::default()
        };
        let req = s
            .request(&filter, WorkflowStatus::Resolved, "  done ")
            .unwrap();
        assert_eq!(req.ids.as_ref().map(Vec::len), Some(5));
        assert_eq!(req.note.as_deref(), Some("done"));
        assert_eq!(req.filter, None);

        s.select_all_matching(12_345);
        assert_eq!(s.count(), 12_345);
        let req = s.request(&filter, WorkflowStatus::Resolved, "").unwrap();
        assert_eq!(req.ids, None);
        assert_eq!(req.expected_total, Some(12_345));
        assert_eq!((req.limit, req.cursor), (Some(1000), None), "in steps");
        assert_eq!(
            req.filter.unwrap()["severity"],
            shared_types::FilterValue::One("HIGH".into())
        );
        // Unticking one row leaves "all matching" for the page minus that row.
        s.click(&rows(), "c", false, false);
        assert!(!s.is_all_matching());
        assert_eq!(s.count(), 4);
    }

    #[test]
    fn an_empty_or_too_large_selection_is_no_request() {
        let mut s = Selection::default();
        assert!(s
            .request(&FindingFilter::default(), WorkflowStatus::New, "")
            .is_err());
        let many: Vec<String> = (0..=MAX_BULK_IDS).map(|i| i.to_string()).collect();
        s.set_page(&many, true);
        assert!(s
            .request(&FindingFilter::default(), WorkflowStatus::New, "")
            .is_err());
    }

    #[test]
    fn a_count_that_moved_is_offered_for_confirmation_never_applied_silently() {
        let filter = FindingFilter::default();
        let mut s = Selection::default();
        s.select_all_matching(92);
        let line = s.recounted(90);
        assert_eq!(
            line,
            "The filter now matches 90 findings (was 92); nothing was changed. Apply to 90?"
        );
        assert!(s.is_all_matching());
        // The next Apply names the new number: the one the person now sees.
        let req = s.request(&filter, WorkflowStatus::Resolved, "").unwrap();
        assert_eq!(req.expected_total, Some(90));

        assert!(s.recounted(90).ends_with("Apply to 90 again?"));
        assert_eq!(s.count(), 90);

        let gone = s.recounted(0);
        assert!(
            gone.starts_with("No findings match the filter any more (was 90)"),
            "{gone}"
        );
        assert!(s.is_empty(), "nothing left to apply to");

        s.select_all_matching(5);
        let many = s.recounted(MAX_BULK_MATCHES + 1);
        assert!(many.contains("Narrow the filter"), "{many}");
        assert!(s.is_empty());

        s.select_all_matching(1_200);
        assert_eq!(
            s.recounted(1_199),
            "The filter now matches 1,199 findings (was 1,200); nothing was changed. Apply to 1,199?"
        );
    }

    #[test]
    fn a_count_taken_after_the_answer_changes_only_the_same_all_matching_selection() {
        let high = FindingFilter {
            severities: vec![Severity::High],
            ..Default::default()
        };
        let mut s = Selection::default();
        s.select_all_matching(92);
        assert!(s.takes_count_of(&high, &high.clone()));
        // The filter changed while counting: the count is of another view.
        let low = FindingFilter {
            severities: vec![Severity::Low],
            ..Default::default()
        };
        assert!(!s.takes_count_of(&high, &low));
        // Rows ticked by hand instead, or Clear: nothing to re-select.
        s.click(&rows(), "a", false, false);
        assert!(!s.takes_count_of(&high, &high));
        s.clear();
        assert!(!s.takes_count_of(&high, &high));
    }

    #[test]
    fn steps_are_a_tenth_of_the_findings_within_100_and_1000() {
        assert_eq!(bulk_step(21), 100);
        assert_eq!(bulk_step(2_345), 235);
        assert_eq!(bulk_step(100_000), 1000);
    }

    #[test]
    fn steps_add_up_and_a_failure_or_the_end_stops_the_run() {
        let step = |changed, failed: usize, next: Option<&str>| BulkWorkflowResult {
            changed,
            unchanged: 1,
            failed: (0..failed)
                .map(|i| BulkFailure {
                    id: i.to_string(),
                    reason: "store".into(),
                })
                .collect(),
            next_cursor: next.map(String::from),
            retry_expected_total: None,
        };
        let mut run = BulkWorkflowResult::default();
        assert_eq!(
            add_step(&mut run, step(99, 0, Some("c1"))),
            Some("c1".into())
        );
        assert_eq!(add_step(&mut run, step(50, 0, None)), None);
        assert_eq!((run.changed, run.unchanged), (149, 2));
        let mut run = BulkWorkflowResult::default();
        assert_eq!(
            add_step(&mut run, step(10, 2, Some("c1"))),
            None,
            "failures stop it"
        );
        assert_eq!(run.failed.len(), 2);
    }

    #[test]
    fn the_result_line_says_each_count() {
        let r = BulkWorkflowResult {
            changed: 1200,
            unchanged: 3,
            failed: vec![BulkFailure {
                id: "x".into(),
                reason: "no finding with this id".into(),
            }],
            next_cursor: None,
            retry_expected_total: None,
        };
        assert_eq!(
            result_line(&r, WorkflowStatus::Resolved),
            "1,200 changed, 3 already RESOLVED, 1 failed (run it again to retry)"
        );
    }
}
