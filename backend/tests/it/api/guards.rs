//! What the router refuses and what every answer carries: bad bodies and
//! methods (4xx with the error body), the bearer token, CORS origins, security
//! headers.

use super::*;

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
