//! A workflow change made only while the finding still matches the filter that
//! selected it (`POST /findings/workflow` by filter): two people changing
//! overlapping views at once must not change findings that left a view after it
//! was read — a "status=NEW" change writing over a finding someone else just
//! resolved. Each store checks [`still_matches`] on the record it is about to
//! change, inside the same conditional write.

use shared_types::{Finding, FindingDetail, FindingFilter, FindingListItem};

/// What a guarded workflow change did.
#[derive(Debug, Clone, PartialEq)]
pub enum Guarded {
    /// Changed; the finding as stored now.
    Changed(Box<FindingDetail>),
    /// The stored finding no longer matches the filter: left as it is.
    NoLongerMatches,
    /// No finding has this id.
    Unknown,
}

impl Guarded {
    /// The changed finding, for callers that set no guard (`None` for unknown).
    pub fn changed(self) -> Option<FindingDetail> {
        match self {
            Guarded::Changed(d) => Some(*d),
            Guarded::NoLongerMatches | Guarded::Unknown => None,
        }
    }
}

/// Whether the stored `f` (its current workflow status in `f`) matches `filter`
/// as the stores' lists match it: every field, the generator, and free text in
/// the title, description, resource id or ASFF id. Never stricter than a
/// store's list (its text match is case-insensitive beyond ASCII, SQLite's
/// `LIKE` only within it), so a finding a list gave is refused only when it
/// changed since.
pub fn still_matches(filter: &FindingFilter, f: &Finding) -> bool {
    let fields = FindingFilter {
        q: None,
        generator: None,
        ..filter.clone()
    };
    fields.matches(&FindingListItem::from(f))
        && filter
            .generator
            .as_deref()
            .is_none_or(|g| g == f.generator_id)
        && filter.q.as_deref().is_none_or(|q| {
            let q = q.to_lowercase();
            [&f.title, &f.description, &f.resource_id, &f.asff_id]
                .iter()
                .any(|s| s.to_lowercase().contains(&q))
        })
}

#[cfg(test)]
mod tests {
    use super::still_matches;
    use shared_types::{FindingFilter, Severity, WorkflowStatus};

    #[test]
    fn every_field_of_the_filter_is_checked_on_the_stored_finding() {
        let mut f = crate::demo::generate(1, crate::demo::default_anchor(), 3)
            .next()
            .unwrap();
        f.workflow_status = WorkflowStatus::New;
        f.severity = Severity::High;
        f.description = "Bucket allows PUBLIC writes".into();
        let new_high = FindingFilter {
            statuses: vec![WorkflowStatus::New],
            severities: vec![Severity::High, Severity::Critical],
            generator: Some(f.generator_id.clone()),
            account: Some(f.account_id.clone()),
            ..Default::default()
        };
        assert!(still_matches(&new_high, &f));
        // Found by its description only, in another case.
        let text = FindingFilter {
            q: Some("public WRITES".into()),
            ..Default::default()
        };
        assert!(still_matches(&text, &f));
        // Someone resolved it meanwhile; or the provider re-rated it; or it moved
        // to another generator.
        let mut resolved = f.clone();
        resolved.workflow_status = WorkflowStatus::Resolved;
        assert!(!still_matches(&new_high, &resolved));
        let mut low = f.clone();
        low.severity = Severity::Low;
        assert!(!still_matches(&new_high, &low));
        let mut other = f.clone();
        other.generator_id.push('x');
        assert!(!still_matches(&new_high, &other));
        assert!(!still_matches(
            &FindingFilter {
                q: Some("private".into()),
                ..Default::default()
            },
            &f
        ));
        assert!(still_matches(&FindingFilter::default(), &resolved));
    }
}
