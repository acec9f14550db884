//! Export: the whole filtered set of findings, newest first, as CSV, JSON Lines or
//! OCSF Detection Findings — for `GET /findings/export` and `cspm export` alike.
//!
//! The set is read through the store's pages of whole findings
//! ([`Store::finding_pages`], the same query and order as `GET /findings`) and
//! each page is encoded into one chunk, so memory stays that of a few pages
//! whatever the size of the set.

/// RFC 4180 CSV with the columns analysts asked for, spreadsheet formulas neutralised.
pub mod csv;
/// Export jobs: the same export written into the archive store, with a download link.
pub mod jobs;
/// JSON Lines: list items, or whole findings.
pub mod jsonl;
/// OCSF 1.5 Detection Findings as JSON Lines.
pub mod ocsf;

use crate::store::{Store, StoreError};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};
use shared_types::{Finding, FindingFilter};
use std::sync::Arc;

/// Findings read per store call. A few pages of whole findings (raw documents
/// included: one being encoded, the next ones being read and decoded) are the
/// most an export holds in memory; 250 keeps that well under 100 MB at any size
/// of export, and the per-page cost (one indexed query) small beside decoding.
pub const PAGE_SIZE: u32 = 250;

/// The formats an export can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ExportFormat {
    /// Comma-separated values for spreadsheets (the default).
    #[default]
    Csv,
    /// One JSON document per line: the API's list items (or whole findings).
    Jsonl,
    /// One OCSF 1.5 Detection Finding per line.
    Ocsf,
}

impl ExportFormat {
    /// Every format by its query-string name.
    pub const ALL: [ExportFormat; 3] = [ExportFormat::Csv, ExportFormat::Jsonl, ExportFormat::Ocsf];

    /// The name used in `format=` and `--format`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Jsonl => "jsonl",
            ExportFormat::Ocsf => "ocsf",
        }
    }

    /// The format named `s` (exactly as [`ExportFormat::as_str`] spells it).
    pub fn parse(s: &str) -> Option<ExportFormat> {
        Self::ALL.into_iter().find(|f| f.as_str() == s)
    }

    /// The file name extension (OCSF files say what they hold before `.jsonl`).
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Jsonl => "jsonl",
            ExportFormat::Ocsf => "ocsf.jsonl",
        }
    }

    /// The HTTP `Content-Type` of a file in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Jsonl | ExportFormat::Ocsf => "application/x-ndjson",
        }
    }

    /// `cspm-findings-<UTC time>.<ext>`: the name a download is saved under.
    pub fn file_name(self, at: DateTime<Utc>) -> String {
        format!(
            "cspm-findings-{}.{}",
            at.format("%Y%m%dT%H%M%SZ"),
            self.extension()
        )
    }
}

/// What to write besides the format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExportOptions {
    /// The format.
    pub format: ExportFormat,
    /// JSON Lines only: whole findings instead of list items.
    pub detail: bool,
    /// OCSF only: the original document under `unmapped.original`.
    pub raw: bool,
}

impl ExportOptions {
    /// True when the writer reads findings' raw documents: whole findings in
    /// JSON Lines, and OCSF (its `compliance.standards` come from the document).
    /// CSV and the list items of JSON Lines never do.
    pub fn reads_raw(&self) -> bool {
        match self.format {
            ExportFormat::Csv => false,
            ExportFormat::Jsonl => self.detail,
            ExportFormat::Ocsf => true,
        }
    }
}

/// Why an export stopped. Nothing already written is taken back: a failed export
/// is an incomplete file (the HTTP body is cut off, the CLI removes its file).
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Reading the store failed; [`ExportError::is_retryable`] says whether trying again may help.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A finding could not be encoded (a stored document that no longer fits the model).
    #[error("finding {id} could not be encoded: {source}")]
    Encode {
        /// Short id of the finding.
        id: String,
        /// What failed.
        #[source]
        source: serde_json::Error,
    },
}

impl ExportError {
    /// True when running the same export again may succeed (a throttled or
    /// unreachable store); false for broken data.
    pub fn is_retryable(&self) -> bool {
        matches!(self, ExportError::Store(e) if e.is_retryable())
    }
}

/// One encoded page: bytes to write and how many findings they hold (for progress).
#[derive(Debug, Clone)]
pub struct Chunk {
    /// The encoded findings (the CSV header row is in the first chunk).
    pub bytes: Bytes,
    /// Findings in `bytes`.
    pub findings: usize,
}

/// Appends one finding, encoded, to `out`.
fn encode(options: ExportOptions, f: &Finding, out: &mut Vec<u8>) -> Result<(), ExportError> {
    let result = match options.format {
        ExportFormat::Csv => {
            csv::write_row(f, out);
            Ok(())
        }
        ExportFormat::Jsonl => jsonl::write_line(f, options.detail, out),
        ExportFormat::Ocsf => ocsf::write_line(f, options.raw, out),
    };
    result.map_err(|source| ExportError::Encode {
        id: f.id.clone(),
        source,
    })
}

/// The whole set `filter` selects, newest first, encoded as `options` say: one
/// chunk per store page (a CSV export of nothing is its header row). The stream
/// ends after the first error. The next page is read while this one is encoded
/// and written ([`read_ahead`]), so the store's work and the encoding overlap.
pub fn export(
    store: Arc<dyn Store>,
    filter: FindingFilter,
    options: ExportOptions,
) -> impl Stream<Item = Result<Chunk, ExportError>> + Send + 'static {
    let mut first = true;
    read_ahead(store.finding_pages(filter, PAGE_SIZE, options.reads_raw())).map(move |page| {
        let findings = page?;
        let mut out = Vec::with_capacity(findings.len() * 512 + 256);
        if std::mem::take(&mut first) && options.format == ExportFormat::Csv {
            csv::write_header(&mut out);
        }
        for f in &findings {
            encode(options, f, &mut out)?;
        }
        Ok(Chunk {
            bytes: Bytes::from(out),
            findings: findings.len(),
        })
    })
}

/// The pages driven by a task of its own, one page ahead of the reader: while the
/// caller encodes and writes a page, the next one is read and decoded. A page is
/// only asked for once the one before was taken (the channel's single slot is
/// reserved first), so besides what the store reads ahead itself, at most two
/// pages are in memory. The task stops after an
/// error, at the end, or when the caller drops the stream (an HTTP client gone).
fn read_ahead<T: Send + 'static>(
    pages: impl Stream<Item = Result<T, StoreError>> + Send + 'static,
) -> impl Stream<Item = Result<T, StoreError>> + Send + 'static {
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    tokio::spawn(async move {
        let mut pages = std::pin::pin!(pages);
        while let Ok(slot) = tx.reserve().await {
            let Some(page) = pages.next().await else {
                break;
            };
            let failed = page.is_err();
            slot.send(page);
            if failed {
                break;
            }
        }
    });
    // Fused: a body encoder may poll once more after the end.
    futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|p| (p, rx)) }).fuse()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_carry_the_utc_time_and_the_format() {
        let at: DateTime<Utc> = "2026-12-01T09:05:07Z".parse().unwrap();
        assert_eq!(
            ExportFormat::Csv.file_name(at),
            "cspm-findings-20261201T090507Z.csv"
        );
        assert_eq!(
            ExportFormat::Ocsf.file_name(at),
            "cspm-findings-20261201T090507Z.ocsf.jsonl"
        );
        assert_eq!(ExportFormat::parse("jsonl"), Some(ExportFormat::Jsonl));
        assert_eq!(ExportFormat::parse("CSV"), None);
        assert_eq!(ExportFormat::parse("xml"), None);
    }
}
