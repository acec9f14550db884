//! The change feed port: reading the changes a store recorded, in order. SQLite
//! implements it over its `changes` table; on AWS the feed is DynamoDB Streams,
//! read by the `fanout` Lambda (feed/fanout.rs), not through this port.

use super::change::Change;
use super::StoreResult;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// A store whose changes can be read back in commit order.
#[async_trait]
pub trait ChangeFeed: Send + Sync {
    /// Up to `limit` changes with `seq > after`, oldest first.
    async fn changes_after(&self, after: u64, limit: u32) -> StoreResult<Vec<Change>>;

    /// The newest `seq` handed out (0 when none); never goes back, even after trimming.
    async fn head(&self) -> StoreResult<u64>;

    /// Wakes up when this process committed changes (other processes writing the
    /// same store are seen by polling [`ChangeFeed::head`]).
    fn subscribe(&self) -> tokio::sync::watch::Receiver<u64>;

    /// Removes changes with `seq <= upto` recorded before `before` (the retention
    /// window, never past what every consumer has read). Returns how many went.
    async fn trim(&self, upto: u64, before: DateTime<Utc>) -> StoreResult<u64>;
}
