//! The live sink on AWS: the `fanout` Lambda posts each batch of changes to every
//! dashboard connected to the WebSocket API, through the API Gateway Management
//! API. Connections are served concurrently; a connection that answers 410 Gone
//! is deleted (that one, never the sender or the others); throttling is retried
//! with backoff; any other failure skips that connection for this batch. One
//! dead or slow dashboard never fails the batch for the others, so the batch
//! fails (and is retried) only when the connections cannot be listed at all.
//! After the changes, a `summary` frame moves the overview counters.

use super::live::{frame_at, frame_json};
use super::{Sink, SinkError};
use crate::live::connections::Connections;
use crate::live::gateway::{Gateway, PostError};
use crate::live::resume::position;
use crate::retry::Backoff;
use crate::store::{Change, Store};
use async_trait::async_trait;
use futures::StreamExt;
use shared_types::{ServerFrame, ServerMessage};
use std::sync::Arc;
use std::time::Duration;

/// Connections posted to at the same time.
const CONCURRENCY: usize = 32;
/// Frames in flight to one connection.
const PER_CONNECTION: usize = 8;

/// What one batch did, per connection outcome (logged; returned for tests).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Pushed {
    /// Connections that got every frame.
    pub delivered: usize,
    /// Connections that answered 410 and were deleted.
    pub gone: usize,
    /// Connections skipped for this batch after an error.
    pub failed: usize,
}

/// Posts changes to every open WebSocket connection.
pub struct WebSocketSink {
    connections: Connections,
    gateway: Arc<dyn Gateway>,
    store: Option<Arc<dyn Store>>,
    backoff: Backoff,
}

enum Outcome {
    Delivered,
    Gone,
    Failed,
}

impl WebSocketSink {
    /// A sink posting through `gateway` to the connections in `connections`;
    /// with a `store`, each batch ends with a `summary` frame.
    pub fn new(
        connections: Connections,
        gateway: Arc<dyn Gateway>,
        store: Option<Arc<dyn Store>>,
    ) -> WebSocketSink {
        WebSocketSink {
            connections,
            gateway,
            store,
            backoff: Backoff {
                max_attempts: 4,
                base: Duration::from_millis(50),
                cap: Duration::from_millis(500),
            },
        }
    }

    /// Posts the frames of `changes` to every connection.
    pub async fn push(&self, changes: &[Change]) -> Result<Pushed, SinkError> {
        let mut frames: Vec<String> = Vec::new();
        for c in changes.iter().filter(|c| !c.quiet) {
            match frame_json(&frame_at(c, position(c.at, &c.finding.item.id, c.revision))) {
                Ok(j) => frames.push(j),
                Err(e) => tracing::warn!(key = %c.key, error = %e, "change not pushed live"),
            }
        }
        if let Some(summary) = self.summary().await {
            frames.push(summary);
        }
        if frames.is_empty() {
            return Ok(Pushed::default());
        }
        let ids = self
            .connections
            .list(chrono::Utc::now())
            .await
            .map_err(|e| SinkError::retryable(e.to_string()))?;
        let pushed = self.broadcast(ids, &frames).await;
        tracing::info!(
            frames = frames.len(),
            delivered = pushed.delivered,
            gone = pushed.gone,
            failed = pushed.failed,
            "live frames posted"
        );
        Ok(pushed)
    }

    /// Posts `frames` to each of `ids`, [`CONCURRENCY`] connections at a time.
    pub async fn broadcast(&self, ids: Vec<String>, frames: &[String]) -> Pushed {
        // Futures made up front: a stream of them borrows nothing generic, which
        // keeps the sink's future `Send`.
        let each: Vec<_> = ids
            .into_iter()
            .map(|id| async move { self.to_connection(&id, frames).await })
            .collect();
        let outcomes: Vec<Outcome> = futures::stream::iter(each)
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        let mut pushed = Pushed::default();
        for o in outcomes {
            match o {
                Outcome::Delivered => pushed.delivered += 1,
                Outcome::Gone => pushed.gone += 1,
                Outcome::Failed => pushed.failed += 1,
            }
        }
        pushed
    }

    /// Posts every one of `frames` to connection `id` (up to [`PER_CONNECTION`]
    /// in flight: the dashboard applies each position once, in any order); a
    /// 410 deletes the connection.
    pub async fn post_to(&self, id: &str, frames: &[String]) -> bool {
        matches!(self.to_connection(id, frames).await, Outcome::Delivered)
    }

    async fn to_connection(&self, id: &str, frames: &[String]) -> Outcome {
        // The first frame alone: a closed connection costs one call, not one per
        // frame in flight. The rest go [`PER_CONNECTION`] at a time.
        let (first, rest) = match frames.split_first() {
            Some(split) => split,
            None => return Outcome::Delivered,
        };
        if let Err(e) = self.post(id, first).await {
            return self.failed(id, e).await;
        }
        let each: Vec<_> = rest.iter().map(|frame| self.post(id, frame)).collect();
        let mut posts = futures::stream::iter(each).buffered(PER_CONNECTION);
        while let Some(posted) = posts.next().await {
            if let Err(e) = posted {
                return self.failed(id, e).await;
            }
        }
        Outcome::Delivered
    }

    /// One frame to one connection, retried while it is throttled.
    async fn post(&self, id: &str, frame: &str) -> Result<(), PostError> {
        crate::retry::retry(&self.backoff, PostError::is_busy, || {
            self.gateway.post(id, frame.as_bytes())
        })
        .await
    }

    /// A connection that gave up: deleted when it is gone, skipped otherwise.
    async fn failed(&self, id: &str, e: PostError) -> Outcome {
        if e == PostError::Gone {
            if let Err(e) = self.connections.remove(id).await {
                tracing::warn!(connection = id, error = %e, "gone connection not deleted");
            }
            return Outcome::Gone;
        }
        tracing::warn!(connection = id, error = %e, "live frames not posted");
        Outcome::Failed
    }

    async fn summary(&self) -> Option<String> {
        let store = self.store.as_ref()?;
        let s = match store.summary(chrono::Utc::now().date_naive()).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "live summary not computed");
                return None;
            }
        };
        let frame = ServerFrame::new(ServerMessage::Summary {
            position: position(chrono::Utc::now(), "summary", 0),
            by_severity: s.by_severity,
            by_status: s.by_status,
            total: s.total,
            trend: s.trend,
        });
        frame_json(&frame).ok()
    }
}

#[async_trait]
impl Sink for WebSocketSink {
    fn name(&self) -> &str {
        "live"
    }

    fn wants(&self, _change: &Change) -> bool {
        true
    }

    async fn send(&self, changes: &[Change]) -> Result<(), SinkError> {
        self.push(changes).await.map(|_| ())
    }

    fn max_batch(&self) -> usize {
        1000
    }
}
