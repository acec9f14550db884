//! One contract for each remediation port that has two implementations, run
//! against both: the queue (SQLite table for `cspm serve`, SQS on the emulator
//! for the Lambdas), the records (SQLite, DynamoDB) and the attempt log the
//! per-account rate limit counts (the ledger file, DynamoDB). The tables are
//! made as Terraform makes them.

use crate::aws_env::{endpoint, remediations_table, sdk_config, sqs_queue};
use chrono::{DateTime, Duration as Span, TimeZone, Utc};
use cspm::remediate::aws::{DynamoLedger, DynamoRecords, SqsQueue};
use cspm::remediate::ledger::{AttemptLog, Ledger, LedgerEntry, LedgerOutcome};
use cspm::remediate::local::SqliteRemediations;
use cspm::remediate::queue::{QueueMessage, RemediationQueue};
use cspm::remediate::records::{RecordQuery, RemediationRecords};
use cspm::remediate::service::new_id;
use shared_types::{RemediationRecord, RemediationStatus};
use std::collections::BTreeSet;
use std::time::Duration;

const LONG: Duration = Duration::from_secs(600);

fn message(id: &str) -> QueueMessage {
    QueueMessage {
        remediation_id: id.into(),
    }
}

fn ids_of(d: &[cspm::remediate::queue::Delivery]) -> BTreeSet<String> {
    d.iter().map(|d| d.message.remediation_id.clone()).collect()
}

async fn queue_contract(q: &dyn RemediationQueue, stale_receipts_delete_nothing: bool) {
    let (a, b) = (new_id(), new_id());
    q.send(&message(&a)).await.unwrap();
    q.send(&message(&b)).await.unwrap();

    // One handed out is hidden from the next receiver while it is held. (SQS
    // does not keep order: which one comes first is not part of the contract.)
    let first = q.receive(1, LONG).await.unwrap();
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(first[0].receives, 1);
    let second = q.receive(10, LONG).await.unwrap();
    assert_eq!(second.len(), 1, "{second:?}");
    assert_eq!(
        ids_of(&first)
            .union(&ids_of(&second))
            .cloned()
            .collect::<BTreeSet<_>>(),
        BTreeSet::from([a.clone(), b.clone()])
    );
    assert!(q.receive(10, LONG).await.unwrap().is_empty());

    // Released: back at once, counted as received twice, with a new receipt.
    q.release(&first[0].receipt, Duration::ZERO).await.unwrap();
    let again = q.receive(10, LONG).await.unwrap();
    assert_eq!(again.len(), 1, "{again:?}");
    assert_eq!(again[0].message, first[0].message);
    assert_eq!(again[0].receives, 2);
    assert_ne!(again[0].receipt, first[0].receipt);
    // The old receipt deletes nothing (the message is still held by `again`).
    // SQS documents this; the emulator deletes the message, so it is checked
    // only where the implementation is the real thing.
    if stale_receipts_delete_nothing {
        q.delete(&first[0].receipt).await.unwrap();
    }
    q.release(&again[0].receipt, Duration::ZERO).await.unwrap();
    let third = q.receive(10, LONG).await.unwrap();
    assert_eq!(ids_of(&third), ids_of(&first), "an old receipt deleted it");
    assert_eq!(third[0].receives, 3);

    // Deleted with the current receipt: gone for good, and the receipt is spent.
    q.delete(&third[0].receipt).await.unwrap();
    q.delete(&second[0].receipt).await.unwrap();
    q.release(&third[0].receipt, Duration::ZERO).await.unwrap();
    assert!(q.receive(10, Duration::ZERO).await.unwrap().is_empty());

    // Held past its hiding time (a worker that died), it comes back.
    let c = new_id();
    q.send(&message(&c)).await.unwrap();
    let held = q.receive(1, Duration::from_secs(1)).await.unwrap();
    assert_eq!(ids_of(&held), BTreeSet::from([c.clone()]));
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let back = q.receive(1, LONG).await.unwrap();
    assert_eq!(
        ids_of(&back),
        BTreeSet::from([c]),
        "a held message was lost"
    );
    assert_eq!(back[0].receives, 2);
    q.delete(&back[0].receipt).await.unwrap();
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
        undo: Some(serde_json::json!({"policy": {"Statement": [{"Effect": "Allow"}]}})),
    }
}

async fn records_contract(r: &dyn RemediationRecords) {
    let (one, two, three) = (new_id(), new_id(), new_id());
    // Findings unique to this run: the DynamoDB table is shared by nothing
    // else, but the SQLite one is the test's own too; ids keep them apart.
    let (f1, f2) = (new_id(), new_id());
    r.insert(&record(&one, &f1, 1)).await.unwrap();
    r.insert(&record(&two, &f2, 2)).await.unwrap();
    let mut third = record(&three, &f1, 3);
    r.insert(&third).await.unwrap();
    let dup = r.insert(&record(&three, "f9", 9)).await.unwrap_err();
    assert!(!dup.retryable, "{dup}");
    third.status = RemediationStatus::Refused;
    third.guard = Some("not-enabled".into());
    third.reason = Some("not enabled: <script>".into());
    r.update(&third).await.unwrap();
    assert!(
        r.update(&record(&new_id(), &f1, 9)).await.is_err(),
        "update of nothing"
    );

    let ids = |v: Vec<RemediationRecord>| v.into_iter().map(|r| r.id).collect::<Vec<_>>();
    let all = RecordQuery {
        limit: 100,
        ..Default::default()
    };
    assert_eq!(
        ids(r.list(&all).await.unwrap()),
        [three.as_str(), &two, &one]
    );
    let by_f1 = RecordQuery {
        finding_id: Some(f1.clone()),
        ..all.clone()
    };
    assert_eq!(ids(r.list(&by_f1).await.unwrap()), [three.as_str(), &one]);
    let refused = RecordQuery {
        status: Some(RemediationStatus::Refused),
        ..by_f1.clone()
    };
    assert_eq!(ids(r.list(&refused).await.unwrap()), [three.as_str()]);
    let queued = RecordQuery {
        status: Some(RemediationStatus::Queued),
        ..all.clone()
    };
    assert_eq!(ids(r.list(&queued).await.unwrap()), [two.as_str(), &one]);
    // One status across findings, moved out of another by an update.
    let refused_anywhere = RecordQuery {
        status: Some(RemediationStatus::Refused),
        limit: 1,
        ..all.clone()
    };
    assert_eq!(
        ids(r.list(&refused_anywhere).await.unwrap()),
        [three.as_str()]
    );
    let top_two = RecordQuery { limit: 2, ..all };
    assert_eq!(ids(r.list(&top_two).await.unwrap()), [three.as_str(), &two]);
    assert_eq!(r.get(&three).await.unwrap(), Some(third), "read back whole");
    assert_eq!(r.get(&new_id()).await.unwrap(), None);

    // A conditional replace: of the record as read, once, whoever tries at the
    // same moment; of a record changed since, or of none, never.
    let seen = r.get(&two).await.unwrap().unwrap();
    let takers: Vec<RemediationRecord> = (1..=8)
        .map(|n| RemediationRecord {
            attempts: n,
            worker_until: Some(seen.updated_at + chrono::Duration::minutes(5)),
            ..seen.clone()
        })
        .collect();
    let won = futures::future::join_all(takers.iter().map(|t| r.replace(&seen, t))).await;
    let won: Vec<u32> = won
        .into_iter()
        .zip(&takers)
        .filter(|(ok, _)| *ok.as_ref().unwrap())
        .map(|(_, t)| t.attempts)
        .collect();
    assert_eq!(won.len(), 1, "replaced by {won:?}");
    let stored = r.get(&two).await.unwrap().unwrap();
    assert_eq!(stored.attempts, won[0]);
    assert!(stored.worker_until.is_some());
    assert!(
        !r.replace(&seen, &seen).await.unwrap(),
        "changed since it was read"
    );
    let mut back = stored.clone();
    back.worker_until = None;
    assert!(r.replace(&stored, &back).await.unwrap());
    assert_eq!(r.get(&two).await.unwrap(), Some(back));
    let none = record(&new_id(), &f2, 9);
    assert!(!r.replace(&none, &none).await.unwrap(), "no such record");
    assert_eq!(r.get(&none.id).await.unwrap(), None);

    // One open remediation per finding, however many approvals at once.
    let f3 = new_id();
    let rivals: Vec<RemediationRecord> = (0..6).map(|m| record(&new_id(), &f3, 10 + m)).collect();
    let tries = futures::future::join_all(rivals.iter().map(|x| r.insert_unless_open(x))).await;
    let tries: Vec<Option<RemediationRecord>> = tries.into_iter().map(Result::unwrap).collect();
    let added: Vec<&RemediationRecord> = rivals
        .iter()
        .zip(&tries)
        .filter(|(_, t)| t.is_none())
        .map(|(x, _)| x)
        .collect();
    assert_eq!(added.len(), 1, "{tries:?}");
    let open = added[0].clone();
    for t in tries.iter().flatten() {
        assert_eq!(t, &open, "the others are answered with the open one");
    }
    // (Through get: a list by finding may lag on DynamoDB.)
    for x in &rivals {
        let stored = r.get(&x.id).await.unwrap();
        assert_eq!(stored.is_some(), x.id == open.id, "{}", x.id);
    }
    // Once it has ended, the next approval opens a new one.
    let mut ended = open.clone();
    ended.status = RemediationStatus::Verified;
    r.update(&ended).await.unwrap();
    let next = record(&new_id(), &f3, 30);
    assert_eq!(r.insert_unless_open(&next).await.unwrap(), None);
    assert_eq!(
        r.insert_unless_open(&record(&new_id(), &f3, 31))
            .await
            .unwrap(),
        Some(next.clone())
    );
    assert_eq!(r.get(&next.id).await.unwrap(), Some(next));
}

fn started(account: &str, finding: &str, at: DateTime<Utc>) -> LedgerEntry {
    LedgerEntry {
        at,
        finding_id: finding.into(),
        action: "s3-block-public-access".into(),
        account_id: account.into(),
        actor: "analyst".into(),
        outcome: LedgerOutcome::Started,
        error: None,
        record: None,
    }
}

async fn ledger_contract(l: &dyn AttemptLog, now: DateTime<Utc>) {
    let account = format!("{:012}", rand::random::<u32>());
    let other = format!("{:012}", rand::random::<u32>());
    let at = |minutes: i64| now - Span::minutes(minutes);
    assert!(l
        .attempts_in(&account, ("f", "a"))
        .await
        .unwrap()
        .is_empty());
    l.append(&started(&account, "f1", at(50))).await.unwrap();
    l.append(&started(&account, "f2", at(40))).await.unwrap();
    // A retry of f1 counts once, at its latest start.
    l.append(&started(&account, "f1", at(10))).await.unwrap();
    // How an attempt ended is not a start.
    l.append(&LedgerEntry {
        outcome: LedgerOutcome::Failed,
        error: Some("throttled".into()),
        ..started(&account, "f3", at(5))
    })
    .await
    .unwrap();
    l.append(&started(&other, "f9", at(1))).await.unwrap();

    let others = l
        .attempts_in(&account, ("f0", "s3-block-public-access"))
        .await
        .unwrap();
    assert_eq!(
        others,
        [at(40), at(10)],
        "oldest first, one per remediation"
    );
    // Never against that remediation's own next try.
    let but_f1 = l
        .attempts_in(&account, ("f1", "s3-block-public-access"))
        .await
        .unwrap();
    assert_eq!(but_f1, [at(40)]);
    assert_eq!(l.attempts_in(&other, ("f0", "x")).await.unwrap(), [at(1)]);

    // Eight starts at once in one account under a limit of three: exactly three
    // are recorded, however their reads and writes interleave.
    let busy = format!("{:012}", rand::random::<u32>());
    let under_three = |others: &[DateTime<Utc>]| others.len() < 3;
    let starts = (0..8).map(|i| {
        let entry = started(&busy, &format!("g{i}"), at(2));
        async move { l.start_if(&entry, &under_three).await.unwrap() }
    });
    let won = futures::future::join_all(starts).await;
    assert_eq!(won.iter().filter(|w| **w).count(), 3, "{won:?}");
    assert_eq!(l.attempts_in(&busy, ("x", "y")).await.unwrap().len(), 3);
    // A refused start records nothing.
    let refused = started(&busy, "late", at(1));
    assert!(!l.start_if(&refused, &|_| false).await.unwrap());
    assert_eq!(l.attempts_in(&busy, ("x", "y")).await.unwrap().len(), 3);
}

/// Milliseconds: what both ledgers keep.
fn now_ms() -> DateTime<Utc> {
    DateTime::from_timestamp_millis(Utc::now().timestamp_millis()).unwrap()
}

#[tokio::test]
async fn the_sqlite_queue_and_records_and_the_ledger_file_meet_the_contracts() {
    let dir = tempfile::tempdir().unwrap();
    let tables = SqliteRemediations::open_dir(dir.path()).unwrap();
    queue_contract(&tables, true).await;
    records_contract(&tables).await;
    ledger_contract(&Ledger::in_dir(dir.path()), now_ms()).await;
}

#[tokio::test]
async fn the_sqs_queue_and_the_dynamodb_records_and_ledger_meet_the_contracts() {
    let Some(ep) = endpoint("remediation_contract_aws") else {
        return;
    };
    let sdk = sdk_config(&ep).await;
    let url = sqs_queue(&sdk, "remediations").await;
    queue_contract(&SqsQueue::new(aws_sdk_sqs::Client::new(&sdk), url), false).await;
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    let table = remediations_table(&ddb).await;
    records_contract(&DynamoRecords::new(ddb.clone(), &table)).await;
    let ledger = DynamoLedger::new(ddb.clone(), &table);
    ledger_contract(&ledger, now_ms()).await;
    // The ledger's items, and the findings' open items, are not records: the
    // contract wrote five.
    let all = RecordQuery {
        limit: 100,
        ..Default::default()
    };
    assert_eq!(
        DynamoRecords::new(ddb, &table)
            .list(&all)
            .await
            .unwrap()
            .len(),
        5
    );
}

#[tokio::test]
async fn old_starts_are_dropped_from_the_dynamodb_ledger() {
    let Some(ep) = endpoint("remediation_ledger_prune") else {
        return;
    };
    let ddb = aws_sdk_dynamodb::Client::new(&sdk_config(&ep).await);
    let table = remediations_table(&ddb).await;
    let ledger = DynamoLedger::new(ddb.clone(), &table);
    let now = now_ms();
    ledger
        .append(&started("111122223333", "old", now - Span::days(3)))
        .await
        .unwrap();
    ledger
        .append(&started("111122223333", "new", now - Span::minutes(3)))
        .await
        .unwrap();
    let times = ledger
        .attempts_in("111122223333", ("x", "y"))
        .await
        .unwrap();
    assert_eq!(
        times,
        [now - Span::minutes(3)],
        "older than the window: not counted"
    );
    let item = ddb
        .get_item()
        .table_name(&table)
        .key(
            "id",
            aws_sdk_dynamodb::types::AttributeValue::S("ledger#111122223333".into()),
        )
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let started = item["started"].as_m().unwrap();
    assert_eq!(
        started.keys().collect::<Vec<_>>(),
        ["new|s3-block-public-access"],
        "the old start was pruned"
    );
}
