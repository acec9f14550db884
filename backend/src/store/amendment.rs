//! A provider version's amendment mark: what a customer can change in a
//! Security Hub finding without the provider's `UpdatedAt` moving, as a number.
//!
//! Security Hub orders a finding's versions by `UpdatedAt`, but a customer's
//! `BatchUpdateFindings` (the console's "Suppress", "Set workflow status") does
//! not change it: "Updates from BatchUpdateFindings don't affect the value of
//! UpdatedAt for a finding"
//! (<https://docs.aws.amazon.com/securityhub/latest/userguide/finding-update-batchupdatefindings.html>).
//! The amended finding still arrives as a "Security Hub Findings - Imported"
//! event with the stored `UpdatedAt`. Stores keep the mark of the version they
//! hold, so the one decision (`decide.rs`, `amend`) can tell a re-delivery (same
//! mark) from an amendment (another mark).
//!
//! The mark is the workflow status as received. Only Security Hub's findings
//! (ASFF) are amended in place: every other source's versions, and OCSF copies of
//! Security Hub findings (our export read back), have the mark 0, which never
//! amends. Prowler's example output gives four different checks one placeholder
//! uid and one time; reading the file twice must change nothing.

use super::fnv::fnv1a64;
use shared_types::{Finding, FindingSource};

/// The mark of `f` as it arrives: for a Security Hub finding a hash of its
/// workflow status (the provider's, or SUPPRESSED from a suppression rule),
/// never 0; 0 for any other source.
pub fn mark(f: &Finding) -> u64 {
    if f.source != FindingSource::SecurityHub {
        return 0;
    }
    fnv1a64(f.workflow_status.as_str().as_bytes()).max(1)
}

#[cfg(test)]
mod tests {
    use super::mark;
    use shared_types::{FindingSource, Severity, WorkflowStatus};

    #[test]
    fn the_status_makes_the_mark_and_nothing_else_does() {
        let mut f = crate::demo::generate(1, crate::demo::default_anchor(), 5)
            .next()
            .unwrap();
        f.source = FindingSource::SecurityHub;
        let mut other = f.clone();
        other.title.push_str(" (again)");
        other.raw = serde_json::json!({"ProcessedAt": "2026-12-05T10:00:00Z"});
        other.types.push("Effects/Data Exposure".into());
        other.severity = Severity::Informational;
        assert_eq!(mark(&f), mark(&other));
        let mut seen = std::collections::HashSet::new();
        for status in WorkflowStatus::ALL {
            let mut g = f.clone();
            g.workflow_status = status;
            assert!(seen.insert(mark(&g)), "{status}");
            assert_ne!(mark(&g), 0);
            g.source = FindingSource::Ocsf;
            assert_eq!(mark(&g), 0, "not a Security Hub finding");
        }
    }
}
