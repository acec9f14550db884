//! Export jobs through the one router: the corpus' Security Hub findings and
//! demo findings in a temp SQLite store, named tokens for two viewers, an
//! analyst, an admin and an event shipper, and the job files in the temp data
//! folder; the jobs run in the server (as `cspm serve` runs them) or wait in a
//! recording queue for the test to run them (as the `exporter` Lambda would).

/// Who may see and download a job.
mod access;
/// A job from `POST /exports` to its download, equal to the streamed export.
mod api;
/// The contract every `ExportFiles` store meets: local folder and S3.
mod files_contract;
/// Bad input, the per-principal limit, dead runners and the daily sweep.
mod limits;
/// One runner per job whatever the queue delivers; a heartbeat through a slow write.
mod runs;
/// On AWS: S3 files, the SQS queue and the `exporter` handler, presigned links.
mod worker;

use crate::helpers::{corpus_dir, findings};
use async_trait::async_trait;
use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use cspm::auth::tokens::{NamedToken, SqliteTokens, TokenHash, TokenStore};
use cspm::auth::{Authenticator, Role};
use cspm::export::jobs::{ExportJobs, JobError, JobId, JobQueue, LocalExportFiles, Runner};
use cspm::http::{router, AppState, HttpConfig};
use cspm::store::{SqliteStore, Store};
use http_body_util::BodyExt;
use serde_json::Value;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tower::ServiceExt;

/// Bearer tokens of the fixture's callers.
pub const VIEWER_A: &str = "cspm_viewer-a-secret";
pub const VIEWER_B: &str = "cspm_viewer-b-secret";
pub const ANALYST: &str = "cspm_analyst-secret";
pub const ADMIN: &str = "cspm_admin-secret";
pub const INGEST: &str = "cspm_ingest-secret";

/// A queue that only remembers what it was given, in order: the jobs wait
/// there, running, until the test runs them.
#[derive(Default)]
pub struct RecordingQueue {
    pub sent: Mutex<Vec<JobId>>,
}

#[async_trait]
impl JobQueue for RecordingQueue {
    async fn send(&self, id: &JobId) -> Result<(), JobError> {
        self.sent.lock().unwrap().push(id.clone());
        Ok(())
    }
}

pub struct Fixture {
    pub app: Router,
    pub jobs: ExportJobs,
    pub store: Arc<dyn Store>,
    pub dir: tempfile::TempDir,
}

/// The fixture with jobs run by `runner`.
pub async fn fixture(runner: Runner) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open_dir(dir.path()).unwrap());
    let pipeline = crate::helpers::pipeline(store.clone());
    let paths = [
        corpus_dir().join("asff"),
        corpus_dir().join("asff-envelope"),
    ];
    let report = cspm::ingest::ingest_paths(&pipeline, &paths, &indicatif::ProgressBar::hidden())
        .await
        .unwrap();
    assert!(report.outcome.stored > 40, "{:?}", report.outcome);
    let mut demo = findings(60, 19);
    // Attacker-controlled text a spreadsheet would run: neutralised in both files.
    demo[0].title = "=HYPERLINK(\"http://x\")".into();
    store.upsert(&demo).await.unwrap();

    let tokens = Arc::new(SqliteTokens::open_dir(dir.path()).unwrap());
    for (name, role, secret) in [
        ("viewer-a", Role::Viewer, VIEWER_A),
        ("viewer-b", Role::Viewer, VIEWER_B),
        ("analyst", Role::Analyst, ANALYST),
        ("admin", Role::Admin, ADMIN),
        ("ingest", Role::Ingest, INGEST),
    ] {
        let token = NamedToken {
            name: name.into(),
            role,
            created: "2026-01-01T00:00:00Z".parse().unwrap(),
            expires: None,
            last_used: None,
            revoked: None,
        };
        tokens.create(&token, &TokenHash::of(secret)).await.unwrap();
    }
    let jobs = ExportJobs::new(
        store.clone(),
        Arc::new(LocalExportFiles::new(dir.path())),
        runner,
    );
    let state = AppState::new(pipeline, HttpConfig::default())
        .with_auth(Authenticator::new(None).with_tokens(tokens))
        .with_exports(jobs.clone());
    Fixture {
        app: router(state),
        jobs,
        store,
        dir,
    }
}

/// An answer: status, headers, body.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// `method uri` as `bearer` with a JSON `body` (sent as is when it is a string).
pub async fn call(
    app: &Router,
    method: Method,
    uri: &str,
    bearer: Option<&str>,
    body: Option<&str>,
) -> Answer {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(b) = bearer {
        req = req.header(header::AUTHORIZATION, format!("Bearer {b}"));
    }
    if body.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/json");
    }
    let req = req
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_owned())))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    Answer {
        status: resp.status(),
        headers: resp.headers().clone(),
        body: resp
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    }
}

/// `POST /exports` with `body` as `bearer`.
pub async fn post(app: &Router, bearer: &str, body: &Value) -> Answer {
    call(
        app,
        Method::POST,
        "/exports",
        Some(bearer),
        Some(&body.to_string()),
    )
    .await
}

/// `GET path` as `bearer`.
pub async fn get(app: &Router, path: &str, bearer: &str) -> Answer {
    call(app, Method::GET, path, Some(bearer), None).await
}

/// `GET /exports/{id}` until the job is no longer running (10 s at most).
pub async fn finished(app: &Router, id: &str, bearer: &str) -> Value {
    for _ in 0..500 {
        let a = get(app, &format!("/exports/{id}"), bearer).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.json());
        let job = a.json();
        if job["state"] != "running" {
            return job;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("export {id} still running after 10 s");
}

/// The names in the data folder's `exports/`, sorted (none when it is absent).
pub fn files_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir.join("exports"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}
