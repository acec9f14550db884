//! The guards, table-driven: each case changes one thing of a passing baseline
//! and names the one guard expected to refuse.

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
    target: Target,
    observed: Observed,
    approval: Approval,
    expected_state: Option<String>,
    applies: Vec<DateTime<Utc>>,
    refused: Option<GuardName>,
}

fn base(name: &'static str) -> Case {
    Case {
        name,
        config: enabled(),
        finding: finding(),
        target: Target::new("b-1", "us-east-1", "111122223333").unwrap(),
        observed: observed(),
        approval: Approval::Person("alice".into()),
        expected_state: None,
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
    c.approval = Approval::Auto;
    c.refused = Some(GuardName::NotAllowlisted);
    v.push(c);

    let mut c = base("automatic with the rule in auto");
    c.approval = Approval::Auto;
    c.config.auto = vec!["r".into()];
    v.push(c);

    let mut c = base("automatic by control id");
    c.approval = Approval::Auto;
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

    // Scope is the target's (where the calls go), not the finding's own claim.
    let mut c = base("the finding claims an in-scope account, the target is another");
    c.config.accounts = vec!["111122223333".into()];
    c.target.account = "444455556666".into();
    c.refused = Some(GuardName::OutOfScope);
    v.push(c);

    let mut c = base("recorded in scope, the resource in a region out of scope");
    c.config.regions = vec!["us-east-1".into()];
    c.target.region = "eu-west-1".into();
    c.refused = Some(GuardName::OutOfScope);
    v.push(c);

    let mut c = base("recorded out of scope, the resource in scope");
    c.config.regions = vec!["eu-west-1".into()];
    c.finding.region = "us-east-1".into();
    c.target.region = "eu-west-1".into();
    v.push(c);

    let mut c = base("rate limit reached");
    c.config.max_per_account_per_hour = 2;
    c.applies = vec![now() - Duration::minutes(59), now() - Duration::minutes(1)];
    c.refused = Some(GuardName::RateLimited);
    v.push(c);

    let mut c = base("a start recorded after the check's time counts");
    c.config.max_per_account_per_hour = 2;
    c.applies = vec![now() - Duration::minutes(1), now() + Duration::seconds(1)];
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
    c.expected_state = Some(crate::remediate::plan::state_hash(&json!({"a": 0})));
    c.refused = Some(GuardName::ChangedSincePlan);
    v.push(c);

    let mut c = base("state as planned");
    c.expected_state = Some(crate::remediate::plan::state_hash(&json!({"a": 1})));
    v.push(c);

    let mut c = base("a user's principal list keeps break-glass protected");
    c.config.protected_principals = vec!["arn:aws:iam::*:role/cspm-remediator".into()];
    c.observed.principals = vec!["arn:aws:iam::111122223333:role/break-glass-ops".into()];
    c.refused = Some(GuardName::ProtectedPrincipal);
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

fn input(c: &Case) -> GuardInput<'_> {
    GuardInput {
        config: &c.config,
        action: ActionId::S3BlockPublicAccess,
        finding: &c.finding,
        target: &c.target,
        approval: &c.approval,
        now: now(),
        recent_applies: &c.applies,
    }
}

#[test]
fn each_guard_refuses_exactly_its_case() {
    for c in cases() {
        let read = Read {
            observed: &c.observed,
            expected_state: c.expected_state.as_deref(),
        };
        let results = evaluate(&input(&c), Some(&read));
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

#[test]
fn before_the_read_only_the_guards_that_need_none_are_checked() {
    for c in cases() {
        let before = evaluate(&input(&c), None);
        let names: Vec<GuardName> = before.iter().map(|r| r.name).collect();
        let want: Vec<GuardName> = GuardName::ALL
            .into_iter()
            .filter(|g| !g.needs_read())
            .collect();
        assert_eq!(names, want, "{}", c.name);
        // A refusal that needs no read is already there before the read.
        if let Some(g) = c.refused.filter(|g| !g.needs_read()) {
            assert!(
                before.iter().any(|r| r.name == g && !r.passed),
                "{}",
                c.name
            );
        }
    }
    assert_eq!(
        GuardName::ALL.iter().filter(|g| g.needs_read()).count(),
        3,
        "protected-principal, protected-tag and changed-since-plan read AWS"
    );
}
