//! `findings_by_bucket_resource`: how one resource's findings are found without a
//! resource-ordered index (schema.sql says what that cost). The index is on
//! (`updated_at >> RESOURCE_BUCKET_SHIFT`, `resource_key`); the list's resource
//! filter (list.rs) reads it bucket by bucket.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension};

/// The time bucket of `findings_by_bucket_resource`: `updated_at >> 36`, about
/// 19 hours of microseconds. The index leads with it so that writes, which carry
/// the newest times, land in the newest bucket's few pages; a random-order
/// resource index cost a page write per finding at 1M findings (schema.sql).
/// A shift floors, so negative times bucket consistently too.
pub(super) const RESOURCE_BUCKET_SHIFT: u32 = 36;

/// The `resource_key` column of a resource id: FNV-1a, 64 bits. Stable forever
/// (it is stored), cheap, and only a shortcut: every read that uses it also
/// compares the resource id itself, so a collision costs a row read, never a
/// wrong answer.
pub(super) fn resource_key(resource_id: &str) -> i64 {
    crate::store::fnv::fnv1a64(resource_id.as_bytes()) as i64
}

/// One resource's findings through `findings_by_bucket_resource`: the buckets
/// that hold findings, found by one `findings_by_time` step each (a recursive
/// skip over the index), each then looked up with the resource. A resource's
/// list, count or grouping costs a few index steps per stored bucket.
pub(super) fn condition() -> String {
    let s = RESOURCE_BUCKET_SHIFT;
    format!(
        "resource_key = ? AND resource_id = ? AND (updated_at >> {s}) IN (WITH RECURSIVE b(x) AS (\
         SELECT (SELECT min(updated_at) FROM findings) >> {s} \
         UNION ALL SELECT (SELECT min(updated_at) FROM findings \
         WHERE updated_at >= ((x + 1) << {s})) >> {s} FROM b WHERE x IS NOT NULL) \
         SELECT x FROM b WHERE x IS NOT NULL)"
    )
}

/// The stored time buckets, newest first (one `findings_by_time` step each).
pub(super) fn buckets(c: &Connection) -> rusqlite::Result<Vec<i64>> {
    let s = RESOURCE_BUCKET_SHIFT;
    let sql = format!(
        "WITH RECURSIVE b(x) AS (SELECT (SELECT max(updated_at) FROM findings) >> {s} \
         UNION ALL SELECT (SELECT max(updated_at) FROM findings \
         WHERE updated_at < (x << {s})) >> {s} FROM b WHERE x IS NOT NULL) \
         SELECT x FROM b WHERE x IS NOT NULL"
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    rows.collect()
}

/// The newest finding of `resource` in the view `conds` (with `params`), as
/// (`updated_at` µs, title): the buckets are looked up newest first and the
/// first that holds one answers, so a resource updated lately costs one lookup.
pub(super) fn newest(
    c: &Connection,
    buckets: &[i64],
    resource: &str,
    conds: &[String],
    params: &[Value],
) -> rusqlite::Result<Option<(i64, String)>> {
    let s = RESOURCE_BUCKET_SHIFT;
    let extra: String = conds.iter().map(|c| format!(" AND {c}")).collect();
    let sql = format!(
        "SELECT updated_at, title FROM findings INDEXED BY findings_by_bucket_resource \
         WHERE (updated_at >> {s}) = ? AND resource_key = ? AND resource_id = ?{extra} \
         ORDER BY updated_at DESC, id DESC LIMIT 1"
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let key = resource_key(resource);
    for b in buckets {
        let mut values = vec![
            Value::Integer(*b),
            Value::Integer(key),
            Value::Text(resource.to_string()),
        ];
        values.extend(params.iter().cloned());
        let row = stmt
            .query_row(rusqlite::params_from_iter(values), |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        if row.is_some() {
            return Ok(row);
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::resource_key;

    #[test]
    fn the_resource_key_is_fnv_1a_64_so_stored_keys_never_change() {
        // Published FNV-1a 64 test vectors.
        assert_eq!(resource_key("") as u64, 0xcbf2_9ce4_8422_2325);
        assert_eq!(resource_key("a") as u64, 0xaf63_dc4c_8601_ec8c);
        assert_eq!(resource_key("foobar") as u64, 0x8594_4171_f739_67e8);
    }
}
