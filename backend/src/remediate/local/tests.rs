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
        worker_until: None,
        made: false,
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

// The queue's and the records' behaviour shared with SQS and DynamoDB is
// checked by the contract in `tests/it/remediation_contract.rs`; these are
// the SQLite tables' own: surviving a restart, and queuing orphans again.

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
