//! Turns on a channel shared by several processes. One process paces its own
//! requests ([`super::pace::Pacer`]); where several send to one channel at once
//! (concurrent `fanout` invocations posting to one Slack webhook), each also books
//! its turn here first, so the receiver still sees at most one request per
//! interval. On AWS the book is an item of the fan-out state table.

use super::SinkError;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// The DynamoDB book (the `fanout` Lambda).
#[cfg(feature = "aws")]
pub mod dynamo;

/// A shared book of request turns per channel.
#[async_trait]
pub trait Turns: Send + Sync {
    /// Books the next turn on `channel`: at or after `now`, and at least
    /// `interval` after the turn booked before it by anyone. Answers when the
    /// booked turn starts.
    async fn book(
        &self,
        channel: &str,
        interval: Duration,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, SinkError>;

    /// Moves `channel`'s next free turn to `until` at the earliest (the receiver
    /// asked everyone to wait: Slack's `Retry-After`).
    async fn hold(&self, channel: &str, until: DateTime<Utc>) -> Result<(), SinkError>;
}
