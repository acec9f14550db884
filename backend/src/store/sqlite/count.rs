//! How many findings a view matches (see store/count.rs for the split into a
//! counted and a residual part). The counted part is a sum over `view_counts`;
//! the residual part reads at most [`crate::store::count::SCAN_ROWS`] rows (by
//! default), newest first through the list's indexes, and SQLite itself is
//! stopped after [`MAX_STEPS`] virtual-machine steps, so a filter whose index
//! serves it badly (an account with many findings, filtered on a rare region)
//! still costs a bounded time.

use super::convert::from_micros;
use super::list::{conditions, text_match, where_clause};
use super::resource_counts::pending;
use super::steps::{ran_out, within};
use super::StoreResult;
use crate::store::count::{counted_part, view_count, Scan};
use crate::store::ViewCount;
use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension};
use shared_types::FindingFilter;

/// VM instructions a residual read may take, in thousands (steps.rs) (about 3 ms
/// at 1M findings on the bench machine; see scripts/bench_count.sh).
const MAX_STEPS: u64 = 3_000;

/// VM instructions, in thousands, an exact count of a time window may take
/// before the bounded read below answers instead. Counted inside one
/// `(column, updated_at, id)` index a finding costs two to three
/// instructions, so `since` windows of about 120,000 findings are counted
/// exactly (fewer with an `until` bound or a list of values, which check
/// more per finding). Twice this let a window that ran out add 8 ms to
/// a list request at 1M findings, past the 5 ms goal (scripts/bench_count.sh).
pub(super) const EXACT_STEPS: u64 = 300;

/// The count of `filter`'s view, reading at most `rows` rows for its residual
/// part, after an exact count of a time window within `exact_steps` (thousands
/// of VM instructions; 0: none).
pub(super) fn count(
    c: &Connection,
    filter: &FindingFilter,
    rows: u64,
    exact_steps: u64,
) -> StoreResult<ViewCount> {
    let counted = counted_part(filter);
    if let (None, Some(r), false) = (
        &filter.generator,
        &filter.resource,
        has_time_or_text(filter),
    ) {
        if let Some(n) = resource_count(c, r, &counted)? {
            return Ok(ViewCount::exact(n));
        }
    }
    // One generator is counted by the group counters. A resource is read below
    // (through its index) when its counters are behind, which bounds the view.
    let base = match &filter.generator {
        Some(g) => group_base(c, "generator", g, &counted)?,
        None => base(c, &counted)?,
    };
    if !has_time_or_text(filter) && filter.resource.is_none() {
        return Ok(ViewCount::exact(base));
    }
    if let (true, Some(index)) = (exact_steps > 0, covering_index(filter)) {
        if let Some(n) = time_window_count(c, filter, index, exact_steps)? {
            return Ok(ViewCount::exact(n));
        }
    }
    let scan = scan(c, filter, rows)?;
    let floor = match filter.since {
        Some(since) => Some(since),
        None if !scan.complete => oldest(c)?,
        None => None,
    };
    Ok(view_count(base, Some(scan), floor))
}

/// The exact count of a filter on the counted columns only.
pub(super) fn base(c: &Connection, counted: &FindingFilter) -> StoreResult<u64> {
    let (conds, params) = conditions(counted);
    let sql = if conds.is_empty() {
        "SELECT COALESCE(SUM(n), 0) FROM counters WHERE dim = 'total'".to_string()
    } else {
        format!(
            "SELECT COALESCE(SUM(n), 0) FROM view_counts {}",
            where_clause(&conds)
        )
    };
    let n: i64 = c
        .prepare_cached(&sql)?
        .query_row(rusqlite::params_from_iter(params), |r| r.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// True when the filter has `q`, `since` or `until` (no counter answers those).
fn has_time_or_text(filter: &FindingFilter) -> bool {
    filter.q.is_some() || filter.since.is_some() || filter.until.is_some()
}

/// The exact count of one resource's findings matching the counted part of a
/// filter, from its counters (resource_counts.rs) in one snapshot that holds no
/// change they have not folded yet; `None` when it holds one (`cspm serve`
/// folds every few seconds, a grouping by resource before it reads).
fn resource_count(c: &Connection, key: &str, counted: &FindingFilter) -> StoreResult<Option<u64>> {
    let tx = c.unchecked_transaction()?;
    if pending(&tx)? {
        return Ok(None);
    }
    let n = group_base(&tx, "resource", key, counted)?;
    tx.commit()?;
    Ok(Some(n))
}

/// The exact count of one generator's or resource's (`dim`) findings matching
/// the counted part of a filter, from the group counters (store/groups.rs).
fn group_base(c: &Connection, dim: &str, key: &str, counted: &FindingFilter) -> StoreResult<u64> {
    let (mut conds, params) = conditions(counted);
    conds.insert(0, "dim = ? AND key = ?".into());
    let mut all = vec![Value::Text(dim.to_string()), Value::Text(key.to_string())];
    all.extend(params);
    let sql = format!(
        "SELECT COALESCE(SUM(n), 0) FROM group_counts {}",
        where_clause(&conds)
    );
    let n: i64 = c
        .prepare_cached(&sql)?
        .query_row(rusqlite::params_from_iter(all), |r| r.get(0))?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The one index that holds everything `filter` asks, if any: a time window
/// alone (`findings_by_time`) or with one of severity, status, account, region,
/// resource type, product or generator (that column's `(column, updated_at,
/// id)` index), so a count reads index entries only. Two columns would look
/// every row up in the table, which costs reads the instruction budget does
/// not see (168 ms for an account and a region over 60 days at 1M findings).
fn covering_index(filter: &FindingFilter) -> Option<&'static str> {
    if filter.q.is_some()
        || filter.resource.is_some()
        || (filter.since.is_none() && filter.until.is_none())
    {
        return None;
    }
    let columns = [
        (!filter.severities.is_empty(), "findings_by_severity"),
        (!filter.statuses.is_empty(), "findings_by_status"),
        (filter.account.is_some(), "findings_by_account"),
        (filter.region.is_some(), "findings_by_region"),
        (filter.resource_type.is_some(), "findings_by_resource_type"),
        (filter.product.is_some(), "findings_by_product"),
        (filter.generator.is_some(), "findings_by_generator"),
    ];
    let mut set = columns
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, index)| *index);
    match (set.next(), set.next()) {
        (None, _) => Some("findings_by_time"),
        (Some(index), None) => Some(index),
        _ => None,
    }
}

/// The exact count of a filter inside `index` (its [`covering_index`]; named,
/// so SQLite cannot pick a plan that looks rows up), or `None` when SQLite ran
/// out of `steps` thousand VM instructions first ([`EXACT_STEPS`] by default).
fn time_window_count(
    c: &Connection,
    filter: &FindingFilter,
    index: &str,
    steps: u64,
) -> StoreResult<Option<u64>> {
    let (conds, params) = conditions(filter);
    let sql = format!(
        "SELECT count(*) FROM findings INDEXED BY {index} {}",
        where_clause(&conds)
    );
    let mut stmt = c.prepare_cached(&sql)?;
    within(c, steps, || {
        match stmt.query_row(rusqlite::params_from_iter(params), |r| r.get::<_, i64>(0)) {
            Ok(n) => Ok(Some(u64::try_from(n).unwrap_or(0))),
            Err(e) if ran_out(&e) => Ok(None),
            Err(e) => Err(e.into()),
        }
    })
}

/// Reads at most `rows` rows matching everything but `q`, newest first (the
/// list's order and indexes), noting which match `q` too.
fn scan(c: &Connection, filter: &FindingFilter, rows: u64) -> StoreResult<Scan> {
    let (select, mut params) = match &filter.q {
        Some(q) => text_match(q),
        None => ("1".to_string(), Vec::new()),
    };
    let (conds, where_params) = conditions(&FindingFilter {
        q: None,
        ..filter.clone()
    });
    params.extend(where_params);
    let sql = format!(
        "SELECT {select}, updated_at FROM findings {} \
         ORDER BY updated_at DESC, id DESC LIMIT {}",
        where_clause(&conds),
        rows + 1
    );
    let mut stmt = c.prepare_cached(&sql)?;
    within(c, MAX_STEPS, || read(&mut stmt, params, rows))
}

fn read(stmt: &mut rusqlite::Statement<'_>, params: Vec<Value>, limit: u64) -> StoreResult<Scan> {
    let mut scan = Scan::default();
    let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
    loop {
        match rows.next() {
            Ok(Some(row)) => {
                if scan.seen == limit {
                    return Ok(scan);
                }
                scan.seen += 1;
                if row.get::<_, Option<bool>>(0)?.unwrap_or(false) {
                    scan.matched += 1;
                }
                let at = from_micros(row.get(1)?, "?")?;
                scan.span = Some((scan.span.map_or(at, |(newest, _)| newest), at));
            }
            Ok(None) => {
                scan.complete = true;
                return Ok(scan);
            }
            // The step budget ran out: what was read so far is the sample.
            Err(e) if ran_out(&e) => return Ok(scan),
            Err(e) => return Err(e.into()),
        }
    }
}

/// The oldest `updated_at` stored (one step down `findings_by_time`).
fn oldest(c: &Connection) -> StoreResult<Option<DateTime<Utc>>> {
    let micros: Option<i64> = c
        .prepare_cached("SELECT updated_at FROM findings ORDER BY updated_at LIMIT 1")?
        .query_row([], |r| r.get(0))
        .optional()?;
    micros.map(|m| from_micros(m, "?")).transpose()
}
