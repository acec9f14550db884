//! Finishing a run that died: every part it started is either adopted (the object
//! exists and matches the SHA-256 recorded before the put) or marked abandoned (it
//! was never written), verified parts get their deletes (re)done, and the manifest
//! is completed. Redoing deletes is safe because they are conditional.

use super::delete::{delete_verified, DeleteCounts};
use super::error::ArchiveError;
use super::index::load_verified;
use super::manifest::{self, PartState, RunManifest, RunStatus};
use super::options::ArchiveOptions;
use super::writer::sha256_hex;
use super::ArchiveSink;
use crate::store::Store;
use chrono::Utc;

/// Completes the pending manifest `m` (updated in place and saved).
pub async fn recover_pending(
    store: &dyn Store,
    sink: &dyn ArchiveSink,
    m: &mut RunManifest,
    by_run: &str,
    opts: &ArchiveOptions,
) -> Result<DeleteCounts, ArchiveError> {
    tracing::warn!(run = %m.run_id, "finishing an interrupted archive run");
    let mut total = DeleteCounts::default();
    for i in 0..m.parts.len() {
        let part = m.parts[i].clone();
        match part.state {
            PartState::Abandoned | PartState::Deleted => continue,
            PartState::Writing => match sink.get(&part.key).await? {
                None => {
                    m.parts[i].state = PartState::Abandoned;
                    manifest::save(sink, m).await?;
                    continue;
                }
                Some(body) => {
                    let sha = sha256_hex(&body);
                    if sha != part.sha256 {
                        // Puts are atomic, so this is not a torn write: someone changed
                        // the object. Stop rather than guess which copy is right.
                        return Err(ArchiveError::VerifyFailed {
                            key: part.key.clone(),
                            reason: format!(
                                "SHA-256 is {sha}, the intent recorded {}",
                                part.sha256
                            ),
                        });
                    }
                    m.parts[i].state = PartState::Verified;
                    manifest::save(sink, m).await?;
                }
            },
            PartState::Verified => {}
        }
        // Read back again: the deletes must be driven by what the archive really holds.
        let versions = load_verified(sink, &m.parts[i]).await?;
        let counts =
            delete_verified(store, &versions, opts.delete_batch, &opts.retry, &part.key).await?;
        m.parts[i].state = PartState::Deleted;
        m.parts[i].deleted += counts.deleted;
        m.parts[i].kept += counts.kept;
        manifest::save(sink, m).await?;
        total.deleted += counts.deleted;
        total.kept += counts.kept;
    }
    m.status = RunStatus::Complete;
    m.completed_at = Some(Utc::now());
    m.completed_by = Some(by_run.to_owned());
    manifest::save(sink, m).await?;
    Ok(total)
}
