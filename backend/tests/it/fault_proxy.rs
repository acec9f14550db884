//! A fault-injecting HTTP proxy in front of the emulator: moto never throttles, so
//! tests route the real SDK through this proxy, which answers chosen calls with
//! DynamoDB's own throttling error (HTTP 400 `ProvisionedThroughputExceededException`)
//! instead of forwarding them. The SDK parses it exactly as it would AWS's answer.

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// How many upcoming calls of each operation to throttle.
#[derive(Debug, Default)]
pub struct Faults {
    /// `X-Amz-Target` suffix (e.g. `PutItem`) → calls still to fail (`u32::MAX` = always).
    pub fail_next: HashMap<String, u32>,
    /// Calls throttled so far, by operation.
    pub injected: HashMap<String, u32>,
    /// Calls forwarded, by operation.
    pub forwarded: HashMap<String, u32>,
}

/// A running proxy.
pub struct FaultProxy {
    /// Its endpoint (`http://127.0.0.1:PORT`).
    pub endpoint: String,
    /// The fault plan and counters.
    pub faults: Arc<Mutex<Faults>>,
}

impl FaultProxy {
    /// Throttles the next `n` calls of `op`.
    pub fn throttle(&self, op: &str, n: u32) {
        self.faults
            .lock()
            .unwrap()
            .fail_next
            .insert(op.to_string(), n);
    }

    /// Calls of `op` forwarded to the emulator so far.
    pub fn forwarded(&self, op: &str) -> u32 {
        self.faults
            .lock()
            .unwrap()
            .forwarded
            .get(op)
            .copied()
            .unwrap_or(0)
    }

    /// Calls of `op` throttled so far.
    pub fn injected(&self, op: &str) -> u32 {
        self.faults
            .lock()
            .unwrap()
            .injected
            .get(op)
            .copied()
            .unwrap_or(0)
    }
}

/// Starts a proxy forwarding to `upstream`.
pub async fn start(upstream: &str) -> FaultProxy {
    let faults = Arc::new(Mutex::new(Faults::default()));
    let upstream = upstream.trim_end_matches('/').to_string();
    let http = reqwest::Client::new();
    let state = faults.clone();
    let app = axum::Router::new().fallback(
        move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
            let (state, http, upstream) = (state.clone(), http.clone(), upstream.clone());
            async move { handle(state, http, upstream, method, uri, headers, body).await }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind proxy");
    let addr = listener.local_addr().expect("proxy addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    FaultProxy {
        endpoint: format!("http://{addr}"),
        faults,
    }
}

async fn handle(
    state: Arc<Mutex<Faults>>,
    http: reqwest::Client,
    upstream: String,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let op = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .and_then(|t| t.rsplit('.').next())
        .unwrap_or("")
        .to_string();
    {
        let mut f = state.lock().unwrap();
        if let Some(n) = f.fail_next.get_mut(&op) {
            if *n > 0 {
                if *n != u32::MAX {
                    *n -= 1;
                }
                *f.injected.entry(op.clone()).or_default() += 1;
                let body = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"injected by the test proxy"}"#;
                return (
                    StatusCode::BAD_REQUEST,
                    [("content-type", "application/x-amz-json-1.0")],
                    body,
                )
                    .into_response();
            }
        }
        *f.forwarded.entry(op).or_default() += 1;
    }
    let url = format!(
        "{upstream}{}",
        uri.path_and_query().map(|p| p.as_str()).unwrap_or("/")
    );
    let mut req = http.request(method, url).body(body);
    for (k, v) in headers.iter() {
        if k != "host" && k != "content-length" {
            req = req.header(k, v);
        }
    }
    match req.send().await {
        Ok(resp) => {
            let status = resp.status();
            let mut out_headers = HeaderMap::new();
            for (k, v) in resp.headers() {
                if k != "content-length" && k != "transfer-encoding" {
                    out_headers.insert(k.clone(), v.clone());
                }
            }
            let bytes = resp.bytes().await.unwrap_or_default();
            (status, out_headers, bytes).into_response()
        }
        Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    }
}
