//! The role matrix: every declared route × every kind of caller (a named token of
//! each role, the `--api-token`, no credentials, an unknown token, a revoked and
//! an expired token) → the status the route's declared role gives, at both mounts;
//! the declarations pinned to the product's policy and checked against the
//! OpenAPI document's `x-required-role`. Who acted is in [`identity`].

use crate::helpers::findings;
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use cspm::auth::tokens::{NamedToken, SqliteTokens, TokenHash, TokenStore};
use cspm::auth::{Authenticator, Role};
use cspm::http::routes::{table, Access};
use cspm::http::{router, AppState, HttpConfig};
use cspm::live::tickets::MemoryTickets;
use cspm::store::{SqliteStore, Store};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;

const API_TOKEN: &str = "matrix-api-token-0123456789";

/// The policy of issue 18, written out by hand: the declarations must say this.
fn policy() -> Vec<(Method, &'static str, Access)> {
    use Access::{Public, Ticket};
    use Role::*;
    vec![
        (Method::GET, "/findings", Access::Role(Viewer)),
        (Method::GET, "/findings/export", Access::Role(Viewer)),
        (Method::GET, "/findings/groups", Access::Role(Viewer)),
        (Method::POST, "/findings/workflow", Access::Role(Analyst)),
        (Method::GET, "/findings/{id}", Access::Role(Viewer)),
        (Method::PATCH, "/findings/{id}", Access::Role(Analyst)),
        (
            Method::GET,
            "/findings/{id}/remediation/plan",
            Access::Role(Viewer),
        ),
        (
            Method::POST,
            "/findings/{id}/remediation",
            Access::Role(Analyst),
        ),
        (Method::GET, "/remediations", Access::Role(Viewer)),
        (Method::GET, "/remediations/{rid}", Access::Role(Viewer)),
        (Method::POST, "/exports", Access::Role(Viewer)),
        (Method::GET, "/exports/{id}", Access::Role(Viewer)),
        (Method::GET, "/exports/{id}/download", Access::Role(Viewer)),
        (Method::GET, "/summary", Access::Role(Viewer)),
        (Method::GET, "/compliance", Access::Role(Viewer)),
        (Method::GET, "/compliance/{slug}", Access::Role(Viewer)),
        (
            Method::GET,
            "/compliance/{slug}/controls/{control_id}/failing",
            Access::Role(Viewer),
        ),
        (Method::POST, "/events", Access::Role(Ingest)),
        (Method::GET, "/openapi.json", Access::Role(Viewer)),
        (Method::POST, "/live/ticket", Access::Role(Viewer)),
        (Method::GET, "/live", Ticket(Viewer)),
        (Method::GET, "/metrics", Access::Role(Admin)),
        (Method::GET, "/health", Public),
        (Method::GET, "/auth/login", Public),
        (Method::GET, "/auth/callback", Public),
        (Method::GET, "/auth/session", Public),
        (Method::POST, "/auth/logout", Public),
    ]
}

/// A kind of caller: what it sends, and the role it should be treated as (`None`:
/// not authenticated).
struct Caller {
    label: &'static str,
    bearer: Option<String>,
    role: Option<Role>,
}

struct Matrix {
    app: Router,
    id: String,
    callers: Vec<Caller>,
    tokens: Arc<SqliteTokens>,
    _dir: tempfile::TempDir,
}

fn token(name: &str, role: Role, expires: Option<&str>) -> NamedToken {
    NamedToken {
        name: name.into(),
        role,
        created: "2026-01-01T00:00:00Z".parse().unwrap(),
        expires: expires.map(|e| e.parse().unwrap()),
        last_used: None,
        revoked: None,
    }
}

async fn matrix() -> Matrix {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_dir(dir.path()).unwrap();
    let fixtures = findings(20, 7);
    store.upsert(&fixtures).await.unwrap();
    store
        .upsert(&[crate::helpers::control_finding()])
        .await
        .unwrap();
    let pipeline = crate::helpers::pipeline(Arc::new(store) as Arc<dyn Store>)
        .with_metrics(cspm::metrics::Registry::new(), "api");
    let tokens = Arc::new(SqliteTokens::open_dir(dir.path()).unwrap());
    let mut callers = vec![
        Caller {
            label: "no credentials",
            bearer: None,
            role: None,
        },
        Caller {
            label: "unknown token",
            bearer: Some("cspm_not-a-token".into()),
            role: None,
        },
        Caller {
            label: "api token",
            bearer: Some(API_TOKEN.into()),
            role: Some(Role::Admin),
        },
    ];
    for role in cspm::auth::ROLES {
        let secret = format!("cspm_{role}-secret");
        tokens
            .create(
                &token(&format!("{role}-bot"), role, None),
                &TokenHash::of(&secret),
            )
            .await
            .unwrap();
        callers.push(Caller {
            label: role.as_str(),
            bearer: Some(secret),
            role: Some(role),
        });
    }
    tokens
        .create(
            &token("gone", Role::Admin, None),
            &TokenHash::of("cspm_revoked"),
        )
        .await
        .unwrap();
    tokens.revoke("gone", chrono::Utc::now()).await.unwrap();
    callers.push(Caller {
        label: "revoked admin token",
        bearer: Some("cspm_revoked".into()),
        role: None,
    });
    tokens
        .create(
            &token("old", Role::Admin, Some("2026-01-02T00:00:00Z")),
            &TokenHash::of("cspm_expired"),
        )
        .await
        .unwrap();
    callers.push(Caller {
        label: "expired admin token",
        bearer: Some("cspm_expired".into()),
        role: None,
    });
    let config = HttpConfig {
        api_token: Some(API_TOKEN.into()),
        ..Default::default()
    };
    let auth = Authenticator::new(Some(API_TOKEN)).with_tokens(tokens.clone());
    let exports = exports_in(&pipeline, dir.path());
    let remediation = remediation_off(&pipeline, dir.path());
    let state = AppState::new(pipeline, config)
        .with_auth(auth)
        .with_tickets(Arc::new(MemoryTickets::default()))
        .with_exports(exports)
        .with_remediation(remediation);
    Matrix {
        app: router(state),
        id: fixtures[0].id.clone(),
        callers,
        tokens,
        _dir: dir,
    }
}

/// Export jobs over the pipeline's store, their files in `dir`.
pub(crate) fn exports_in(
    pipeline: &cspm::pipeline::Pipeline,
    dir: &std::path::Path,
) -> cspm::export::jobs::ExportJobs {
    use cspm::export::jobs::{ExportJobs, LocalExportFiles, Runner};
    ExportJobs::new(
        pipeline.store().clone(),
        Arc::new(LocalExportFiles::new(dir)),
        Runner::InProcess,
    )
}

/// Remediation as `cspm serve` has it without `--remediation`: plans (no
/// action available, nothing read from AWS) and records, approvals refused.
pub(crate) fn remediation_off(
    pipeline: &cspm::pipeline::Pipeline,
    dir: &std::path::Path,
) -> Arc<cspm::remediate::service::Remediations> {
    use cspm::remediate::{
        config::RemediationConfig, ledger::Ledger, local::SqliteRemediations, registry::Registry,
        run::Remediator, service::Remediations,
    };
    let remediator = Remediator {
        config: RemediationConfig::default(),
        registry: Registry::from_actions(Vec::new()),
        pipeline: pipeline.clone(),
        ledger: Arc::new(Ledger::in_dir(dir)),
    };
    let tables = Arc::new(SqliteRemediations::open_dir(dir).unwrap());
    Arc::new(Remediations::new(Arc::new(remediator), tables, None))
}

/// What a route answers [`request`] from a caller its role check lets in: 200,
/// or 202 for a started export; a job id is a finding id here, which names no
/// job, so the job routes' handlers answer 404 (their ownership rules are in
/// `export_jobs`), as does a remediation id; approving a remediation answers
/// 409 on a server without `--remediation` (the matrix's).
pub(crate) fn admitted(method: &Method, path: &str) -> StatusCode {
    match (method.as_str(), path.trim_start_matches("/api")) {
        ("POST", "/exports") => StatusCode::ACCEPTED,
        (_, p) if p.starts_with("/exports/") => StatusCode::NOT_FOUND,
        ("POST", "/findings/{id}/remediation") => StatusCode::CONFLICT,
        (_, "/remediations/{rid}") => StatusCode::NOT_FOUND,
        _ => StatusCode::OK,
    }
}

/// A request `route` answers with success for a caller it lets in.
pub(crate) fn request(
    method: &Method,
    path: &str,
    id: &str,
    bearer: Option<&str>,
) -> Request<Body> {
    let mut uri = path
        .replace("{id}", id)
        .replace("{slug}", crate::helpers::CONTROL_SLUG)
        .replace("{rid}", id);
    if uri.ends_with("/findings/groups") {
        uri.push_str("?by=account");
    }
    let body = match (method.as_str(), path.trim_start_matches("/api")) {
        ("PATCH", _) => json!({"workflow_status": "NOTIFIED", "note": "matrix"}).to_string(),
        ("POST", "/events") => crate::events::compact_finding().to_string(),
        ("POST", "/findings/workflow") => {
            json!({"ids": [id], "workflow_status": "NOTIFIED", "note": "matrix"}).to_string()
        }
        ("POST", "/exports") => json!({"format": "csv"}).to_string(),
        _ => String::new(),
    };
    let mut req = Request::builder()
        .method(method.clone())
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(b) = bearer {
        req = req.header(header::AUTHORIZATION, format!("Bearer {b}"));
    }
    let mut req = req.body(Body::from(body)).unwrap();
    // `/metrics` also wants a loopback peer, as `cspm serve` records it.
    let peer: std::net::SocketAddr = "127.0.0.1:40000".parse().unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(peer));
    req
}

pub(crate) async fn send(app: &Router, req: Request<Body>) -> (StatusCode, Value) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[test]
fn the_declared_roles_are_the_products_policy() {
    let declared: Vec<_> = table()
        .into_iter()
        .map(|r| (r.method, r.path, r.access))
        .collect();
    assert_eq!(declared, policy());
}

#[tokio::test]
async fn every_route_answers_every_caller_as_its_declared_role_says() {
    let m = matrix().await;
    let mut checked = 0;
    for route in table() {
        // `/live` needs a WebSocket upgrade; its ticket is the `/live/ticket` row,
        // and the live tests open sockets with tickets.
        let Access::Role(required) = route.access else {
            // Sign-in routes are how a browser gets credentials; what they answer
            // depends on the sign-in state, checked in `auth_session`.
            if route.access == Access::Public && !route.path.starts_with("/auth/") {
                for c in &m.callers {
                    let req = request(&route.method, route.path, &m.id, c.bearer.as_deref());
                    assert_eq!(
                        send(&m.app, req).await.0,
                        StatusCode::OK,
                        "{} {} as {}",
                        route.method,
                        route.path,
                        c.label
                    );
                }
            }
            continue;
        };
        for mount in ["", "/api"] {
            let path = format!("{mount}{}", route.path);
            for c in &m.callers {
                let req = request(&route.method, &path, &m.id, c.bearer.as_deref());
                let (status, body) = send(&m.app, req).await;
                let what = format!("{} {path} as {}: {body}", route.method, c.label);
                match c.role {
                    None => {
                        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}");
                        assert_eq!(body["error"]["code"], "unauthorized", "{what}");
                    }
                    Some(role) if role.includes(required) => {
                        assert_eq!(status, admitted(&route.method, &path), "{what}");
                        if status == StatusCode::NOT_FOUND && path.contains("/exports/") {
                            assert_eq!(body["error"]["message"], "no such export", "{what}");
                        }
                        if status == StatusCode::CONFLICT {
                            assert_eq!(body["error"]["code"], "remediation_off", "{what}");
                        }
                    }
                    Some(_) => {
                        assert_eq!(status, StatusCode::FORBIDDEN, "{what}");
                        assert_eq!(body["error"]["code"], "forbidden", "{what}");
                        assert!(body["error"]["message"]
                            .as_str()
                            .unwrap()
                            .contains(required.as_str()));
                    }
                }
                checked += 1;
            }
        }
    }
    // 21 protected routes × 2 mounts × 9 callers.
    assert_eq!(checked, 21 * 2 * 9);
}

#[tokio::test]
async fn the_openapi_document_carries_each_declared_role() {
    let m = matrix().await;
    let req = request(&Method::GET, "/openapi.json", "", Some(API_TOKEN));
    let (status, doc) = send(&m.app, req).await;
    assert_eq!(status, StatusCode::OK);
    let mut documented = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        let methods = ["get", "put", "post", "delete", "patch"];
        for (method, op) in item
            .as_object()
            .unwrap()
            .iter()
            .filter(|(m, _)| methods.contains(&m.as_str()))
        {
            let route = table()
                .into_iter()
                .find(|r| r.path == path && r.method.as_str().eq_ignore_ascii_case(method))
                .unwrap_or_else(|| panic!("{method} {path} is documented but not declared"));
            let role = route.access.role().map(|r| Value::from(r.as_str()));
            assert_eq!(op.get("x-required-role"), role.as_ref(), "{method} {path}");
            if let Access::Role(_) = route.access {
                assert!(
                    op["responses"].get("403").is_some(),
                    "{method} {path} lacks 403"
                );
            }
            documented += 1;
        }
    }
    assert_eq!(
        documented,
        table().len(),
        "every declared route is documented"
    );
    assert_eq!(doc["paths"]["/health"]["get"]["security"], json!([{}]));
    // The page size the server accepts, 1-1000, is the one documented (a client
    // generated from the document must not send 0).
    let limit = doc["paths"]["/findings"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "limit")
        .expect("limit is documented");
    assert_eq!(limit["schema"]["minimum"], json!(1), "{limit}");
    assert_eq!(limit["schema"]["maximum"], json!(1000), "{limit}");
}

/// Who acted: the audit trail's token name, and loopback without any auth.
mod identity;
