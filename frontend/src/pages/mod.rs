//! One module per page of the dashboard.

/// The API's paths typed into the browser: redirects to the matching page.
pub mod api_paths;
/// One compliance standard: score, trend and its controls.
pub mod compliance;
/// One control of a standard: every finding that makes it fail.
pub mod control;
/// A finding: every field, raw document, workflow change and audit trail.
pub mod detail;
/// The findings table with filters, sorting and paging.
pub mod findings;
/// The findings list following the change feed (new rows, the "N new" bar).
pub mod findings_live;
/// Counts, charts and top lists.
pub mod overview;
/// Every remediation, filtered by status, with who approved it and when.
pub mod remediations;
