//! Counting what the writers store: `FindingsStored` by severity and by writer
//! (`scanner`, `api`), from the store's own report of each batch, so a finding
//! that was unchanged, older or failed is not counted.

use crate::metrics::{Registry, FINDINGS_STORED};
use crate::store::{UpsertOutcome, UpsertReport};
use shared_types::Finding;
use std::collections::HashMap;
use std::sync::Arc;

/// A registry and the writer's name.
#[derive(Debug, Clone)]
pub struct Meter {
    /// Where to count.
    pub registry: Arc<Registry>,
    /// The writer (`scanner`, `api`).
    pub source: &'static str,
}

impl Meter {
    /// Counts the findings of `batch` the store inserted or updated.
    pub fn count(&self, batch: &[Finding], report: &UpsertReport) {
        let severity: HashMap<&str, &'static str> = batch
            .iter()
            .map(|f| (f.id.as_str(), f.severity.as_str()))
            .collect();
        let mut counts: HashMap<&'static str, u64> = HashMap::new();
        for (id, outcome) in &report.outcomes {
            if matches!(
                outcome,
                UpsertOutcome::Inserted | UpsertOutcome::Updated { .. }
            ) {
                if let Some(s) = severity.get(id.as_str()) {
                    *counts.entry(s).or_default() += 1;
                }
            }
        }
        for (s, n) in counts {
            self.registry.add(&FINDINGS_STORED, &[s, self.source], n);
        }
    }
}
