//! Remediation through the API against the emulator: the plan the API serves
//! is the CLI's; an analyst's approval is queued, applied by the worker,
//! verified, and resolves the finding, with the record in `GET /remediations`;
//! a viewer may read but not approve; a guard's refusal is recorded and
//! changes nothing; an approval queued before a restart is applied after it.

use super::*;
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use cspm::auth::tokens::{NamedToken, SqliteTokens, TokenHash, TokenStore};
use cspm::auth::{Authenticator, Role};
use cspm::http::{router, AppState, HttpConfig};
use cspm::remediate::config::RemediationConfig;
use cspm::remediate::ledger::Ledger;
use cspm::remediate::local::SqliteRemediations;
use cspm::remediate::queue::RemediationQueue;
use cspm::remediate::registry::Registry;
use cspm::remediate::run::Remediator;
use cspm::remediate::service::Remediations;
use cspm::remediate::worker::{Worker, WorkerSettings};
use http_body_util::BodyExt;
use tower::ServiceExt;

pub(super) const ANALYST: &str = "cspm_analyst-secret";
pub(super) const VIEWER: &str = "cspm_viewer-secret";

/// The API over the case's store with remediation as `cspm serve
/// --remediation` runs it (the file's text is `config`), an analyst and a
/// viewer token, and the worker (not started: the test drains it).
async fn server(case: &Case, config: &str) -> (Router, Worker) {
    server_with(case, config, WorkerSettings::default()).await
}

/// [`server`] with a worker paced by `settings`.
pub(super) async fn server_with(
    case: &Case,
    config: &str,
    settings: WorkerSettings,
) -> (Router, Worker) {
    server_over(
        case.dir.path(),
        &case.endpoint,
        &case.store,
        config,
        settings,
    )
    .await
}

/// [`server`] over the store in `dir` and the emulator at `endpoint`, for the
/// action modules whose finding is a [`super::stored::Stored`].
pub(super) async fn server_over(
    dir: &Path,
    endpoint: &str,
    store: &Arc<SqliteStore>,
    config: &str,
    settings: WorkerSettings,
) -> (Router, Worker) {
    let tokens = Arc::new(SqliteTokens::open_dir(dir).unwrap());
    for (name, role, secret) in [
        ("analyst-bot", Role::Analyst, ANALYST),
        ("viewer-bot", Role::Viewer, VIEWER),
    ] {
        let token = NamedToken {
            name: name.into(),
            role,
            created: chrono::Utc::now(),
            expires: None,
            last_used: None,
            revoked: None,
        };
        // A second server over the same files finds them already there.
        let _ = tokens.create(&token, &TokenHash::of(secret)).await;
    }
    let pipeline = pipeline(store.clone());
    let config = RemediationConfig::parse("remediation.yaml", config).unwrap();
    let remediator = Remediator {
        registry: Registry::new(&sdk_config(endpoint).await, &config),
        config,
        pipeline: pipeline.clone(),
        ledger: Arc::new(Ledger::in_dir(dir)),
    };
    let tables = Arc::new(SqliteRemediations::open_dir(dir).unwrap());
    let queue: Arc<dyn RemediationQueue> = tables.clone();
    let service = Arc::new(Remediations::new(
        Arc::new(remediator),
        tables,
        Some(queue.clone()),
    ));
    let worker = Worker::new(service.clone(), queue, settings);
    let state = AppState::new(pipeline, HttpConfig::default())
        .with_auth(Authenticator::new(None).with_tokens(tokens))
        .with_remediation(service);
    (router(state), worker)
}

/// `method uri` with `token`'s bearer and `body` as JSON; the status and the JSON answer.
pub(super) async fn call(
    app: &Router,
    method: Method,
    uri: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"));
    let body = match body {
        Some(b) => {
            req = req.header(header::CONTENT_TYPE, "application/json");
            Body::from(b.to_string())
        }
        None => Body::empty(),
    };
    let resp = app.clone().oneshot(req.body(body).unwrap()).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// The plan without the one text that names who asks (the CLI's approver is
/// the person at the terminal, the API's the caller).
fn without_approver(mut plan: Value) -> Value {
    for g in plan["guards"].as_array_mut().unwrap() {
        if g["name"] == "not-allowlisted" {
            g["reason"] = Value::Null;
        }
    }
    plan
}

#[tokio::test]
async fn an_approval_through_the_api_is_applied_verified_recorded_and_resolves_the_finding() {
    let Some(case) = public_bucket_with_finding("remediate_api_end_to_end").await else {
        return;
    };
    let enabled = "enabled: [s3-block-public-access]\n";
    let (app, worker) = server(&case, enabled).await;
    let id = &case.finding_id;

    let (status, plan) = call(
        &app,
        Method::GET,
        &format!("/findings/{id}/remediation/plan"),
        VIEWER,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    let cli = case.cspm("plan", Some(&case.config("")), &["--json"]);
    assert!(
        cli.status.success(),
        "{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    let cli: Value = serde_json::from_str(&stdout(&cli)).unwrap();
    assert_eq!(
        without_approver(plan.clone()),
        without_approver(cli),
        "the API's plan is the CLI's"
    );
    assert_eq!(
        plan["guards"][1]["reason"], "approved by token:viewer-bot",
        "{plan}"
    );
    let hash = plan["current_state"]["state_hash"]
        .as_str()
        .unwrap()
        .to_string();

    // A viewer reads, but may not approve: nothing is recorded.
    let (status, body) = call(
        &app,
        Method::POST,
        &format!("/findings/{id}/remediation"),
        VIEWER,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (_, none) = call(&app, Method::GET, "/remediations", VIEWER, None).await;
    assert_eq!(none["items"], json!([]));

    let (status, queued) = call(
        &app,
        Method::POST,
        &format!("/api/findings/{id}/remediation"),
        ANALYST,
        Some(json!({"expect_state": hash})),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    assert_eq!(queued["status"], "queued");
    let rid = queued["id"].as_str().unwrap().to_string();
    let (_, record) = call(
        &app,
        Method::GET,
        &format!("/remediations/{rid}"),
        VIEWER,
        None,
    )
    .await;
    assert_eq!(record["status"], "queued", "{record}");
    assert_eq!(record["requested_by"], "token:analyst-bot");
    assert_eq!(record["expect_state"], json!(hash));
    assert_eq!(
        block(&case.s3, &case.bucket).await,
        None,
        "approving changes nothing yet"
    );

    assert_eq!(worker.drain().await.unwrap(), 1);
    assert_eq!(block(&case.s3, &case.bucket).await, Some([true; 4]));
    let (_, record) = call(
        &app,
        Method::GET,
        &format!("/remediations/{rid}"),
        VIEWER,
        None,
    )
    .await;
    assert_eq!(record["status"], "verified", "{record}");
    assert_eq!(record["attempts"], 1);
    assert_eq!(
        record["plan"]["calls"], plan["calls"],
        "what ran is what was shown"
    );
    assert!(
        record.get("undo").is_none(),
        "only detach/delete actions save a policy"
    );

    let (_, detail) = call(&app, Method::GET, &format!("/findings/{id}"), VIEWER, None).await;
    assert_eq!(detail["workflow_status"], "RESOLVED");
    let last = detail["audit"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["actor"], "remediation:s3-block-public-access");
    let note = last["note"].as_str().unwrap();
    assert!(
        note.contains("token:analyst-bot") && note.contains(&case.bucket),
        "{note}"
    );

    let (status, listed) = call(
        &app,
        Method::GET,
        &format!("/remediations?finding={id}&status=verified"),
        VIEWER,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["items"][0]["id"], json!(rid));
    let (_, other) = call(
        &app,
        Method::GET,
        "/remediations?status=failed",
        VIEWER,
        None,
    )
    .await;
    assert_eq!(other["items"], json!([]));

    // Resolved now: approving again is refused by a guard, at once.
    let (status, body) = call(
        &app,
        Method::POST,
        &format!("/findings/{id}/remediation"),
        ANALYST,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "suppressed-or-resolved");
}

#[tokio::test]
async fn a_guard_refusal_is_recorded_as_refused_and_nothing_is_called() {
    let Some(case) = public_bucket_with_finding("remediate_api_refused").await else {
        return;
    };
    // Plan only: the action is not enabled.
    let (app, worker) = server(&case, "enabled: []\n").await;
    let id = &case.finding_id;
    let (status, body) = call(
        &app,
        Method::POST,
        &format!("/findings/{id}/remediation"),
        ANALYST,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["error"]["code"], "not-enabled");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("refused by not-enabled:"));
    let (_, listed) = call(
        &app,
        Method::GET,
        &format!("/remediations?finding={id}"),
        VIEWER,
        None,
    )
    .await;
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{listed}");
    assert_eq!(items[0]["status"], "refused");
    assert_eq!(items[0]["guard"], "not-enabled");
    assert_eq!(items[0]["requested_by"], "token:analyst-bot");
    assert_eq!(worker.drain().await.unwrap(), 0, "nothing queued");
    assert_eq!(
        block(&case.s3, &case.bucket).await,
        None,
        "nothing was changed"
    );
    assert_eq!(case.status().await, WorkflowStatus::New);
    assert!(
        !case.dir.path().join("remediations.jsonl").exists(),
        "no attempt"
    );
}

#[tokio::test]
async fn an_approval_queued_before_a_restart_is_applied_after_it() {
    let Some(case) = public_bucket_with_finding("remediate_api_restart").await else {
        return;
    };
    let enabled = "enabled: [s3-block-public-access]\n";
    let rid = {
        // The first server takes the approval and stops before its worker runs.
        let (app, _worker) = server(&case, enabled).await;
        let (status, queued) = call(
            &app,
            Method::POST,
            &format!("/findings/{}/remediation", case.finding_id),
            ANALYST,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
        queued["id"].as_str().unwrap().to_string()
    };
    assert_eq!(block(&case.s3, &case.bucket).await, None);
    let (app, worker) = server(&case, enabled).await;
    assert_eq!(worker.drain().await.unwrap(), 1);
    assert_eq!(block(&case.s3, &case.bucket).await, Some([true; 4]));
    let (_, record) = call(
        &app,
        Method::GET,
        &format!("/remediations/{rid}"),
        VIEWER,
        None,
    )
    .await;
    assert_eq!(record["status"], "verified", "{record}");
    assert_eq!(case.status().await, WorkflowStatus::Resolved);
}
