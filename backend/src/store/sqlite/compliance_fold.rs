//! Compliance results per control, kept off the write path (schema.sql,
//! `control_results`, `control_tallies`, `compliance_fold`).
//!
//! Every write that changes a finding records a change in its own transaction
//! (changes.rs), so the change feed says which findings moved since a point. A
//! fold reads the changes past `folded_seq` and **refreshes** each finding they
//! name: its `control_results` rows are made what its stored document says now
//! (compliance/control.rs, compliance/score.rs), and the control tallies move by
//! the difference. A refresh does not care what the change was, so refreshing a
//! finding twice, or out of order, gives the same rows: folds are idempotent.
//!
//! A file that was never folded (new, or written by a version before these
//! tables), or whose feed was trimmed past the fold (changes.rs `trim`), is
//! **rebuilt**: every finding is refreshed in id order, a batch per transaction,
//! then the changes recorded since the rebuild began are folded as usual.

use super::doc::StoredDoc;
use super::StoreResult;
use crate::compliance::control::memberships;
use crate::compliance::score::{verdict, Verdict};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::collections::HashMap;

/// Findings one fold refreshes at most, in one write transaction (each is a
/// document decoded): a writer waiting behind a rebuild is not held up long.
pub(super) const FOLD_FINDINGS: u32 = 2_000;

/// The stored code of a verdict (`control_results.verdict`), in the order of
/// the tallies' columns.
pub(super) fn verdict_code(v: Verdict) -> i64 {
    i64::from(v.code())
}

/// Where the fold stands.
#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    /// Never folded.
    Unfolded,
    /// Reading every finding in id order: those with ids above `after` are
    /// left, then the changes past `head`.
    Rebuilding { after: String, head: i64 },
    /// Every change up to `seq` is in the tables.
    Folded { seq: i64 },
}

fn state(c: &Connection) -> StoreResult<State> {
    let row: Option<(i64, Option<String>, Option<i64>)> = c
        .prepare_cached(
            "SELECT folded_seq, rebuild_after, rebuild_head FROM compliance_fold WHERE one = 1",
        )?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    Ok(match row {
        None => State::Unfolded,
        Some((_, Some(after), Some(head))) => State::Rebuilding { after, head },
        Some((seq, _, _)) => State::Folded { seq },
    })
}

fn set_state(c: &Connection, s: &State) -> StoreResult<()> {
    let (seq, after, head) = match s {
        State::Unfolded => {
            c.execute("DELETE FROM compliance_fold", [])?;
            return Ok(());
        }
        State::Rebuilding { after, head } => (0, Some(after.as_str()), Some(*head)),
        State::Folded { seq } => (*seq, None, None),
    };
    c.prepare_cached(
        "INSERT INTO compliance_fold (one, folded_seq, rebuild_after, rebuild_head) \
         VALUES (1, ?1, ?2, ?3) ON CONFLICT (one) DO UPDATE SET folded_seq = excluded.folded_seq, \
         rebuild_after = excluded.rebuild_after, rebuild_head = excluded.rebuild_head",
    )?
    .execute(params![seq, after, head])?;
    Ok(())
}

/// The change feed's head: the highest seq ever handed out.
fn head(c: &Connection) -> StoreResult<i64> {
    Ok(super::changes::head(c)? as i64)
}

/// True when the tables hold every change committed in `c`'s snapshot, so a
/// report read in the same transaction is exact.
pub(super) fn caught_up(c: &Connection) -> StoreResult<bool> {
    Ok(matches!(state(c)?, State::Folded { seq } if seq >= head(c)?))
}

/// Folds one batch of at most `max` findings in its own write transaction;
/// returns the work it did (0: nothing was left).
pub(super) fn fold(c: &mut Connection, max: u32) -> StoreResult<u64> {
    if caught_up(c)? {
        return Ok(0);
    }
    let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let done = fold_in(&tx, max)?;
    tx.commit()?;
    Ok(done)
}

/// True when what is left to fold is at most `max` changes (no rebuild): small
/// enough to fold while holding the write lock for a read.
pub(super) fn within(c: &Connection, max: i64) -> StoreResult<bool> {
    Ok(matches!(state(c)?, State::Folded { seq } if head(c)? - seq <= max))
}

/// Folds the changes left inside the caller's write transaction; false (and
/// nothing more folded) as soon as the fold is not reading changes: a rebuild,
/// or one it had to start (a trimmed feed), is never run under a reader's lock.
pub(super) fn fold_changes_in(tx: &Connection) -> StoreResult<bool> {
    loop {
        if !matches!(state(tx)?, State::Folded { .. }) {
            return Ok(false);
        }
        if fold_in(tx, FOLD_FINDINGS)? == 0 {
            return Ok(true);
        }
    }
}

/// Called in the transaction of a trim of the change feed (changes.rs `trim`)
/// before it deletes: when the trim takes a change the fold has not read, the
/// tables are dropped to be rebuilt. Changes are trimmed by age, and their
/// times do not follow `seq` (a workflow change is stamped when it was asked
/// for, another process has its own clock), so a trim can leave a hole after
/// the fold's position that the fold itself could not see.
pub(super) fn before_trim(tx: &Connection, upto: i64, before: i64) -> StoreResult<()> {
    let point = match state(tx)? {
        State::Unfolded => return Ok(()),
        State::Rebuilding { head, .. } => head,
        State::Folded { seq } => seq,
    };
    let unread: bool = tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM changes WHERE seq > ?1 AND seq <= ?2 AND at < ?3)",
        )?
        .query_row(params![point, upto, before], |r| r.get(0))?;
    if unread {
        tracing::info!(
            folded = point,
            "the change feed is trimmed past the compliance fold; it will be rebuilt"
        );
        set_state(tx, &State::Unfolded)?;
    }
    Ok(())
}

/// One step: refreshes at most `max` findings (or moves the state on);
/// returns the work done, 0 when caught up.
fn fold_in(tx: &Connection, max: u32) -> StoreResult<u64> {
    match state(tx)? {
        State::Unfolded => start_rebuild(tx).map(|()| 1),
        State::Rebuilding { after, head } => {
            let mut rows: Vec<(String, Option<StoredDoc>)> = Vec::new();
            {
                // Id order: the `control_results` rows (keyed by finding id)
                // are then appended, not inserted all over their tree (1M
                // findings folded in 40 s this way, 90 s in table order).
                let mut read = tx.prepare_cached(
                    "SELECT id, doc FROM findings WHERE id > ?1 ORDER BY id LIMIT ?2",
                )?;
                let mut q = read.query(params![after, max])?;
                while let Some(r) = q.next()? {
                    rows.push((r.get(0)?, Some(r.get(1)?)));
                }
            }
            let Some(last) = rows.last().map(|r| r.0.clone()) else {
                set_state(tx, &State::Folded { seq: head })?;
                return Ok(1);
            };
            let n = rows.len() as u64;
            refresh(tx, rows.into_iter())?;
            set_state(tx, &State::Rebuilding { after: last, head })?;
            Ok(n)
        }
        State::Folded { seq } => {
            let now = head(tx)?;
            if now <= seq {
                return Ok(0);
            }
            if trimmed_past(tx, seq)? {
                tracing::info!(
                    folded = seq,
                    "changes were trimmed before compliance folded them; rebuilding"
                );
                return start_rebuild(tx).map(|()| 1);
            }
            // The next change exists (checked above), so `last` moves on.
            let (ids, last) = changed_after(tx, seq, max)?;
            let n = ids.len().max(1) as u64;
            let mut doc = tx.prepare_cached("SELECT doc FROM findings WHERE id = ?1")?;
            let stored = ids
                .into_iter()
                .map(|id| {
                    let d: Option<StoredDoc> = doc.query_row([&id], |r| r.get(0)).optional()?;
                    Ok((id, d))
                })
                .collect::<StoreResult<Vec<_>>>()?;
            refresh(tx, stored.into_iter())?;
            set_state(tx, &State::Folded { seq: last })?;
            Ok(n)
        }
    }
}

/// Empties the tables and starts reading every finding; changes from now on
/// are folded after it.
fn start_rebuild(tx: &Connection) -> StoreResult<()> {
    tx.execute_batch("DELETE FROM control_results; DELETE FROM control_tallies;")?;
    let head = head(tx)?;
    set_state(
        tx,
        &State::Rebuilding {
            after: String::new(),
            head,
        },
    )
}

/// True when the change after `seq` is gone: trimmed before it was folded (by
/// a version before [`before_trim`]). `seq` never skips a number
/// (AUTOINCREMENT, and a rolled-back insert hands its number out again), so a
/// missing next change was deleted.
fn trimmed_past(tx: &Connection, seq: i64) -> StoreResult<bool> {
    let next: bool = tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM changes WHERE seq = ?1)")?
        .query_row([seq + 1], |r| r.get(0))?;
    Ok(!next)
}

/// The distinct findings of the (at most `max`) changes after `seq`, and the
/// last change's seq.
fn changed_after(tx: &Connection, seq: i64, max: u32) -> StoreResult<(Vec<String>, i64)> {
    let mut ids = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut last = seq;
    let mut read = tx.prepare_cached(
        "SELECT seq, finding_id FROM changes WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    let mut rows = read.query(params![seq, max])?;
    while let Some(r) = rows.next()? {
        last = r.get(0)?;
        let id: String = r.get(1)?;
        if seen.insert(id.clone()) {
            ids.push(id);
        }
    }
    Ok((ids, last))
}

/// A control's change in one fold: findings by verdict code, and the newest
/// finding's title seen.
#[derive(Debug, Default)]
struct TallyDelta {
    name: String,
    by_verdict: [i64; 4],
    title: Option<(String, i64)>,
}

/// One `control_results` row of a finding: standard, control, verdict code,
/// resource.
type ResultRow = (String, String, i64, String);

/// Makes each finding's `control_results` rows what its stored document says
/// (none for a finding no longer stored), moving the tallies by the difference.
/// Rows that would not change are not rewritten: a provider re-sends most
/// control findings on every evaluation with only their times moved.
fn refresh(
    tx: &Connection,
    findings: impl Iterator<Item = (String, Option<StoredDoc>)>,
) -> StoreResult<()> {
    let mut deltas: HashMap<(String, String), TallyDelta> = HashMap::new();
    let mut old = tx.prepare_cached(
        "SELECT slug, control_id, verdict, resource_id FROM control_results \
         WHERE finding_id = ?1 ORDER BY slug",
    )?;
    let mut remove = tx.prepare_cached("DELETE FROM control_results WHERE finding_id = ?1")?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO control_results (finding_id, slug, control_id, verdict, resource_id) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (id, stored) in findings {
        let was: Vec<ResultRow> = old
            .query_map([&id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<Result<_, _>>()?;
        let now = match stored.map(|d| d.decode(&id)) {
            None => Results::default(),
            Some(Ok(f)) => results_of(&f),
            // A document that no longer decodes counts for no control, rather
            // than stopping every later fold.
            Some(Err(e)) => {
                tracing::warn!(id, error = %e, "a stored finding did not decode; left out of compliance");
                Results::default()
            }
        };
        if let Some((title, at)) = &now.title {
            for (slug, control, ..) in &now.rows {
                let d = deltas.entry((slug.clone(), control.clone())).or_default();
                if d.title.as_ref().is_none_or(|(_, t)| t <= at) {
                    d.title = Some((title.clone(), *at));
                }
            }
        }
        if was == now.rows {
            continue;
        }
        for (slug, control, v, _) in was {
            let d = deltas.entry((slug, control)).or_default();
            d.by_verdict[usize::try_from(v).unwrap_or(3).min(3)] -= 1;
        }
        remove.execute([&id])?;
        for ((slug, control, v, resource), name) in now.rows.into_iter().zip(now.names) {
            insert.execute(params![id, slug, control, v, resource])?;
            let d = deltas.entry((slug, control)).or_default();
            d.name = name;
            d.by_verdict[usize::try_from(v).unwrap_or(3).min(3)] += 1;
        }
    }
    apply(tx, deltas)
}

/// What a finding's document says for compliance.
#[derive(Default)]
struct Results {
    /// Its `control_results` rows, by slug.
    rows: Vec<ResultRow>,
    /// Each row's standard's display name.
    names: Vec<String>,
    /// Its title and update time (`None` for an empty title, which never
    /// names a control).
    title: Option<(String, i64)>,
}

fn results_of(f: &shared_types::Finding) -> Results {
    let v = verdict_code(verdict(f));
    let mut both: Vec<(ResultRow, String)> = memberships(f)
        .into_iter()
        .map(|m| {
            let row = (m.standard.slug, m.control_id, v, f.resource_id.clone());
            (row, m.standard.name)
        })
        .collect();
    both.sort();
    let (rows, names) = both.into_iter().unzip();
    let title =
        (!f.title.is_empty()).then(|| (f.title.clone(), super::convert::micros(f.updated_at)));
    Results { rows, names, title }
}

/// Moves the tallies; a control left with no finding loses its row. A change
/// of title alone never creates a row.
fn apply(tx: &Connection, deltas: HashMap<(String, String), TallyDelta>) -> StoreResult<()> {
    let mut up = tx.prepare_cached(
        "INSERT INTO control_tallies (slug, control_id, standard_name, title, title_at, failed, \
         unknown, passed, ignored) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
         ON CONFLICT (slug, control_id) DO UPDATE SET \
         standard_name = CASE WHEN excluded.standard_name = '' THEN standard_name \
             ELSE excluded.standard_name END, \
         title = CASE WHEN excluded.title_at >= title_at THEN excluded.title ELSE title END, \
         title_at = max(title_at, excluded.title_at), \
         failed = failed + excluded.failed, unknown = unknown + excluded.unknown, \
         passed = passed + excluded.passed, ignored = ignored + excluded.ignored",
    )?;
    let mut retitle = tx.prepare_cached(
        "UPDATE control_tallies SET title = ?3, title_at = ?4 \
         WHERE slug = ?1 AND control_id = ?2 AND title_at <= ?4",
    )?;
    let mut gone = tx.prepare_cached(
        "DELETE FROM control_tallies WHERE slug = ?1 AND control_id = ?2 \
         AND failed + unknown + passed + ignored <= 0",
    )?;
    for ((slug, control), d) in deltas {
        let (title, at) = d.title.unwrap_or((String::new(), i64::MIN));
        if d.by_verdict == [0; 4] {
            if at > i64::MIN {
                retitle.execute(params![slug, control, title, at])?;
            }
            continue;
        }
        let [failed, unknown, passed, ignored] = d.by_verdict;
        up.execute(params![
            slug, control, d.name, title, at, failed, unknown, passed, ignored
        ])?;
        if d.by_verdict.iter().any(|n| *n < 0) {
            gone.execute(params![slug, control])?;
        }
    }
    Ok(())
}
