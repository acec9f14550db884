//! The live connection's logic, kept apart from the browser so it is tested
//! natively: the connection status the page shows, the reconnect backoff, and the
//! position tracking that makes sure no pushed change is applied twice.

use shared_types::{position_key, ServerFrame, ServerMessage};
use std::collections::{HashSet, VecDeque};

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
    /// The server's greeting (the local server sends one; AWS cannot).
    Hello,
    /// The server cannot catch this page up: reload what is on screen.
    Reload,
}

/// Positions remembered to recognise a frame already applied (more than a
/// server ever replays).
const REMEMBERED: usize = 20_000;

/// The feed positions applied, across reconnects: the highest (to resume after)
/// and the recent ones (so a frame that arrives twice — a replay overlapping what
/// came before the drop, or a frame pushed while a resume is being answered — is
/// applied once). On AWS frames from parallel stream shards may arrive out of
/// order, so a lower position is not a duplicate: only one already seen is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tracker {
    last: Option<String>,
    seen: HashSet<String>,
    order: VecDeque<String>,
}

impl Tracker {
    /// Decides what a frame means for the page.
    pub fn on_frame(&mut self, frame: ServerFrame) -> Action {
        let position = frame.position().map(str::to_string);
        match frame.msg {
            ServerMessage::Hello { .. } => {
                // A first connection starts from the server's position.
                if self.last.is_none() {
                    self.last = position;
                }
                Action::Hello
            }
            ServerMessage::Ping => Action::Pong,
            ServerMessage::Resync { .. } => {
                *self = Tracker::default();
                Action::Reload
            }
            msg @ ServerMessage::Summary { .. } => Action::Apply(Box::new(msg)),
            msg => match position {
                Some(p) if self.seen.contains(&p) => Action::Skip,
                Some(p) => {
                    self.remember(p);
                    Action::Apply(Box::new(msg))
                }
                None => Action::Apply(Box::new(msg)),
            },
        }
    }

    fn remember(&mut self, p: String) {
        let higher = match (&self.last, position_key(&p)) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(l), Some(k)) => position_key(l).is_none_or(|lk| k > lk),
        };
        if higher {
            self.last = Some(p.clone());
        }
        self.seen.insert(p.clone());
        self.order.push_back(p);
        if self.order.len() > REMEMBERED {
            if let Some(old) = self.order.pop_front() {
                self.seen.remove(&old);
            }
        }
    }

    /// Where a new connection resumes: after the highest position applied (or
    /// greeted with); nothing on a first connection.
    pub fn resume_after(&self) -> Option<String> {
        self.last.clone()
    }

    /// The highest position applied.
    pub fn last(&self) -> Option<&str> {
        self.last.as_deref()
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
        assert_eq!(t.resume_after(), None, "a first connection does not resume");
        assert_eq!(t.on_frame(hello(10)), Action::Hello);
        assert!(matches!(t.on_frame(finding(11)), Action::Apply(_)));
        assert!(matches!(t.on_frame(finding(12)), Action::Apply(_)));
        // The connection drops; the new one resumes after the last applied.
        assert_eq!(t.resume_after().as_deref(), Some("12"));
        assert_eq!(t.on_frame(hello(20)), Action::Hello);
        assert_eq!(
            t.resume_after().as_deref(),
            Some("12"),
            "hello does not move it"
        );
        // The replay overlaps what was already applied: skipped.
        assert_eq!(t.on_frame(finding(12)), Action::Skip);
        assert!(matches!(t.on_frame(finding(13)), Action::Apply(_)));
        assert_eq!(t.last(), Some("13"));
        assert_eq!(
            t.on_frame(ServerFrame::new(ServerMessage::Ping)),
            Action::Pong
        );
        let resync = ServerFrame::new(ServerMessage::Resync { reason: "x".into() });
        assert_eq!(t.on_frame(resync), Action::Reload);
        assert_eq!(t.last(), None);
    }

    #[test]
    fn frames_out_of_order_are_applied_once_each_and_resume_uses_the_highest() {
        let aws = |p: &str| {
            ServerFrame::new(ServerMessage::Finding {
                position: p.into(),
                change_kind: ChangeKind::Updated,
                item: item(p, Severity::Low, 0),
            })
        };
        // No hello on AWS: the first frame is a change.
        let mut t = Tracker::default();
        assert!(matches!(
            t.on_frame(aws("1700000000000200:b:2")),
            Action::Apply(_)
        ));
        // An earlier change from another stream shard, arriving later: applied.
        assert!(matches!(
            t.on_frame(aws("1700000000000100:a:7")),
            Action::Apply(_)
        ));
        assert_eq!(t.last(), Some("1700000000000200:b:2"));
        // The resume after a reconnect replays both: neither is applied again.
        assert_eq!(t.resume_after().as_deref(), Some("1700000000000200:b:2"));
        assert_eq!(t.on_frame(aws("1700000000000100:a:7")), Action::Skip);
        assert_eq!(t.on_frame(aws("1700000000000200:b:2")), Action::Skip);
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
