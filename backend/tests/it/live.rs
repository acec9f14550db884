//! The live WebSocket on a real local server (SQLite store, dispatcher, live sink,
//! the router over TCP): 1,000 clients get a burst in order; a client that stops
//! reading is told to resync and dropped while the others keep up; `resume`
//! replays exactly what was missed, across a server restart too; tickets and the
//! `Origin` check guard the socket.

use cspm::feed::{DispatchSettings, Dispatcher, Running, SinkState};
use cspm::http::live::LiveState;
use cspm::http::{router, AppState, HttpConfig};
use cspm::live::tickets::MemoryTickets;
use cspm::sinks::live::{LiveHub, LiveSink};
use cspm::sinks::Sink;
use cspm::store::{ChangeFeed, SqliteStore, Store};
use futures::{SinkExt, StreamExt};
use shared_types::{ServerFrame, ServerMessage};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

struct LiveServer {
    base: String,
    store: SqliteStore,
    running: Option<Running>,
    server: tokio::task::JoinHandle<()>,
}

impl LiveServer {
    async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await;
        }
        self.server.abort();
    }
}

async fn start(dir: &Path, token: Option<&str>) -> LiveServer {
    let store = SqliteStore::open_dir(dir).unwrap();
    let feed: Arc<dyn ChangeFeed> = Arc::new(store.clone());
    let hub = LiveHub::new(feed.head().await.unwrap());
    tokio::spawn(
        hub.clone()
            .summaries(Arc::new(store.clone()), Duration::from_secs(1)),
    );
    let state = SinkState::open(store.path()).unwrap();
    let running = Dispatcher::new(
        feed.clone(),
        state,
        vec![Arc::new(LiveSink::new(hub.clone())) as Arc<dyn Sink>],
        DispatchSettings {
            poll: Duration::from_millis(50),
            ..Default::default()
        },
    )
    .start()
    .await
    .unwrap();
    let config = HttpConfig {
        api_token: token.map(str::to_string),
        ..Default::default()
    };
    let app = router(
        AppState::new(crate::helpers::pipeline(Arc::new(store.clone())), config)
            .with_live(LiveState { hub, feed }, Arc::new(MemoryTickets::default())),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    LiveServer {
        base,
        store,
        running: Some(running),
        server,
    }
}

async fn connect(base: &str) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{base}/live"))
        .await
        .expect("websocket");
    ws
}

/// A connection past its `hello` frame.
async fn greeted(base: &str) -> Ws {
    let mut ws = connect(base).await;
    let hello = next_frame(&mut ws, Duration::from_secs(5)).await;
    assert!(hello.is_some(), "no hello frame");
    ws
}

async fn next_frame(ws: &mut Ws, within: Duration) -> Option<ServerFrame> {
    loop {
        let msg = tokio::time::timeout(within, ws.next()).await.ok()??.ok()?;
        if let Message::Text(t) = msg {
            return serde_json::from_str(&t).ok();
        }
    }
}

/// Reads frames until `n` finding frames arrived (or `within` passed); returns
/// their positions. Reads the two fields it needs without building whole frames:
/// a thousand clients share two cores with the server in this test.
async fn finding_positions(ws: &mut Ws, n: usize, within: Duration) -> Vec<u64> {
    let deadline = Instant::now() + within;
    let mut out = Vec::new();
    while out.len() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(Some(Ok(msg))) = tokio::time::timeout(left, ws.next()).await else {
            break;
        };
        let Message::Text(t) = msg else { continue };
        if !t.contains("\"type\":\"finding\"") {
            continue;
        }
        let pos = t
            .split("\"position\":\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .and_then(|p| p.parse().ok())
            .expect("a finding frame has a position");
        out.push(pos);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_clients_get_a_burst_of_a_thousand_changes_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), None).await;
    let mut clients = Vec::new();
    for _ in 0..1000 {
        let mut ws = connect(&server.base).await;
        let hello = next_frame(&mut ws, Duration::from_secs(10)).await.unwrap();
        assert!(matches!(hello.msg, ServerMessage::Hello { .. }));
        clients.push(ws);
    }
    let readers: Vec<_> = clients
        .into_iter()
        .map(|mut ws| {
            tokio::spawn(async move {
                let got = finding_positions(&mut ws, 1000, Duration::from_secs(300)).await;
                (got, Instant::now())
            })
        })
        .collect();
    let fs = crate::helpers::findings(1000, 71);
    let written = Instant::now();
    for chunk in fs.chunks(100) {
        server.store.upsert(chunk).await.unwrap();
    }
    let mut done = Vec::new();
    for r in readers {
        let (got, at) = r.await.unwrap();
        assert_eq!(got.len(), 1000, "a client missed changes");
        assert!(got.windows(2).all(|w| w[0] < w[1]), "out of order");
        done.push(at - written);
    }
    done.sort();
    eprintln!(
        "1,000 clients x 1,000 changes: last client complete after {:?} (p50 {:?})",
        done[999], done[500]
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_dropped_and_the_others_keep_up() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), None).await;
    let mut stuck = greeted(&server.base).await;
    let mut reader = greeted(&server.base).await;
    let reading = tokio::spawn(async move {
        finding_positions(&mut reader, 20_000, Duration::from_secs(120)).await
    });
    // 20,000 changes: far more than the socket buffers and the channel bound hold.
    let fs = crate::helpers::findings(20_000, 72);
    for chunk in fs.chunks(2_500) {
        server.store.upsert(chunk).await.unwrap();
    }
    let got = reading.await.unwrap();
    assert_eq!(got.len(), 20_000, "the reading client kept up");
    // The stuck client, reading now, finds its stream ending: in a resync frame
    // (told it fell behind) or closed by the server.
    let t = Instant::now();
    let mut ended = false;
    let mut told = false;
    while t.elapsed() < Duration::from_secs(60) {
        match tokio::time::timeout(Duration::from_secs(30), stuck.next()).await {
            Ok(Some(Ok(Message::Text(text)))) => {
                if text.contains("\"type\":\"resync\"") {
                    told = true;
                }
            }
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(_))) | Ok(None) => {
                ended = true;
                break;
            }
            Err(_) => break,
        }
    }
    assert!(ended, "the stuck connection was not dropped");
    eprintln!("stuck client told to resync before the drop: {told}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_replays_exactly_what_was_missed_even_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), None).await;
    let mut ws = greeted(&server.base).await;
    server
        .store
        .upsert(&crate::helpers::findings(30, 73))
        .await
        .unwrap();
    let seen = finding_positions(&mut ws, 30, Duration::from_secs(10)).await;
    assert_eq!(seen.len(), 30);
    let last = *seen.last().unwrap();
    drop(ws);
    // Missed while disconnected; then the server restarts.
    server
        .store
        .upsert(&crate::helpers::findings(20, 74))
        .await
        .unwrap();
    server.stop().await;
    let server = start(dir.path(), None).await;
    server
        .store
        .upsert(&crate::helpers::findings(5, 75))
        .await
        .unwrap();
    let mut ws = greeted(&server.base).await;
    let resume = serde_json::json!({"v": 1, "type": "resume", "after": last.to_string()});
    ws.send(Message::Text(resume.to_string().into()))
        .await
        .unwrap();
    let got = finding_positions(&mut ws, 25, Duration::from_secs(10)).await;
    let want: Vec<u64> = (last + 1..=last + 25).collect();
    assert_eq!(got, want, "exactly the missed changes, once, in order");
    // Nothing more is replayed; a new change still arrives.
    server
        .store
        .upsert(&crate::helpers::findings(1, 76))
        .await
        .unwrap();
    let next = finding_positions(&mut ws, 1, Duration::from_secs(10)).await;
    assert_eq!(next, vec![last + 26]);
    // A position older than the replay window asks for a resync.
    let mut ws2 = greeted(&server.base).await;
    ws2.send(Message::Text(
        r#"{"v":1,"type":"resume","after":"not-a-position"}"#.into(),
    ))
    .await
    .unwrap();
    let f = next_frame(&mut ws2, Duration::from_secs(5)).await.unwrap();
    assert!(matches!(f.msg, ServerMessage::Resync { .. }));
    server.stop().await;
}

async fn new_ticket(client: &reqwest::Client, base: &str, token: &str) -> serde_json::Value {
    let r = client
        .post(format!("http://{base}/live/ticket"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tickets_and_the_origin_guard_the_socket() {
    let dir = tempfile::tempdir().unwrap();
    let token = "0123456789abcdef0123";
    let server = start(dir.path(), Some(token)).await;
    let url = format!("ws://{}/live", server.base);
    // No ticket: refused.
    let err = tokio_tungstenite::connect_async(&url).await.unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
    // A ticket from the API (with the bearer token) opens it once.
    let client = reqwest::Client::new();
    let ticket = new_ticket(&client, &server.base, token).await;
    assert_eq!(ticket["expires_in"], 30);
    let t = ticket["ticket"].as_str().unwrap();
    let with_ticket = format!("{url}?ticket={t}");
    let (mut ws, _) = tokio_tungstenite::connect_async(&with_ticket)
        .await
        .unwrap();
    assert!(next_frame(&mut ws, Duration::from_secs(5)).await.is_some());
    let err = tokio_tungstenite::connect_async(&with_ticket)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("401"), "a used ticket: {err}");
    // Without the bearer token there is no ticket.
    let r = client
        .post(format!("http://{}/live/ticket", server.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // Another site's page may not open it, even with a fresh ticket.
    let ticket = new_ticket(&client, &server.base, token).await;
    let mut req = format!("{url}?ticket={}", ticket["ticket"].as_str().unwrap())
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("origin", "https://evil.example".parse().unwrap());
    let err = tokio_tungstenite::connect_async(req).await.unwrap_err();
    assert!(err.to_string().contains("403"), "{err}");
    server.stop().await;
}
