//! The live connection's logic, kept apart from the browser so it is tested
//! natively: the connection status the page shows, the reconnect backoff, and the
//! position tracking that makes sure no pushed change is applied twice.

use shared_types::{ServerFrame, ServerMessage};

/// What the connection indicator shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveStatus {
    /// Opening the first connection.
    Connecting,
    /// Connected: changes arrive as they happen.
    Live,
    /// The connection dropped; trying again.
    Reconnecting,
    /// Live updates are not available here (or the page gave up for now).
    Offline,
}

impl LiveStatus {
    /// The indicator's text.
    pub fn label(self) -> &'static str {
        match self {
            LiveStatus::Connecting => "connecting",
            LiveStatus::Live => "live",
            LiveStatus::Reconnecting => "reconnecting",
            LiveStatus::Offline => "offline",
        }
    }
}

/// Wait before reconnect number `attempt` (0-based): 1 s doubling to 30 s, spread
/// by `jitter` in [0, 1) so many pages do not reconnect in step after a restart.
pub fn reconnect_delay_ms(attempt: u32, jitter: f64) -> u32 {
    let base = 1000u32.saturating_mul(1 << attempt.min(5));
    let spread = (base as f64 * 0.5 * jitter.clamp(0.0, 1.0)) as u32;
    // ±25 % around the base so a restarted server is not hit by every page at
    // once; the cap applies after the jitter so no wait exceeds 30 s.
    (base - base / 4 + spread).min(30_000)
}

/// What to do with a frame that arrived.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Apply it (a change or a summary the page has not seen).
    Apply(Box<ServerMessage>),
    /// Already applied (a replay overlapping what arrived before the drop).
    Skip,
    /// Answer the keep-alive.
    Pong,
    /// The first frame of a connection: send `resume` when we have a position.
    Hello {
        /// Resume after this position (the last one applied), if any.
        resume_after: Option<String>,
    },
    /// The server cannot catch this page up: reload what is on screen.
    Reload,
}

/// The last feed position applied, across reconnects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tracker {
    last: Option<u64>,
}

impl Tracker {
    /// Decides what a frame means for the page.
    pub fn on_frame(&mut self, frame: ServerFrame) -> Action {
        let position = frame.position().and_then(|p| p.parse::<u64>().ok());
        match frame.msg {
            ServerMessage::Hello { .. } => {
                let resume_after = self.last.map(|l| l.to_string());
                if self.last.is_none() {
                    self.last = position;
                }
                Action::Hello { resume_after }
            }
            ServerMessage::Ping => Action::Pong,
            ServerMessage::Resync { .. } => {
                self.last = None;
                Action::Reload
            }
            msg @ ServerMessage::Summary { .. } => Action::Apply(Box::new(msg)),
            msg => match (position, self.last) {
                (Some(p), Some(l)) if p <= l => Action::Skip,
                (p, _) => {
                    if p.is_some() {
                        self.last = p;
                    }
                    Action::Apply(Box::new(msg))
                }
            },
        }
    }

    /// The last position applied.
    pub fn last(&self) -> Option<u64> {
        self.last
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_data::item;
    use shared_types::{ChangeKind, Severity};

    fn finding(pos: u64) -> ServerFrame {
        ServerFrame::new(ServerMessage::Finding {
            position: pos.to_string(),
            change_kind: ChangeKind::Inserted,
            item: item(&format!("f{pos}"), Severity::High, 0),
        })
    }

    fn hello(pos: u64) -> ServerFrame {
        ServerFrame::new(ServerMessage::Hello {
            server_version: "t".into(),
            position: pos.to_string(),
        })
    }

    #[test]
    fn a_reconnect_resumes_after_the_last_applied_change_and_never_applies_one_twice() {
        let mut t = Tracker::default();
        assert_eq!(t.on_frame(hello(10)), Action::Hello { resume_after: None });
        assert!(matches!(t.on_frame(finding(11)), Action::Apply(_)));
        assert!(matches!(t.on_frame(finding(12)), Action::Apply(_)));
        // The connection drops; the new one says hello at a later position.
        assert_eq!(
            t.on_frame(hello(20)),
            Action::Hello {
                resume_after: Some("12".into())
            }
        );
        // The replay overlaps what was already applied: skipped.
        assert_eq!(t.on_frame(finding(12)), Action::Skip);
        assert!(matches!(t.on_frame(finding(13)), Action::Apply(_)));
        assert_eq!(t.last(), Some(13));
        assert_eq!(
            t.on_frame(ServerFrame::new(ServerMessage::Ping)),
            Action::Pong
        );
        let resync = ServerFrame::new(ServerMessage::Resync { reason: "x".into() });
        assert_eq!(t.on_frame(resync), Action::Reload);
        assert_eq!(t.last(), None);
    }

    #[test]
    fn reconnect_waits_grow_to_thirty_seconds_with_jitter() {
        assert_eq!(reconnect_delay_ms(0, 0.0), 750);
        assert!(reconnect_delay_ms(0, 0.99) < 1300);
        assert!(reconnect_delay_ms(3, 0.5) > reconnect_delay_ms(2, 0.5));
        assert!(reconnect_delay_ms(20, 1.0) <= 30_000);
        assert_eq!(LiveStatus::Reconnecting.label(), "reconnecting");
    }
}
