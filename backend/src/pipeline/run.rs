//! Documents in, findings stored. A producer reads documents on a blocking thread
//! and normalizes them there (parsing, detection rules, suppressions are CPU work);
//! the async side batches the findings into store transactions with two batches in
//! flight, so reading, normalizing and writing overlap on both cores. What the
//! reading side sends crosses in bundles of [`BUNDLE`] events: one per document
//! woke the writer thousands of times per ingest for nothing (it writes only a full
//! batch, or at the end), each wake-up a context switch on both sides.

use super::batches::UpsertPipeline;
use super::outcome::{Noted, Outcome, Rejected};
use super::PipelineError;
use crate::documents::Item;
use crate::sources::{DocumentOutcome, Normalizer};
use crate::store::{Origin, Store};
use shared_types::Finding;
use std::cell::{Cell, RefCell};
use tokio::sync::mpsc;

/// Findings written per store transaction. Large: each commit writes every index
/// page it touched, and the id index is touched at random, so fewer, larger commits
/// write fewer pages per finding (about four batches are in memory at once).
pub const BATCH_SIZE: usize = 5000;

/// Events the reading side holds before sending them on together. Nothing waits
/// for an event sooner: findings are written a full batch at a time or at the end,
/// and rejections and notes are reported at the end.
const BUNDLE: usize = 256;
/// Findings a bundle holds at most, whatever its event count: the reading side
/// runs at most this many times [`BUNDLES_IN_FLIGHT`] + 2 findings ahead of the
/// writer (the demo hands over 500 at a time, and a document may carry 100; a
/// bundle of 256 such events was 64,000 findings).
const BUNDLE_FINDINGS: usize = 1_000;
/// Bundles the channel holds.
const BUNDLES_IN_FLIGHT: usize = 4;

/// What the reading side sends to the writing side.
enum Event {
    Findings(Vec<Finding>),
    Rejected(Rejected),
    Noted(Noted),
    Document,
    Progress(u64),
}

/// Where a producer hands its documents: each is normalized on the spot and its
/// findings, rejections and notes are sent on to the writer.
pub struct Feed<'a> {
    normalizer: &'a Normalizer,
    tx: mpsc::Sender<Vec<Event>>,
    held: RefCell<Vec<Event>>,
    /// Findings in `held`.
    held_findings: Cell<usize>,
}

impl Feed<'_> {
    fn send(&self, ev: Event) {
        if let Event::Findings(fs) = &ev {
            self.held_findings.set(self.held_findings.get() + fs.len());
        }
        let full = {
            let mut held = self.held.borrow_mut();
            held.push(ev);
            held.len() >= BUNDLE || self.held_findings.get() >= BUNDLE_FINDINGS
        };
        if full {
            self.flush();
        }
    }

    /// Sends what is held.
    fn flush(&self) {
        let bundle = std::mem::take(&mut *self.held.borrow_mut());
        self.held_findings.set(0);
        if !bundle.is_empty() {
            // The writer only stops early on a store error, which it reports itself.
            let _ = self.tx.blocking_send(bundle);
        }
    }

    /// One item read from `input` (a file name, `-`, `body`).
    pub fn item(&self, input: &str, item: Item) {
        match item {
            Item::Document { index, value } => {
                self.send(Event::Document);
                self.forward(input, Some(index), self.normalizer.parse_document(&value));
            }
            Item::Record {
                index,
                record,
                value,
            } => {
                self.send(Event::Document);
                let out = self.normalizer.parse_log_value(value, record);
                self.forward(input, Some(index), out);
            }
            Item::Unreadable { index, reason } => self.reject(input, index, reason),
        }
    }

    /// Findings that need no normalizing (demo data, an archive being restored).
    pub fn findings(&self, findings: Vec<Finding>) {
        if !findings.is_empty() {
            self.send(Event::Findings(findings));
        }
    }

    /// Something in `input` that could not be read at all.
    pub fn reject(&self, input: &str, index: Option<usize>, reason: String) {
        self.send(Event::Rejected(Rejected {
            input: input.to_string(),
            index,
            finding_id: None,
            reason,
        }));
    }

    /// `bytes` more of the input were read (for a progress bar).
    pub fn progress(&self, bytes: u64) {
        self.send(Event::Progress(bytes));
    }

    fn forward(&self, input: &str, index: Option<usize>, out: DocumentOutcome) {
        for r in out.rejected {
            self.send(Event::Rejected(Rejected::of(input, index, r)));
        }
        if let Some(note) = out.note {
            self.send(Event::Noted(Noted {
                input: input.to_string(),
                index,
                note,
            }));
        }
        if !out.findings.is_empty() {
            self.send(Event::Findings(out.findings));
        }
    }
}

/// The next event: the rest of the bundle at hand, then the next bundle's.
async fn next(
    rx: &mut mpsc::Receiver<Vec<Event>>,
    bundle: &mut std::vec::IntoIter<Event>,
) -> Option<Event> {
    loop {
        if let Some(ev) = bundle.next() {
            return Some(ev);
        }
        *bundle = rx.recv().await?.into_iter();
    }
}

/// Reads documents into a [`Feed`]; runs on a blocking thread.
pub type Producer = Box<dyn FnOnce(&Feed<'_>) -> std::io::Result<()> + Send>;

/// Runs `producer`'s documents through normalize → store. `progress` is told how
/// many bytes were read as reading goes on.
pub(super) async fn run(
    store: &dyn Store,
    meter: Option<&super::meter::Meter>,
    normalizer: std::sync::Arc<Normalizer>,
    producer: Producer,
    origin: Origin,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Outcome, PipelineError> {
    let (tx, mut rx) = mpsc::channel::<Vec<Event>>(BUNDLES_IN_FLIGHT);
    let reading = tokio::task::spawn_blocking(move || {
        let feed = Feed {
            normalizer: &normalizer,
            tx,
            held: RefCell::new(Vec::with_capacity(BUNDLE)),
            held_findings: Cell::new(0),
        };
        let read = producer(&feed);
        feed.flush();
        read
    });
    let mut outcome = Outcome::default();
    let mut batch: Vec<Finding> = Vec::with_capacity(BATCH_SIZE);
    let mut writes = UpsertPipeline::new(store, origin, meter);
    let mut bundle = Vec::new().into_iter();
    while let Some(ev) = next(&mut rx, &mut bundle).await {
        match ev {
            Event::Findings(fs) => {
                batch.extend(fs);
                if batch.len() >= BATCH_SIZE {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_SIZE));
                    if let Some((_, r)) = writes.push(full).await? {
                        outcome.add_report(&r);
                    }
                }
            }
            Event::Rejected(r) => outcome.rejected.push(r),
            Event::Noted(n) => outcome.noted.push(n),
            Event::Document => outcome.documents += 1,
            Event::Progress(bytes) => progress(bytes),
        }
    }
    if !batch.is_empty() {
        if let Some((_, r)) = writes.push(batch).await? {
            outcome.add_report(&r);
        }
    }
    for (_, r) in writes.finish().await? {
        outcome.add_report(&r);
    }
    reading
        .await
        .map_err(|e| PipelineError::Reader(e.to_string()))??;
    Ok(outcome)
}
