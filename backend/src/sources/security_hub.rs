//! Security Hub documents → findings (to be filled in).
use super::DocumentOutcome;

/// Normalizes a Security Hub document (bare finding, array, `{"Findings":[...]}`, envelope).
pub fn parse_document(_doc: &serde_json::Value) -> DocumentOutcome {
    DocumentOutcome::default()
}
