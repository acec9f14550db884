//! `GET /live`: the live protocol over a WebSocket, and `POST /live/ticket`.
//!
//! Each connection gets `hello` with the current position, then every frame the
//! live sink broadcasts. A client that reconnects sends `resume` with the last
//! position it saw: what it missed is replayed from the change feed itself (so a
//! server restart loses nothing), or, when that is more than [`MAX_REPLAY`] changes
//! ago, it is told to `resync`. Frames it already got are never sent twice.
//!
//! Browsers cannot put a bearer token on a WebSocket request, and tokens must never
//! go into a URL: when the API needs credentials, the page first asks `POST
//! /live/ticket` (with its credentials) for a single-use ticket valid 30 seconds and
//! connects to `/live?ticket=…`. The `Origin` must be this server's own or an
//! allowed CORS origin.

use super::error::ApiError;
use super::{Actor, AppState};
use crate::sinks::live::{frame_json, frame_of, Frame, LiveHub};
use crate::store::ChangeFeed;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::Response;
use futures::{SinkExt, StreamExt};
use rand::RngCore;
use shared_types::{
    ClientFrame, ClientMessage, LiveTicket, ServerFrame, ServerMessage, LIVE_VERSION,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::broadcast::error::RecvError;

/// Most changes a `resume` replays; further behind, the client resyncs.
pub const MAX_REPLAY: u64 = 10_000;
/// How long a ticket is valid.
pub const TICKET_TTL: Duration = Duration::from_secs(30);
/// How often a connection is pinged.
const PING_EVERY: Duration = Duration::from_secs(30);
/// A send that takes longer than this drops the connection.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// What the live routes need.
#[derive(Clone)]
pub struct LiveState {
    /// The broadcast point.
    pub hub: Arc<LiveHub>,
    /// The change feed, for replays.
    pub feed: Arc<dyn ChangeFeed>,
    /// Tickets issued and not yet used.
    pub tickets: Arc<TicketBook>,
}

/// Single-use tickets, each bound to the user it was issued to.
#[derive(Debug)]
pub struct TicketBook {
    open: Mutex<HashMap<String, (String, Instant)>>,
    ttl: Duration,
}

impl Default for TicketBook {
    fn default() -> Self {
        TicketBook::with_ttl(TICKET_TTL)
    }
}

impl TicketBook {
    /// A book whose tickets expire after `ttl`.
    pub fn with_ttl(ttl: Duration) -> TicketBook {
        TicketBook {
            open: Mutex::default(),
            ttl,
        }
    }

    /// A new ticket for `actor`, valid for the book's time to live.
    pub fn issue(&self, actor: &str) -> String {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        let ticket = hex::encode(bytes);
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        open.retain(|_, (_, expires)| *expires > now);
        open.insert(ticket.clone(), (actor.to_string(), now + self.ttl));
        ticket
    }

    /// The user a ticket was issued to, once: a used or expired ticket is `None`.
    pub fn take(&self, ticket: &str) -> Option<String> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let (actor, expires) = open.remove(ticket)?;
        (expires > Instant::now()).then_some(actor)
    }
}

/// `POST /live/ticket`: a ticket to open `/live` with.
#[utoipa::path(post, path = "/live/ticket", tag = "live",
    responses((status = 200, body = LiveTicket), (status = 401, body = shared_types::ErrorBody),
        (status = 404, body = shared_types::ErrorBody, description = "No live updates on this store")))]
pub async fn post_ticket(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<axum::Json<LiveTicket>, ApiError> {
    let live = state.live.as_ref().ok_or_else(not_available)?;
    Ok(axum::Json(LiveTicket {
        ticket: live.tickets.issue(&actor.0),
        expires_in: TICKET_TTL.as_secs() as u32,
    }))
}

fn not_available() -> ApiError {
    ApiError::NotFound(
        "live updates need the local SQLite store (on AWS: the WebSocket API)".into(),
    )
}

/// True when a browser's `Origin` may open the socket: the server's own origin, or
/// a configured CORS origin. Non-browser clients send none.
fn origin_allowed(headers: &HeaderMap, cors: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let own = origin
        .split_once("://")
        .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(host));
    own || cors.iter().any(|c| c == origin)
}

/// `GET /live`: upgrades to the live WebSocket.
pub async fn get_live(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let live = state.live.clone().ok_or_else(not_available)?;
    if !origin_allowed(&headers, &state.config.cors_origins) {
        return Err(ApiError::Forbidden(
            "this origin may not open live updates".into(),
        ));
    }
    let user = match &state.config.api_token {
        None => "local".to_string(),
        Some(_) => q
            .get("ticket")
            .and_then(|t| live.tickets.take(t))
            .ok_or(ApiError::Unauthorized)?,
    };
    tracing::debug!(%user, "live connection");
    Ok(ws
        .max_message_size(16 * 1024)
        .on_upgrade(move |socket| connection(socket, live)))
}

async fn send(
    tx: &mut futures::stream::SplitSink<WebSocket, Message>,
    json: &str,
) -> Result<(), ()> {
    match tokio::time::timeout(SEND_TIMEOUT, tx.send(Message::Text(json.into()))).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(()),
    }
}

fn resync(reason: &str) -> String {
    serde_json::to_string(&ServerFrame::new(ServerMessage::Resync {
        reason: reason.into(),
    }))
    .unwrap_or_default()
}

/// Replays the changes after `after` up to `upto` (from the feed), or says resync.
async fn replay(
    tx: &mut futures::stream::SplitSink<WebSocket, Message>,
    feed: &dyn ChangeFeed,
    after: &str,
    upto: u64,
) -> Result<u64, ()> {
    let Ok(after) = after.parse::<u64>() else {
        let _ = send(tx, &resync("unknown position")).await;
        return Err(());
    };
    if after >= upto {
        return Ok(upto);
    }
    if upto - after > MAX_REPLAY {
        let _ = send(tx, &resync("more than 10,000 changes were missed")).await;
        return Err(());
    }
    let mut cursor = after;
    while cursor < upto {
        let page = feed.changes_after(cursor, 1000).await.map_err(|_| ())?;
        if page.is_empty() {
            break;
        }
        // Trimmed history: what the client missed is gone.
        if page[0].seq > cursor + 1 && cursor == after {
            let _ = send(tx, &resync("the missed changes are no longer kept")).await;
            return Err(());
        }
        for c in page.iter().filter(|c| c.seq <= upto) {
            cursor = c.seq;
            if c.quiet {
                continue;
            }
            if let Ok(json) = frame_json(&frame_of(c)) {
                send(tx, &json).await?;
            }
        }
        if page.last().is_some_and(|c| c.seq > upto) || page.len() < 1000 {
            break;
        }
    }
    Ok(upto)
}

/// One connection's life: hello, then broadcast frames, resume and pings.
async fn connection(socket: WebSocket, live: LiveState) {
    let (mut tx, mut rx) = socket.split();
    // Subscribe before reading the position: nothing falls between the two.
    let mut frames = live.hub.subscribe();
    let start = live.hub.position();
    let hello = ServerFrame::new(ServerMessage::Hello {
        server_version: env!("CARGO_PKG_VERSION").into(),
        position: start.to_string(),
    });
    let Ok(hello) = serde_json::to_string(&hello) else {
        return;
    };
    if send(&mut tx, &hello).await.is_err() {
        return;
    }
    let mut sent_upto = start;
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    loop {
        tokio::select! {
            msg = rx.next() => {
                let Some(Ok(msg)) = msg else { return };
                let text = match msg {
                    Message::Text(t) => t,
                    Message::Close(_) => return,
                    _ => continue,
                };
                match serde_json::from_str::<ClientFrame>(&text) {
                    Ok(f) if f.v != LIVE_VERSION => {
                        let _ = send(&mut tx, &resync("protocol version differs")).await;
                        return;
                    }
                    Ok(ClientFrame { msg: ClientMessage::Resume { after }, .. }) => {
                        match replay(&mut tx, live.feed.as_ref(), &after, start).await {
                            Ok(_) => {}
                            Err(()) => return,
                        }
                    }
                    Ok(ClientFrame { msg: ClientMessage::Pong, .. }) => {}
                    Err(_) => {
                        let _ = send(&mut tx, &resync("unreadable frame")).await;
                        return;
                    }
                }
            }
            frame = frames.recv() => match frame {
                Ok(Frame { seq: Some(seq), .. }) if seq <= sent_upto => {}
                Ok(Frame { seq, json }) => {
                    if send(&mut tx, &json).await.is_err() {
                        return;
                    }
                    if let Some(seq) = seq {
                        sent_upto = seq;
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    let _ = send(&mut tx, &resync("this connection fell behind")).await;
                    return;
                }
                Err(RecvError::Closed) => return,
            },
            _ = ping.tick() => {
                let ping = serde_json::to_string(&ServerFrame::new(ServerMessage::Ping)).unwrap_or_default();
                if send(&mut tx, &ping).await.is_err() {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_are_single_use_and_bound_to_their_user() {
        let book = TicketBook::default();
        let t = book.issue("alice");
        assert_eq!(t.len(), 64);
        assert_eq!(book.take(&t).as_deref(), Some("alice"));
        assert_eq!(book.take(&t), None, "used once");
        assert_eq!(book.take("forged"), None);
        let short = TicketBook::with_ttl(Duration::from_millis(10));
        let t = short.issue("bob");
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(short.take(&t), None, "expired");
    }

    #[test]
    fn only_the_servers_own_or_allowed_origins_open_sockets() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "127.0.0.1:8080".parse().unwrap());
        assert!(origin_allowed(&h, &[]), "no Origin: not a browser");
        h.insert(header::ORIGIN, "http://127.0.0.1:8080".parse().unwrap());
        assert!(origin_allowed(&h, &[]));
        h.insert(header::ORIGIN, "https://evil.example".parse().unwrap());
        assert!(!origin_allowed(&h, &[]));
        assert!(origin_allowed(&h, &["https://evil.example".to_string()]));
    }
}
