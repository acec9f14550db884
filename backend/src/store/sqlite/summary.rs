//! `/summary` from the counters kept on write: cost grows with the number of
//! distinct keys (severities, statuses, accounts, days), never with findings.

use super::counters::day_number;
use super::StoreResult;
use chrono::{Duration, NaiveDate};
use rusqlite::{Connection, OptionalExtension};
use shared_types::{KeyCount, Severity, Summary, TrendPoint, WorkflowStatus};
use std::collections::BTreeMap;

/// Entries in the top-accounts and top-resource-types lists.
const TOP_N: i64 = 10;
/// Days in the trend, today included.
const TREND_DAYS: i64 = 30;

fn counts(c: &Connection, dim: &str) -> StoreResult<Vec<(String, u64)>> {
    let mut stmt = c.prepare_cached("SELECT key, n FROM counters WHERE dim = ?1 AND n > 0")?;
    let rows = stmt.query_map([dim], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (k, n) = row?;
        out.push((k, u64::try_from(n).unwrap_or(0)));
    }
    Ok(out)
}

fn top(c: &Connection, dim: &str) -> StoreResult<Vec<KeyCount>> {
    let mut stmt = c.prepare_cached(
        "SELECT key, n FROM counters WHERE dim = ?1 AND n > 0 ORDER BY n DESC, key LIMIT ?2",
    )?;
    let rows = stmt.query_map(rusqlite::params![dim, TOP_N], |r| {
        Ok(KeyCount {
            key: r.get(0)?,
            count: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(super) fn summary(c: &Connection, today: NaiveDate) -> StoreResult<Summary> {
    let total = counts(c, "total")?.first().map_or(0, |(_, n)| *n);
    let mut by_severity: BTreeMap<Severity, u64> =
        Severity::ALL_DESC.iter().map(|s| (*s, 0)).collect();
    for (k, n) in counts(c, "severity")? {
        if let Some(s) = k.parse::<u8>().ok().and_then(Severity::from_rank) {
            by_severity.insert(s, n);
        }
    }
    let mut by_status: BTreeMap<WorkflowStatus, u64> =
        WorkflowStatus::ALL.iter().map(|s| (*s, 0)).collect();
    for (k, n) in counts(c, "status")? {
        if let Ok(s) = k.parse::<WorkflowStatus>() {
            by_status.insert(s, n);
        }
    }
    let mut stmt =
        c.prepare_cached("SELECT n FROM counters WHERE dim = 'created_day' AND key = ?1")?;
    let mut trend = Vec::with_capacity(TREND_DAYS as usize);
    for back in (0..TREND_DAYS).rev() {
        let date = today - Duration::days(back);
        let day = day_number(date);
        let n: i64 = stmt
            .query_row([day.to_string()], |r| r.get(0))
            .optional()?
            .unwrap_or(0);
        trend.push(TrendPoint {
            date,
            count: u64::try_from(n).unwrap_or(0),
        });
    }
    Ok(Summary {
        total,
        by_severity,
        by_status,
        trend,
        top_accounts: top(c, "account")?,
        top_resource_types: top(c, "resource_type")?,
    })
}
