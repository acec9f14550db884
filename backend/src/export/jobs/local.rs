//! Export files in a local folder (`DATA_DIR/exports/`, the archive layout): a
//! file is written as `<key>.partial` and renamed when complete, status objects
//! go through the archive's local sink (temporary file, fsync, rename).

use super::files::{ByteChunks, ExportFiles, Listed, Upload};
use crate::archive::{check_key, ArchiveSink, LocalDirSink, ObjectKind, SinkError, SinkResult};
use async_trait::async_trait;
use bytes::Bytes;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Suffix of a file still being written (never served, swept when old).
const PARTIAL: &str = ".partial";
/// Bytes read per chunk when a file is served.
const READ_CHUNK: usize = 64 * 1024;

/// Export objects under a root folder.
#[derive(Debug, Clone)]
pub struct LocalExportFiles {
    sink: LocalDirSink,
}

impl LocalExportFiles {
    /// Objects under `root` (the data folder: keys start with `exports/`).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalExportFiles {
            sink: LocalDirSink::new(root),
        }
    }

    fn path(&self, key: &str) -> SinkResult<PathBuf> {
        check_key(key)?;
        Ok(self.sink.root().join(key))
    }
}

fn io(key: &str) -> impl FnOnce(std::io::Error) -> SinkError + '_ {
    move |source| SinkError::Io {
        key: key.to_owned(),
        source,
    }
}

/// A file being written as `<path>.partial`.
struct LocalUpload {
    key: String,
    file: tokio::fs::File,
    partial: PathBuf,
    path: PathBuf,
    bytes: u64,
}

#[async_trait]
impl Upload for LocalUpload {
    async fn write(&mut self, bytes: Bytes) -> SinkResult<()> {
        self.file.write_all(&bytes).await.map_err(io(&self.key))?;
        self.bytes += bytes.len() as u64;
        Ok(())
    }

    async fn finish(mut self: Box<Self>) -> SinkResult<u64> {
        let key = self.key.clone();
        self.file.flush().await.map_err(io(&key))?;
        // Durable before it is visible: a crash leaves a partial file or the
        // whole one, never a short file under the final name.
        self.file.sync_all().await.map_err(io(&key))?;
        tokio::fs::rename(&self.partial, &self.path)
            .await
            .map_err(io(&key))?;
        Ok(self.bytes)
    }

    async fn abort(self: Box<Self>) {
        drop(self.file);
        let _ = tokio::fs::remove_file(&self.partial).await;
    }
}

#[async_trait]
impl ExportFiles for LocalExportFiles {
    fn location(&self) -> String {
        self.sink.location()
    }

    async fn put_status(&self, key: &str, body: Bytes) -> SinkResult<()> {
        self.sink
            .put(key, body, ObjectKind::Export("application/json"))
            .await
    }

    async fn get_status(&self, key: &str) -> SinkResult<Option<Bytes>> {
        self.sink.get(key).await
    }

    async fn create_once(&self, key: &str) -> SinkResult<bool> {
        let path = self.path(key)?;
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(io(key))?;
        }
        // O_CREAT | O_EXCL: the file system decides which of two callers made it.
        let made = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .await;
        match made {
            Ok(file) => {
                file.sync_all().await.map_err(io(key))?;
                Ok(true)
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(io(key)(e)),
        }
    }

    async fn create(&self, key: &str, _content_type: &'static str) -> SinkResult<Box<dyn Upload>> {
        let path = self.path(key)?;
        let mut partial = path.clone().into_os_string();
        partial.push(PARTIAL);
        let partial = PathBuf::from(partial);
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(io(key))?;
        }
        let file = tokio::fs::File::create(&partial).await.map_err(io(key))?;
        Ok(Box::new(LocalUpload {
            key: key.to_owned(),
            file,
            partial,
            path,
            bytes: 0,
        }))
    }

    async fn open(&self, key: &str) -> SinkResult<Option<ByteChunks>> {
        let file = match tokio::fs::File::open(self.path(key)?).await {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(key)(e)),
        };
        let key = key.to_owned();
        let chunks = futures::stream::try_unfold(Some(file), move |file| {
            let key = key.clone();
            async move {
                let Some(mut file) = file else {
                    return Ok(None);
                };
                let mut buf = vec![0u8; READ_CHUNK];
                let n = file.read(&mut buf).await.map_err(io(&key))?;
                if n == 0 {
                    return Ok(None);
                }
                buf.truncate(n);
                Ok(Some((Bytes::from(buf), Some(file))))
            }
        });
        Ok(Some(Box::pin(chunks)))
    }

    async fn list(&self, prefix: &str) -> SinkResult<Vec<Listed>> {
        let (dir, name_prefix) = prefix.rsplit_once('/').unwrap_or(("", prefix));
        if !dir.is_empty() {
            check_key(dir)?;
        }
        let root = self.sink.root().to_path_buf();
        let (dir, name_prefix) = (dir.to_owned(), name_prefix.to_owned());
        tokio::task::spawn_blocking(move || list_dir(&root, &dir, &name_prefix))
            .await
            .map_err(|e| io(prefix)(std::io::Error::other(e)))?
            .map_err(io(prefix))
    }

    async fn delete(&self, key: &str) -> SinkResult<()> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(io(key)(e)),
            _ => Ok(()),
        }
    }

    async fn link(&self, _key: &str, _: &str, _: &'static str) -> SinkResult<Option<String>> {
        Ok(None)
    }
}

/// The regular files directly in `root/dir` whose names start with `name_prefix`
/// (temporary and partial files included: the sweeper removes those too).
fn list_dir(root: &Path, dir: &str, name_prefix: &str) -> std::io::Result<Vec<Listed>> {
    let entries = match std::fs::read_dir(root.join(dir)) {
        Ok(e) => e,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(listed) = listed(dir, name, name_prefix, entry.metadata())? {
            out.push(listed);
        }
    }
    out.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(out)
}

/// The listing of one directory entry, if it is a regular file named with
/// `name_prefix`. An entry gone since the directory was read — a status file's
/// temporary copy renamed into place meanwhile — is simply not listed: failing the
/// whole listing for it made a `POST /exports` beside a running job answer 503.
fn listed(
    dir: &str,
    name: String,
    name_prefix: &str,
    meta: std::io::Result<std::fs::Metadata>,
) -> std::io::Result<Option<Listed>> {
    let meta = match meta {
        Ok(meta) => meta,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if !meta.is_file() || !name.starts_with(name_prefix) {
        return Ok(None);
    }
    let key = if dir.is_empty() {
        name
    } else {
        format!("{dir}/{name}")
    };
    Ok(Some(Listed {
        key,
        modified: meta.modified()?.into(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_gone_since_the_directory_was_read_is_left_out_not_an_error() {
        let gone = std::io::Error::from(ErrorKind::NotFound);
        assert!(listed("exports", "a.json.tmp".into(), "", Err(gone))
            .unwrap()
            .is_none());
        let denied = std::io::Error::from(ErrorKind::PermissionDenied);
        assert!(listed("exports", "a.json".into(), "", Err(denied)).is_err());
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let file = dir.join("job.json");
        std::fs::write(&file, b"{}").unwrap();
        let meta = std::fs::metadata(&file);
        let got = listed("exports", "job.json".into(), "job", meta)
            .unwrap()
            .unwrap();
        assert_eq!(got.key, "exports/job.json");
        let meta = std::fs::metadata(&file);
        assert!(listed("exports", "job.json".into(), "other", meta)
            .unwrap()
            .is_none());
        let meta = std::fs::metadata(dir);
        assert!(
            listed("", "sub".into(), "", meta).unwrap().is_none(),
            "directories are not listed"
        );
    }
}
