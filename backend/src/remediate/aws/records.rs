//! Remediation records as DynamoDB items: the record's JSON under `doc`, with
//! the attributes the indexes and filters read beside it (`finding_id`,
//! `requested_at` in milliseconds, `status`, and `kind`, the same on every
//! record so that `TimeIndex` lists them all by time; `StatusIndex` lists one
//! status's by time). The indexes are
//! eventually consistent: a record written a moment ago may be missing from a
//! list for that moment, never from [`RemediationRecords::get`].

use crate::aws::item::{cancellation_reasons, condition_failed, n, s, text, Item};
use crate::remediate::records::{RecordQuery, RecordsError, RemediationRecords};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use shared_types::RemediationRecord;

/// Index of a finding's records by `requested_at`.
pub const FINDING_INDEX: &str = "FindingIndex";
/// Index of every record by `requested_at` (hash key `kind`).
pub const TIME_INDEX: &str = "TimeIndex";
/// Index of the records in one status by `requested_at` (hash key `status`).
pub const STATUS_INDEX: &str = "StatusIndex";
/// The `kind` of a record item (ledger items have none: not in the indexes).
const KIND: &str = "remediation";

/// Tries of [`RemediationRecords::insert_unless_open`] before it gives up (each
/// lost only to another approval of the same finding that moment).
const OPEN_TRIES: usize = 3;

/// The key of a finding's "open remediation" item: which remediation was last
/// opened for it (`remediation_id`). It has no `kind` nor `finding_id`, so no
/// index holds it. It is never deleted: naming a remediation that has ended, it
/// is simply taken over by the next approval.
fn open_key(finding_id: &str) -> String {
    format!("open#{finding_id}")
}

fn invalid(e: impl std::fmt::Display) -> RecordsError {
    RecordsError {
        detail: e.to_string(),
        retryable: false,
    }
}

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
    /// The remediation the finding's open item (`key`) names, if there is one.
    async fn open_remediation(&self, key: &str) -> Result<Option<String>, RecordsError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("id", s(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| failed("GetItem", &e))?;
        Ok(out
            .item
            .as_ref()
            .and_then(|i| text(i, "remediation_id"))
            .map(str::to_owned))
    }

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

    async fn insert_unless_open(
        &self,
        record: &RemediationRecord,
    ) -> Result<Option<RemediationRecord>, RecordsError> {
        let key = open_key(&record.finding_id);
        // First as if the finding never had a remediation; then over the one
        // its open item names, if that one has ended.
        let mut last: Option<String> = None;
        for _ in 0..OPEN_TRIES {
            let open_item = Item::from([
                ("id".to_string(), s(&key)),
                ("remediation_id".to_string(), s(&record.id)),
            ]);
            let mut open = Put::builder()
                .table_name(&self.table)
                .set_item(Some(open_item));
            open = match &last {
                None => open.condition_expression("attribute_not_exists(id)"),
                Some(rid) => open
                    .condition_expression("remediation_id = :last")
                    .expression_attribute_values(":last", s(rid)),
            };
            let new = Put::builder()
                .table_name(&self.table)
                .set_item(Some(item_of(record)?))
                .condition_expression("attribute_not_exists(id)");
            let written = self
                .client
                .transact_write_items()
                .transact_items(
                    TransactWriteItem::builder()
                        .put(open.build().map_err(invalid)?)
                        .build(),
                )
                .transact_items(
                    TransactWriteItem::builder()
                        .put(new.build().map_err(invalid)?)
                        .build(),
                )
                .send()
                .await;
            let lost = match &written {
                Ok(_) => return Ok(None),
                Err(e) => cancellation_reasons(e).is_some_and(|r| {
                    r.first().map(String::as_str) == Some("ConditionalCheckFailed")
                }),
            };
            if !lost {
                return Err(written
                    .map(|_| ())
                    .map_err(|e| failed("TransactWriteItems", &e))
                    .unwrap_err());
            }
            // Another remediation of the finding: the answer if still open.
            last = self.open_remediation(&key).await?;
            if let Some(rid) = &last {
                if let Some(r) = self.get(rid).await?.filter(|r| !r.status.is_final()) {
                    return Ok(Some(r));
                }
            }
        }
        Err(RecordsError {
            detail: format!(
                "the open remediation of finding {} kept changing; try again",
                record.finding_id
            ),
            retryable: true,
        })
    }

    async fn replace(
        &self,
        seen: &RemediationRecord,
        record: &RemediationRecord,
    ) -> Result<bool, RecordsError> {
        // `doc` is the serialized record, and serializing the same record gives
        // the same text: an equal `doc` is an unchanged record.
        let was = serde_json::to_string(seen).map_err(|e| RecordsError {
            detail: e.to_string(),
            retryable: false,
        })?;
        match self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item_of(record)?))
            .condition_expression("#doc = :was")
            .expression_attribute_names("#doc", "doc")
            .expression_attribute_values(":was", s(was))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(failed("PutItem", &e)),
        }
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
            // The index whose key selects the most: a finding's records, else
            // one status's (a rare status over a long history is read alone),
            // else every record. Only a finding's few records are filtered by
            // status after the read.
            let (index, key, value, filtered) = match (&query.finding_id, query.status) {
                (Some(f), status) => (FINDING_INDEX, "finding_id", s(f), status),
                (None, Some(status)) => (STATUS_INDEX, "status", s(status.as_str()), None),
                (None, None) => (TIME_INDEX, "kind", s(KIND), None),
            };
            // Names, not the attributes themselves: `status` is a reserved word.
            q = q
                .index_name(index)
                .key_condition_expression("#k = :k")
                .expression_attribute_names("#k", key)
                .expression_attribute_values(":k", value);
            match filtered {
                // A page may hold few matches: pages go on until enough or none is left.
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
