//! Keyset-paged reads: `GET /findings` (newest first) and archive candidates
//! (oldest first). Keyset paging on `(updated_at, id)` never skips or repeats a
//! row because of rows inserted elsewhere in the order, and costs the same on
//! page 1,000 as on page 1.

use super::convert::{from_micros, list_item, micros, LIST_COLUMNS};
use super::doc::StoredDoc;
use super::error::corrupt;
use super::resource_index;
use super::StoreResult;
use crate::store::{cursor, ArchiveCandidate, ArchivePage, StoreError};
use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::Connection;
use serde_json::json;
use shared_types::{Finding, FindingFilter, FindingPage};

/// A decoded `(updated_at, id)` position.
fn position(v: serde_json::Value) -> Result<(i64, String), StoreError> {
    let u = v.get("u").and_then(|u| u.as_i64());
    let i = v.get("i").and_then(|i| i.as_str());
    match (u, i) {
        (Some(u), Some(i)) if crate::ids::is_short_id(i) => Ok((u, i.to_string())),
        _ => Err(StoreError::InvalidCursor("cursor position is malformed")),
    }
}

/// Escapes `%`, `_` and `\` so user text matches literally inside LIKE.
fn like_pattern(q: &str) -> String {
    let mut p = String::with_capacity(q.len() + 2);
    p.push('%');
    for ch in q.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

/// WHERE conditions and their parameters for a filter (the same columns exist
/// in `view_counts` and `group_counts`, so its counted part applies there too).
pub(super) fn conditions(filter: &FindingFilter) -> (Vec<String>, Vec<Value>) {
    let mut conds = Vec::new();
    let mut params: Vec<Value> = Vec::new();
    let mut in_list = |col: &str, values: Vec<Value>, conds: &mut Vec<String>| {
        if values.is_empty() {
            return;
        }
        let marks = vec!["?"; values.len()].join(", ");
        conds.push(format!("{col} IN ({marks})"));
        params.extend(values);
    };
    in_list(
        "severity",
        filter
            .severities
            .iter()
            .map(|s| Value::Integer(i64::from(s.rank())))
            .collect(),
        &mut conds,
    );
    in_list(
        "workflow_status",
        filter
            .statuses
            .iter()
            .map(|s| Value::Text(s.as_str().to_string()))
            .collect(),
        &mut conds,
    );
    let exact = [
        ("account_id", &filter.account),
        ("region", &filter.region),
        ("resource_type", &filter.resource_type),
        ("product_name", &filter.product),
        ("generator_id", &filter.generator),
    ];
    for (col, v) in exact {
        if let Some(v) = v {
            conds.push(format!("{col} = ?"));
            params.push(Value::Text(v.clone()));
        }
    }
    if let Some(r) = &filter.resource {
        conds.push(resource_index::condition());
        params.push(Value::Integer(resource_index::resource_key(r)));
        params.push(Value::Text(r.clone()));
    }
    if let Some(q) = &filter.q {
        let (expr, p) = text_match(q);
        conds.push(expr);
        params.extend(p);
    }
    if let Some(t) = filter.since {
        conds.push("updated_at >= ?".into());
        params.push(Value::Integer(micros(t)));
    }
    if let Some(t) = filter.until {
        conds.push("updated_at < ?".into());
        params.push(Value::Integer(micros(t)));
    }
    (conds, params)
}

/// The expression matching free text `q` (title, description, resource id or
/// ASFF id contain it, case-insensitively for ASCII) and its parameters.
pub(super) fn text_match(q: &str) -> (String, Vec<Value>) {
    let expr = "(title LIKE ? ESCAPE '\\' OR description LIKE ? ESCAPE '\\' \
         OR resource_id LIKE ? ESCAPE '\\' OR asff_id LIKE ? ESCAPE '\\')";
    let p = like_pattern(q);
    (expr.to_string(), vec![Value::Text(p); 4])
}

pub(super) fn where_clause(conds: &[String]) -> String {
    if conds.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conds.join(" AND "))
    }
}

/// One page of rows matching `filter`, newest first: `columns` selected, each row
/// read by `read`, whose result gives back the row's `(updated_at, id)` position
/// for the next cursor. List items and whole findings share the query and the
/// cursors.
fn page<T>(
    c: &Connection,
    filter: &FindingFilter,
    limit: u32,
    cursor_text: Option<&str>,
    columns: &str,
    read: impl Fn(&rusqlite::Row<'_>) -> StoreResult<T>,
    position_of: impl Fn(&T) -> (i64, &str),
) -> StoreResult<(Vec<T>, Option<String>)> {
    let scope = cursor::scope_of(filter);
    let (mut conds, mut params) = conditions(filter);
    if let Some(text) = cursor_text {
        let (u, i) = position(cursor::decode(text, &scope)?)?;
        conds.push("(updated_at, id) < (?, ?)".into());
        params.push(Value::Integer(u));
        params.push(Value::Text(i));
    }
    let sql = format!(
        "SELECT {columns} FROM findings {} ORDER BY updated_at DESC, id DESC LIMIT {}",
        where_clause(&conds),
        u64::from(limit) + 1
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
    let mut items = Vec::with_capacity(limit as usize);
    let mut more = false;
    while let Some(row) = rows.next()? {
        if items.len() == limit as usize {
            more = true;
            break;
        }
        items.push(read(row)?);
    }
    let next_cursor = match (more, items.last()) {
        (true, Some(last)) => {
            let (u, i) = position_of(last);
            Some(cursor::encode(&scope, json!({"u": u, "i": i})))
        }
        _ => None,
    };
    Ok((items, next_cursor))
}

/// One page of list items, newest first.
pub(super) fn list(
    c: &Connection,
    filter: &FindingFilter,
    limit: u32,
    cursor_text: Option<&str>,
) -> StoreResult<FindingPage> {
    let (items, next_cursor) = page(
        c,
        filter,
        limit,
        cursor_text,
        LIST_COLUMNS,
        list_item,
        |i| (micros(i.updated_at), i.id.as_str()),
    )?;
    Ok(FindingPage {
        items,
        next_cursor,
        total: None,
        total_is_exact: None,
    })
}

/// One page of whole findings' rows, newest first, their documents not yet
/// decoded ([`decode_rows`] does that off the reader connection), and the next
/// cursor.
pub(super) fn list_findings(
    c: &Connection,
    filter: &FindingFilter,
    limit: u32,
    cursor_text: Option<&str>,
) -> StoreResult<(Vec<DocRow>, Option<String>)> {
    let read = |row: &rusqlite::Row<'_>| -> StoreResult<DocRow> {
        Ok(DocRow {
            id: row.get(0)?,
            doc: row.get(1)?,
            revision: row.get(2)?,
            updated_at: row.get(3)?,
        })
    };
    page(
        c,
        filter,
        limit,
        cursor_text,
        "id, doc, revision, updated_at",
        read,
        |r| (r.updated_at, r.id.as_str()),
    )
}

/// A stored row before its document is decoded.
pub(super) struct DocRow {
    id: String,
    doc: StoredDoc,
    revision: i64,
    updated_at: i64,
}

impl DocRow {
    fn decode(&self) -> StoreResult<Finding> {
        let mut finding = self.doc.decode(&self.id)?;
        // The column is authoritative, as for `get`.
        finding.revision =
            u64::try_from(self.revision).map_err(|_| corrupt(&self.id, "negative revision"))?;
        Ok(finding)
    }
}

/// Below this many rows a page is decoded by one task: a second costs more
/// than it saves.
const PARALLEL_DECODE_MIN: usize = 64;

/// The rows' findings in order (`raw` left `null` unless `with_raw`). Decoding (zstd, then JSON) is most of the work
/// of reading whole findings (an export reads nothing else), so a large page is
/// decoded in two halves on two blocking-pool threads at once; pool threads are
/// reused, so the allocator's per-thread caches are too.
pub(super) async fn decode_rows(
    mut rows: Vec<DocRow>,
    with_raw: bool,
) -> StoreResult<Vec<Finding>> {
    let all = move |rows: Vec<DocRow>| -> StoreResult<Vec<Finding>> {
        let decode = || rows.iter().map(DocRow::decode).collect();
        if with_raw {
            decode()
        } else {
            shared_types::without_raw(decode)
        }
    };
    let joined = |r: Result<StoreResult<Vec<Finding>>, tokio::task::JoinError>| {
        r.map_err(|e| StoreError::Backend(Box::new(e)))?
    };
    if rows.len() < PARALLEL_DECODE_MIN {
        return joined(tokio::task::spawn_blocking(move || all(rows)).await);
    }
    let second = rows.split_off(rows.len() / 2);
    let (head, tail) = tokio::join!(
        tokio::task::spawn_blocking(move || all(rows)),
        tokio::task::spawn_blocking(move || all(second))
    );
    let mut findings = joined(head)?;
    findings.extend(joined(tail)?);
    Ok(findings)
}

/// Candidates (documents as JSON) with `updated_at < cutoff`, oldest first.
pub(super) fn archive_candidates(
    c: &Connection,
    cutoff: DateTime<Utc>,
    limit: u32,
    cursor_text: Option<&str>,
) -> StoreResult<ArchivePage> {
    let scope = cursor::scope_of(&("archive", micros(cutoff)));
    let (after_u, after_i) = match cursor_text {
        Some(text) => position(cursor::decode(text, &scope)?)?,
        None => (i64::MIN, String::new()),
    };
    let mut stmt = c.prepare_cached(
        "SELECT id, doc, updated_at, revision FROM findings WHERE updated_at < ?1 \
         AND (updated_at, id) > (?2, ?3) ORDER BY updated_at, id LIMIT ?4",
    )?;
    let mut rows = stmt.query(rusqlite::params![
        micros(cutoff),
        after_u,
        after_i,
        i64::from(limit)
    ])?;
    let mut candidates = Vec::new();
    let mut last = None;
    while let Some(row) = rows.next()? {
        let id: String = row.get(0)?;
        let doc: StoredDoc = row.get(1)?;
        let u: i64 = row.get(2)?;
        let revision: i64 = row.get(3)?;
        candidates.push(ArchiveCandidate {
            json: doc.into_json(&id)?,
            updated_at: from_micros(u, &id)?,
            revision: u64::try_from(revision).map_err(|_| corrupt(&id, "negative revision"))?,
            id: id.clone(),
        });
        last = Some((u, id));
    }
    let next_cursor = match last {
        Some((u, i)) if candidates.len() == limit as usize => {
            Some(cursor::encode(&scope, json!({"u": u, "i": i})))
        }
        _ => None,
    };
    Ok(ArchivePage {
        candidates,
        next_cursor,
    })
}

#[cfg(test)]
mod tests {
    use super::super::resource_index::resource_key;
    use super::{conditions, like_pattern, where_clause};
    use rusqlite::Connection;
    use shared_types::FindingFilter;

    /// A file at the current schema (migrations create the bucket index).
    fn migrated() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cspm.db");
        drop(super::super::SqliteStore::open(&path).unwrap());
        let c = Connection::open(&path).unwrap();
        (dir, c)
    }

    #[test]
    fn one_resources_rows_are_found_through_the_bucket_index() {
        let (_dir, c) = migrated();
        let filter = FindingFilter::from_pairs([("resource", "arn:aws:s3:::b")]).unwrap();
        let (conds, params) = conditions(&filter);
        let sql = format!(
            "EXPLAIN QUERY PLAN SELECT id FROM findings {} ORDER BY updated_at DESC, id DESC LIMIT 51",
            where_clause(&conds)
        );
        let plan: Vec<String> = c
            .prepare(&sql)
            .unwrap()
            .query_map(rusqlite::params_from_iter(params), |r| r.get(3))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(
            plan.iter()
                .any(|p| p.contains("SEARCH findings USING INDEX findings_by_bucket_resource")),
            "{plan:?}"
        );
    }

    #[test]
    fn the_bucket_walk_visits_every_stored_bucket_once_even_before_1970() {
        let (_dir, c) = migrated();
        let day = 86_400_000_000i64;
        let times = [-3 * day - 5, -day, 0, 5, day, 40 * day, 40 * day + 1];
        for (i, t) in times.iter().enumerate() {
            let r = if i % 2 == 0 { "x" } else { "y" };
            c.execute(
                "INSERT INTO findings (id, asff_id, severity, workflow_status, account_id, region, \
                 resource_type, resource_id, resource_key, product_name, source, title, description, \
                 created_at, updated_at, doc) \
                 VALUES (?1, 'a', 0, 'NEW', '1', 'r', 't', ?2, ?3, 'p', 's', 't', 'd', 0, ?4, x'')",
                rusqlite::params![format!("f{i}"), r, resource_key(r), t],
            )
            .unwrap();
        }
        let filter = FindingFilter::from_pairs([("resource", "x")]).unwrap();
        let (conds, params) = conditions(&filter);
        let n: i64 = c
            .query_row(
                &format!("SELECT count(*) FROM findings {}", where_clause(&conds)),
                rusqlite::params_from_iter(params),
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 4);
    }

    #[test]
    fn like_wildcards_in_user_text_match_literally() {
        assert_eq!(like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }
}
