//! The apply flow with a stand-in action (no AWS): what is recorded, what the
//! finding becomes and which calls are made when an action fails, does not
//! verify, is refused before the read, or finds its resource already fixed.
//! The real action against the emulator is in `tests/it/remediate.rs`.

use super::*;
use crate::remediate::action::ActionError;
use crate::remediate::action_id::ActionId;
use crate::remediate::ledger::{
    AttemptLog, Ledger, LedgerEntry, LedgerError, LedgerOutcome, StartCheck, FILE_NAME,
};
use crate::remediate::plan::ApiCall;
use crate::sources::Normalizer;
use crate::store::{Origin, SqliteStore};
use async_trait::async_trait;
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};

/// How the stand-in's apply ends.
#[derive(Clone, Copy)]
enum ApplyEnds {
    Ok,
    Throttled,
}

/// A stand-in for `s3-block-public-access` that counts what it is asked to do.
struct Fake {
    /// The resource is already fixed (the plan has no calls).
    fixed: bool,
    apply: ApplyEnds,
    /// What verify says is still wrong, if anything.
    unverified: Option<&'static str>,
    observed: AtomicUsize,
    applied: AtomicUsize,
}

fn fake(fixed: bool, apply: ApplyEnds, unverified: Option<&'static str>) -> Fake {
    Fake {
        fixed,
        apply,
        unverified,
        observed: AtomicUsize::new(0),
        applied: AtomicUsize::new(0),
    }
}

#[async_trait]
impl Action for Fake {
    fn id(&self) -> ActionId {
        ActionId::S3BlockPublicAccess
    }

    fn target(&self, finding: &Finding) -> Result<Target, NotApplicable> {
        Target::new("res-1", &finding.region, &finding.account_id)
    }

    async fn observe(&self, _: &Target) -> Result<Observed, ActionError> {
        self.observed.fetch_add(1, Ordering::SeqCst);
        Ok(Observed {
            state: json!({"fixed": self.fixed}),
            ..Observed::default()
        })
    }

    fn plan(&self, _: &Target, observed: &Observed) -> Proposal {
        let calls = if observed.state["fixed"] == true {
            Vec::new()
        } else {
            vec![ApiCall {
                service: "fake".into(),
                operation: "Fix".into(),
                params: json!({"Resource": "res-1"}),
            }]
        };
        Proposal {
            calls,
            after: "res-1 fixed".into(),
        }
    }

    async fn apply(&self, target: &Target, _: &Proposal) -> Result<(), ActionError> {
        self.applied.fetch_add(1, Ordering::SeqCst);
        match self.apply {
            ApplyEnds::Ok => Ok(()),
            ApplyEnds::Throttled => Err(ActionError {
                operation: "Fix",
                resource: target.resource.clone(),
                detail: "ThrottlingException: Rate exceeded".into(),
                retryable: true,
            }),
        }
    }

    async fn verify(&self, _: &Target) -> Result<Option<String>, ActionError> {
        Ok(self.unverified.map(str::to_string))
    }
}

struct Env {
    dir: tempfile::TempDir,
    remediator: Remediator,
    fake: Arc<Fake>,
    id: String,
}

fn now() -> DateTime<Utc> {
    "2026-06-01T12:00:00Z".parse().unwrap()
}

fn person() -> Approval {
    Approval::Person("alice".into())
}

/// An open `aws.s3.bucket-policy-public` finding in 111122223333/us-east-1,
/// stored in a temp SQLite store, and a remediator with `fake` enabled.
async fn env(fake: Fake, config: RemediationConfig) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open_dir(dir.path()).unwrap());
    let pipeline = Pipeline::new(Arc::new(Normalizer::default()), store);
    let mut f = crate::demo::generate(1, crate::demo::default_anchor(), 11)
        .next()
        .expect("one demo finding");
    f.account_id = "111122223333".into();
    f.region = "us-east-1".into();
    f.generator_id = "aws.s3.bucket-policy-public".into();
    f.control_id = None;
    f.workflow_status = WorkflowStatus::New;
    f.record_state = shared_types::RecordState::Active;
    pipeline
        .store_findings(std::slice::from_ref(&f), Origin::Events)
        .await
        .unwrap();
    let fake = Arc::new(fake);
    let remediator = Remediator {
        config,
        registry: Registry::from_actions(vec![fake.clone()]),
        pipeline,
        ledger: Arc::new(Ledger::in_dir(dir.path())),
    };
    let env = Env {
        dir,
        remediator,
        fake,
        id: f.id,
    };
    assert_eq!(env.status().await, WorkflowStatus::New);
    env
}

fn enabled() -> RemediationConfig {
    RemediationConfig {
        enabled: vec![ActionId::S3BlockPublicAccess],
        ..RemediationConfig::default()
    }
}

impl Env {
    async fn status(&self) -> WorkflowStatus {
        let d = self
            .remediator
            .pipeline
            .store()
            .get(&self.id)
            .await
            .unwrap();
        d.expect("stored").finding.workflow_status
    }

    fn ledger(&self) -> Vec<LedgerEntry> {
        match std::fs::read_to_string(self.dir.path().join(FILE_NAME)) {
            Ok(text) => text
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    fn outcomes(&self) -> Vec<LedgerOutcome> {
        self.ledger().iter().map(|e| e.outcome).collect()
    }

    async fn apply(&self, approval: &Approval, expected: Option<&str>) -> ApplyOutcome {
        self.remediator
            .apply(&self.id, approval, expected, now())
            .await
            .unwrap()
    }

    fn counts(&self) -> (usize, usize) {
        (
            self.fake.observed.load(Ordering::SeqCst),
            self.fake.applied.load(Ordering::SeqCst),
        )
    }
}

#[tokio::test]
async fn applied_but_not_verified_fails_is_recorded_and_leaves_the_finding_open() {
    let e = env(fake(false, ApplyEnds::Ok, Some("still off")), enabled()).await;
    match e.apply(&person(), None).await {
        ApplyOutcome::Failed { error, action, .. } => {
            assert!(matches!(error, Failure::Unverified(ref why) if why == "still off"));
            assert!(!error.is_retryable());
            assert_eq!(action, ActionId::S3BlockPublicAccess);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(e.counts(), (1, 1));
    assert_eq!(
        e.outcomes(),
        [LedgerOutcome::Started, LedgerOutcome::Failed]
    );
    let failed = &e.ledger()[1];
    assert_eq!(
        (failed.actor.as_str(), failed.account_id.as_str()),
        ("alice", "111122223333")
    );
    assert!(failed.error.as_deref().unwrap().contains("still off"));
    assert_eq!(e.status().await, WorkflowStatus::New);
}

#[tokio::test]
async fn a_throttled_call_fails_as_retryable_is_recorded_and_leaves_the_finding_open() {
    let e = env(fake(false, ApplyEnds::Throttled, None), enabled()).await;
    match e.apply(&person(), None).await {
        ApplyOutcome::Failed { error, .. } => {
            assert!(matches!(error, Failure::Call(_)), "{error:?}");
            assert!(error.is_retryable());
            assert!(error.to_string().contains("ThrottlingException"), "{error}");
            let source = std::error::Error::source(&error).expect("the ActionError");
            assert!(source.to_string().contains("Fix on res-1"), "{source}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        e.outcomes(),
        [LedgerOutcome::Started, LedgerOutcome::Failed]
    );
    assert_eq!(e.status().await, WorkflowStatus::New);
}

#[tokio::test]
async fn a_failed_attempt_counts_once_against_the_rate_limit_and_never_against_its_own_retry() {
    let config = RemediationConfig {
        max_per_account_per_hour: 1,
        ..enabled()
    };
    let e = env(fake(false, ApplyEnds::Throttled, None), config).await;
    for _ in 0..2 {
        assert!(matches!(
            e.apply(&person(), None).await,
            ApplyOutcome::Failed { .. }
        ));
    }
    // The retry was tried: two observes, two applies.
    assert_eq!(e.counts(), (2, 2));
    // For any other remediation in the account the hour's one is used, once.
    let others = e
        .remediator
        .ledger
        .attempts_in(
            "111122223333",
            ("another-finding", "s3-block-public-access"),
        )
        .await
        .unwrap();
    assert_eq!(others.len(), 1);
}

/// The ledger file, where another worker starts a remediation in the same
/// account right after each read of the account's starts: between this
/// worker's guard check and its own start.
struct Racing {
    file: Ledger,
    others: AtomicUsize,
}

#[async_trait]
impl AttemptLog for Racing {
    async fn append(&self, entry: &LedgerEntry) -> Result<(), LedgerError> {
        Ok(self.file.append(entry)?)
    }

    async fn start_if(
        &self,
        entry: &LedgerEntry,
        allowed: &StartCheck<'_>,
    ) -> Result<bool, LedgerError> {
        Ok(self.file.start_if(entry, allowed)?)
    }

    async fn attempts_in(
        &self,
        account_id: &str,
        except: (&str, &str),
    ) -> Result<Vec<DateTime<Utc>>, LedgerError> {
        let seen = self.file.attempts_in(account_id, except)?;
        let n = self.others.fetch_add(1, Ordering::SeqCst);
        // A worker that began a moment later and got to its start first.
        self.file.append(&LedgerEntry {
            at: now() + chrono::Duration::milliseconds(50),
            finding_id: format!("other-{n}"),
            action: "s3-block-public-access".into(),
            account_id: account_id.into(),
            actor: "another worker".into(),
            outcome: LedgerOutcome::Started,
            error: None,
            record: None,
        })?;
        Ok(seen)
    }
}

#[tokio::test]
async fn a_start_made_by_another_worker_after_the_guards_read_takes_the_last_place() {
    let config = RemediationConfig {
        max_per_account_per_hour: 1,
        ..enabled()
    };
    let mut e = env(fake(false, ApplyEnds::Ok, None), config).await;
    e.remediator.ledger = Arc::new(Racing {
        file: Ledger::in_dir(e.dir.path()),
        others: AtomicUsize::new(0),
    });
    match e.apply(&person(), None).await {
        ApplyOutcome::Refused { guard, plan } => {
            assert_eq!(guard.name, GuardName::RateLimited);
            assert!(
                guard.reason.starts_with("1 remediations"),
                "{}",
                guard.reason
            );
            assert!(plan.guards.contains(&guard), "the plan shows the refusal");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(e.counts(), (1, 0), "read, never called");
    let ledger = e.ledger();
    assert!(ledger.iter().all(|l| l.finding_id.starts_with("other-")));
    assert_eq!(e.status().await, WorkflowStatus::New);
}

#[tokio::test]
async fn guards_that_need_no_read_refuse_before_aws_is_read() {
    let cases = [
        (
            RemediationConfig::default(),
            person(),
            GuardName::NotEnabled,
        ),
        (enabled(), Approval::Auto, GuardName::NotAllowlisted),
        (
            RemediationConfig {
                regions: vec!["eu-*".into()],
                ..enabled()
            },
            person(),
            GuardName::OutOfScope,
        ),
        (
            RemediationConfig {
                max_per_account_per_hour: 0,
                ..enabled()
            },
            person(),
            GuardName::RateLimited,
        ),
    ];
    for (config, approval, refused) in cases {
        let e = env(fake(false, ApplyEnds::Ok, None), config).await;
        match e.apply(&approval, None).await {
            ApplyOutcome::Refused { guard, plan } => {
                assert_eq!(guard.name, refused);
                assert!(plan.guards.iter().all(|g| !g.name.needs_read()));
                assert_eq!(plan.current_state, serde_json::Value::Null);
            }
            other => panic!("{refused}: {other:?}"),
        }
        assert_eq!(
            e.counts(),
            (0, 0),
            "{refused}: nothing read, nothing called"
        );
        assert!(e.ledger().is_empty(), "{refused}");
        assert_eq!(e.status().await, WorkflowStatus::New);
    }
}

#[tokio::test]
async fn a_rule_in_auto_is_applied_without_a_person() {
    let config = RemediationConfig {
        auto: vec!["aws.s3.bucket-policy-public".into()],
        ..enabled()
    };
    let e = env(fake(false, ApplyEnds::Ok, None), config).await;
    assert!(matches!(
        e.apply(&Approval::Auto, None).await,
        ApplyOutcome::Verified { .. }
    ));
    assert_eq!(e.ledger()[0].actor, "automatic remediation");
    assert_eq!(e.status().await, WorkflowStatus::Resolved);
}

#[tokio::test]
async fn a_state_other_than_the_planned_one_is_refused_unapplied() {
    let e = env(fake(false, ApplyEnds::Ok, None), enabled()).await;
    let plan = e.remediator.plan(&e.id, &person(), now()).await.unwrap();
    let planned = plan.state_hash().expect("a hash").to_string();
    let other = crate::remediate::plan::state_hash(&json!({"fixed": true}));
    match e.apply(&person(), Some(&other)).await {
        ApplyOutcome::Refused { guard, .. } => {
            assert_eq!(guard.name, GuardName::ChangedSincePlan)
        }
        o => panic!("{o:?}"),
    }
    assert_eq!(e.counts().1, 0);
    assert!(matches!(
        e.apply(&person(), Some(&planned)).await,
        ApplyOutcome::Verified { .. }
    ));
    assert_eq!(e.counts().1, 1);
}

#[tokio::test]
async fn an_open_finding_already_fixed_is_resolved_without_a_call() {
    let e = env(fake(true, ApplyEnds::Ok, None), enabled()).await;
    match e.apply(&person(), None).await {
        ApplyOutcome::NothingLeft { plan, finding } => {
            assert!(plan.calls.is_empty());
            assert_eq!(finding.finding.workflow_status, WorkflowStatus::Resolved);
            let last = finding.audit.last().expect("an audit entry");
            assert_eq!(last.actor, "remediation:s3-block-public-access");
            assert!(last.note.as_deref().unwrap().starts_with("Already fixed"));
        }
        o => panic!("{o:?}"),
    }
    assert_eq!(e.counts(), (1, 0));
    assert!(e.ledger().is_empty(), "no call, no attempt");
}
