//! The per-account rate limit's counts on AWS: one item per account
//! (`ledger#<account>`) in the remediations table, whose map `started` holds,
//! per finding and action, when that remediation last started its calls. The
//! `remediator` Lambda's instances share nothing else, so a count kept in one
//! instance's memory or `/tmp` would let each of them apply the limit again.
//! How attempts ended is in their remediation records; only `started` steps
//! are written here (the others are logged).

use crate::aws::item::{condition_failed, n, s, Item};
use crate::remediate::ledger::{AttemptLog, LedgerEntry, LedgerError, LedgerOutcome};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;

/// Starts older than this are dropped from the item when it is next read: the
/// rate limit counts an hour, and the map must stay far below DynamoDB's
/// 400 KB item size.
const KEPT: Duration = Duration::days(2);

/// The counts in one table.
#[derive(Debug, Clone)]
pub struct DynamoLedger {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

fn failed<E>(operation: &str, e: &aws_sdk_dynamodb::error::SdkError<E>) -> LedgerError
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    LedgerError {
        retryable: crate::aws::is_retryable(e),
        detail: format!("DynamoDB {operation}: {}", crate::aws::error_text(e)),
    }
}

fn account_key(account_id: &str) -> AttributeValue {
    s(format!("ledger#{account_id}"))
}

/// One remediation's key in the map: finding id and action id.
fn started_key(finding_id: &str, action: &str) -> String {
    format!("{finding_id}|{action}")
}

impl DynamoLedger {
    /// The counts in `table`.
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> DynamoLedger {
        DynamoLedger {
            client,
            table: table.into(),
        }
    }

    /// Sets one start in the account's map, which must exist already.
    async fn set_in_map(&self, account: &str, key: &str, ms: i64) -> Result<bool, LedgerError> {
        match self
            .client
            .update_item()
            .table_name(&self.table)
            .key("id", account_key(account))
            .update_expression("SET started.#k = :t")
            .condition_expression("attribute_exists(started)")
            .expression_attribute_names("#k", key)
            .expression_attribute_values(":t", n(ms))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(failed("UpdateItem", &e)),
        }
    }

    /// Creates the account's map holding one start, unless another writer
    /// created it first.
    async fn create_map(&self, account: &str, key: &str, ms: i64) -> Result<bool, LedgerError> {
        match self
            .client
            .update_item()
            .table_name(&self.table)
            .key("id", account_key(account))
            .update_expression("SET started = :m")
            .condition_expression("attribute_not_exists(started)")
            .expression_attribute_values(
                ":m",
                AttributeValue::M(HashMap::from([(key.to_string(), n(ms))])),
            )
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(failed("UpdateItem", &e)),
        }
    }

    /// Drops starts older than [`KEPT`], each only if it is still the time
    /// read (a remediation started again meanwhile keeps its new time). Best
    /// effort: a failure only leaves them for the next read.
    async fn prune(&self, account: &str, old: Vec<(String, AttributeValue)>) {
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("id", account_key(account));
        let mut removes = Vec::new();
        let mut checks = Vec::new();
        for (i, (key, at)) in old.into_iter().take(50).enumerate() {
            req = req
                .expression_attribute_names(format!("#o{i}"), key)
                .expression_attribute_values(format!(":o{i}"), at);
            removes.push(format!("started.#o{i}"));
            checks.push(format!("started.#o{i} = :o{i}"));
        }
        if removes.is_empty() {
            return;
        }
        let res = req
            .update_expression(format!("REMOVE {}", removes.join(", ")))
            .condition_expression(checks.join(" AND "))
            .send()
            .await;
        if let Err(e) = res {
            if !condition_failed(&e) {
                tracing::warn!(account, error = %crate::aws::error_text(&e),
                    "old remediation starts not pruned; tried again on the next read");
            }
        }
    }
}

#[async_trait]
impl AttemptLog for DynamoLedger {
    async fn append(&self, entry: &LedgerEntry) -> Result<(), LedgerError> {
        if entry.outcome != LedgerOutcome::Started {
            tracing::info!(finding = %entry.finding_id, action = %entry.action,
                account = %entry.account_id, outcome = ?entry.outcome,
                error = entry.error.as_deref().unwrap_or("-"), "remediation attempt ended");
            return Ok(());
        }
        let key = started_key(&entry.finding_id, &entry.action);
        let ms = entry.at.timestamp_millis();
        // The map exists after an account's first start; two first starts at
        // once race to create it, and the loser sets its key in the winner's.
        for _ in 0..3 {
            if self.set_in_map(&entry.account_id, &key, ms).await?
                || self.create_map(&entry.account_id, &key, ms).await?
            {
                return Ok(());
            }
        }
        Err(LedgerError {
            detail: format!("the start of {key} could not be recorded (contended)"),
            retryable: true,
        })
    }

    async fn attempts_in(
        &self,
        account_id: &str,
        except: (&str, &str),
    ) -> Result<Vec<DateTime<Utc>>, LedgerError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("id", account_key(account_id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| failed("GetItem", &e))?;
        let item: Item = out.item.unwrap_or_default();
        let Some(AttributeValue::M(started)) = item.get("started") else {
            return Ok(Vec::new());
        };
        let skip = started_key(except.0, except.1);
        let oldest_kept = Utc::now() - KEPT;
        let mut times = Vec::new();
        let mut old = Vec::new();
        for (key, at) in started {
            let Some(t) = at
                .as_n()
                .ok()
                .and_then(|v| v.parse::<i64>().ok())
                .and_then(DateTime::from_timestamp_millis)
            else {
                continue;
            };
            if t < oldest_kept {
                old.push((key.clone(), at.clone()));
            } else if *key != skip {
                times.push(t);
            }
        }
        self.prune(account_id, old).await;
        times.sort();
        Ok(times)
    }
}
