//! Grouping a view on SQLite (see store/groups.rs). Counters answer whenever
//! the filter has no `q`, `since`, `until` or resource: `view_counts` for
//! account, region and resource type; `group_counts` for generator and
//! resource, and for any grouping of one generator's findings. Resource
//! counters are folded from appended changes (resource_counts.rs): the caller
//! folds first, and a read that still sees changes left to fold (a writer got
//! in between) groups resources from rows instead. Grouping every resource
//! walks the resource ranking first (top_resources.rs) and sums the counters
//! only when that walk runs out of its budget. One resource's findings, and a
//! grouping by resource within one generator, are read from rows (one
//! resource's rows are few and found through `findings_by_bucket_resource`).
//! Counter rows come out ordered by the group's key, so each group is complete
//! when the next starts and only the most severe `limit` are kept.
//!
//! Each group shown then gets its newest finding through the grouped column's
//! index, newest first: one step when the filter is only the group, a walk down
//! the group's findings otherwise (a resource: its time buckets, newest first).
//! All those walks share [`NEWEST_STEPS`]; a group not reached in them shows no
//! `updated_at`.

use super::convert::{counted, from_micros, text};
use super::list::{conditions, where_clause};
use super::resource_counts::pending;
use super::resource_index;
use super::steps::{ran_out, within};
use super::top_resources::top_resources;
use super::StoreResult;
use crate::store::count::counted_part;
use crate::store::groups::{label, Counts, Tally, TopGroups};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension};
use shared_types::{FindingFilter, FindingGroup, FindingGroups, GroupBy, Severity};

/// VM instructions, in thousands (steps.rs), that the newest-finding walks of one
/// answer may take together (a few ms at 1M findings).
const NEWEST_STEPS: u64 = 20_000;
/// VM instructions, in thousands (steps.rs), that a grouping read from rows may take
/// (scripts/bench_groups.sh).
const READ_STEPS: u64 = 100_000;

/// Where the counters of a grouping are.
enum Source {
    /// `view_counts`.
    Views,
    /// `group_counts` rows of generators, all or one.
    Generators(Option<String>),
    /// `group_counts` rows of every resource, and their ranking.
    Resources,
}

/// What one grouping may spend where counters alone do not answer.
#[derive(Debug, Clone, Copy)]
pub(super) struct Budget {
    /// Findings read when no counter answers.
    pub(super) rows: u64,
    /// VM instructions, in thousands, of the walk down the resource ranking
    /// before the counters are summed instead (0: always summed).
    pub(super) walk_steps: u64,
}

/// The findings table's column for a grouping, and the index on it (none for
/// resources: theirs leads with a time bucket, list.rs).
fn column(by: GroupBy) -> (&'static str, Option<&'static str>) {
    match by {
        GroupBy::Generator => ("generator_id", Some("findings_by_generator")),
        GroupBy::Resource => ("resource_id", None),
        GroupBy::Account => ("account_id", Some("findings_by_account")),
        GroupBy::Region => ("region", Some("findings_by_region")),
        GroupBy::ResourceType => ("resource_type", Some("findings_by_resource_type")),
    }
}

/// The counters that answer `by` under `filter`, if any do.
fn source(filter: &FindingFilter, by: GroupBy) -> Option<Source> {
    if filter.q.is_some() || filter.since.is_some() || filter.until.is_some() {
        return None;
    }
    match (&filter.generator, &filter.resource, by) {
        (_, Some(_), _) | (Some(_), None, GroupBy::Resource) => None,
        (Some(g), None, _) => Some(Source::Generators(Some(g.clone()))),
        (None, None, GroupBy::Generator) => Some(Source::Generators(None)),
        (None, None, GroupBy::Resource) => Some(Source::Resources),
        (None, None, _) => Some(Source::Views),
    }
}

/// True when the grouping reads the resource counters, which must be folded
/// first (resource_counts.rs).
pub(super) fn reads_resource_counters(filter: &FindingFilter, by: GroupBy) -> bool {
    matches!(source(filter, by), Some(Source::Resources))
}

/// The view of `filter` grouped by `by`, within `budget`. Call it inside one
/// read transaction, so the check for unfolded changes and the counters read
/// after it see the same state.
pub(super) fn groups(
    c: &Connection,
    filter: &FindingFilter,
    by: GroupBy,
    limit: u32,
    budget: Budget,
) -> StoreResult<FindingGroups> {
    let src = match source(filter, by) {
        Some(Source::Resources) if pending(c)? => None,
        src => src,
    };
    let Some(src) = src else {
        return from_rows(c, filter, by, limit, budget.rows);
    };
    // The whole store's resources (under counted filters): the ranking first,
    // the sum over every resource's counters when its walk runs out.
    let walked = match src {
        Source::Resources if budget.walk_steps > 0 => {
            top_resources(c, filter, limit, budget.walk_steps)?
        }
        _ => None,
    };
    let mut out = match walked {
        Some(out) => out,
        None => from_counters(c, filter, by, limit, src)?,
    };
    newest(c, filter, by, &mut out.groups)?;
    Ok(out)
}

fn from_counters(
    c: &Connection,
    filter: &FindingFilter,
    by: GroupBy,
    limit: u32,
    src: Source,
) -> StoreResult<FindingGroups> {
    let (mut conds, mut params) = conditions(&counted_part(filter));
    let (table, col) = match &src {
        Source::Views => ("view_counts", column(by).0),
        Source::Generators(key) => {
            let mut head = vec!["dim = 'generator'".to_string()];
            let mut values = Vec::new();
            if let Some(k) = key {
                head.push("key = ?".into());
                values.push(Value::Text(k.clone()));
            }
            head.append(&mut conds);
            conds = head;
            values.append(&mut params);
            params = values;
            let own = by == GroupBy::Generator;
            ("group_counts", if own { "key" } else { column(by).0 })
        }
        Source::Resources => {
            conds.insert(0, "dim = 'resource'".to_string());
            ("group_counts", "key")
        }
    };
    // Grouped in the key's order: `group_counts` is stored in it (its primary
    // key starts with dim, key), so a grouping by generator or resource streams.
    let sql = format!(
        "SELECT {col}, severity, workflow_status, SUM(n) FROM {table} {} \
         GROUP BY 1, 2, 3 HAVING SUM(n) > 0 ORDER BY 1",
        where_clause(&conds)
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let mut q = stmt.query(rusqlite::params_from_iter(params))?;
    let mut top = TopGroups::new(limit);
    let mut current: Option<Counts> = None;
    while let Some(row) = q.next()? {
        let key = text(row, 0)?;
        let (severity, status, n) = counted(row, key, 1)?;
        if current.as_ref().is_none_or(|g| g.key() != key) {
            if let Some(done) = current.take() {
                top.offer(done);
            }
            current = Some(Counts::new(key.to_string()));
        }
        if let Some(g) = current.as_mut() {
            g.add(severity, status, n);
        }
    }
    if let Some(done) = current {
        top.offer(done);
    }
    Ok(top.finish(by, true))
}

/// Sets each group's newest finding (time, and title for a generator's label)
/// through the grouped column's index, within [`NEWEST_STEPS`] for all groups.
fn newest(
    c: &Connection,
    filter: &FindingFilter,
    by: GroupBy,
    groups: &mut [FindingGroup],
) -> StoreResult<()> {
    if by == GroupBy::Resource {
        return newest_resources(c, filter, groups);
    }
    let (col, own_index) = column(by);
    // Only counters' groupings get here, and none with a resource filter:
    // the grouped column's index is the walk.
    let hint = own_index.map_or(String::new(), |i| format!("INDEXED BY {i}"));
    let (conds, params) = conditions(filter);
    let mut all = vec![format!("{col} = ?")];
    all.extend(conds);
    let sql = format!(
        "SELECT updated_at, title FROM findings {hint} {} \
         ORDER BY updated_at DESC, id DESC LIMIT 1",
        where_clause(&all)
    );
    let mut stmt = c.prepare_cached(&sql)?;
    within(c, NEWEST_STEPS, || {
        newest_rows(&mut stmt, &params, by, groups)
    })
}

/// [`newest`]'s reads, one per group, until the budget runs out.
fn newest_rows(
    stmt: &mut rusqlite::Statement<'_>,
    params: &[Value],
    by: GroupBy,
    groups: &mut [FindingGroup],
) -> StoreResult<()> {
    for g in groups.iter_mut() {
        let mut values = vec![Value::Text(g.key.clone())];
        values.extend(params.iter().cloned());
        let row: Result<Option<(i64, String)>, _> = stmt
            .query_row(rusqlite::params_from_iter(values), |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional();
        match row {
            Ok(Some((at, title))) => match from_micros(at, &g.key) {
                Ok(at) => {
                    g.updated_at = Some(at);
                    g.label = label(by, &g.key, &title);
                }
                Err(e) => return Err(e),
            },
            Ok(None) => {}
            // The shared budget ran out: the remaining groups show no time.
            Err(e) if ran_out(&e) => break,
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// [`newest`] for resources: each one's time buckets, newest first
/// (resource_index.rs), within the same budget.
fn newest_resources(
    c: &Connection,
    filter: &FindingFilter,
    groups: &mut [FindingGroup],
) -> StoreResult<()> {
    let (conds, params) = conditions(filter);
    within(c, NEWEST_STEPS, || {
        let buckets = match resource_index::buckets(c) {
            Ok(b) => b,
            // The budget ran out: no group shows its newest update.
            Err(e) if ran_out(&e) => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        for g in groups.iter_mut() {
            match resource_index::newest(c, &buckets, &g.key, &conds, &params) {
                Ok(Some((at, _))) => g.updated_at = Some(from_micros(at, &g.key)?),
                Ok(None) => {}
                Err(e) if ran_out(&e) => break,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    })
}

/// Groups the newest `rows` findings of the view (exact when they are all of
/// it), within [`READ_STEPS`].
fn from_rows(
    c: &Connection,
    filter: &FindingFilter,
    by: GroupBy,
    limit: u32,
    rows: u64,
) -> StoreResult<FindingGroups> {
    let (conds, params) = conditions(filter);
    let sql = format!(
        "SELECT {}, severity, workflow_status, updated_at, title FROM findings {} \
         ORDER BY updated_at DESC, id DESC LIMIT {}",
        column(by).0,
        where_clause(&conds),
        rows + 1
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let (tally, complete) = within(c, READ_STEPS, || read_rows(&mut stmt, params, by, rows))?;
    Ok(tally.finish(limit, complete))
}

fn read_rows(
    stmt: &mut rusqlite::Statement<'_>,
    params: Vec<Value>,
    by: GroupBy,
    limit: u64,
) -> StoreResult<(Tally, bool)> {
    let mut tally = Tally::new(by);
    let mut seen = 0u64;
    let mut q = stmt.query(rusqlite::params_from_iter(params))?;
    loop {
        match q.next() {
            Ok(Some(row)) => {
                if seen == limit {
                    return Ok((tally, false));
                }
                seen += 1;
                let key: String = row.get(0)?;
                let severity = Severity::from_rank(row.get(1)?)
                    .ok_or_else(|| super::error::corrupt(&key, "bad stored severity"))?;
                let status: String = row.get(2)?;
                let status = status
                    .parse()
                    .map_err(|_| super::error::corrupt(&key, "bad stored status"))?;
                tally.add(&key, severity, status, 1);
                tally.newest(
                    &key,
                    from_micros(row.get(3)?, &key)?,
                    &row.get::<_, String>(4)?,
                );
            }
            Ok(None) => return Ok((tally, true)),
            // The step budget ran out: what was read is the answer, not exact.
            Err(e) if ran_out(&e) => return Ok((tally, false)),
            Err(e) => return Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::resource_counts::{fold, tests::key, ResourceDeltas};
    use shared_types::WorkflowStatus;

    fn schema() -> Connection {
        let mut c = Connection::open_in_memory().unwrap();
        c.execute_batch(super::super::SCHEMA).unwrap();
        super::super::migrate::migrate(&mut c).unwrap();
        c
    }

    #[test]
    fn a_grouping_that_sees_unfolded_changes_reads_rows_not_the_counters() {
        // Counters that name a resource the (empty) findings table lacks show
        // which source answered.
        let mut c = schema();
        let mut d = ResourceDeltas::default();
        d.add("only-in-counters", &key(4, WorkflowStatus::New), 1);
        d.append(&c).unwrap();
        fold(&mut c, 10).unwrap();
        let budget = Budget {
            rows: 100,
            walk_steps: 1_000,
        };
        let all = FindingFilter::default();
        let folded = groups(&c, &all, GroupBy::Resource, 10, budget).unwrap();
        assert_eq!(folded.groups.len(), 1);
        let mut d = ResourceDeltas::default();
        d.add("r9", &key(1, WorkflowStatus::New), 1);
        d.append(&c).unwrap();
        let waiting = groups(&c, &all, GroupBy::Resource, 10, budget).unwrap();
        assert!(waiting.groups.is_empty());
        assert!(waiting.exact);
    }

    #[test]
    fn every_view_of_every_severity_set_walks_to_what_summing_lists() {
        // Skewed random counts (most resources have few findings of a
        // severity, some many), so groups tie and passes close mid-way.
        let mut seed = 11u64;
        let mut next = move |m: u64| {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 33) % m) as i64
        };
        let c = super::super::top_resources::tests::filled_by(|_, _| {
            let accounts = ["111", "222", "333"];
            let statuses = ["NEW", "NOTIFIED", "RESOLVED"];
            (0..next(3))
                .map(|_| {
                    let n = if next(10) == 0 { 1 + next(20) } else { next(3) };
                    (accounts[next(3) as usize], statuses[next(3) as usize], n)
                })
                .collect()
        });
        let all = Severity::ALL_DESC;
        let mut closed = 0;
        for set in 1u32..32 {
            let severity: Vec<&str> = (0..5)
                .filter(|b| set & (1 << b) != 0)
                .map(|b| all[b].as_str())
                .collect();
            let severity = severity.join(",");
            for extra in [None, Some(("account", "222")), Some(("status", "NEW"))] {
                for limit in [1, 5, 40] {
                    let mut pairs = vec![("severity", severity.as_str())];
                    pairs.extend(extra);
                    let filter = FindingFilter::from_pairs(pairs).unwrap();
                    let want =
                        from_counters(&c, &filter, GroupBy::Resource, limit, Source::Resources)
                            .unwrap();
                    let got = top_resources(&c, &filter, limit, 100_000).unwrap().unwrap();
                    assert_eq!(got.groups, want.groups, "{severity} {extra:?} {limit}");
                    assert_eq!(got.other, want.other, "{severity} {extra:?} {limit}");
                    // The walk for the best group stops early, not meeting
                    // every resource.
                    if limit == 1 && super::super::top_resources::closes(&c, &filter, limit) {
                        closed += 1;
                    }
                }
            }
        }
        assert_eq!(closed, 93, "views whose best group closed its walk");
    }

    #[test]
    fn a_walk_down_the_resource_rankings_lists_what_summing_every_counter_lists() {
        let c = super::super::top_resources::tests::filled();
        for severity in [
            "CRITICAL",
            "HIGH",
            "MEDIUM",
            "LOW",
            "INFORMATIONAL",
            "HIGH,LOW",
            "MEDIUM,LOW",
        ] {
            for account in [None, Some("222")] {
                let mut pairs = vec![("severity", severity)];
                pairs.extend(account.map(|a| ("account", a)));
                let filter = FindingFilter::from_pairs(pairs).unwrap();
                let want =
                    from_counters(&c, &filter, GroupBy::Resource, 5, Source::Resources).unwrap();
                let got = top_resources(&c, &filter, 5, 1_000).unwrap().unwrap();
                assert_eq!(got.groups, want.groups, "{severity} {account:?}");
                assert!(!got.groups.is_empty());
            }
        }
    }
}
