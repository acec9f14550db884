//! Every guard of remediation in one pure function, so the plan, the CLI's apply
//! and (later) the worker decide the same way. Guards are checked on the target
//! (built from the finding alone) before anything is read from AWS, then again,
//! all of them, on the resource as read; each refusal names its guard.

use super::action::Observed;
use super::action_id::ActionId;
use super::config::RemediationConfig;
use super::finding_key::FindingKey;
use super::pattern;
use super::plan::{self, GuardName, GuardResult};
use super::target::Target;
use chrono::{DateTime, Duration, Utc};
use shared_types::{Finding, RecordState, WorkflowStatus};

/// Who asked for a remediation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Approval {
    /// A person approved it (`cspm remediate apply`, later the dashboard or the
    /// API); the name is kept in the note and the ledger.
    Person(String),
    /// Nobody: automatic remediation, which only rules in `auto` get.
    Auto,
}

impl Approval {
    /// Who to name in notes and the ledger.
    pub fn actor(&self) -> &str {
        match self {
            Approval::Person(who) => who,
            Approval::Auto => "automatic remediation",
        }
    }
}

/// Everything the guards look at before AWS is read.
#[derive(Debug, Clone, Copy)]
pub struct GuardInput<'a> {
    /// The remediation file.
    pub config: &'a RemediationConfig,
    /// The action that would run.
    pub action: ActionId,
    /// The finding as stored now.
    pub finding: &'a Finding,
    /// Where the calls would go: scope is checked on this, not on what the
    /// finding says about itself.
    pub target: &'a Target,
    /// Who asked.
    pub approval: &'a Approval,
    /// The time of the check (the rate limit's hour ends here).
    pub now: DateTime<Utc>,
    /// When this account's earlier remediations were attempted (any age: the
    /// window is applied here).
    pub recent_applies: &'a [DateTime<Utc>],
}

/// The resource as read, for the guards that need it.
#[derive(Debug, Clone, Copy)]
pub struct Read<'a> {
    /// The resource as the action reads it now.
    pub observed: &'a Observed,
    /// At apply: the [`plan::state_hash`] of the state the approved plan was
    /// made on (`--expect-state`); `None` when none was given.
    pub expected_state: Option<&'a str>,
}

/// The verdicts, in [`GuardName::ALL`] order, of every guard when `read` is
/// given, else of those that need no read ([`GuardName::needs_read`]).
pub fn evaluate(input: &GuardInput<'_>, read: Option<&Read<'_>>) -> Vec<GuardResult> {
    GuardName::ALL
        .iter()
        .filter_map(|&name| {
            let (passed, reason) = check(name, input, read)?;
            Some(GuardResult {
                name,
                passed,
                reason,
            })
        })
        .collect()
}

/// The rate limit's verdict alone: what a start checks again on the account's
/// starts as they stand at that moment ([`crate::remediate::ledger::AttemptLog::start_if`]).
pub fn rate_limit(input: &GuardInput<'_>) -> GuardResult {
    let (passed, reason) = rate_limited(input);
    GuardResult {
        name: GuardName::RateLimited,
        passed,
        reason,
    }
}

/// At most `max_per_account_per_hour` starts in the target's account since an
/// hour before `now`.
fn rate_limited(i: &GuardInput<'_>) -> (bool, String) {
    let since = i.now - Duration::hours(1);
    let n = i
        .recent_applies
        .iter()
        // No upper bound: a start another worker recorded after this check's
        // `now` (it began later and got there first) counts too.
        .filter(|at| **at > since)
        .count();
    let max = i.config.max_per_account_per_hour as usize;
    if n >= max {
        (
            false,
            format!(
                "{n} remediations in account {:?} in the last hour (max {max})",
                i.target.account
            ),
        )
    } else {
        (true, format!("{n} of {max} this hour"))
    }
}

/// One guard's verdict: `(passed, reason)`, or `None` when it needs the
/// resource as read and `read` is `None`.
fn check(name: GuardName, i: &GuardInput<'_>, read: Option<&Read<'_>>) -> Option<(bool, String)> {
    let c = i.config;
    let f = i.finding;
    let t = i.target;
    Some(match name {
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
            let key = FindingKey::of(f).as_str();
            match i.approval {
                Approval::Person(who) => (true, format!("approved by {who}")),
                Approval::Auto if c.auto.iter().any(|a| a == key) => {
                    (true, format!("{key:?} is in `auto`"))
                }
                Approval::Auto => (false, format!("{key:?} is not in `auto`: needs approval")),
            }
        }
        GuardName::OutOfScope => {
            if !pattern::any_matches(&c.accounts, &t.account) {
                (
                    false,
                    format!("account {:?} is not in `accounts`", t.account),
                )
            } else if !pattern::any_matches(&c.regions, &t.region) {
                (false, format!("region {:?} is not in `regions`", t.region))
            } else {
                (
                    true,
                    format!("account {:?} in {:?} is in scope", t.account, t.region),
                )
            }
        }
        GuardName::RateLimited => rate_limited(i),
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
        GuardName::ProtectedPrincipal => {
            let o = read?.observed;
            let hit = o
                .principals
                .iter()
                .find_map(|p| Some((p, c.protecting_pattern(p)?)));
            match hit {
                Some((p, pat)) => (false, format!("{p:?} matches protected {pat:?}")),
                None if o.principals.is_empty() => (true, "the action changes no principal".into()),
                None => (true, "no changed principal is protected".into()),
            }
        }
        GuardName::ProtectedTag => {
            let o = read?.observed;
            let t = &c.protected_tag;
            match o.tags.get(&t.key) {
                Some(v) if *v == t.value => (false, format!("tagged {}={}", t.key, t.value)),
                _ => (true, format!("not tagged {}={}", t.key, t.value)),
            }
        }
        GuardName::ChangedSincePlan => {
            let r = read?;
            let now = plan::state_hash(&r.observed.state);
            match r.expected_state {
            None => (true, "no plan hash given: planned on the state read now".into()),
            Some(expected) if expected == now => (true, "the resource is as planned".into()),
            Some(expected) => (
                false,
                format!("the resource changed since the plan (state {expected} planned, {now} now): plan again"),
            ),
        }
        }
    })
}

#[cfg(test)]
mod tests;
