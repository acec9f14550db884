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
//! first, as groups are shown; a view of other severities than the most severe
//! ones walks its severities' own rankings in turn ([`Pass`]), down which its
//! best groups come first rather than spread to the end. A filter a ranking
//! serves badly (few matches, or matches spread far down) runs out of its step
//! budget instead, and the caller sums the counters as before: the walk then
//! only adds its budget to that answer's time.
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
    let severities = &counted.severities;
    let (top, walked) = within(c, steps, || passes(c, &conds, &params, severities, limit))?;
    if walked == Walked::RanOut {
        return Ok(None);
    }
    let mut out = top.finish(GroupBy::Resource, true);
    let listed: u64 = out.groups.iter().map(|g| g.total).sum();
    out.other = base(c, &counted)?.saturating_sub(listed);
    Ok(Some(out))
}

/// The view's passes in turn, until one closes, all end or the budget runs
/// out (how the last one ended).
fn passes(
    c: &Connection,
    conds: &[String],
    params: &[rusqlite::types::Value],
    severities: &[Severity],
    limit: u32,
) -> StoreResult<(TopGroups, Walked)> {
    let mut top = TopGroups::new(limit);
    let mut walked = Walked::Ended;
    for pass in Pass::plan(severities) {
        let mut stmt = c.prepare_cached(&pass.sql(conds, severities))?;
        walked = walk(&mut stmt, params.to_vec(), &mut top, pass, severities)?;
        if walked != Walked::Ended {
            break;
        }
    }
    Ok((top, walked))
}

/// Whether `filter`'s walk closes before its passes end: stops early rather
/// than meeting every resource.
#[cfg(test)]
pub(super) fn closes(c: &Connection, filter: &FindingFilter, limit: u32) -> bool {
    let counted = counted_part(filter);
    let (conds, params) = conditions(&counted);
    let (_, walked) = passes(c, &conds, &params, &counted.severities, limit).unwrap();
    walked == Walked::Closed
}

/// One walk down one ranking of `resource_totals` (schema.sql). A view's
/// resources are met in one pass, or in one pass per severity, whose
/// resources never meet again.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Pass {
    /// `resource_totals_order`, every resource: the order groups are shown in.
    MostSevere,
    /// The resources with findings of this severity and of none of the view's
    /// more severe ones, by this severity's count (CRITICAL's: by
    /// `resource_totals_order`, whose first column it is).
    By(Severity),
}

impl Pass {
    /// The passes that serve a view filtered to `severities` (none: all).
    ///
    /// Down the most severe ranking, a view of the most severe severities
    /// (none, CRITICAL, CRITICAL and HIGH…) meets its best groups first. Any
    /// other view's best groups are spread down it (`severity=MEDIUM,LOW`
    /// meets the resources with most LOW findings last), so that view walks
    /// its own severities' rankings one after another, most severe first:
    /// every resource with MEDIUM findings, by their count, then those with
    /// LOW and no MEDIUM, by LOW.
    fn plan(severities: &[Severity]) -> Vec<Pass> {
        let mut asked: Vec<Severity> = Severity::ALL_DESC
            .into_iter()
            .filter(|s| severities.contains(s))
            .collect();
        let most_severe = Severity::ALL_DESC.get(..asked.len()) == Some(asked.as_slice());
        if asked.is_empty() || most_severe {
            return vec![Pass::MostSevere];
        }
        asked.drain(..).map(Pass::By).collect()
    }

    /// The bound of a resource met in this pass with the unfiltered `counts`
    /// (by severity rank): counts no resource met after it exceeds, filtered.
    ///
    /// A pass by one severity knows that count, and that the view's more
    /// severe ones are 0 (none of its resources, nor any later pass's, has
    /// them); the view's less severe ones are unbounded, so it closes only
    /// once its count separates groups. The view's last pass bounds all its
    /// severities, and ties close on the key as the ranking orders them.
    fn bound(self, key: &str, counts: [u64; 5], severities: &[Severity]) -> Counts {
        let by_rank = match self {
            Pass::MostSevere => counts,
            Pass::By(s) => std::array::from_fn(|r| {
                let lower = Severity::from_rank(r as u8)
                    .is_some_and(|t| t.rank() < s.rank() && severities.contains(&t));
                if r == usize::from(s.rank()) {
                    counts[r]
                } else if lower {
                    u64::MAX
                } else {
                    0
                }
            }),
        };
        Counts::from_severities(key.to_string(), by_rank)
    }

    /// Each of the pass's resources' counter rows matching `conds`, in the
    /// ranking's order. CROSS JOIN keeps the ranking as the outer loop, so rows
    /// come in its order and the ORDER BY costs nothing (a test checks the
    /// plan). The WHERE clause repeats a partial index's condition, which
    /// SQLite needs to use it.
    fn sql(self, conds: &[String], severities: &[Severity]) -> String {
        let extra: String = conds.iter().map(|c| format!(" AND {c}")).collect();
        let most_severe = "resource_totals_order";
        let order = "r.critical DESC, r.high DESC, r.medium DESC, r.low DESC, \
                     r.informational DESC, r.total DESC";
        let (index, holds, order) = match self {
            Pass::MostSevere => (most_severe.to_string(), String::new(), order.to_string()),
            Pass::By(s) => {
                let col = count_column(s);
                let mut holds = format!(" AND r.{col} > 0");
                for t in severities.iter().filter(|t| t.rank() > s.rank()) {
                    holds.push_str(&format!(" AND r.{} = 0", count_column(*t)));
                }
                if s == Severity::Critical {
                    (most_severe.to_string(), holds, order.to_string())
                } else {
                    (
                        format!("resource_totals_{col}"),
                        holds,
                        format!("r.{col} DESC"),
                    )
                }
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

/// How a pass ended.
#[derive(Debug, PartialEq)]
enum Walked {
    /// No later resource, in this pass or a later one, can be listed.
    Closed,
    /// The pass met all its resources.
    Ended,
    /// The step budget ran out.
    RanOut,
}

/// Offers each of the pass's resources' filtered counts to `top`, in the
/// ranking's order, until [`TopGroups::closed_at`] says no later one can be
/// listed.
fn walk(
    stmt: &mut rusqlite::Statement<'_>,
    params: Vec<rusqlite::types::Value>,
    top: &mut TopGroups,
    pass: Pass,
    severities: &[Severity],
) -> StoreResult<Walked> {
    let mut current: Option<Counts> = None;
    let mut q = stmt.query(rusqlite::params_from_iter(params))?;
    loop {
        let row = match q.next() {
            Ok(Some(row)) => row,
            Ok(None) => break,
            Err(e) if ran_out(&e) => return Ok(Walked::RanOut),
            Err(e) => return Err(e.into()),
        };
        let key = text(row, 0)?;
        if current.as_ref().is_none_or(|g| g.key() != key) {
            if let Some(done) = current.take() {
                top.offer(done);
            }
            // Columns 1..=5 are CRITICAL..INFORMATIONAL: ranks 4..=0.
            let mut counts = [0u64; 5];
            for (i, rank) in [4usize, 3, 2, 1, 0].into_iter().enumerate() {
                counts[rank] = u64::try_from(row.get::<_, i64>(1 + i)?).unwrap_or(0);
            }
            if top.closed_at(&pass.bound(key, counts, severities), severities) {
                return Ok(Walked::Closed);
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
    Ok(Walked::Ended)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A connection with the schema, `group_counts` rows for resources
    /// `r000`..`r399` and their ranking, folded from appended changes, and the
    /// total.
    pub(in crate::store::sqlite) fn filled() -> Connection {
        filled_by(|i, sev| {
            let account = if i % 2 == 0 { "111" } else { "222" };
            let status = if sev % 2 == 0 { "NEW" } else { "RESOLVED" };
            vec![(account, status, (i * 7 + sev * 3) % 4)]
        })
    }

    /// [`filled`] with each resource's findings of each severity rank given by
    /// `rows(resource, rank)` as (account, status, count).
    pub(in crate::store::sqlite) fn filled_by(
        mut rows: impl FnMut(i64, i64) -> Vec<(&'static str, &'static str, i64)>,
    ) -> Connection {
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
                for (account, status, n) in rows(i, sev) {
                    if n > 0 {
                        let key = format!("r{i:03}");
                        insert
                            .execute(rusqlite::params![key, sev, status, account, n])
                            .unwrap();
                    }
                }
            }
        }
        drop(insert);
        let moved = super::super::resource_counts::fold(&mut c, 10_000).unwrap();
        assert!(moved > 0);
        assert!(!super::super::resource_counts::pending(&c).unwrap());
        c.execute_batch(
            "INSERT INTO counters SELECT 'total', '', sum(n) FROM group_counts; \
             INSERT INTO view_counts SELECT severity, workflow_status, account_id, region, \
             resource_type, product_name, sum(n) FROM group_counts WHERE dim = 'resource' \
             GROUP BY severity, workflow_status, account_id, region, resource_type, product_name",
        )
        .unwrap();
        c
    }

    #[test]
    fn each_pass_reads_its_ranking_in_order_without_sorting() {
        let c = filled();
        for (severity, indexes) in [
            ("CRITICAL", &["resource_totals_order"][..]),
            ("CRITICAL,HIGH", &["resource_totals_order"]),
            ("HIGH", &["resource_totals_high"]),
            ("MEDIUM", &["resource_totals_medium"]),
            ("LOW", &["resource_totals_low"]),
            ("INFORMATIONAL", &["resource_totals_informational"]),
            (
                "MEDIUM,INFORMATIONAL",
                &["resource_totals_medium", "resource_totals_informational"],
            ),
            (
                "CRITICAL,LOW",
                &["resource_totals_order", "resource_totals_low"],
            ),
        ] {
            let filter =
                FindingFilter::from_pairs([("severity", severity), ("account", "111")]).unwrap();
            let counted = counted_part(&filter);
            let (conds, params) = conditions(&counted);
            let passes = Pass::plan(&counted.severities);
            assert_eq!(passes.len(), indexes.len(), "{severity}");
            for (pass, index) in passes.into_iter().zip(indexes) {
                let sql = pass.sql(&conds, &counted.severities);
                let plan: Vec<String> = c
                    .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                    .unwrap()
                    .query_map(rusqlite::params_from_iter(params.clone()), |r| {
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
    }

    /// Whether `filter`'s walk down the most severe ranking alone answers
    /// within `steps`.
    fn most_severe_answers(c: &Connection, filter: &FindingFilter, steps: u64) -> bool {
        let counted = counted_part(filter);
        let (conds, params) = conditions(&counted);
        let mut stmt = c
            .prepare(&Pass::MostSevere.sql(&conds, &counted.severities))
            .unwrap();
        let mut top = TopGroups::new(5);
        let walked = within(c, steps, || {
            walk(
                &mut stmt,
                params,
                &mut top,
                Pass::MostSevere,
                &counted.severities,
            )
        });
        walked.unwrap() != Walked::RanOut
    }

    #[test]
    fn severity_passes_close_within_a_budget_the_most_severe_ranking_runs_out_of() {
        let c = filled();
        // A view's own passes close after their first entries, within a budget
        // far below the ~20,000 VM instructions of a walk down the most severe
        // ranking, on which the resources with most LOW findings come last.
        for severity in ["LOW", "MEDIUM,LOW", "HIGH,INFORMATIONAL"] {
            let view = FindingFilter::from_pairs([("severity", severity)]).unwrap();
            assert!(
                top_resources(&c, &view, 5, 5).unwrap().is_some(),
                "{severity}"
            );
            assert!(!most_severe_answers(&c, &view, 5), "{severity}");
        }
    }

    #[test]
    fn a_bound_holds_its_pass_severity_and_leaves_the_view_less_severe_ones_open() {
        let counts = [1, 2, 3, 4, 5];
        let view = [Severity::High, Severity::Low, Severity::Critical];
        let high = Pass::By(Severity::High).bound("k", counts, &view);
        let low = Pass::By(Severity::Low).bound("k", counts, &view);
        let all = Pass::MostSevere.bound("k", counts, &[]);
        let by_rank = |c: &Counts| -> [u64; 5] {
            std::array::from_fn(|r| {
                let s = Severity::from_rank(r as u8).unwrap();
                c.clone().group().by_severity[&s]
            })
        };
        assert_eq!(by_rank(&high), [0, u64::MAX, 0, 4, 0]);
        assert_eq!(by_rank(&low), [0, 2, 0, 0, 0]);
        assert_eq!(by_rank(&all), counts);
        assert_eq!(high.clone().group().total, u64::MAX);
        assert_eq!(
            Pass::plan(&[Severity::Low, Severity::High]),
            [Pass::By(Severity::High), Pass::By(Severity::Low)]
        );
        assert_eq!(
            Pass::plan(&[Severity::High, Severity::Critical]),
            [Pass::MostSevere]
        );
        assert_eq!(Pass::plan(&[]), [Pass::MostSevere]);
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
