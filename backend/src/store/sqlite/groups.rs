//! Grouping a view on SQLite (see store/groups.rs). Counters answer whenever
//! the filter has no `q`, `since` or `until`: `view_counts` for account,
//! region and resource type; `group_counts` for generator and resource, and for
//! any grouping of one generator's or one resource's findings. Only a grouping
//! by generator within one resource (or the reverse), or a filter on both,
//! reads rows. Counter rows come out ordered by the group's key, so each group
//! is complete when the next starts and only the most severe `limit` are kept.
//!
//! Each group shown then gets its newest finding through the grouped column's
//! index, newest first: one step when the filter is only the group, a walk down
//! the group's findings otherwise. All those walks share [`NEWEST_STEPS`]; a
//! group not reached in them shows no `updated_at`.

use super::convert::from_micros;
use super::counters::GroupDim;
use super::list::{conditions, where_clause};
use super::StoreResult;
use crate::store::count::counted_part;
use crate::store::groups::{label, Counts, Tally, TopGroups};
use rusqlite::types::Value;
use rusqlite::{Connection, ErrorCode, OptionalExtension};
use shared_types::{FindingFilter, FindingGroup, FindingGroups, GroupBy, Severity, WorkflowStatus};

/// How often (in VM instructions) the progress handler runs.
const STEP_PERIOD: i32 = 1_000;
/// VM instructions, in [`STEP_PERIOD`]s, that the newest-finding walks of one
/// answer may take together (a few ms at 1M findings).
const NEWEST_STEPS: u64 = 20_000;
/// VM instructions, in [`STEP_PERIOD`]s, that a grouping read from rows may take
/// (scripts/bench_groups.sh).
const READ_STEPS: u64 = 100_000;

/// Where the counters of a grouping are.
enum Source {
    /// `view_counts`.
    Views,
    /// `group_counts` rows of `dim`, all keys or one.
    Groups(GroupDim, Option<String>),
}

/// The findings table's column for a grouping, and the index on it.
fn column(by: GroupBy) -> (&'static str, &'static str) {
    match by {
        GroupBy::Generator => ("generator_id", "findings_by_generator"),
        GroupBy::Resource => ("resource_id", "findings_by_resource"),
        GroupBy::Account => ("account_id", "findings_by_account"),
        GroupBy::Region => ("region", "findings_by_region"),
        GroupBy::ResourceType => ("resource_type", "findings_by_resource_type"),
    }
}

/// The counters that answer `by` under `filter`, if any do.
fn source(filter: &FindingFilter, by: GroupBy) -> Option<Source> {
    if filter.q.is_some() || filter.since.is_some() || filter.until.is_some() {
        return None;
    }
    match (&filter.generator, &filter.resource, by) {
        (Some(_), Some(_), _) => None,
        (Some(_), None, GroupBy::Resource) | (None, Some(_), GroupBy::Generator) => None,
        (Some(g), None, _) => Some(Source::Groups(GroupDim::Generator, Some(g.clone()))),
        (None, Some(r), _) => Some(Source::Groups(GroupDim::Resource, Some(r.clone()))),
        (None, None, GroupBy::Generator) => Some(Source::Groups(GroupDim::Generator, None)),
        (None, None, GroupBy::Resource) => Some(Source::Groups(GroupDim::Resource, None)),
        (None, None, _) => Some(Source::Views),
    }
}

/// The view of `filter` grouped by `by`, reading at most `rows` findings when no
/// counter answers.
pub(super) fn groups(
    c: &Connection,
    filter: &FindingFilter,
    by: GroupBy,
    limit: u32,
    rows: u64,
) -> StoreResult<FindingGroups> {
    let Some(src) = source(filter, by) else {
        return from_rows(c, filter, by, limit, rows);
    };
    let mut out = from_counters(c, filter, by, limit, src)?;
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
        Source::Groups(dim, key) => {
            let mut head = vec!["dim = ?".to_string()];
            let mut values = vec![Value::Text(dim.as_str().to_string())];
            if let Some(k) = key {
                head.push("key = ?".into());
                values.push(Value::Text(k.clone()));
            }
            head.append(&mut conds);
            conds = head;
            values.append(&mut params);
            params = values;
            let own = matches!(
                (dim, by),
                (GroupDim::Generator, GroupBy::Generator) | (GroupDim::Resource, GroupBy::Resource)
            );
            ("group_counts", if own { "key" } else { column(by).0 })
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
        // Borrowed: a key is copied once per group, not once per counter row.
        let key = text(row, 0)?;
        let severity = Severity::from_rank(row.get(1)?)
            .ok_or_else(|| super::error::corrupt(key, "bad counted severity"))?;
        let status = text(row, 2)?
            .parse::<WorkflowStatus>()
            .map_err(|_| super::error::corrupt(key, "bad counted status"))?;
        let n: i64 = row.get(3)?;
        if current.as_ref().is_none_or(|g| g.key() != key) {
            if let Some(done) = current.take() {
                top.offer(done);
            }
            current = Some(Counts::new(key.to_string()));
        }
        if let Some(g) = current.as_mut() {
            g.add(severity, status, u64::try_from(n).unwrap_or(0));
        }
    }
    if let Some(done) = current {
        top.offer(done);
    }
    Ok(top.finish(by, true))
}

/// Column `i` of `row` as text, borrowed from the row.
fn text<'r>(row: &'r rusqlite::Row<'_>, i: usize) -> StoreResult<&'r str> {
    row.get_ref(i)?.as_str().map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
            .into()
    })
}

/// Sets each group's newest finding (time, and title for a generator's label)
/// through the grouped column's index, within [`NEWEST_STEPS`] for all groups.
fn newest(
    c: &Connection,
    filter: &FindingFilter,
    by: GroupBy,
    groups: &mut [FindingGroup],
) -> StoreResult<()> {
    let (col, own_index) = column(by);
    // A resource has few findings: its index is the shortest walk whatever
    // the grouping.
    let index = if filter.resource.is_some() {
        column(GroupBy::Resource).1
    } else {
        own_index
    };
    let (conds, params) = conditions(filter);
    let mut all = vec![format!("{col} = ?")];
    all.extend(conds);
    let sql = format!(
        "SELECT updated_at, title FROM findings INDEXED BY {index} {} \
         ORDER BY updated_at DESC, id DESC LIMIT 1",
        where_clause(&all)
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let mut periods = 0u64;
    c.progress_handler(
        STEP_PERIOD,
        Some(move || {
            periods += 1;
            periods > NEWEST_STEPS
        }),
    );
    let mut out = Ok(());
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
                Err(e) => {
                    out = Err(e);
                    break;
                }
            },
            Ok(None) => {}
            // The shared budget ran out: the remaining groups show no time.
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == ErrorCode::OperationInterrupted =>
            {
                break
            }
            Err(e) => {
                out = Err(e.into());
                break;
            }
        }
    }
    c.progress_handler(STEP_PERIOD, None::<fn() -> bool>);
    out
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
    let mut periods = 0u64;
    c.progress_handler(
        STEP_PERIOD,
        Some(move || {
            periods += 1;
            periods > READ_STEPS
        }),
    );
    let read = read_rows(&mut stmt, params, by, rows);
    c.progress_handler(STEP_PERIOD, None::<fn() -> bool>);
    let (tally, complete) = read?;
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
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == ErrorCode::OperationInterrupted =>
            {
                return Ok((tally, false));
            }
            Err(e) => return Err(e.into()),
        }
    }
}
