//! Grouping by resource on SQLite, from resource counters folded from the
//! changes writes append (resource_counts.rs), gives what the test's own
//! `GROUP BY` over the findings table says: on 3,000 demo findings plus
//! resources built to tie, after status changes, severity changes, moves
//! between resources and deletes, for many filters and limits, through the
//! ranking's walk and through the sum of every resource's counters. The store
//! may read only 10 rows where no counter answers, so an exact answer is the
//! counters'. Changes another process writes are folded by the next grouping;
//! one resource's list and count come through its bucket index; and a version-6
//! file is recounted when opened and groups the same.

use super::grouping::triage;
use super::helpers::{findings, version};
use cspm::store::{FindingVersion, SqliteStore, Store, ViewCount};
use rusqlite::Connection;
use shared_types::{Finding, FindingFilter, FindingGroups, GroupBy, Severity};
use std::path::Path;

/// Demo findings, then resources built to tie on every count (`tie-*`: one
/// CRITICAL and one HIGH each), triage, newer versions that change severity or
/// move to another resource, and deletes.
async fn churned(path: &Path) -> SqliteStore {
    let store = counters_only(path);
    let mut fs = findings(3_000, 11);
    for (i, f) in fs.iter_mut().enumerate().take(60) {
        f.resource_id = format!("tie-{:02}", i / 2);
        f.severity = if i % 2 == 0 {
            Severity::Critical
        } else {
            Severity::High
        };
    }
    for chunk in fs.chunks(500) {
        store.upsert(chunk).await.unwrap();
    }
    triage(&store, &fs, 9).await;
    let newer: Vec<Finding> = fs
        .iter()
        .skip(100)
        .step_by(13)
        .enumerate()
        .map(|(i, f)| {
            let mut v = version(f, 60);
            v.severity = Severity::ALL_DESC[i % 5];
            if i % 4 == 0 {
                v.resource_id = format!("moved-{}", i % 5);
            }
            v
        })
        .collect();
    store.upsert(&newer).await.unwrap();
    // Deletes empty some resources (the first `tie-*` ones lose both findings)
    // and thin others; revision 0 compares `updated_at` only.
    let gone: Vec<FindingVersion> = fs
        .iter()
        .take(6)
        .chain(fs.iter().skip(1_000).step_by(17))
        .filter(|f| !newer.iter().any(|n| n.id == f.id))
        .map(|f| FindingVersion {
            id: f.id.clone(),
            updated_at: f.updated_at,
            revision: 0,
        })
        .collect();
    let report = store.delete_versions(&gone).await.unwrap();
    assert_eq!(report.deleted.len(), gone.len());
    store
}

/// The store on `path` reading at most 10 findings where no counter answers.
fn counters_only(path: &Path) -> SqliteStore {
    SqliteStore::open(path).unwrap().with_group_rows(10)
}

/// The filters checked: none, severity sets that are and are not the most
/// severe ones, statuses, and the other counted columns alone and together.
fn filters() -> Vec<FindingFilter> {
    [
        vec![],
        vec![("severity", "CRITICAL,HIGH")],
        vec![("severity", "CRITICAL")],
        vec![("severity", "MEDIUM")],
        vec![("severity", "HIGH,LOW")],
        vec![("severity", "LOW,INFORMATIONAL")],
        vec![("status", "NEW")],
        vec![("status", "RESOLVED,SUPPRESSED")],
        vec![("account", "111122223333")],
        vec![("status", "NEW"), ("account", "111122223333")],
        vec![("region", "us-east-1"), ("severity", "HIGH,MEDIUM")],
        vec![("resource_type", "AwsS3Bucket")],
        vec![("account", "no-such-account")],
    ]
    .into_iter()
    .map(|p| FindingFilter::from_pairs(p).unwrap())
    .collect()
}

/// The test's own ranking: `GROUP BY resource_id` over the findings table in
/// the documented order, as (key, total) for the first `limit`, and the rest.
fn sql_top(db: &Connection, filter_sql: &str, limit: u32) -> (Vec<(String, u64)>, u64) {
    let sql = format!(
        "SELECT resource_id, count(*) FROM findings {filter_sql} GROUP BY resource_id \
         ORDER BY sum(severity = 4) DESC, sum(severity = 3) DESC, sum(severity = 2) DESC, \
         sum(severity = 1) DESC, sum(severity = 0) DESC, count(*) DESC, resource_id"
    );
    let mut stmt = db.prepare(&sql).unwrap();
    let all: Vec<(String, u64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let top: Vec<(String, u64)> = all.iter().take(limit as usize).cloned().collect();
    let rest = all.iter().skip(limit as usize).map(|(_, n)| n).sum();
    (top, rest)
}

/// `filter` as SQL on the findings table (the counted columns only).
fn filter_sql(f: &FindingFilter) -> String {
    let mut conds = Vec::new();
    let list = |v: Vec<String>| v.join(", ");
    if !f.severities.is_empty() {
        let ranks = f.severities.iter().map(|s| s.rank().to_string()).collect();
        conds.push(format!("severity IN ({})", list(ranks)));
    }
    if !f.statuses.is_empty() {
        let st = f
            .statuses
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        conds.push(format!("workflow_status IN ({})", list(st)));
    }
    for (col, v) in [
        ("account_id", &f.account),
        ("region", &f.region),
        ("resource_type", &f.resource_type),
    ] {
        if let Some(v) = v {
            conds.push(format!("{col} = '{v}'"));
        }
    }
    if conds.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conds.join(" AND "))
    }
}

fn keys(g: &FindingGroups) -> Vec<(String, u64)> {
    g.groups.iter().map(|g| (g.key.clone(), g.total)).collect()
}

#[tokio::test]
async fn grouping_by_resource_equals_sql_group_by_for_every_filter_and_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cspm.db");
    let store = churned(&path).await;
    let summing = counters_only(&path).without_rank_walk();
    let db = Connection::open(&path).unwrap();
    let mut checked = 0;
    for filter in filters() {
        let where_sql = filter_sql(&filter);
        for limit in [1, 2, 7, 30, 100, 1_000] {
            let (top, rest) = sql_top(&db, &where_sql, limit);
            for s in [&store, &summing] {
                let got = s.groups(&filter, GroupBy::Resource, limit).await.unwrap();
                assert!(got.exact, "{where_sql} limit {limit}");
                assert_eq!(keys(&got), top, "{where_sql} limit {limit}");
                assert_eq!(got.other, rest, "{where_sql} limit {limit}");
                checked += 1;
            }
        }
    }
    // The built ties are listed in key order, and emptied resources are gone.
    let (top, _) = sql_top(&db, "", 1_000);
    assert!(top.iter().any(|(k, _)| k == "tie-05"), "{top:?}");
    assert!(!top.iter().any(|(k, _)| k == "tie-00"), "{top:?}");
    assert_eq!(checked, 13 * 6 * 2);
    // Every change was folded: nothing waits, and the counters hold exactly
    // the findings.
    let (waiting, counted, rows): (i64, i64, i64) = db
        .query_row(
            "SELECT (SELECT count(*) FROM resource_deltas), \
             (SELECT sum(n) FROM group_counts WHERE dim = 'resource'), \
             (SELECT count(*) FROM findings)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((waiting, counted), (0, rows));
}

#[tokio::test]
async fn changes_another_process_writes_are_folded_by_the_next_grouping() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cspm.db");
    let store = churned(&path).await;
    let all = FindingFilter::default();
    store.groups(&all, GroupBy::Resource, 5).await.unwrap();
    // Another writer (as `cspm ingest` would be) adds a resource.
    let other = SqliteStore::open(&path).unwrap();
    let mut fs = findings(4, 99);
    for f in &mut fs {
        f.resource_id = "arn:aws:s3:::written-elsewhere".into();
        f.severity = Severity::Critical;
    }
    other.upsert(&fs).await.unwrap();
    let got = store.groups(&all, GroupBy::Resource, 1_000).await.unwrap();
    assert!(got.exact);
    let new = got
        .groups
        .iter()
        .find(|g| g.key == "arn:aws:s3:::written-elsewhere")
        .expect("the resource written elsewhere is listed");
    assert_eq!(new.total, 4);
    assert_eq!(new.updated_at, fs.iter().map(|f| f.updated_at).max());
    let db = Connection::open(&path).unwrap();
    let (top, rest) = sql_top(&db, "", 1_000);
    assert_eq!((keys(&got), got.other), (top, rest));
}

#[tokio::test]
async fn one_resources_list_count_and_grouping_match_sql() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cspm.db");
    drop(churned(&path).await);
    let store = SqliteStore::open(&path).unwrap();
    let db = Connection::open(&path).unwrap();
    for resource in ["tie-05", "moved-1", "tie-00"] {
        let want: i64 = db
            .query_row(
                "SELECT count(*) FROM findings WHERE resource_id = ?1",
                [resource],
                |r| r.get(0),
            )
            .unwrap();
        let filter = FindingFilter::from_pairs([("resource", resource)]).unwrap();
        let count = store.count(&filter).await.unwrap();
        assert!(count.exact, "{resource}");
        assert_eq!(count.total, want as u64, "{resource}");
        let page = store.list(&filter, 500, None).await.unwrap();
        assert_eq!(page.items.len() as i64, want, "{resource}");
        assert!(page.items.iter().all(|i| i.resource_id == resource));
        let by_account = store.groups(&filter, GroupBy::Account, 10).await.unwrap();
        assert!(by_account.exact);
        let total: u64 = by_account.groups.iter().map(|g| g.total).sum();
        assert_eq!(total + by_account.other, want as u64, "{resource}");
    }
}

#[tokio::test]
async fn a_groups_total_is_its_click_through_lists_exact_count_from_the_counters() {
    // The count may read 10 rows where no counter answers, so a resource's
    // exact count of more than 10 findings is its counters'.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cspm.db");
    drop(churned(&path).await);
    let store = SqliteStore::open(&path)
        .unwrap()
        .with_group_rows(10)
        .with_count_rows(10);
    let db = Connection::open(&path).unwrap();
    let mut large = 0;
    for filter in filters() {
        let groups = store.groups(&filter, GroupBy::Resource, 15).await.unwrap();
        assert!(groups.exact, "{filter:?}");
        for g in &groups.groups {
            let mut click = filter.clone();
            click.resource = Some(g.key.clone());
            let count = store.count(&click).await.unwrap();
            assert!(count.exact, "{click:?}: {count:?}");
            assert_eq!(count.total, g.total, "{click:?}");
            let want: u64 = db
                .query_row(
                    &format!(
                        "SELECT count(*) FROM findings WHERE resource_id = ?1 {}",
                        filter_sql(&filter).replacen("WHERE", "AND", 1)
                    ),
                    [&g.key],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(count.total, want, "{click:?}");
            large += usize::from(g.total > 10);
        }
    }
    assert!(large > 20, "{large} groups larger than the count's read");
    // A change not folded yet: the count reads rows (here 10) and says it may
    // be off; the next grouping folds it and the count is exact again.
    let big = store
        .groups(&FindingFilter::default(), GroupBy::Resource, 1)
        .await
        .unwrap()
        .groups[0]
        .clone();
    let mut f = findings(1, 99).remove(0);
    f.resource_id = big.key.clone();
    store.upsert(&[f]).await.unwrap();
    let one = FindingFilter::from_pairs([("resource", big.key.as_str())]).unwrap();
    let behind = store.count(&one).await.unwrap();
    let now = big.total + 1;
    assert!(!behind.exact && (behind.low..=behind.high).contains(&now));
    store
        .groups(&FindingFilter::default(), GroupBy::Resource, 1)
        .await
        .unwrap();
    assert_eq!(
        store.count(&one).await.unwrap(),
        ViewCount::exact(big.total + 1)
    );
}

#[tokio::test]
async fn a_version_6_file_is_recounted_and_groups_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cspm.db");
    let before = {
        let store = churned(&path).await;
        store
            .groups(&FindingFilter::default(), GroupBy::Resource, 40)
            .await
            .unwrap()
    };
    // What version 6 left: resource counter rows, a ranking, a resource index
    // in key order, no bucket index.
    let db = Connection::open(&path).unwrap();
    db.execute_batch(
        "DROP TABLE resource_deltas;
         DROP TABLE resource_totals;
         DELETE FROM group_counts WHERE dim = 'resource';
         CREATE TABLE resource_rank (resource_id TEXT PRIMARY KEY, total INTEGER) WITHOUT ROWID;
         INSERT INTO resource_rank SELECT resource_id, count(*) FROM findings GROUP BY 1;
         INSERT INTO group_counts SELECT 'resource', resource_id, severity, workflow_status,
           account_id, region, resource_type, product_name, count(*) FROM findings
           GROUP BY 2, 3, 4, 5, 6, 7, 8;
         DROP INDEX findings_by_bucket_resource;
         ALTER TABLE findings DROP COLUMN resource_key;
         CREATE INDEX findings_by_resource ON findings (resource_id, updated_at, id);
         PRAGMA user_version = 6;",
    )
    .unwrap();
    drop(db);
    let store = counters_only(&path);
    let db = Connection::open(&path).unwrap();
    let (version, tables, waiting, index): (i64, i64, i64, i64) = db
        .query_row(
            "SELECT (SELECT user_version FROM pragma_user_version), \
             (SELECT count(*) FROM sqlite_schema WHERE name IN ('resource_rank', 'findings_by_resource')), \
             (SELECT count(*) FROM resource_deltas), \
             (SELECT count(*) FROM sqlite_schema WHERE name = 'findings_by_bucket_resource')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    // The old ranking and index are gone; every finding waits to be folded.
    let rows: i64 = db
        .query_row("SELECT count(*) FROM findings", [], |r| r.get(0))
        .unwrap();
    assert_eq!((version, tables, waiting, index), (9, 0, rows, 1));
    let f = FindingFilter::default();
    assert_eq!(
        store.groups(&f, GroupBy::Resource, 40).await.unwrap(),
        before
    );
    assert_eq!(before.groups.len(), 40);
    // The resource keys were filled: one resource's count and list find it.
    let one = FindingFilter::from_pairs([("resource", "tie-05")]).unwrap();
    let count = store.count(&one).await.unwrap();
    assert_eq!((count.total, count.exact), (2, true));
    assert_eq!(store.list(&one, 10, None).await.unwrap().items.len(), 2);
}

#[tokio::test]
async fn groupings_stay_exact_while_the_same_store_keeps_writing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cspm.db");
    let store = churned(&path).await;
    let writer = store.clone();
    let writing = tokio::spawn(async move {
        for round in 0..40usize {
            let mut fs = findings(50, 1_000 + round as u64);
            for (i, f) in fs.iter_mut().enumerate() {
                f.resource_id = format!("busy-{}", (round * 50 + i) % 97);
            }
            writer.upsert(&fs).await.unwrap();
        }
    });
    let all = FindingFilter::default();
    let mut answers = 0;
    while !writing.is_finished() {
        // Only 10 rows may be read where no counter answers: an exact answer
        // is the counters', folded up to the snapshot it read.
        let got = store.groups(&all, GroupBy::Resource, 20).await.unwrap();
        assert!(got.exact, "answer {answers} was read from rows");
        answers += 1;
    }
    writing.await.unwrap();
    assert!(answers > 0);
    let got = store.groups(&all, GroupBy::Resource, 30).await.unwrap();
    let db = Connection::open(&path).unwrap();
    let (top, rest) = sql_top(&db, "", 30);
    assert_eq!((keys(&got), got.other), (top, rest));
}
