//! The live protocol between the server and every open dashboard: JSON text frames,
//! each `{"v": 1, "type": …}`. Locally over `GET /live` on `cspm serve`; on AWS
//! over an API Gateway WebSocket API (frames there are at most 32 KB, so no frame
//! carries a raw document: findings travel as list items).
//!
//! A frame's `position` is opaque to the client: it only hands the last one it saw
//! back in `resume` after reconnecting, and the server replays what came after it
//! (or says `resync` when it cannot).

use crate::{ChangeKind, FindingListItem, Severity, WorkflowStatus};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Protocol version every frame carries.
pub const LIVE_VERSION: u8 = 1;

/// Largest frame any side sends (API Gateway's WebSocket limit is 32 KB).
pub const MAX_FRAME_BYTES: usize = 32 * 1024;

/// A server → client frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerFrame {
    /// Protocol version ([`LIVE_VERSION`]).
    pub v: u8,
    /// What it says.
    #[serde(flatten)]
    pub msg: ServerMessage,
}

/// What the server says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// First frame after connecting.
    Hello {
        /// The server's version.
        server_version: String,
        /// Where the feed stands now.
        position: String,
    },
    /// A finding was inserted or changed by its provider (or deleted).
    Finding {
        /// Its position in the feed.
        position: String,
        /// What happened.
        change_kind: ChangeKind,
        /// The finding as the list shows it.
        item: FindingListItem,
    },
    /// A person changed a finding's workflow status.
    Workflow {
        /// Its position in the feed.
        position: String,
        /// The finding.
        id: String,
        /// The new status.
        status: WorkflowStatus,
        /// Who.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        actor: Option<String>,
        /// Their note.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        /// The finding as the list shows it now.
        item: FindingListItem,
    },
    /// The overview counters (coalesced: at most once a second).
    Summary {
        /// The feed position they include.
        position: String,
        /// Findings per severity.
        by_severity: BTreeMap<Severity, u64>,
        /// Findings per workflow status.
        by_status: BTreeMap<WorkflowStatus, u64>,
        /// All findings.
        total: u64,
        /// New findings per day, the last 30 days (the overview's trend chart);
        /// absent from servers older than the field.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        trend: Vec<crate::api::TrendPoint>,
    },
    /// The client is too far behind (or speaks another version): reload the view.
    Resync {
        /// Why, in words.
        reason: String,
    },
    /// Keep-alive; answer with `pong`.
    Ping,
}

/// A client → server frame.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientFrame {
    /// Protocol version ([`LIVE_VERSION`]).
    pub v: u8,
    /// What it says.
    #[serde(flatten)]
    pub msg: ClientMessage,
}

/// What the client says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// Once, after reconnecting: replay what came after `after`.
    Resume {
        /// The last position the client saw.
        after: String,
    },
    /// Answer to `ping`.
    Pong,
}

/// `POST /live/ticket` answer: a single-use, short-lived ticket to open `/live`
/// with (tokens never go into a URL).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LiveTicket {
    /// The ticket (`/live?ticket=…`).
    pub ticket: String,
    /// Seconds it stays valid.
    pub expires_in: u32,
}

impl ServerFrame {
    /// A frame of the current version.
    pub fn new(msg: ServerMessage) -> ServerFrame {
        ServerFrame {
            v: LIVE_VERSION,
            msg,
        }
    }

    /// The feed position the frame carries, if any.
    pub fn position(&self) -> Option<&str> {
        match &self.msg {
            ServerMessage::Hello { position, .. }
            | ServerMessage::Finding { position, .. }
            | ServerMessage::Workflow { position, .. }
            | ServerMessage::Summary { position, .. } => Some(position),
            ServerMessage::Resync { .. } | ServerMessage::Ping => None,
        }
    }
}

/// The order of feed positions: a position is `N` (the local change feed's
/// `seq`) or `N:rest` (on AWS, the change time in microseconds, then the
/// finding id and revision, which make it unique). Positions compare by `N`,
/// then by `rest`; a position that does not start with a number is `None`.
pub fn position_key(position: &str) -> Option<(u64, &str)> {
    let (n, rest) = position.split_once(':').unwrap_or((position, ""));
    n.parse().ok().map(|n| (n, rest))
}

impl ClientFrame {
    /// A frame of the current version.
    pub fn new(msg: ClientMessage) -> ClientFrame {
        ClientFrame {
            v: LIVE_VERSION,
            msg,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_flat_json_objects_with_v_and_type() {
        let f = ServerFrame::new(ServerMessage::Resync {
            reason: "behind".into(),
        });
        let v = serde_json::to_value(&f).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"v": 1, "type": "resync", "reason": "behind"})
        );
        let ping = serde_json::to_value(ServerFrame::new(ServerMessage::Ping)).unwrap();
        assert_eq!(ping, serde_json::json!({"v": 1, "type": "ping"}));
        let c: ClientFrame =
            serde_json::from_str(r#"{"v":1,"type":"resume","after":"42"}"#).unwrap();
        assert_eq!(c.msg, ClientMessage::Resume { after: "42".into() });
        let pong: ClientFrame = serde_json::from_str(r#"{"v":1,"type":"pong"}"#).unwrap();
        assert_eq!(pong.msg, ClientMessage::Pong);
        assert!(serde_json::from_str::<ClientFrame>(r#"{"v":1,"type":"hack"}"#).is_err());
    }

    #[test]
    fn positions_order_by_their_number_then_the_rest() {
        assert_eq!(position_key("42"), Some((42, "")));
        assert_eq!(
            position_key("1700000000000000:abc:3"),
            Some((1700000000000000, "abc:3"))
        );
        assert!(position_key("9") < position_key("10"));
        assert!(position_key("10:a:1") < position_key("10:b:1"));
        assert_eq!(position_key("x:1"), None);
        assert_eq!(position_key(""), None);
    }
}
