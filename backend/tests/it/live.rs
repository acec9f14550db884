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

/// A text frame, read only as far as these tests look.
#[derive(Debug, PartialEq)]
enum Got {
    Finding(u64),
    Resync,
    /// Summaries, pings.
    Other,
}

/// Reads `ws` until the server closes it, sleeping 10 ms after each frame while
/// `slow()` holds. Returns the text frames and whether the stream ended (false:
/// 30 seconds passed without a frame).
async fn read_until_closed(ws: &mut Ws, mut slow: impl FnMut() -> bool) -> (Vec<Got>, bool) {
    let mut got = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(30), ws.next()).await {
            Ok(Some(Ok(Message::Text(t)))) => got.push(if t.contains("\"type\":\"finding\"") {
                Got::Finding(position_of(&t))
            } else if t.contains("\"type\":\"resync\"") {
                Got::Resync
            } else {
                Got::Other
            }),
            // The server drops the socket without a close frame; a frame cut
            // short by the drop reads as an error.
            Ok(Some(Ok(Message::Close(_)))) | Ok(Some(Err(_))) | Ok(None) => return (got, true),
            Ok(Some(Ok(_))) => {}
            Err(_) => return (got, false),
        }
        if slow() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// How many changes `got` holds, after checking they are exactly the first ones
/// after `first`, in order, each once.
fn in_order_prefix(got: &[Got], first: u64, who: &str) -> u64 {
    let positions: Vec<u64> = got
        .iter()
        .filter_map(|g| match g {
            Got::Finding(p) => Some(*p),
            _ => None,
        })
        .collect();
    let k = positions.len() as u64;
    let bad = positions
        .iter()
        .zip(first + 1..)
        .position(|(p, want)| *p != want);
    assert!(
        bad.is_none(),
        "{who}: changes out of order or missing at frame {bad:?}"
    );
    k
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
    // 20,000 frames of ~700 bytes: far more than a socket buffers (a few MB on
    // loopback) plus the channel bound (`CHANNEL_BOUND` frames).
    const BURST: u64 = 20_000;
    const READERS: usize = 3;
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), None).await;
    let mut stopped = greeted(&server.base).await;
    let mut slow = greeted(&server.base).await;
    let mut readers = Vec::new();
    for _ in 0..READERS {
        readers.push(greeted(&server.base).await);
    }
    // Nothing changed since the hellos: every client starts here.
    let first = server.hub.position();
    let end = first + BURST;
    let readers: Vec<_> = readers
        .into_iter()
        .map(|mut ws| {
            tokio::spawn(async move {
                let got =
                    finding_positions(&mut ws, BURST as usize, Duration::from_secs(120)).await;
                // The socket comes back so it stays open: the connection count
                // below must only fall for the clients the server drops.
                (got, Instant::now(), ws)
            })
        })
        .collect();
    // The slow client takes a frame every 10 ms while the burst is published:
    // far slower than the burst is published, but never still for long, so the
    // server's sends to it always complete and it sees the channel overtake it.
    let hub = server.hub.clone();
    let slow =
        tokio::spawn(async move { read_until_closed(&mut slow, || hub.position() < end).await });
    let fs = crate::helpers::findings(BURST as usize, 72);
    let burst_at = Instant::now();
    for chunk in fs.chunks(2_500) {
        server.store.upsert(chunk).await.unwrap();
    }

    // Every reading client gets every change, once, in order, while the stopped
    // client has not read a byte and the slow one crawls.
    let want: Vec<u64> = (first + 1..=end).collect();
    let mut open = Vec::new();
    for r in readers {
        let (got, at, ws) = r.await.unwrap();
        assert!(
            got == want,
            "a reading client got {} of {BURST} changes, or out of order (first difference at {:?})",
            got.len(),
            got.iter().zip(&want).position(|(g, w)| g != w)
        );
        eprintln!(
            "a reading client had the whole burst after {:?}",
            at - burst_at
        );
        open.push(ws);
    }

    // The slow client got the changes in order until it fell a whole channel
    // behind, then `resync` as the very last frame, and the server closed it.
    let (got, closed) = slow.await.unwrap();
    assert!(closed, "the slow client was not dropped");
    assert_eq!(
        got.last(),
        Some(&Got::Resync),
        "the slow client's last frame"
    );
    assert_eq!(got.iter().filter(|g| **g == Got::Resync).count(), 1);
    let k = in_order_prefix(&got, first, "the slow client");
    assert!(
        k < BURST,
        "the slow client got the whole burst yet was told to resync"
    );

    // The stopped client cannot be told anything: its socket is full, so the
    // send in progress never completes and the server gives it up after
    // SEND_TIMEOUT (10 s, http/live.rs) and drops the connection without a
    // `resync` (which could not be written either). The server lets go of it
    // while it still reads nothing: the hub's connection count falls to the
    // reading clients alone (the slow one is gone already).
    let deadline = Instant::now() + Duration::from_secs(60);
    while server.hub.connections() > READERS {
        assert!(
            Instant::now() < deadline,
            "the stopped client is still held {:?} after the burst ({} connections)",
            burst_at.elapsed(),
            server.hub.connections()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Read now, it holds what the kernel had buffered: changes in order, no
    // resync (a resync here would mean its connection fell a whole channel
    // behind before its socket filled, i.e. was starved like no reader was),
    // then the end of the stream.
    let (got, closed) = read_until_closed(&mut stopped, || false).await;
    assert!(closed, "the stopped client's stream did not end");
    assert!(
        !got.contains(&Got::Resync),
        "a resync reached a client whose socket was full"
    );
    let k = in_order_prefix(&got, first, "the stopped client");
    assert!(
        k < BURST,
        "the whole burst fit in the stopped client's socket: make it bigger"
    );
    eprintln!("stopped client: {k} changes buffered before the server let it go");
    drop(open);
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
    // The replay runs up to the position in `hello`; a change the restarted
    // server dispatches after this client connected is pushed live and may
    // overtake the replay (the dashboard applies each position once, whatever
    // the order: frontend/src/live_state.rs). So: every missed change, once.
    let mut sorted = got.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted, want,
        "exactly the missed changes, once each: {got:?}"
    );
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
