//! Feed positions on AWS and `resume` from the findings table.
//!
//! AWS has no global sequence number: the stream is split into shards processed
//! in parallel. A position is `{change time in µs}:{finding id}:{revision}` —
//! ordered by time (`shared_types::position_key`), unique per change. A
//! reconnecting dashboard sends the highest position it applied; the findings
//! that changed since are read back from the `SeverityChangeIndex` (one query per
//! severity, oldest change first) — so API Gateway's 2-hour cut loses nothing.
//! The query starts [`SLACK`] before the position, because a shard can push a
//! change a little after a later one from another shard; the dashboard applies
//! each position once, so the overlap is never shown twice. A finding is read as
//! it is now: several changes to it while a page was away arrive as one.

use super::LiveError;
use crate::sinks::live::frame_json;
use crate::store::dynamo::item::{sort_key, LastChange, ListRow};
use crate::store::dynamo::CHANGE_INDEX_NAME;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, TimeZone, Utc};
use shared_types::{
    position_key, ChangeKind, FindingListItem, ServerFrame, ServerMessage, Severity,
};
use std::collections::HashMap;

/// How far before the client's position a resume reads.
pub const SLACK: chrono::Duration = chrono::Duration::seconds(60);

/// The position of a change made at `at` to finding `id`, now at `revision`.
pub fn position(at: DateTime<Utc>, id: &str, revision: u64) -> String {
    format!("{}:{id}:{revision}", at.timestamp_micros())
}

/// What a resume found.
#[derive(Debug, Clone, PartialEq)]
pub enum Resumed {
    /// The frames to send, oldest change first.
    Frames(Vec<String>),
    /// More changed than a resume replays: the page must reload.
    TooFar,
}

/// Reads what changed after a position.
#[derive(Debug, Clone)]
pub struct Resume {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

/// The parts of an index row beyond the list item.
#[derive(Debug, serde::Deserialize)]
struct ChangeMeta {
    rev: u64,
    #[serde(default)]
    last_change: Option<LastChange>,
}

impl Resume {
    /// Resumes from the findings `table`.
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Resume {
        Resume {
            client,
            table: table.into(),
        }
    }

    /// The frames for every finding changed after `after` (a position this
    /// module made), at most `limit` of them.
    pub async fn after(&self, after: &str, limit: usize) -> Result<Resumed, LiveError> {
        let Some((micros, _)) = position_key(after) else {
            return Ok(Resumed::TooFar);
        };
        let Some(since) = Utc.timestamp_micros(micros as i64).single() else {
            return Ok(Resumed::TooFar);
        };
        let from = sort_key(since - SLACK);
        let mut rows: Vec<(String, ServerFrame)> = Vec::new();
        for severity in Severity::ALL_DESC {
            if !self.query(severity, &from, limit, &mut rows).await? {
                return Ok(Resumed::TooFar);
            }
        }
        rows.sort_by(|a, b| position_key(&a.0).cmp(&position_key(&b.0)));
        let frames = rows
            .iter()
            .filter_map(|(_, f)| frame_json(f).ok())
            .collect();
        Ok(Resumed::Frames(frames))
    }

    /// Appends the frames of `severity`'s changes since `from`; false when
    /// `rows` would pass `limit`.
    async fn query(
        &self,
        severity: Severity,
        from: &str,
        limit: usize,
        rows: &mut Vec<(String, ServerFrame)>,
    ) -> Result<bool, LiveError> {
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(CHANGE_INDEX_NAME)
                .key_condition_expression("severity = :s AND changed_at > :c")
                .expression_attribute_values(":s", AttributeValue::S(severity.as_str().into()))
                .expression_attribute_values(":c", AttributeValue::S(from.into()))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| LiveError::of("Query", &self.table, &e))?;
            for item in out.items.unwrap_or_default() {
                if rows.len() >= limit {
                    return Ok(false);
                }
                if let Some(row) = frame_of_row(item) {
                    rows.push(row);
                }
            }
            match out.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(true),
            }
        }
    }
}

/// A row of the change index as a frame with its position; `None` for rows
/// that do not read as findings (skipped, not fatal: one bad item must not stop
/// every dashboard's catch-up).
fn frame_of_row(item: HashMap<String, AttributeValue>) -> Option<(String, ServerFrame)> {
    let meta: ChangeMeta = serde_dynamo::from_item(item.clone()).ok()?;
    let row: ListRow = serde_dynamo::from_item(item).ok()?;
    let last = meta.last_change?;
    let item = crate::sinks::live::clipped(&FindingListItem::from(row));
    let position = position(last.at, &item.id, meta.rev);
    let msg = ServerMessage::Finding {
        position: position.clone(),
        change_kind: last.kind,
        item,
    };
    // A deleted finding is gone from the table: never in a resume.
    debug_assert!(last.kind != ChangeKind::Deleted);
    Some((position, ServerFrame::new(msg)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_ordered_by_change_time_and_unique_per_change() {
        let t = Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap();
        let a = position(t, "abc", 3);
        assert_eq!(a, format!("{}:abc:3", t.timestamp_micros()));
        let b = position(t + chrono::Duration::microseconds(1), "aaa", 1);
        assert!(position_key(&a) < position_key(&b));
        assert_ne!(a, position(t, "abc", 4));
    }
}
