//! How a grouping is read so that resource counters folded from appended
//! changes (resource_counts.rs) give an exact answer: fold, then read in one
//! snapshot that holds no unfolded change; if a write got in between, fold and
//! read again under the write lock, where nothing can. Groupings that read no
//! resource counter are one read.

use super::groups::{self, Budget};
use super::resource_counts;
use super::{SqliteStore, StoreResult};
use crate::store::StoreError;
use rusqlite::{Connection, TransactionBehavior};
use shared_types::{FindingFilter, FindingGroups, GroupBy};

/// The view of `filter` grouped by `by` (store/groups.rs).
pub(super) async fn groups(
    store: &SqliteStore,
    filter: &FindingFilter,
    by: GroupBy,
    limit: u32,
    budget: Budget,
) -> StoreResult<FindingGroups> {
    let counters = groups::reads_resource_counters(filter, by);
    if counters {
        // A fold that fails (the file locked by another process past the busy
        // timeout) leaves the changes to the reads below.
        if let Err(e) = store.fold_resource_counts().await {
            tracing::warn!(error = %e, "folding resource counters before a grouping failed");
        }
    }
    let f = filter.clone();
    let read = store
        .read(move |c| in_snapshot(c, &f, by, limit, budget, counters))
        .await?;
    if let Some(out) = read {
        return Ok(out);
    }
    let pool = store.pool.clone();
    let f = filter.clone();
    let locked = tokio::task::spawn_blocking(move || {
        pool.with_writer(|c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            // What is left is what got in since the fold: small.
            resource_counts::fold_all_in(&tx)?;
            let out = groups::groups(&tx, &f, by, limit, budget)?;
            tx.commit()?;
            Ok(out)
        })
    })
    .await
    .map_err(|e| StoreError::Backend(Box::new(e)))?;
    match locked {
        Ok(out) => Ok(out),
        Err(e) => {
            // Locked out: the newest rows answer, `exact` saying whether all.
            tracing::warn!(error = %e, "grouping under the write lock failed; reading rows");
            let f = filter.clone();
            let out = store
                .read(move |c| in_snapshot(c, &f, by, limit, budget, false))
                .await?;
            out.ok_or_else(|| StoreError::Backend("grouping read gave no answer".into()))
        }
    }
}

/// The grouping in one read snapshot; `None` when `require_folded` and the
/// snapshot holds changes not yet folded into the resource counters.
fn in_snapshot(
    c: &Connection,
    filter: &FindingFilter,
    by: GroupBy,
    limit: u32,
    budget: Budget,
    require_folded: bool,
) -> StoreResult<Option<FindingGroups>> {
    let tx = c.unchecked_transaction()?;
    if require_folded && resource_counts::pending(&tx)? {
        return Ok(None);
    }
    let out = groups::groups(&tx, filter, by, limit, budget)?;
    tx.commit()?;
    Ok(Some(out))
}
