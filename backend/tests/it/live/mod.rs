//! The live WebSocket on a real local server (SQLite store, dispatcher, live sink,
//! the router over TCP): 1,000 clients get a burst in order; a client too slow
//! for a burst is told to resync and dropped, one that stops reading is dropped,
//! and the others keep up; `resume` replays exactly what was missed, across a
//! server restart too; tickets and the `Origin` check guard the socket.

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
    /// The broadcast point: its position and connection count.
    hub: Arc<LiveHub>,
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
        AppState::new(crate::helpers::pipeline(Arc::new(store.clone())), config).with_live(
            LiveState {
                hub: hub.clone(),
                feed,
            },
            Arc::new(MemoryTickets::default()),
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    LiveServer {
        base,
        hub,
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

/// A connection past its `hello` frame that has not spoken yet: the server holds
/// newer frames until its first message (a `resume`, or anything).
async fn hello_only(base: &str) -> Ws {
    let mut ws = connect(base).await;
    let hello = next_frame(&mut ws, Duration::from_secs(5)).await;
    assert!(hello.is_some(), "no hello frame");
    ws
}

/// A first connect as the dashboard makes it: past `hello`, then a `pong` that
/// says no `resume` is coming, so frames flow at once.
async fn greeted(base: &str) -> Ws {
    let mut ws = hello_only(base).await;
    ws.send(Message::Text(r#"{"v":1,"type":"pong"}"#.into()))
        .await
        .unwrap();
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

/// The position of a finding frame, read without building the whole frame: a
/// thousand clients share two cores with the server in these tests.
fn position_of(text: &str) -> u64 {
    text.split("\"position\":\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .and_then(|p| p.parse().ok())
        .expect("a finding frame has a position")
}

/// Reads frames until `n` finding frames arrived (or `within` passed); returns
/// their positions.
async fn finding_positions(ws: &mut Ws, n: usize, within: Duration) -> Vec<u64> {
    let deadline = Instant::now() + within;
    let mut out = Vec::new();
    while out.len() < n {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(Some(Ok(msg))) = tokio::time::timeout(left, ws.next()).await else {
            break;
        };
        let Message::Text(t) = msg else { continue };
        if t.contains("\"type\":\"finding\"") {
            out.push(position_of(&t));
        }
    }
    out
}

/// Bursts: 1,000 clients in order; slow and stopped clients.
mod burst;
/// Reconnects: `resume` across a restart; tickets and the Origin check.
mod reconnect;
