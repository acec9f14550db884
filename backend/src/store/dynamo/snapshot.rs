//! Daily compliance snapshots as items of the findings table: one item a day,
//! id `#compliance#YYYY-MM-DD`, holding every standard's score that day.
//!
//! One item per day (not per standard) because the table's only key is `id`:
//! the 30-day trend is then one BatchGetItem of 30 known ids, never a scan.
//! Like the counter items, they have no `severity`, so the sparse GSI never
//! sees them, and the change feed skips ids starting with `#`.

use super::error::{is_transient, Call};
use super::{corrupt, DynamoStore};
use crate::retry::retry;
use crate::store::{ScoreSnapshot, StoreError, StoreResult};
use aws_sdk_dynamodb::types::ReturnValue;
use chrono::{Duration, NaiveDate};
use serde_dynamo::aws_sdk_dynamodb_1::{from_item, to_item};

/// Snapshot item ids start with this; finding ids (base64url) never contain `#`.
pub const SNAPSHOT_PREFIX: &str = "#compliance#";

/// The stored item.
#[derive(serde::Serialize, serde::Deserialize)]
struct SnapshotItem {
    id: String,
    scores: Vec<ScoreSnapshot>,
}

/// The item id of `day`'s snapshot.
pub fn snapshot_id(day: NaiveDate) -> String {
    format!("{SNAPSHOT_PREFIX}{}", day.format("%Y-%m-%d"))
}

impl DynamoStore {
    /// Writes `day`'s snapshot, replacing the day's item (one item: a reader
    /// sees one snapshot or the other); no scores leave it empty (a `PutItem`
    /// as for scores, so the roles need no `DeleteItem`). Returns whether it
    /// wrote scores or emptied some.
    pub(super) async fn put_snapshot(
        &self,
        day: NaiveDate,
        scores: &[ScoreSnapshot],
    ) -> StoreResult<bool> {
        let id = snapshot_id(day);
        let item = to_item(SnapshotItem {
            id: id.clone(),
            scores: scores.to_vec(),
        })
        .map_err(|e| StoreError::Backend(Box::new(e)))?;
        let call = Call::new("PutItem", &self.settings.table);
        let put = retry(&self.settings.backoff, is_transient, || {
            self.client
                .put_item()
                .table_name(&self.settings.table)
                .set_item(Some(item.clone()))
                .return_values(ReturnValue::AllOld)
                .send()
        })
        .await
        .map_err(|e| call.store_error(e))?;
        let had_scores = put
            .attributes()
            .and_then(|old| old.get("scores"))
            .and_then(|s| s.as_l().ok())
            .is_some_and(|l| !l.is_empty());
        Ok(!scores.is_empty() || had_scores)
    }

    /// The snapshots of `from..=to` (at most a year), oldest first, then by slug.
    pub(super) async fn snapshots(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<ScoreSnapshot>> {
        let days = (to - from).num_days().clamp(-1, 366);
        let ids: Vec<String> = (0..=days)
            .map(|d| snapshot_id(from + Duration::days(d)))
            .collect();
        let mut out = Vec::new();
        for item in self.batch_get_items(&ids, None).await? {
            let s: SnapshotItem = from_item(item).map_err(|e| corrupt(SNAPSHOT_PREFIX, e))?;
            out.extend(s.scores);
        }
        out.sort_by(|a, b| a.date.cmp(&b.date).then_with(|| a.slug.cmp(&b.slug)));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_ids_cannot_collide_with_finding_ids() {
        let id = snapshot_id(NaiveDate::from_ymd_opt(2026, 12, 2).unwrap());
        assert_eq!(id, "#compliance#2026-12-02");
        assert!(id.starts_with('#'));
    }
}
