//! A provider version's amendment mark: what a customer can change in a finding
//! in Security Hub without the provider's `UpdatedAt` moving, as a number.
//!
//! Security Hub orders a finding's versions by `UpdatedAt`, but a customer's
//! `BatchUpdateFindings` (the console's "Suppress", "Set workflow status", a new
//! severity) does not change it: "Updates from BatchUpdateFindings don't affect
//! the value of UpdatedAt for a finding"
//! (<https://docs.aws.amazon.com/securityhub/latest/userguide/finding-update-batchupdatefindings.html>).
//! The amended finding still arrives as a "Security Hub Findings - Imported"
//! event with the stored `UpdatedAt`. Stores keep the mark of the version they
//! hold, so the one decision (`decide.rs`) can tell a re-delivery (same mark:
//! unchanged) from an amendment (another mark).
//!
//! The mark covers what this product shows and counts of such an update — the
//! workflow status and the severity — and nothing format-specific, so the same
//! version read from ASFF or from OCSF (an export ingested back) has one mark.
//! Only Security Hub's findings are amended in place: every other source's
//! versions have the mark 0, so a same-time version of them stays a
//! re-delivery (Prowler's example output gives four different checks one
//! placeholder uid and one time; reading the file twice must change nothing).

use super::fnv::Fnv1a;
use shared_types::{Finding, FindingSource};

/// The mark of `f` as it arrives: for a Security Hub finding its workflow status
/// (the provider's, or SUPPRESSED from a suppression rule) and its severity; 0
/// for any other source.
pub fn mark(f: &Finding) -> u64 {
    if f.source != FindingSource::SecurityHub {
        return 0;
    }
    let mut h = Fnv1a::new();
    h.write(f.workflow_status.as_str().as_bytes());
    // A separator no status or severity name contains.
    h.write(b"/");
    h.write(f.severity.as_str().as_bytes());
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::mark;
    use shared_types::{FindingSource, Severity, WorkflowStatus};

    #[test]
    fn status_and_severity_make_the_mark_and_nothing_else_does() {
        let mut f = crate::demo::generate(1, crate::demo::default_anchor(), 5)
            .next()
            .unwrap();
        f.source = FindingSource::SecurityHub;
        let mut other_text = f.clone();
        other_text.title.push_str(" (again)");
        other_text.raw = serde_json::json!({"ProcessedAt": "2026-12-05T10:00:00Z"});
        other_text.types.push("Effects/Data Exposure".into());
        assert_eq!(mark(&f), mark(&other_text));
        let mut seen = std::collections::HashSet::new();
        for status in WorkflowStatus::ALL {
            for severity in Severity::ALL_DESC {
                let mut g = f.clone();
                (g.workflow_status, g.severity) = (status, severity);
                assert!(seen.insert(mark(&g)), "{status} {severity}");
                g.source = FindingSource::Ocsf;
                assert_eq!(mark(&g), 0, "not a Security Hub finding");
            }
        }
    }
}
