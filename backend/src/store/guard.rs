//! A workflow change made only while the finding still matches the filter that
//! selected it (`POST /findings/workflow` by filter): two people changing
//! overlapping views at once must not change findings that left a view after it
//! was read — a "status=NEW" change writing over a finding someone else just
//! resolved. Each store checks [`still_matches`] on the record it is about to
//! change, inside the same conditional write; a finding that left the filter
//! but already has the status, set by a person (someone made the same change,
//! or this change's own write landed before a retry), is [`Guarded::AlreadySet`].

use shared_types::{Finding, FindingDetail, FindingFilter, FindingListItem};

/// What a guarded workflow change did.
#[derive(Debug, Clone, PartialEq)]
pub enum Guarded {
    /// Changed; the finding as stored now.
    Changed(Box<FindingDetail>),
    /// The stored finding no longer matches the filter: left as it is.
    NoLongerMatches,
    /// It no longer matches, but a person already gave it the status: nothing
    /// to write.
    AlreadySet,
    /// No finding has this id.
    Unknown,
}

impl Guarded {
    /// The changed finding, for callers that set no guard (`None` for unknown).
    pub fn changed(self) -> Option<FindingDetail> {
        match self {
            Guarded::Changed(d) => Some(*d),
            Guarded::NoLongerMatches | Guarded::AlreadySet | Guarded::Unknown => None,
        }
    }
}

/// Whether the stored `f` (its current workflow status in `f`) still matches
/// `filter`: every field the changes in question move — status, severity,
/// account, region, resource type, product, generator, resource, and the time
/// window, compared to the microsecond as the stores' lists compare it. Free text
/// (`q`) is not checked again: each store matches it its own way (SQLite's
/// ASCII-only case folding, DynamoDB's one search attribute), and a workflow
/// change does not move it.
pub fn still_matches(filter: &FindingFilter, f: &Finding) -> bool {
    let fields = FindingFilter {
        q: None,
        generator: None,
        since: None,
        until: None,
        ..filter.clone()
    };
    let at = f.updated_at.timestamp_micros();
    fields.matches(&FindingListItem::from(f))
        && filter
            .generator
            .as_deref()
            .is_none_or(|g| g == f.generator_id)
        && filter.since.is_none_or(|t| at >= t.timestamp_micros())
        && filter.until.is_none_or(|t| at < t.timestamp_micros())
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
        // Free text is the list's to match, not checked again.
        let text = FindingFilter {
            q: Some("nowhere in it".into()),
            ..Default::default()
        };
        assert!(still_matches(&text, &f));
        // The window to the microsecond, as the lists compare it.
        let mut whole = f.clone();
        whole.updated_at =
            chrono::DateTime::from_timestamp_micros(f.updated_at.timestamp_micros()).unwrap();
        let since = FindingFilter {
            since: Some(whole.updated_at + chrono::Duration::nanoseconds(500)),
            ..Default::default()
        };
        assert!(still_matches(&since, &whole));
        let until = FindingFilter {
            until: Some(whole.updated_at),
            ..Default::default()
        };
        assert!(!still_matches(&until, &whole));
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
        assert!(still_matches(&FindingFilter::default(), &resolved));
    }
}
