//! One module per page of the dashboard.

/// One compliance standard: score, trend and its controls.
pub mod compliance;
/// A finding: every field, raw document, workflow change and audit trail.
pub mod detail;
/// The findings table with filters, sorting and paging.
pub mod findings;
/// Counts, charts and top lists.
pub mod overview;
