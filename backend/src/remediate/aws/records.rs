//! Remediation records as DynamoDB items: the record's JSON under `doc`, with
//! the attributes the indexes and filters read beside it (`finding_id`,
//! `requested_at` in milliseconds, `status`, and `kind`, the same on every
//! record so that `TimeIndex` lists them all by time). The indexes are
//! eventually consistent: a record written a moment ago may be missing from a
//! list for that moment, never from [`RemediationRecords::get`].

use crate::aws::item::{condition_failed, n, s, text, Item};
use crate::remediate::records::{RecordQuery, RecordsError, RemediationRecords};
use async_trait::async_trait;
use shared_types::RemediationRecord;

/// Index of a finding's records by `requested_at`.
pub const FINDING_INDEX: &str = "FindingIndex";
/// Index of every record by `requested_at` (hash key `kind`).
pub const TIME_INDEX: &str = "TimeIndex";
/// The `kind` of a record item (ledger items have none: not in the indexes).
const KIND: &str = "remediation";

/// The records in one table.
#[derive(Debug, Clone)]
pub struct DynamoRecords {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

fn failed<E>(operation: &str, e: &aws_sdk_dynamodb::error::SdkError<E>) -> RecordsError
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    RecordsError {
        retryable: crate::aws::is_retryable(e),
        detail: format!("DynamoDB {operation}: {}", crate::aws::error_text(e)),
    }
}

fn item_of(r: &RemediationRecord) -> Result<Item, RecordsError> {
    let doc = serde_json::to_string(r).map_err(|e| RecordsError {
        detail: e.to_string(),
        retryable: false,
    })?;
    Ok(Item::from([
        ("id".to_string(), s(&r.id)),
        ("kind".to_string(), s(KIND)),
        ("finding_id".to_string(), s(&r.finding_id)),
        (
            "requested_at".to_string(),
            n(r.requested_at.timestamp_millis()),
        ),
        ("status".to_string(), s(r.status.as_str())),
        ("doc".to_string(), s(doc)),
    ]))
}

fn record_of(item: &Item) -> Result<RemediationRecord, RecordsError> {
    let doc = text(item, "doc").ok_or_else(|| RecordsError {
        detail: "a remediation item without its document".into(),
        retryable: false,
    })?;
    serde_json::from_str(doc).map_err(|e| RecordsError {
        detail: format!("a remediation item's document: {e}"),
        retryable: false,
    })
}

impl DynamoRecords {
    /// The records in `table`.
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> DynamoRecords {
        DynamoRecords {
            client,
            table: table.into(),
        }
    }

    /// Writes `r` if the item's existence is as `exists` says.
    async fn put(&self, r: &RemediationRecord, exists: bool) -> Result<(), RecordsError> {
        let condition = if exists {
            "attribute_exists(id)"
        } else {
            "attribute_not_exists(id)"
        };
        match self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item_of(r)?))
            .condition_expression(condition)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Err(RecordsError {
                detail: if exists {
                    format!("no remediation {}", r.id)
                } else {
                    format!("remediation {} exists already", r.id)
                },
                retryable: false,
            }),
            Err(e) => Err(failed("PutItem", &e)),
        }
    }
}

#[async_trait]
impl RemediationRecords for DynamoRecords {
    async fn insert(&self, record: &RemediationRecord) -> Result<(), RecordsError> {
        self.put(record, false).await
    }

    async fn update(&self, record: &RemediationRecord) -> Result<(), RecordsError> {
        self.put(record, true).await
    }

    async fn get(&self, id: &str) -> Result<Option<RemediationRecord>, RecordsError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("id", s(id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| failed("GetItem", &e))?;
        match out.item {
            Some(item) if text(&item, "kind") == Some(KIND) => Ok(Some(record_of(&item)?)),
            _ => Ok(None),
        }
    }

    async fn list(&self, query: &RecordQuery) -> Result<Vec<RemediationRecord>, RecordsError> {
        let limit = query.limit as usize;
        let mut out = Vec::new();
        let mut start = None;
        while out.len() < limit {
            let mut q = self
                .client
                .query()
                .table_name(&self.table)
                .scan_index_forward(false)
                .set_exclusive_start_key(start.take());
            q = match &query.finding_id {
                Some(f) => q
                    .index_name(FINDING_INDEX)
                    .expression_attribute_names("#k", "finding_id")
                    .expression_attribute_values(":k", s(f)),
                None => q
                    .index_name(TIME_INDEX)
                    .expression_attribute_names("#k", "kind")
                    .expression_attribute_values(":k", s(KIND)),
            };
            // Names, not the attributes themselves: `status` is a reserved word.
            q = q.key_condition_expression("#k = :k");
            match query.status {
                // Filtered after the read: a page of the index may hold few
                // matches, so pages go on until enough or none is left (the
                // weakness of a rare status over a long history).
                Some(status) => {
                    q = q
                        .filter_expression("#s = :s")
                        .expression_attribute_names("#s", "status")
                        .expression_attribute_values(":s", s(status.as_str()));
                }
                // Every item matches: read no more than are wanted.
                None => q = q.limit(i32::try_from(limit - out.len()).unwrap_or(i32::MAX)),
            }
            let page = q.send().await.map_err(|e| failed("Query", &e))?;
            for item in page.items.unwrap_or_default() {
                if out.len() < limit {
                    out.push(record_of(&item)?);
                }
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        Ok(out)
    }
}
