//! The one path every finding takes into the store:
//! normalize → detect/suppress → decide → store.
//!
//! Every writer goes through [`Pipeline`]: `cspm ingest` and `POST /events` (a
//! stream of documents), the scanner Lambda (one event), the Security Hub sync and
//! `cspm demo` (findings already built), archive restore (findings read back), and
//! `PATCH /findings/{id}` (a person's workflow change). The store makes the
//! decision itself ([`crate::store::decide`]), in the same transaction as the
//! write; the pipeline returns one [`Outcome`] that every caller reports.

/// Bulk writes with two batches in flight.
pub mod batches;
/// One person's workflow change for many findings, each through [`Pipeline::set_workflow`].
pub mod bulk;
/// Counting what writers store (metrics).
pub mod meter;
/// The outcome every writer reports.
pub mod outcome;
/// Documents in, findings stored (streamed).
pub mod run;

pub use outcome::{Noted, Outcome, OutcomeBody, Rejected};
pub use run::{Feed, Producer, BATCH_SIZE};

use crate::sources::{DocumentOutcome, Normalizer};
use crate::store::guard::Guarded;
use crate::store::{Origin, Store, StoreError, UpsertReport};
use chrono::{DateTime, Utc};
use serde_json::Value;
use shared_types::{Finding, FindingDetail, FindingFilter, WorkflowUpdate};
use std::sync::Arc;

/// Why a pipeline run stopped (bad documents don't stop it: they are reported in
/// the [`Outcome`]).
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The store failed as a whole; [`StoreError::is_retryable`] says whether
    /// trying again later may help.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An input could not be read (a file vanished, stdin broke).
    #[error("reading input: {0}")]
    Io(#[from] std::io::Error),
    /// The reading thread failed.
    #[error("reading input: {0}")]
    Reader(String),
}

impl PipelineError {
    /// True when the same input may succeed later (a throttled or unreachable store).
    pub fn is_retryable(&self) -> bool {
        match self {
            PipelineError::Store(e) => e.is_retryable(),
            PipelineError::Io(_) | PipelineError::Reader(_) => false,
        }
    }
}

/// Normalizer and store, shared by every writer.
#[derive(Clone)]
pub struct Pipeline {
    normalizer: Arc<Normalizer>,
    store: Arc<dyn Store>,
    meter: Option<meter::Meter>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline").finish_non_exhaustive()
    }
}

impl Pipeline {
    /// A pipeline writing to `store`.
    pub fn new(normalizer: Arc<Normalizer>, store: Arc<dyn Store>) -> Pipeline {
        Pipeline {
            normalizer,
            store,
            meter: None,
        }
    }

    /// Counts the findings this pipeline stores in `registry`, as written by
    /// `source` (`scanner`, `api`).
    pub fn with_metrics(
        mut self,
        registry: Arc<crate::metrics::Registry>,
        source: &'static str,
    ) -> Pipeline {
        self.meter = Some(meter::Meter { registry, source });
        self
    }

    /// Where this pipeline counts, if it does.
    pub fn metrics(&self) -> Option<&Arc<crate::metrics::Registry>> {
        self.meter.as_ref().map(|m| &m.registry)
    }

    /// The store (readers — lists, summaries, archival — use it directly).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The normalizer (rules, suppressions, settings).
    pub fn normalizer(&self) -> &Normalizer {
        &self.normalizer
    }

    /// Normalizes one document without storing anything.
    pub fn normalize(&self, doc: &Value) -> DocumentOutcome {
        self.normalizer.parse_document(doc)
    }

    /// Runs the documents `producer` reads through normalize → store; `progress` is
    /// told how many input bytes were read as reading goes on. `origin` says whether
    /// the changes are quiet (demo data, restores).
    pub async fn run(
        &self,
        producer: Producer,
        origin: Origin,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<Outcome, PipelineError> {
        run::run(
            self.store.as_ref(),
            self.meter.as_ref(),
            self.normalizer.clone(),
            producer,
            origin,
            progress,
        )
        .await
    }

    /// One document (an event delivered to the scanner Lambda), read as document 0
    /// of `input`: normalized, then stored.
    pub async fn run_document(&self, input: &str, doc: &Value) -> Result<Outcome, PipelineError> {
        let mut outcome = Outcome::default();
        let findings = outcome.add_document(input, Some(0), self.normalize(doc));
        let (stored, _) = self.store_findings(&findings, Origin::Events).await?;
        outcome.merge(stored);
        Ok(outcome)
    }

    /// Stores findings that are already normalized (a sync page, demo data, an
    /// archive being restored). Returns the outcome and the store's per-finding report.
    pub async fn store_findings(
        &self,
        findings: &[Finding],
        origin: Origin,
    ) -> Result<(Outcome, UpsertReport), PipelineError> {
        let report = self.store.upsert_from(findings, origin).await?;
        if let Some(m) = &self.meter {
            m.count(findings, &report);
        }
        let mut outcome = Outcome::default();
        outcome.add_report(&report);
        Ok((outcome, report))
    }

    /// A person's workflow change (`PATCH /findings/{id}`, and each finding of
    /// `POST /findings/workflow`): `None` when the id is unknown.
    pub async fn set_workflow(
        &self,
        id: &str,
        update: &WorkflowUpdate,
        actor: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<FindingDetail>, PipelineError> {
        Ok(self.store.set_workflow(id, update, actor, at).await?)
    }

    /// [`Pipeline::set_workflow`] made only while the finding still matches
    /// `guard` (each finding of a bulk change by filter; see
    /// [`crate::store::guard`]).
    pub async fn set_workflow_if(
        &self,
        id: &str,
        update: &WorkflowUpdate,
        actor: &str,
        at: DateTime<Utc>,
        guard: Option<&FindingFilter>,
    ) -> Result<Guarded, PipelineError> {
        Ok(self
            .store
            .set_workflow_if(id, update, actor, at, guard)
            .await?)
    }
}
