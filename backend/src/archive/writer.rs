//! One part = the findings of one `dt` day, serialized one per line (raw document
//! included) and gzip-compressed in memory until a cap is reached. Only the
//! compressed bytes and the `(id, updated_at)` of each line are kept, so a part of
//! 50,000 findings costs a few MB, not the size of its JSON.

use crate::store::{ArchiveCandidate, FindingVersion};
use bytes::Bytes;
use chrono::{DateTime, NaiveDate, Utc};
use flate2::write::GzEncoder;
use flate2::Compression;
use sha2::{Digest, Sha256};
use shared_types::Finding;
use std::io::Write;

/// When a part is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartCaps {
    /// Most findings in one part.
    pub max_findings: usize,
    /// Most compressed bytes in one part (checked after each finding, so a part may
    /// exceed it by one compressed finding).
    pub max_bytes: usize,
}

impl Default for PartCaps {
    fn default() -> Self {
        PartCaps {
            max_findings: 50_000,
            max_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Errors while building or decoding a part.
#[derive(Debug, thiserror::Error)]
pub enum PartError {
    /// Compression failed (out of memory).
    #[error("gzip: {0}")]
    Gzip(#[from] std::io::Error),
    /// A part's line is not a finding.
    #[error("line {line}: not a finding: {source}")]
    BadLine {
        /// 1-based line number.
        line: usize,
        /// Cause.
        #[source]
        source: serde_json::Error,
    },
}

/// A part being filled.
pub struct PartWriter {
    dt: NaiveDate,
    encoder: GzEncoder<Vec<u8>>,
    versions: Vec<FindingVersion>,
    uncompressed: u64,
}

impl PartWriter {
    /// An empty part for day `dt`.
    pub fn new(dt: NaiveDate, level: Compression) -> Self {
        PartWriter {
            dt,
            encoder: GzEncoder::new(Vec::with_capacity(1 << 20), level),
            versions: Vec::new(),
            uncompressed: 0,
        }
    }

    /// The day this part holds.
    pub fn dt(&self) -> NaiveDate {
        self.dt
    }

    /// Findings written so far.
    pub fn len(&self) -> usize {
        self.versions.len()
    }

    /// True before the first finding.
    pub fn is_empty(&self) -> bool {
        self.versions.is_empty()
    }

    /// Appends one finding as one JSON line.
    pub fn push(&mut self, c: &ArchiveCandidate) -> Result<(), PartError> {
        self.encoder.write_all(c.json.as_bytes())?;
        self.encoder.write_all(b"\n")?;
        self.uncompressed += c.json.len() as u64 + 1;
        self.versions.push(c.version());
        Ok(())
    }

    /// True when the part reached a cap and must be closed.
    pub fn is_full(&self, caps: &PartCaps) -> bool {
        self.versions.len() >= caps.max_findings || self.encoder.get_ref().len() >= caps.max_bytes
    }

    /// Closes the gzip stream and returns the part with its checksum.
    pub fn finish(self) -> Result<BuiltPart, PartError> {
        let body = self.encoder.finish()?;
        let sha256 = hex::encode(Sha256::digest(&body));
        let (min, max) = time_range(&self.versions);
        Ok(BuiltPart {
            dt: self.dt,
            sha256,
            uncompressed_bytes: self.uncompressed,
            min_updated_at: min,
            max_updated_at: max,
            versions: self.versions,
            body: Bytes::from(body),
        })
    }
}

/// A closed part, ready to put.
#[derive(Debug, Clone)]
pub struct BuiltPart {
    /// Day partition.
    pub dt: NaiveDate,
    /// The gzip bytes.
    pub body: Bytes,
    /// Hex SHA-256 of `body`.
    pub sha256: String,
    /// Size of the JSON Lines before compression.
    pub uncompressed_bytes: u64,
    /// Every finding version in the part, in line order.
    pub versions: Vec<FindingVersion>,
    /// Oldest `updated_at` in the part.
    pub min_updated_at: Option<DateTime<Utc>>,
    /// Newest `updated_at` in the part.
    pub max_updated_at: Option<DateTime<Utc>>,
}

/// Oldest and newest `updated_at` of `versions`.
pub fn time_range(versions: &[FindingVersion]) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let min = versions.iter().map(|v| v.updated_at).min();
    let max = versions.iter().map(|v| v.updated_at).max();
    (min, max)
}

/// Hex SHA-256 of some bytes (what the manifest records for a part).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The findings of a part, decoded one line at a time (a whole part is never held
/// as findings, only its compressed bytes).
pub fn findings(gz: &[u8]) -> impl Iterator<Item = Result<Finding, PartError>> + Send + '_ {
    use std::io::BufRead;
    let reader = std::io::BufReader::new(flate2::read::MultiGzDecoder::new(gz));
    reader
        .split(b'\n')
        .enumerate()
        .filter(|(_, line)| !matches!(line, Ok(l) if l.is_empty()))
        .map(|(i, line)| {
            let line = line?;
            serde_json::from_slice(&line).map_err(|source| PartError::BadLine {
                line: i + 1,
                source,
            })
        })
}

/// The `(id, updated_at, revision)` of every finding in a part, in line order.
pub fn versions_of(gz: &[u8]) -> Result<Vec<FindingVersion>, PartError> {
    #[derive(serde::Deserialize)]
    struct Version {
        id: String,
        updated_at: DateTime<Utc>,
        // Absent in parts written before revisions existed.
        #[serde(default)]
        revision: u64,
    }
    use std::io::BufRead;
    let reader = std::io::BufReader::new(flate2::read::MultiGzDecoder::new(gz));
    let mut out = Vec::new();
    for (i, line) in reader.split(b'\n').enumerate() {
        let line = line?;
        if line.is_empty() {
            continue;
        }
        // Reads three fields and skips the rest: much cheaper than a full Finding.
        let v: Version = serde_json::from_slice(&line).map_err(|source| PartError::BadLine {
            line: i + 1,
            source,
        })?;
        out.push(FindingVersion {
            id: v.id,
            updated_at: v.updated_at,
            revision: v.revision,
        });
    }
    Ok(out)
}
