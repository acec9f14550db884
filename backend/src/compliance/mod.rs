//! Compliance scores per security standard, from the stored control findings.
//!
//! A finding is mapped to the (standard, control) pairs it is a result of
//! ([`control`], [`standard`]); each control gets a status from its active
//! findings and each standard a score from its controls ([`score`]); the
//! report comes from the rows a store keeps per control (SQLite:
//! store/sqlite/compliance_fold.rs) or from its findings page by page
//! ([`report`]); a snapshot a day keeps the 30-day trend ([`daily`]).
//!
//! "Enabled controls" are the controls with at least one stored finding: the
//! source of truth for enabled controls is Security Hub's standards API, which
//! this does not read.

/// Which (standard, control) pairs a finding is a result of.
pub mod control;
/// Reading the store into a report, the daily snapshot, and the API's answers.
pub mod daily;
/// Every failing finding of one control, page by page.
pub mod failing;
/// Standard control ids of unconsolidated findings → security control ids.
pub mod legacy_ids;
/// Findings folded into controls per standard.
pub mod report;
/// Control status and the standard's score.
pub mod score;
/// Standards ids and ARNs → slug and name.
pub mod standard;
