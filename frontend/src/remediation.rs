//! The remediation panel's logic, kept apart from the browser so it is tested
//! natively: whether a plan can be approved (and with which `expect_state`)
//! or why not, and how a remediation's status and outcome read.

use shared_types::{RemediationPlan, RemediationRecord, RemediationStatus};

/// What the panel offers for a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Offer {
    /// An Apply button approving exactly this plan's state.
    Apply {
        /// The plan's `state_hash`: the worker refuses if the resource changed.
        expect_state: Option<String>,
    },
    /// No button, and why.
    Explain(String),
}

/// What the panel offers for `plan`: Apply only when an action applies, some
/// call is left to make and no guard refuses.
pub fn offer(plan: &RemediationPlan) -> Offer {
    if !plan.applicable {
        return Offer::Explain(format!("Not applicable: {}", plan.after));
    }
    if let Some(g) = plan.refused_by() {
        return Offer::Explain(format!("Refused by {}: {}", g.name, g.reason));
    }
    if plan.calls.is_empty() {
        return Offer::Explain(format!("Nothing to apply: {}", plan.after));
    }
    Offer::Apply {
        expect_state: plan.state_hash().map(str::to_string),
    }
}

/// A status as the history shows it.
pub fn status_label(s: RemediationStatus) -> &'static str {
    match s {
        RemediationStatus::Queued => "Queued",
        RemediationStatus::Planned => "Planned",
        RemediationStatus::Applied => "Applied, verifying",
        RemediationStatus::Verified => "Verified",
        RemediationStatus::Failed => "Failed",
        RemediationStatus::Refused => "Refused",
    }
}

/// Why a remediation stands as it does, as the history and the remediations
/// list show it: the refusing guard and its reason, or the failure's reason;
/// `None` when there is nothing to say (it is on its way, or it worked).
pub fn why_text(r: &RemediationRecord) -> Option<String> {
    match (&r.guard, &r.reason) {
        (Some(g), Some(why)) => Some(format!("{g}: {why}")),
        (None, Some(why)) => Some(why.clone()),
        (Some(g), None) => Some(g.clone()),
        (None, None) => None,
    }
}

/// The current state without its hash (the hash is for machines), as
/// indented JSON; `None` when the resource was not read.
pub fn state_text(plan: &RemediationPlan) -> Option<String> {
    let mut state = plan.current_state.clone();
    let obj = state.as_object_mut()?;
    obj.remove("state_hash");
    serde_json::to_string_pretty(&state).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use shared_types::{GuardVerdict, PlannedCall};

    fn plan() -> RemediationPlan {
        RemediationPlan {
            finding_id: "f".into(),
            action: Some("s3-block-public-access".into()),
            applicable: true,
            calls: vec![PlannedCall {
                service: "s3".into(),
                operation: "PutPublicAccessBlock".into(),
                params: json!({"Bucket": "b"}),
            }],
            current_state: json!({"bucket": "b", "public_access_block": null, "state_hash": "ab"}),
            after: "bucket b blocks public access".into(),
            guards: vec![GuardVerdict {
                name: "not-enabled".into(),
                passed: true,
                reason: "enabled".into(),
            }],
        }
    }

    #[test]
    fn apply_is_offered_only_for_an_applicable_plan_with_calls_and_no_refusal() {
        assert_eq!(
            offer(&plan()),
            Offer::Apply {
                expect_state: Some("ab".into())
            }
        );
        let mut refused = plan();
        refused.guards[0].passed = false;
        refused.guards[0].reason = "plan only".into();
        assert_eq!(
            offer(&refused),
            Offer::Explain("Refused by not-enabled: plan only".into())
        );
        let mut done = plan();
        done.calls.clear();
        assert!(matches!(offer(&done), Offer::Explain(t) if t.starts_with("Nothing to apply")));
        let mut na = plan();
        na.applicable = false;
        na.after = "s3-block-public-access is not available here".into();
        assert_eq!(
            offer(&na),
            Offer::Explain("Not applicable: s3-block-public-access is not available here".into())
        );
    }

    #[test]
    fn a_refusal_reads_as_its_guard_and_reason() {
        let mut r = RemediationRecord {
            id: "0123456789abcdef0123456789abcdef".into(),
            finding_id: "f".into(),
            action: Some("s3-block-public-access".into()),
            status: RemediationStatus::Refused,
            requested_by: "local".into(),
            automatic: false,
            requested_at: crate::test_data::at(0),
            updated_at: crate::test_data::at(1),
            expect_state: None,
            guard: Some("not-enabled".into()),
            reason: Some("plan only".into()),
            attempts: 0,
            worker_until: None,
            made: false,
            plan: None,
            undo: None,
        };
        assert_eq!(why_text(&r).as_deref(), Some("not-enabled: plan only"));
        r.guard = None;
        r.reason = Some("AccessDenied".into());
        assert_eq!(why_text(&r).as_deref(), Some("AccessDenied"));
        r.reason = None;
        assert_eq!(why_text(&r), None);
    }

    #[test]
    fn the_state_is_shown_without_its_hash() {
        let text = state_text(&plan()).unwrap();
        assert!(
            text.contains("\"bucket\": \"b\"") && !text.contains("state_hash"),
            "{text}"
        );
        let mut unread = plan();
        unread.current_state = serde_json::Value::Null;
        assert_eq!(state_text(&unread), None);
    }
}
