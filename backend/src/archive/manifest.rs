//! A run manifest says what a run wrote and how far it got. It is written before
//! each part (intent), after the part is verified (count + SHA-256), and after its
//! findings are deleted, so a crash at any point leaves enough to finish the job.

use super::layout::{self, MANIFESTS_PREFIX};
use super::{ArchiveSink, ObjectKind, SinkError};
use bytes::Bytes;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Version of the manifest format written by this code.
pub const FORMAT_VERSION: u32 = 1;

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Started; some parts may still hold findings that are also in the store.
    Pending,
    /// Every part is verified and its findings deleted (or kept because updated).
    Complete,
}

/// Where one part stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartState {
    /// About to be put; the object may or may not exist.
    Writing,
    /// Read back and its SHA-256 matched; its findings may still be in the store.
    Verified,
    /// Verified and its findings deleted from the store (or kept because updated).
    Deleted,
    /// Never written (the put failed); nothing refers to it.
    Abandoned,
}

/// One part of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartEntry {
    /// Part number within the run, from 1.
    pub n: u32,
    /// Object key.
    pub key: String,
    /// Day partition (`updated_at` day of every finding in the part).
    pub dt: NaiveDate,
    /// How far the part got.
    pub state: PartState,
    /// Findings in the part (lines).
    pub count: u64,
    /// Compressed size in bytes.
    pub bytes: u64,
    /// Size before compression.
    #[serde(default)]
    pub uncompressed_bytes: u64,
    /// Hex SHA-256 of the object.
    pub sha256: String,
    /// Oldest `updated_at` in the part (lets later runs skip parts that cannot hold a version).
    pub min_updated_at: Option<DateTime<Utc>>,
    /// Newest `updated_at` in the part.
    pub max_updated_at: Option<DateTime<Utc>>,
    /// Findings deleted from the store after this part was verified.
    #[serde(default)]
    pub deleted: u64,
    /// Findings kept in the store because they changed since they were read (or were already gone).
    #[serde(default)]
    pub kept: u64,
}

impl PartEntry {
    /// True when the part is verified and its content can be trusted.
    pub fn is_verified(&self) -> bool {
        matches!(self.state, PartState::Verified | PartState::Deleted)
    }
}

/// The manifest of one run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunManifest {
    /// [`FORMAT_VERSION`] at write time.
    pub format_version: u32,
    /// The run id (also in every part key).
    pub run_id: String,
    /// When the run started.
    pub started_at: DateTime<Utc>,
    /// Findings with `updated_at` before this were candidates.
    pub cutoff: DateTime<Utc>,
    /// Where the run stands.
    pub status: RunStatus,
    /// When it became complete.
    #[serde(default)]
    pub completed_at: Option<DateTime<Utc>>,
    /// The run that completed it, when another run recovered it after a crash.
    #[serde(default)]
    pub completed_by: Option<String>,
    /// Candidates found already in a verified part and only deleted from the store.
    #[serde(default)]
    pub already_archived: u64,
    /// Every part, in order.
    pub parts: Vec<PartEntry>,
}

impl RunManifest {
    /// A new pending manifest.
    pub fn new(run_id: String, started_at: DateTime<Utc>, cutoff: DateTime<Utc>) -> Self {
        RunManifest {
            format_version: FORMAT_VERSION,
            run_id,
            started_at,
            cutoff,
            status: RunStatus::Pending,
            completed_at: None,
            completed_by: None,
            already_archived: 0,
            parts: Vec::new(),
        }
    }

    /// Findings in verified parts.
    pub fn archived_count(&self) -> u64 {
        self.parts
            .iter()
            .filter(|p| p.is_verified())
            .map(|p| p.count)
            .sum()
    }
}

/// Errors reading or writing manifests.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// The sink failed.
    #[error(transparent)]
    Sink(#[from] SinkError),
    /// A manifest is not valid JSON of the expected shape. Archival stops: without
    /// it, the archiver cannot know what is already archived.
    #[error("manifest {key} is unreadable: {source}")]
    Corrupt {
        /// Object key.
        key: String,
        /// Cause.
        #[source]
        source: serde_json::Error,
    },
    /// Written by a newer version of this program.
    #[error(
        "manifest {key} has format version {found}, this program reads up to {FORMAT_VERSION}"
    )]
    TooNew {
        /// Object key.
        key: String,
        /// Version found.
        found: u32,
    },
}

/// Writes (or replaces) a run's manifest.
pub async fn save(sink: &dyn ArchiveSink, m: &RunManifest) -> Result<(), ManifestError> {
    let body = serde_json::to_vec_pretty(m).map_err(|source| ManifestError::Corrupt {
        key: layout::manifest_key(&m.run_id),
        source,
    })?;
    sink.put(
        &layout::manifest_key(&m.run_id),
        Bytes::from(body),
        ObjectKind::Manifest,
    )
    .await?;
    Ok(())
}

/// Every manifest in the archive, oldest run first.
pub async fn load_all(sink: &dyn ArchiveSink) -> Result<Vec<RunManifest>, ManifestError> {
    use futures::stream::{self, StreamExt, TryStreamExt};
    let keys: Vec<String> = sink
        .list(MANIFESTS_PREFIX)
        .await?
        .into_iter()
        .filter(|k| k.ends_with(".json"))
        .collect();
    // A year of daily runs is hundreds of small objects: on S3 each read is a round
    // trip, so several are in flight at once (in listing order).
    let loaded: Vec<Option<RunManifest>> = stream::iter(keys)
        .map(|key| load_one(sink, key))
        .buffered(LOAD_CONCURRENCY)
        .try_collect()
        .await?;
    let mut out: Vec<RunManifest> = loaded.into_iter().flatten().collect();
    out.sort_by(|a, b| a.run_id.cmp(&b.run_id));
    Ok(out)
}

/// Manifest reads in flight at once.
const LOAD_CONCURRENCY: usize = 16;

/// The manifest under `key`; `None` when it vanished since it was listed.
async fn load_one(
    sink: &dyn ArchiveSink,
    key: String,
) -> Result<Option<RunManifest>, ManifestError> {
    // Listed a moment ago; gone now means someone removed it by hand.
    let Some(body) = sink.get(&key).await? else {
        return Ok(None);
    };
    let m: RunManifest =
        serde_json::from_slice(&body).map_err(|source| ManifestError::Corrupt {
            key: key.clone(),
            source,
        })?;
    if m.format_version > FORMAT_VERSION {
        return Err(ManifestError::TooNew {
            key,
            found: m.format_version,
        });
    }
    Ok(Some(m))
}
