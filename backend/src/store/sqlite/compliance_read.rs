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
    folded_read(store, move |c| rows(c, failing_of.as_deref())).await
}

/// A page of the ids of the findings failing one control (`Store::
/// failing_findings`), under the same terms as [`control_results`].
pub(super) async fn failing_findings(
    store: &SqliteStore,
    page: FailingPage,
) -> StoreResult<Option<Vec<String>>> {
    folded_read(store, move |c| failing_page(c, &page)).await
}

/// Which failing findings of which control to read.
#[derive(Debug, Clone)]
pub(super) struct FailingPage {
    pub slug: String,
    pub control_id: String,
    pub after: Option<String>,
    pub limit: usize,
}

/// `read` on results folded up to every committed write: fold, then read in
/// one snapshot the fold has caught up with; if writes keep getting in
/// between, fold the rest and read under the write lock.
async fn folded_read<T, F>(store: &SqliteStore, read: F) -> StoreResult<Option<T>>
where
    T: Send + 'static,
    F: Fn(&Connection) -> StoreResult<T> + Clone + Send + Sync + 'static,
{
    for _ in 0..SNAPSHOT_TRIES {
        // A fold the file's lock kept out (another process past the busy
        // timeout) leaves the work to the next try or to the locked read. A
        // rebuild (a file never folded, a trimmed feed) is waited for: about
        // 40 s at 1M findings, once, where a read of every finding is 20 s on
        // every request until it is done.
        match store.fold_compliance().await {
            Err(e) if e.is_retryable() => {
                tracing::warn!(error = %e, "folding compliance results before a report failed");
            }
            other => {
                other?;
            }
        }
        let read = read.clone();
        let answer = store
            .read(move |c| {
                let tx = c.unchecked_transaction()?;
                if !compliance_fold::caught_up(&tx)? {
                    return Ok(None);
                }
                let out = read(&tx)?;
                tx.commit()?;
                Ok(Some(out))
            })
            .await?;
        if answer.is_some() {
            return Ok(answer);
        }
    }
    let pool = store.pool.clone();
    let locked = tokio::task::spawn_blocking(move || pool.with_writer(|c| read_locked(c, &read)))
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

/// Folds what is left and reads under the write lock, where no write can get
/// in; `None` when more than [`LOCKED_FOLD_CHANGES`] changes are left or the
/// fold needs a rebuild, neither of which a reader holds the lock for.
fn read_locked<T>(
    c: &mut Connection,
    read: impl Fn(&Connection) -> StoreResult<T>,
) -> StoreResult<Option<T>> {
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if !compliance_fold::within(&tx, LOCKED_FOLD_CHANGES)? {
        return Ok(None);
    }
    let folded = compliance_fold::fold_changes_in(&tx)?;
    let out = folded.then(|| read(&tx)).transpose()?;
    // A rebuild the fold found it needs is kept for the next folds to do.
    tx.commit()?;
    Ok(out)
}

/// The failing findings' ids of one control after `page.after`, smallest first.
fn failing_page(c: &Connection, page: &FailingPage) -> StoreResult<Vec<String>> {
    debug_assert_eq!(verdict_code(Verdict::Fail), 0);
    let limit = i64::try_from(page.limit).unwrap_or(i64::MAX);
    // "" sorts before every id, so no `after` reads from the start.
    let after = page.after.as_deref().unwrap_or("");
    let mut findings = c.prepare_cached(
        "SELECT finding_id FROM control_results INDEXED BY control_results_failing_findings \
         WHERE slug = ?1 AND control_id = ?2 AND verdict = 0 AND finding_id > ?3 \
         ORDER BY finding_id LIMIT ?4",
    )?;
    let ids = findings
        .query_map(params![page.slug, page.control_id, after, limit], |r| {
            r.get(0)
        })?
        .collect::<Result<_, _>>()?;
    Ok(ids)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    async fn store_with(n: usize) -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open_dir(dir.path()).unwrap();
        let anchor = "2026-06-01T00:00:00Z".parse().unwrap();
        let all: Vec<_> = crate::demo::generate(n, anchor, 5).collect();
        store.upsert(&all).await.unwrap();
        (dir, store)
    }

    fn locked(store: &SqliteStore) -> Option<Vec<ControlRow>> {
        store
            .pool
            .with_writer(|c| read_locked(c, |c| rows(c, Some("aws-fsbp"))))
            .unwrap()
    }

    /// The control rows the snapshot path answers, for comparison.
    async fn answered(store: &SqliteStore) -> Vec<ControlRow> {
        control_results(store, Some("aws-fsbp".into()))
            .await
            .unwrap()
            .unwrap()
    }

    #[tokio::test]
    async fn the_locked_read_folds_what_is_left_and_answers_as_a_snapshot_would() {
        let (_dir, store) = store_with(300).await;
        store.fold_compliance().await.unwrap();
        // New versions nobody folded: the locked read folds them itself.
        let later = "2026-07-01T00:00:00Z".parse().unwrap();
        let mut again: Vec<_> = crate::demo::generate(40, later, 5).collect();
        for f in &mut again {
            f.compliance_status = Some("PASSED".into());
        }
        store.upsert(&again).await.unwrap();
        let got = locked(&store).expect("a few changes are folded under the lock");
        let caught_up = store.read(compliance_fold::caught_up).await.unwrap();
        assert!(caught_up);
        assert_eq!(got, answered(&store).await);
        assert!(
            got.iter().any(|r| r.tally.passed > 0),
            "the new versions count"
        );
    }

    #[tokio::test]
    async fn the_locked_read_never_runs_a_rebuild() {
        // Never folded: a rebuild is needed, so the locked read declines.
        let (_dir, store) = store_with(120).await;
        assert!(locked(&store).is_none());
        store.fold_compliance().await.unwrap();
        // A change trimmed behind the fold's back (as a version without the
        // trim hook does): the locked read finds the hole, leaves the rebuild
        // it starts to the next fold, and declines.
        let later = "2026-07-01T00:00:00Z".parse().unwrap();
        let again: Vec<_> = crate::demo::generate(5, later, 5).collect();
        store.upsert(&again).await.unwrap();
        store
            .pool
            .with_writer(|c| Ok(c.execute("DELETE FROM changes", [])?))
            .unwrap();
        assert!(locked(&store).is_none());
        let rebuilding = store
            .read(|c| {
                Ok(
                    c.query_row("SELECT rebuild_head FROM compliance_fold", [], |r| {
                        r.get::<_, Option<i64>>(0)
                    })?,
                )
            })
            .await
            .unwrap();
        assert!(
            rebuilding.is_some(),
            "the rebuild is kept for the next fold"
        );
        let rows = answered(&store).await;
        let report = crate::compliance::report::Report::from_rows(rows);
        // One page holds them all (not compliance::daily, which uses the store).
        let all = store
            .list_findings(&Default::default(), 1000, None)
            .await
            .unwrap();
        assert!(all.next_cursor.is_none());
        let read = crate::compliance::report::Report::of(&all.findings);
        assert_eq!(report.scores(), read.scores());
        assert_eq!(report.detail("aws-fsbp"), read.detail("aws-fsbp"));
    }
}
