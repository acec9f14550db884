//! One finding's upsert: what the one decision says to write over the stored head
//! ([`plan`]), and the one-finding path that reads the head, plans and writes
//! ([`upsert_once`]). Batches plan the same way ([`super::upsert_batch`]) and fall
//! back on [`upsert_once`] after a lost race.

use super::controls::{row_writes, RowWrite};
use super::counters::{counted_shard, Delta};
use super::error::{backend, ErrorKind};
use super::item::{sort_key, FindingItem, Head, LastChange};
use super::write::{put, read_head, Expect};
use super::DynamoStore;
use crate::store::change::Origin;
use crate::store::decide::{decide, Decision, Incoming};
use crate::store::UpsertOutcome;
use chrono::Utc;
use shared_types::Finding;

/// A conditional write one upsert decided on.
pub(super) struct PlannedWrite {
    /// The new item.
    pub item: FindingItem,
    /// What the write expects to find.
    pub expect: Expect,
    /// How the counters change.
    pub delta: Delta,
    /// The compliance rows it puts and deletes.
    pub rows: Vec<RowWrite>,
    /// What to report once it is written.
    pub outcome: UpsertOutcome,
}

/// What upserting `f` over the stored `head` does, as the one decision says.
pub(super) enum Plan {
    /// Nothing to write.
    Done(UpsertOutcome),
    /// One conditional write.
    Write(Box<PlannedWrite>),
}

/// Decides what upserting `f` over the stored `head` (`None`: absent) writes.
pub(super) fn plan(
    store: &DynamoStore,
    f: &Finding,
    head: Option<&Head>,
    origin: Origin,
) -> Result<Plan, ErrorKind> {
    let expires = store.expires_at(f.updated_at);
    let change = |kind| LastChange {
        kind,
        at: Utc::now(),
        actor: None,
        note: None,
        quiet: origin.is_quiet(),
    };
    let view = head.map(Head::decision_view);
    let incoming = Incoming::from(f);
    let (w, head) = match (decide(view.as_ref(), &incoming), head) {
        (Decision::Unchanged, _) => return Ok(Plan::Done(UpsertOutcome::Unchanged)),
        (Decision::SkippedOlder, _) => return Ok(Plan::Done(UpsertOutcome::SkippedOlder)),
        (Decision::Insert(w), _) => (w, None),
        (Decision::Replace(w), Some(head)) => (w, Some(head)),
        (Decision::Replace(_), None) => {
            return Err(ErrorKind::Fatal("replacing a missing item".into()))
        }
    };
    let mut item = FindingItem::new(
        f,
        &w.recorded(),
        expires,
        head.map(|h| h.audit.clone()).unwrap_or_default(),
        change(w.kind),
        Some(incoming.amendment),
    )
    .map_err(backend)?;
    // A stored finding stays in its shard, whatever its resource now is.
    if let Some(h) = head {
        item.counter_shard = Some(counted_shard(&f.id, h.counter_shard));
    }
    let before = head.map(Head::counted);
    let after = item.counted();
    let delta = Delta::between(before.as_ref(), Some(&after));
    let rows = row_writes(&f.id, before.map(|b| b.results), Some(after.results));
    let planned = match head {
        None => PlannedWrite {
            delta,
            rows,
            item,
            expect: Expect::Absent,
            outcome: UpsertOutcome::Inserted,
        },
        Some(head) => PlannedWrite {
            delta,
            rows,
            item,
            expect: Expect::Rev {
                rev: head.rev,
                not_newer_than: Some(sort_key(f.updated_at)),
            },
            outcome: UpsertOutcome::Updated {
                previous_severity: head.severity,
                previous_status: head.workflow_status,
                kind: w.kind,
            },
        },
    };
    Ok(Plan::Write(Box::new(planned)))
}

/// One attempt at upserting one finding: read its head, decide, write.
pub(super) async fn upsert_once(
    store: &DynamoStore,
    f: &Finding,
    origin: Origin,
) -> Result<UpsertOutcome, ErrorKind> {
    let head = read_head(store, &f.id).await?;
    match plan(store, f, head.as_ref(), origin)? {
        Plan::Done(outcome) => Ok(outcome),
        Plan::Write(w) => {
            put(store, &w.item, &w.expect, &w.delta, &w.rows).await?;
            Ok(w.outcome)
        }
    }
}
