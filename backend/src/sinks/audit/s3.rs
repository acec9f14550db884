//! The audit log on AWS: each `fanout` invocation that has something to record
//! writes one object `dt=YYYY-MM-DD/part-<first seq>.jsonl` to the audit bucket
//! (Object Lock, governance mode: a written object cannot be overwritten in place
//! or deleted before its retention ends), chained after the head kept in the
//! fan-out state table (item `pk = "audit#head"`, never expiring).
//!
//! Appending, with concurrent invocations:
//! 1. read the head (consistent read); if it holds a pending object, write that
//!    object first (a writer died between steps 2 and 3) and clear it;
//! 2. link the lines after the head and move the head with a conditional write —
//!    only if `seq` is still what was read and nothing is pending — storing the
//!    lines in the head item until the object exists; a writer that lost the race
//!    reads the new head and links again;
//! 3. put the object, then clear the pending lines (conditionally: another writer
//!    may have finished it already).
//!
//! So two writers never link to the same line, and a claimed range of `seq` always
//! ends up in an object. The lines of one write are at most [`MAX_PENDING_BYTES`]
//! (a DynamoDB item holds 400 KB); a longer batch is written in several objects.

use super::chain::{self, Head};
use super::record::AuditRecord;
use super::{Journal, SinkError};
use crate::archive::s3::S3Location;
use crate::metrics::{Registry, AUDIT_LINES};
use crate::retry::Backoff;
use async_trait::async_trait;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ServerSideEncryption};
use chrono::Utc;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The head item's key in the state table.
pub const HEAD_PK: &str = "audit#head";
/// Most bytes of lines one write keeps in the head item.
pub const MAX_PENDING_BYTES: usize = 300 * 1024;

/// The audit journal of the `fanout` Lambda: buffers an invocation's records and
/// appends them on [`Journal::flush`].
pub struct S3Journal {
    s3: aws_sdk_s3::Client,
    location: S3Location,
    kms_key: Option<String>,
    ddb: aws_sdk_dynamodb::Client,
    table: String,
    buffer: Mutex<Vec<String>>,
    metrics: Option<Arc<Registry>>,
    backoff: Backoff,
}

/// The head item as read.
#[derive(Debug, Clone, PartialEq)]
struct HeadItem {
    head: Head,
    exists: bool,
    pending: Option<(String, Vec<u8>)>,
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// Whether an UpdateItem failed only because its condition did not hold.
fn lost_race(
    e: &aws_sdk_dynamodb::error::SdkError<
        aws_sdk_dynamodb::operation::update_item::UpdateItemError,
        aws_sdk_dynamodb::config::http::HttpResponse,
    >,
) -> bool {
    e.as_service_error()
        .is_some_and(|s| s.is_conditional_check_failed_exception())
}

impl S3Journal {
    /// A journal writing objects under `location` and its head to `table`.
    pub fn new(
        s3: aws_sdk_s3::Client,
        location: S3Location,
        kms_key: Option<String>,
        ddb: aws_sdk_dynamodb::Client,
        table: impl Into<String>,
    ) -> S3Journal {
        S3Journal {
            s3,
            location,
            kms_key: kms_key.filter(|k| !k.is_empty()),
            ddb,
            table: table.into(),
            buffer: Mutex::new(Vec::new()),
            metrics: None,
            backoff: Backoff {
                max_attempts: 12,
                base: Duration::from_millis(20),
                cap: Duration::from_secs(1),
            },
        }
    }

    /// Counts written lines in `registry`.
    pub fn with_metrics(mut self, registry: Arc<Registry>) -> S3Journal {
        self.metrics = Some(registry);
        self
    }

    fn full_key(&self, key: &str) -> String {
        if self.location.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}/{key}", self.location.prefix)
        }
    }

    fn ddb_err<E>(
        &self,
        op: &str,
        e: &aws_sdk_dynamodb::error::SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>,
    ) -> SinkError
    where
        E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
    {
        let reason = format!(
            "audit head: DynamoDB {op} on table {}: {}",
            self.table,
            crate::aws::error_text(e)
        );
        if crate::aws::is_retryable(e) {
            SinkError::retryable(reason)
        } else {
            SinkError::permanent(reason)
        }
    }

    async fn read_head(&self) -> Result<HeadItem, SinkError> {
        let out = self
            .ddb
            .get_item()
            .table_name(&self.table)
            .key("pk", s(HEAD_PK))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.ddb_err("GetItem", &e))?;
        let Some(item) = out.item else {
            return Ok(HeadItem {
                head: Head::GENESIS,
                exists: false,
                pending: None,
            });
        };
        let bad = |what: &str| SinkError::permanent(format!("audit head item: {what}"));
        let seq = match item.get("seq") {
            Some(AttributeValue::N(v)) => v.parse::<u64>().map_err(|_| bad("seq"))?,
            _ => return Err(bad("no seq")),
        };
        let head = match item.get("hash") {
            Some(AttributeValue::S(h)) => Head::from_hex(seq, h).ok_or_else(|| bad("hash"))?,
            _ => return Err(bad("no hash")),
        };
        let pending = match (item.get("pending_key"), item.get("pending_body")) {
            (Some(AttributeValue::S(k)), Some(AttributeValue::B(b))) => {
                Some((k.clone(), b.clone().into_inner()))
            }
            _ => None,
        };
        Ok(HeadItem {
            head,
            exists: true,
            pending,
        })
    }

    async fn put_object(&self, key: &str, body: Vec<u8>) -> Result<(), SinkError> {
        let full = self.full_key(key);
        let mut req = self
            .s3
            .put_object()
            .bucket(&self.location.bucket)
            .key(&full)
            .content_type("application/x-ndjson")
            // Object Lock buckets refuse writes without an integrity checksum.
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .body(ByteStream::from(body));
        if let Some(k) = &self.kms_key {
            req = req
                .server_side_encryption(ServerSideEncryption::AwsKms)
                .ssekms_key_id(k);
        }
        req.send().await.map_err(|e| {
            let reason = format!(
                "audit object s3://{}/{full}: PutObject: {}",
                self.location.bucket,
                crate::aws::error_text(&e)
            );
            if crate::aws::is_retryable(&e) {
                SinkError::retryable(reason)
            } else {
                SinkError::permanent(reason)
            }
        })?;
        Ok(())
    }

    async fn object_exists(&self, key: &str) -> Result<bool, SinkError> {
        let full = self.full_key(key);
        match self
            .s3
            .head_object()
            .bucket(&self.location.bucket)
            .key(&full)
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(false),
            Err(e) => Err(SinkError::retryable(format!(
                "audit object s3://{}/{full}: HeadObject: {}",
                self.location.bucket,
                crate::aws::error_text(&e)
            ))),
        }
    }

    /// Writes the object a writer claimed but may not have written, then clears it.
    async fn finish_pending(&self, key: &str, body: &[u8]) -> Result<(), SinkError> {
        if !self.object_exists(key).await? {
            tracing::warn!(
                key,
                "writing an audit object a previous writer claimed but did not write"
            );
            self.put_object(key, body.to_vec()).await?;
        }
        self.clear_pending(key).await
    }

    async fn clear_pending(&self, key: &str) -> Result<(), SinkError> {
        let out = self
            .ddb
            .update_item()
            .table_name(&self.table)
            .key("pk", s(HEAD_PK))
            .update_expression("REMOVE pending_key, pending_body")
            .condition_expression("pending_key = :k")
            .expression_attribute_values(":k", s(key))
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            // Someone else finished it already.
            Err(e) if lost_race(&e) => Ok(()),
            Err(e) => Err(self.ddb_err("UpdateItem", &e)),
        }
    }

    /// Moves the head from `from` to `to`, keeping `key`/`body` pending; `false`
    /// when another writer moved it first.
    async fn claim(
        &self,
        from: &HeadItem,
        to: Head,
        key: &str,
        body: &[u8],
    ) -> Result<bool, SinkError> {
        let body_av = AttributeValue::B(aws_sdk_dynamodb::primitives::Blob::new(body.to_vec()));
        // The first write creates the item; later ones need the seq they read.
        let condition = if from.exists {
            "seq = :old AND attribute_not_exists(pending_key)"
        } else {
            "attribute_not_exists(pk)"
        };
        let old = from.exists.then(|| (":old", n(from.head.seq)));
        let values: HashMap<String, AttributeValue> = [
            (":seq", n(to.seq)),
            (":hash", s(to.hex())),
            (":k", s(key)),
            (":b", body_av),
        ]
        .into_iter()
        .chain(old)
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let result = self
            .ddb
            .update_item()
            .table_name(&self.table)
            .key("pk", s(HEAD_PK))
            .update_expression("SET seq = :seq, #h = :hash, pending_key = :k, pending_body = :b")
            .condition_expression(condition)
            .expression_attribute_names("#h", "hash")
            .set_expression_attribute_values(Some(values))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if lost_race(&e) => Ok(false),
            Err(e) => Err(self.ddb_err("UpdateItem", &e)),
        }
    }

    /// Appends one chunk of records as one object; returns the new head.
    async fn append_chunk(&self, records: &[String]) -> Result<Head, SinkError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let item = self.read_head().await?;
            if let Some((key, body)) = &item.pending {
                self.finish_pending(key, body).await?;
                continue;
            }
            let now = Utc::now();
            let mut body = Vec::with_capacity(records.len() * 512);
            let head = chain::link(item.head, records, now, &mut body);
            let key = format!(
                "dt={}/part-{:012}.jsonl",
                now.date_naive(),
                item.head.seq + 1
            );
            if self.claim(&item, head, &key, &body).await? {
                self.put_object(&key, body).await?;
                self.clear_pending(&key).await?;
                return Ok(head);
            }
            if attempt >= self.backoff.max_attempts {
                return Err(SinkError::retryable(format!(
                    "audit head: still contended after {attempt} tries"
                )));
            }
            tracing::debug!(attempt, "audit head moved meanwhile; linking again");
            self.backoff.wait(attempt).await;
        }
    }

    /// Appends `records` (serialized [`AuditRecord`]s) now, in objects of at most
    /// [`MAX_PENDING_BYTES`] of lines; returns the new head.
    pub async fn append(&self, records: &[String]) -> Result<Option<Head>, SinkError> {
        let mut head = None;
        let mut start = 0;
        while start < records.len() {
            let mut size = 0;
            let mut end = start;
            // A chained line is its record plus about 260 bytes of seq, time and hashes.
            while end < records.len()
                && (end == start || size + records[end].len() + 300 <= MAX_PENDING_BYTES)
            {
                size += records[end].len() + 300;
                end += 1;
            }
            head = Some(self.append_chunk(&records[start..end]).await?);
            if let Some(m) = &self.metrics {
                m.add(&AUDIT_LINES, &[], (end - start) as u64);
            }
            start = end;
        }
        Ok(head)
    }
}

#[async_trait]
impl Journal for S3Journal {
    async fn record(&self, records: &[AuditRecord]) -> Result<(), SinkError> {
        self.buffer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(records.iter().map(AuditRecord::to_json));
        Ok(())
    }

    async fn flush(&self) -> Result<(), SinkError> {
        let records = std::mem::take(&mut *self.buffer.lock().unwrap_or_else(|p| p.into_inner()));
        if records.is_empty() {
            return Ok(());
        }
        // On failure the records are dropped: the fanout reports the whole stream
        // batch as failed, and Lambda's retry records them again.
        self.append(&records).await.map(|_| ())
    }
}
