//! The local-folder sink: the same layout as S3 under a directory, so the `cspm`
//! CLI, restore and tests treat both alike.

use super::{check_key, ArchiveSink, ObjectKind, RunLock, SinkError, SinkResult};
use crate::file_lock::LOCK_WAIT;
use async_trait::async_trait;
use bytes::Bytes;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

/// Archive objects as files under a root directory.
#[derive(Debug, Clone)]
pub struct LocalDirSink {
    root: PathBuf,
}

impl LocalDirSink {
    /// A sink writing under `root` (created on first write).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        LocalDirSink { root: root.into() }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn io(key: &str) -> impl FnOnce(std::io::Error) -> SinkError + '_ {
        move |source| SinkError::Io {
            key: key.to_owned(),
            source,
        }
    }
}

/// The lock file in the archive root (not an object: outside the layout's keys).
const LOCK_FILE: &str = ".run.lock";

#[async_trait]
impl ArchiveSink for LocalDirSink {
    fn location(&self) -> String {
        self.root.display().to_string()
    }

    async fn lock_runs(&self) -> SinkResult<RunLock> {
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&root).map_err(Self::io(LOCK_FILE))?;
            match crate::file_lock::lock_exclusive(&root.join(LOCK_FILE), LOCK_WAIT) {
                Ok(Some(file)) => Ok(RunLock::file(file)),
                Ok(None) => Err(SinkError::Busy(root.display().to_string())),
                Err(e) => Err(Self::io(LOCK_FILE)(e)),
            }
        })
        .await
        .map_err(|e| Self::io(LOCK_FILE)(std::io::Error::other(e)))?
    }

    async fn put(&self, key: &str, body: Bytes, _kind: ObjectKind) -> SinkResult<()> {
        check_key(key)?;
        let path = self.root.join(key);
        let dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| self.root.clone());
        let owned_key = key.to_owned();
        // Write to a temporary file, fsync, then rename: a crash leaves either the
        // old object or the complete new one, never a truncated part.
        tokio::task::spawn_blocking(move || -> SinkResult<()> {
            use std::io::Write;
            let key = owned_key.as_str();
            std::fs::create_dir_all(&dir).map_err(Self::io(key))?;
            let mut tmp = tempfile_in(&dir).map_err(Self::io(key))?;
            tmp.1.write_all(&body).map_err(Self::io(key))?;
            tmp.1.sync_all().map_err(Self::io(key))?;
            std::fs::rename(&tmp.0, &path).map_err(Self::io(key))?;
            // Make the rename itself durable.
            if let Ok(d) = std::fs::File::open(&dir) {
                let _ = d.sync_all();
            }
            Ok(())
        })
        .await
        .map_err(|e| SinkError::Io {
            key: key.to_owned(),
            source: std::io::Error::other(e),
        })?
    }

    async fn get(&self, key: &str) -> SinkResult<Option<Bytes>> {
        check_key(key)?;
        match tokio::fs::read(self.root.join(key)).await {
            Ok(bytes) => Ok(Some(Bytes::from(bytes))),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Self::io(key)(e)),
        }
    }

    async fn list(&self, prefix: &str) -> SinkResult<Vec<String>> {
        let trimmed = prefix.trim_end_matches('/');
        if !trimmed.is_empty() {
            check_key(trimmed)?;
        }
        let root = self.root.clone();
        let prefix = prefix.to_owned();
        tokio::task::spawn_blocking(move || {
            let mut keys = Vec::new();
            // Walk only the directory the prefix names, not the whole archive.
            let start = match prefix.rfind('/') {
                Some(i) => root.join(&prefix[..i]),
                None => root.clone(),
            };
            walk(&root, &start, &mut keys).map_err(LocalDirSink::io(&prefix))?;
            keys.retain(|k| k.starts_with(&prefix));
            keys.sort();
            Ok(keys)
        })
        .await
        .map_err(|e| SinkError::Io {
            key: String::new(),
            source: std::io::Error::other(e),
        })?
    }
}

/// Collects the keys of regular files under `dir`, skipping temporary files and the lock.
fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        let ft = entry.file_type()?;
        if ft.is_dir() {
            walk(root, &path, out)?;
        } else if ft.is_file() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            // Temporary files and the run lock are not archive objects.
            if name.starts_with(TMP_PREFIX) || name == LOCK_FILE {
                continue;
            }
            if let Ok(rel) = path.strip_prefix(root) {
                let key = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                out.push(key);
            }
        }
    }
    Ok(())
}

const TMP_PREFIX: &str = ".tmp-";

/// Creates a uniquely named temporary file in `dir` (same filesystem, so the rename is atomic).
fn tempfile_in(dir: &Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    loop {
        let n: u64 = rand::random();
        let path = dir.join(format!("{TMP_PREFIX}{n:016x}"));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(f) => return Ok((path, f)),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
}
