//! The webhook sink against a local receiver that speaks HTTP for real: signatures
//! verify, 429 with `Retry-After` is waited for and resent, a 404 parks, redirects
//! are not followed, and the SSRF policy refuses the metadata address, a private
//! address behind a host name, and a redirect to the metadata address — at lint
//! and at send.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use cspm::feed::{DispatchSettings, Dispatcher, RetryPolicy, SinkState};
use cspm::retry::Backoff;
use cspm::sinks::config::lint;
use cspm::sinks::secrets::Secret;
use cspm::sinks::ssrf::{StaticResolver, SystemResolver, Target};
use cspm::sinks::webhook::WebhookSink;
use cspm::sinks::{Filter, Sink, SinkError};
use cspm::store::{SqliteStore, Store};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A scripted answer: status and one extra header.
pub type Answer = (u16, Option<(&'static str, String)>);

/// What the receiver saw and will answer.
#[derive(Default)]
pub struct Receiver {
    /// Requests in order: headers, body, when.
    pub requests: Mutex<Vec<(HeaderMap, Bytes, Instant)>>,
    /// Scripted answers (status, extra header); 200 when empty.
    pub script: Mutex<VecDeque<Answer>>,
}

async fn receive(State(r): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> Response {
    r.requests
        .lock()
        .unwrap()
        .push((headers, body, Instant::now()));
    let next = r.script.lock().unwrap().pop_front();
    match next {
        Some((status, header)) => {
            let mut resp = StatusCode::from_u16(status).unwrap().into_response();
            if let Some((name, value)) = header {
                resp.headers_mut().insert(name, value.parse().unwrap());
            }
            resp
        }
        None => StatusCode::OK.into_response(),
    }
}

/// A receiver on 127.0.0.1; returns its URL.
pub async fn spawn_receiver() -> (Arc<Receiver>, String) {
    let r = Arc::new(Receiver::default());
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(r.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (r, format!("http://{addr}/hook"))
}

fn sink(url: &str, secret: Option<&str>) -> WebhookSink {
    WebhookSink::new(
        "hook",
        Target::parse(url).unwrap(),
        secret.map(Secret::new),
        Filter::default(),
        Duration::from_secs(5),
        Arc::new(SystemResolver),
    )
    .unwrap()
}

fn changes(n: usize) -> Vec<cspm::store::Change> {
    let mut out = Vec::new();
    for i in 0..n {
        let mut c = cspm::cli::sinks::test_change();
        c.key = format!("k{i}:1");
        c.seq = i as u64 + 1;
        out.push(c);
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn deliveries_carry_a_signature_the_receiver_can_verify() {
    let (r, url) = spawn_receiver().await;
    let s = sink(&url, Some("s3cret-value"));
    s.send(&changes(3)).await.unwrap();
    let reqs = r.requests.lock().unwrap();
    assert_eq!(reqs.len(), 1);
    let (h, body, _) = &reqs[0];
    assert_eq!(h["content-type"], "application/json");
    let ts = h["x-cspm-timestamp"].to_str().unwrap();
    let sig = h["x-cspm-signature"].to_str().unwrap();
    // The receiver's side, as the README documents it.
    let mut mac = Hmac::<Sha256>::new_from_slice(b"s3cret-value").unwrap();
    mac.update(format!("{ts}.").as_bytes());
    mac.update(body);
    let want = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    assert_eq!(sig, want);
    let v: serde_json::Value = serde_json::from_slice(body).unwrap();
    assert_eq!(v["changes"].as_array().unwrap().len(), 3);
    assert_eq!(v["changes"][0]["key"], "k0:1");
    let age = chrono::Utc::now().timestamp() - ts.parse::<i64>().unwrap();
    assert!((0..5).contains(&age));
}

#[tokio::test(flavor = "multi_thread")]
async fn batches_split_at_100_changes() {
    let (r, url) = spawn_receiver().await;
    sink(&url, None).send(&changes(250)).await.unwrap();
    let reqs = r.requests.lock().unwrap();
    let sizes: Vec<usize> = reqs
        .iter()
        .map(|(_, b, _)| {
            serde_json::from_slice::<serde_json::Value>(b).unwrap()["changes"]
                .as_array()
                .unwrap()
                .len()
        })
        .collect();
    assert_eq!(sizes, vec![100, 100, 50]);
    assert!(reqs
        .iter()
        .all(|(h, b, _)| !h.contains_key("x-cspm-signature") && b.len() <= 256 * 1024));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_with_retry_after_is_waited_for_and_resent_and_a_404_parks() {
    let (r, url) = spawn_receiver().await;
    r.script
        .lock()
        .unwrap()
        .extend([(429, Some(("retry-after", "2".to_string()))), (500, None)]);
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open_dir(dir.path()).unwrap();
    let state = SinkState::open(store.path()).unwrap();
    let settings = DispatchSettings {
        retry: RetryPolicy {
            backoff: Backoff {
                max_attempts: 5,
                base: Duration::from_millis(50),
                cap: Duration::from_millis(200),
            },
            max_age: Duration::from_secs(60),
        },
        poll: Duration::from_millis(50),
        ..Default::default()
    };
    let hook: Arc<dyn Sink> = Arc::new(sink(&url, Some("k")));
    let running = Dispatcher::new(
        Arc::new(store.clone()),
        state.clone(),
        vec![hook],
        settings.clone(),
    )
    .start()
    .await
    .unwrap();
    store
        .upsert(&crate::helpers::findings(5, 61))
        .await
        .unwrap();
    let t = Instant::now();
    while r.requests.lock().unwrap().len() < 3 && t.elapsed() < Duration::from_secs(15) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    running.stop().await;
    {
        let reqs = r.requests.lock().unwrap();
        assert_eq!(reqs.len(), 3, "429, then 500, then delivered");
        let waited = reqs[1].2 - reqs[0].2;
        assert!(
            waited >= Duration::from_secs(2),
            "resent after {waited:?}, Retry-After was 2 s"
        );
        assert_eq!(reqs[0].1, reqs[2].1, "the same batch was resent");
    }
    assert!(state.parked(None).await.unwrap().is_empty());

    // A 404 is not worth retrying: parked at once, with the status in the reason.
    r.script.lock().unwrap().push_back((404, None));
    let hook: Arc<dyn Sink> = Arc::new(sink(&url, Some("k")));
    let running = Dispatcher::new(Arc::new(store.clone()), state.clone(), vec![hook], settings)
        .start()
        .await
        .unwrap();
    store
        .upsert(&crate::helpers::findings(2, 62))
        .await
        .unwrap();
    let t = Instant::now();
    while state.parked(None).await.unwrap().is_empty() && t.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    running.stop().await;
    let parked = state.parked(Some("hook")).await.unwrap();
    assert_eq!(parked.len(), 1);
    assert!(parked[0].error.contains("HTTP 404"), "{}", parked[0].error);
    assert!(
        !parked[0].error.contains("/hook"),
        "the URL path is not in errors"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn server_side_request_forgery_is_refused_at_lint_and_at_send() {
    let intranet: HashMap<String, Vec<IpAddr>> = HashMap::from([(
        "intranet.example".to_string(),
        vec!["10.0.0.1".parse().unwrap()],
    )]);
    let resolver = StaticResolver(intranet);
    // Lint: the metadata address and a name resolving to a private address.
    for (url, needle) in [
        (
            "http://169.254.169.254/latest/meta-data/",
            "169.254.169.254",
        ),
        ("https://169.254.169.254/latest/meta-data/", "link-local"),
        ("https://intranet.example/hook", "10.0.0.1"),
    ] {
        let text = format!("sinks:\n  - name: bad\n    kind: webhook\n    url: \"{url}\"\n");
        let problems = lint(&text, &resolver).await;
        assert!(
            problems
                .iter()
                .any(|p| p.error && p.to_string().contains(needle)),
            "{url}: {problems:?}"
        );
        assert!(
            problems
                .iter()
                .all(|p| p.line == Some(2) || p.line == Some(4)),
            "{problems:?}"
        );
    }
    // Send: the host resolves to a private address when the request is made.
    let s = WebhookSink::new(
        "hook",
        Target::parse("https://intranet.example/hook").unwrap(),
        None,
        Filter::default(),
        Duration::from_secs(2),
        Arc::new(resolver),
    )
    .unwrap();
    match s.send(&changes(1)).await {
        Err(SinkError::Permanent { reason }) => assert!(reason.contains("10.0.0.1"), "{reason}"),
        other => panic!("expected a permanent refusal, got {other:?}"),
    }
    // Send: a public-looking receiver that redirects to the metadata address.
    let (r, url) = spawn_receiver().await;
    r.script.lock().unwrap().push_back((
        302,
        Some((
            "location",
            "http://169.254.169.254/latest/meta-data/".to_string(),
        )),
    ));
    match sink(&url, None).send(&changes(1)).await {
        Err(SinkError::Permanent { reason }) => {
            assert!(reason.contains("redirects are not followed"), "{reason}")
        }
        other => panic!("expected a permanent refusal, got {other:?}"),
    }
    assert_eq!(
        r.requests.lock().unwrap().len(),
        1,
        "the redirect was not followed"
    );
}
