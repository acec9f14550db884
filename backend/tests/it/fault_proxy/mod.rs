//! A fault-injecting HTTP proxy in front of the emulator: moto never throttles
//! nor denies, so tests route the real SDK through this proxy, which answers
//! chosen calls with the service's own error (throttling, access denied; see
//! [`answers`]) or a success it never forwards, instead of the emulator's
//! answer. The SDK parses it exactly as it would AWS's.

mod answers;

use answers::Call;
pub use answers::Fault;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The faults planned for one operation.
#[derive(Debug, Clone, Copy)]
pub struct Injection {
    /// What to answer.
    pub fault: Fault,
    /// Calls still to forward before the first fault (a read that must pass
    /// before the same read fails, e.g. the read-back after the plan's read).
    pub skip: u32,
    /// Calls still to fail after that (`u32::MAX` = always).
    pub times: u32,
}

/// The faults planned, and what the proxy did, by operation.
#[derive(Debug, Default)]
pub struct Faults {
    /// Operation (the `X-Amz-Target` suffix, the form's `Action`, or S3's verb
    /// and sub-resource, e.g. `PutItem`, `RevokeSecurityGroupIngress`,
    /// `PutPublicAccessBlock`) → its planned faults.
    pub plan: HashMap<String, Injection>,
    /// Calls answered with a fault so far, by operation.
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
        self.inject(op, Fault::Throttle, n);
    }

    /// Answers the next `n` calls of `op` with `fault` (`u32::MAX` = always;
    /// 0 = stop), replacing what was planned for it.
    pub fn inject(&self, op: &str, fault: Fault, n: u32) {
        self.inject_after(op, 0, fault, n);
    }

    /// Forwards the next `skip` calls of `op`, then answers `n` with `fault`.
    pub fn inject_after(&self, op: &str, skip: u32, fault: Fault, n: u32) {
        let injection = Injection {
            fault,
            skip,
            times: n,
        };
        self.faults
            .lock()
            .unwrap()
            .plan
            .insert(op.to_string(), injection);
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

    /// Calls of `op` answered with a fault so far.
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
    let call = Call::of(&method, &uri, &headers, &body);
    let op = call.operation.clone();
    {
        let mut f = state.lock().unwrap();
        if let Some(i) = f.plan.get_mut(&op) {
            if i.skip > 0 {
                i.skip -= 1;
            } else if i.times > 0 {
                if i.times != u32::MAX {
                    i.times -= 1;
                }
                let fault = i.fault;
                *f.injected.entry(op).or_default() += 1;
                return call.answer(fault);
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
