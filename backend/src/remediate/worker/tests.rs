//! The approval → queue → worker → record path with a stand-in action (no
//! AWS) over real SQLite files: each status a record goes through, a retry
//! that gives up, a refusal at approval that calls nothing, a queue that
//! outlives the process, and remediation turned off. The real action against
//! the emulator, through the API, is in `tests/it/remediate/api.rs`.

use super::*;
use crate::pipeline::Pipeline;
use crate::remediate::action::{Action, ActionError, Observed, Proposal};
use crate::remediate::action_id::ActionId;
use crate::remediate::config::RemediationConfig;
use crate::remediate::ledger::Ledger;
use crate::remediate::local::SqliteRemediations;
use crate::remediate::plan::ApiCall;
use crate::remediate::records::RemediationRecords;
use crate::remediate::registry::Registry;
use crate::remediate::run::Remediator;
use crate::remediate::service::{Approved, ServiceError};
use crate::remediate::target::{NotApplicable, Target};
use crate::sources::Normalizer;
use crate::store::{Origin, SqliteStore, Store};
use async_trait::async_trait;
use serde_json::{json, Value};
use shared_types::{Finding, RemediationRecord, WorkflowStatus};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// A stand-in for `s3-block-public-access`: fixes an in-memory flag.
#[derive(Default)]
struct Fake {
    fixed: AtomicBool,
    throttled: bool,
    observed: AtomicUsize,
    applied: AtomicUsize,
}

#[async_trait]
impl Action for Fake {
    fn id(&self) -> ActionId {
        ActionId::S3BlockPublicAccess
    }

    fn target(&self, f: &Finding) -> Result<Target, NotApplicable> {
        Target::new("res-1", &f.region, &f.account_id)
    }

    async fn observe(&self, _: &Target) -> Result<Observed, ActionError> {
        self.observed.fetch_add(1, Ordering::SeqCst);
        Ok(Observed {
            state: json!({"fixed": self.fixed.load(Ordering::SeqCst)}),
            ..Observed::default()
        })
    }

    fn plan(&self, _: &Target, o: &Observed) -> Proposal {
        let calls = if o.state["fixed"] == true {
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

    async fn apply(&self, t: &Target, _: &Proposal) -> Result<(), ActionError> {
        self.applied.fetch_add(1, Ordering::SeqCst);
        if self.throttled {
            return Err(ActionError {
                operation: "Fix",
                resource: t.resource.clone(),
                detail: "ThrottlingException: Rate exceeded".into(),
                retryable: true,
            });
        }
        self.fixed.store(true, Ordering::SeqCst);
        Ok(())
    }

    async fn verify(&self, _: &Target) -> Result<Option<String>, ActionError> {
        Ok((!self.fixed.load(Ordering::SeqCst)).then(|| "still broken".to_string()))
    }
}

struct Env {
    dir: tempfile::TempDir,
    store: Arc<SqliteStore>,
    fake: Arc<Fake>,
    id: String,
}

fn enabled() -> RemediationConfig {
    RemediationConfig {
        enabled: vec![ActionId::S3BlockPublicAccess],
        ..RemediationConfig::default()
    }
}

/// Settings that retry at once (the tests do not wait).
fn quick() -> WorkerSettings {
    WorkerSettings {
        retry_after: Duration::ZERO,
        ..WorkerSettings::default()
    }
}

/// An open `aws.s3.bucket-policy-public` finding in a temp SQLite store.
async fn env(fake: Fake) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open_dir(dir.path()).unwrap());
    let mut f = crate::demo::generate(1, crate::demo::default_anchor(), 11)
        .next()
        .expect("one demo finding");
    f.account_id = "111122223333".into();
    f.region = "us-east-1".into();
    f.generator_id = "aws.s3.bucket-policy-public".into();
    f.control_id = None;
    f.workflow_status = WorkflowStatus::New;
    f.record_state = shared_types::RecordState::Active;
    let id = f.id.clone();
    Pipeline::new(Arc::new(Normalizer::default()), store.clone())
        .store_findings(std::slice::from_ref(&f), Origin::Events)
        .await
        .unwrap();
    Env {
        dir,
        store,
        fake: Arc::new(fake),
        id,
    }
}

impl Env {
    /// Remediation over the env's data dir as a fresh process would open it;
    /// `on` gives it a queue (a worker), else approvals are refused.
    fn service(&self, config: RemediationConfig, on: bool) -> (Arc<Remediations>, Worker) {
        self.service_of(config, on, self.fake.clone())
    }

    /// [`Env::service`] with `action` in place of the env's [`Fake`].
    fn service_of(
        &self,
        config: RemediationConfig,
        on: bool,
        action: Arc<dyn Action>,
    ) -> (Arc<Remediations>, Worker) {
        let tables = Arc::new(SqliteRemediations::open_dir(self.dir.path()).unwrap());
        let remediator = Remediator {
            config,
            registry: Registry::from_actions(vec![action]),
            pipeline: Pipeline::new(Arc::new(Normalizer::default()), self.store.clone()),
            ledger: Arc::new(Ledger::in_dir(self.dir.path())),
        };
        let queue: Arc<dyn RemediationQueue> = tables.clone();
        let service = Arc::new(Remediations::new(
            Arc::new(remediator),
            tables,
            on.then(|| queue.clone()),
        ));
        (service.clone(), Worker::new(service, queue, quick()))
    }

    async fn status(&self) -> WorkflowStatus {
        let d = self.store.get(&self.id).await.unwrap().unwrap();
        d.finding.workflow_status
    }
}

/// Approves the env's finding for alice at `at` (on `expect`, a plan's state
/// hash, when given), which must queue it: the queued record.
async fn queued_at(
    e: &Env,
    service: &Remediations,
    expect: Option<String>,
    at: chrono::DateTime<Utc>,
) -> RemediationRecord {
    match service.approve(&e.id, alice(), expect, at).await.unwrap() {
        Approved::Queued(r) => r,
        other => panic!("not queued: {other:?}"),
    }
}

fn alice() -> Approval {
    Approval::Person("token:alice".into())
}

#[tokio::test]
async fn an_approval_is_queued_applied_verified_and_resolves_the_finding() {
    let e = env(Fake::default()).await;
    let (service, worker) = e.service(enabled(), true);
    let queued = queued_at(&e, &service, None, Utc::now()).await;
    assert_eq!(queued.status, RemediationStatus::Queued);
    assert_eq!(queued.requested_by, "token:alice");
    assert!(!queued.automatic);
    assert_eq!(
        e.fake.observed.load(Ordering::SeqCst),
        0,
        "approval reads nothing"
    );
    // Approving again while it waits is the same approval.
    match service
        .approve(&e.id, alice(), None, Utc::now())
        .await
        .unwrap()
    {
        Approved::Queued(r) => assert_eq!(r.id, queued.id),
        other => panic!("{other:?}"),
    }

    assert_eq!(worker.drain().await.unwrap(), 1);
    let done = service.get(&queued.id).await.unwrap().unwrap();
    assert_eq!(done.status, RemediationStatus::Verified, "{done:?}");
    assert_eq!(done.attempts, 1);
    let plan = done.plan.expect("the plan that ran");
    assert_eq!(plan.calls.len(), 1);
    assert_eq!(plan.calls[0].operation, "Fix");
    assert_eq!(e.fake.applied.load(Ordering::SeqCst), 1);
    assert_eq!(e.status().await, WorkflowStatus::Resolved);
    let detail = e.store.get(&e.id).await.unwrap().unwrap();
    let last = detail.audit.last().unwrap();
    assert_eq!(last.actor, "remediation:s3-block-public-access");
    assert!(last.note.as_deref().unwrap().contains("token:alice"));
    // Nothing left on the queue: a second drain takes nothing.
    assert_eq!(worker.drain().await.unwrap(), 0);
}

#[tokio::test]
async fn a_failure_that_may_pass_is_retried_then_recorded_as_failed_with_the_finding_open() {
    let e = env(Fake {
        throttled: true,
        ..Fake::default()
    })
    .await;
    let (service, worker) = e.service(enabled(), true);
    let r = queued_at(&e, &service, None, Utc::now()).await;
    // Each drain takes it once (released with no wait here): 3 receives.
    assert_eq!(worker.drain().await.unwrap(), 3);
    let failed = service.get(&r.id).await.unwrap().unwrap();
    assert_eq!(failed.status, RemediationStatus::Failed, "{failed:?}");
    assert_eq!(failed.attempts, 3);
    assert!(failed.reason.unwrap().contains("ThrottlingException"));
    assert_eq!(e.fake.applied.load(Ordering::SeqCst), 3);
    assert_eq!(
        e.status().await,
        WorkflowStatus::New,
        "the finding stays open"
    );
}

#[tokio::test]
async fn a_guard_refusal_at_approval_is_recorded_and_calls_nothing() {
    let e = env(Fake::default()).await;
    // Nothing enabled: plan only.
    let (service, worker) = e.service(RemediationConfig::default(), true);
    let Approved::Refused { record, guard } = service
        .approve(&e.id, alice(), None, Utc::now())
        .await
        .unwrap()
    else {
        panic!("not refused")
    };
    assert_eq!(guard.name.as_str(), "not-enabled");
    assert_eq!(record.status, RemediationStatus::Refused);
    assert_eq!(record.guard.as_deref(), Some("not-enabled"));
    assert_eq!(service.get(&record.id).await.unwrap(), Some(record));
    assert_eq!(worker.drain().await.unwrap(), 0, "nothing queued");
    assert_eq!(e.fake.observed.load(Ordering::SeqCst), 0);
    assert_eq!(e.fake.applied.load(Ordering::SeqCst), 0);
    assert_eq!(e.status().await, WorkflowStatus::New);
}

#[tokio::test]
async fn a_refusal_at_apply_is_recorded_with_its_guard() {
    let e = env(Fake::default()).await;
    let (service, worker) = e.service(enabled(), true);
    let stale = "0".repeat(64);
    let r = queued_at(&e, &service, Some(stale), Utc::now()).await;
    worker.drain().await.unwrap();
    let refused = service.get(&r.id).await.unwrap().unwrap();
    assert_eq!(refused.status, RemediationStatus::Refused);
    assert_eq!(refused.guard.as_deref(), Some("changed-since-plan"));
    assert_eq!(e.fake.applied.load(Ordering::SeqCst), 0);
    assert_eq!(e.status().await, WorkflowStatus::New);
}

#[tokio::test]
async fn a_queued_approval_is_applied_by_the_next_process() {
    let e = env(Fake::default()).await;
    let rid = {
        let (service, _worker_never_run) = e.service(enabled(), true);
        match service
            .approve(&e.id, alice(), None, Utc::now())
            .await
            .unwrap()
        {
            Approved::Queued(r) => r.id,
            other => panic!("{other:?}"),
        }
    };
    // A new process over the same files.
    let (service, worker) = e.service(enabled(), true);
    assert_eq!(worker.drain().await.unwrap(), 1);
    let done = service.get(&rid).await.unwrap().unwrap();
    assert_eq!(done.status, RemediationStatus::Verified);
    assert_eq!(e.status().await, WorkflowStatus::Resolved);
}

#[tokio::test]
async fn an_approval_whose_message_was_lost_is_queued_again_by_the_next_approval() {
    let e = env(Fake::default()).await;
    let (service, worker) = e.service(enabled(), true);
    let t0 = Utc::now();
    let first = queued_at(&e, &service, None, t0).await;
    // The message is gone (deleted from a dead-letter queue, expired).
    let tables = SqliteRemediations::open_dir(e.dir.path()).unwrap();
    for d in tables.receive(10, Duration::from_secs(60)).await.unwrap() {
        tables.delete(&d.receipt).await.unwrap();
    }
    // Within the hour the open record is the answer, and nothing is queued.
    let soon = t0 + chrono::Duration::minutes(30);
    let same = queued_at(&e, &service, None, soon).await;
    assert_eq!(
        (same.id.as_str(), same.reason.as_deref()),
        (first.id.as_str(), None)
    );
    assert_eq!(worker.drain().await.unwrap(), 0, "still no message");
    // After it, the same record is queued again, saying so, and is applied.
    let later = t0 + chrono::Duration::minutes(61);
    let again = queued_at(&e, &service, None, later).await;
    assert_eq!(again.id, first.id, "the same remediation, not a second one");
    assert!(
        again
            .reason
            .as_deref()
            .unwrap()
            .starts_with("queued again by token:alice"),
        "{again:?}"
    );
    assert_eq!(worker.drain().await.unwrap(), 1);
    let done = service.get(&first.id).await.unwrap().unwrap();
    assert_eq!(done.status, RemediationStatus::Verified, "{done:?}");
    assert_eq!(e.fake.applied.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn with_remediation_off_approvals_are_refused_and_nothing_recorded() {
    let e = env(Fake::default()).await;
    let (service, _) = e.service(enabled(), false);
    let err = service
        .approve(&e.id, alice(), None, Utc::now())
        .await
        .unwrap_err();
    assert!(matches!(err, ServiceError::Off), "{err:?}");
    let all = crate::remediate::records::RecordQuery {
        limit: 10,
        ..Default::default()
    };
    assert!(service.list(&all).await.unwrap().is_empty());
    // The plan is still shown.
    let plan = service.plan(&e.id, "token:alice").await.unwrap();
    assert_eq!(plan.calls.len(), 1);
}

#[tokio::test]
async fn the_sink_approves_only_new_findings_of_rules_in_auto_as_automatic() {
    use crate::sinks::remediation::RemediationSink;
    use crate::sinks::Sink;
    use crate::store::ChangeFeed;
    let e = env(Fake::default()).await;
    let changes = e.store.changes_after(0, 10).await.unwrap();
    assert_eq!(changes.len(), 1, "the finding's insert");
    let inserted = &changes[0];

    // Not in `auto`: the sink does not even want it.
    let (service, _) = e.service(enabled(), true);
    assert!(!RemediationSink::new(service).wants(inserted));

    let auto = RemediationConfig {
        auto: vec!["aws.s3.bucket-policy-public".into()],
        ..enabled()
    };
    let (service, worker) = e.service(auto, true);
    let sink = RemediationSink::new(service.clone());
    assert!(sink.wants(inserted));
    let mut quiet = inserted.clone();
    quiet.quiet = true;
    assert!(!sink.wants(&quiet), "demo data is never remediated");
    // Delivered twice (at least once): queued once.
    sink.send(&changes).await.unwrap();
    sink.send(&changes).await.unwrap();
    let all = crate::remediate::records::RecordQuery {
        limit: 10,
        ..Default::default()
    };
    let records = service.list(&all).await.unwrap();
    assert_eq!(records.len(), 1, "{records:?}");
    assert!(records[0].automatic);
    assert_eq!(records[0].requested_by, "automatic remediation");
    worker.drain().await.unwrap();
    assert_eq!(e.status().await, WorkflowStatus::Resolved);
    // The remediation's own workflow change is not a new finding.
    let after = e.store.changes_after(inserted.seq, 10).await.unwrap();
    assert!(after.iter().all(|c| !sink.wants(c)));
}

/// The record's `undo` across the steps and the tries of one remediation.
mod undo;

/// The record's reason across the tries of one remediation whose calls went
/// through but whose read-back failed.
mod made;

/// One runner per remediation: simultaneous and held deliveries.
mod claims;

/// Applies at the terminal beside queued approvals.
mod terminal;
