//! Loading archived findings back into the store, through the pipeline like every
//! other writer. Only parts a manifest lists as verified are read, each checked
//! against its SHA-256; the store's one decision applies, so restoring never
//! overwrites a newer version in the store.

use super::error::ArchiveError;
use super::index::{check_count, get_verified};
use super::manifest;
use super::writer::findings;
use super::ArchiveSink;
use crate::pipeline::{Outcome, Pipeline};
use crate::store::Origin;
use chrono::NaiveDate;
use shared_types::Finding;

/// Which days to restore (inclusive bounds on the `dt` partition).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RestoreRange {
    /// First day, if any.
    pub since: Option<NaiveDate>,
    /// Last day, if any.
    pub until: Option<NaiveDate>,
}

impl RestoreRange {
    /// True when `dt` is inside the range.
    pub fn contains(&self, dt: NaiveDate) -> bool {
        self.since.is_none_or(|s| dt >= s) && self.until.is_none_or(|u| dt <= u)
    }
}

/// What a restore did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestoreReport {
    /// Parts read.
    pub parts: u64,
    /// Findings read from them.
    pub read: u64,
    /// Not in the store: inserted.
    pub inserted: u64,
    /// Replaced an older version in the store.
    pub updated: u64,
    /// The same version was already there.
    pub unchanged: u64,
    /// The store had a newer version: left alone.
    pub skipped_older: u64,
    /// Could not be written (see the log).
    pub failed: u64,
}

impl RestoreReport {
    fn add(&mut self, o: &Outcome) {
        self.inserted += o.stored as u64;
        self.updated += o.updated as u64;
        self.unchanged += o.unchanged as u64;
        self.skipped_older += o.skipped_older as u64;
        self.failed += o.failed.len() as u64;
        for f in &o.failed {
            tracing::warn!(id = %f.id, reason = %f.reason, "restore: finding not written");
        }
    }
}

/// Findings upserted per store call.
const BATCH: usize = 500;

/// Restores every verified part whose day is in `range`.
pub async fn restore(
    pipeline: &Pipeline,
    sink: &dyn ArchiveSink,
    range: RestoreRange,
    progress: Option<super::run::Progress<'_>>,
) -> Result<RestoreReport, ArchiveError> {
    let mut report = RestoreReport::default();
    let manifests = manifest::load_all(sink).await?;
    let parts = manifests
        .iter()
        .flat_map(|m| &m.parts)
        .filter(|p| p.is_verified() && range.contains(p.dt));
    for p in parts {
        // Checks presence and SHA-256 before anything is written to the store.
        let body = get_verified(sink, p).await?;
        let mut lines = findings(&body);
        let mut n = 0usize;
        loop {
            let chunk: Vec<Finding> = lines.by_ref().take(BATCH).collect::<Result<_, _>>()?;
            if chunk.is_empty() {
                break;
            }
            n += chunk.len();
            report.read += chunk.len() as u64;
            let (outcome, _) = pipeline.store_findings(&chunk, Origin::Restore).await?;
            report.add(&outcome);
            if let Some(cb) = progress {
                cb(report.read);
            }
        }
        check_count(p, n)?;
        report.parts += 1;
    }
    Ok(report)
}
