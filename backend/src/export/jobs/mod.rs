//! Export jobs (`POST /exports`, `GET /exports/{id}`): the streamed export of
//! [`crate::export`] written into a file of the archive store instead of an HTTP
//! answer, for the dashboard (whose download must carry the user's credentials)
//! and for AWS (where an answer cannot stream through API Gateway and Lambda).
//!
//! A job is two objects under `exports/`: its status (a small JSON object that
//! also carries the owner, filter and progress) and its file. Keeping the state
//! there, not in memory, is what lets the local server find a job after a
//! restart and lets the `api` and `exporter` Lambdas share it.

/// Why a job could not be started, read or run.
pub mod error;
/// The port: status objects, streamed uploads, listing, deleting, links.
pub mod files;
/// The local-folder implementation (`DATA_DIR/exports/`).
pub mod local;
/// Who runs a recorded job: a task here, or the SQS queue the worker reads.
pub mod queue;
/// A job's status object, id and keys.
pub mod record;
/// Running one job: the pages into the file, progress into the status.
pub mod run;
/// The archive bucket implementation (SSE, multipart, presigned links).
#[cfg(feature = "aws")]
pub mod s3;
/// Start, read, download, run and sweep.
pub mod service;

pub use error::JobError;
pub use files::ExportFiles;
pub use local::LocalExportFiles;
#[cfg(feature = "aws")]
pub use queue::SqsQueue;
pub use queue::{JobQueue, Runner};
pub use record::{JobId, JobRecord, JobSpec};
#[cfg(feature = "aws")]
pub use s3::S3ExportFiles;
pub use service::{Download, ExportJobs};
