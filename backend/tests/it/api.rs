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
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_dir(dir.path()).unwrap();
    let fixtures = findings(300, 11);
    store.upsert(&fixtures).await.unwrap();
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

#[tokio::test]
async fn findings_filtered_by_critical_return_only_critical_newest_first() {
    let t = app().await;
    let (status, body) = get(&t.app, "/findings?severity=CRITICAL&limit=1000").await;
    assert_eq!(status, StatusCode::OK);
    let page: FindingPage = serde_json::from_value(body).unwrap();
    let expected = t
        .fixtures
        .iter()
        .filter(|f| f.severity == Severity::Critical)
        .count();
    assert!(expected > 0);
    assert_eq!(page.items.len(), expected);
    assert!(page.items.iter().all(|i| i.severity == Severity::Critical));
    assert!(page
        .items
        .windows(2)
        .all(|w| w[0].updated_at >= w[1].updated_at));
    assert!(page.next_cursor.is_none());
    let item = serde_json::to_value(&page.items[0]).unwrap();
    for key in [
        "id",
        "asff_id",
        "severity",
        "title",
        "workflow_status",
        "account_id",
        "region",
        "resource_type",
        "resource_id",
        "product_name",
        "created_at",
        "updated_at",
    ] {
        assert!(item.get(key).is_some(), "list item lacks {key}");
    }
}

#[tokio::test]
async fn paging_with_the_cursor_walks_every_finding() {
    let t = app().await;
    let mut uri = "/findings?limit=64".to_string();
    let mut seen = std::collections::HashSet::new();
    loop {
        let (status, body) = get(&t.app, &uri).await;
        assert_eq!(status, StatusCode::OK);
        let page: FindingPage = serde_json::from_value(body).unwrap();
        for i in page.items {
            assert!(seen.insert(i.id));
        }
        match page.next_cursor {
            Some(c) => uri = format!("/findings?limit=64&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), t.fixtures.len());
}

#[tokio::test]
async fn bad_query_parameters_get_400_naming_the_field() {
    let t = app().await;
    let cases = [
        ("/findings?limit=0", "limit"),
        ("/findings?limit=1001", "limit"),
        ("/findings?limit=ten", "limit"),
        ("/findings?severity=SEVERE", "severity"),
        ("/findings?status=DONE", "status"),
        ("/findings?since=yesterday", "since"),
        ("/findings?since=2024-02-01&until=2024-01-01", "since"),
        ("/findings?cursor=not-a-cursor", "cursor"),
        ("/findings?colour=red", "colour"),
    ];
    for (uri, field) in cases {
        let (status, body) = get(&t.app, uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        assert!(body["error"]["code"].is_string(), "{uri}: {body}");
        assert_eq!(body["error"]["field"], field, "{uri}");
    }
}

#[tokio::test]
async fn no_bad_input_causes_a_server_error() {
    let t = app().await;
    let nasty = [
        "/findings?q=%00%01",
        "/findings?q=%27%3B%20DROP%20TABLE%20findings%3B--",
        "/findings?q=%25%25%25",
        "/findings?limit=99999999999999999999",
        "/findings?cursor=%FF%FE",
        "/findings?severity=,,,",
        "/findings?%zz",
        "/findings/..%2F..%2Fetc%2Fpasswd",
        "/findings/%00",
        "/findings/AAAAAAAAAAAAAAAAAAAAAA",
        &format!("/findings?q={}", "a".repeat(5000)),
        "/findings/a/b",
    ];
    for uri in nasty {
        let (status, body) = get(&t.app, uri).await;
        // Odd but valid text (quotes, LIKE wildcards) is just a search: 200, no rows.
        if status == StatusCode::OK {
            assert!(body["items"].is_array(), "{uri}: {body}");
            continue;
        }
        assert!(status.is_client_error(), "{uri} gave {status}");
        assert!(body["error"]["code"].is_string(), "{uri}: {body}");
    }
    let (_, body) = get(&t.app, "/findings?q=%27%3B%20DROP%20TABLE%20findings%3B--").await;
    assert_eq!(body["items"].as_array().map(Vec::len), Some(0));
    assert_eq!(
        get(&t.app, "/summary").await.1["total"],
        t.fixtures.len(),
        "table intact"
    );
}

#[tokio::test]
async fn one_finding_has_raw_document_and_remediation_and_unknown_is_404() {
    let t = app().await;
    let f = &t.fixtures[3];
    let (status, body) = get(&t.app, &format!("/findings/{}", f.id)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["id"], f.id.as_str());
    assert_eq!(body["asff_id"], f.asff_id.as_str());
    assert_eq!(body["raw"]["Id"], f.asff_id.as_str());
    assert!(body["remediation_text"].is_string());
    assert!(body["audit"].as_array().is_some_and(|a| a.is_empty()));
    let (status, body) = get(&t.app, "/findings/AAAAAAAAAAAAAAAAAAAAAA").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&body, "not_found", None);
}

#[tokio::test]
async fn patch_changes_status_with_an_audit_record() {
    let t = app().await;
    let f = &t.fixtures[5];
    let req = Request::patch(format!("/findings/{}", f.id))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"workflow_status": "RESOLVED", "note": "bucket made private"}).to_string(),
        ))
        .unwrap();
    let (status, _, body) = send(&t.app, req).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["workflow_status"], "RESOLVED");
    let (_, body) = get(&t.app, &format!("/findings/{}", f.id)).await;
    assert_eq!(body["workflow_status"], "RESOLVED");
    assert_eq!(body["audit"][0]["to_status"], "RESOLVED");
    assert_eq!(body["audit"][0]["note"], "bucket made private");
    assert_eq!(body["audit"][0]["actor"], "local");
}

#[tokio::test]
async fn bad_bodies_and_methods_get_4xx_with_the_error_body() {
    let t = app().await;
    let id = &t.fixtures[0].id;
    let patch = |ct: &str, body: Vec<u8>| {
        Request::patch(format!("/findings/{id}"))
            .header(header::CONTENT_TYPE, ct)
            .body(Body::from(body))
            .unwrap()
    };
    let cases = [
        (
            patch("application/json", b"{not json".to_vec()),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            patch(
                "application/json",
                br#"{"workflow_status":"DONE"}"#.to_vec(),
            ),
            StatusCode::BAD_REQUEST,
            "invalid_body",
        ),
        (
            patch(
                "application/json",
                json!({"workflow_status":"NEW","note":"x".repeat(2001)})
                    .to_string()
                    .into_bytes(),
            ),
            StatusCode::BAD_REQUEST,
            "invalid_parameter",
        ),
        (
            patch("text/plain", br#"{"workflow_status":"NEW"}"#.to_vec()),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
        (
            patch("application/json", vec![b' '; 200 * 1024]),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        ),
        (
            Request::delete("/findings").body(Body::empty()).unwrap(),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            Request::post("/summary").body(Body::empty()).unwrap(),
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
        ),
        (
            Request::get("/nope").body(Body::empty()).unwrap(),
            StatusCode::NOT_FOUND,
            "not_found",
        ),
    ];
    for (req, want, code) in cases {
        let label = format!("{} {}", req.method(), req.uri());
        let (status, _, body) = send(&t.app, req).await;
        assert_eq!(status, want, "{label}: {body}");
        assert_eq!(body["error"]["code"], code, "{label}");
    }
}

#[tokio::test]
async fn summary_health_and_openapi_answer() {
    let t = app().await;
    let (status, s) = get(&t.app, "/summary").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(s["total"], t.fixtures.len());
    let crit = t
        .fixtures
        .iter()
        .filter(|f| f.severity == Severity::Critical)
        .count();
    assert_eq!(s["by_severity"]["CRITICAL"], crit);
    assert_eq!(s["trend"].as_array().unwrap().len(), 30);
    let (status, h) = get(&t.app, "/health").await;
    assert_eq!((status, h["status"].as_str()), (StatusCode::OK, Some("ok")));
    let (status, doc) = get(&t.app, "/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    for p in ["/findings", "/findings/{id}", "/summary", "/health"] {
        assert!(doc["paths"].get(p).is_some(), "openapi lacks {p}");
    }
    assert!(doc["paths"]["/findings/{id}"].get("patch").is_some());
    let (status, _) = get(&t.app, "/api/summary").await;
    assert_eq!(status, StatusCode::OK, "API is also mounted under /api");
}

#[tokio::test]
async fn every_response_carries_security_headers() {
    let t = app().await;
    for uri in ["/findings", "/health", "/nope", "/findings?limit=0"] {
        let (_, headers, _) = send(&t.app, Request::get(uri).body(Body::empty()).unwrap()).await;
        for h in [
            "content-security-policy",
            "strict-transport-security",
            "x-content-type-options",
            "x-frame-options",
            "referrer-policy",
        ] {
            assert!(headers.contains_key(h), "{uri} lacks {h}");
        }
        assert_eq!(headers["x-frame-options"], "DENY");
    }
}

#[tokio::test]
async fn a_configured_token_guards_every_route_but_health() {
    let token = "s3cr3t-t0ken-0123456789";
    let t = app_with(HttpConfig {
        api_token: Some(token.into()),
        ..Default::default()
    })
    .await;
    for uri in [
        "/findings",
        "/summary",
        "/openapi.json",
        &format!("/findings/{}", t.fixtures[0].id),
    ] {
        let (status, body) = get(&t.app, uri).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri}");
        assert_error(&body, "unauthorized", None);
        let wrong = Request::get(uri)
            .header(header::AUTHORIZATION, "Bearer nope")
            .body(Body::empty())
            .unwrap();
        assert_eq!(send(&t.app, wrong).await.0, StatusCode::UNAUTHORIZED);
        let right = Request::get(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        assert_eq!(send(&t.app, right).await.0, StatusCode::OK, "{uri}");
    }
    // Writing takes the token too, at both mounts (CloudFront forwards `/api`). Each
    // mount gets its own finding: it must come out new, so the refused attempts
    // before it stored nothing.
    for uri in ["/events", "/api/events"] {
        let mut doc = crate::events::compact_finding();
        doc["Id"] = json!(format!("token-guard{uri}"));
        let post = |auth: Option<String>| {
            let mut req = Request::post(uri).header(header::CONTENT_TYPE, "application/json");
            if let Some(a) = auth {
                req = req.header(header::AUTHORIZATION, a);
            }
            req.body(Body::from(doc.to_string())).unwrap()
        };
        let (status, _, body) = send(&t.app, post(None)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{uri}");
        assert_error(&body, "unauthorized", None);
        let wrong = post(Some("Bearer nope".into()));
        assert_eq!(
            send(&t.app, wrong).await.0,
            StatusCode::UNAUTHORIZED,
            "{uri}"
        );
        let (status, _, body) = send(&t.app, post(Some(format!("Bearer {token}")))).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {body}");
        assert_eq!(body["stored"], 1, "{uri}: {body}");
    }
    assert_eq!(get(&t.app, "/health").await.0, StatusCode::OK);
}

#[tokio::test]
async fn cors_answers_only_configured_origins() {
    let t = app_with(HttpConfig {
        cors_origins: vec!["https://dash.example.com".into()],
        ..Default::default()
    })
    .await;
    let req = |origin: &str| {
        Request::builder()
            .method(Method::OPTIONS)
            .uri("/findings")
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
            .body(Body::empty())
            .unwrap()
    };
    let (_, h, _) = send(&t.app, req("https://dash.example.com")).await;
    assert_eq!(h["access-control-allow-origin"], "https://dash.example.com");
    let (_, h, _) = send(&t.app, req("https://evil.example.net")).await;
    assert!(!h.contains_key("access-control-allow-origin"));
    let plain = app().await;
    let (_, h, _) = send(&plain.app, req("https://dash.example.com")).await;
    assert!(
        !h.contains_key("access-control-allow-origin"),
        "no CORS unless configured"
    );
}

#[tokio::test]
async fn dashboard_files_and_app_routes_are_served_beside_the_api() {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(
        dist.path().join("index.html"),
        "<!doctype html><title>cspm</title>",
    )
    .unwrap();
    std::fs::write(dist.path().join("app.js"), "export {}").unwrap();
    let t = app_with(HttpConfig {
        dashboard_dir: Some(dist.path().to_path_buf()),
        ..Default::default()
    })
    .await;
    let body_of = |resp: axum::response::Response| async move {
        String::from_utf8(
            resp.into_body()
                .collect()
                .await
                .unwrap()
                .to_bytes()
                .to_vec(),
        )
        .unwrap()
    };
    for uri in ["/", "/overview", "/ui/findings/abc"] {
        let resp = t
            .app
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{uri}");
        assert!(body_of(resp).await.contains("<title>cspm</title>"), "{uri}");
    }
    let js = t
        .app
        .clone()
        .oneshot(Request::get("/app.js").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(body_of(js).await, "export {}");
    // A browser reloading a bookmarked list view gets the page; API clients get JSON.
    let nav = Request::get("/findings?severity=CRITICAL")
        .header(header::ACCEPT, "text/html,application/xhtml+xml")
        .body(Body::empty())
        .unwrap();
    let resp = t.app.clone().oneshot(nav).await.unwrap();
    assert!(body_of(resp).await.contains("<title>cspm</title>"));
    let (status, body) = get(&t.app, "/findings?severity=CRITICAL").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["items"].is_array());
}
