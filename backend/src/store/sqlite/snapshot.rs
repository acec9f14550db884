//! Daily compliance snapshots in the `compliance_daily` table.

use super::counters::day_number;
use super::error::corrupt;
use super::StoreResult;
use crate::store::ScoreSnapshot;
use chrono::{Duration, NaiveDate};
use rusqlite::{params, Connection, TransactionBehavior};

/// Writes `scores` as `day`'s snapshot in place of the day's rows (in one
/// transaction, so a reader sees one snapshot or the other, never a mix); no
/// scores remove the day's. Returns whether a row was written or removed.
pub(super) fn put(
    c: &mut Connection,
    day: NaiveDate,
    scores: &[ScoreSnapshot],
) -> StoreResult<bool> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let d = day_number(day);
    let removed = tx.execute("DELETE FROM compliance_daily WHERE day = ?1", [d])?;
    if scores.is_empty() {
        tx.commit()?;
        return Ok(removed > 0);
    }
    {
        let mut insert = tx.prepare_cached(
            "INSERT OR REPLACE INTO compliance_daily (day, slug, score, passed, failed, unknown)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for s in scores {
            insert.execute(params![d, s.slug, s.score, s.passed, s.failed, s.unknown])?;
        }
    }
    tx.commit()?;
    Ok(true)
}

/// The snapshots of `from..=to`, oldest day first, then by slug.
pub(super) fn range(
    c: &Connection,
    from: NaiveDate,
    to: NaiveDate,
) -> StoreResult<Vec<ScoreSnapshot>> {
    let mut stmt = c.prepare_cached(
        "SELECT day, slug, score, passed, failed, unknown FROM compliance_daily
         WHERE day BETWEEN ?1 AND ?2 ORDER BY day, slug",
    )?;
    let rows = stmt.query_map([day_number(from), day_number(to)], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<u8>>(2)?,
            r.get::<_, u32>(3)?,
            r.get::<_, u32>(4)?,
            r.get::<_, u32>(5)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (day, slug, score, passed, failed, unknown) = row?;
        let date = NaiveDate::default()
            .checked_add_signed(Duration::days(day))
            .ok_or_else(|| corrupt(&format!("compliance_daily/{day}"), "day out of range"))?;
        out.push(ScoreSnapshot {
            date,
            slug,
            score,
            passed,
            failed,
            unknown,
        });
    }
    Ok(out)
}
