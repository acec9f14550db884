//! What one archive run did: the counts a run reports (CLI line, Lambda and
//! schedule logs).

use super::delete::DeleteCounts;

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct RunReport {
    /// This run's id.
    pub run_id: String,
    /// Earlier runs this one finished after they crashed.
    pub recovered_runs: Vec<String>,
    /// Parts written and verified.
    pub parts: u32,
    /// Findings written to those parts.
    pub archived: u64,
    /// Findings deleted from the store (recovery included).
    pub deleted: u64,
    /// Findings kept in the store because they changed since read (or were already gone).
    pub kept: u64,
    /// Candidates already in a verified part: not written again, only deleted.
    pub already_archived: u64,
    /// Bytes of gzip written.
    pub compressed_bytes: u64,
    /// Bytes of JSON Lines before compression.
    pub uncompressed_bytes: u64,
    /// True when the time budget stopped the run before all candidates were done.
    pub stopped_early: bool,
    /// Counter tallies that netted to zero, dropped after the deletes
    /// ([`crate::store::Store::compact_counters`]).
    pub tallies_dropped: u64,
}

impl RunReport {
    pub(super) fn add_deletes(&mut self, c: DeleteCounts) {
        self.deleted += c.deleted;
        self.kept += c.kept;
    }
}
