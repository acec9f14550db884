//! Running one job: the streamed export's pages written one after another into
//! the job's file, the status rewritten every [`HEARTBEAT`] with the progress
//! (by a timer, so a page that takes long does not look like a dead runner),
//! then once more as done or failed.

use super::error::JobError;
use super::files::{ExportFiles, Upload};
use super::record::{JobRecord, HEARTBEAT};
use crate::archive::SinkError;
use crate::export::{export, ExportError};
use crate::store::Store;
use bytes::Bytes;
use chrono::Utc;
use futures::StreamExt;
use shared_types::ExportState;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior};

/// Writes `record`'s status object.
pub async fn save(files: &dyn ExportFiles, record: &JobRecord) -> Result<(), JobError> {
    let body = serde_json::to_vec(record).map_err(|source| JobError::Status {
        key: record.job_id().status_key(),
        source,
    })?;
    files
        .put_status(&record.job_id().status_key(), Bytes::from(body))
        .await?;
    Ok(())
}

/// Why a job failed, in words for the person who started it (the details go
/// to the log: they may name hosts, buckets or keys).
fn reason(e: &JobError) -> String {
    match e {
        JobError::Export(ExportError::Store(s)) if s.is_retryable() => {
            "the findings store was unavailable; start the export again".into()
        }
        JobError::Export(ExportError::Store(_)) => "the findings could not be read".into(),
        JobError::Export(ExportError::Encode { id, .. }) => {
            format!("finding {id} could not be encoded")
        }
        JobError::Files(SinkError::Io { .. } | SinkError::S3 { .. }) => {
            "the export file could not be written; start the export again".into()
        }
        _ => "the export failed".into(),
    }
}

/// Runs `record` (a running job) to the end, writing its file and its status.
/// `Ok` with the final record whether the export succeeded or failed (a failure
/// is the job's result, recorded for its owner); `Err` only when the final
/// status itself could not be written, so a queue may deliver the job again.
pub async fn run(
    store: Arc<dyn Store>,
    files: &dyn ExportFiles,
    mut record: JobRecord,
) -> Result<JobRecord, JobError> {
    let result = write_file(store, files, &mut record).await;
    let now = Utc::now();
    match result {
        Ok(bytes) => {
            record.bytes = bytes;
            record.finish(ExportState::Done, None, now);
            tracing::info!(export = %record.id, count = record.count, bytes, "export done");
        }
        Err(e) => {
            tracing::error!(export = %record.id, error = %e, retryable = e.is_retryable(),
                "export failed");
            let why = reason(&e);
            record.finish(ExportState::Failed, Some(why), now);
        }
    }
    save(files, &record).await?;
    Ok(record)
}

/// Findings and bytes written so far, shared by the writer and the heartbeat.
#[derive(Default)]
struct Progress {
    count: AtomicU64,
    bytes: AtomicU64,
}

/// The export written into the job's file; returns its size. Progress goes into
/// `record` and, every [`HEARTBEAT`], into its status object.
async fn write_file(
    store: Arc<dyn Store>,
    files: &dyn ExportFiles,
    record: &mut JobRecord,
) -> Result<u64, JobError> {
    record.state = ExportState::Running;
    record.updated_at = Utc::now();
    save(files, record).await?;
    let options = record.spec().options();
    let mut upload = files
        .create(&record.file_key(), options.format.content_type())
        .await?;
    let progress = Progress::default();
    let (stop, stopped) = watch::channel(());
    let writer = async {
        let mut chunks = std::pin::pin!(export(store, record.filter.clone(), options));
        let written = async {
            while let Some(chunk) = chunks.next().await {
                let chunk = chunk?;
                progress
                    .count
                    .fetch_add(chunk.findings as u64, Ordering::Relaxed);
                progress
                    .bytes
                    .fetch_add(chunk.bytes.len() as u64, Ordering::Relaxed);
                upload.write(chunk.bytes).await?;
            }
            Ok::<_, JobError>(())
        }
        .await;
        let size = finish(upload, written).await;
        drop(stop); // the heartbeat ends after the status write it may be in
        size
    };
    let (size, last) = tokio::join!(writer, heartbeat(files, record.clone(), &progress, stopped));
    record.count = progress.count.load(Ordering::Relaxed);
    record.bytes = progress.bytes.load(Ordering::Relaxed);
    record.updated_at = last.max(record.updated_at);
    size
}

/// Rewrites `record`'s status with the progress every [`HEARTBEAT`] until the
/// writer drops its end of `stopped`; returns when it last wrote. A timer, not
/// the pages, drives it: however long one page, one part upload or the final
/// completion takes, a live job never reads as stale. It runs beside the writer
/// in the same task (joined, not spawned), and the writer's end is only
/// recorded after it returns, so a late heartbeat can never overwrite the final
/// state. A failed write is logged and tried at the next beat: a job goes stale
/// only if they fail for [`super::record::STALE_AFTER`].
async fn heartbeat(
    files: &dyn ExportFiles,
    mut record: JobRecord,
    progress: &Progress,
    mut stopped: watch::Receiver<()>,
) -> chrono::DateTime<Utc> {
    let period = HEARTBEAT.to_std().unwrap_or(Duration::from_secs(2));
    let mut beat = tokio::time::interval_at(Instant::now() + period, period);
    beat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stopped.changed() => return record.updated_at,
            _ = beat.tick() => {}
        }
        record.count = progress.count.load(Ordering::Relaxed);
        record.bytes = progress.bytes.load(Ordering::Relaxed);
        record.updated_at = Utc::now();
        if let Err(e) = save(files, &record).await {
            tracing::warn!(export = %record.id, error = %e, "export heartbeat not saved");
        }
    }
}

/// Completes the upload after a successful write, gives it up otherwise.
async fn finish(upload: Box<dyn Upload>, written: Result<(), JobError>) -> Result<u64, JobError> {
    match written {
        Ok(()) => Ok(upload.finish().await?),
        Err(e) => {
            upload.abort().await;
            Err(e)
        }
    }
}
