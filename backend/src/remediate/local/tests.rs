use super::*;
use chrono::{TimeZone, Utc};
use shared_types::RemediationStatus;

fn message(id: &str) -> QueueMessage {
    QueueMessage {
        remediation_id: id.into(),
    }
}

fn record(id: &str, finding: &str, minute: u32) -> RemediationRecord {
    let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, minute, 0).unwrap();
    RemediationRecord {
        id: id.into(),
        finding_id: finding.into(),
        action: Some("s3-block-public-access".into()),
        status: RemediationStatus::Queued,
        requested_by: "token:analyst-bot".into(),
        automatic: false,
        requested_at: at,
        updated_at: at,
        expect_state: None,
        guard: None,
        reason: None,
        attempts: 0,
        plan: None,
        undo: None,
    }
}

const LONG: Duration = Duration::from_secs(600);

#[tokio::test]
async fn a_received_message_is_hidden_until_deleted_or_released_and_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let q = SqliteRemediations::open_dir(dir.path()).unwrap();
    q.send(&message("a")).await.unwrap();
    q.send(&message("b")).await.unwrap();

    let first = q.receive(1, LONG).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].message, message("a"), "oldest first");
    assert_eq!(first[0].receives, 1);
    // Hidden from the next receiver while held.
    let second = q.receive(10, LONG).await.unwrap();
    assert_eq!(
        second.iter().map(|d| &d.message).collect::<Vec<_>>(),
        [&message("b")]
    );
    assert!(q.receive(10, LONG).await.unwrap().is_empty());

    // Released: back at once, counted as received twice, with a new receipt.
    q.release(&first[0].receipt, Duration::ZERO).await.unwrap();
    let again = q.receive(10, LONG).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].message, message("a"));
    assert_eq!(again[0].receives, 2);
    assert_ne!(again[0].receipt, first[0].receipt);
    // The old receipt no longer deletes it.
    q.delete(&first[0].receipt).await.unwrap();
    q.release(&again[0].receipt, Duration::ZERO).await.unwrap();
    drop(q);

    // Reopened (a restart): what was not deleted is still there.
    let q = SqliteRemediations::open_dir(dir.path()).unwrap();
    let after = q.receive(10, LONG).await.unwrap();
    assert_eq!(after.len(), 1, "{after:?}");
    assert_eq!(after[0].message, message("a"));
    assert_eq!(after[0].receives, 3);
    q.delete(&after[0].receipt).await.unwrap();
    q.release(&after[0].receipt, Duration::ZERO).await.unwrap();
    assert!(q.receive(10, Duration::ZERO).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_message_held_past_its_hiding_time_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let q = SqliteRemediations::open_dir(dir.path()).unwrap();
    q.send(&message("a")).await.unwrap();
    let held = q.receive(1, Duration::from_millis(1)).await.unwrap();
    assert_eq!(held.len(), 1);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let back = q.receive(1, LONG).await.unwrap();
    assert_eq!(
        back.len(),
        1,
        "a worker that died does not lose the message"
    );
    assert_eq!(back[0].receives, 2);
}

#[tokio::test]
async fn records_are_listed_newest_first_by_finding_and_status() {
    let dir = tempfile::tempdir().unwrap();
    let r = SqliteRemediations::open_dir(dir.path()).unwrap();
    r.insert(&record("1", "f1", 1)).await.unwrap();
    r.insert(&record("2", "f2", 2)).await.unwrap();
    let mut third = record("3", "f1", 3);
    r.insert(&third).await.unwrap();
    assert!(
        r.insert(&record("3", "f9", 9)).await.is_err(),
        "ids are unique"
    );
    third.status = RemediationStatus::Refused;
    third.guard = Some("not-enabled".into());
    r.update(&third).await.unwrap();
    assert!(r.update(&record("9", "f1", 9)).await.is_err());

    let ids = |v: Vec<RemediationRecord>| v.into_iter().map(|r| r.id).collect::<Vec<_>>();
    let all = RecordQuery {
        limit: 100,
        ..Default::default()
    };
    assert_eq!(ids(r.list(&all).await.unwrap()), ["3", "2", "1"]);
    let f1 = RecordQuery {
        finding_id: Some("f1".into()),
        ..all.clone()
    };
    assert_eq!(ids(r.list(&f1).await.unwrap()), ["3", "1"]);
    let refused = RecordQuery {
        status: Some(RemediationStatus::Refused),
        ..f1.clone()
    };
    assert_eq!(ids(r.list(&refused).await.unwrap()), ["3"]);
    let two = RecordQuery { limit: 2, ..all };
    assert_eq!(ids(r.list(&two).await.unwrap()), ["3", "2"]);
    assert_eq!(r.get("3").await.unwrap(), Some(third));
    assert_eq!(r.get("nope").await.unwrap(), None);
}

#[tokio::test]
async fn a_queued_record_without_a_message_is_queued_again_once() {
    let dir = tempfile::tempdir().unwrap();
    let q = SqliteRemediations::open_dir(dir.path()).unwrap();
    // "a" was recorded and queued; "b" recorded, then the process died; "c" ended.
    q.insert(&record("a", "f1", 1)).await.unwrap();
    q.send(&message("a")).await.unwrap();
    q.insert(&record("b", "f2", 2)).await.unwrap();
    let mut c = record("c", "f3", 3);
    c.status = RemediationStatus::Verified;
    q.insert(&c).await.unwrap();
    assert_eq!(q.requeue_orphans().await.unwrap(), 1);
    assert_eq!(q.requeue_orphans().await.unwrap(), 0, "once");
    let got: Vec<String> = q
        .receive(10, LONG)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.message.remediation_id)
        .collect();
    assert_eq!(got, ["a", "b"]);
}
