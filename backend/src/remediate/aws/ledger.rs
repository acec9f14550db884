//! The per-account rate limit's counts on AWS: one item per account
//! (`ledger#<account>`) in the remediations table, whose map `started` holds,
//! per finding and action, when that remediation last started its calls. The
//! `remediator` Lambda's instances share nothing else, so a count kept in one
//! instance's memory or `/tmp` would let each of them apply the limit again.
//! How attempts ended is in their remediation records; only `started` steps
//! are written here (the others are logged). The item's `version` goes up by
//! one with every start, and a start is written only on the version its check
//! read, so two workers starting at once in one account cannot both take the
//! last place under the limit.

use crate::aws::item::{condition_failed, n, num, s, Item};
use crate::remediate::ledger::{AttemptLog, LedgerEntry, LedgerError, LedgerOutcome, StartCheck};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration, Utc};
use std::collections::HashMap;

/// Starts older than this are dropped from the item when it is next read: the
/// rate limit counts an hour, and the map must stay far below DynamoDB's
/// 400 KB item size.
const KEPT: Duration = Duration::days(2);

/// Reads and conditional writes of one start before it is reported contended.
const START_TRIES: usize = 5;

/// An account's item as read: its starts and the version they are at.
struct Seen {
    /// The `started` map, if the account has one yet.
    started: Option<HashMap<String, AttributeValue>>,
    /// The `version` attribute (absent on items written before it existed).
    version: Option<u64>,
}

impl Seen {
    /// The starts other than `skip`'s kept since `oldest_kept`, oldest first,
    /// and the older ones (to prune).
    fn times(
        &self,
        skip: &str,
        oldest_kept: DateTime<Utc>,
    ) -> (Vec<DateTime<Utc>>, Vec<(String, AttributeValue)>) {
        let mut times = Vec::new();
        let mut old = Vec::new();
        for (key, at) in self.started.iter().flatten() {
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
            } else if key != skip {
                times.push(t);
            }
        }
        times.sort();
        (times, old)
    }
}

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

    /// The account's item, read consistently.
    async fn read(&self, account: &str) -> Result<Seen, LedgerError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("id", account_key(account))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| failed("GetItem", &e))?;
        let mut item: Item = out.item.unwrap_or_default();
        let version = num(&item, "version");
        let started = match item.remove("started") {
            Some(AttributeValue::M(m)) => Some(m),
            _ => None,
        };
        Ok(Seen { started, version })
    }

    /// Sets one start and the next version, only if the item is still at the
    /// version `seen` read (creating the map on an account's first start).
    /// False: another start came in between.
    async fn write_start(
        &self,
        account: &str,
        seen: &Seen,
        key: &str,
        ms: i64,
    ) -> Result<bool, LedgerError> {
        let next = seen.version.unwrap_or(0) + 1;
        let req = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("id", account_key(account))
            .expression_attribute_values(":next", n(next));
        let req = if seen.started.is_none() {
            req.update_expression("SET started = :m, version = :next")
                .condition_expression("attribute_not_exists(started)")
                .expression_attribute_values(
                    ":m",
                    AttributeValue::M(HashMap::from([(key.to_string(), n(ms))])),
                )
        } else {
            let req = req
                .update_expression("SET started.#k = :t, version = :next")
                .expression_attribute_names("#k", key)
                .expression_attribute_values(":t", n(ms));
            match seen.version {
                Some(v) => req
                    .condition_expression("version = :seen")
                    .expression_attribute_values(":seen", n(v)),
                None => req.condition_expression(
                    "attribute_exists(started) AND attribute_not_exists(version)",
                ),
            }
        };
        match req.send().await {
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
        self.start_if(entry, &|_| true).await.map(|_| ())
    }

    async fn start_if(
        &self,
        entry: &LedgerEntry,
        allowed: &StartCheck<'_>,
    ) -> Result<bool, LedgerError> {
        let key = started_key(&entry.finding_id, &entry.action);
        let ms = entry.at.timestamp_millis();
        // Read, check, write on the version read; a start in between sends
        // this one back to read again, and check the new count.
        for attempt in 0..START_TRIES {
            if attempt > 0 {
                // Starts of one account at once: spread the next reads apart.
                let ms = 20 * attempt as u64 + rand::random::<u64>() % 30;
                tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            }
            let seen = self.read(&entry.account_id).await?;
            let (others, _) = seen.times(&key, Utc::now() - KEPT);
            if !allowed(&others) {
                return Ok(false);
            }
            if self.write_start(&entry.account_id, &seen, &key, ms).await? {
                return Ok(true);
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
        let seen = self.read(account_id).await?;
        let (times, old) = seen.times(&started_key(except.0, except.1), Utc::now() - KEPT);
        self.prune(account_id, old).await;
        Ok(times)
    }
}
