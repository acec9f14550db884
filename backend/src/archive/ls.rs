//! Listing what the archive holds, from the manifests.

use super::error::ArchiveError;
use super::manifest::{self, RunManifest};
use super::ArchiveSink;

/// Every run, oldest first, with its parts.
pub async fn list_runs(sink: &dyn ArchiveSink) -> Result<Vec<RunManifest>, ArchiveError> {
    Ok(manifest::load_all(sink).await?)
}

/// A human-readable table of runs (and their parts when `parts` is true).
pub fn render(runs: &[RunManifest], parts: bool) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<26} {:<9} {:>6} {:>10} {:>12}  cutoff",
        "run", "status", "parts", "findings", "bytes"
    );
    for m in runs {
        let verified: Vec<_> = m.parts.iter().filter(|p| p.is_verified()).collect();
        let bytes: u64 = verified.iter().map(|p| p.bytes).sum();
        let _ = writeln!(
            out,
            "{:<26} {:<9} {:>6} {:>10} {:>12}  {}",
            m.run_id,
            format!("{:?}", m.status).to_lowercase(),
            verified.len(),
            m.archived_count(),
            bytes,
            m.cutoff.to_rfc3339()
        );
        if parts {
            for p in &m.parts {
                let _ = writeln!(
                    out,
                    "  {:<70} {:<9} {:>8} {:>10}  sha256={}",
                    p.key,
                    format!("{:?}", p.state).to_lowercase(),
                    p.count,
                    p.bytes,
                    p.sha256
                );
            }
        }
    }
    out
}
