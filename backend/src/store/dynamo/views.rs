//! View counters: findings per combination of the list's equality filters
//! (severity, status, account, region, resource type, product), kept exact on
//! write so the count of any such view (store/count.rs) is a sum over
//! combinations, never over findings.
//!
//! Where they live decides what a write costs (docs/dynamodb.md, "View
//! counters"). Each counter shard ([`super::counters`]) owns [`VIEW_PARTS`] view
//! items, `#views#SS.P`, a combination going to part `P` by its hash. So:
//! - a batch's transaction, which holds the findings of one shard, adds its
//!   summed change with at most one update per part (≤ 50 puts + 1 + 4 updates,
//!   well under DynamoDB's 100 actions), and two shards' transactions never meet
//!   on a view item: the batch's lanes stay independent;
//! - a combination's attribute is a JSON array, so no value can pass for a
//!   separator, and a count reads all 16 × [`VIEW_PARTS`] items with the 16
//!   summary items in one `BatchGetItem` (80 of its 100 keys; the ids are
//!   [`super::counters::all_view_ids`]).

use crate::store::facets::Facets;
use sha2::{Digest, Sha256};
use shared_types::{FindingFilter, Severity, WorkflowStatus};

/// View items per counter shard. Each holds about a quarter of the combinations
/// its shard's findings have (400 KB per item: ≈ 5,000 combinations of
/// ~70-byte names, so ≈ 20,000 per shard).
pub const VIEW_PARTS: u8 = 4;
/// View counter item ids start with this; finding ids never contain `#`.
pub const VIEW_PREFIX: &str = "#views#";

/// The view item of `part` in the shard numbered `shard`.
pub fn view_id(shard: u8, part: u8) -> String {
    format!("{VIEW_PREFIX}{shard:02}.{part}")
}

/// One combination of the list's equality filters.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ViewKey(
    /// Severity.
    pub Severity,
    /// Workflow status.
    pub WorkflowStatus,
    /// Account.
    pub String,
    /// Region.
    pub String,
    /// Resource type.
    pub String,
    /// Product.
    pub String,
);

impl ViewKey {
    /// The combination `f` counts under.
    pub fn of(f: &Facets) -> ViewKey {
        ViewKey(
            f.severity,
            f.status,
            f.account.clone(),
            f.region.clone(),
            f.resource_type.clone(),
            f.product.clone(),
        )
    }

    /// The attribute name: the combination as a JSON array.
    pub fn attr(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The part of its shard this combination is counted in (stable: it is
    /// stored).
    pub fn part(&self) -> u8 {
        Sha256::digest(self.attr().as_bytes())[0] % VIEW_PARTS
    }

    /// True when findings of this combination match the filter's counted part.
    pub fn matches(&self, f: &FindingFilter) -> bool {
        let eq = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        (f.severities.is_empty() || f.severities.contains(&self.0))
            && (f.statuses.is_empty() || f.statuses.contains(&self.1))
            && eq(&f.account, &self.2)
            && eq(&f.region, &self.3)
            && eq(&f.resource_type, &self.4)
            && eq(&f.product, &self.5)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_combination_is_named_by_its_values_and_matches_equal_filters() {
        let k = ViewKey(
            Severity::High,
            WorkflowStatus::New,
            "111122223333".into(),
            "eu-west-1".into(),
            "AwsS3Bucket".into(),
            "Security Hub".into(),
        );
        assert_eq!(
            k.attr(),
            r#"["HIGH","NEW","111122223333","eu-west-1","AwsS3Bucket","Security Hub"]"#
        );
        let filter =
            |pairs: &[(&str, &str)]| FindingFilter::from_pairs(pairs.iter().copied()).unwrap();
        assert!(k.matches(&filter(&[])));
        assert!(k.matches(&filter(&[
            ("severity", "HIGH,LOW"),
            ("region", "eu-west-1")
        ])));
        assert!(!k.matches(&filter(&[("status", "RESOLVED")])));
        assert!(!k.matches(&filter(&[("product", "GuardDuty")])));
    }
}
