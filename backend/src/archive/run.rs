//! One archive run: finish any crashed run first, then stream candidates oldest
//! first into day parts; for each part: record the intent in the manifest, put it,
//! read it back and compare its SHA-256, record it as verified, and only then
//! delete its findings from the store (conditionally, in batches, with retries).
//!
//! Invariant, whatever fails and whenever: every finding version is in the store or
//! in a verified part (or both, until the deletes finish), and never in two parts.
//!
//! The deletes of a verified part run beside the compression of the next one (a
//! delete worker fed through a one-slot queue): the store deletes on its own
//! thread while this task gzips, so a run uses both cores instead of taking turns.

use super::delete::{delete_verified, delete_worker, DeleteCounts, DeleteDone, DeleteJob};
use super::error::{ArchiveError, DeleteFailure};
use super::housekeeping::drop_zero_tallies;
use super::index::ArchivedIndex;
use super::layout::{self, dt_of};
use super::manifest::{self, PartEntry, PartState, RunManifest, RunStatus};
use super::options::ArchiveOptions;
use super::recover::recover_pending;
use super::report::RunReport;
use super::writer::{sha256_hex, BuiltPart, PartWriter};
use super::{ArchiveSink, ObjectKind};
use crate::store::{ArchiveCandidate, FindingVersion, Store};
use chrono::{DateTime, Utc};
use flate2::Compression;
use std::time::Instant;

/// Candidates compressed between two chances for the delete worker to run.
const YIELD_EVERY: usize = 50;

/// Progress callback: called with the number of candidates handled so far.
pub type Progress<'a> = &'a (dyn Fn(u64) + Send + Sync);

/// Runs the archiver once. See the module documentation for the protocol.
pub async fn run_archive(
    store: &dyn Store,
    sink: &dyn ArchiveSink,
    opts: &ArchiveOptions,
    progress: Option<Progress<'_>>,
) -> Result<RunReport, ArchiveError> {
    let started = Instant::now();
    let now = Utc::now();
    let mut run = Run {
        store,
        sink,
        opts,
        report: RunReport {
            run_id: layout::new_run_id(now),
            ..Default::default()
        },
        manifest: None,
        index: ArchivedIndex::default(),
        started_at: now,
        writer: None,
        redundant: Vec::new(),
        seen: 0,
        jobs: None,
        done: None,
    };

    // One run at a time per archive, held until this function returns.
    let _lock = sink.lock_runs().await?;
    let mut manifests = manifest::load_all(sink).await?;
    for m in manifests
        .iter_mut()
        .filter(|m| m.status == RunStatus::Pending)
    {
        let counts = recover_pending(store, sink, m, &run.report.run_id, opts).await?;
        run.report.add_deletes(counts);
        run.report.recovered_runs.push(m.run_id.clone());
    }
    run.index = ArchivedIndex::new(&manifests);
    drop(manifests);

    let (jobs, job_queue) = tokio::sync::mpsc::channel::<DeleteJob>(1);
    let (done_tx, done) = tokio::sync::mpsc::unbounded_channel::<DeleteDone>();
    run.jobs = Some(jobs);
    run.done = Some(done);
    let streaming = async move {
        let result = run.stream(started, progress).await;
        // Closing the queue lets the delete worker finish once its jobs are done.
        run.jobs = None;
        (run, result)
    };
    let ((mut run, streamed), deleted) =
        tokio::join!(streaming, delete_worker(store, opts, job_queue, done_tx));
    // On a failure the manifest stays as the failure left it, as after a crash; the
    // next run verifies and (re)does whatever deletes it does not show as done.
    deleted?;
    streamed?;
    run.record_deletes().await?;
    let mut redundant = std::mem::take(&mut run.redundant);
    run.delete_redundant(&mut redundant).await?;
    if let Some(mut m) = run.manifest.take() {
        m.status = RunStatus::Complete;
        m.completed_at = Some(Utc::now());
        manifest::save(sink, &m).await?;
    }
    run.report.tallies_dropped =
        drop_zero_tallies(store, opts.time_budget, started, run.report.stopped_early).await;
    Ok(run.report)
}

/// State of one run while it streams.
struct Run<'a> {
    store: &'a dyn Store,
    sink: &'a dyn ArchiveSink,
    opts: &'a ArchiveOptions,
    report: RunReport,
    /// Written on the first part (a run with nothing to do leaves no manifest).
    manifest: Option<RunManifest>,
    index: ArchivedIndex,
    started_at: DateTime<Utc>,
    /// The part being filled.
    writer: Option<PartWriter>,
    /// Candidates already archived, waiting for a delete batch.
    redundant: Vec<FindingVersion>,
    /// Candidates handled so far (for progress).
    seen: u64,
    /// Queue to the delete worker (closed when streaming ends).
    jobs: Option<tokio::sync::mpsc::Sender<DeleteJob>>,
    /// Deletes the worker finished.
    done: Option<tokio::sync::mpsc::UnboundedReceiver<DeleteDone>>,
}

/// Whether to go on reading candidates after a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Continue,
    /// The time budget ran out at a part boundary.
    Stop,
}

impl Run<'_> {
    fn manifest(&mut self) -> &mut RunManifest {
        let (id, started, cutoff) = (
            self.report.run_id.clone(),
            self.started_at,
            self.opts.cutoff,
        );
        self.manifest
            .get_or_insert_with(|| RunManifest::new(id, started, cutoff))
    }

    /// Streams every candidate page into parts (reading the next page while this one
    /// is handled), then flushes the last part.
    async fn stream(
        &mut self,
        started: Instant,
        progress: Option<Progress<'_>>,
    ) -> Result<(), ArchiveError> {
        let (store, opts) = (self.store, self.opts);
        let mut page = store
            .archive_candidates(opts.cutoff, opts.page_size, None)
            .await?;
        loop {
            let next_cursor = page.next_cursor.take();
            // The next page is read while this one is compressed, written, verified and
            // deleted: the store works on its own threads (SQLite's blocking pool,
            // DynamoDB's network), so reading overlaps with gzip instead of adding to it.
            let prefetch = async {
                match next_cursor.as_deref() {
                    Some(c) => store
                        .archive_candidates(opts.cutoff, opts.page_size, Some(c))
                        .await
                        .map(Some),
                    None => Ok(None),
                }
            };
            let (next, flow) = tokio::join!(
                biased;
                prefetch,
                self.take_page(&page.candidates, started)
            );
            if flow? == Flow::Stop {
                self.report.stopped_early = true;
                break;
            }
            if let Some(p) = progress {
                p(self.seen);
            }
            match next? {
                Some(p) => page = p,
                None => break,
            }
        }
        if let Some(w) = self.writer.take() {
            self.flush(w).await?;
        }
        Ok(())
    }

    /// Marks the parts whose deletes finished as deleted (in the manifest, not yet
    /// saved, and in the report); true when there were any.
    fn take_finished_deletes(&mut self) -> bool {
        let mut finished = Vec::new();
        if let Some(done) = self.done.as_mut() {
            while let Ok(d) = done.try_recv() {
                finished.push(d);
            }
        }
        for d in &finished {
            self.set_state(d.n, PartState::Deleted, d.counts);
            self.report.add_deletes(d.counts);
        }
        !finished.is_empty()
    }

    /// [`Self::take_finished_deletes`], then saves the manifest if anything changed.
    async fn record_deletes(&mut self) -> Result<(), ArchiveError> {
        if self.take_finished_deletes() {
            self.save().await?;
        }
        Ok(())
    }

    /// Routes one page of candidates into parts (flushing full ones) or, when
    /// already archived, into the redundant delete batch.
    async fn take_page(
        &mut self,
        candidates: &[ArchiveCandidate],
        started: Instant,
    ) -> Result<Flow, ArchiveError> {
        let opts = self.opts;
        let out_of_time = || opts.time_budget.is_some_and(|b| started.elapsed() >= b);
        for (i, f) in candidates.iter().enumerate() {
            // The store already filters; this guards the invariant if one ever does not.
            if f.updated_at >= opts.cutoff {
                continue;
            }
            self.seen += 1;
            if i % YIELD_EVERY == YIELD_EVERY - 1 {
                // Compression never awaits: let the delete worker (same task) queue
                // its next batch so the store keeps deleting meanwhile.
                tokio::task::yield_now().await;
            }
            let v = f.version();
            if self.index.contains(self.sink, &v).await? {
                self.redundant.push(v);
                if self.redundant.len() >= opts.delete_batch {
                    let mut batch = std::mem::take(&mut self.redundant);
                    self.delete_redundant(&mut batch).await?;
                }
                continue;
            }
            let dt = dt_of(f.updated_at);
            if self.writer.as_ref().is_some_and(|w| w.dt() != dt) {
                if let Some(w) = self.writer.take() {
                    self.flush(w).await?;
                }
                if out_of_time() {
                    return Ok(Flow::Stop);
                }
            }
            let w = self.writer.get_or_insert_with(|| {
                PartWriter::new(dt, Compression::new(opts.compression_level))
            });
            w.push(f)?;
            if w.is_full(&opts.caps) {
                if let Some(w) = self.writer.take() {
                    self.flush(w).await?;
                }
                if out_of_time() {
                    return Ok(Flow::Stop);
                }
            }
        }
        Ok(Flow::Continue)
    }

    /// Intent → put → read back + SHA-256 → verified → delete → deleted.
    async fn flush(&mut self, w: PartWriter) -> Result<(), ArchiveError> {
        let BuiltPart {
            dt,
            body,
            sha256,
            uncompressed_bytes,
            versions,
            min_updated_at,
            max_updated_at,
        } = w.finish()?;
        let n = self.manifest().parts.len() as u32 + 1;
        let key = layout::part_key(dt, &self.report.run_id, n);
        let bytes = body.len() as u64;
        self.manifest().parts.push(PartEntry {
            n,
            key: key.clone(),
            dt,
            state: PartState::Writing,
            count: versions.len() as u64,
            bytes,
            uncompressed_bytes,
            sha256: sha256.clone(),
            min_updated_at,
            max_updated_at,
            deleted: 0,
            kept: 0,
        });
        // The intent (with the SHA-256) is durable before the object exists, so a
        // crash after the put leaves a part the next run can verify and adopt.
        self.save().await?;
        self.sink.put(&key, body, ObjectKind::Part).await?;

        let back = self
            .sink
            .get(&key)
            .await?
            .ok_or_else(|| ArchiveError::VerifyFailed {
                key: key.clone(),
                reason: "not found right after it was written".into(),
            })?;
        let got = sha256_hex(&back);
        drop(back);
        if got != sha256 {
            return Err(ArchiveError::VerifyFailed {
                key,
                reason: format!("read back SHA-256 {got}, wrote {sha256}"),
            });
        }
        self.set_state(n, PartState::Verified, DeleteCounts::default());
        self.take_finished_deletes();
        self.save().await?;
        if let Some(entry) = self.manifest().parts.last().cloned() {
            self.index.add(&entry, &versions);
        }

        self.report.parts += 1;
        self.report.archived += versions.len() as u64;
        self.report.compressed_bytes += bytes;
        self.report.uncompressed_bytes += uncompressed_bytes;
        tracing::info!(part = %key, findings = versions.len(), bytes, "part archived and verified");
        let job = DeleteJob { n, key, versions };
        let queued = match &self.jobs {
            Some(jobs) => jobs.send(job).await.is_ok(),
            None => false,
        };
        if !queued {
            // The worker stopped on a failed delete; run_archive reports its error.
            return Err(ArchiveError::DeleteFailed {
                key: "(queue)".into(),
                remaining: 0,
                last_error: DeleteFailure::WorkerStopped,
            });
        }
        Ok(())
    }

    /// Deletes candidates already in a verified part of an earlier run. No manifest
    /// entry is needed first: the parts that hold them are verified already.
    async fn delete_redundant(
        &mut self,
        redundant: &mut Vec<FindingVersion>,
    ) -> Result<(), ArchiveError> {
        if redundant.is_empty() {
            return Ok(());
        }
        let counts = delete_verified(
            self.store,
            redundant,
            self.opts.delete_batch,
            &self.opts.retry,
            "(already archived)",
        )
        .await?;
        self.report.already_archived += redundant.len() as u64;
        self.manifest().already_archived += redundant.len() as u64;
        self.report.add_deletes(counts);
        redundant.clear();
        Ok(())
    }

    fn set_state(&mut self, n: u32, state: PartState, counts: DeleteCounts) {
        if let Some(p) = self.manifest().parts.iter_mut().find(|p| p.n == n) {
            p.state = state;
            p.deleted += counts.deleted;
            p.kept += counts.kept;
        }
    }

    async fn save(&mut self) -> Result<(), ArchiveError> {
        let m = self.manifest().clone();
        manifest::save(self.sink, &m).await?;
        Ok(())
    }
}
