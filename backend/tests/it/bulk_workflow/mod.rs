//! `POST /findings/workflow` through the router on a SQLite file: the fixture,
//! a store that fails half-way, and counts read from the database file with our
//! own SQL (never through the code under test).

use crate::helpers::findings;
use async_trait::async_trait;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use chrono::{DateTime, NaiveDate, Utc};
use cspm::auth::tokens::{NamedToken, SqliteTokens, TokenHash, TokenStore};
use cspm::auth::{Authenticator, Role};
use cspm::http::{router, AppState, HttpConfig};
use cspm::store::guard::Guarded;
use cspm::store::{
    ArchivePage, DeleteReport, FindingVersion, SqliteStore, Store, StoreError, StoreResult,
    UpsertReport,
};
use http_body_util::BodyExt;
use serde_json::Value;
use shared_types::{
    Finding, FindingDetail, FindingFilter, FindingPage, Summary, WorkflowStatus, WorkflowUpdate,
};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use tower::ServiceExt;

/// Changing findings named by a filter: 10,000 at once, a stale count, a store failing half-way.
mod by_filter;
/// Findings named by id, bad bodies, and who may call the route.
mod by_id;
/// The same route over the DynamoDB store in the emulator.
mod dynamo;
/// Two changes of overlapping views at once.
mod overlap;

/// The account the selected fixtures are moved to (the others keep theirs).
pub const ACCOUNT: &str = "999900001111";
/// The admin token of the fixture.
const ADMIN: &str = "bulk-admin-token-0123456789";

/// A router over a SQLite file holding `fixtures`, the store behind a [`Flaky`]
/// switch, with named tokens for each role.
pub struct Fixture {
    pub app: Router,
    pub flaky: Arc<Flaky>,
    pub db: PathBuf,
    pub fixtures: Vec<Finding>,
    _dir: tempfile::TempDir,
}

/// `n` demo findings, all `NEW`, the first `selected` of them in [`ACCOUNT`].
pub async fn fixture(n: usize, selected: usize) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_dir(dir.path()).unwrap();
    let mut fixtures = findings(n, 23);
    for (i, f) in fixtures.iter_mut().enumerate() {
        f.workflow_status = WorkflowStatus::New;
        if i < selected {
            f.account_id = ACCOUNT.into();
        } else {
            assert_ne!(f.account_id, ACCOUNT);
        }
    }
    for chunk in fixtures.chunks(2000) {
        let r = store.upsert(chunk).await.unwrap();
        assert!(r.failed.is_empty());
    }
    let db = store.path().to_path_buf();
    let flaky = Arc::new(Flaky::new(Arc::new(store)));
    let tokens = Arc::new(SqliteTokens::open_dir(dir.path()).unwrap());
    for role in cspm::auth::ROLES {
        let t = NamedToken {
            name: format!("{role}-bot"),
            role,
            created: "2026-01-01T00:00:00Z".parse().unwrap(),
            expires: None,
            last_used: None,
            revoked: None,
        };
        tokens
            .create(&t, &TokenHash::of(&token_of(role)))
            .await
            .unwrap();
    }
    let pipeline = crate::helpers::pipeline(flaky.clone() as Arc<dyn Store>);
    let config = HttpConfig {
        api_token: Some(ADMIN.into()),
        ..Default::default()
    };
    let auth = Authenticator::new(Some(ADMIN)).with_tokens(tokens);
    let app = router(AppState::new(pipeline, config).with_auth(auth));
    Fixture {
        app,
        flaky,
        db,
        fixtures,
        _dir: dir,
    }
}

/// The bearer secret of the fixture's token for `role`.
pub fn token_of(role: Role) -> String {
    format!("cspm_{role}-bulk-secret")
}

impl Fixture {
    /// `POST /findings/workflow` with `body` as an analyst.
    pub async fn post(&self, body: &Value) -> (StatusCode, Value) {
        self.post_as(Some(&token_of(Role::Analyst)), body.to_string())
            .await
    }

    /// `POST /findings/workflow` with a raw body and an optional bearer token.
    pub async fn post_as(&self, bearer: Option<&str>, body: String) -> (StatusCode, Value) {
        let mut req =
            Request::post("/findings/workflow").header(header::CONTENT_TYPE, "application/json");
        if let Some(b) = bearer {
            req = req.header(header::AUTHORIZATION, format!("Bearer {b}"));
        }
        let resp = self
            .app
            .clone()
            .oneshot(req.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = resp.status();
        let bytes = resp.into_body().collect().await.unwrap().to_bytes();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// Ids of the fixtures in [`ACCOUNT`].
    pub fn selected(&self) -> Vec<String> {
        self.fixtures
            .iter()
            .filter(|f| f.account_id == ACCOUNT)
            .map(|f| f.id.clone())
            .collect()
    }

    /// A read-only connection to the store's file, for counting with our own SQL.
    fn sql(&self) -> rusqlite::Connection {
        rusqlite::Connection::open_with_flags(&self.db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap()
    }

    /// One number from `query`.
    pub fn count(&self, query: &str) -> u64 {
        self.sql()
            .query_row(query, [], |r| r.get::<_, i64>(0))
            .unwrap() as u64
    }

    /// Audit entries in the store (every finding).
    pub fn audit_entries(&self) -> u64 {
        self.count("SELECT COUNT(*) FROM audit")
    }

    /// Workflow change records in the change feed.
    pub fn workflow_changes(&self) -> u64 {
        self.count("SELECT COUNT(*) FROM changes WHERE kind = 'workflow_changed'")
    }

    /// Stored status of each finding, by id.
    pub fn statuses(&self) -> std::collections::HashMap<String, String> {
        let c = self.sql();
        let mut st = c
            .prepare("SELECT id, workflow_status FROM findings")
            .unwrap();
        st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }
}

/// Wraps a store; once [`Flaky::fail_from`] is set, the `set_workflow` calls from
/// that number on fail as an unreachable database would, until [`Flaky::heal`].
/// [`Flaky::interfere_at`] makes someone else's change land in the middle of a run.
pub struct Flaky {
    inner: Arc<dyn Store>,
    calls: AtomicUsize,
    fail_from: AtomicUsize,
    down: AtomicBool,
    interference: std::sync::Mutex<Option<Interference>>,
}

/// Another person's change, made through the wrapped store just before the
/// `at`th call (1-based) of a run.
struct Interference {
    at: usize,
    ids: Vec<String>,
    status: WorkflowStatus,
}

impl Flaky {
    fn new(inner: Arc<dyn Store>) -> Self {
        Flaky {
            inner,
            calls: AtomicUsize::new(0),
            fail_from: AtomicUsize::new(usize::MAX),
            down: AtomicBool::new(false),
            interference: std::sync::Mutex::new(None),
        }
    }

    /// Just before the `at`th workflow call counted from now, "someone-else"
    /// sets `status` on `ids` (straight on the wrapped store).
    pub fn interfere_at(&self, at: usize, ids: Vec<String>, status: WorkflowStatus) {
        self.calls.store(0, Ordering::SeqCst);
        *self.interference.lock().unwrap() = Some(Interference { at, ids, status });
    }

    /// From the `n`th `set_workflow` call counted from now (1-based), every call fails.
    pub fn fail_from(&self, n: usize) {
        self.calls.store(0, Ordering::SeqCst);
        self.fail_from.store(n, Ordering::SeqCst);
        self.down.store(true, Ordering::SeqCst);
    }

    /// The store works again.
    pub fn heal(&self) {
        self.down.store(false, Ordering::SeqCst);
    }
}

#[async_trait]
impl Store for Flaky {
    async fn upsert_from(
        &self,
        findings: &[Finding],
        origin: cspm::store::Origin,
    ) -> StoreResult<UpsertReport> {
        self.inner.upsert_from(findings, origin).await
    }
    async fn get(&self, id: &str) -> StoreResult<Option<FindingDetail>> {
        self.inner.get(id).await
    }
    async fn list(
        &self,
        filter: &FindingFilter,
        limit: u32,
        cursor: Option<&str>,
    ) -> StoreResult<FindingPage> {
        self.inner.list(filter, limit, cursor).await
    }
    async fn summary(&self, today: NaiveDate) -> StoreResult<Summary> {
        self.inner.summary(today).await
    }
    async fn count(&self, filter: &FindingFilter) -> StoreResult<cspm::store::ViewCount> {
        self.inner.count(filter).await
    }
    async fn groups(
        &self,
        filter: &FindingFilter,
        by: shared_types::GroupBy,
        limit: u32,
    ) -> StoreResult<shared_types::FindingGroups> {
        self.inner.groups(filter, by, limit).await
    }
    async fn set_workflow_if(
        &self,
        id: &str,
        u: &WorkflowUpdate,
        actor: &str,
        at: DateTime<Utc>,
        guard: Option<&FindingFilter>,
    ) -> StoreResult<Guarded> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let due = {
            let mut slot = self.interference.lock().unwrap();
            match slot.as_ref() {
                Some(i) if i.at == n => slot.take(),
                _ => None,
            }
        };
        if let Some(i) = due {
            let update = WorkflowUpdate {
                workflow_status: i.status,
                note: None,
            };
            for id in &i.ids {
                self.inner
                    .set_workflow(id, &update, "someone-else", at)
                    .await
                    .unwrap()
                    .unwrap();
            }
        }
        if self.down.load(Ordering::SeqCst) && n >= self.fail_from.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable(
                "injected: the database is down".into(),
            ));
        }
        self.inner.set_workflow_if(id, u, actor, at, guard).await
    }
    async fn archive_candidates(
        &self,
        cutoff: DateTime<Utc>,
        limit: u32,
        cursor: Option<&str>,
    ) -> StoreResult<ArchivePage> {
        self.inner.archive_candidates(cutoff, limit, cursor).await
    }
    async fn delete_versions(&self, versions: &[FindingVersion]) -> StoreResult<DeleteReport> {
        self.inner.delete_versions(versions).await
    }
    async fn put_compliance_snapshot(
        &self,
        day: NaiveDate,
        scores: &[cspm::store::ScoreSnapshot],
    ) -> StoreResult<bool> {
        self.inner.put_compliance_snapshot(day, scores).await
    }
    async fn compliance_snapshots(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<cspm::store::ScoreSnapshot>> {
        self.inner.compliance_snapshots(from, to).await
    }
    async fn ping(&self) -> StoreResult<()> {
        self.inner.ping().await
    }
}

/// The answer's counts: `(changed, unchanged, failed)`.
pub fn counts(body: &Value) -> (u64, u64, usize) {
    (
        body["changed"].as_u64().expect("changed"),
        body["unchanged"].as_u64().expect("unchanged"),
        body["failed"].as_array().expect("failed").len(),
    )
}
