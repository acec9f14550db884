//! Every guard of remediation in one pure function, so the plan, the CLI's apply
//! and (later) the worker decide the same way. Guards are checked at plan time and
//! again right before apply; each refusal names its guard.

use super::action::Observed;
use super::action_id::ActionId;
use super::config::RemediationConfig;
use super::pattern;
use super::plan::{GuardName, GuardResult};
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use shared_types::{Finding, RecordState, WorkflowStatus};

/// Everything the guards look at.
#[derive(Debug, Clone, Copy)]
pub struct GuardInput<'a> {
    /// The remediation file.
    pub config: &'a RemediationConfig,
    /// The action that would run.
    pub action: ActionId,
    /// The finding as stored now.
    pub finding: &'a Finding,
    /// The resource as the action reads it now.
    pub observed: &'a Observed,
    /// True when a person asked for it (`cspm remediate apply`, an approval);
    /// false for automatic remediation, which only `auto` rules get.
    pub approved_by_person: bool,
    /// At apply: the state the plan was made on. `None` while planning.
    pub planned_state: Option<&'a Value>,
    /// The time of the check (the rate limit's hour ends here).
    pub now: DateTime<Utc>,
    /// When this account's earlier remediations were applied (any age: the
    /// window is applied here).
    pub recent_applies: &'a [DateTime<Utc>],
}

/// The rule or control id `auto` lists name a finding by: the control id for
/// Security Hub controls, the generator (rule) id otherwise.
pub fn rule_id(finding: &Finding) -> &str {
    finding
        .control_id
        .as_deref()
        .unwrap_or(&finding.generator_id)
}

/// Every guard's verdict, in [`GuardName::ALL`] order.
pub fn evaluate(input: &GuardInput<'_>) -> Vec<GuardResult> {
    GuardName::ALL
        .iter()
        .map(|&name| {
            let (passed, reason) = check(name, input);
            GuardResult {
                name,
                passed,
                reason,
            }
        })
        .collect()
}

fn check(name: GuardName, i: &GuardInput<'_>) -> (bool, String) {
    let c = i.config;
    let f = i.finding;
    match name {
        GuardName::NotEnabled => {
            if c.is_enabled(i.action) {
                (true, format!("{} is enabled", i.action))
            } else {
                (
                    false,
                    format!("{} is not in `enabled`: plan only", i.action),
                )
            }
        }
        GuardName::NotAllowlisted => {
            let rule = rule_id(f);
            if i.approved_by_person {
                (true, "approved by a person".into())
            } else if c.auto.iter().any(|a| a == rule) {
                (true, format!("{rule:?} is in `auto`"))
            } else {
                (false, format!("{rule:?} is not in `auto`: needs approval"))
            }
        }
        GuardName::ProtectedPrincipal => {
            match i
                .observed
                .principals
                .iter()
                .find(|p| pattern::any_matches(&c.protected_principals, p))
            {
                Some(p) => (false, format!("{p:?} matches `protected_principals`")),
                None if i.observed.principals.is_empty() => {
                    (true, "the action changes no principal".into())
                }
                None => (true, "no changed principal is protected".into()),
            }
        }
        GuardName::ProtectedTag => {
            let t = &c.protected_tag;
            match i.observed.tags.get(&t.key) {
                Some(v) if *v == t.value => (false, format!("tagged {}={}", t.key, t.value)),
                _ => (true, format!("not tagged {}={}", t.key, t.value)),
            }
        }
        GuardName::OutOfScope => {
            if !pattern::any_matches(&c.accounts, &f.account_id) {
                (
                    false,
                    format!("account {:?} is not in `accounts`", f.account_id),
                )
            } else if !pattern::any_matches(&c.regions, &f.region) {
                (false, format!("region {:?} is not in `regions`", f.region))
            } else {
                (
                    true,
                    format!("account {:?} in {:?} is in scope", f.account_id, f.region),
                )
            }
        }
        GuardName::RateLimited => {
            let since = i.now - Duration::hours(1);
            let n = i
                .recent_applies
                .iter()
                .filter(|t| **t > since && **t <= i.now)
                .count();
            let max = c.max_per_account_per_hour as usize;
            if n >= max {
                (
                    false,
                    format!(
                        "{n} remediations in account {:?} in the last hour (max {max})",
                        f.account_id
                    ),
                )
            } else {
                (true, format!("{n} of {max} this hour"))
            }
        }
        GuardName::ChangedSincePlan => match i.planned_state {
            None => (true, "planning now".into()),
            Some(planned) if *planned == i.observed.state => {
                (true, "the resource is as planned".into())
            }
            Some(_) => (
                false,
                "the resource changed since the plan: plan again".into(),
            ),
        },
        GuardName::SuppressedOrResolved => match (f.workflow_status, f.record_state) {
            (WorkflowStatus::Suppressed | WorkflowStatus::Resolved, _) => (
                false,
                format!("the finding is {}", f.workflow_status.as_str()),
            ),
            (_, RecordState::Archived) => (false, "the finding is archived".into()),
            _ => (
                true,
                format!("the finding is {}", f.workflow_status.as_str()),
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remediate::config::ProtectedTag;
    use serde_json::json;
    use std::collections::BTreeMap;

    /// An open finding in account 111122223333, us-east-1, from rule `r`.
    fn finding() -> Finding {
        let mut f = crate::demo::generate(1, crate::demo::default_anchor(), 7)
            .next()
            .expect("one demo finding");
        f.account_id = "111122223333".into();
        f.region = "us-east-1".into();
        f.generator_id = "r".into();
        f.control_id = None;
        f.workflow_status = WorkflowStatus::New;
        f.record_state = RecordState::Active;
        f
    }

    fn enabled() -> RemediationConfig {
        RemediationConfig {
            enabled: vec![ActionId::S3BlockPublicAccess],
            ..RemediationConfig::default()
        }
    }

    fn observed() -> Observed {
        Observed {
            state: json!({"a": 1}),
            tags: BTreeMap::new(),
            principals: Vec::new(),
        }
    }

    fn now() -> DateTime<Utc> {
        "2026-06-01T12:00:00Z".parse().unwrap()
    }

    /// One case: a change to the passing baseline, and the guard expected to
    /// refuse (`None`: every guard passes).
    struct Case {
        name: &'static str,
        config: RemediationConfig,
        finding: Finding,
        observed: Observed,
        by_person: bool,
        planned: Option<Value>,
        applies: Vec<DateTime<Utc>>,
        refused: Option<GuardName>,
    }

    fn base(name: &'static str) -> Case {
        Case {
            name,
            config: enabled(),
            finding: finding(),
            observed: observed(),
            by_person: true,
            planned: None,
            applies: Vec::new(),
            refused: None,
        }
    }

    fn cases() -> Vec<Case> {
        let mut v = vec![base("baseline passes every guard")];

        let mut c = base("not enabled by default");
        c.config = RemediationConfig::default();
        c.refused = Some(GuardName::NotEnabled);
        v.push(c);

        let mut c = base("another action enabled");
        c.config.enabled = vec![ActionId::Ec2RevokeWorldIngress];
        c.refused = Some(GuardName::NotEnabled);
        v.push(c);

        let mut c = base("automatic without auto");
        c.by_person = false;
        c.refused = Some(GuardName::NotAllowlisted);
        v.push(c);

        let mut c = base("automatic with the rule in auto");
        c.by_person = false;
        c.config.auto = vec!["r".into()];
        v.push(c);

        let mut c = base("automatic by control id");
        c.by_person = false;
        c.finding.control_id = Some("S3.8".into());
        c.config.auto = vec!["r".into()];
        c.refused = Some(GuardName::NotAllowlisted);
        v.push(c);

        let mut c = base("break-glass role");
        c.observed.principals = vec!["arn:aws:iam::111122223333:role/break-glass-ops".into()];
        c.refused = Some(GuardName::ProtectedPrincipal);
        v.push(c);

        let mut c = base("ordinary role");
        c.observed.principals = vec!["arn:aws:iam::111122223333:role/ops".into()];
        v.push(c);

        let mut c = base("protected tag");
        c.observed
            .tags
            .insert("cspm:remediate".into(), "false".into());
        c.refused = Some(GuardName::ProtectedTag);
        v.push(c);

        let mut c = base("tag key with another value");
        c.observed
            .tags
            .insert("cspm:remediate".into(), "true".into());
        v.push(c);

        let mut c = base("a configured tag");
        c.config.protected_tag = ProtectedTag {
            key: "owner".into(),
            value: "security".into(),
        };
        c.observed.tags.insert("owner".into(), "security".into());
        c.refused = Some(GuardName::ProtectedTag);
        v.push(c);

        let mut c = base("account out of scope");
        c.config.accounts = vec!["444455556666".into()];
        c.refused = Some(GuardName::OutOfScope);
        v.push(c);

        let mut c = base("region out of scope");
        c.config.regions = vec!["eu-*".into()];
        c.refused = Some(GuardName::OutOfScope);
        v.push(c);

        let mut c = base("rate limit reached");
        c.config.max_per_account_per_hour = 2;
        c.applies = vec![now() - Duration::minutes(59), now() - Duration::minutes(1)];
        c.refused = Some(GuardName::RateLimited);
        v.push(c);

        let mut c = base("older applies do not count");
        c.config.max_per_account_per_hour = 2;
        c.applies = vec![now() - Duration::minutes(61), now() - Duration::minutes(1)];
        v.push(c);

        let mut c = base("zero per hour refuses everything");
        c.config.max_per_account_per_hour = 0;
        c.refused = Some(GuardName::RateLimited);
        v.push(c);

        let mut c = base("state changed since the plan");
        c.planned = Some(json!({"a": 0}));
        c.refused = Some(GuardName::ChangedSincePlan);
        v.push(c);

        let mut c = base("state as planned");
        c.planned = Some(json!({"a": 1}));
        v.push(c);

        for status in [WorkflowStatus::Suppressed, WorkflowStatus::Resolved] {
            let mut c = base("suppressed or resolved");
            c.finding.workflow_status = status;
            c.refused = Some(GuardName::SuppressedOrResolved);
            v.push(c);
        }
        let mut c = base("notified is still open");
        c.finding.workflow_status = WorkflowStatus::Notified;
        v.push(c);

        let mut c = base("archived");
        c.finding.record_state = RecordState::Archived;
        c.refused = Some(GuardName::SuppressedOrResolved);
        v.push(c);
        v
    }

    #[test]
    fn each_guard_refuses_exactly_its_case() {
        for c in cases() {
            let results = evaluate(&GuardInput {
                config: &c.config,
                action: ActionId::S3BlockPublicAccess,
                finding: &c.finding,
                observed: &c.observed,
                approved_by_person: c.by_person,
                planned_state: c.planned.as_ref(),
                now: now(),
                recent_applies: &c.applies,
            });
            let names: Vec<GuardName> = results.iter().map(|r| r.name).collect();
            assert_eq!(names, GuardName::ALL, "{}", c.name);
            let refused: Vec<GuardName> = results
                .iter()
                .filter(|r| !r.passed)
                .map(|r| r.name)
                .collect();
            assert_eq!(
                refused,
                c.refused.into_iter().collect::<Vec<_>>(),
                "{}",
                c.name
            );
            assert!(results.iter().all(|r| !r.reason.is_empty()), "{}", c.name);
        }
    }
}
