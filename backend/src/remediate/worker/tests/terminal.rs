//! An apply at the terminal beside queued approvals: recorded like one, left
//! alone while a worker holds or will take the finding's open remediation, and
//! taking over one whose holder stopped.

use super::*;
use crate::remediate::outcome::ApplyOutcome;
use crate::remediate::terminal::{self, TerminalError};

#[tokio::test]
async fn an_apply_at_the_terminal_is_recorded_and_waits_for_an_open_remediation() {
    let e = env(Fake::default()).await;
    let (service, _worker) = e.service(enabled(), true);
    let tables = SqliteRemediations::open_dir(e.dir.path()).unwrap();
    let bob = Approval::Person("bob".into());
    // Queued by an approval, not yet taken by a worker: left to it.
    let queued = queued_at(&e, &service, None, Utc::now()).await;
    let remediator = service.remediator();
    let apply = |now| terminal::apply(remediator, &tables, &e.id, &bob, None, now);
    let Err(TerminalError::Open(open)) = apply(Utc::now()).await else {
        panic!("applied beside a queued remediation")
    };
    assert_eq!(open.id, queued.id);
    assert_eq!(e.fake.observed.load(Ordering::SeqCst), 0, "nothing read");
    // A worker holds it now: still left alone.
    let mut held = queued.clone();
    held.worker_until = Some(Utc::now() + chrono::Duration::minutes(5));
    tables.update(&held).await.unwrap();
    assert!(matches!(
        apply(Utc::now()).await,
        Err(TerminalError::Open(_))
    ));
    // That worker died: its hold ended, the terminal takes it over and ends it.
    let mut dead = held.clone();
    dead.worker_until = Some(Utc::now() - chrono::Duration::seconds(1));
    tables.update(&dead).await.unwrap();
    let applied = apply(Utc::now()).await.unwrap();
    assert!(matches!(applied.outcome, ApplyOutcome::Verified { .. }));
    let record = applied.record.unwrap();
    assert_eq!(record.id, queued.id, "the same remediation, not a second");
    assert_eq!(
        (record.status, record.attempts, record.worker_until),
        (RemediationStatus::Verified, 1, None)
    );
    assert_eq!(service.get(&queued.id).await.unwrap(), Some(record));
    assert_eq!(e.fake.applied.load(Ordering::SeqCst), 1);
    assert_eq!(e.status().await, WorkflowStatus::Resolved);
    // Its queued message finds it ended: nothing is applied twice.
    let mut left = tables.receive(10, Duration::from_secs(60)).await.unwrap();
    assert_eq!(left.len(), 1);
    let (_, worker) = e.service(enabled(), true);
    assert_eq!(worker.handle(&left.remove(0)).await.unwrap(), Handled::Done);
    assert_eq!(e.fake.applied.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_refusal_at_the_terminal_is_a_recorded_remediation() {
    let e = env(Fake::default()).await;
    // Not enabled: refused before anything is read, and recorded as refused.
    let (service, _worker) = e.service(RemediationConfig::default(), false);
    let tables = SqliteRemediations::open_dir(e.dir.path()).unwrap();
    let bob = Approval::Person("bob".into());
    let applied = terminal::apply(service.remediator(), &tables, &e.id, &bob, None, Utc::now())
        .await
        .unwrap();
    assert!(matches!(applied.outcome, ApplyOutcome::Refused { .. }));
    let record = applied.record.unwrap();
    assert_eq!(
        (
            record.status,
            record.guard.as_deref(),
            record.requested_by.as_str()
        ),
        (RemediationStatus::Refused, Some("not-enabled"), "bob")
    );
    assert_eq!(service.get(&record.id).await.unwrap(), Some(record));
    assert_eq!(e.fake.observed.load(Ordering::SeqCst), 0);
}
