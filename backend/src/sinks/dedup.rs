//! Remembering what a sink already delivered, by change key. Delivery from the feed
//! is at least once (a crash after sending but before the cursor moved, a Lambda
//! retry of a stream batch): alerting sinks ask here first and remember after, so a
//! redelivered change does not page anyone twice. Locally the memory is a table in
//! the SQLite file (feed/state.rs); on AWS an item per key with a TTL in the fanout
//! state table.

use super::SinkError;
use async_trait::async_trait;
use std::collections::HashSet;
use std::sync::Mutex;

/// The fan-out state table's memory (the `fanout` Lambda).
#[cfg(feature = "aws")]
mod dynamo;
#[cfg(feature = "aws")]
pub use dynamo::{condition_failed, done_unless_failed, dynamo_error, DynamoDedup};

/// Which change keys a sink already delivered.
#[async_trait]
pub trait Dedup: Send + Sync {
    /// True when `sink` already delivered `key`.
    async fn seen(&self, sink: &str, key: &str) -> Result<bool, SinkError>;
    /// Records that `sink` delivered `key`.
    async fn remember(&self, sink: &str, key: &str) -> Result<(), SinkError>;
}

/// Runs `send` unless `sink` already delivered `key`, and remembers `key` once it
/// went: the one way every alerting sink asks, so none forgets the second half.
pub async fn once<F>(dedup: &dyn Dedup, sink: &str, key: &str, send: F) -> Result<(), SinkError>
where
    F: std::future::Future<Output = Result<(), SinkError>>,
{
    if dedup.seen(sink, key).await? {
        return Ok(());
    }
    send.await?;
    dedup.remember(sink, key).await
}

/// In-process memory only (tests; a process that restarts forgets).
#[derive(Debug, Default)]
pub struct MemoryDedup {
    seen: Mutex<HashSet<(String, String)>>,
}

#[async_trait]
impl Dedup for MemoryDedup {
    async fn seen(&self, sink: &str, key: &str) -> Result<bool, SinkError> {
        Ok(self
            .seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&(sink.to_string(), key.to_string())))
    }

    async fn remember(&self, sink: &str, key: &str) -> Result<(), SinkError> {
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert((sink.to_string(), key.to_string()));
        Ok(())
    }
}
