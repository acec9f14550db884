//! Where export jobs keep their files and status objects: the archive store
//! (a local folder or the archive bucket), through a port of its own because an
//! export is written as a stream — a million findings never sit in memory — and
//! is handed out by a download link rather than read back.
//!
//! Every implementation passes the contract test in
//! `backend/tests/it/export_jobs/files_contract.rs`.

use crate::archive::SinkResult;
use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures::stream::BoxStream;

/// A file's bytes, read in chunks.
pub type ByteChunks = BoxStream<'static, SinkResult<Bytes>>;

/// One object under a prefix, with when it was last written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Its key.
    pub key: String,
    /// When it was last written.
    pub modified: DateTime<Utc>,
}

/// How long a presigned download link stays valid.
pub const LINK_TTL: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// A file being written. Readers see no file under its key until
/// [`Upload::finish`] returns; an upload dropped or aborted leaves none.
#[async_trait]
pub trait Upload: Send {
    /// Appends `bytes`.
    async fn write(&mut self, bytes: Bytes) -> SinkResult<()>;
    /// Completes the file and returns its size.
    async fn finish(self: Box<Self>) -> SinkResult<u64>;
    /// Gives the file up (best effort: what is left behind is swept later).
    async fn abort(self: Box<Self>);
}

/// The export jobs' store.
#[async_trait]
pub trait ExportFiles: Send + Sync {
    /// Where this store writes, for messages.
    fn location(&self) -> String;

    /// Replaces the small JSON object under `key` (a job's status), atomically.
    async fn put_status(&self, key: &str, body: Bytes) -> SinkResult<()>;

    /// The small object under `key`, or `None`.
    async fn get_status(&self, key: &str) -> SinkResult<Option<Bytes>>;

    /// Creates the empty object `key` unless one is there, in one atomic step:
    /// true when this call created it, false when it was there already. A queue
    /// may deliver a job twice, to two workers at once; the one whose claim this
    /// is runs it, the other leaves it alone.
    async fn create_once(&self, key: &str) -> SinkResult<bool>;

    /// Starts writing the file `key` with the given content type.
    async fn create(&self, key: &str, content_type: &'static str) -> SinkResult<Box<dyn Upload>>;

    /// The file `key` as a stream of chunks, or `None` when there is none.
    async fn open(&self, key: &str) -> SinkResult<Option<ByteChunks>>;

    /// Every object whose key starts with `prefix`, unfinished uploads included
    /// where the store keeps them as objects.
    async fn list(&self, prefix: &str) -> SinkResult<Vec<Listed>>;

    /// Removes the object `key` (nothing there is not an error).
    async fn delete(&self, key: &str) -> SinkResult<()>;

    /// A link that downloads the file `key` without further credentials, valid
    /// for [`LINK_TTL`], saved as `file_name`; `None` when this store has no such
    /// links (a local folder: the API serves the file itself).
    async fn link(
        &self,
        key: &str,
        file_name: &str,
        content_type: &'static str,
    ) -> SinkResult<Option<String>>;
}
