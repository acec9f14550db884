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
//! allowed CORS origin. Only callers with the `viewer` role (or more) get a ticket,
//! so the role is checked at connect.

use super::error::ApiError;
use super::AppState;
use crate::auth::Principal;
use crate::live::origin_allowed;
use crate::live::tickets::TICKET_VALID;
use crate::sinks::live::{frame_json, frame_of, Frame, LiveHub};
use crate::store::ChangeFeed;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::Response;
use futures::{SinkExt, StreamExt};
use shared_types::{
    ClientFrame, ClientMessage, LiveTicket, ServerFrame, ServerMessage, LIVE_VERSION,
};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// Most changes a `resume` replays; further behind, the client resyncs.
pub const MAX_REPLAY: u64 = 10_000;
/// How often a connection is pinged.
const PING_EVERY: Duration = Duration::from_secs(30);
/// A send that takes longer than this drops the connection.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// How long newer frames wait for the client's first message after `hello`. A
/// reconnecting client's `resume` replays changes up to the `hello` position; a
/// frame pushed before that request arrived would overtake the replay. The
/// dashboard speaks at once on every connect (`resume`, or `pong` on a first
/// connect), ending the wait; a client that says nothing waits this long once.
const FIRST_MESSAGE_WAIT: Duration = Duration::from_millis(250);

/// What the live routes need.
#[derive(Clone)]
pub struct LiveState {
    /// The broadcast point.
    pub hub: Arc<LiveHub>,
    /// The change feed, for replays.
    pub feed: Arc<dyn ChangeFeed>,
}

/// `POST /live/ticket`: a ticket to open `/live` with.
#[utoipa::path(post, path = "/live/ticket", tag = "live",
    responses((status = 200, body = LiveTicket), (status = 401, body = shared_types::ErrorBody),
        (status = 403, body = shared_types::ErrorBody),
        (status = 404, body = shared_types::ErrorBody, description = "No live updates on this store")))]
pub async fn post_ticket(
    State(state): State<AppState>,
    actor: Principal,
) -> Result<axum::Json<LiveTicket>, ApiError> {
    let tickets = state.tickets.as_ref().ok_or_else(not_available)?;
    let ticket = tickets.issue(&actor.actor).await.map_err(|e| {
        tracing::warn!(error = %e, "live ticket not issued");
        ApiError::Unavailable
    })?;
    Ok(axum::Json(LiveTicket {
        ticket,
        expires_in: TICKET_VALID.as_secs() as u32,
    }))
}

fn not_available() -> ApiError {
    ApiError::NotFound(
        "live updates need the local SQLite store (on AWS: the WebSocket API)".into(),
    )
}

/// True when the request's `Origin` may open the socket (see
/// [`crate::live::origin_allowed`]).
fn origin_ok(headers: &HeaderMap, cors: &[String]) -> bool {
    let get = |h| headers.get(h).and_then(|v| v.to_str().ok());
    origin_allowed(get(header::ORIGIN), get(header::HOST).unwrap_or(""), cors)
}

/// `GET /live`: upgrades to the live WebSocket.
#[utoipa::path(get, path = "/live", tag = "live",
    params(("ticket" = Option<String>, Query, description = "A ticket from POST /live/ticket (required when the API needs credentials)"),
        // The WebSocket opening handshake (RFC 6455 section 4.1), which OpenAPI
        // has no other way to say; a request without it is a 400.
        ("Connection" = String, Header, pattern = "^Upgrade$", description = "`Upgrade`"),
        ("Upgrade" = String, Header, pattern = "^websocket$", description = "`websocket`"),
        ("Sec-WebSocket-Version" = String, Header, pattern = "^13$", description = "`13`"),
        ("Sec-WebSocket-Key" = String, Header, description = "The client's nonce (base64 of 16 random bytes)")),
    security(()),
    responses((status = 101, description = "Switching to the live WebSocket protocol"),
        (status = 400, body = shared_types::ErrorBody, description = "Not a WebSocket opening handshake"),
        (status = 401, body = shared_types::ErrorBody, description = "No ticket, or one already used or expired"),
        (status = 403, body = shared_types::ErrorBody, description = "Origin not allowed"),
        (status = 404, body = shared_types::ErrorBody, description = "No live updates on this store")))]
pub async fn get_live(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let ws = ws.map_err(not_a_handshake)?;
    let live = state.live.clone().ok_or_else(not_available)?;
    if !origin_ok(&headers, &state.config.cors_origins) {
        return Err(ApiError::Forbidden(
            "this origin may not open live updates".into(),
        ));
    }
    // With authentication on, a ticket is the credential: only principals the
    // `/live/ticket` route let through (viewer and up) hold one.
    let user = match (
        state.auth.required().await?,
        &state.tickets,
        q.get("ticket"),
    ) {
        (false, _, _) => "local".to_string(),
        (true, Some(tickets), Some(t)) => tickets
            .take(t)
            .await
            .map_err(|_| ApiError::Unavailable)?
            .ok_or(ApiError::Unauthorized)?,
        _ => return Err(ApiError::Unauthorized),
    };
    tracing::debug!(%user, "live connection");
    Ok(ws
        .max_message_size(16 * 1024)
        .on_upgrade(move |socket| connection(socket, live)))
}

/// A 400 in the API's error body for a request that is not a WebSocket opening
/// handshake (axum's own answer is plain text). axum's messages name the missing
/// or wrong header and quote nothing the client sent.
fn not_a_handshake(rejection: WebSocketUpgradeRejection) -> ApiError {
    ApiError::BadRequest {
        code: "not_a_websocket_handshake",
        message: rejection.body_text(),
        field: None,
    }
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

/// One connection's life: hello, then (after the client's first message, so a
/// replay is never overtaken) broadcast frames, resume and pings. Frames reach
/// the client in position order.
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
    // Frames stay in the subscription (bounded: a flood while waiting is a lag,
    // hence a resync) until the client's first message or the wait ends.
    let first_message = tokio::time::sleep(FIRST_MESSAGE_WAIT);
    tokio::pin!(first_message);
    let mut holding = true;
    loop {
        tokio::select! {
            msg = rx.next() => {
                holding = false;
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
            _ = &mut first_message, if holding => holding = false,
            frame = frames.recv(), if !holding => match frame {
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
    fn only_the_servers_own_or_allowed_origins_open_sockets() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "127.0.0.1:8080".parse().unwrap());
        assert!(origin_ok(&h, &[]), "no Origin: not a browser");
        h.insert(header::ORIGIN, "http://127.0.0.1:8080".parse().unwrap());
        assert!(origin_ok(&h, &[]));
        h.insert(header::ORIGIN, "https://evil.example".parse().unwrap());
        assert!(!origin_ok(&h, &[]));
        assert!(origin_ok(&h, &["https://evil.example".to_string()]));
    }
}
