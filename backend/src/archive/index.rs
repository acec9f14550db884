//! Which finding versions are already in a verified part. A candidate found there
//! is not written again (that would be a second archived copy); it is only deleted
//! from the store. This happens after a crash between verify and delete, or after a
//! restore put old findings back.
//!
//! Only parts of the same `dt` whose `updated_at` range covers the candidate are
//! read, and only for the day being processed: candidates come oldest first, so a
//! day's sets are dropped when the next day starts and memory stays bounded.

use super::error::ArchiveError;
use super::manifest::{PartEntry, RunManifest};
use super::writer::{sha256_hex, versions_of};
use super::ArchiveSink;
use crate::store::FindingVersion;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::{BTreeMap, HashSet};

/// Verified parts by day, with the version sets of the current day loaded lazily.
#[derive(Default)]
pub struct ArchivedIndex {
    by_day: BTreeMap<NaiveDate, Vec<PartEntry>>,
    loaded_day: Option<NaiveDate>,
    loaded: BTreeMap<String, HashSet<Key>>,
}

impl ArchivedIndex {
    /// Indexes the verified parts of `manifests`.
    pub fn new(manifests: &[RunManifest]) -> Self {
        let mut by_day: BTreeMap<NaiveDate, Vec<PartEntry>> = BTreeMap::new();
        for p in manifests
            .iter()
            .flat_map(|m| &m.parts)
            .filter(|p| p.is_verified())
        {
            by_day.entry(p.dt).or_default().push(p.clone());
        }
        ArchivedIndex {
            by_day,
            ..Default::default()
        }
    }

    /// Adds a part this run just verified.
    pub fn add(&mut self, part: &PartEntry, versions: &[FindingVersion]) {
        self.by_day.entry(part.dt).or_default().push(part.clone());
        if self.loaded_day == Some(part.dt) {
            self.loaded
                .insert(part.key.clone(), versions.iter().map(key_of).collect());
        }
    }

    /// True when `v` is in a verified part.
    pub async fn contains(
        &mut self,
        sink: &dyn ArchiveSink,
        v: &FindingVersion,
    ) -> Result<bool, ArchiveError> {
        let day = v.updated_at.date_naive();
        let Some(parts) = self.by_day.get(&day) else {
            return Ok(false);
        };
        if self.loaded_day != Some(day) {
            self.loaded.clear();
            self.loaded_day = Some(day);
        }
        let k = key_of(v);
        for p in parts.iter().filter(|p| covers(p, v.updated_at)) {
            if !self.loaded.contains_key(&p.key) {
                let set = load_verified(sink, p).await?.iter().map(key_of).collect();
                self.loaded.insert(p.key.clone(), set);
            }
            // Parts written before revisions existed hold revision 0: any revision
            // of that `updated_at` is then taken as archived (as it was before).
            let legacy = (k.0.clone(), k.1, 0);
            if self
                .loaded
                .get(&p.key)
                .is_some_and(|s| s.contains(&k) || s.contains(&legacy))
            {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// A version's identity in a part: id, provider time, record revision.
type Key = (String, i64, u64);

fn key_of(v: &FindingVersion) -> Key {
    // Nanosecond precision: two versions a microsecond apart are different versions.
    let t = v
        .updated_at
        .timestamp_nanos_opt()
        .unwrap_or_else(|| v.updated_at.timestamp_micros());
    (v.id.clone(), t, v.revision)
}

fn covers(p: &PartEntry, t: DateTime<Utc>) -> bool {
    match (p.min_updated_at, p.max_updated_at) {
        (Some(min), Some(max)) => min <= t && t <= max,
        // Older manifests without a range: the part must be read.
        _ => true,
    }
}

/// Reads a verified part, checks its SHA-256 against the manifest and returns its versions.
pub async fn load_verified(
    sink: &dyn ArchiveSink,
    p: &PartEntry,
) -> Result<Vec<FindingVersion>, ArchiveError> {
    let body = get_verified(sink, p).await?;
    let versions = versions_of(&body)?;
    check_count(p, versions.len())?;
    Ok(versions)
}

/// Fails unless a part decoded to as many findings as its manifest says.
pub fn check_count(p: &PartEntry, found: usize) -> Result<(), ArchiveError> {
    if found as u64 == p.count {
        Ok(())
    } else {
        Err(ArchiveError::VerifyFailed {
            key: p.key.clone(),
            reason: format!("{found} findings, the manifest says {}", p.count),
        })
    }
}

/// A part's bytes, after checking they exist and match the manifest's SHA-256.
pub async fn get_verified(
    sink: &dyn ArchiveSink,
    p: &PartEntry,
) -> Result<bytes::Bytes, ArchiveError> {
    let body = sink
        .get(&p.key)
        .await?
        .ok_or_else(|| ArchiveError::VerifyFailed {
            key: p.key.clone(),
            reason: "the part listed in the manifest is missing".into(),
        })?;
    let sha = sha256_hex(&body);
    if sha != p.sha256 {
        return Err(ArchiveError::VerifyFailed {
            key: p.key.clone(),
            reason: format!("SHA-256 is {sha}, the manifest says {}", p.sha256),
        });
    }
    Ok(body)
}
