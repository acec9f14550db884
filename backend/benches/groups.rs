//! Grouping figures at scale (prints them; not a timed test). A SQLite store of
//! `GROUPS_BENCH_N` demo findings (default 1,000,000; kept in
//! `GROUPS_BENCH_DIR` when set, so a second run skips the load) groups typical
//! views by each grouping, `limit` 100. For each it prints p50/p99 of
//! `Store::groups` over [`CALLS`] calls, the groups and `other`, and whether
//! the answer is exact.
//!
//! `scripts/bench_groups.sh` (or `cargo bench -p backend --bench groups`).

use cspm::store::{SqliteStore, Store};
use shared_types::{FindingFilter, GroupBy};
use std::path::PathBuf;
use std::time::Instant;

const CALLS: usize = 100;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run());
}

fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

async fn run() {
    let n: usize = std::env::var("GROUPS_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = std::env::var("GROUPS_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| tmp.path().to_path_buf());
    let store = SqliteStore::open_dir(&dir).expect("store");
    let have = store.count(&FindingFilter::default()).await.expect("count");
    if have.total < n as u64 {
        let t = Instant::now();
        let fs: Vec<_> = cspm::demo::generate(n, cspm::demo::default_anchor(), 1).collect();
        for chunk in fs.chunks(10_000) {
            store.upsert(chunk).await.expect("upsert");
        }
        println!(
            "loaded {n} demo findings in {:.0} s",
            t.elapsed().as_secs_f64()
        );
    }
    let db = rusqlite::Connection::open(store.path()).expect("open");
    let rows: i64 = db
        .query_row("SELECT count(*) FROM group_counts", [], |r| r.get(0))
        .expect("rows");
    // A resource from the middle of the load: its grouping, like its list,
    // reads only its rows (sqlite/list.rs, the bucket index).
    let resource: String = db
        .query_row(
            "SELECT resource_id FROM findings WHERE rowid_ >= (SELECT max(rowid_) / 2 FROM findings) LIMIT 1",
            [],
            |r| r.get(0),
        )
        .expect("resource");
    println!("{n} findings, {rows} group-counter rows");
    let pairs = |p: &[(&str, &str)]| FindingFilter::from_pairs(p.iter().copied()).expect("filter");
    let views = [
        ("all", pairs(&[])),
        (
            "severity=CRITICAL,HIGH",
            pairs(&[("severity", "CRITICAL,HIGH")]),
        ),
        ("severity=HIGH", pairs(&[("severity", "HIGH")])),
        ("severity=LOW", pairs(&[("severity", "LOW")])),
        (
            "severity=INFORMATIONAL",
            pairs(&[("severity", "INFORMATIONAL")]),
        ),
        (
            "severity=MEDIUM,LOW&status=NEW",
            pairs(&[("severity", "MEDIUM,LOW"), ("status", "NEW")]),
        ),
        (
            "status=NEW&account=111122223333",
            pairs(&[("status", "NEW"), ("account", "111122223333")]),
        ),
        ("generator=S3.8", pairs(&[("generator", "S3.8")])),
        ("resource=<one>", pairs(&[("resource", resource.as_str())])),
        ("q=bucket", pairs(&[("q", "bucket")])),
    ];
    println!(
        "{:<14} {:<34} {:>9} {:>9} {:>7} {:>9} {:>6}",
        "by", "view", "p50", "p99", "groups", "other", "exact"
    );
    for by in GroupBy::ALL {
        for (name, filter) in &views {
            let mut times = Vec::with_capacity(CALLS);
            for _ in 0..CALLS {
                let t = Instant::now();
                store.groups(filter, by, 100).await.expect("groups");
                times.push(t.elapsed().as_secs_f64() * 1e3);
            }
            let g = store.groups(filter, by, 100).await.expect("groups");
            println!(
                "{:<14} {:<34} {:>7.2}ms {:>7.2}ms {:>7} {:>9} {:>6}",
                by.as_str(),
                name,
                percentile(times.clone(), 0.5),
                percentile(times, 0.99),
                g.groups.len(),
                g.other,
                g.exact
            );
        }
    }
}
