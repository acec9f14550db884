//! `GET /findings/groups` on a real SQLite file of 5,000 demo findings, through
//! the router: each group's total is the total `GET /findings` gives for the
//! group's click-through filter (the check) and what the test's own
//! SQL counts on the file; a file from before the group counters is migrated
//! to the same answer; a grouping read from rows says when it is not exact.

use super::helpers::findings;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use cspm::http::{router, AppState, HttpConfig};
use cspm::pipeline::Pipeline;
use cspm::sources::Normalizer;
use cspm::store::{SqliteStore, Store};
use http_body_util::BodyExt;
use rusqlite::Connection;
use serde_json::Value;
use shared_types::{
    Finding, FindingFilter, FindingGroups, GroupBy, WorkflowStatus, WorkflowUpdate,
};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use tower::ServiceExt;

const FINDINGS: usize = 5_000;

/// A store file with the demo findings, a tenth of them triaged by hand.
async fn filled(path: &Path) -> SqliteStore {
    let store = SqliteStore::open(path).unwrap();
    let fs = findings(FINDINGS, 5);
    for chunk in fs.chunks(1_000) {
        store.upsert(chunk).await.unwrap();
    }
    triage(&store, &fs, 10).await;
    store
}

/// Every `every`-th finding triaged by hand, to a status other than NEW.
pub(super) async fn triage(store: &SqliteStore, fs: &[Finding], every: usize) {
    for (i, f) in fs.iter().enumerate().step_by(every) {
        let update = WorkflowUpdate {
            workflow_status: WorkflowStatus::ALL[1 + i % 3],
            note: None,
        };
        store
            .set_workflow(&f.id, &update, "alice", f.updated_at)
            .await
            .unwrap();
    }
}

fn app(store: SqliteStore) -> Router {
    let pipeline = Pipeline::new(
        Arc::new(Normalizer::default()),
        Arc::new(store) as Arc<dyn Store>,
    );
    router(AppState::new(pipeline, HttpConfig::default()))
}

async fn get(app: &Router, uri: &str) -> (StatusCode, Value) {
    let req = Request::get(uri).body(Body::empty()).unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

fn query(f: &FindingFilter) -> String {
    serde_urlencoded::to_string(f.to_pairs()).unwrap()
}

/// The test's own count per group: SQL on the file, not the store's counters.
fn sql_totals(db: &Connection, by: GroupBy, filter_sql: &str) -> BTreeMap<String, u64> {
    let col = match by {
        GroupBy::Generator => "generator_id",
        GroupBy::Resource => "resource_id",
        GroupBy::Account => "account_id",
        GroupBy::Region => "region",
        GroupBy::ResourceType => "resource_type",
    };
    let sql = format!("SELECT {col}, count(*) FROM findings {filter_sql} GROUP BY 1");
    let mut stmt = db.prepare(&sql).unwrap();
    let rows = stmt
        .query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u64))
        })
        .unwrap();
    rows.map(Result::unwrap).collect()
}

#[tokio::test]
async fn every_groups_total_is_its_filtered_lists_total() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cspm.db");
    let app = app(filled(&path).await);
    let db = Connection::open(&path).unwrap();
    let views = [
        (FindingFilter::default(), ""),
        (
            FindingFilter::from_pairs([("severity", "HIGH,CRITICAL"), ("status", "NEW")]).unwrap(),
            "WHERE severity IN (3, 4) AND workflow_status = 'NEW'",
        ),
        (
            FindingFilter::from_pairs([("account", "111122223333")]).unwrap(),
            "WHERE account_id = '111122223333'",
        ),
    ];
    let mut checked = 0;
    for (filter, sql) in &views {
        for by in GroupBy::ALL {
            let uri = format!("/findings/groups?by={by}&limit=1000&{}", query(filter));
            let (status, body) = get(&app, &uri).await;
            assert_eq!(status, StatusCode::OK, "{uri}: {body}");
            let groups: FindingGroups = serde_json::from_value(body).unwrap();
            assert!(groups.exact, "{uri}");
            let want = sql_totals(&db, by, sql);
            // Resources outnumber the limit: the rest is `other`.
            let shown: u64 = groups.groups.iter().map(|g| g.total).sum();
            assert_eq!(shown + groups.other, want.values().sum::<u64>(), "{uri}");
            assert_eq!(groups.groups.len(), want.len().min(1000), "{uri}");
            for g in &groups.groups {
                assert_eq!(Some(&g.total), want.get(&g.key), "{uri} {}", g.key);
            }
            // Resources are many: click through the first 40 of them.
            for g in groups.groups.iter().take(40) {
                let narrowed = by.narrow(filter, &g.key);
                let uri = format!("/findings?limit=1&{}", query(&narrowed));
                let (status, page) = get(&app, &uri).await;
                assert_eq!(status, StatusCode::OK, "{uri}: {page}");
                assert_eq!(page["total"], g.total, "{uri}");
                assert_eq!(page["total_is_exact"], true, "{uri}");
                checked += 1;
            }
        }
    }
    assert!(checked > 200, "{checked}");
}

#[tokio::test]
async fn bad_grouping_parameters_are_400_naming_the_parameter() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("cspm.db")).unwrap();
    store.upsert(&findings(20, 1)).await.unwrap();
    let app = app(store);
    for (uri, field) in [
        ("/findings/groups", "by"),
        ("/findings/groups?by=title", "by"),
        ("/findings/groups?by=account&limit=0", "limit"),
        ("/findings/groups?by=account&limit=1001", "limit"),
        ("/findings/groups?by=account&status=OPEN", "status"),
        ("/findings/groups?by=account&cursor=x", "cursor"),
    ] {
        let (status, body) = get(&app, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {body}");
        assert_eq!(body["error"]["code"], "invalid_parameter", "{uri}: {body}");
        assert_eq!(body["error"]["field"], field, "{uri}: {body}");
    }
}

#[tokio::test]
async fn a_file_from_before_the_group_counters_is_migrated_to_the_same_groups() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cspm.db");
    let store = filled(&path).await;
    let before = store
        .groups(&FindingFilter::default(), GroupBy::Resource, 50)
        .await
        .unwrap();
    let by_generator = store
        .groups(&FindingFilter::default(), GroupBy::Generator, 50)
        .await
        .unwrap();
    drop(store);
    // What version 4 left: no group counters, no generator/resource indexes.
    let db = Connection::open(&path).unwrap();
    db.execute_batch(
        "DROP TABLE group_counts; DROP INDEX findings_by_generator; \
         DROP INDEX findings_by_bucket_resource; PRAGMA user_version = 4;",
    )
    .unwrap();
    drop(db);
    let store = SqliteStore::open(&path).unwrap();
    let f = FindingFilter::default();
    assert_eq!(
        store.groups(&f, GroupBy::Resource, 50).await.unwrap(),
        before
    );
    assert_eq!(
        store.groups(&f, GroupBy::Generator, 50).await.unwrap(),
        by_generator
    );
    assert!(before.other > 0 && before.groups.len() == 50);
}

#[tokio::test]
async fn a_grouping_read_from_rows_says_it_is_not_exact_and_never_overcounts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cspm.db");
    let store = filled(&path).await.with_group_rows(300);
    let db = Connection::open(&path).unwrap();
    let filter = FindingFilter::from_pairs([("q", "bucket")]).unwrap();
    let truth = sql_totals(
        &db,
        GroupBy::Account,
        "WHERE instr(lower(title), 'bucket') > 0 OR instr(lower(description), 'bucket') > 0 \
         OR instr(lower(resource_id), 'bucket') > 0 OR instr(lower(asff_id), 'bucket') > 0",
    );
    assert!(truth.values().sum::<u64>() > 300, "{truth:?}");
    let got = store.groups(&filter, GroupBy::Account, 100).await.unwrap();
    assert!(!got.exact);
    let read: u64 = got.groups.iter().map(|g| g.total).sum::<u64>() + got.other;
    assert_eq!(read, 300);
    for g in &got.groups {
        assert!(
            g.total <= truth[&g.key],
            "{}: {} > {}",
            g.key,
            g.total,
            truth[&g.key]
        );
    }
    // A grouping the counters answer stays exact whatever the read budget.
    let counted = store
        .groups(&FindingFilter::default(), GroupBy::Account, 100)
        .await
        .unwrap();
    assert!(counted.exact);
}
