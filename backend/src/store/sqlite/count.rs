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

/// The count of `filter`'s view, reading at most `rows` rows for its residual part.
pub(super) fn count(c: &Connection, filter: &FindingFilter, rows: u64) -> StoreResult<ViewCount> {
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
