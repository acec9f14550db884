//! Findings per generator (control, rule or detector), severity and status,
//! kept on write, so that grouping by generator — the analyst's "which
//! controls and rules fail most" — and the count of one generator's view read
//! a fixed number of counter items instead of the findings (as the summary
//! does, counters.rs; SQLite keeps the same per generator in `group_counts`).
//!
//! A write whose generator, severity or status changes moves one tally in one
//! of the [`GENERATOR_PARTS`] generator items of the finding's counter shard,
//! `#generators#SS.PP`, in the same transaction as the finding (a shard's
//! transactions never meet another shard's items, as with the view counters).
//! No title is kept: a group's label comes from the newest findings a
//! grouping reads, as on SQLite, so an item holds numbers only.
//!
//! Only (generator, severity, status) is counted, not the view counters' other
//! four values: every generator times every account, region and resource type
//! would make the items too large to update cheaply (a DynamoDB update pays
//! for the whole item). A view filtered by those reads findings instead
//! (dynamo/groups.rs).
//!
//! Items written before these counters carry no `gen_counted` mark and count
//! in no generator item; the summary's [`super::counters::GENERATORS_KEPT`]
//! counts the marked ones, and `cspm recount` marks and counts the rest.

use super::parted::{PartDelta, PartValue};
use sha2::{Digest, Sha256};
use shared_types::{FindingFilter, Severity, WorkflowStatus};
use std::collections::HashMap;

/// Generator items per counter shard. A tally is ≈ 60 bytes
/// (`["security-control/S3.1","HIGH","NEW"]` and its number), ≈ 100 for a
/// detector's ARN: 1,000 generators with two statuses each in a shard make
/// items of ≈ 8 KB, and a write that moves one tally costs its item's size in
/// write units. DynamoDB's 400 KB per item is ≈ 5,000 tallies a part, so
/// ≈ 80,000 (generator, severity, status) a shard (docs/dynamodb.md).
pub const GENERATOR_PARTS: u8 = 16;
/// Generator item ids start with this; finding ids never contain `#`.
pub const GENERATOR_PREFIX: &str = "#generators#";

/// The generator item of `part` in the counter shard numbered `shard`.
pub fn generator_item_id(shard: u8, part: u8) -> String {
    format!("{GENERATOR_PREFIX}{shard:02}.{part:02}")
}

/// What one finding version counts as per generator.
#[derive(Debug, Clone, Copy)]
pub struct GeneratorVersion<'a> {
    /// Its generator (empty for an item written before it was stored).
    pub generator: &'a str,
    /// Its severity.
    pub severity: Severity,
    /// Its workflow status.
    pub status: WorkflowStatus,
}

/// The change to the generator items from `old` to `new` (`None` = absent
/// or not counted per generator): a write that changes none of the three
/// touches no generator item.
pub fn generator_delta(
    old: Option<GeneratorVersion<'_>>,
    new: Option<GeneratorVersion<'_>>,
) -> PartDelta {
    let mut d = PartDelta::default();
    for (version, by) in [(old, -1), (new, 1)] {
        if let Some(v) = version {
            d.count(
                part_of(v.generator),
                tally_attr(v.generator, v.severity, v.status),
                by,
            );
        }
    }
    d.drop_zeros();
    d
}

/// The name of a tally attribute: `["generator","SEVERITY","STATUS"]`.
fn tally_attr(generator: &str, severity: Severity, status: WorkflowStatus) -> String {
    serde_json::to_string(&(generator, severity.as_str(), status.as_str())).unwrap_or_default()
}

/// The generator part a generator's tallies live in (stable: it is stored).
fn part_of(generator: &str) -> u8 {
    Sha256::digest(generator.as_bytes())[0] % GENERATOR_PARTS
}

/// What the generator items add up to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GeneratorCounts {
    /// Findings per (generator, severity, status), zero counts left out.
    pub counts: Vec<(String, Severity, WorkflowStatus, u64)>,
}

/// Sums the generator items' attributes over shards. Attributes that do not
/// parse are skipped with a warning.
pub fn generator_counts(items: &[HashMap<String, PartValue>]) -> GeneratorCounts {
    let mut sums: HashMap<(String, Severity, WorkflowStatus), i64> = HashMap::new();
    for (attr, value) in items.iter().flatten() {
        match (serde_json::from_str::<Vec<String>>(attr).as_deref(), value) {
            (Ok([g, sev, status]), PartValue::Count(n)) => {
                match (sev.parse::<Severity>(), status.parse::<WorkflowStatus>()) {
                    (Ok(sev), Ok(status)) => {
                        *sums.entry((g.clone(), sev, status)).or_default() += n;
                    }
                    _ => tracing::warn!(%attr, "generator tally of an unknown severity or status"),
                }
            }
            _ => tracing::warn!(%attr, "generator item attribute has an unexpected shape"),
        }
    }
    let mut counts: Vec<(String, Severity, WorkflowStatus, u64)> = sums
        .into_iter()
        .filter_map(|((g, sev, status), n)| Some((g, sev, status, u64::try_from(n).ok()?)))
        .filter(|c| c.3 > 0)
        .collect();
    counts.sort_by(|a, b| (&a.0, a.1, a.2).cmp(&(&b.0, b.1, b.2)));
    GeneratorCounts { counts }
}

impl GeneratorCounts {
    /// The counts of `filter`'s view ([`answers`] must hold): its
    /// generator's, severities' and statuses' (each: all when not given).
    pub fn matching<'a>(
        &'a self,
        filter: &'a FindingFilter,
    ) -> impl Iterator<Item = &'a (String, Severity, WorkflowStatus, u64)> + 'a {
        self.counts.iter().filter(move |(g, sev, status, _)| {
            filter.generator.as_deref().is_none_or(|want| want == g)
                && (filter.severities.is_empty() || filter.severities.contains(sev))
                && (filter.statuses.is_empty() || filter.statuses.contains(status))
        })
    }
}

/// True when the generator items answer `filter`'s view exactly: it filters
/// by nothing but severities, statuses and a generator.
pub fn answers(filter: &FindingFilter) -> bool {
    let FindingFilter {
        severities: _,
        statuses: _,
        generator: _,
        account,
        region,
        resource_type,
        product,
        resource,
        q,
        since,
        until,
    } = filter;
    account.is_none()
        && region.is_none()
        && resource_type.is_none()
        && product.is_none()
        && resource.is_none()
        && q.is_none()
        && since.is_none()
        && until.is_none()
}

#[cfg(test)]
mod tests;
