//! View-count figures at scale (prints them; not a timed test). A SQLite store
//! of `COUNT_BENCH_N` demo findings (default 1,000,000; kept in
//! `COUNT_BENCH_DIR` when set, so a second run skips the load) answers typical
//! list views. For each view it prints:
//! - `count` p50/p99: `Store::count` alone, 300 calls;
//! - `list` p99: the 50-row page alone; `list+count` p99: both side by side,
//!   as `GET /findings` runs them, and the difference (what the count adds);
//! - the count given, whether exact, and the true count (`count(*)` on the file).
//!
//! `scripts/bench_count.sh` (or `cargo bench -p backend --bench count`).

use chrono::Duration;
use cspm::store::{SqliteStore, Store};
use shared_types::{FindingFilter, Severity, WorkflowStatus};
use std::path::PathBuf;
use std::time::Instant;

const CALLS: usize = 300;

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

async fn timed<F, Fut, T>(f: F) -> Vec<f64>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let mut out = Vec::with_capacity(CALLS);
    for _ in 0..CALLS {
        let t = Instant::now();
        f().await;
        out.push(t.elapsed().as_secs_f64() * 1e3);
    }
    out
}

async fn run() {
    let n: usize = std::env::var("COUNT_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = std::env::var("COUNT_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| tmp.path().to_path_buf());
    let store = SqliteStore::open_dir(&dir).expect("store");
    let anchor = cspm::demo::default_anchor();
    let have = store.count(&FindingFilter::default()).await.expect("count");
    if have.total < n as u64 {
        let t = Instant::now();
        let fs: Vec<_> = cspm::demo::generate(n, anchor, 1).collect();
        for chunk in fs.chunks(10_000) {
            store.upsert(chunk).await.expect("upsert");
        }
        println!(
            "loaded {n} demo findings in {:.0} s",
            t.elapsed().as_secs_f64()
        );
    }
    let db = rusqlite::Connection::open(store.path()).expect("open");
    let combos: i64 = db
        .query_row("SELECT count(*) FROM view_counts", [], |r| r.get(0))
        .expect("combos");
    let account: String = db
        .query_row("SELECT account_id FROM findings LIMIT 1", [], |r| r.get(0))
        .expect("account");
    println!("{n} findings, {combos} view-counter combinations");

    let f = FindingFilter::default;
    let views: Vec<(&str, FindingFilter)> = vec![
        ("(no filter)", f()),
        (
            "severity=CRITICAL",
            FindingFilter {
                severities: vec![Severity::Critical],
                ..f()
            },
        ),
        (
            "severity=HIGH,CRITICAL",
            FindingFilter {
                severities: vec![Severity::High, Severity::Critical],
                ..f()
            },
        ),
        (
            "status=NEW&region=eu-west-1",
            FindingFilter {
                statuses: vec![WorkflowStatus::New],
                region: Some("eu-west-1".into()),
                ..f()
            },
        ),
        (
            "account&severity=HIGH&status=NEW&product=Security Hub",
            FindingFilter {
                account: Some(account.clone()),
                severities: vec![Severity::High],
                statuses: vec![WorkflowStatus::New],
                product: Some("Security Hub".into()),
                ..f()
            },
        ),
        (
            "q=imdsv2",
            FindingFilter {
                q: Some("imdsv2".into()),
                ..f()
            },
        ),
        (
            "q=bucket&severity=HIGH",
            FindingFilter {
                q: Some("bucket".into()),
                severities: vec![Severity::High],
                ..f()
            },
        ),
        (
            "since=1 day ago",
            FindingFilter {
                since: Some(anchor - Duration::days(1)),
                ..f()
            },
        ),
        (
            "since=7 days ago&status=NEW",
            FindingFilter {
                since: Some(anchor - Duration::days(7)),
                statuses: vec![WorkflowStatus::New],
                ..f()
            },
        ),
        (
            "since=30 days ago",
            FindingFilter {
                since: Some(anchor - Duration::days(30)),
                ..f()
            },
        ),
        (
            "since=90 days ago&status=NEW",
            FindingFilter {
                since: Some(anchor - Duration::days(90)),
                statuses: vec![WorkflowStatus::New],
                ..f()
            },
        ),
        (
            "since=30 days ago&severity=CRITICAL",
            FindingFilter {
                since: Some(anchor - Duration::days(30)),
                severities: vec![Severity::Critical],
                ..f()
            },
        ),
        (
            "account&region=ap-southeast-2&since=60 days ago",
            FindingFilter {
                account: Some(account.clone()),
                region: Some("ap-southeast-2".into()),
                since: Some(anchor - Duration::days(60)),
                ..f()
            },
        ),
    ];
    println!(
        "{:<55} {:>9} {:>9} {:>9} {:>11} {:>8} {:>10} {:>6} {:>10}",
        "view",
        "count p50",
        "count p99",
        "list p99",
        "list+count",
        "added",
        "count",
        "exact",
        "true"
    );
    for (name, filter) in views {
        let count = timed(|| store.count(&filter)).await;
        let list = timed(|| store.list(&filter, 50, None)).await;
        let both =
            timed(|| async { tokio::join!(store.list(&filter, 50, None), store.count(&filter)) })
                .await;
        let c = store.count(&filter).await.expect("count");
        let truth = true_count(&db, &filter);
        let (l99, b99) = (percentile(list, 0.99), percentile(both, 0.99));
        println!(
            "{:<55} {:>7.2}ms {:>7.2}ms {:>7.2}ms {:>9.2}ms {:>6.2}ms {:>10} {:>6} {:>10}",
            name,
            percentile(count.clone(), 0.5),
            percentile(count, 0.99),
            l99,
            b99,
            b99 - l99,
            c.total,
            c.exact,
            truth
        );
    }
}

/// `count(*)` on the file (a scan; run once per view, outside the timings).
fn true_count(db: &rusqlite::Connection, f: &FindingFilter) -> i64 {
    let mut conds = Vec::new();
    let mut params: Vec<rusqlite::types::Value> = Vec::new();
    if !f.severities.is_empty() {
        let ranks: Vec<String> = f.severities.iter().map(|s| s.rank().to_string()).collect();
        conds.push(format!("severity IN ({})", ranks.join(",")));
    }
    if !f.statuses.is_empty() {
        let st: Vec<String> = f
            .statuses
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        conds.push(format!("workflow_status IN ({})", st.join(",")));
    }
    for (col, v) in [
        ("account_id", &f.account),
        ("region", &f.region),
        ("product_name", &f.product),
    ] {
        if let Some(v) = v {
            conds.push(format!("{col} = ?"));
            params.push(rusqlite::types::Value::Text(v.clone()));
        }
    }
    if let Some(q) = &f.q {
        conds.push(
            "(instr(lower(title), ?) OR instr(lower(description), ?) \
             OR instr(lower(resource_id), ?) OR instr(lower(asff_id), ?))"
                .into(),
        );
        params.extend(std::iter::repeat_n(
            rusqlite::types::Value::Text(q.to_lowercase()),
            4,
        ));
    }
    if let Some(t) = f.since {
        conds.push("updated_at >= ?".into());
        params.push(rusqlite::types::Value::Integer(t.timestamp_micros()));
    }
    let sql = if conds.is_empty() {
        "SELECT count(*) FROM findings".to_string()
    } else {
        format!(
            "SELECT count(*) FROM findings WHERE {}",
            conds.join(" AND ")
        )
    };
    db.query_row(&sql, rusqlite::params_from_iter(params), |r| r.get(0))
        .expect("true count")
}
