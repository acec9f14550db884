//! Running one job: the streamed export's pages written one after another into
//! the job's file, the status rewritten every [`HEARTBEAT`] with the progress,
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
use std::sync::Arc;

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

/// The export written into the job's file; returns its size. Progress goes into
/// `record` and, every heartbeat, into its status object.
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
    let mut chunks = Box::pin(export(store, record.filter.clone(), options));
    let written = async {
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk?;
            record.count += chunk.findings as u64;
            record.bytes += chunk.bytes.len() as u64;
            upload.write(chunk.bytes).await?;
            let now = Utc::now();
            if now - record.updated_at >= HEARTBEAT {
                record.updated_at = now;
                save(files, record).await?;
            }
        }
        Ok::<_, JobError>(())
    }
    .await;
    finish(upload, written).await
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
