//! `cspm ingest`: read documents from files, folders or stdin, normalize them and
//! store the findings in batches. Reading and normalizing run on a blocking thread
//! while the store writes the previous batch, so both cores stay busy.

/// Files, folders, stdin, gzip, JSON and JSON Lines.
pub mod reader;
/// Streaming of `Records` arrays and top-level arrays, element by element.
pub mod stream;

use crate::sources::Normalizer;
use crate::store::pipeline::UpsertPipeline;
use crate::store::{Store, StoreError, UpsertOutcome, UpsertReport};
use indicatif::{ProgressBar, ProgressStyle};
use reader::{Input, Item};
use shared_types::Finding;
use std::path::PathBuf;
use std::sync::Arc;

/// Findings written per store transaction. Large: each commit writes every index
/// page it touched, and the id index is touched at random, so fewer, larger commits
/// write fewer pages per finding (about four batches are in memory at once).
pub const BATCH_SIZE: usize = 2500;

/// One rejected finding or document, with where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedItem {
    /// File name (or `-` for stdin).
    pub file: String,
    /// The finding's id when it could be read.
    pub finding_id: Option<String>,
    /// Why.
    pub reason: String,
}

/// What an ingest run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestReport {
    /// Inputs read.
    pub files: usize,
    /// JSON documents read.
    pub documents: usize,
    /// New findings stored.
    pub stored: usize,
    /// Stored findings replaced by a newer version.
    pub updated: usize,
    /// Findings already stored in this exact version.
    pub unchanged: usize,
    /// Findings older than the stored version, ignored.
    pub skipped_older: usize,
    /// Findings or documents rejected, each with its reason.
    pub rejected: Vec<RejectedItem>,
    /// Valid documents that hold no findings by design (file, note).
    pub notes: Vec<(String, String)>,
    /// Files in folders skipped because of their extension.
    pub skipped_files: Vec<PathBuf>,
    /// Findings the store could not write (id, reason).
    pub failed: Vec<(String, String)>,
}

impl IngestReport {
    fn add(&mut self, r: UpsertReport) {
        for (_, o) in &r.outcomes {
            match o {
                UpsertOutcome::Inserted => self.stored += 1,
                UpsertOutcome::Updated { .. } => self.updated += 1,
                UpsertOutcome::Unchanged => self.unchanged += 1,
                UpsertOutcome::SkippedOlder => self.skipped_older += 1,
            }
        }
        self.failed
            .extend(r.failed.into_iter().map(|f| (f.id, f.reason)));
    }
}

/// Errors that stop an ingest run (bad findings don't: they are reported).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// A path could not be read.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

enum Event {
    Findings(Vec<Finding>),
    Rejected(RejectedItem),
    Note(String, String),
    FileDone { bytes: u64 },
    Document,
}

/// Progress display: a bar over bytes on a terminal, nothing otherwise.
pub fn progress_bar(total_bytes: u64, visible: bool) -> ProgressBar {
    if !visible {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(total_bytes);
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}",
    ) {
        bar.set_style(style);
    }
    bar
}

/// Ingests every path (files, folders, `-` for stdin) into `store`.
pub async fn ingest_paths(
    store: &dyn Store,
    normalizer: Arc<Normalizer>,
    paths: &[PathBuf],
    show_progress: bool,
) -> Result<IngestReport, IngestError> {
    let (inputs, skipped_files) = reader::expand(paths)?;
    let total: u64 = inputs
        .iter()
        .map(|i| match i {
            Input::File(p) => std::fs::metadata(p).map(|m| m.len()).unwrap_or(0),
            Input::Stdin => 0,
        })
        .sum();
    let bar = progress_bar(total, show_progress);
    let mut report = IngestReport {
        files: inputs.len(),
        skipped_files,
        ..Default::default()
    };

    let (tx, mut rx) = tokio::sync::mpsc::channel::<Event>(64);
    let producer = tokio::task::spawn_blocking(move || produce(&inputs, &normalizer, &tx));

    let mut batch: Vec<Finding> = Vec::with_capacity(BATCH_SIZE);
    let mut pipeline = UpsertPipeline::new(store);
    while let Some(ev) = rx.recv().await {
        match ev {
            Event::Findings(fs) => {
                batch.extend(fs);
                if batch.len() >= BATCH_SIZE {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_SIZE));
                    if let Some((_, r)) = pipeline.push(full).await? {
                        report.add(r);
                    }
                }
            }
            Event::Rejected(r) => report.rejected.push(r),
            Event::Note(file, note) => report.notes.push((file, note)),
            Event::FileDone { bytes } => bar.inc(bytes),
            Event::Document => report.documents += 1,
        }
    }
    if !batch.is_empty() {
        pipeline
            .push(batch)
            .await?
            .into_iter()
            .for_each(|(_, r)| report.add(r));
    }
    for (_, r) in pipeline.finish().await? {
        report.add(r);
    }
    bar.finish_and_clear();
    producer
        .await
        .map_err(|e| IngestError::Io(std::io::Error::other(e)))??;
    Ok(report)
}

/// Reads and normalizes every input, sending results to the writer.
fn produce(
    inputs: &[Input],
    normalizer: &Normalizer,
    tx: &tokio::sync::mpsc::Sender<Event>,
) -> std::io::Result<()> {
    let send = |ev: Event| {
        // The writer only stops early on a store error, which it reports itself.
        let _ = tx.blocking_send(ev);
    };
    for input in inputs {
        let label = input.label();
        let reject = |finding_id: Option<String>, reason: String| {
            send(Event::Rejected(RejectedItem {
                file: label.clone(),
                finding_id,
                reason,
            }))
        };
        // Rejections of array elements say which element they were.
        let forward = |out: crate::sources::DocumentOutcome, index: Option<usize>| {
            for r in out.rejected {
                let reason = match index {
                    Some(i) if !r.reason.starts_with('[') => format!("[{i}] {}", r.reason),
                    _ => r.reason,
                };
                reject(r.finding_id, reason);
            }
            if let Some(note) = out.note {
                send(Event::Note(label.clone(), note));
            }
            if !out.findings.is_empty() {
                send(Event::Findings(out.findings));
            }
        };
        let reader = match reader::open(input) {
            Ok(r) => r,
            Err(e) => {
                reject(None, format!("cannot read: {e}"));
                continue;
            }
        };
        let result = reader::read_documents(input, reader, |item| match item {
            Item::Unreadable(reason) => reject(None, reason),
            Item::Document(doc) => {
                send(Event::Document);
                forward(normalizer.parse_document(&doc), None)
            }
            Item::Element { index, value } => {
                send(Event::Document);
                forward(normalizer.parse_document(&value), Some(index))
            }
            Item::Record { index, value } => {
                send(Event::Document);
                forward(normalizer.parse_log_record(&value, index), None)
            }
        });
        if let Err(e) = result {
            reject(None, format!("read failed: {e}"));
        }
        let bytes = match input {
            Input::File(p) => std::fs::metadata(p).map(|m| m.len()).unwrap_or(0),
            Input::Stdin => 0,
        };
        send(Event::FileDone { bytes });
    }
    Ok(())
}
