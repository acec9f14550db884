//! The records port: every remediation asked for (by a person through the API
//! or by the `remediation` sink for rules in `auto`), who asked and when, and
//! how it stands, as `GET /remediations` shows it. Kept apart from the queue:
//! the queue only hands work over, the record is the history (on AWS they
//! would be an SQS queue and a table).

use async_trait::async_trait;
use shared_types::{RemediationRecord, RemediationStatus};

/// Which records to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordQuery {
    /// Only this finding's.
    pub finding_id: Option<String>,
    /// Only in this status.
    pub status: Option<RemediationStatus>,
    /// At most this many, newest first.
    pub limit: u32,
}

/// The records could not be read or written.
#[derive(Debug, thiserror::Error)]
#[error("remediation records: {detail}")]
pub struct RecordsError {
    /// What went wrong.
    pub detail: String,
    /// True when trying again later may work (a busy database).
    pub retryable: bool,
}

/// Where remediation records are kept.
#[async_trait]
pub trait RemediationRecords: Send + Sync {
    /// Adds a new record (its id is new).
    async fn insert(&self, record: &RemediationRecord) -> Result<(), RecordsError>;

    /// Adds `record` (a new, open remediation) unless its finding has an open
    /// one already, in one atomic step: `None` when added, else the open record,
    /// unchanged. Two approvals of one finding at once (a double click, a person
    /// and the automatic sink, two API instances) make one remediation.
    async fn insert_unless_open(
        &self,
        record: &RemediationRecord,
    ) -> Result<Option<RemediationRecord>, RecordsError>;

    /// Replaces the record with `record.id`.
    async fn update(&self, record: &RemediationRecord) -> Result<(), RecordsError>;

    /// Replaces the record `record.id` with `record` only if it is still exactly
    /// `seen` (nobody wrote it since it was read), in one atomic step: true when
    /// replaced, false when it changed meanwhile or is gone. How one worker, and
    /// only one, takes a remediation two deliveries name at once.
    async fn replace(
        &self,
        seen: &RemediationRecord,
        record: &RemediationRecord,
    ) -> Result<bool, RecordsError>;

    /// The record with id `id`.
    async fn get(&self, id: &str) -> Result<Option<RemediationRecord>, RecordsError>;

    /// The records `query` asks for, newest `requested_at` first.
    async fn list(&self, query: &RecordQuery) -> Result<Vec<RemediationRecord>, RecordsError>;
}
