//! The WebSocket connections API Gateway holds for open dashboards: one item
//! per connection (`connection_id`, `user`, `connected_at`), written on
//! `$connect`, deleted on `$disconnect` or when a post answers 410 Gone. Items
//! expire 2 h 10 min after connecting (API Gateway closes every connection after
//! 2 hours; the margin covers a late `$disconnect`), so the table trims itself
//! even when a `$disconnect` is lost.

use super::LiveError;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};

/// How long a connection item lives.
pub const CONNECTION_TTL: chrono::Duration = chrono::Duration::minutes(130);

/// The connections table.
#[derive(Debug, Clone)]
pub struct Connections {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl Connections {
    /// Connections kept in `table` (hash key `connection_id`).
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Connections {
        Connections {
            client,
            table: table.into(),
        }
    }

    /// Records a connection of `user` opened at `at`.
    pub async fn add(&self, id: &str, user: &str, at: DateTime<Utc>) -> Result<(), LiveError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("connection_id", AttributeValue::S(id.to_string()))
            .item("user", AttributeValue::S(user.to_string()))
            .item("connected_at", AttributeValue::S(at.to_rfc3339()))
            .item(
                "expires_at",
                AttributeValue::N((at + CONNECTION_TTL).timestamp().to_string()),
            )
            .send()
            .await
            .map_err(|e| LiveError::of("PutItem", &self.table, &e))?;
        Ok(())
    }

    /// Forgets a connection (closed, or gone).
    pub async fn remove(&self, id: &str) -> Result<(), LiveError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("connection_id", AttributeValue::S(id.to_string()))
            .send()
            .await
            .map_err(|e| LiveError::of("DeleteItem", &self.table, &e))?;
        Ok(())
    }

    /// Every connection that has not expired, by id. A full scan: the table holds
    /// one small item per open dashboard, and every one of them gets every batch.
    pub async fn list(&self, now: DateTime<Utc>) -> Result<Vec<String>, LiveError> {
        let mut ids = Vec::new();
        let mut start: Option<std::collections::HashMap<String, AttributeValue>> = None;
        loop {
            let out = self
                .client
                .scan()
                .table_name(&self.table)
                .projection_expression("connection_id, expires_at")
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| LiveError::of("Scan", &self.table, &e))?;
            for item in out.items() {
                // TTL deletion lags by up to days: expired items are skipped here.
                let live = item
                    .get("expires_at")
                    .and_then(|v| v.as_n().ok())
                    .and_then(|n| n.parse::<i64>().ok())
                    .is_none_or(|e| e > now.timestamp());
                if let (true, Some(AttributeValue::S(id))) = (live, item.get("connection_id")) {
                    ids.push(id.clone());
                }
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(ids),
            }
        }
    }
}
