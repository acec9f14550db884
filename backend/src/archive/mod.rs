//! The archive: findings older than the retention window leave the hot store for
//! gzip JSON Lines parts (`findings/dt=YYYY-MM-DD/part-<run-id>-<n>.jsonl.gz`) in a
//! local folder or an S3 bucket, with one manifest per run (`manifests/run-<run-id>.json`).
//!
//! The [`ArchiveSink`] port only stores and returns bytes; what makes archival safe
//! (write, read back, verify, then delete conditionally; recover crashed runs;
//! never archive a finding version twice) lives in [`run`], over any sink and any
//! [`crate::store::Store`].

/// Parsing `--older-than` ages.
pub mod age;
/// Conditional deletes in batches with retries.
pub mod delete;
/// Why a run stopped, and whether running again may succeed.
pub mod error;
/// After a run: dropping the store's counter tallies that netted to zero.
mod housekeeping;
/// Which finding versions are already in a verified part (no second archived copy).
pub mod index;
/// The `archiver` Lambda's handler and its environment.
#[cfg(feature = "aws")]
pub mod lambda;
/// Part and manifest object keys (the layout Athena's partition projection expects).
pub mod layout;
/// The local-folder sink (same layout as S3).
pub mod local_dir;
/// Listing runs and parts for `cspm archive ls`.
pub mod ls;
/// Run manifests: which parts a run wrote, their counts and SHA-256, and how far it got.
pub mod manifest;
/// What a run archives and how (cutoff, sizes, retries).
pub mod options;
/// Finishing runs that crashed.
pub mod recover;
/// What a run did (its counts).
pub mod report;
/// Loading archived findings back into the store (`cspm archive restore`).
pub mod restore;
/// The verify-then-delete archive run, with crash recovery and de-duplication.
pub mod run;
/// The S3 sink (SSE-S3 or SSE-KMS, content type set).
pub mod s3;
/// The daily schedule `cspm serve` spawns.
pub mod schedule;
/// Building one gzip JSON Lines part in memory, within caps.
pub mod writer;

use async_trait::async_trait;
use bytes::Bytes;

pub use error::ArchiveError;
pub use local_dir::LocalDirSink;
pub use options::ArchiveOptions;
pub use report::RunReport;
pub use run::run_archive;
#[cfg(feature = "aws")]
pub use s3::S3Sink;

/// What an object is; decides its content type (and nothing else).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// A gzip JSON Lines part.
    Part,
    /// A run manifest (JSON).
    Manifest,
    /// An export job's file or status, with its own content type (the export
    /// jobs keep them in the archive store under `exports/`).
    Export(&'static str),
}

impl ObjectKind {
    /// The `Content-Type` the object is stored with.
    pub fn content_type(self) -> &'static str {
        match self {
            // Not `Content-Encoding: gzip`: clients would then transparently
            // decompress and the SHA-256 in the manifest would no longer match.
            ObjectKind::Part => "application/gzip",
            ObjectKind::Manifest => "application/json",
            ObjectKind::Export(content_type) => content_type,
        }
    }
}

/// Errors of an archive sink.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// The key is not one the archive layout produces (guards against `..` and absolute paths).
    #[error("invalid archive key {0:?}")]
    InvalidKey(String),
    /// The archive location itself is malformed (e.g. a bad `s3://` URL).
    #[error("invalid archive location {location:?}: {reason}")]
    InvalidLocation {
        /// What was given.
        location: String,
        /// Why it is not usable.
        reason: &'static str,
    },
    /// A local file operation failed.
    #[error("archive file error on {key}: {source}")]
    Io {
        /// Object key.
        key: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// An S3 call failed: `S3 PutObject s3://bucket/key: <the SDK's error with its context>`.
    #[error("S3 {operation} {url}: {detail}")]
    S3 {
        /// `PutObject`, `GetObject`, `ListObjectsV2`.
        operation: &'static str,
        /// `s3://bucket/key` of the object (or of the prefix for a listing).
        url: String,
        /// What went wrong: the SDK's error with its causes ([`crate::aws::error_text`]).
        detail: String,
        /// True for throttling, timeouts, dropped connections and 5xx; false for a
        /// missing bucket or a denied permission, which someone has to fix.
        retryable: bool,
    },
    /// Another archive run holds this archive's run lock.
    #[error("another archive run is working on {0}; try again when it has finished")]
    Busy(String),
    /// Used by test wrappers that inject failures.
    #[error("injected failure: {0}")]
    Injected(String),
    /// An S3 location given to a build without the AWS adapters.
    #[error(transparent)]
    NotBuilt(#[from] crate::aws::NotBuilt),
}

impl SinkError {
    /// True when the same call may succeed later without anyone fixing anything.
    pub fn is_retryable(&self) -> bool {
        match self {
            SinkError::InvalidKey(_)
            | SinkError::InvalidLocation { .. }
            | SinkError::NotBuilt(_) => false,
            SinkError::S3 { retryable, .. } => *retryable,
            SinkError::Io { .. } | SinkError::Busy(_) | SinkError::Injected(_) => true,
        }
    }
}

/// Held while a run works on an archive; released when dropped (and by the OS if
/// the process dies, so a crash never leaves a stale lock behind).
#[derive(Debug, Default)]
pub struct RunLock {
    _file: Option<std::fs::File>,
}

impl RunLock {
    /// A lock on nothing, for sinks whose runs are kept apart another way.
    pub fn none() -> Self {
        RunLock::default()
    }

    /// A lock held through `file`'s OS lock.
    pub fn file(file: std::fs::File) -> Self {
        RunLock { _file: Some(file) }
    }
}

/// Shorthand for sink results.
pub type SinkResult<T> = Result<T, SinkError>;

/// Where archive objects are kept. Keys are relative (`findings/dt=…/part-….jsonl.gz`,
/// `manifests/run-….json`); every implementation passes the contract test in
/// `backend/tests/it/archive/sink_contract.rs`.
///
/// A put must be atomic: a reader sees either no object or the whole of it, never
/// a prefix — the crash recovery in [`run`] relies on that.
#[async_trait]
pub trait ArchiveSink: Send + Sync {
    /// Where this sink writes, for messages (`/var/archive`, `s3://bucket/prefix`).
    fn location(&self) -> String;

    /// Stores `body` under `key`, replacing any previous object.
    async fn put(&self, key: &str, body: Bytes, kind: ObjectKind) -> SinkResult<()>;

    /// The object under `key`, or `None` when there is none.
    async fn get(&self, key: &str) -> SinkResult<Option<Bytes>>;

    /// Every key starting with `prefix`, sorted.
    async fn list(&self, prefix: &str) -> SinkResult<Vec<String>>;

    /// Takes the archive's run lock, or fails with [`SinkError::Busy`] when another
    /// run still holds it after a short wait ([`crate::file_lock::LOCK_WAIT`]): two
    /// runs at once could archive the same finding version twice. The default takes none:
    /// on AWS the archiver Lambda's reserved concurrency of 1 keeps runs apart.
    async fn lock_runs(&self) -> SinkResult<RunLock> {
        Ok(RunLock::none())
    }
}

/// Rejects keys that could escape the archive root or that the layout never makes.
pub(crate) fn check_key(key: &str) -> SinkResult<()> {
    let ok = !key.is_empty()
        && !key.starts_with('/')
        && key
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != "..")
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'=' | b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(SinkError::InvalidKey(key.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_that_escape_the_root_are_rejected() {
        assert!(check_key("findings/dt=2026-01-01/part-a-1.jsonl.gz").is_ok());
        for bad in [
            "",
            "/etc/passwd",
            "a/../b",
            "a//b",
            "./a",
            "a b",
            "a\\b",
            "findings/",
        ] {
            assert!(check_key(bad).is_err(), "{bad:?} accepted");
        }
    }
}
