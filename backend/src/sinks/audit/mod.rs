//! The audit log: a tamper-evident record of who changed what, which suppression
//! rules matched, and which alerts were sent or parked — one JSON line per event,
//! hash-chained ([`chain`]), in daily objects `dt=YYYY-MM-DD/part-<first seq>.jsonl`
//! (locally under `DATA_DIR/audit`, on AWS in an S3 bucket with Object Lock).
//!
//! It is always on: `cspm serve` adds it to the dispatcher without configuration,
//! and the `fanout` Lambda does when `CSPM_AUDIT_BUCKET` is set. It hears about
//! changes twice over:
//! - as a **sink** on the change feed it takes workflow changes and suppressions
//!   ([`record::audited`]);
//! - as a **delivery observer** ([`crate::feed::observe`]) it is told which batches
//!   the other sinks delivered, parked or handed back, without any sink or the
//!   store knowing it exists.
//!
//! # One writer per chain
//! A hash chain is a sequence: two writers appending at once would both link to the
//! same line. Records therefore go to a [`Journal`], and exactly one writer turns
//! them into lines.
//! - **Locally** ([`local`]) every record is first put in an outbox table of the
//!   SQLite file (durable before the sink's cursor moves, and any process —
//!   `cspm sinks retry` too — may add to it); one task inside `cspm serve`, holding
//!   an OS lock on the audit folder, appends them to the day's file and commits the
//!   new chain head in the same SQLite transaction that empties the outbox. A crash
//!   between the file write and that commit leaves extra bytes after the committed
//!   head, cut off at the next start and written again: the chain never forks and
//!   never loses a record.
//! - **On AWS** ([`s3`]) several `fanout` invocations run at once (one per stream
//!   shard). The chain head — last `seq`, last hash — lives in the fan-out state
//!   table and moves only by a **conditional write** (`seq` is still what this
//!   writer read); the loser of a race reads the new head and links again. The
//!   head item also holds the lines being written until their object exists, so a
//!   writer that dies between claiming the range and writing the object is
//!   finished by the next one instead of leaving a hole. Chosen over an SQS FIFO
//!   queue with one message group: that also serializes writers, but needs another
//!   consumer function, adds a queue's latency to every line, and still needs a
//!   durable head for the hash; the state table already exists, the head is one
//!   small item, contention is bounded by the shard count, and a lost race costs
//!   one retry.

/// Lines, hashes and checking one line.
pub mod chain;
/// The local writer: SQLite outbox, daily files, crash recovery.
pub mod local;
/// Reading the chain back: verify, tail.
pub mod read;
/// What one line says.
pub mod record;
/// The AWS writer: S3 objects with the chain head in DynamoDB.
#[cfg(feature = "aws")]
pub mod s3;

use super::{Sink, SinkError};
use crate::detect::suppress::SuppressionNote;
use crate::feed::observe::{DeliveryObserver, DeliveryReport};
use crate::store::{Change, Store};
use async_trait::async_trait;
use chrono::Utc;
use record::{AuditEvent, AuditRecord};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The audit sink's name (its cursor, its metrics); no configured sink may take it.
pub const AUDIT_SINK: &str = "audit";

/// Where audit records go before the one writer chains them.
#[async_trait]
pub trait Journal: Send + Sync {
    /// Takes records, in order. Locally they are durable when this returns; on AWS
    /// they are buffered until [`Journal::flush`].
    async fn record(&self, records: &[AuditRecord]) -> Result<(), SinkError>;

    /// Writes what is buffered (AWS: once per stream batch).
    async fn flush(&self) -> Result<(), SinkError> {
        Ok(())
    }
}

/// The audit log as a sink on the feed and an observer of deliveries.
pub struct AuditSink {
    journal: Arc<dyn Journal>,
    findings: Option<Arc<dyn Store>>,
}

impl AuditSink {
    /// An audit sink writing to `journal`; `findings` (the store) is read to name
    /// the suppression that matched a suppressed finding.
    pub fn new(journal: Arc<dyn Journal>, findings: Option<Arc<dyn Store>>) -> AuditSink {
        AuditSink { journal, findings }
    }

    /// The suppression note in the finding's description, if it can be read. The
    /// finding may have changed since (a newer provider version): a SUPPRESSED
    /// finding keeps its note, and a record without the rule is still written.
    async fn note(&self, c: &Change) -> Option<SuppressionNote> {
        let store = self.findings.as_ref()?;
        match store.get(c.finding_id()).await {
            Ok(Some(d)) => SuppressionNote::find(&d.finding.description),
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(finding = c.finding_id(), error = %e, "could not read the suppression of a finding");
                None
            }
        }
    }
}

#[async_trait]
impl Sink for AuditSink {
    fn name(&self) -> &str {
        AUDIT_SINK
    }

    fn wants(&self, change: &Change) -> bool {
        record::audited(change).is_some()
    }

    async fn send(&self, changes: &[Change]) -> Result<(), SinkError> {
        let mut records = Vec::with_capacity(changes.len());
        for c in changes {
            let note = match record::audited(c) {
                Some(AuditEvent::Suppressed) => self.note(c).await,
                _ => None,
            };
            records.extend(record::of_change(c, note.as_ref()));
        }
        self.journal.record(&records).await
    }

    fn max_batch(&self) -> usize {
        1000
    }
}

#[async_trait]
impl DeliveryObserver for AuditSink {
    async fn observe(&self, report: &DeliveryReport<'_>) -> Result<(), SinkError> {
        if report.sink == AUDIT_SINK {
            return Ok(());
        }
        let records = record::of_delivery(report, Utc::now());
        if records.is_empty() {
            return Ok(());
        }
        self.journal.record(&records).await
    }

    async fn flush(&self) -> Result<(), SinkError> {
        self.journal.flush().await
    }
}

/// The local audit log as `cspm serve` runs it: the sink (also the dispatcher's
/// observer) and the one writer's task.
pub struct LocalAudit {
    /// Give it to the dispatcher as a sink and as an observer.
    pub sink: Arc<AuditSink>,
    writer: tokio::task::JoinHandle<()>,
    stop: tokio::sync::watch::Sender<bool>,
}

impl LocalAudit {
    /// Opens the outbox in the SQLite file `db`, takes the writer's lock on `dir`
    /// and starts the writer (it counts its lines in `metrics`).
    pub fn start(
        dir: &Path,
        db: &Path,
        findings: Arc<dyn Store>,
        metrics: Arc<crate::metrics::Registry>,
    ) -> Result<LocalAudit, local::LocalAuditError> {
        let outbox = local::Outbox::open(db)?;
        let writer = local::LocalWriter::open(dir, db, &outbox)?.with_metrics(metrics);
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let writer = writer.spawn(Duration::from_millis(500), stopped);
        Ok(LocalAudit {
            sink: Arc::new(AuditSink::new(Arc::new(outbox), Some(findings))),
            writer,
            stop,
        })
    }

    /// Stops the writer after it wrote what the outbox holds (stop the dispatcher
    /// first, so its last records are in).
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.writer.await;
    }
}
