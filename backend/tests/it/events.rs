//! `POST /events` through the router (no port): every corpus folder, JSON arrays and
//! JSON Lines, malformed and oversized bodies, store failures — and the same folder
//! through `cspm ingest` and `POST /events` gives the same outcome and the same
//! stored findings (the scanner handler: `events_scanner.rs`).

use super::corpus::corpus;
use super::helpers::pipeline;
use async_trait::async_trait;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use chrono::{DateTime, NaiveDate, Utc};
use cspm::http::{router, AppState, HttpConfig};
use cspm::ingest::ingest_paths;
use cspm::pipeline::OutcomeBody;
use cspm::store::guard::Guarded;
use cspm::store::{
    ArchivePage, DeleteReport, FindingVersion, Origin, SqliteStore, Store, StoreError, StoreResult,
    UpsertReport,
};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use shared_types::{Finding, FindingDetail, FindingFilter, FindingPage, Summary, WorkflowUpdate};
use std::collections::BTreeMap;
use std::sync::Arc;
use tower::ServiceExt;

/// A router over a fresh SQLite store (the directory lives as long as the value).
pub struct App {
    /// The whole router, as `cspm serve` builds it.
    pub router: Router,
    /// Its store, to read back what was stored.
    pub store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

/// An [`App`] over an empty store.
pub fn app() -> App {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_dir(dir.path()).unwrap());
    App {
        router: router(AppState::new(
            pipeline(store.clone()),
            HttpConfig::default(),
        )),
        store,
        _dir: dir,
    }
}

/// `POST /events` with `body`: the status and the JSON answer (`null` if none).
pub async fn post(router: &Router, content_type: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let req = Request::post("/events")
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .unwrap();
    let resp = router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// The answer read as an outcome.
pub fn outcome(v: Value) -> OutcomeBody {
    serde_json::from_value(v).expect("an outcome body")
}

/// Every stored finding, by id (the raw document included).
pub async fn stored(store: &dyn Store) -> BTreeMap<String, Finding> {
    let mut out = BTreeMap::new();
    let mut cursor = None;
    loop {
        let page = store
            .list(&FindingFilter::default(), 1000, cursor.as_deref())
            .await
            .unwrap();
        for item in &page.items {
            let d = store.get(&item.id).await.unwrap().unwrap();
            out.insert(item.id.clone(), d.finding);
        }
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => return out,
        }
    }
}

/// The counts two runs must agree on.
fn counts(o: &OutcomeBody) -> (usize, usize, usize, usize, usize, usize, usize) {
    (
        o.documents,
        o.stored,
        o.updated,
        o.unchanged,
        o.skipped_older,
        o.rejected.len(),
        o.noted.len(),
    )
}

const FOLDERS: [&str; 8] = [
    "asff",
    "asff-envelope",
    "cloudtrail",
    "cloudtrail-records",
    "alarm",
    "guardduty",
    "iam-policy",
    "rule-case",
];

#[tokio::test]
async fn every_corpus_folder_posted_as_an_array_and_as_lines_matches_ingest() {
    for folder in FOLDERS {
        let docs: Vec<Value> = corpus(folder).into_iter().map(|(_, d)| d).collect();

        // `cspm ingest` of the folder's documents as one JSON Lines file.
        let tmp = tempfile::tempdir().unwrap();
        let lines: Vec<String> = docs.iter().map(Value::to_string).collect();
        let file = tmp.path().join("docs.jsonl");
        std::fs::write(&file, lines.join("\n")).unwrap();
        let ingested = app();
        let report = ingest_paths(
            &pipeline(ingested.store.clone()),
            &[file],
            &indicatif::ProgressBar::hidden(),
        )
        .await
        .unwrap();
        let want = OutcomeBody::from(&report.outcome);

        // POST /events: one JSON array, then the same documents as NDJSON.
        let as_array = app();
        let (status, body) = post(
            &as_array.router,
            "application/json",
            serde_json::to_vec(&docs).unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{folder}: {body}");
        let array = outcome(body);
        let as_lines = app();
        let (status, body) = post(
            &as_lines.router,
            "application/x-ndjson",
            lines.join("\n").into_bytes(),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{folder}: {body}");
        let ndjson = outcome(body);

        assert_eq!(counts(&array), counts(&want), "{folder}: array vs ingest");
        assert_eq!(counts(&ndjson), counts(&want), "{folder}: lines vs ingest");
        assert_eq!(
            array.rejected, want.rejected,
            "{folder}: same indices and reasons"
        );
        let (a, b, c) = (
            stored(ingested.store.as_ref()).await,
            stored(as_array.store.as_ref()).await,
            stored(as_lines.store.as_ref()).await,
        );
        assert_eq!(a.len(), want.stored, "{folder}");
        assert!(a == b && b == c, "{folder}: the same findings are stored");
        // Every rejection points at a real document.
        for r in &array.rejected {
            assert!(r.index.is_some_and(|i| i < docs.len()), "{folder}: {r:?}");
            assert!(!r.reason.is_empty());
        }
    }
}

#[tokio::test]
async fn malformed_json_is_a_400_and_stores_nothing() {
    let a = app();
    let (status, body) = post(
        &a.router,
        "application/json",
        b"[{\"a\":1}, {\"b\":".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"]["code"], "invalid_body");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("line 1"));
    let (status, _) = post(&a.router, "application/json", b"{} {}".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "two documents are not one");
    let (status, _) = post(&a.router, "application/json", Vec::new()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(stored(a.store.as_ref()).await.is_empty());
}

/// A finding is rejected only for a missing or unparseable required field: a real
/// finding whose dates are valid RFC 3339 times in 1977 is stored with them, and
/// read back (list and detail) with the same instants.
#[tokio::test]
async fn a_finding_created_in_1977_is_stored_with_its_dates() {
    let a = app();
    let mut finding = corpus("asff").remove(0).1;
    finding["CreatedAt"] = json!("1977-05-25T10:00:00.000Z");
    finding["FirstObservedAt"] = json!("1977-05-25T10:00:00.000Z");
    finding["UpdatedAt"] = json!("1977-05-26T08:30:00-04:00");
    let (status, body) = post(
        &a.router,
        "application/json",
        serde_json::to_vec(&finding).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let o = outcome(body);
    assert_eq!((o.stored, o.rejected.len()), (1, 0), "{:?}", o.rejected);
    let all = stored(a.store.as_ref()).await;
    let f = all.values().next().unwrap();
    let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
    assert_eq!(f.created_at, at("1977-05-25T10:00:00Z"));
    assert_eq!(f.updated_at, at("1977-05-26T12:30:00Z"));
}

#[tokio::test]
async fn unknown_documents_are_rejected_with_their_index() {
    let a = app();
    let finding = corpus("asff").remove(0).1;
    let body = json!([{"hello": "world"}, finding, 42, "text"]);
    let (status, body) = post(&a.router, "application/json", body.to_string().into_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let o = outcome(body);
    assert_eq!((o.documents, o.stored), (4, 1));
    let indices: Vec<Option<usize>> = o.rejected.iter().map(|r| r.index).collect();
    assert_eq!(indices, vec![Some(0), Some(2), Some(3)]);
    assert!(o.rejected.iter().all(|r| !r.reason.is_empty()));
}

#[tokio::test]
async fn bodies_over_5_mib_are_413_and_other_types_415() {
    let a = app();
    let big = format!("[\"{}\"]", "x".repeat(6 * 1024 * 1024)).into_bytes();
    let (status, body) = post(&a.router, "application/json", big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["error"]["code"], "payload_too_large");
    let (status, body) = post(&a.router, "text/plain", b"{}".to_vec()).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
    // Just under the limit is read.
    let near = format!("[\"{}\"]", "x".repeat(5 * 1024 * 1024 - 100)).into_bytes();
    let (status, _) = post(&a.router, "application/json", near).await;
    assert_eq!(status, StatusCode::OK);
}

/// A compact copy of a real ASFF control finding: the fields ASFF requires, with
/// the long texts shortened, the severity label alone and one resource, so 10,000
/// of them fit a 5 MiB body (product, generator, account, times, severity and the
/// resource are the real finding's). The smallest such copy in the corpus.
pub fn compact_finding() -> Value {
    let compact = |full: &Value| {
        let mut out = serde_json::Map::new();
        for k in [
            "SchemaVersion",
            "ProductArn",
            "GeneratorId",
            "AwsAccountId",
            "CreatedAt",
            "UpdatedAt",
        ] {
            out.insert(k.into(), full[k].clone());
        }
        out.insert("Id".into(), json!("compact"));
        out.insert(
            "Severity".into(),
            json!({"Label": full["Severity"]["Label"]}),
        );
        out.insert("Types".into(), json!([full["Types"][0]]));
        out.insert("Title".into(), json!("trimmed copy"));
        out.insert("Description".into(), json!("of a real finding"));
        out.insert(
            "Resources".into(),
            json!([{"Type": full["Resources"][0]["Type"], "Id": full["Resources"][0]["Id"]}]),
        );
        Value::Object(out)
    };
    corpus("asff")
        .into_iter()
        .map(|(_, d)| d)
        .filter(|d| d["ProductName"] == "Security Hub" && d["Severity"]["Label"].is_string())
        .map(|d| compact(&d))
        .min_by_key(|d| d.to_string().len())
        .expect("a Security Hub control finding")
}

/// `n` NDJSON lines of distinct findings; every `broken`-th line (1-based) is cut short.
pub fn ndjson_lines(n: usize, broken: usize) -> (String, Vec<usize>) {
    let base = compact_finding();
    let mut bad = Vec::new();
    let lines: Vec<String> = (0..n)
        .map(|i| {
            let mut d = base.clone();
            d["Id"] = json!(format!("{}/line-{i}", base["Id"].as_str().unwrap()));
            let line = d.to_string();
            if broken > 0 && (i + 1) % broken == 0 {
                bad.push(i);
                line[..line.len() / 2].to_string()
            } else {
                line
            }
        })
        .collect();
    (lines.join("\n"), bad)
}

#[tokio::test]
async fn ten_thousand_lines_with_every_seventh_broken_reject_only_those() {
    let a = app();
    let (body, bad) = ndjson_lines(10_000, 7);
    assert!(body.len() < 5 * 1024 * 1024, "{} bytes", body.len());
    let (status, resp) = post(&a.router, "application/x-ndjson", body.into_bytes()).await;
    assert_eq!(status, StatusCode::OK);
    let o = outcome(resp);
    let rejected: Vec<usize> = o.rejected.iter().filter_map(|r| r.index).collect();
    assert_eq!(rejected, bad);
    assert_eq!(o.stored, 10_000 - bad.len());
    assert_eq!(o.failed, 0);
    assert_eq!(stored(a.store.as_ref()).await.len(), 10_000 - bad.len());
}

/// A store whose writes fail as if the database were unreachable.
struct DownStore;

#[async_trait]
impl Store for DownStore {
    async fn upsert_from(&self, _: &[Finding], _: Origin) -> StoreResult<UpsertReport> {
        Err(StoreError::Unavailable(
            "injected: the database is down".into(),
        ))
    }
    async fn get(&self, _: &str) -> StoreResult<Option<FindingDetail>> {
        Ok(None)
    }
    async fn list(&self, _: &FindingFilter, _: u32, _: Option<&str>) -> StoreResult<FindingPage> {
        unimplemented!("not used")
    }
    async fn summary(&self, _: NaiveDate) -> StoreResult<Summary> {
        unimplemented!("not used")
    }
    async fn count(&self, _: &FindingFilter) -> StoreResult<cspm::store::ViewCount> {
        unimplemented!("not used")
    }
    async fn groups(
        &self,
        _: &FindingFilter,
        _: shared_types::GroupBy,
        _: u32,
    ) -> StoreResult<shared_types::FindingGroups> {
        unimplemented!("not used")
    }
    async fn set_workflow_if(
        &self,
        _: &str,
        _: &WorkflowUpdate,
        _: &str,
        _: DateTime<Utc>,
        _: Option<&FindingFilter>,
    ) -> StoreResult<Guarded> {
        Err(StoreError::Unavailable("injected".into()))
    }
    async fn archive_candidates(
        &self,
        _: DateTime<Utc>,
        _: u32,
        _: Option<&str>,
    ) -> StoreResult<ArchivePage> {
        unimplemented!("not used")
    }
    async fn delete_versions(&self, _: &[FindingVersion]) -> StoreResult<DeleteReport> {
        unimplemented!("not used")
    }
    async fn put_compliance_snapshot(
        &self,
        _: NaiveDate,
        _: &[cspm::store::ScoreSnapshot],
    ) -> StoreResult<bool> {
        Err(StoreError::Unavailable("injected".into()))
    }
    async fn compliance_snapshots(
        &self,
        _: NaiveDate,
        _: NaiveDate,
    ) -> StoreResult<Vec<cspm::store::ScoreSnapshot>> {
        Err(StoreError::Unavailable("injected".into()))
    }
    async fn ping(&self) -> StoreResult<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_store_failure_is_a_503_with_nothing_half_reported() {
    let router = router(AppState::new(
        pipeline(Arc::new(DownStore)),
        HttpConfig::default(),
    ));
    let docs = json!([compact_finding()]);
    let (status, body) = post(&router, "application/json", docs.to_string().into_bytes()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"]["code"], "unavailable");
    assert!(body.get("stored").is_none());
    // Under /api too, as CloudFront forwards it.
    let req = Request::post("/api/events")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(docs.to_string()))
        .unwrap();
    assert_eq!(
        router.oneshot(req).await.unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
}
