//! Grouping by resource from the ranking (resource_counts.rs) instead of from every
//! resource's counters: at 1M findings those are ~650,000 `group_counts` rows,
//! too many to sum per request.
//!
//! The walk goes down a ranking of resources by their unfiltered counts and
//! sums each resource's counter rows that match the filter. A resource's
//! filtered counts never exceed its unfiltered ones, so once the `limit`-th
//! best filtered group ranks before the next resource's unfiltered counts
//! nothing further down can be listed, and the walk stops (the threshold
//! algorithm; [`TopGroups::closed_at`]). Without a filter that is after about
//! `limit` resources. The ranking is `resource_totals_order`, most severe
//! first, as groups are shown; a view of one severity below CRITICAL walks
//! that severity's own ranking instead ([`Ranking`]), down which its best
//! groups come first rather than spread to the end. A filter a ranking serves
//! badly (few matches, or matches spread far down, as `severity=MEDIUM,LOW`)
//! runs out of its step budget instead, and the caller sums the counters as
//! before: the walk then only adds its budget to that answer's time.
//!
//! `other` is the view's exact count (`view_counts`) less what is listed, as
//! the summed answer would give it.

use super::convert::{counted, text};
use super::count::base;
use super::list::conditions;
use super::steps::{ran_out, within};
use super::StoreResult;
use crate::store::count::counted_part;
use crate::store::groups::{Counts, TopGroups};
use rusqlite::Connection;
use shared_types::{FindingFilter, FindingGroups, GroupBy, Severity};

/// VM instructions, in thousands (steps.rs), a walk may take before the counters
/// are summed instead (scripts/bench_groups.sh): small, since a walk that runs
/// out adds this to the summed answer's time.
pub(super) const WALK_STEPS: u64 = 20_000;

/// The view of `filter` (counted filters only) grouped by resource, or `None`
/// when the walk needs more than `steps` × 1,000 VM instructions.
pub(super) fn top_resources(
    c: &Connection,
    filter: &FindingFilter,
    limit: u32,
    steps: u64,
) -> StoreResult<Option<FindingGroups>> {
    let counted = counted_part(filter);
    let (conds, params) = conditions(&counted);
    let ranking = Ranking::of(&counted.severities);
    let sql = walk_sql(&conds, ranking);
    let mut stmt = c.prepare_cached(&sql)?;
    let walked = within(c, steps, || {
        walk(&mut stmt, params, limit, ranking, &counted.severities)
    });
    let Some(top) = walked? else {
        return Ok(None);
    };
    let mut out = top.finish(GroupBy::Resource, true);
    let listed: u64 = out.groups.iter().map(|g| g.total).sum();
    out.other = base(c, &counted)?.saturating_sub(listed);
    Ok(Some(out))
}

/// The order a walk meets the resources in (schema.sql).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Ranking {
    /// `resource_totals_order`: the order groups are shown in.
    MostSevere,
    /// `resource_totals_<severity>`: by that severity's count alone, then key,
    /// holding only the resources that have it — the order of a view filtered
    /// to that one severity.
    Only(Severity),
}

impl Ranking {
    /// The ranking that serves a view filtered to `severities` (none: all).
    fn of(severities: &[Severity]) -> Ranking {
        match severities {
            [s] if *s != Severity::Critical => Ranking::Only(*s),
            _ => Ranking::MostSevere,
        }
    }

    /// Whether the walk's bound holds the count of the severity of `rank`: a
    /// walk by one severity's count meets bounds in its order only if they hold
    /// nothing else (nor does a group filtered to that severity).
    fn bounds(self, rank: u8) -> bool {
        match self {
            Ranking::MostSevere => true,
            Ranking::Only(s) => s.rank() == rank,
        }
    }
}

/// The `resource_totals` column of a severity's count.
fn count_column(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
        Severity::Informational => "informational",
    }
}

/// Each ranked resource's counter rows matching `conds`, in `ranking`'s order.
/// CROSS JOIN keeps the ranking as the outer loop, so rows come in its order
/// and the ORDER BY costs nothing (a test checks the plan). The WHERE clause
/// repeats a one-severity ranking's condition, which SQLite needs to use it.
fn walk_sql(conds: &[String], ranking: Ranking) -> String {
    let extra: String = conds.iter().map(|c| format!(" AND {c}")).collect();
    let (index, holds, order) = match ranking {
        Ranking::MostSevere => (
            "resource_totals_order".to_string(),
            String::new(),
            "r.critical DESC, r.high DESC, r.medium DESC, r.low DESC, r.informational DESC, \
             r.total DESC"
                .to_string(),
        ),
        Ranking::Only(s) => {
            let col = count_column(s);
            (
                format!("resource_totals_{col}"),
                format!(" AND r.{col} > 0"),
                format!("r.{col} DESC"),
            )
        }
    };
    format!(
        "SELECT r.resource_id, r.critical, r.high, r.medium, r.low, r.informational, \
         severity, workflow_status, n \
         FROM resource_totals AS r INDEXED BY {index} CROSS JOIN group_counts \
         WHERE dim = 'resource' AND key = r.resource_id{holds}{extra} \
         ORDER BY {order}, r.resource_id"
    )
}

/// Offers each resource's filtered counts, in the ranking's order, until
/// [`TopGroups::closed_at`] says no later one can be listed; `None` when the
/// step budget ran out first.
fn walk(
    stmt: &mut rusqlite::Statement<'_>,
    params: Vec<rusqlite::types::Value>,
    limit: u32,
    ranking: Ranking,
    severities: &[Severity],
) -> StoreResult<Option<TopGroups>> {
    let mut top = TopGroups::new(limit);
    let mut current: Option<Counts> = None;
    let mut q = stmt.query(rusqlite::params_from_iter(params))?;
    loop {
        let row = match q.next() {
            Ok(Some(row)) => row,
            Ok(None) => break,
            Err(e) if ran_out(&e) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let key = text(row, 0)?;
        if current.as_ref().is_none_or(|g| g.key() != key) {
            if let Some(done) = current.take() {
                top.offer(done);
            }
            // The bound: the unfiltered counts the ranking orders by.
            let mut by_rank = [0u64; 5];
            for (i, rank) in [4, 3, 2, 1, 0].into_iter().enumerate() {
                if ranking.bounds(rank) {
                    by_rank[usize::from(rank)] =
                        u64::try_from(row.get::<_, i64>(1 + i)?).unwrap_or(0);
                }
            }
            let bound = Counts::from_severities(key.to_string(), by_rank);
            if top.closed_at(&bound, severities) {
                return Ok(Some(top));
            }
            current = Some(Counts::new(key.to_string()));
        }
        let (severity, status, n) = counted(row, key, 6)?;
        if let Some(g) = current.as_mut() {
            g.add(severity, status, n);
        }
    }
    if let Some(done) = current {
        top.offer(done);
    }
    Ok(Some(top))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A connection with the schema, `group_counts` rows for resources
    /// `r000`..`r399` and their ranking, folded from appended changes, and the
    /// total.
    pub(in crate::store::sqlite) fn filled() -> Connection {
        let mut c = Connection::open_in_memory().unwrap();
        c.execute_batch(super::super::SCHEMA).unwrap();
        let mut insert = c
            .prepare(
                "INSERT INTO resource_deltas (resource_id, severity, workflow_status, \
                 account_id, region, resource_type, product_name, n) \
                 VALUES (?1, ?2, ?3, ?4, 'us-east-1', 'AwsS3Bucket', 'Security Hub', ?5)",
            )
            .unwrap();
        for i in 0..400i64 {
            for sev in 0..5i64 {
                let n = (i * 7 + sev * 3) % 4;
                if n > 0 {
                    let account = if i % 2 == 0 { "111" } else { "222" };
                    let status = if sev % 2 == 0 { "NEW" } else { "RESOLVED" };
                    let key = format!("r{i:03}");
                    insert
                        .execute(rusqlite::params![key, sev, status, account, n])
                        .unwrap();
                }
            }
        }
        drop(insert);
        let moved = super::super::resource_counts::fold(&mut c, 10_000).unwrap();
        assert!(moved > 0);
        assert!(!super::super::resource_counts::pending(&c).unwrap());
        c.execute_batch("INSERT INTO counters SELECT 'total', '', sum(n) FROM group_counts")
            .unwrap();
        c
    }

    #[test]
    fn each_walk_reads_its_ranking_in_order_without_sorting() {
        let c = filled();
        for (severity, index) in [
            ("CRITICAL", "resource_totals_order"),
            ("MEDIUM,INFORMATIONAL", "resource_totals_order"),
            ("HIGH", "resource_totals_high"),
            ("MEDIUM", "resource_totals_medium"),
            ("LOW", "resource_totals_low"),
            ("INFORMATIONAL", "resource_totals_informational"),
        ] {
            let filter =
                FindingFilter::from_pairs([("severity", severity), ("account", "111")]).unwrap();
            let counted = counted_part(&filter);
            let (conds, params) = conditions(&counted);
            let sql = walk_sql(&conds, Ranking::of(&counted.severities));
            let plan: Vec<String> = c
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .unwrap()
                .query_map(rusqlite::params_from_iter(params), |r| {
                    r.get::<_, String>(3)
                })
                .unwrap()
                .map(Result::unwrap)
                .collect();
            assert!(
                plan.iter().any(|p| p.contains(index)),
                "{severity}: {plan:?}"
            );
            assert!(!plan.iter().any(|p| p.contains("TEMP B-TREE")), "{plan:?}");
        }
    }

    #[test]
    fn one_severity_walks_close_within_a_budget_the_most_severe_ranking_runs_out_of() {
        let c = filled();
        // One severity's walk closes after its first entries, within a budget
        // far below the ~20,000 VM instructions of a walk down the most severe
        // ranking, on which the resources with most LOW findings come last.
        let low = FindingFilter::from_pairs([("severity", "LOW")]).unwrap();
        assert!(top_resources(&c, &low, 5, 4).unwrap().is_some());
        let (conds, params) = conditions(&counted_part(&low));
        let mut stmt = c.prepare(&walk_sql(&conds, Ranking::MostSevere)).unwrap();
        let severities = [Severity::Low];
        let most_severe = within(&c, 4, || {
            walk(&mut stmt, params, 5, Ranking::MostSevere, &severities)
        });
        assert!(most_severe.unwrap().is_none());
    }

    #[test]
    fn a_walk_within_its_budget_answers_and_one_past_it_does_not() {
        let c = filled();
        let all = top_resources(&c, &FindingFilter::default(), 3, 1_000)
            .unwrap()
            .unwrap();
        let keys: Vec<&str> = all.groups.iter().map(|g| g.key.as_str()).collect();
        // n = (7i + 3 severity) % 4: every i = 1 mod 4 has 3 CRITICAL, 0 HIGH,
        // 1 MEDIUM, 2 LOW, 3 INFORMATIONAL, the most; ties go by key.
        assert_eq!(keys, ["r001", "r005", "r009"]);
        assert_eq!(all.groups[0].total, 9);
        let total: i64 = c
            .query_row("SELECT sum(n) FROM group_counts", [], |r| r.get(0))
            .unwrap();
        assert_eq!(all.other, total as u64 - 27);
        // No resource matches: the walk reads the whole ranking.
        let nobody = FindingFilter::from_pairs([("account", "333")]).unwrap();
        let empty = top_resources(&c, &nobody, 3, 1_000).unwrap().unwrap();
        assert!(empty.groups.is_empty());
        assert!(top_resources(&c, &nobody, 3, 1).unwrap().is_none());
    }
}
