//! Remediation: for a finding, a **plan** (the action, the exact AWS calls, the
//! resource's current state and what is left after), **guards** that may refuse it,
//! then **apply** and **verify** (the state is read back and must show the fix).
//! Dry-run by default: an action not enabled in the remediation file is refused,
//! never silently skipped.
//!
//! Dependencies run one way: `action_id`, `pattern`, `finding_key` ← `config` ← `own_identity`,
//! `target`, `plan` ← `guards`, `action` ← `actions` ← `member_accounts` ← `registry` ← `run`;
//! `ledger` ← `outcome` ← `attempt` ← `run`; `progress` ← `run`;
//! `queue`, `records` ← `local`, `aws`; `run`, `queue`, `records` ← `service` ←
//! `record_steps` ← `worker`, `terminal`.

/// One action's contract: which finding it fixes, plan, apply, verify.
pub mod action;
/// The action ids used in configuration, plans and history.
pub mod action_id;
/// The action implementations, one file each.
pub mod actions;
/// The ledger lines of one apply that makes calls (started, then how it ended).
pub mod attempt;
/// The queue, records and attempt counts on AWS (SQS, DynamoDB).
#[cfg(feature = "aws")]
pub mod aws;
/// The remediation file (`--remediation FILE` / `CSPM_REMEDIATION`).
pub mod config;
/// A finding's kind for remediation: control id first, else rule id.
pub mod finding_key;
/// Every guard, evaluated by one pure function.
pub mod guards;
/// The local record of applied remediations (the per-account rate limit reads it).
pub mod ledger;
/// The local queue and records: tables in the SQLite file of the findings.
pub mod local;
/// The actions with a role assumed in each finding's account.
#[cfg(feature = "aws")]
pub mod member_accounts;
/// How an apply ended, why an action failed, and what stops a run.
pub mod outcome;
/// The remediator's own identity as protected principals (asked of STS locally).
pub mod own_identity;
/// `*` patterns for ARNs, accounts and regions.
pub mod pattern;
/// The plan: what would be called, on what state, with which guard results.
pub mod plan;
/// What an apply tells its caller between its steps (the worker's record).
pub mod progress;
/// The queue port: approved remediations handed to the worker.
pub mod queue;
/// How a remediation's record follows one try (worker or terminal).
mod record_steps;
/// The records port: every remediation, who asked, when, how it ended.
pub mod records;
/// Which action fixes which finding, and which actions exist yet.
pub mod registry;
/// Plan and apply a finding end to end (what `cspm remediate` runs).
pub mod run;
/// Plan, approve and look up remediations (what the API and the sink call).
pub mod service;
/// The resource an action changes, with its checked account and region.
pub mod target;
/// `cspm remediate apply`: applied in the process, recorded like the worker's.
pub mod terminal;
/// The worker: takes approved remediations off the queue and applies them.
pub mod worker;
