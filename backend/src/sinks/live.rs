//! Live push to every open dashboard: a sink on the change feed that turns each
//! change into a frame of the live protocol (`shared_types::live`) and broadcasts
//! it through a bounded channel. The WebSocket route (http/live.rs) forwards the
//! frames to each connection; a connection that falls behind the bound is told to
//! `resync` and dropped, so one slow browser never slows the others or grows memory.
//! The overview counters travel as a `summary` frame, coalesced to at most one a
//! second.

use super::{Sink, SinkError};
use crate::store::{Change, Store};
use async_trait::async_trait;
use shared_types::{ChangeKind, FindingListItem, ServerFrame, ServerMessage, MAX_FRAME_BYTES};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

/// Frames a connection may fall behind before it is told to resync.
pub const CHANNEL_BOUND: usize = 4096;

/// Longest text of a list item's field inside a frame (titles are attacker-
/// controlled and unbounded; frames must stay under [`MAX_FRAME_BYTES`]).
const MAX_FIELD_CHARS: usize = 2000;

/// One broadcast frame: its feed position (`None` for summaries) and its JSON.
#[derive(Debug, Clone)]
pub struct Frame {
    /// The change's `seq`; connections skip frames they already sent.
    pub seq: Option<u64>,
    /// The serialized frame.
    pub json: Arc<str>,
}

/// The broadcast point every connection subscribes to.
pub struct LiveHub {
    tx: broadcast::Sender<Frame>,
    /// Highest `seq` broadcast so far (the `hello` position).
    last: AtomicU64,
    /// A change arrived since the last summary frame.
    dirty: AtomicBool,
}

impl std::fmt::Debug for LiveHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveHub")
            .field("last", &self.last.load(Ordering::Relaxed))
            .finish()
    }
}

impl LiveHub {
    /// A hub whose position starts at `head` (the feed's head when the server
    /// started: connections resume from the feed for anything before it).
    pub fn new(head: u64) -> Arc<LiveHub> {
        Arc::new(LiveHub {
            tx: broadcast::channel(CHANNEL_BOUND).0,
            last: AtomicU64::new(head),
            dirty: AtomicBool::new(false),
        })
    }

    /// A receiver of every frame broadcast from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Frame> {
        self.tx.subscribe()
    }

    /// The highest position broadcast so far.
    pub fn position(&self) -> u64 {
        self.last.load(Ordering::SeqCst)
    }

    /// Connections open now.
    pub fn connections(&self) -> usize {
        self.tx.receiver_count()
    }

    fn publish(&self, frame: Frame) {
        if let Some(seq) = frame.seq {
            self.last.fetch_max(seq, Ordering::SeqCst);
        }
        // No receiver is fine: nobody is watching.
        let _ = self.tx.send(frame);
    }

    /// Broadcasts a summary frame when changes arrived since the last one, at most
    /// every `every`; ends when the hub has no sender left (never, while serving).
    pub async fn summaries(self: Arc<Self>, store: Arc<dyn Store>, every: Duration) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if !self.dirty.swap(false, Ordering::SeqCst) || self.connections() == 0 {
                continue;
            }
            match store.summary(chrono::Utc::now().date_naive()).await {
                Ok(s) => {
                    let frame = ServerFrame::new(ServerMessage::Summary {
                        position: self.position().to_string(),
                        by_severity: s.by_severity,
                        by_status: s.by_status,
                        total: s.total,
                        trend: s.trend,
                    });
                    if let Ok(json) = serde_json::to_string(&frame) {
                        self.publish(Frame {
                            seq: None,
                            json: json.into(),
                        });
                    }
                }
                Err(e) => tracing::warn!(error = %e, "live summary not computed"),
            }
        }
    }
}

fn clip(s: &mut String) {
    if s.chars().count() > MAX_FIELD_CHARS {
        *s = s.chars().take(MAX_FIELD_CHARS).collect::<String>() + "…";
    }
}

/// The list item a frame carries, its free texts clipped so the frame fits.
pub(crate) fn clipped(item: &FindingListItem) -> FindingListItem {
    let mut i = item.clone();
    for s in [
        &mut i.title,
        &mut i.resource_id,
        &mut i.asff_id,
        &mut i.resource_type,
        &mut i.product_name,
        &mut i.account_id,
        &mut i.region,
    ] {
        clip(s);
    }
    i
}

/// The frame a change becomes (positions are the change's `seq`).
pub fn frame_of(change: &Change) -> ServerFrame {
    frame_at(change, change.seq.to_string())
}

/// The frame a change becomes at `position` (on AWS, see `live::resume`).
pub fn frame_at(change: &Change, position: String) -> ServerFrame {
    let item = clipped(&change.finding.item);
    let msg = match change.kind {
        ChangeKind::WorkflowChanged => ServerMessage::Workflow {
            position,
            id: item.id.clone(),
            status: item.workflow_status,
            actor: change.actor.clone(),
            note: change.finding.note.clone().map(|mut n| {
                clip(&mut n);
                n
            }),
            item,
        },
        kind => ServerMessage::Finding {
            position,
            change_kind: kind,
            item,
        },
    };
    ServerFrame::new(msg)
}

/// The frame as JSON, checked against the frame limit.
pub fn frame_json(frame: &ServerFrame) -> Result<String, SinkError> {
    let json = serde_json::to_string(frame)
        .map_err(|e| SinkError::permanent(format!("live frame: {e}")))?;
    if json.len() > MAX_FRAME_BYTES {
        return Err(SinkError::permanent(format!(
            "live frame of {} bytes is over the {MAX_FRAME_BYTES}-byte limit",
            json.len()
        )));
    }
    Ok(json)
}

/// The sink the dispatcher feeds: every change, to the hub.
pub struct LiveSink {
    hub: Arc<LiveHub>,
}

impl LiveSink {
    /// A sink publishing to `hub`.
    pub fn new(hub: Arc<LiveHub>) -> LiveSink {
        LiveSink { hub }
    }
}

#[async_trait]
impl Sink for LiveSink {
    fn name(&self) -> &str {
        "live"
    }

    fn wants(&self, _change: &Change) -> bool {
        true
    }

    async fn send(&self, changes: &[Change]) -> Result<(), SinkError> {
        // Quiet changes (demo loads, archival) only move the counters.
        for c in changes.iter().filter(|c| !c.quiet) {
            let json = match frame_json(&frame_of(c)) {
                Ok(j) => j,
                Err(e) => {
                    tracing::warn!(key = %c.key, error = %e, "change not pushed live");
                    continue;
                }
            };
            self.hub.publish(Frame {
                seq: Some(c.seq),
                json: json.into(),
            });
        }
        self.hub.dirty.store(true, Ordering::SeqCst);
        Ok(())
    }

    fn max_batch(&self) -> usize {
        1000
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(kind: ChangeKind, title_len: usize) -> Change {
        let mut c = crate::cli::sinks::test_change();
        c.kind = kind;
        c.seq = 7;
        c.finding.item.title = "x".repeat(title_len);
        c
    }

    #[test]
    fn changes_become_finding_or_workflow_frames_that_fit() {
        let f = frame_of(&change(ChangeKind::Inserted, 10));
        assert!(
            matches!(f.msg, ServerMessage::Finding { ref position, change_kind: ChangeKind::Inserted, .. } if position == "7")
        );
        let w = frame_of(&change(ChangeKind::WorkflowChanged, 10));
        assert!(matches!(w.msg, ServerMessage::Workflow { .. }));
        let huge = frame_json(&frame_of(&change(ChangeKind::Updated, 1_000_000))).unwrap();
        assert!(huge.len() <= MAX_FRAME_BYTES, "{}", huge.len());
    }

    #[tokio::test]
    async fn frames_reach_subscribers_and_the_position_moves() {
        let hub = LiveHub::new(3);
        let mut rx = hub.subscribe();
        let sink = LiveSink::new(hub.clone());
        sink.send(&[change(ChangeKind::Inserted, 5)]).await.unwrap();
        let got = rx.recv().await.unwrap();
        assert_eq!(got.seq, Some(7));
        assert_eq!(hub.position(), 7);
        assert!(got.json.contains("\"type\":\"finding\""));
    }
}
