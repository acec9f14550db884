//! `POST /events` on hostile bodies through a real listening server: a gzip bomb
//! is a 413, and a 10,000-deep document is rejected in the answer's report (the
//! request itself is fine: 200, like any batch with a rejected document), each with
//! its reason, while other requests (`GET /health`) keep being answered.

use super::{gzip_bomb, nested_json, MIB};
use crate::events::app;
use cspm::documents::limits::MAX_DEPTH;
use cspm::http::MAX_EVENTS_DECODED_BYTES;
use serde_json::Value;

/// Serves the router of a fresh app on a loopback port; returns its base URL.
async fn serve() -> (String, crate::events::App) {
    let app = app();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = app.router.clone();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (base, app)
}

/// Posts `body` while `/health` is asked again and again; returns the answer to
/// the post and how many health checks were answered 200 meanwhile.
async fn post_while_checking_health(
    base: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> (u16, Value, usize) {
    let client = reqwest::Client::new();
    let mut req = client.post(format!("{base}/events")).body(body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let hostile = tokio::spawn(req.send());
    let mut healthy = 0;
    loop {
        let health = client.get(format!("{base}/health")).send().await.unwrap();
        assert_eq!(health.status(), 200, "the server stopped answering");
        healthy += 1;
        if hostile.is_finished() {
            break;
        }
    }
    let resp = hostile.await.unwrap().unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap(), healthy)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gzip_bomb_is_refused_with_413_while_health_keeps_answering() {
    let (base, _app) = serve().await;
    // 1 GiB of whitespace in about 1 MiB: under the 5 MiB body limit, far over
    // the expansion bound.
    let bomb = gzip_bomb(1024 * MIB);
    for headers in [
        &[
            ("content-type", "application/json"),
            ("content-encoding", "gzip"),
        ][..],
        // Detected by its magic bytes too, as `cspm ingest` does.
        &[("content-type", "application/json")][..],
    ] {
        let (status, body, healthy) =
            post_while_checking_health(&base, headers, bomb.clone()).await;
        assert_eq!(status, 413, "{body}");
        assert_eq!(body["error"]["code"], "decoded_body_too_large");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(&MAX_EVENTS_DECODED_BYTES.to_string()),
            "{message}"
        );
        assert!(healthy >= 1);
    }
    // Real gzip bodies are still read.
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut enc, br#"{"not":"a finding"}"#).unwrap();
    let (status, body, _) = post_while_checking_health(
        &base,
        &[("content-type", "application/json")],
        enc.finish().unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["documents"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_10000_deep_document_is_rejected_with_its_reason_while_health_keeps_answering() {
    let (base, app) = serve().await;
    let (status, body, healthy) = post_while_checking_health(
        &base,
        &[("content-type", "application/json")],
        nested_json(10_000).into_bytes(),
    )
    .await;
    // A JSON body is one document: it is rejected by itself, with its reason.
    assert_eq!(status, 200, "{body}");
    let reason = body["rejected"][0]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains(&format!("nested deeper than {MAX_DEPTH} levels")),
        "{body}"
    );
    assert_eq!(body["stored"], 0, "{body}");
    assert!(healthy >= 1);
    // As JSON Lines, the deep line is rejected by itself and the next is read.
    let lines = format!("{}\n{{\"not\":\"a finding\"}}\n", nested_json(10_000));
    let (status, body, _) = post_while_checking_health(
        &base,
        &[("content-type", "application/x-ndjson")],
        lines.into_bytes(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["rejected"][0]["index"], 0);
    let reason = body["rejected"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("nested deeper than"), "{reason}");
    assert!(body["rejected"].as_array().unwrap().len() == 2, "{body}");
    let today = chrono::Utc::now().date_naive();
    assert_eq!(app.store.summary(today).await.unwrap().total, 0);
}
