//! `findings_by_bucket_resource`: how one resource's findings are found without a
//! resource-ordered index (schema.sql says what that cost). The index is on
//! (`updated_at >> RESOURCE_BUCKET_SHIFT`, `resource_key`); the list's resource
//! filter (list.rs) reads it bucket by bucket.

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
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in resource_id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h as i64
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

#[cfg(test)]
mod tests {
    use super::super::list::{conditions, where_clause};
    use super::resource_key;
    use rusqlite::Connection;
    use shared_types::FindingFilter;

    #[test]
    fn the_resource_key_is_fnv_1a_64_so_stored_keys_never_change() {
        // Published FNV-1a 64 test vectors.
        assert_eq!(resource_key("") as u64, 0xcbf2_9ce4_8422_2325);
        assert_eq!(resource_key("a") as u64, 0xaf63_dc4c_8601_ec8c);
        assert_eq!(resource_key("foobar") as u64, 0x8594_4171_f739_67e8);
    }

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
}
