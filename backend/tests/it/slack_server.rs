//! A local server speaking Slack's incoming-webhook protocol: `200 ok`, or an
//! error status whose body is Slack's reason, `429` with `Retry-After`. Answers
//! follow a script (then `200 ok`); every request is recorded with when it
//! arrived and what was answered, for the tests to read.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The path of the webhook URL (Slack's shape; it is the secret).
pub const SECRET_PATH: &str = "/services/T0CSPMTEST/B0CSPMTEST/s3cr3tSlackPath";

/// One scripted answer: status, body, `Retry-After` seconds.
pub type Answer = (u16, &'static str, Option<u64>);

/// One request the server received.
#[derive(Debug, Clone)]
pub struct Received {
    /// When it was answered (after the server's `latency`).
    pub at: Instant,
    /// When it arrived.
    pub arrived: Instant,
    /// The JSON body.
    pub body: Value,
    /// The status answered.
    pub status: u16,
}

/// What the server saw and will answer.
#[derive(Default)]
pub struct SlackServer {
    /// Every request, in arrival order.
    pub received: Mutex<Vec<Received>>,
    /// Answers still to give (then `200 ok`).
    pub script: Mutex<VecDeque<Answer>>,
    /// How long each answer takes (a receiver's own latency).
    pub latency: Mutex<std::time::Duration>,
    /// Requests being answered now, and the most at once.
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
}

impl SlackServer {
    /// The most requests the server was answering at one moment.
    pub fn most_at_once(&self) -> usize {
        self.most_in_flight.load(Ordering::SeqCst)
    }

    /// The finding id of each message answered with `status`, in arrival order,
    /// read from the message's link (`…/ui/findings/<id>|`).
    pub fn ids_answered(&self, status: u16) -> Vec<String> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.status == status)
            .map(|r| linked_id(&r.body))
            .collect()
    }
}

/// The finding a message links to.
pub fn linked_id(body: &Value) -> String {
    let text = body["text"].as_str().expect("a fallback text");
    let link = text
        .lines()
        .find(|l| l.contains("/ui/findings/"))
        .unwrap_or_else(|| panic!("a message without its link: {text}"));
    link.rsplit('/').next().unwrap().to_string()
}

async fn receive(State(s): State<Arc<SlackServer>>, body: Bytes) -> Response {
    let arrived = Instant::now();
    let now = s.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    s.most_in_flight.fetch_max(now, Ordering::SeqCst);
    let latency = *s.latency.lock().unwrap();
    tokio::time::sleep(latency).await;
    let resp = answer(&s, body, arrived);
    s.in_flight.fetch_sub(1, Ordering::SeqCst);
    resp
}

fn answer(s: &SlackServer, body: Bytes, arrived: Instant) -> Response {
    let (status, text, retry) = s
        .script
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or((200, "ok", None));
    s.received.lock().unwrap().push(Received {
        at: Instant::now(),
        arrived,
        body: serde_json::from_slice(&body).expect("Slack gets JSON"),
        status,
    });
    let mut resp = (StatusCode::from_u16(status).unwrap(), text).into_response();
    if let Some(secs) = retry {
        resp.headers_mut()
            .insert("retry-after", secs.to_string().parse().unwrap());
    }
    resp
}

/// A server on 127.0.0.1 answering `script` first; returns it and its webhook URL.
pub async fn spawn(script: Vec<Answer>) -> (Arc<SlackServer>, String) {
    let s = Arc::new(SlackServer::default());
    s.script.lock().unwrap().extend(script);
    let app = axum::Router::new()
        .route(SECRET_PATH, axum::routing::post(receive))
        .with_state(s.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (s, format!("http://{addr}{SECRET_PATH}"))
}
