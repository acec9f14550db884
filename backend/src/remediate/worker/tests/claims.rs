//! One runner per remediation: a message SQS hands to two workers at once, and
//! a remediation another worker holds, are applied once; a dead worker's hold
//! ends and the next delivery takes the remediation over.

use super::*;

/// The one message of an approval, received (as SQS hands it to a worker).
async fn approved_and_received(e: &Env, service: &Remediations) -> (RemediationRecord, Delivery) {
    let record = queued_at(e, service, None, Utc::now()).await;
    let tables = SqliteRemediations::open_dir(e.dir.path()).unwrap();
    let mut got = tables.receive(10, Duration::from_secs(60)).await.unwrap();
    assert_eq!(got.len(), 1);
    (record, got.remove(0))
}

#[tokio::test]
async fn two_deliveries_of_one_message_at_once_apply_it_once() {
    let e = env(Fake::default()).await;
    let (service, worker) = e.service(enabled(), true);
    let (record, d) = approved_and_received(&e, &service).await;
    // SQS may hand one message to two Lambda instances at once.
    let (a, b) = tokio::join!(worker.handle(&d), worker.handle(&d));
    let mut ends = [a.unwrap(), b.unwrap()];
    ends.sort_by_key(|h| *h == Handled::Later);
    assert_eq!(ends, [Handled::Done, Handled::Later]);
    assert_eq!(e.fake.applied.load(Ordering::SeqCst), 1, "applied once");
    let done = service.get(&record.id).await.unwrap().unwrap();
    assert_eq!(
        (done.status, done.attempts, done.worker_until),
        (RemediationStatus::Verified, 1, None)
    );
}

#[tokio::test]
async fn a_remediation_held_by_a_live_worker_is_left_alone_and_taken_over_once_its_hold_ends() {
    let e = env(Fake::default()).await;
    let (service, worker) = e.service(enabled(), true);
    let (record, d) = approved_and_received(&e, &service).await;
    let tables = SqliteRemediations::open_dir(e.dir.path()).unwrap();
    // Another worker took it a moment ago and is planning.
    let mut held = record.clone();
    held.status = RemediationStatus::Planned;
    held.attempts = 1;
    held.worker_until = Some(Utc::now() + chrono::Duration::minutes(5));
    tables.update(&held).await.unwrap();
    assert_eq!(worker.handle(&d).await.unwrap(), Handled::Later);
    assert_eq!(e.fake.observed.load(Ordering::SeqCst), 0, "nothing read");
    assert_eq!(service.get(&record.id).await.unwrap(), Some(held.clone()));
    // An approval meanwhile, however late, does not queue it a second time.
    let late = Utc::now() + chrono::Duration::minutes(2);
    let mut old = held.clone();
    old.updated_at = late - chrono::Duration::hours(2);
    old.worker_until = Some(late + chrono::Duration::minutes(1));
    tables.update(&old).await.unwrap();
    let same = queued_at(&e, &service, None, late).await;
    assert_eq!(same, old, "held: not queued again");
    // That worker died: once its hold ended, the next delivery takes it over.
    let mut dead = old.clone();
    dead.worker_until = Some(Utc::now() - chrono::Duration::seconds(1));
    tables.update(&dead).await.unwrap();
    assert_eq!(worker.handle(&d).await.unwrap(), Handled::Done);
    let done = service.get(&record.id).await.unwrap().unwrap();
    assert_eq!(
        (done.status, done.attempts, done.worker_until),
        (RemediationStatus::Verified, 2, None)
    );
    assert_eq!(e.fake.applied.load(Ordering::SeqCst), 1);
}
