//! The router through `tower::ServiceExt::oneshot` (no port): every endpoint, the
//! error body for bad input, auth, security headers and CORS.

use super::helpers::findings;
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use cspm::http::{router, AppState, HttpConfig};
use cspm::pipeline::Pipeline;
use cspm::sources::Normalizer;
use cspm::store::{SqliteStore, Store};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use shared_types::{Finding, FindingPage, Severity};
use std::sync::Arc;
use tower::ServiceExt;

struct TestApp {
    app: Router,
    fixtures: Vec<Finding>,
    _dir: tempfile::TempDir,
}

async fn app_with(config: HttpConfig) -> TestApp {
    app_of(findings(300, 11), config).await
}

/// The router over a fresh SQLite store holding `fixtures`.
async fn app_of(fixtures: Vec<Finding>, config: HttpConfig) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_dir(dir.path()).unwrap();
    for chunk in fixtures.chunks(2000) {
        assert!(store.upsert(chunk).await.unwrap().failed.is_empty());
    }
    let pipeline = Pipeline::new(
        Arc::new(Normalizer::default()),
        Arc::new(store) as Arc<dyn Store>,
    );
    let app = router(AppState::new(pipeline, config));
    TestApp {
        app,
        fixtures,
        _dir: dir,
    }
}

async fn app() -> TestApp {
    app_with(HttpConfig::default()).await
}

async fn send(app: &Router, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Value) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, headers, body)
}

async fn get(app: &Router, uri: &str) -> (StatusCode, Value) {
    let (s, _, b) = send(app, Request::get(uri).body(Body::empty()).unwrap()).await;
    (s, b)
}

fn assert_error(body: &Value, code: &str, field: Option<&str>) {
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
    match field {
        Some(f) => assert_eq!(body["error"]["field"], f, "{body}"),
        None => assert!(body["error"].get("field").is_some()),
    }
}

/// The served OpenAPI document against the server: references resolve, the
/// errors for bad input are the documented ones.
mod document;
/// What the API refuses: bad bodies and methods, missing tokens, foreign origins; headers on every answer.
mod guards;
/// Reading and changing findings: filters, paging, detail, PATCH, summary.
mod queries;
