//! Reading the compliance results kept per control (compliance_fold.rs) so the
//! answer holds every committed write: fold, then read in one snapshot the fold
//! has caught up with; if writes keep getting in between, fold the rest and
//! read under the write lock, where nothing can.

use super::compliance_fold::{self, verdict_code};
use super::{SqliteStore, StoreResult};
use crate::compliance::score::{Tally, Verdict};
use crate::store::control_rows::ControlRow;
use crate::store::StoreError;
use rusqlite::{params, Connection, TransactionBehavior};
use shared_types::MAX_FAILING_RESOURCES;

/// Folds a write lock may wait for at most: past this many changes the fold
/// runs in its own batches first (a rebuild would hold the lock for a minute).
const LOCKED_FOLD_CHANGES: i64 = 20_000;

/// Fold-then-read attempts before the read takes the write lock.
const SNAPSHOT_TRIES: u32 = 3;

/// Every control's row, with failing lists for the controls of `failing_of`;
/// `None` when no exact answer could be had without a long hold of the write
/// lock (writers keep the fold behind, or another process holds the lock past
/// the busy timeout): the caller then reads the findings.
pub(super) async fn control_results(
    store: &SqliteStore,
    failing_of: Option<String>,
) -> StoreResult<Option<Vec<ControlRow>>> {
    for _ in 0..SNAPSHOT_TRIES {
        // A fold that fails (the file locked by another process past the busy
        // timeout) leaves the work to the next try or to the locked read.
        if let Err(e) = store.fold_compliance().await {
            tracing::warn!(error = %e, "folding compliance results before a report failed");
        }
        let slug = failing_of.clone();
        let read = store
            .read(move |c| {
                let tx = c.unchecked_transaction()?;
                if !compliance_fold::caught_up(&tx)? {
                    return Ok(None);
                }
                let out = rows(&tx, slug.as_deref())?;
                tx.commit()?;
                Ok(Some(out))
            })
            .await?;
        if read.is_some() {
            return Ok(read);
        }
    }
    let pool = store.pool.clone();
    let locked = tokio::task::spawn_blocking(move || {
        pool.with_writer(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if !compliance_fold::within(&tx, LOCKED_FOLD_CHANGES)? {
                return Ok(None);
            }
            compliance_fold::fold_all_in(&tx)?;
            let out = rows(&tx, failing_of.as_deref())?;
            tx.commit()?;
            Ok(Some(out))
        })
    })
    .await
    .map_err(|e| StoreError::Backend(Box::new(e)))?;
    match locked {
        Err(e) if e.is_retryable() => {
            tracing::warn!(error = %e, "reading compliance results under the write lock failed");
            Ok(None)
        }
        other => other,
    }
}

/// The tallies, by slug then control id, with the failing lists of
/// `failing_of`'s failed controls.
fn rows(c: &Connection, failing_of: Option<&str>) -> StoreResult<Vec<ControlRow>> {
    let mut out: Vec<ControlRow> = c
        .prepare_cached(
            "SELECT slug, standard_name, control_id, title, failed, unknown, passed, ignored \
             FROM control_tallies ORDER BY slug, control_id",
        )?
        .query_map([], |r| {
            let n = |i: usize| -> rusqlite::Result<u32> {
                Ok(u32::try_from(r.get::<_, i64>(i)?).unwrap_or(0))
            };
            Ok(ControlRow {
                slug: r.get(0)?,
                standard_name: r.get(1)?,
                control_id: r.get(2)?,
                title: r.get(3)?,
                tally: Tally {
                    failed: n(4)?,
                    unknown: n(5)?,
                    passed: n(6)?,
                    ignored: n(7)?,
                },
                failing_resources: Vec::new(),
                failing_findings: Vec::new(),
            })
        })?
        .collect::<Result<_, _>>()?;
    let Some(slug) = failing_of else {
        return Ok(out);
    };
    // The literal verdict (0, failed) lets SQLite use the partial indexes
    // (schema.sql).
    debug_assert_eq!(verdict_code(Verdict::Fail), 0);
    let limit = MAX_FAILING_RESOURCES as i64;
    let mut resources = c.prepare_cached(
        "SELECT DISTINCT resource_id FROM control_results \
         INDEXED BY control_results_failing_resources \
         WHERE slug = ?1 AND control_id = ?2 AND verdict = 0 AND resource_id <> '' \
         ORDER BY resource_id LIMIT ?3",
    )?;
    let mut findings = c.prepare_cached(
        "SELECT finding_id FROM control_results INDEXED BY control_results_failing_findings \
         WHERE slug = ?1 AND control_id = ?2 AND verdict = 0 ORDER BY finding_id LIMIT ?3",
    )?;
    for row in out
        .iter_mut()
        .filter(|r| r.slug == slug && r.tally.failed > 0)
    {
        let args = params![slug, row.control_id, limit];
        row.failing_resources = resources
            .query_map(args, |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        row.failing_findings = findings
            .query_map(args, |r| r.get(0))?
            .collect::<Result<_, _>>()?;
    }
    Ok(out)
}
