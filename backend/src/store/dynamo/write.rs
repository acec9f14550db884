//! The write paths. Each one reads the stored version, decides, then writes with a
//! condition on the revision it read; counters change in the same transaction.
//! A lost race (condition failed) re-reads; throttling backs off; whatever still
//! fails is reported per finding, never dropped. Upserts of a batch go through
//! [`super::upsert_batch`], which falls back on the one-finding path here.

use super::controls::{row_writes, RowWrite};
use super::counters::{counted_shard, Delta};
use super::error::{backend, Call, ErrorKind};
use super::item::{projection, FindingItem, Head, LastChange, HEAD_PROJECTION};
use super::tx_actions::{counter_updates, row_actions, Names, Values};
use super::{corrupt, DynamoStore};
use crate::retry::retry;
use crate::store::decide::decide_workflow;
use crate::store::guard::{still_matches, Guarded};
use crate::store::{DeleteReport, FailedWrite, FindingVersion, StoreError, StoreResult};
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};
use chrono::{DateTime, Utc};
use futures::{stream, StreamExt};
use serde_dynamo::aws_sdk_dynamodb_1::{from_item, to_attribute_value};
use shared_types::{AuditEntry, Finding, FindingFilter, WorkflowUpdate};
use std::sync::atomic::{AtomicU32, Ordering};

/// Lost races tolerated for one finding before it is reported as failed (retryable).
const MAX_CONFLICTS: u32 = 20;

/// What a conditional write expects to find.
pub(super) enum Expect {
    /// No item with this id.
    Absent,
    /// The item at this revision (and, for upserts, not newer than the incoming key).
    Rev {
        rev: u64,
        not_newer_than: Option<String>,
    },
}

/// Why a write finally failed, and whether retrying later may help.
pub(super) type Failure = (String, bool);

fn condition(expect: &Expect) -> Result<(String, Names, Values), ErrorKind> {
    let mut names = Names::new();
    let mut values = Values::new();
    // DynamoDB rejects placeholders an expression does not use: add each with its use.
    let expr = match expect {
        Expect::Absent => {
            names.insert("#id".into(), "id".into());
            "attribute_not_exists(#id)".to_string()
        }
        Expect::Rev {
            rev,
            not_newer_than,
        } => {
            names.insert("#rev".into(), "rev".into());
            values.insert(":rev".into(), to_attribute_value(rev).map_err(backend)?);
            match not_newer_than {
                Some(u) => {
                    names.insert("#upd".into(), "updated_at".into());
                    values.insert(":upd".into(), to_attribute_value(u).map_err(backend)?);
                    "#rev = :rev AND #upd <= :upd".to_string()
                }
                None => "#rev = :rev".to_string(),
            }
        }
    };
    Ok((expr, names, values))
}

/// The transaction action writing `item` if the stored state matches `expect`.
pub(super) fn put_action(
    store: &DynamoStore,
    item: &FindingItem,
    expect: &Expect,
) -> Result<Put, ErrorKind> {
    let (cond, names, values) = condition(expect)?;
    Put::builder()
        .table_name(store.table())
        .set_item(Some(item.attributes().map_err(backend)?))
        .condition_expression(cond)
        .set_expression_attribute_names(Some(names))
        .set_expression_attribute_values((!values.is_empty()).then_some(values))
        .build()
        .map_err(backend)
}

/// Writes `item` if the stored state matches `expect`, adjusting counters and
/// compliance rows atomically (a plain conditional PutItem when neither
/// changes: half the write units). This is the one-finding path: its
/// transaction holds the put, at most three counter updates (the summary item,
/// the view parts of the old and the new combination), and per standard the
/// finding is a control result in at most two control parts and four rows.
pub(super) async fn put(
    store: &DynamoStore,
    item: &FindingItem,
    expect: &Expect,
    delta: &Delta,
    rows: &[RowWrite],
) -> Result<(), ErrorKind> {
    if delta.is_empty() && rows.is_empty() {
        let (cond, names, values) = condition(expect)?;
        let r = store
            .client
            .put_item()
            .table_name(store.table())
            .set_item(Some(item.attributes().map_err(backend)?))
            .condition_expression(cond)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values((!values.is_empty()).then_some(values))
            .send()
            .await;
        return r
            .map(|_| ())
            .map_err(|e| Call::new("PutItem", store.table()).classify(&e, &[]));
    }
    let mut actions = vec![TransactWriteItem::builder()
        .put(put_action(store, item, expect)?)
        .build()];
    actions.extend(counter_updates(store, item.shard(), delta)?);
    actions.extend(row_actions(store, rows)?);
    transact(store, actions, None).await
}

/// Runs one transaction; a `token` makes its retries idempotent (DynamoDB applies
/// a token's transaction once within 10 minutes and acknowledges repeats).
pub(super) async fn transact(
    store: &DynamoStore,
    items: Vec<TransactWriteItem>,
    token: Option<&str>,
) -> Result<(), ErrorKind> {
    let r = store
        .client
        .transact_write_items()
        .set_transact_items(Some(items))
        .set_client_request_token(token.map(str::to_owned))
        .send()
        .await;
    r.map(|_| ()).map_err(|e| {
        Call::new("TransactWriteItems", store.table()).classify(
            &e,
            &crate::aws::item::cancellation_reasons(&e).unwrap_or_default(),
        )
    })
}

/// Reads what an upsert or delete needs (consistent; the document is not read).
pub(super) async fn read_head(store: &DynamoStore, id: &str) -> Result<Option<Head>, ErrorKind> {
    let key = DynamoStore::id_key(id).map_err(|e| ErrorKind::Fatal(e.to_string()))?;
    let (expr, names) = projection(&HEAD_PROJECTION);
    let r = store
        .client
        .get_item()
        .table_name(store.table())
        .set_key(Some(key))
        .consistent_read(true)
        .projection_expression(expr)
        .set_expression_attribute_names(Some(names))
        .send()
        .await
        .map_err(|e| Call::new("GetItem", store.table()).classify(&e, &[]))?;
    match r.item {
        Some(item) => from_item(item)
            .map(Some)
            .map_err(|e| ErrorKind::Fatal(format!("corrupt stored record {id}: {e}"))),
        None => Ok(None),
    }
}

/// Runs `op` until it succeeds: after transient errors with [`crate::retry`]'s
/// backoff, after lost races at once (nothing is wrong with the table; the op reads
/// again and decides again), at most [`MAX_CONFLICTS`] races in all. `Err` carries
/// the reason and whether a retry may help.
pub(super) async fn with_retries<T, F, Fut>(store: &DynamoStore, op: F) -> Result<T, Failure>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, ErrorKind>>,
{
    let backoff = store.settings.backoff;
    let conflicts = AtomicU32::new(0);
    let (op, conflicts) = (&op, &conflicts);
    let transient = |e: &ErrorKind| matches!(e, ErrorKind::Retryable(_));
    let r = retry(&backoff, transient, move || async move {
        loop {
            match op().await {
                Err(ErrorKind::ConditionFailed)
                    if conflicts.fetch_add(1, Ordering::Relaxed) + 1 < MAX_CONFLICTS =>
                {
                    continue
                }
                Err(ErrorKind::Retryable(reason)) => {
                    tracing::debug!(%reason, "dynamodb call throttled or failed");
                    return Err(ErrorKind::Retryable(reason));
                }
                other => return other,
            }
        }
    })
    .await;
    match r {
        Ok(v) => Ok(v),
        Err(ErrorKind::ConditionFailed) => {
            Err(("too many concurrent writes to this finding".into(), true))
        }
        Err(ErrorKind::Retryable(reason)) => Err((
            format!("gave up after {} attempts: {reason}", backoff.max_attempts),
            true,
        )),
        Err(ErrorKind::Fatal(reason)) => Err((reason, false)),
    }
}

/// Sets a person's workflow status and appends to the audit trail, in one
/// conditional write. The record gets its next revision; the provider's
/// `updated_at` (and so the GSI sort key) stays.
///
/// With a `guard`, only while the stored finding still matches it: the check
/// reads the item the write is conditioned on (its revision), so a change that
/// lands in between fails the condition and the retry checks again.
pub(super) async fn set_workflow(
    store: &DynamoStore,
    id: &str,
    update: &WorkflowUpdate,
    actor: &str,
    at: DateTime<Utc>,
    guard: Option<&FindingFilter>,
) -> StoreResult<Guarded> {
    let once = || async {
        let Some(old) = store
            .get_item(id)
            .await
            .map_err(|e| ErrorKind::Fatal(e.to_string()))?
        else {
            return Ok(Tried::Left(Guarded::Unknown));
        };
        let finding = old.finding().map_err(backend)?;
        if let Some(g) = guard {
            // The item's status is the authoritative one.
            let current = Finding {
                workflow_status: old.workflow_status,
                ..finding.clone()
            };
            if !still_matches(g, &current) {
                let done = old.workflow_status == update.workflow_status && old.status_by_analyst;
                return Ok(Tried::Left(if done {
                    Guarded::AlreadySet
                } else {
                    Guarded::NoLongerMatches
                }));
            }
        }
        let w = decide_workflow(old.rev, update.workflow_status);
        let mut audit = old.audit.clone();
        audit.push(AuditEntry {
            at,
            actor: actor.to_string(),
            from_status: old.workflow_status,
            to_status: update.workflow_status,
            note: update.note.clone(),
        });
        let expires = store.expires_at(finding.updated_at).max(old.expires_at);
        let mut new = FindingItem::new(
            &finding,
            &w.recorded(),
            expires,
            audit,
            LastChange {
                kind: w.kind,
                at,
                actor: Some(actor.to_string()),
                note: update.note.clone(),
                quiet: false,
            },
            old.amend_mark,
        )
        .map_err(backend)?;
        new.counter_shard = Some(old.shard());
        let (before, after) = (old.counted(), new.counted());
        let mut delta = Delta::between(Some(&before), Some(&after));
        // The provider's time did not move: a resource's `moved_at` stays.
        for change in delta.resources.0.values_mut() {
            change.moved_at = None;
        }
        let rows = row_writes(id, Some(before.results), Some(after.results));
        put(
            store,
            &new,
            &Expect::Rev {
                rev: old.rev,
                not_newer_than: None,
            },
            &delta,
            &rows,
        )
        .await?;
        Ok(Tried::Written(Box::new(new)))
    };
    match with_retries(store, once).await {
        Ok(Tried::Written(item)) => item
            .detail()
            .map(|d| Guarded::Changed(Box::new(d)))
            .map_err(|e| corrupt(id, e)),
        Ok(Tried::Left(outcome)) => Ok(outcome),
        Err((reason, true)) => Err(StoreError::Unavailable(reason)),
        Err((reason, false)) => Err(StoreError::Backend(reason.into())),
    }
}

/// What one try of a person's workflow change did.
enum Tried {
    /// The item as written.
    Written(Box<FindingItem>),
    /// Nothing written: unknown id, or the guard refused it.
    Left(Guarded),
}

/// Outcome of one conditional delete.
enum Deleted {
    Yes,
    Kept,
}

async fn delete_once(store: &DynamoStore, v: &FindingVersion) -> Result<Deleted, ErrorKind> {
    let Some(head) = read_head(store, &v.id).await? else {
        return Ok(Deleted::Kept);
    };
    if !v.matches(head.updated_exact, head.rev) {
        return Ok(Deleted::Kept);
    }
    let (cond, names, values) = condition(&Expect::Rev {
        rev: head.rev,
        not_newer_than: None,
    })?;
    let del = Delete::builder()
        .table_name(store.table())
        .set_key(Some(
            DynamoStore::id_key(&v.id).map_err(|e| ErrorKind::Fatal(e.to_string()))?,
        ))
        .condition_expression(cond)
        .set_expression_attribute_names(Some(names))
        .set_expression_attribute_values(Some(values))
        .build()
        .map_err(backend)?;
    let before = head.counted();
    let delta = Delta::between(Some(&before), None);
    let mut actions = vec![TransactWriteItem::builder().delete(del).build()];
    actions.extend(counter_updates(
        store,
        counted_shard(&v.id, head.counter_shard),
        &delta,
    )?);
    actions.extend(row_actions(
        store,
        &row_writes(&v.id, Some(before.results), None),
    )?);
    transact(store, actions, None).await?;
    Ok(Deleted::Yes)
}

/// Deletes each version only if it is still the stored one.
pub(super) async fn delete_all(
    store: &DynamoStore,
    versions: &[FindingVersion],
) -> StoreResult<DeleteReport> {
    let results: Vec<_> = stream::iter(0..versions.len())
        .map(|i| async move {
            let v = &versions[i];
            if v.id.is_empty() || v.id.starts_with('#') {
                return (v.id.clone(), Ok(Deleted::Kept));
            }
            (
                v.id.clone(),
                with_retries(store, || delete_once(store, v)).await,
            )
        })
        .buffered(store.settings.concurrency.max(1))
        .collect()
        .await;
    let mut report = DeleteReport::default();
    for (id, r) in results {
        match r {
            Ok(Deleted::Yes) => report.deleted.push(id),
            Ok(Deleted::Kept) => report.kept.push(id),
            Err((reason, retryable)) => report.failed.push(FailedWrite {
                id,
                reason,
                retryable,
            }),
        }
    }
    Ok(report)
}
