//! Batched upserts: what a batch costs the client and the table.
//!
//! The one-finding path makes two requests per finding (a consistent read of the
//! stored head, then a conditional write — a two-item transaction whenever a
//! counter moves). A batch instead, round by round (a round holds each id once):
//! 1. reads the stored heads of the round, [`READ_BATCH`] findings per consistent
//!    `BatchGetItem`, and decides each finding with the one decision; unchanged
//!    and older findings cost nothing more;
//! 2. writes the findings whose counters or compliance rows move together with the
//!    other findings of their counter shard: one `TransactWriteItems` holds up to
//!    [`TX_PUTS`] conditional puts with their failing rows and the shard's counter
//!    updates carrying their summed change (one on its summary item, one on each
//!    view, control and generator part touched, one on each resource's item),
//!    [`TX_ACTIONS`] in all. Keeping
//!    a transaction to one shard means two writers' transactions only conflict when
//!    they touch the same shard, as with one finding at a time;
//! 3. writes a finding whose counters do not move with a conditional `PutItem`
//!    (a transaction would cost twice the write units).
//!
//! The guarantees are the one-finding path's: every put is conditioned on the head
//! it was decided on, and a transaction is all or nothing, so a lost race leaves
//! nothing half-written; the findings of a write that lost a race, or that DynamoDB
//! rejected, go through the one-finding path (re-read, decide again), alone, so one
//! bad item fails only itself. Throttling backs off; a write still throttled after
//! the retries is reported as failed and retryable for each finding it held.

use super::counters::Delta;
use super::error::ErrorKind;
use super::item::{Head, HEAD_PROJECTION};
use super::tx_actions::{counter_updates, row_actions};
use super::upsert_one::{plan, upsert_once, Plan, PlannedWrite};
use super::write::{put, put_action, transact, with_retries, Failure};
use super::DynamoStore;
use crate::retry::retry;
use crate::store::change::Origin;
use crate::store::{FailedWrite, StoreError, StoreResult, UpsertOutcome, UpsertReport};
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use futures::{stream, StreamExt};
use lanes::lanes;
use serde_dynamo::aws_sdk_dynamodb_1::from_item;
use shared_types::Finding;
use std::collections::{BTreeMap, HashMap};

/// Keys one `BatchGetItem` may read (DynamoDB's limit).
const READ_BATCH: usize = 100;
/// Conditional puts in one transaction (a smaller transaction loses less to
/// one conflict; [`TX_WRITES`] bounds its actions).
const TX_PUTS: usize = 50;
/// Actions in one transaction (DynamoDB's limit): its puts, their row writes
/// and the counter and resource item updates of their summed change.
const TX_ACTIONS: usize = 100;
/// Estimated item bytes in one transaction (DynamoDB allows 4 MB in all).
const TX_BYTES: usize = 3 << 20;
/// `BatchGetItem` calls of a round in flight at once.
const READS_IN_FLIGHT: usize = 4;

/// The stored heads of a read batch, by id.
type Heads = StoreResult<HashMap<String, Head>>;

/// What happened to the finding at an input index.
type Done = (usize, Result<UpsertOutcome, Failure>);

/// Upserts a batch; outcomes come back in input order.
pub(super) async fn upsert_all(
    store: &DynamoStore,
    findings: &[Finding],
    origin: Origin,
) -> StoreResult<UpsertReport> {
    let mut results: Vec<Option<Result<UpsertOutcome, Failure>>> = vec![None; findings.len()];
    let mut valid = Vec::with_capacity(findings.len());
    for (i, f) in findings.iter().enumerate() {
        if f.id.is_empty() || f.id.starts_with('#') {
            results[i] = Some(Err(("invalid finding id".to_string(), false)));
        } else {
            valid.push(i);
        }
    }
    // Rounds one after another: a later version of a finding is decided on what
    // the earlier one wrote.
    for round in rounds(findings, &valid) {
        for (i, r) in upsert_round(store, findings, &round, origin).await {
            results[i] = Some(r);
        }
    }
    let mut report = UpsertReport::default();
    for (f, r) in findings.iter().zip(results) {
        let id = f.id.clone();
        match r.unwrap_or_else(|| Err(("not attempted".to_string(), true))) {
            Ok(outcome) => report.outcomes.push((id, outcome)),
            Err((reason, retryable)) => {
                tracing::warn!(finding = %id, %reason, retryable, "finding not written");
                report.failed.push(FailedWrite {
                    id,
                    reason,
                    retryable,
                });
            }
        }
    }
    Ok(report)
}

/// Splits `indices` into rounds of distinct ids (a transaction may not name one
/// item twice): round k holds the k-th version of each finding, in input order,
/// so versions of one finding are decided in input order and a batch with one
/// finding repeated still writes the others in one round.
fn rounds(findings: &[Finding], indices: &[usize]) -> Vec<Vec<usize>> {
    let mut rounds: Vec<Vec<usize>> = Vec::new();
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for &i in indices {
        let k = seen.entry(findings[i].id.as_str()).or_insert(0);
        if rounds.len() == *k {
            rounds.push(Vec::new());
        }
        rounds[*k].push(i);
        *k += 1;
    }
    rounds
}

/// Reads the heads of one round, decides each finding, writes what changed.
async fn upsert_round(
    store: &DynamoStore,
    findings: &[Finding],
    round: &[usize],
    origin: Origin,
) -> Vec<Done> {
    let reads: Vec<(Vec<usize>, Heads)> =
        // Owned chunks: a closure over borrowed ones makes the future's lifetime
        // higher-ranked, which `async_trait`'s `Send` bound rejects.
        stream::iter(round.chunks(READ_BATCH).map(<[usize]>::to_vec).collect::<Vec<_>>())
            .map(|batch| async move {
                let ids: Vec<String> = batch.iter().map(|&i| findings[i].id.clone()).collect();
                let heads = read_heads(store, &ids).await;
                (batch, heads)
            })
            .buffered(READS_IN_FLIGHT.min(store.settings.concurrency).max(1))
            .collect()
            .await;
    let mut done = Vec::with_capacity(round.len());
    let mut singles: Vec<Vec<(usize, PlannedWrite)>> = Vec::new();
    let mut by_shard: BTreeMap<u8, Vec<(usize, PlannedWrite)>> = BTreeMap::new();
    for (batch, heads) in reads {
        let heads = match heads {
            Ok(heads) => heads,
            Err(StoreError::Unavailable(reason)) => {
                done.extend(batch.into_iter().map(|i| (i, Err((reason.clone(), true)))));
                continue;
            }
            // A head that does not decode fails only its own finding on the one-by-one path.
            Err(_) => {
                let in_flight = store.settings.concurrency;
                done.extend(one_by_one(store, findings, &batch, origin, in_flight).await);
                continue;
            }
        };
        for i in batch {
            let f = &findings[i];
            match plan(store, f, heads.get(&f.id), origin) {
                Ok(Plan::Done(outcome)) => done.push((i, Ok(outcome))),
                Ok(Plan::Write(w)) if w.delta.is_empty() && w.rows.is_empty() => {
                    singles.push(vec![(i, *w)])
                }
                Ok(Plan::Write(w)) => by_shard.entry(w.item.shard()).or_default().push((i, *w)),
                Err(e) => done.push((i, Err(failure(e, store)))),
            }
        }
    }
    // One lane per shard commits that shard's transactions one after another:
    // transactions on one counter item at the same time would cancel each other
    // (`TransactionConflict`). Lanes start at a random shard so that two writers
    // do not walk the shards in step.
    let mut lanes = lanes(by_shard);
    if !lanes.is_empty() {
        let start = (random_u64() % lanes.len() as u64) as usize;
        lanes.rotate_left(start);
    }
    let lanes = singles.into_iter().map(|one| vec![one]).chain(lanes);
    let written: Vec<Vec<Done>> = stream::iter(lanes)
        .map(|lane| async move {
            let mut out = Vec::new();
            for group in lane {
                out.extend(commit(store, findings, group, origin).await);
            }
            out
        })
        .buffer_unordered(store.settings.concurrency.max(1))
        .collect()
        .await;
    done.extend(written.into_iter().flatten());
    done
}

/// A random number from the standard library's randomly keyed hasher (no RNG
/// dependency for a lane rotation and a request token).
fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    h.write_u64(now);
    h.finish()
}

/// The stored heads of `ids` that exist, by id.
async fn read_heads(store: &DynamoStore, ids: &[String]) -> Heads {
    let mut heads = HashMap::with_capacity(ids.len());
    for mut item in store.batch_get_items(ids, Some(&HEAD_PROJECTION)).await? {
        let id = match item.remove("id") {
            Some(AttributeValue::S(id)) => id,
            _ => return Err(super::corrupt("?", "stored item without a string id")),
        };
        let head: Head = from_item(item).map_err(|e| super::corrupt(&id, e))?;
        heads.insert(id, head);
    }
    Ok(heads)
}

/// Splits one shard's writes into transactions within DynamoDB's limits. The
/// actions are counted exactly — the counter and resource items the summed
/// change of the transaction's writes updates, as [`write_group`] builds it —
/// rather than reserving room for every counter part: writes that share items
/// fill a transaction up to its [`TX_PUTS`].
fn transactions(writes: Vec<(usize, PlannedWrite)>) -> Vec<Vec<(usize, PlannedWrite)>> {
    let mut out = Vec::new();
    let mut tx: Vec<(usize, PlannedWrite)> = Vec::new();
    let (mut bytes, mut rows) = (0, 0);
    let mut sum = Delta::default();
    for (i, w) in writes {
        let size = estimated_size(&w);
        let mut with = sum.clone();
        with.add(&w.delta);
        let actions = tx.len() + 1 + rows + w.rows.len() + with.items();
        if !tx.is_empty()
            && (tx.len() == TX_PUTS || bytes + size > TX_BYTES || actions > TX_ACTIONS)
        {
            out.push(std::mem::take(&mut tx));
            (bytes, rows) = (0, 0);
            with = w.delta.clone();
        }
        bytes += size;
        rows += w.rows.len();
        sum = with;
        tx.push((i, w));
    }
    if !tx.is_empty() {
        out.push(tx);
    }
    out
}

/// An upper bound of an item's size as DynamoDB counts it: the document and the
/// search text dominate; the other attributes (names included) stay under 4 KB
/// besides the audit trail.
fn estimated_size(w: &PlannedWrite) -> usize {
    let audit: usize = w
        .item
        .audit
        .iter()
        .map(|a| 256 + a.actor.len() + a.note.as_deref().map_or(0, str::len))
        .sum();
    w.item.doc_len() + w.item.search.len() + audit + 4096
}

/// Writes one group — a single put, or one shard's transaction — with backoff on
/// throttling. A group that lost a race or was rejected goes one finding at a time.
async fn commit(
    store: &DynamoStore,
    findings: &[Finding],
    group: Vec<(usize, PlannedWrite)>,
    origin: Origin,
) -> Vec<Done> {
    let transient = |e: &ErrorKind| matches!(e, ErrorKind::Retryable(_));
    // One idempotency token for every try: a transaction that committed but whose
    // answer was lost is then acknowledged by DynamoDB on the retry (its findings
    // reported as written) instead of failing its own conditions.
    let token = format!("{:016x}{:016x}", random_u64(), random_u64());
    let r = retry(&store.settings.backoff, transient, || {
        write_group(store, &group, &token)
    })
    .await;
    match r {
        Ok(()) => group.into_iter().map(|(i, w)| (i, Ok(w.outcome))).collect(),
        Err(ErrorKind::Retryable(reason)) => {
            let failure = failure(ErrorKind::Retryable(reason), store);
            group
                .into_iter()
                .map(|(i, _)| (i, Err(failure.clone())))
                .collect()
        }
        Err(ErrorKind::Fatal(reason)) if group.len() == 1 => {
            vec![(group[0].0, Err((reason, false)))]
        }
        Err(ErrorKind::ConditionFailed | ErrorKind::Fatal(_)) => {
            let indices: Vec<usize> = group.iter().map(|(i, _)| *i).collect();
            // One at a time: this runs inside one of the lanes already in flight.
            one_by_one(store, findings, &indices, origin, 1).await
        }
    }
}

/// One try at writing a group.
async fn write_group(
    store: &DynamoStore,
    group: &[(usize, PlannedWrite)],
    token: &str,
) -> Result<(), ErrorKind> {
    if let [(_, w)] = group {
        return put(store, &w.item, &w.expect, &w.delta, &w.rows).await;
    }
    let mut delta = Delta::default();
    let mut actions = Vec::with_capacity(group.len() + 1);
    for (_, w) in group {
        delta.add(&w.delta);
        actions.push(
            TransactWriteItem::builder()
                .put(put_action(store, &w.item, &w.expect)?)
                .build(),
        );
        actions.extend(row_actions(store, &w.rows)?);
    }
    // Every finding of the group is in one shard.
    actions.extend(counter_updates(store, group[0].1.item.shard(), &delta)?);
    transact(store, actions, Some(token)).await
}

/// The one-finding path for each of `indices`, `in_flight` at a time: read,
/// decide, write, with retries.
async fn one_by_one(
    store: &DynamoStore,
    findings: &[Finding],
    indices: &[usize],
    origin: Origin,
    in_flight: usize,
) -> Vec<Done> {
    stream::iter(indices.iter().copied())
        .map(|i| async move {
            let f = &findings[i];
            (
                i,
                with_retries(store, || upsert_once(store, f, origin)).await,
            )
        })
        .buffered(in_flight.max(1))
        .collect()
        .await
}

/// How a write error is reported for each finding it held.
fn failure(e: ErrorKind, store: &DynamoStore) -> Failure {
    match e {
        ErrorKind::Retryable(reason) => (
            format!(
                "gave up after {} attempts: {reason}",
                store.settings.backoff.max_attempts
            ),
            true,
        ),
        ErrorKind::ConditionFailed => ("too many concurrent writes to this finding".into(), true),
        ErrorKind::Fatal(reason) => (reason, false),
    }
}

/// Which shards' transactions run in one lane.
mod lanes;

#[cfg(test)]
mod tests;
