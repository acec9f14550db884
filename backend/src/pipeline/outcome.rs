//! The one outcome type every writer reports: `cspm ingest` prints it, `POST
//! /events` answers with it, the scanner Lambda logs it and decides on retries
//! from it.

use crate::store::{FailedWrite, UpsertOutcome, UpsertReport};
use serde::{Deserialize, Serialize};
use shared_types::Finding;

/// A document (or a finding in it) that was not used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// The input it came from (a file name, `-` for stdin, `body` for a request).
    pub input: String,
    /// 0-based position of the document in its input, when known.
    pub index: Option<usize>,
    /// The finding's own id (ASFF `Id`, event id…) when it could be read.
    pub finding_id: Option<String>,
    /// Specific reason, e.g. `UpdatedAt: invalid timestamp "Jan 01, 2019"`.
    pub reason: String,
}

impl Rejected {
    /// A source's rejection of (part of) document `index` of `input`.
    pub fn of(input: &str, index: Option<usize>, r: crate::sources::Rejection) -> Rejected {
        Rejected {
            input: input.to_string(),
            index,
            finding_id: r.finding_id,
            reason: r.reason,
        }
    }
}

/// A valid document that holds no findings by design (e.g. a Security Hub
/// `Insight Results` event), and what it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Noted {
    /// The input it came from.
    pub input: String,
    /// 0-based position of the document in its input.
    pub index: Option<usize>,
    /// What it was.
    pub note: String,
}

/// What a run of the pipeline did. Counts are per finding; `documents` counts what
/// was read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Documents read (lines, array elements, log-file records count as their
    /// document).
    pub documents: usize,
    /// New findings stored.
    pub stored: usize,
    /// Stored findings replaced by a newer provider version.
    pub updated: usize,
    /// Findings already stored in this exact version.
    pub unchanged: usize,
    /// Findings older than the stored version, ignored.
    pub skipped_older: usize,
    /// Valid documents without findings.
    pub noted: Vec<Noted>,
    /// Documents or findings rejected, each with its reason.
    pub rejected: Vec<Rejected>,
    /// Findings the store could not write (nothing is silently lost).
    pub failed: Vec<FailedWrite>,
}

impl Outcome {
    /// Counts a store report in.
    pub fn add_report(&mut self, r: &UpsertReport) {
        for (_, o) in &r.outcomes {
            match o {
                UpsertOutcome::Inserted => self.stored += 1,
                UpsertOutcome::Updated { .. } => self.updated += 1,
                UpsertOutcome::Unchanged => self.unchanged += 1,
                UpsertOutcome::SkippedOlder => self.skipped_older += 1,
            }
        }
        self.failed.extend(r.failed.iter().cloned());
    }

    /// Counts one normalized document in (at `index` of `input`): its rejections and
    /// its note are kept here; its findings are handed back to be stored.
    pub fn add_document(
        &mut self,
        input: &str,
        index: Option<usize>,
        doc: crate::sources::DocumentOutcome,
    ) -> Vec<Finding> {
        self.documents += 1;
        self.rejected.extend(
            doc.rejected
                .into_iter()
                .map(|r| Rejected::of(input, index, r)),
        );
        self.noted.extend(doc.note.map(|note| Noted {
            input: input.to_string(),
            index,
            note,
        }));
        doc.findings
    }

    /// Adds another outcome (e.g. one page of a sync) to this one.
    pub fn merge(&mut self, other: Outcome) {
        self.documents += other.documents;
        self.stored += other.stored;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.skipped_older += other.skipped_older;
        self.noted.extend(other.noted);
        self.rejected.extend(other.rejected);
        self.failed.extend(other.failed);
    }

    /// Findings written (stored or updated).
    pub fn written(&self) -> usize {
        self.stored + self.updated
    }

    /// True when some finding could not be written and trying again may help.
    pub fn retryable_failures(&self) -> bool {
        self.failed.iter().any(|f| f.retryable)
    }
}

/// The counts on one line, the way every writer prints or logs them:
/// `5 document(s): 3 stored, 1 updated, 0 unchanged, 0 skipped as older, 1 rejected`.
impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} document(s): {} stored, {} updated, {} unchanged, {} skipped as older, {} rejected",
            self.documents,
            self.stored,
            self.updated,
            self.unchanged,
            self.skipped_older,
            self.rejected.len()
        )?;
        // Only when it happened: a run normally writes everything it was given.
        if !self.failed.is_empty() {
            write!(f, ", {} not written", self.failed.len())?;
        }
        Ok(())
    }
}

/// The `POST /events` answer: the outcome with documents' indices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OutcomeBody {
    /// Documents read.
    pub documents: usize,
    /// New findings stored.
    pub stored: usize,
    /// Findings replaced by a newer version.
    pub updated: usize,
    /// Findings already stored in this version.
    pub unchanged: usize,
    /// Findings older than the stored version.
    pub skipped_older: usize,
    /// Documents without findings, by index.
    pub noted: Vec<NotedBody>,
    /// Rejected documents or findings, by index.
    pub rejected: Vec<RejectedBody>,
    /// Findings the store could not write.
    pub failed: usize,
}

/// One noted document in [`OutcomeBody`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NotedBody {
    /// 0-based document position.
    pub index: Option<usize>,
    /// What it was.
    pub note: String,
}

/// One rejection in [`OutcomeBody`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RejectedBody {
    /// 0-based document position.
    pub index: Option<usize>,
    /// The finding's own id when it could be read.
    pub id: Option<String>,
    /// Why.
    pub reason: String,
}

impl From<&Outcome> for OutcomeBody {
    fn from(o: &Outcome) -> Self {
        OutcomeBody {
            documents: o.documents,
            stored: o.stored,
            updated: o.updated,
            unchanged: o.unchanged,
            skipped_older: o.skipped_older,
            noted: o
                .noted
                .iter()
                .map(|n| NotedBody {
                    index: n.index,
                    note: n.note.clone(),
                })
                .collect(),
            rejected: o
                .rejected
                .iter()
                .map(|r| RejectedBody {
                    index: r.index,
                    id: r.finding_id.clone(),
                    reason: r.reason.clone(),
                })
                .collect(),
            failed: o.failed.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::{DocumentOutcome, Rejection};

    #[test]
    fn a_document_counts_once_and_keeps_its_rejections_and_note_at_its_index() {
        let mut o = Outcome::default();
        let doc = DocumentOutcome {
            findings: vec![],
            rejected: vec![Rejection {
                finding_id: Some("f-1".into()),
                reason: "missing required Title".into(),
            }],
            note: Some("insight results".into()),
        };
        assert!(o.add_document("page 2", Some(7), doc).is_empty());
        assert_eq!(o.documents, 1);
        assert_eq!(
            o.rejected,
            vec![Rejected {
                input: "page 2".into(),
                index: Some(7),
                finding_id: Some("f-1".into()),
                reason: "missing required Title".into(),
            }]
        );
        assert_eq!(
            o.noted,
            vec![Noted {
                input: "page 2".into(),
                index: Some(7),
                note: "insight results".into(),
            }]
        );
    }

    #[test]
    fn the_summary_line_names_unwritten_findings_only_when_there_are_some() {
        let mut o = Outcome {
            documents: 4,
            stored: 3,
            ..Outcome::default()
        };
        assert_eq!(
            o.to_string(),
            "4 document(s): 3 stored, 0 updated, 0 unchanged, 0 skipped as older, 0 rejected"
        );
        o.failed.push(FailedWrite {
            id: "abc".into(),
            reason: "throttled".into(),
            retryable: true,
        });
        assert!(o.to_string().ends_with("0 rejected, 1 not written"), "{o}");
    }
}
