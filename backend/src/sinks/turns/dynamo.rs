//! The book of turns as one item per channel in the fan-out state table:
//! `pk` = `pace#["<channel>"]` with `next_at` (microseconds since the epoch), the
//! start of the next free turn. Booking reads it and moves it on with a write
//! conditioned on the value read, so two invocations never book the same turn.

use super::Turns;
use crate::sinks::dedup::{condition_failed, done_unless_failed, dynamo_error};
use crate::sinks::SinkError;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use std::time::Duration;

/// Tries at booking before giving up on the shared book for this request (the
/// caller then paces only itself).
const TRIES: u32 = 20;
/// An idle channel's item goes after a day (the table's TTL).
const KEPT: chrono::Duration = chrono::Duration::days(1);

/// Turns booked in a DynamoDB table.
#[derive(Debug, Clone)]
pub struct DynamoTurns {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoTurns {
    /// The book in `table` (hash key `pk`, TTL `expires_at`).
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> DynamoTurns {
        DynamoTurns {
            client,
            table: table.into(),
        }
    }

    fn pk(channel: &str) -> AttributeValue {
        AttributeValue::S(format!(
            "pace#{}",
            serde_json::to_string(&[channel]).unwrap_or_default()
        ))
    }

    /// The next free turn as stored, if any.
    async fn next_at(&self, channel: &str) -> Result<Option<i64>, SinkError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", Self::pk(channel))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| dynamo_error("GetItem", &self.table, e))?;
        Ok(out
            .item
            .and_then(|i| i.get("next_at").and_then(|v| v.as_n().ok()?.parse().ok())))
    }
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

#[async_trait]
impl Turns for DynamoTurns {
    async fn book(
        &self,
        channel: &str,
        interval: Duration,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, SinkError> {
        let step = i64::try_from(interval.as_micros()).unwrap_or(i64::MAX);
        for _ in 0..TRIES {
            let read = self.next_at(channel).await?;
            let start = read.unwrap_or(i64::MIN).max(now.timestamp_micros());
            let mut update = self
                .client
                .update_item()
                .table_name(&self.table)
                .key("pk", Self::pk(channel))
                .update_expression("SET next_at = :next, expires_at = :expires")
                .expression_attribute_values(":next", n(start.saturating_add(step)))
                .expression_attribute_values(":expires", n((now + KEPT).timestamp()));
            update = match read {
                None => update.condition_expression("attribute_not_exists(pk)"),
                Some(r) => update
                    .condition_expression("next_at = :read")
                    .expression_attribute_values(":read", n(r)),
            };
            match update.send().await {
                Ok(_) => return Ok(DateTime::from_timestamp_micros(start).unwrap_or(now)),
                // Someone booked in between: read again.
                Err(e) if condition_failed(&e) => continue,
                Err(e) => return Err(dynamo_error("UpdateItem", &self.table, e)),
            }
        }
        Err(SinkError::retryable(format!(
            "turns of channel {channel}: {TRIES} bookings in a row lost to others"
        )))
    }

    async fn hold(&self, channel: &str, until: DateTime<Utc>) -> Result<(), SinkError> {
        let r = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", Self::pk(channel))
            .update_expression("SET next_at = :until, expires_at = :expires")
            .condition_expression("attribute_not_exists(pk) OR next_at < :until")
            .expression_attribute_values(":until", n(until.timestamp_micros()))
            .expression_attribute_values(":expires", n((until + KEPT).timestamp()))
            .send()
            .await;
        // Already held as long or longer.
        done_unless_failed("UpdateItem", &self.table, r)
    }
}
