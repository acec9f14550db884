//! What a sync run did, told the way every writer tells it: the pipeline's
//! [`Outcome`] over every page (each finding `GetFindings` returned is one
//! document), plus the two facts only a sync has — how far it paged and whether the
//! window finished — and the findings its own window check kept out of the store.

use crate::pipeline::{Outcome, OutcomeBody};
use serde::Serialize;

/// What a sync run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// True when the window finished; false when the run stopped to resume later.
    pub complete: bool,
    /// `GetFindings` pages read this run.
    pub pages: u64,
    /// Findings returned although not updated inside the window, so not stored:
    /// the window filter is the API's, and an emulator (or a changed API) may not
    /// apply it.
    pub outside_window: usize,
    /// What the pipeline did with the findings read.
    pub outcome: Outcome,
}

/// `read 3 page(s), 250 document(s): 10 stored, …`, like `cspm ingest`'s
/// `read 2 file(s), …`.
impl std::fmt::Display for SyncReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "read {} page(s), {}", self.pages, self.outcome)?;
        if self.outside_window > 0 {
            write!(f, ", {} outside the window", self.outside_window)?;
        }
        Ok(())
    }
}

/// The scheduled invocation's answer: the outcome in the shape `POST /events`
/// answers with, and the paging beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncBody {
    /// True when the window finished.
    pub complete: bool,
    /// `GetFindings` pages read this run.
    pub pages: u64,
    /// Findings not updated inside the window, not stored.
    pub outside_window: usize,
    /// What the pipeline did, as `POST /events` reports it.
    #[serde(flatten)]
    pub outcome: OutcomeBody,
}

impl From<&SyncReport> for SyncBody {
    fn from(r: &SyncReport) -> Self {
        SyncBody {
            complete: r.complete,
            pages: r.pages,
            outside_window: r.outside_window,
            outcome: OutcomeBody::from(&r.outcome),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_sync_reads_like_ingest_and_answers_like_post_events() {
        let report = SyncReport {
            complete: true,
            pages: 3,
            outside_window: 2,
            outcome: Outcome {
                documents: 250,
                stored: 10,
                updated: 2,
                ..Outcome::default()
            },
        };
        assert_eq!(
            report.to_string(),
            "read 3 page(s), 250 document(s): 10 stored, 2 updated, 0 unchanged, \
             0 skipped as older, 0 rejected, 2 outside the window"
        );
        assert_eq!(
            serde_json::to_value(SyncBody::from(&report)).unwrap(),
            json!({
                "complete": true, "pages": 3, "outside_window": 2,
                "documents": 250, "stored": 10, "updated": 2, "unchanged": 0,
                "skipped_older": 0, "noted": [], "rejected": [], "failed": 0
            })
        );
    }
}
